#!/usr/bin/env python3
"""Golden values for @mi-prun/mi-ksg: KSG algorithms 1 and 2 computed with scipy's cKDTree on seeded data.

Writes packages/mi/ksg/test/fixtures/ksg-goldens.json (atomically). Every case stores its float32 input
rows, so the TypeScript test feeds the estimator exactly the same numbers (jitter off) and compares with
TOL_GOLDEN_ABS. Run with the image python3 (numpy 2.4, scipy 1.17):  python3 scripts/goldens/ksg.py

Recipe (mi-estimators.md §2-3): float64 copy -> per-column standardisation (ddof 0, a constant column
becomes 0) when `standardize` -> max norm within x and y, joint = max of the two; self excluded.
KSG-1: eps = distance to the k-th joint neighbour; n_x = #{j != i : |x_j - x_i| < eps} via a closed-ball
query of radius nextafter(eps, 0) minus the point itself.
KSG-2: eps_x = max x-distance over the k joint neighbours; n_x = #{j != i : |x_j - x_i| <= eps_x}.
"""
import json
import os
import platform
import sys

import numpy as np
import scipy
from scipy.spatial import cKDTree
from scipy.special import digamma

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'packages', 'mi', 'ksg', 'test', 'fixtures', 'ksg-goldens.json')


def prep(a, standardize):
    """float64 copy, then (optionally) the estimator's exact standardisation: sequential sums (np.cumsum, not
    numpy's pairwise sum), population sd, (v - mean) / sd; a constant column becomes 0."""
    a = np.asarray(a, dtype=np.float64).copy()
    if standardize:
        n = a.shape[0]
        for c in range(a.shape[1]):
            col = a[:, c].copy()
            mean = np.cumsum(col)[-1] / n
            sd = np.sqrt(np.cumsum((col - mean) ** 2)[-1] / n)
            a[:, c] = (col - mean) / sd if sd > 0 else 0.0
    return a


def ksg(x, y, k, variant):
    n = x.shape[0]
    z = np.hstack([x, y])
    dist, idx = cKDTree(z).query(z, k=k + 1, p=np.inf)
    assert np.all(idx[:, 0] == np.arange(n)), 'duplicate rows: the golden needs distinct points'
    tx, ty = cKDTree(x), cKDTree(y)
    if variant == 1:
        r = np.nextafter(dist[:, k], 0)
        nx = tx.query_ball_point(x, r, p=np.inf, return_length=True) - 1
        ny = ty.query_ball_point(y, r, p=np.inf, return_length=True) - 1
        return float(digamma(k) + digamma(n) - np.mean(digamma(nx + 1) + digamma(ny + 1)))
    nb = idx[:, 1:]
    ex = np.abs(x[nb] - x[:, None, :]).max(axis=2).max(axis=1)
    ey = np.abs(y[nb] - y[:, None, :]).max(axis=2).max(axis=1)
    nx = tx.query_ball_point(x, ex, p=np.inf, return_length=True) - 1
    ny = ty.query_ball_point(y, ey, p=np.inf, return_length=True) - 1
    return float(digamma(k) - 1.0 / k + digamma(n) - np.mean(digamma(nx) + digamma(ny)))


def make_cases():
    cases = []
    # 1+1 correlated Gaussian, rho = 0.6, with an unequal scale on y (standardisation matters)
    rng = np.random.default_rng(20261128)
    n = 600
    a = rng.standard_normal(n)
    x = a[:, None]
    y = (3.0 * (0.6 * a + 0.8 * rng.standard_normal(n)) + 5.0)[:, None]
    cases.append(('gauss-1+1-rho0.6', x, y))
    # 3+2 dims: y mixes x nonlinearly plus noise
    rng = np.random.default_rng(7)
    n = 500
    x = rng.standard_normal((n, 3))
    y = np.stack([np.tanh(x[:, 0] + 0.5 * x[:, 1]), x[:, 2] ** 2], axis=1) + 0.3 * rng.standard_normal((n, 2))
    cases.append(('mixed-3+2', x, y))
    # 4+4 independent pairs, rho = 0.8, x scaled per column
    rng = np.random.default_rng(99)
    n = 400
    x = rng.standard_normal((n, 4))
    y = 0.8 * x + 0.6 * rng.standard_normal((n, 4))
    x = x * np.array([1.0, 10.0, 0.1, 2.0])
    cases.append(('gauss-4+4-rho0.8', x, y))
    return cases


def main():
    out = {
        'generator': 'scripts/goldens/ksg.py',
        'versions': {'python': platform.python_version(), 'numpy': np.__version__, 'scipy': scipy.__version__},
        'unit': 'nats',
        'cases': [],
    }
    for name, x, y in make_cases():
        x32 = np.asarray(x, dtype=np.float32)
        y32 = np.asarray(y, dtype=np.float32)
        results = []
        for standardize in (True, False):
            xs, ys = prep(x32, standardize), prep(y32, standardize)
            for variant in (1, 2):
                for k in (1, 3, 5, 10):
                    results.append({'standardize': standardize, 'variant': variant, 'k': k, 'value': ksg(xs, ys, k, variant)})
        out['cases'].append({
            'name': name,
            'n': int(x32.shape[0]),
            'dx': int(x32.shape[1]),
            'dy': int(y32.shape[1]),
            'x': [float(v) for v in x32.ravel()],
            'y': [float(v) for v in y32.ravel()],
            'results': results,
        })
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    tmp = OUT + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(out, f, indent=None, separators=(',', ':'))
        f.write('\n')
    os.replace(tmp, OUT)
    print(f'wrote {os.path.normpath(OUT)}: {len(out["cases"])} cases', file=sys.stderr)
    for c in out['cases']:
        for r in c['results']:
            print(c['name'], r)


if __name__ == '__main__':
    main()
