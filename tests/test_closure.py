"""Closure against the simulator's truth, 3 seeds: the analyses of benchmarks/bench_closure.py (20 seeds there).

Each seed's store is simulated (`simulate_datastore`) and analysed with the defaults a user gets: the 1D
reflected fit of the bright source (one dataset per run, joint fit; and the runs stacked), the 3D fit of the
bright + Gaussian (+ flaring) sources with the FoV background norm free, and the per-run light curve of the
flaring source. With 3 seeds the pull bounds of the issue (|mean| ≤ 0.2, std 0.8–1.2 over 20 seeds) cannot
be tested; what is: every pull |p| < 4 and the mean of the three within 3/√3 (3σ of a mean of three unit
Gaussians), and the light-curve coverage within 3 binomial σ of 68.3 % (1σ) and 95.4 % (2σ).

Bugs this closure found fail it: the 1D fit without PSF containment correction (the old default: amplitude
pull ≈ −12, checked below on one seed), background events drawn per live time instead of observation time
(3D background-norm pull ≈ −10). The joint per-run WStat fit (the default ``stack=False``) has a known
low-count bias (β ≈ +1σ over 40 seeds; a toy MC of the datasets' own model shows the same), so its mean
pulls are not tested here, only each seed's |pull| < 4; the stacked fit is held to the bounds.
"""
from __future__ import annotations

import math
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from gw_testdata import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_closure as closure  # noqa: E402

from gwidgets.core.data import DataStore  # noqa: E402
from gwidgets.core.simulate import read_truth, simulate_datastore  # noqa: E402

SEEDS = (1, 2, 3)
MAX_PULL = 4.0
MAX_MEAN = 3.0 / math.sqrt(len(SEEDS))

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    base = tmp_path_factory.mktemp("closure")
    return {s: simulate_datastore(base / f"seed{s}", seed=s) for s in SEEDS}


@pytest.fixture(scope="module")
def results(stores):
    with ProcessPoolExecutor(max_workers=2) as pool:
        return list(pool.map(closure.analyse_store, [stores[s] for s in SEEDS]))


def _check_pulls(results, key):
    rows = closure.pull_table(results, key)
    assert len(rows) >= 3
    for r in results:
        for name, (truth, pull) in r[key].items():
            assert np.isfinite(pull) and abs(pull) < MAX_PULL, f"seed {r['seed']} {key} {name}: pull {pull:+.2f}"
    for name, truth, mean, std, n in rows:
        assert n == len(SEEDS)
        assert abs(mean) < MAX_MEAN, f"{key} {name}: mean pull {mean:+.2f} over {n} seeds"
    return rows


def test_closure_1d(results):
    rows = _check_pulls(results, "1d-stacked")
    assert [r[0] for r in rows] == ["bright.amplitude", "bright.alpha", "bright.beta"]
    for r in results:  # the default joint per-run fit: each seed within 4 sigma (its mean is biased, see above)
        for name, (truth, pull) in r["1d"].items():
            assert np.isfinite(pull) and abs(pull) < MAX_PULL, f"seed {r['seed']} 1d {name}: pull {pull:+.2f}"


def test_closure_3d(results):
    rows = _check_pulls(results, "3d")
    names = [r[0] for r in rows]
    for name in ("bright.amplitude", "bright.lon_0", "extended.sigma", "extended.index", "background.norm"):
        assert name in names


def test_closure_light_curve(results):
    cov = closure.coverage(results)
    assert cov["n"] >= 15 * len(SEEDS)  # a bin per run (a run without OFF region aside)
    for k, p in closure.COVERAGE.items():
        sd = math.sqrt(p * (1 - p) / cov["n"])
        assert abs(cov[k] - p) < 3 * sd, f"{k} sigma coverage {cov[k]:.3f} over {cov['n']} bins (expected {p})"
    # the flare is seen: the brightest bins are the flare night's, with a significant excess over the steady flux
    rows = np.array([row for r in results for row in r["lc"]])
    flare = rows[:, 6] > 2 * rows[:, 6].min()
    assert flare.sum() >= 3 * len(SEEDS) and np.mean(rows[flare, 0]) > 3 * np.mean(rows[~flare, 0])


def test_closure_fails_without_containment_correction(stores):
    """The test can fail: without the PSF containment correction (the old default) the 1D amplitude is far low."""
    path = stores[SEEDS[0]]
    truth = read_truth(path)["simulation"]
    obs = DataStore.from_dir(path).get_observations()
    pulls = closure.analyse_1d(obs, truth, containment_correction=False)
    assert pulls["bright.amplitude"][1] < -MAX_PULL
