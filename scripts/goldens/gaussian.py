#!/usr/bin/env python3
"""Golden values for @mi-prun/mi-gaussian (numpy slogdet + scipy digamma).

Writes packages/mi/gaussian/test/fixtures/gaussian.json: seeded float32 data sets (stored in the
fixture, so the test never regenerates them) and, for each, the raw log-det MI, the exact bias
b(dx)+b(dy)-b(dx+dy) and the corrected value, computed independently of the TS code:
  C = np.cov(Z, rowvar=False) (ddof 1), raw = 1/2 [slogdet(Cxx) + slogdet(Cyy) - slogdet(C)].
Run with the image's python3 (numpy 2.x, scipy 1.x): python3 scripts/goldens/gaussian.py
"""
import json
import os
import platform
import sys

import numpy as np
import scipy
from scipy.special import digamma, ndtri
from scipy.stats import rankdata

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'packages', 'mi', 'gaussian', 'test', 'fixtures', 'gaussian.json')


def b(d, n):
    if d == 0:
        return 0.0
    i = np.arange(1, d + 1)
    return 0.5 * (d * np.log(2.0 / (n - 1)) + float(np.sum(digamma((n - i) / 2.0))))


def logdet(c):
    sign, v = np.linalg.slogdet(c)
    assert sign > 0
    return float(v)


def mi_from_cov(c, dx):
    return 0.5 * (logdet(c[:dx, :dx]) + logdet(c[dx:, dx:]) - logdet(c))


def copnorm(a):
    n = a.shape[0]
    out = np.empty_like(a)
    for j in range(a.shape[1]):
        out[:, j] = ndtri(rankdata(a[:, j], method='ordinal') / (n + 1))
    return out


def ledoit_wolf(z):
    # standardised data (ddof 1), S = X'X/N; Ledoit & Wolf 2004
    n, d = z.shape
    x = (z - z.mean(0)) / z.std(0, ddof=1)
    s = x.T @ x / n
    mu = np.trace(s) / d
    delta2 = np.sum((s - mu * np.eye(d)) ** 2) / d
    beta2 = max(0.0, (np.sum(np.sum(x * x, axis=1) ** 2) - n * np.sum(s * s)) / (n * n * d))
    return min(beta2, delta2) / delta2


def case(name, x, y, options=None, drop_x=None):
    options = options or {}
    x = x.astype(np.float32)
    y = y.astype(np.float32)
    n = x.shape[0]
    xs = x.astype(np.float64)
    ys = y.astype(np.float64)
    if drop_x is not None:
        xs = np.delete(xs, drop_x, axis=1)
    if options.get('copula'):
        xs, ys = copnorm(xs), copnorm(ys)
    z = np.hstack([xs, ys])
    dx, dy = xs.shape[1], ys.shape[1]
    lam = 0.0
    if 'shrinkage' in options:
        r = np.corrcoef(z, rowvar=False)
        lam = ledoit_wolf(z) if options['shrinkage'] == 'ledoit-wolf' else float(options['shrinkage'])
        c = (1 - lam) * r + lam * np.eye(dx + dy)
        raw = mi_from_cov(c, dx)
        bias = 0.0
    else:
        c = np.cov(z, rowvar=False)
        raw = mi_from_cov(c, dx)
        bias = b(dx, n) + b(dy, n) - b(dx + dy, n)
    return {
        'name': name,
        'n': n,
        'dx': x.shape[1],
        'dy': y.shape[1],
        'options': options,
        'x': [float(v) for v in x.ravel()],
        'y': [float(v) for v in y.ravel()],
        'raw': raw,
        'bias': bias,
        'value': raw - bias,
        'dxEff': dx,
        'dyEff': dy,
        'shrinkage': lam,
    }


def main():
    rng = np.random.default_rng(20261128)
    cases = []
    # 1. general correlated Gaussian through a random mixing matrix
    n = 300
    a = rng.standard_normal((5, 5))
    z = rng.standard_normal((n, 5)) @ a
    cases.append(case('mixed-3+2', z[:, :3], z[:, 3:]))
    # 2. eight independent pairs, rho = 0.5
    n, d, rho = 500, 8, 0.5
    x = rng.standard_normal((n, d))
    y = rho * x + np.sqrt(1 - rho * rho) * rng.standard_normal((n, d))
    cases.append(case('pairs-8+8-rho0.5', x, y))
    # 3. bivariate, rho = 0.9
    n = 200
    x = rng.standard_normal((n, 1))
    y = 0.9 * x + np.sqrt(1 - 0.81) * rng.standard_normal((n, 1))
    cases.append(case('bivariate-rho0.9', x, y))
    # 4. x has an exact duplicate column (column 3 = column 0): dropped, dxEff = 3
    n = 250
    z = rng.standard_normal((n, 6)) @ rng.standard_normal((6, 6))
    x = np.hstack([z[:, :3], z[:, :1]])
    cases.append(case('redundant-x-column', x, z[:, 3:], drop_x=[3]))
    # 5. Gaussian copula after monotone maps
    n = 300
    x = rng.standard_normal((n, 2))
    y = 0.7 * x + 0.5 * rng.standard_normal((n, 2))
    cases.append(case('copula-exp-cube', np.exp(x), y ** 3, {'copula': True}))
    # 6. fixed shrinkage and Ledoit-Wolf, N < dx + dy
    n = 40
    x = rng.standard_normal((n, 30))
    y = 0.6 * x[:, :20] + 0.8 * rng.standard_normal((n, 20))
    cases.append(case('shrinkage-0.3-n40-30+20', x, y, {'shrinkage': 0.3}))
    cases.append(case('ledoit-wolf-n40-30+20', x, y, {'shrinkage': 'ledoit-wolf'}))
    doc = {
        'generator': 'scripts/goldens/gaussian.py',
        'versions': {'python': platform.python_version(), 'numpy': np.__version__, 'scipy': scipy.__version__},
        'seed': 20261128,
        'cases': cases,
    }
    tmp = OUT + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(doc, f)
    os.replace(tmp, OUT)
    for c in cases:
        print(f"{c['name']}: raw={c['raw']:.10f} bias={c['bias']:.10f} value={c['value']:.10f} lambda={c['shrinkage']:.6f}")


if __name__ == '__main__':
    sys.exit(main())
