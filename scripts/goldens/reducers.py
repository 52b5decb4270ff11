#!/usr/bin/env python3
"""Golden values for @mi-prun/mi-reducers: PCA by numpy eigh (checked against numpy SVD).

Writes packages/mi/reducers/test/fixtures/pca.json: seeded float32 data sets (stored in the fixture)
and, for each, the top-r principal directions (sign-fixed: largest |entry| positive), their variances
(ddof 1), the explained-variance fraction and the projections of x and y. Joint fit pools [x; y] and
centres on the pooled mean; separate fit gives each variable its own basis.
Run with the image's python3 (numpy 2.x): python3 scripts/goldens/reducers.py
"""
import json
import os
import platform
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'packages', 'mi', 'reducers', 'test', 'fixtures', 'pca.json')


def pca(a, r):
    mean = a.mean(0)
    c = np.cov(a - mean, rowvar=False)
    w, v = np.linalg.eigh(c)
    order = np.argsort(-w, kind='stable')[:r]
    w, v = w[order], v[:, order].T.copy()
    for k in range(r):
        at = int(np.argmax(np.abs(v[k])))
        if v[k, at] < 0:
            v[k] = -v[k]
    # cross-check with the SVD of the centred data
    s = np.linalg.svd(a - mean, compute_uv=False)
    sv = (s[:r] ** 2) / (a.shape[0] - 1)
    assert np.allclose(sv, w, rtol=1e-10, atol=1e-12), (sv, w)
    total = float(np.trace(c))
    return {'mean': mean, 'components': v, 'variances': w, 'explained': float(w.sum() / total)}


def structured(rng, n, d, k, noise):
    latent = rng.standard_normal((n, k)) * np.linspace(3.0, 1.5, k)
    mix = np.linalg.qr(rng.standard_normal((d, k)))[0].T
    return latent @ mix + noise * rng.standard_normal((n, d)) + rng.standard_normal(d)


def case(name, x, y, r, fit):
    x = x.astype(np.float32)
    y = y.astype(np.float32)
    xs, ys = x.astype(np.float64), y.astype(np.float64)
    out = {'name': name, 'n': x.shape[0], 'dx': x.shape[1], 'dy': y.shape[1], 'rank': r, 'fit': fit,
           'x': [float(v) for v in x.ravel()], 'y': [float(v) for v in y.ravel()]}
    if fit == 'joint':
        f = pca(np.vstack([xs, ys]), r)
        out['explained'] = f['explained']
        out['components'] = [float(v) for v in f['components'].ravel()]
        out['variances'] = [float(v) for v in f['variances']]
        out['px'] = [float(v) for v in ((xs - f['mean']) @ f['components'].T).ravel()]
        out['py'] = [float(v) for v in ((ys - f['mean']) @ f['components'].T).ravel()]
    else:
        fx, fy = pca(xs, r), pca(ys, r)
        out['explainedX'] = fx['explained']
        out['explainedY'] = fy['explained']
        out['px'] = [float(v) for v in ((xs - fx['mean']) @ fx['components'].T).ravel()]
        out['py'] = [float(v) for v in ((ys - fy['mean']) @ fy['components'].T).ravel()]
    return out


def main():
    rng = np.random.default_rng(20261128)
    cases = []
    # N ≫ d, one shared space: y is a noisy copy of x's structure
    n, d = 150, 20
    x = structured(rng, n, d, 5, 0.1)
    y = x + 0.3 * rng.standard_normal((n, d))
    cases.append(case('joint-n150-d20-r5', x, y, 5, 'joint'))
    # 2N < d: the Gram route
    n, d = 40, 120
    x = structured(rng, n, d, 6, 0.05)
    y = x + 0.2 * rng.standard_normal((n, d))
    cases.append(case('joint-n40-d120-r6', x, y, 6, 'joint'))
    # separate bases, dx != dy
    n = 200
    x = structured(rng, n, 16, 4, 0.1)
    y = structured(rng, n, 12, 4, 0.1)
    cases.append(case('separate-n200-16+12-r4', x, y, 4, 'separate'))
    doc = {
        'generator': 'scripts/goldens/reducers.py',
        'versions': {'python': platform.python_version(), 'numpy': np.__version__},
        'seed': 20261128,
        'cases': cases,
    }
    tmp = OUT + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(doc, f)
    os.replace(tmp, OUT)
    for c in cases:
        print(c['name'], c.get('explained', (c.get('explainedX'), c.get('explainedY'))))


if __name__ == '__main__':
    sys.exit(main())
