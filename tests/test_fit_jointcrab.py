"""The joint-crab fits (Nigro et al. 2019, A&A 625, A10) with gwidgets and with gammapy 2.1, same files, same test.

Model: log-parabola ``φ0 (E/1 TeV)^(−α − β log10(E/1 TeV))`` (gammapy's uses ln: β10 = β_e · ln 10).

Per-instrument fits are *joint likelihood* fits over the instrument's observations
(one WStat term per observation, summed), as in the paper and its
``SpectrumObservationList`` fits — not fits of the stacked spectrum
(`test_stack_reduce_like_gammapy` checks that stacking also agrees with gammapy).
Each instrument keeps its safe mask and uses its own range (``mask_fit``): fermi
0.03–2, magic 0.08–30, veritas 0.15–30, fact 0.4–30, hess 0.66–30 TeV; the
joint fit uses 0.03–30 TeV for every dataset.

Both fits run MIGRAD (tol 0.1, strategy 1) from the same start; our errors come
from HESSE seeded with MIGRAD's errors, gammapy's from MIGRAD's covariance —
which that HESSE reproduces (MINUIT's numerical covariance varies by ~1 % with
the step sizes it starts from, so the seeding matters at the 1e-3 level).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from gwidgets.core.datasets import Datasets, SpectrumDataset, SpectrumDatasetOnOff
from gwidgets.core.fit import Fit, FitError, FitResult, StopFit
from gwidgets.core.models import LogParabola, PowerLaw, SkyModel

LN10 = math.log(10)
RANGES = {"fermi": (0.03, 2), "magic": (0.08, 30), "veritas": (0.15, 30), "fact": (0.4, 30), "hess": (0.66, 30),
          "joint": (0.03, 30)}
START = dict(amplitude=3e-11, alpha=2.5, beta_e=0.1)  # TeV-1 cm-2 s-1, at 1 TeV


@pytest.fixture(scope="module")
def spectra_dir(data_dir):
    path = data_dir / "joint-crab" / "results" / "spectra"
    if not path.exists():
        pytest.skip("joint-crab OGIP spectra not available")
    return path


@pytest.fixture(scope="module")
def files(spectra_dir):
    return {k: sorted((spectra_dir / k).glob("pha_*.fits")) for k in RANGES if k != "joint"}


def _lp():
    return LogParabola(log_base=10, amplitude=START["amplitude"], reference=1.0, alpha=START["alpha"],
                       beta=START["beta_e"] * LN10)


def _ours(files, key, model=None):
    sets = [f for k in files for f in files[k]] if key == "joint" else files[key]
    datasets = Datasets([SpectrumDatasetOnOff.read(f) for f in sets])
    datasets.set_fit_range(*RANGES[key])
    datasets.models = SkyModel(model if model is not None else _lp(), name="crab")
    return datasets


def _gammapy(files, key):
    import astropy.units as u
    from gammapy.datasets import Datasets as GDatasets, SpectrumDatasetOnOff as GOnOff
    from gammapy.modeling.models import LogParabolaSpectralModel, SkyModel as GSkyModel

    sets = [f for k in files for f in files[k]] if key == "joint" else files[key]
    datasets = GDatasets([GOnOff.read(f, name=f"{i}") for i, f in enumerate(sets)])
    lo, hi = RANGES[key]
    for d in datasets:
        d.mask_fit = d.counts.geom.energy_mask(lo * u.TeV, hi * u.TeV)
    datasets.models = GSkyModel(spectral_model=LogParabolaSpectralModel(
        amplitude=f"{START['amplitude']} cm-2 s-1 TeV-1", reference="1 TeV", alpha=START["alpha"],
        beta=START["beta_e"]), name="crab")
    return datasets


@pytest.fixture(scope="module")
def results(files):
    """Both fits for the five instruments and the joint fit."""
    pytest.importorskip("gammapy")
    warnings.simplefilter("ignore")
    from gammapy.modeling import Fit as GFit

    out = {}
    for key in RANGES:
        ours_sets = _ours(files, key)
        ours = Fit().run(ours_sets)
        gp_sets = _gammapy(files, key)
        gp = GFit().run(gp_sets)
        out[key] = (ours, gp, ours_sets, gp_sets)
    return out


@pytest.mark.parametrize("key", list(RANGES))
def test_joint_crab_fit_matches_gammapy(results, key):
    ours, gp, _, _ = results[key]
    assert ours.success and gp.success, (ours.message, gp.message)
    p, g = ours.parameters, gp.parameters
    pairs = [("amplitude", 1.0), ("alpha", 1.0), ("beta", LN10)]
    for name, factor in pairs:
        assert p[name].value == pytest.approx(g[name].value * factor, rel=1e-3), name
        assert p[name].error == pytest.approx(g[name].error * factor, rel=1e-3), f"{name} error"
    assert ours.total_stat == pytest.approx(gp.total_stat, rel=1e-4)
    # the covariance carries the free parameters' names and matches the errors
    assert ours.covariance.names == ["amplitude", "alpha", "beta"]
    assert math.sqrt(ours.covariance["beta", "beta"]) == pytest.approx(p["beta"].error, rel=1e-12)


def test_joint_fit_values_are_the_papers(results):
    """Nigro et al. 2019, Table 3 (joint, statistical errors): φ0 = 3.85 ± 0.11e-11, Γ = 2.51 ± 0.03, β = 0.24 ± 0.02."""
    p = results["joint"][0].parameters
    assert p["amplitude"].value == pytest.approx(3.85e-11, rel=0.02)
    assert p["alpha"].value == pytest.approx(2.51, abs=0.01)
    assert p["beta"].value == pytest.approx(0.24, abs=0.01)
    assert p["beta"].error == pytest.approx(0.02, abs=0.006)


def test_result_and_model_state(results):
    ours, _, datasets, _ = results["joint"]
    assert isinstance(ours, FitResult)
    text = repr(ours)
    assert "success    : True" in text and "total stat" in text
    assert "<table" in ours._repr_html_()
    # the fitted model (shared by the datasets) holds the best fit and errors
    model = datasets.models
    assert model.spectral_model.alpha.value == pytest.approx(ours.parameters["alpha"].value, rel=1e-12)
    assert model.spectral_model.alpha.error == pytest.approx(ours.parameters["alpha"].error, rel=1e-12)
    assert datasets.stat_sum() == pytest.approx(ours.total_stat, rel=1e-12)
    assert ours.models is not model and ours.models.spectral_model.alpha.value == model.spectral_model.alpha.value


def test_stat_sum_matches_gammapy(files):
    """Same parameters → same WStat: exact for a power law (analytic integral in gammapy)."""
    pytest.importorskip("gammapy")
    from gammapy.modeling.models import LogParabolaSpectralModel, PowerLawSpectralModel, SkyModel as GSkyModel

    ours = _ours(files, "joint", PowerLaw(index=2.4, amplitude=3e-11, reference=1.0))
    gp = _gammapy(files, "joint")
    gp.models = GSkyModel(PowerLawSpectralModel(index=2.4, amplitude="3e-11 cm-2 s-1 TeV-1", reference="1 TeV"))
    assert ours.stat_sum() == pytest.approx(gp.stat_sum(), rel=1e-10)
    for d, g in zip(ours, gp):
        np.testing.assert_allclose(d.npred_signal(), g.npred_signal().data.ravel(), rtol=1e-9, atol=1e-12)
        assert d.stat_sum() == pytest.approx(g.stat_sum(), rel=1e-9)
        # the fast path equals the per-bin statistic over the mask
        assert d.stat_sum() == pytest.approx(d.stat_array()[d.mask].sum(), rel=1e-12)
    # log-parabola: gammapy integrates with a log-log trapezoid (~1e-5 bias); ours to ~1e-10
    ours.models = SkyModel(_lp())
    gp.models = GSkyModel(LogParabolaSpectralModel(amplitude="3e-11 cm-2 s-1 TeV-1", reference="1 TeV",
                                                   alpha=2.5, beta=0.1))
    assert ours.stat_sum() == pytest.approx(gp.stat_sum(), rel=1e-4)


def test_stack_reduce_like_gammapy(files):
    pytest.importorskip("gammapy")
    from gammapy.datasets import Datasets as GDatasets, SpectrumDatasetOnOff as GOnOff

    for key in ("hess", "magic"):
        ours = Datasets([SpectrumDatasetOnOff.read(f) for f in files[key]]).stack_reduce(name=key)
        gp = GDatasets([GOnOff.read(f) for f in files[key]]).stack_reduce(name=key)
        # gammapy's stacked maps are float32
        np.testing.assert_array_equal(ours.counts, gp.counts.data.ravel())
        np.testing.assert_array_equal(ours.counts_off, gp.counts_off.data.ravel())
        np.testing.assert_allclose(ours.alpha, gp.alpha.data.ravel(), rtol=1e-6)
        np.testing.assert_allclose(ours.exposure, gp.exposure.quantity.to_value("cm2 s").ravel(), rtol=1e-6)
        np.testing.assert_allclose(ours.edisp, gp.edisp.get_edisp_kernel().data, rtol=1e-5, atol=1e-7)
        np.testing.assert_array_equal(ours.mask_safe, gp.mask_safe.data.ravel())
        assert ours.livetime == pytest.approx(gp.exposure.meta["livetime"].to_value("s"))


# --------------------------------------------------------------------------- callbacks, cancel, failures
@pytest.fixture
def hess(files):
    return _ours(files, "hess")


def test_callback_fires_and_does_not_change_the_result(files):
    plain = Fit().run(_ours(files, "veritas"))
    calls = []
    result = Fit().run(_ours(files, "veritas"), callback=lambda i, values, stat: calls.append((i, values, stat)),
                       throttle=0.0)
    assert len(calls) >= result.nfev  # every evaluation + the final report
    i, values, stat = calls[-1]
    assert set(values) == {"amplitude", "alpha", "beta"} and math.isfinite(stat)
    assert result.total_stat == plain.total_stat
    for name in ("amplitude", "alpha", "beta"):
        assert result.parameters[name].value == plain.parameters[name].value
        assert result.parameters[name].error == plain.parameters[name].error
    # throttled: a callback at most every second gives only the first report and the final one
    few = []
    Fit().optimize(_ours(files, "veritas"), callback=lambda *a: few.append(a), throttle=1.0)
    assert 1 <= len(few) <= 3


@pytest.mark.parametrize("how", ["false", "stopfit"])
def test_cancel_keeps_best_point(hess, how):
    start = hess.stat_sum()
    seen = []

    def callback(i, values, stat):
        seen.append(stat)
        if i >= 15:
            if how == "false":
                return False
            raise StopFit("user pressed stop")

    result = Fit().run(hess, callback=callback, throttle=0.0)
    assert not result.success and result.cancelled
    assert result.message.startswith("cancelled")
    assert result.nfev == 15
    assert hess.stat_sum() == pytest.approx(min(seen), rel=1e-12) and hess.stat_sum() < start
    assert result.total_stat == pytest.approx(min(seen), rel=1e-12)


def test_cancel_token(hess):
    from gwidgets.core.progress import CancelToken

    token = CancelToken()
    token.cancel()
    result = Fit().optimize(hess, token=token, throttle=0.0)
    assert not result.success and "cancelled" in result.message


def test_non_convergence_restores_start(hess):
    model = hess.models.spectral_model
    before = [p.value for p in model.parameters]
    result = Fit(maxfev=5).run(hess)
    assert not result.success
    assert "Call limit" in result.message
    assert [p.value for p in model.parameters] == before
    kept = Fit(maxfev=5, restore_on_failure=False).run(hess)
    assert not kept.success
    assert [p.value for p in model.parameters] != before


def test_nan_start_value(hess):
    model = hess.models.spectral_model
    model.alpha.set_value_unchecked(float("nan"))
    with pytest.raises(FitError, match="alpha"):
        Fit().run(hess)
    assert math.isnan(model.alpha.value) and model.beta.value == pytest.approx(START["beta_e"] * LN10)


def test_out_of_bounds_start(hess):
    model = hess.models.spectral_model
    model.amplitude.min = 0
    model.amplitude.set_value_unchecked(-1e-12)
    with pytest.raises(FitError, match="outside its bounds"):
        Fit().run(hess)
    assert model.amplitude.value == -1e-12


def test_no_free_parameter(hess):
    hess.models.freeze()
    with pytest.raises(FitError, match="No free parameters"):
        Fit().run(hess)
    with pytest.raises(FitError, match="No free parameters"):
        Fit().run(Datasets(list(hess)[:1]))  # no model at all once detached
    hess.models.unfreeze()


def test_model_raising_gives_unsuccessful_result(hess):
    class Broken(PowerLaw):
        calls = 0

        def integral_values(self, e_min_tev, e_max_tev):  # not a known smooth model: integrated exactly
            Broken.calls += 1
            if Broken.calls > 20:
                raise RuntimeError("model exploded")
            return super().integral_values(e_min_tev, e_max_tev)

    broken = Broken(index=2.5, amplitude=3e-11, reference=1.0)
    hess.models = SkyModel(broken)
    before = [p.value for p in broken.parameters]
    result = Fit().run(hess)
    assert not result.success and "model exploded" in result.message
    assert [p.value for p in broken.parameters] == before


# --------------------------------------------------------------------------- scans
def test_stat_profile_and_ts(files):
    datasets = _ours(files, "magic")
    fit = Fit()
    best = fit.run(datasets)
    beta = datasets.models.spectral_model.beta
    value, error = beta.value, beta.error
    prof = fit.stat_profile(datasets, "beta", n=7)
    assert len(prof["values"]) == 7 and np.argmin(prof["stat_scan"]) == 3
    assert prof["stat_scan"][3] == pytest.approx(best.total_stat, rel=1e-10)
    # profile (others refitted) is below the slice and ~ +9 at ±3σ
    prof_r = fit.stat_profile(datasets, beta, values=[value - error, value + error], reoptimize=True)
    assert np.all(prof_r["stat_scan"] - best.total_stat == pytest.approx(1.0, abs=0.15))
    assert beta.value == value and beta.error == error and not beta.frozen
    result = fit.ts(datasets, "beta", 0.0)
    assert result["ts"] > 4 and result["sqrt_ts"] == pytest.approx(math.sqrt(result["ts"]))
    assert result["stat_alt"] == pytest.approx(best.total_stat, rel=1e-6)
    assert beta.value == value and not beta.frozen


def test_stat_contour(files):
    datasets = _ours(files, "veritas")
    fit = Fit()
    best = fit.run(datasets)
    contour = fit.stat_contour(datasets, "alpha", "beta", numpoints=8, sigma=1)
    assert contour["success"]
    x, y = contour["alpha"], contour["beta"]
    assert len(x) >= 8 and np.all(np.isfinite(x)) and np.all(np.isfinite(y))
    # the contour surrounds the best fit, and the profiled statistic on it is min + 1 (2 d.o.f., 1σ)
    assert x.min() < best.parameters["alpha"].value < x.max()
    model = datasets.models.spectral_model
    model.alpha.frozen = model.beta.frozen = True
    model.alpha.value, model.beta.value = x[0], y[0]
    stat = fit.optimize(datasets).total_stat
    assert stat - best.total_stat == pytest.approx(1.0, abs=0.05)


# --------------------------------------------------------------------------- datasets API
def test_datasets_models_sharing(files):
    a, b = (SpectrumDatasetOnOff.read(f) for f in files["hess"][:2])
    own = SkyModel(PowerLaw(), name="own")
    b.models = own
    datasets = Datasets([a, b])
    shared = SkyModel(_lp(), name="crab")
    datasets.models = shared
    assert a.models is shared and b.models is own
    assert len(datasets.parameters) == len(shared.parameters) + len(own.parameters)
    other = SkyModel(_lp(), name="other")
    datasets.models = other  # re-assigning replaces the shared one, not the dataset's own
    assert a.models is other and b.models is own


def test_dataset_api(files):
    ds = SpectrumDatasetOnOff.read(files["hess"][0])
    ds.models = SkyModel(_lp())
    ds.set_fit_range(0.66, 30)
    e = ds.energy_edges
    assert np.all(e[:-1][ds.mask_fit] >= 0.66) and np.all(e[1:][ds.mask_fit] <= 30)
    assert ds.stat_sum() == pytest.approx(ds.stat_array()[ds.mask].sum(), rel=1e-12)
    res = ds.residuals("diff/sqrt(model)")
    assert np.all(np.isnan(res[~ds.mask])) and np.all(np.isfinite(res[ds.mask]))
    np.testing.assert_allclose(ds.excess, ds.counts - ds.alpha * ds.counts_off)
    assert ds.info_dict()["sqrt_ts"] > 5
    with pytest.raises(ValueError):
        ds.counts[0] = 3  # read-only: assign a new array instead
    cash = ds.to_spectrum_dataset()
    assert isinstance(cash, SpectrumDataset) and cash.stat_type == "cash"
    cash.models = ds.models
    assert cash.stat_sum() == pytest.approx(cash.stat_array()[cash.mask].sum(), rel=1e-12)
    # changing data is noticed by the cached evaluator
    before = ds.stat_sum()
    ds.mask_fit = None
    assert ds.stat_sum() != before
