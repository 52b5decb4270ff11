"""Goldens for @mi-prun/mi-binning: plug-in and Miller-Madow MI from numpy.histogram2d.

Writes packages/mi/binning/test/fixtures/binning.json. Data are seeded numpy draws rounded to float32
(the values a Float32Array Matrix holds), so TS and numpy bin the same numbers. Equal-width uses
numpy.histogram2d over each sample's [min, max]; equal-frequency bins rank r (lowest rank of ties,
scipy.stats.rankdata(method='min') - 1) as floor(b*r/N) and counts them with numpy.histogram2d.
Run: python3 scripts/goldens/binning.py   (image python3: numpy 2.4, scipy 1.17)
"""
import json
import os
import platform
import sys

import numpy as np
import scipy
from scipy.stats import rankdata

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'packages', 'mi', 'binning', 'test', 'fixtures', 'binning.json')


def entropy(counts, n):
    c = counts[counts > 0].astype(np.float64)
    p = c / n
    return float(-(p * np.log(p)).sum()), int(c.size)


def pair_mi(x, y, bins, strategy):
    n = x.size
    if strategy == 'equal-width':
        h2, _, _ = np.histogram2d(x, y, bins=bins)  # range defaults to each sample's [min, max]
    else:
        bx = np.floor(bins * (rankdata(x, method='min') - 1) / n)
        by = np.floor(bins * (rankdata(y, method='min') - 1) / n)
        h2, _, _ = np.histogram2d(bx, by, bins=bins, range=[[0, bins], [0, bins]])
    assert int(h2.sum()) == n
    hx, kx = entropy(h2.sum(axis=1), n)
    hy, ky = entropy(h2.sum(axis=0), n)
    hxy, kxy = entropy(h2.ravel(), n)
    ml = hx + hy - hxy
    mm = ml + (kx + ky - kxy - 1) / (2 * n)
    return {'ml': ml, 'mm': mm, 'kx': kx, 'ky': ky, 'kxy': kxy}


def case(name, seed, n, d, rho, bins, strategy, transform=None):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, d))
    b = rho * a + np.sqrt(1 - rho * rho) * rng.standard_normal((n, d))
    if transform == 'quantised':  # ties: values on a coarse grid
        a = np.round(a * 4) / 4
        b = np.round(b * 4) / 4
    x = a.astype(np.float32).astype(np.float64)
    y = b.astype(np.float32).astype(np.float64)
    pairs = [pair_mi(x[:, c], y[:, c], bins, strategy) for c in range(d)]
    return {
        'name': name, 'seed': seed, 'n': n, 'd': d, 'rho': rho, 'bins': bins, 'strategy': strategy,
        'x': [float(v) for v in x.ravel()], 'y': [float(v) for v in y.ravel()],
        'pairs': pairs,
        'meanMl': float(np.mean([p['ml'] for p in pairs])),
        'meanMm': float(np.mean([p['mm'] for p in pairs])),
    }


def main():
    cases = [
        case('ew-1d-b8', 1, 1000, 1, 0.5, 8, 'equal-width'),
        case('ew-1d-b32', 2, 1000, 1, 0.8, 32, 'equal-width'),
        case('ef-1d-b8', 3, 1000, 1, 0.5, 8, 'equal-frequency'),
        case('ef-1d-b16-ties', 4, 777, 1, 0.6, 16, 'equal-frequency', 'quantised'),
        case('ew-3d-b10', 5, 600, 3, 0.7, 10, 'equal-width'),
        case('ef-3d-b10', 6, 600, 3, 0.7, 10, 'equal-frequency'),
        case('ew-1d-b16-null', 7, 2000, 1, 0.0, 16, 'equal-width'),
    ]
    doc = {
        'generator': 'scripts/goldens/binning.py',
        'versions': {'python': platform.python_version(), 'numpy': np.__version__, 'scipy': scipy.__version__},
        'units': 'nats',
        'cases': cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    tmp = OUT + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(doc, f, separators=(',', ':'))
        f.write('\n')
    os.replace(tmp, OUT)
    print(f'wrote {OUT}: {len(cases)} cases', file=sys.stderr)
    for c in cases:
        print(c['name'], round(c['meanMl'], 6), round(c['meanMm'], 6), [(p['kx'], p['ky'], p['kxy']) for p in c['pairs']], file=sys.stderr)


if __name__ == '__main__':
    main()
