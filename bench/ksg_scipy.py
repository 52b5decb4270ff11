#!/usr/bin/env python3
"""scipy cKDTree KSG-1 on arrays written by bench/ksg-vs-scipy.bench.ts; prints one JSON line.

usage: python3 bench/ksg_scipy.py X.bin Y.bin N DX DY K WORKERS
X.bin / Y.bin are little-endian float32, row-major N x DX and N x DY. Preprocessing is the estimator's
(float64 copy, per-column standardisation with ddof 0, no jitter); only the estimate is timed, wall and process CPU time (trees,
k-NN query, marginal range counts, digamma sums), not the file reads or the interpreter start.
"""
import json
import sys
import time

import numpy as np
import scipy
from scipy.spatial import cKDTree
from scipy.special import digamma


def standardize(a):
    """Column standardisation with the estimator's exact arithmetic: sequential sums (np.cumsum, not numpy's
    pairwise sum), population sd, (v - mean) / sd. Bit-identical inputs make tied distances tie in both."""
    out = np.empty_like(a)
    n = a.shape[0]
    for c in range(a.shape[1]):
        col = a[:, c]
        mean = np.cumsum(col)[-1] / n
        sd = np.sqrt(np.cumsum((col - mean) ** 2)[-1] / n)
        out[:, c] = (col - mean) / sd if sd > 0 else 0.0
    return out


def ksg1(x, y, k, workers):
    n = x.shape[0]
    z = np.hstack([x, y])
    dist, _ = cKDTree(z).query(z, k=k + 1, p=np.inf, workers=workers)
    r = np.nextafter(dist[:, k], 0)
    nx = cKDTree(x).query_ball_point(x, r, p=np.inf, return_length=True, workers=workers) - 1
    ny = cKDTree(y).query_ball_point(y, r, p=np.inf, return_length=True, workers=workers) - 1
    return float(digamma(k) + digamma(n) - np.mean(digamma(nx + 1) + digamma(ny + 1)))


def main():
    xp, yp, n, dx, dy, k, workers = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:8])
    x = np.fromfile(xp, dtype='<f4').reshape(n, dx).astype(np.float64)
    y = np.fromfile(yp, dtype='<f4').reshape(n, dy).astype(np.float64)
    t0 = time.perf_counter()
    c0 = time.process_time()
    value = ksg1(standardize(x), standardize(y), k, workers)
    cpu = time.process_time() - c0
    seconds = time.perf_counter() - t0
    print(json.dumps({'value': value, 'seconds': seconds, 'cpuSeconds': cpu, 'numpy': np.__version__, 'scipy': scipy.__version__, 'workers': workers}))


if __name__ == '__main__':
    main()
