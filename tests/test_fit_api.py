"""Fit engine properties not covered by the joint-crab reproduction (tests/test_fit_jointcrab.py).

* the fast joint evaluator against gammapy's per-bin ``wstat`` / ``cash`` on
  synthetic datasets with every bin category (n_on = 0, n_off = 0, both,
  neither), masks, several spectral components, a negative prediction (the
  exact fallback);
* parameters linked explicitly across two models (one value, fitted once);
* ``Parameters.to_table()`` against the parameters it describes;
* the likelihood-ratio TS of two model hypotheses (power law vs log-parabola) against gammapy;
* the live-fit contract: the callback receives parameter values and the
  statistic at those values; a cancel token set during the fit stops it with
  ``success False``, a "cancelled" message, the model at the best point seen.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from gwidgets.core.datasets import Datasets, SpectrumDataset, SpectrumDatasetOnOff
from gwidgets.core.fit import Fit, ts
from gwidgets.core.models import LogParabola, PowerLaw, SkyModel
from gwidgets.core.progress import CancelToken

LN10 = math.log(10)


@pytest.fixture(scope="module")
def spectra_dir(data_dir):
    path = data_dir / "joint-crab" / "results" / "spectra"
    if not path.exists():
        pytest.skip("joint-crab OGIP spectra not available")
    return path


def _lp(**kw):
    values = dict(amplitude=3e-11, reference=1.0, alpha=2.5, beta=0.1 * LN10)
    values.update(kw)
    return LogParabola(log_base=10, **values)


def _read(spectra_dir, instrument, e_range):
    datasets = Datasets([SpectrumDatasetOnOff.read(f) for f in sorted((spectra_dir / instrument).glob("pha_*.fits"))])
    datasets.set_fit_range(*e_range)
    return datasets


# --------------------------------------------------------------------------- evaluator vs per-bin statistics
def _synthetic(seed, name, stat="wstat", n_reco=24, n_true=30):
    rng = np.random.default_rng(seed)
    e_reco = np.geomspace(0.1, 50, n_reco + 1) * rng.uniform(0.97, 1.03)
    e_true = np.geomspace(0.05, 100, n_true + 1)
    centres_t, centres_r = np.sqrt(e_true[:-1] * e_true[1:]), np.sqrt(e_reco[:-1] * e_reco[1:])
    # a banded Gaussian-in-log energy dispersion, rows normalised
    edisp = np.exp(-0.5 * (np.log(centres_r[None, :] / centres_t[:, None]) / 0.15) ** 2)
    edisp /= np.maximum(edisp.sum(axis=1, keepdims=True), 1e-30) * 1.05
    exposure = 1e9 * (1 - np.exp(-centres_t / 0.3))  # cm2 s
    counts = rng.poisson(rng.uniform(0, 6, n_reco)).astype(float)
    mask = np.ones(n_reco, bool)
    mask[0] = mask[-2] = False
    if stat == "cash":
        return SpectrumDataset(counts, exposure, e_reco, energy_edges_true=e_true, edisp=edisp,
                               background=rng.uniform(0, 2, n_reco), mask_safe=mask, name=name)
    counts_off = rng.poisson(rng.uniform(0, 8, n_reco)).astype(float)
    # force every category: on/off = (>0, 0), (0, >0), (0, 0), (>0, >0)
    counts[2], counts_off[2] = 4, 0
    counts[3], counts_off[3] = 0, 5
    counts[4], counts_off[4] = 0, 0
    counts[5], counts_off[5] = 7, 3
    acceptance_off = rng.uniform(2, 12, n_reco)
    acceptance_off[-1] = np.inf  # alpha = 0: gammapy's WStat gives NaN there, counted as 0
    return SpectrumDatasetOnOff(counts, exposure, e_reco, counts_off=counts_off, acceptance=1.0,
                                acceptance_off=acceptance_off, energy_edges_true=e_true, edisp=edisp,
                                mask_safe=mask, name=name)


def _gammapy_stat(datasets):
    """Σ over datasets and active bins of gammapy's per-bin statistics, on each dataset's own prediction."""
    from gammapy.stats import cash, wstat

    total = 0.0
    for d in datasets:
        m = d.mask
        mu = d.npred_signal()[m]
        if d.stat_type == "wstat":
            total += np.sum(np.nan_to_num(wstat(d.counts[m], d.counts_off[m], d.alpha[m], mu)))
        else:
            total += np.sum(cash(d.counts[m], np.clip(mu + d.background[m], 0, None)))
    return float(total)


def test_fast_evaluator_matches_gammapy_per_bin_statistics():
    pytest.importorskip("gammapy")
    sets = [_synthetic(1, "a"), _synthetic(2, "b"), _synthetic(3, "c", stat="cash"), _synthetic(4, "d")]
    shared = SkyModel(_lp(amplitude=2e-11), name="src")
    datasets = Datasets(sets, models=shared)
    # a second component on one dataset only: the multi-response path
    sets[1].models = [shared, SkyModel(PowerLaw(index=2.0, amplitude=5e-13), name="other")]
    spectral = shared.spectral_model
    for amplitude, alpha, beta in [(2e-11, 2.5, 0.2), (4e-12, 1.8, 0.05), (7e-11, 3.1, 0.6), (1e-13, 2.2, 0.0)]:
        spectral.amplitude.value, spectral.alpha.value, spectral.beta.value = amplitude, alpha, beta
        expected = _gammapy_stat(sets)
        assert datasets.stat_sum() == pytest.approx(expected, rel=1e-9)
        for d in sets:  # single-dataset evaluators too
            assert d.stat_sum() == pytest.approx(_gammapy_stat([d]), rel=1e-9)
    # a mask change is seen at once
    sets[0].mask_fit = np.arange(len(sets[0].counts)) < 12
    assert datasets.stat_sum() == pytest.approx(_gammapy_stat(sets), rel=1e-9)
    # a negative prediction: non-finite fast form → the exact per-bin formulas (nan_to_num), as gammapy
    spectral.amplitude.value = -1e-12
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _gammapy_stat(sets)
        assert datasets.stat_sum() == pytest.approx(expected, rel=1e-9)


def test_fast_evaluator_on_real_data_equals_its_own_exact_path(spectra_dir):
    datasets = _read(spectra_dir, "hess", (0.66, 30))
    datasets.models = SkyModel(_lp(), name="crab")
    ev = datasets._evaluator()
    for alpha in (2.2, 2.5, 2.9):
        datasets.models.spectral_model.alpha.value = alpha
        assert ev.stat_sum() == pytest.approx(ev._exact(), rel=1e-12)


# --------------------------------------------------------------------------- explicit links
def test_parameter_linked_across_models_fits_like_one_shared_model(spectra_dir):
    shared = _read(spectra_dir, "hess", (0.66, 30))
    shared.models = SkyModel(_lp(), name="crab")
    reference = Fit().run(shared)

    linked = _read(spectra_dir, "hess", (0.66, 30))
    first, second = _lp(), _lp(amplitude=5e-11, alpha=2.0, beta=0.5)
    for name in ("amplitude", "alpha", "beta"):
        second.parameters[name].link_to(first.parameters[name])
    assert second.alpha.value == first.alpha.value and second.alpha.linked_to is first.alpha
    for i, d in enumerate(linked):
        d.models = SkyModel(first if i % 2 == 0 else second, name=f"crab{i}")
    params = linked.parameters
    assert params.free_parameters.names == ["amplitude", "alpha", "beta"]  # the followers are not free
    result = Fit().run(linked)
    assert result.success
    assert result.covariance.names == ["amplitude", "alpha", "beta"]
    for name in ("amplitude", "alpha", "beta"):
        assert first.parameters[name].value == pytest.approx(reference.parameters[name].value, rel=1e-6)
        assert first.parameters[name].error == pytest.approx(reference.parameters[name].error, rel=1e-3)
        assert second.parameters[name].value == first.parameters[name].value
    assert result.total_stat == pytest.approx(reference.total_stat, rel=1e-9)
    # unlinking makes them independent again
    second.alpha.link_to(None)
    first.alpha.value = 2.0
    assert second.alpha.value == pytest.approx(reference.parameters["alpha"].value, rel=1e-6)


def test_parameters_to_table_matches_the_parameters(spectra_dir):
    datasets = _read(spectra_dir, "magic", (0.08, 30))
    model = _lp()
    model.reference.frozen = True
    follower = PowerLaw(index=2.0)
    follower.index.link_to(model.alpha)
    datasets.models = [SkyModel(model, name="crab"), SkyModel(follower, name="faint")]
    follower.amplitude.value = 0.0
    follower.amplitude.frozen = True
    Fit().run(datasets)
    params = datasets.parameters
    table = params.to_table()
    assert list(table["name"]) == [p.name for p in params]
    np.testing.assert_array_equal(table["value"], [p.value for p in params])
    np.testing.assert_array_equal(table["error"], [p.error for p in params])
    assert list(table["unit"]) == [p.unit.to_string() for p in params]
    assert list(table["frozen"]) == [p.frozen for p in params]
    assert list(table["link"]) == [p.linked_to.name if p.linked_to is not None else "" for p in params]
    assert "alpha" in list(table["link"])
    assert table["error"][list(table["name"]).index("alpha")] > 0


# --------------------------------------------------------------------------- TS of two hypotheses
def test_ts_of_power_law_vs_log_parabola_matches_gammapy(spectra_dir):
    pytest.importorskip("gammapy")
    warnings.simplefilter("ignore")
    import astropy.units as u
    from gammapy.datasets import Datasets as GDatasets, SpectrumDatasetOnOff as GOnOff
    from gammapy.modeling import Fit as GFit
    from gammapy.modeling.models import LogParabolaSpectralModel, PowerLawSpectralModel, SkyModel as GSkyModel

    files = sorted((spectra_dir / "magic").glob("pha_*.fits"))
    ours = _read(spectra_dir, "magic", (0.08, 30))
    ours.models = SkyModel(PowerLaw(index=2.5, amplitude=3e-11, reference=1.0), name="pl")
    null = Fit().run(ours)
    ours.models = SkyModel(_lp(), name="lp")
    alt = Fit().run(ours)
    value = ts(null.total_stat, alt.total_stat)

    gp = GDatasets([GOnOff.read(f, name=str(i)) for i, f in enumerate(files)])
    for d in gp:
        d.mask_fit = d.counts.geom.energy_mask(0.08 * u.TeV, 30 * u.TeV)
    gp.models = GSkyModel(spectral_model=PowerLawSpectralModel(index=2.5, amplitude="3e-11 cm-2 s-1 TeV-1",
                                                               reference="1 TeV"), name="pl")
    g_null = GFit().run(gp).total_stat
    gp.models = GSkyModel(spectral_model=LogParabolaSpectralModel(alpha=2.5, beta=0.1,
                                                                  amplitude="3e-11 cm-2 s-1 TeV-1",
                                                                  reference="1 TeV"), name="lp")
    g_alt = GFit().run(gp).total_stat
    assert null.success and alt.success
    assert value == pytest.approx(g_null - g_alt, rel=1e-3, abs=1e-3)
    assert value > 0  # the curvature is significant in MAGIC's range


# --------------------------------------------------------------------------- live fit contract
def test_callback_values_and_stat_are_consistent(spectra_dir):
    datasets = _read(spectra_dir, "veritas", (0.15, 30))
    datasets.models = SkyModel(_lp(), name="crab")
    calls = []
    result = Fit().optimize(datasets, callback=lambda i, values, stat: calls.append((i, dict(values), stat)),
                            throttle=0.0)
    assert result.success
    iterations = [c[0] for c in calls]
    assert iterations[:-1] == list(range(1, result.nfev + 1))  # every evaluation, then the final report
    assert iterations[-1] == result.nfev
    model = datasets.models.spectral_model
    for i, values, stat in calls[:: max(1, len(calls) // 7)]:
        assert set(values) == {"amplitude", "alpha", "beta"}
        for name, v in values.items():
            model.parameters[name].value = v
        assert datasets.stat_sum() == pytest.approx(stat, rel=1e-12)


def test_cancel_token_during_fit_leaves_best_point(spectra_dir):
    datasets = _read(spectra_dir, "hess", (0.66, 30))
    datasets.models = SkyModel(_lp(), name="crab")
    start = datasets.stat_sum()
    token = CancelToken()
    seen = []

    def callback(i, values, stat):  # a widget reporting progress; the user presses "stop" at evaluation 12
        seen.append((stat, dict(values)))
        if i == 12:
            token.cancel()

    result = Fit().run(datasets, callback=callback, throttle=0.0, token=token)
    assert not result.success and result.cancelled
    assert "cancelled" in result.message
    assert result.covariance is None  # no HESSE after a cancel
    best_stat, best_values = min(seen, key=lambda s: s[0])
    model = datasets.models.spectral_model
    for name, v in best_values.items():
        assert model.parameters[name].value == pytest.approx(v, rel=1e-12)
    assert datasets.stat_sum() == pytest.approx(best_stat, rel=1e-12) and best_stat < start
    assert result.total_stat == pytest.approx(best_stat, rel=1e-12)
    # the model is usable afterwards: a new fit from the best point converges
    assert Fit().run(datasets).success
