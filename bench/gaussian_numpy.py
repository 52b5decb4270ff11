#!/usr/bin/env python3
"""numpy reference for bench/gaussian-vs-numpy.bench.ts (the same data, read from a float32 file).

  python3 bench/gaussian_numpy.py gaussian FILE N DX DY REPS
      np.cov of [x y] (ddof 1), three slogdet, the exact bias b(dx)+b(dy)-b(dx+dy) (scipy digamma)
  python3 bench/gaussian_numpy.py pca FILE N D RANK REPS
      joint PCA: pooled [x; y], centred, np.cov + np.linalg.eigh, top RANK, projections of x and y
Prints one JSON line: median and min seconds of the computation only (file read excluded), the values,
numpy/scipy versions and the BLAS thread setting.
"""
import json
import os
import sys
import time

import numpy as np
import scipy
from scipy.special import digamma


def bias(d, n):
    i = np.arange(1, d + 1)
    return 0.5 * (d * np.log(2.0 / (n - 1)) + float(np.sum(digamma((n - i) / 2.0))))


def gaussian(z, dx):
    n = z.shape[0]
    dy = z.shape[1] - dx
    c = np.cov(z.astype(np.float64), rowvar=False)
    raw = 0.5 * (np.linalg.slogdet(c[:dx, :dx])[1] + np.linalg.slogdet(c[dx:, dx:])[1] - np.linalg.slogdet(c)[1])
    b = bias(dx, n) + bias(dy, n) - bias(dx + dy, n)
    return {'raw': float(raw), 'bias': float(b), 'value': float(raw - b)}


def pca(x, y, r):
    a = np.vstack([x, y]).astype(np.float64)
    mean = a.mean(0)
    c = np.cov(a - mean, rowvar=False)
    w, v = np.linalg.eigh(c)
    order = np.argsort(-w)[:r]
    comp = v[:, order]
    px = ((x - mean) @ comp).astype(np.float32)
    py = ((y - mean) @ comp).astype(np.float32)
    return {'explained': float(w[order].sum() / np.trace(c)), 'px00': float(abs(px[0, 0])), 'py00': float(abs(py[0, 0]))}


def timed(f, reps):
    times = []
    out = None
    for _ in range(reps):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2], min(times), out


def main():
    kind, path = sys.argv[1], sys.argv[2]
    raw = np.fromfile(path, dtype='<f4')
    if kind == 'gaussian':
        n, dx, dy, reps = map(int, sys.argv[3:7])
        x = raw[: n * dx].reshape(n, dx)
        y = raw[n * dx : n * (dx + dy)].reshape(n, dy)
        z = np.hstack([x, y])
        med, best, out = timed(lambda: gaussian(z, dx), reps)
    else:
        n, d, r, reps = map(int, sys.argv[3:7])
        x = raw[: n * d].reshape(n, d)
        y = raw[n * d : 2 * n * d].reshape(n, d)
        med, best, out = timed(lambda: pca(x, y, r), reps)
    out.update({
        'seconds': med,
        'secondsMin': best,
        'numpy': np.__version__,
        'scipy': scipy.__version__,
        'threads': os.environ.get('OPENBLAS_NUM_THREADS', 'default'),
    })
    print(json.dumps(out))


if __name__ == '__main__':
    main()
