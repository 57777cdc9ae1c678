"""Session → datasets → predictions → fit, and the FitView / SpectrumView / SEDView, driven headless.

References are independent: the core dataset methods (`SpectrumDataset.residuals`,
`SpectrumDatasetOnOff.from_extraction`), a plain core ``Fit().run`` on fresh
copies of the same data, and analytic error propagation for a power law.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import Table
from regions import CircleSkyRegion

from gwidgets.core.data import DataStore
from gwidgets.core.datasets import Datasets, SpectrumDatasetOnOff
from gwidgets.core.fit import Fit
from gwidgets.core.models import LogParabola, PowerLaw, SkyModel
from gwidgets.errors import GwidgetsError
from gwidgets.state import AnalysisSession
from gwidgets.widgets import FitView, SEDView, SpectrumView
from gwidgets.widgets.sed_view import UL_ARROW, flux_points_arrays

CRAB = SkyCoord(83.633, 22.014, unit="deg")


def _model():
    return SkyModel(LogParabola(log_base=10, amplitude=3e-11, reference=1.0, alpha=2.5, beta=0.23), name="crab")


def _joint_crab(data_dir):
    files = sorted((data_dir / "joint-crab" / "results" / "spectra").glob("*/pha_*.fits"))
    if len(files) != 10:
        pytest.skip("joint-crab OGIP spectra not available")
    ds = Datasets([SpectrumDatasetOnOff.read(f) for f in files])
    ds.set_fit_range(0.03, 30)
    return ds


@pytest.fixture(scope="module")
def hess_session(stores):
    s = AnalysisSession(DataStore.from_dir(stores["jc-hess"]), background=False)
    s.required_irf = "point-like"
    s.set_models([_model()])
    yield s
    s.close()


# ------------------------------------------------------------ session → datasets
def test_selection_rebuilds_datasets_and_on_region_changes_counts(hess_session):
    s = hess_session
    s.set_dataset_mode("joint")  # one dataset per run (the default stacks them)
    s.select([23523, 23526])
    s.set_on_region(CircleSkyRegion(CRAB, 0.11 * u.deg))
    ds = s.compute("datasets")
    assert s.datasets is ds and ds.names == ["23523", "23526"]
    from gwidgets.core.reduction.safe_mask import SafeMaskMaker
    from gwidgets.core.reduction.spectrum import SpectrumExtractor

    settings = s.reduction_settings
    extractor = SpectrumExtractor(CircleSkyRegion(CRAB, 0.11 * u.deg), settings.energy_axis, settings.energy_axis_true)
    for d, o in zip(ds, s.compute("observations")):  # the core's extraction of the same run, the IRF's safe range
        e = extractor.run(o)
        ref = SpectrumDatasetOnOff.from_extraction(e)
        ref.mask_safe, _ = SafeMaskMaker(["aeff-default"]).run(e, o)
        np.testing.assert_array_equal(d.counts, ref.counts)
        np.testing.assert_array_equal(d.counts_off, ref.counts_off)
        np.testing.assert_array_equal(d.mask_safe, ref.mask_safe)
        assert 0 < d.mask_safe.sum() < len(d.mask_safe)  # the session's datasets carry the safe mask
    # a new selection → new datasets
    s.select([23523, 23526, 23559])
    assert s.graph.is_stale("datasets")
    ds3 = s.compute("datasets")
    assert ds3.names == ["23523", "23526", "23559"]
    # moving the ON region off the Crab: OFF regions move, ON counts drop
    off_before = s.compute("off_regions")[23523].regions[0].center
    n_on = sum(d.counts.sum() for d in ds3)
    s.set_on_region(CircleSkyRegion(SkyCoord(83.633, 22.4, unit="deg"), 0.11 * u.deg))
    moved = s.compute("datasets")
    assert sum(d.counts.sum() for d in moved) < 0.5 * n_on
    assert s.compute("off_regions")[23523].regions[0].center.separation(off_before) > 0.1 * u.deg
    # stacked mode: one dataset holding the sum of the safe-range counts
    s.set_on_region(CircleSkyRegion(CRAB, 0.11 * u.deg))
    joint = s.compute("datasets")
    s.set_dataset_mode("stacked")
    stacked = s.compute("datasets")
    assert stacked.names == ["stacked"]
    assert stacked[0].counts.sum() == pytest.approx(sum((d.counts * d.mask_safe).sum() for d in joint))
    s.set_dataset_mode("joint")
    with pytest.raises(GwidgetsError, match="Unknown dataset mode"):
        s.set_dataset_mode("magic")


def test_parameter_change_recomputes_residuals_only(hess_session):
    s = hess_session
    s.select([23523, 23526])
    s.set_on_region(CircleSkyRegion(CRAB, 0.11 * u.deg))
    res0 = s.residuals()
    counts = {n: s.graph.n_computed(n) for n in ("spectra", "datasets", "observations")}
    s.models["crab"].spectral_model.alpha.value = 2.8
    assert s.graph.is_stale("predictions") and not s.graph.is_stale("datasets")
    res1 = s.residuals()
    npred = s.npred()
    assert {n: s.graph.n_computed(n) for n in counts} == counts  # nothing re-reduced
    for d in s.datasets:  # the core dataset's own residuals / npred at the same parameters
        np.testing.assert_allclose(res1[d.name], d.residuals(), rtol=1e-10, equal_nan=True)
        np.testing.assert_allclose(npred[d.name], d.npred(), rtol=1e-10)
        assert not np.allclose(res0[d.name][d.mask], res1[d.name][d.mask])
    s.models["crab"].spectral_model.alpha.value = 2.5


# ------------------------------------------------------------------- fitting
@pytest.fixture(scope="module")
def crab_session(data_dir):
    s = AnalysisSession.from_datasets(_joint_crab(data_dir), models=[_model()], background=True)
    yield s
    s.close()


def test_fit_updates_arrive_and_equal_the_core_fit(crab_session, data_dir):
    s = crab_session
    s.fit_throttle = 0.0
    view = FitView(s)
    updates = []
    s.observe(lambda c: updates.append(c["new"]), "fit_progress")
    view.fit_button.click()
    s.wait(60)
    assert s.error == "" and not s.fitting
    live = [u_ for u_ in updates if not u_["final"]]
    assert len(live) >= 10 and updates[-1]["final"]
    assert [u_["nfev"] for u_ in live] == sorted(u_["nfev"] for u_ in live)
    assert set(live[0]["predictions"]) == set(s.datasets.names)
    # the same fit with the plain core API on fresh copies of the data
    ref_sets = _joint_crab(data_dir)
    ref_sets.models = _model()
    ref = Fit().run(ref_sets)
    res = s.fit_result
    assert res.success and ref.success
    assert res.total_stat == pytest.approx(ref.total_stat, rel=1e-10)
    for name in ("amplitude", "alpha", "beta"):
        assert res.parameters[name].value == pytest.approx(ref.parameters[name].value, rel=1e-8), name
        assert res.parameters[name].error == pytest.approx(ref.parameters[name].error, rel=1e-6), name
    np.testing.assert_allclose(np.asarray(res.covariance), np.asarray(ref.covariance), rtol=1e-6)
    # the view shows the fitted values and the live updates it drew
    view.flush()
    assert view.n_live_draws >= 1
    assert f"{ref.parameters['alpha'].value:.4g}" in view.params.value and "final" in view.params.value
    assert "correlation" in view.covariance.value
    p = s.predictions()[view.dataset.value]
    keep = p.mask & (p.npred > 0)
    np.testing.assert_allclose(view.npred.y, p.npred[keep])


def test_stop_keeps_the_best_point(crab_session):
    s = crab_session
    m = s.models["crab"].spectral_model
    m.alpha.value, m.beta.value, m.amplitude.value = 2.2, 0.1, 2e-11
    s.fit_throttle = 0.0
    stats = []

    def on_progress(change):
        stats.append(change["new"]["stat"])
        if len(stats) == 15:
            s.stop_fit()

    s.observe(on_progress, "fit_progress")
    try:
        s.fit(wait=True)
    finally:
        s.unobserve(on_progress, "fit_progress")
    res = s.fit_result
    assert res.cancelled and not res.success
    assert s.datasets.stat_sum() <= min(stats) + 1e-9  # the best point seen, not the last one
    assert m.alpha.value != 2.2
    assert "stopped" in s.status


def test_fit_errors_are_shown_and_the_model_is_kept(crab_session):
    s = crab_session
    view = FitView(s)
    params = s.models.parameters
    values = [p.value for p in params]
    for p in params:
        p.frozen = True
    try:
        view.fit_button.click()
        s.wait(30)
    finally:
        for p in params:
            p.frozen = p.name == "reference"
    assert "No free parameters" in s.error and "No free parameters" in view.banner.value
    assert [p.value for p in params] == values and not s.fitting
    s.error = ""


def test_parameter_change_redraws_the_fit_view(crab_session):
    s = crab_session
    view = FitView(s)
    view.flush()
    before = np.array(view.npred.y, copy=True)
    n = view.n_draws
    s.models["crab"].spectral_model.amplitude.value *= 1.5
    view.flush()
    assert view.n_draws > n
    np.testing.assert_allclose(np.asarray(view.npred.y) > np.asarray(before), True)
    # a burst of moves ends on the final value
    for a in np.linspace(2.0, 3.0, 40):
        s.models["crab"].spectral_model.alpha.value = a
    p = s.predictions()[view.dataset.value]
    expected = p.npred[p.mask & (p.npred > 0)]
    deadline = time.monotonic() + 10  # the coalesced redraw runs by itself (a timer outside a kernel)
    while time.monotonic() < deadline and not (len(view.npred.y) == len(expected)
                                               and np.allclose(view.npred.y, expected, rtol=1e-12)):
        time.sleep(0.02)
    np.testing.assert_allclose(view.npred.y, expected, rtol=1e-12)
    assert view._coalescer.pending is False


# ------------------------------------------------------------ spectrum / SED
def test_spectrum_view_sums_the_datasets(crab_session):
    view = SpectrumView(crab_session)
    ds = crab_session.datasets
    hess = [d for d in ds if d.name.startswith("hess") or len(d.counts) == 80]
    view.dataset.value = hess[0].name
    np.testing.assert_allclose(np.nan_to_num(view.counts.y[0::2]), hess[0].counts * hess[0].mask_safe)  # steps
    np.testing.assert_allclose(view.counts.x[0::2], hess[0].energy_edges[:-1])
    view.dataset.value = view.dataset.options[0]  # the sum of the datasets on the same binning
    assert f"counts {sum(d.counts[d.mask_safe].sum() for d in hess):.0f}" in view.info.value


def test_sed_view_band_is_the_core_sed_error(crab_session):
    s = crab_session
    s.fit(wait=True)
    assert s.fit_result is not None and s.fit_result.success, s.error
    view = SEDView(s)
    spectral = s.models["crab"].spectral_model
    assert spectral.covariance is not None  # attached by the fit
    mid, errn, errp = spectral.sed_error(view.energies * u.TeV, "e2dnde", method="linear").to_value("TeV cm-2 s-1")
    n = len(view.energies)
    np.testing.assert_allclose(view.band.y[:n], np.maximum(mid - errn, mid * 1e-3), rtol=1e-12)
    np.testing.assert_allclose(view.band.y[n:], (mid + errp)[::-1], rtol=1e-12)
    np.testing.assert_allclose(view.model_line.y, spectral.e2dnde(view.energies * u.TeV).to_value("TeV cm-2 s-1"))
    assert np.all(view.band.y[:n] < view.model_line.y) and np.all(view.band.y[n:][::-1] > view.model_line.y)
    assert "1σ band" in view.info.value
    # a model without a covariance (replaced after the fit): no band
    spectral.covariance = None
    view.redraw()
    assert len(view.band.x) == 0 and "no fit covariance" in view.info.value


def test_sed_view_draws_flux_points_table(crab_session):
    view = SEDView(crab_session)
    t = Table({"e_ref": [1.0, 3.0, 10.0] * u.TeV, "dnde": [3e-11, 2e-12, 1e-13] * u.Unit("cm-2 s-1 TeV-1"),
               "dnde_err": [1e-12, 1e-13, 3e-14] * u.Unit("cm-2 s-1 TeV-1"), "is_ul": [False, False, True]})
    view.set_flux_points(t)
    np.testing.assert_allclose(view.fp.y, [3e-11, 9 * 2e-12])
    # the upper limit is a downward arrow from its value: a stem down to UL × UL_ARROW and a head there,
    # no error bar and no point at the value
    np.testing.assert_allclose(view.fp_ul_stems.x[:2], [10.0, 10.0])
    np.testing.assert_allclose(view.fp_ul_stems.y[:2], [100 * 1e-13 * UL_ARROW, 100 * 1e-13])
    np.testing.assert_allclose(view.fp_ul.y, [100 * 1e-13 * UL_ARROW])
    assert view.fp_ul.marker == "triangle-down" and 10.0 not in list(view.fp.x)
    e, e2, err, ul = flux_points_arrays(Table({"e_ref": [2.0] * u.GeV * 1000, "e2dnde": [1e-12] * u.Unit("erg cm-2 s-1"),
                                               "e2dnde_err": [1e-13] * u.Unit("erg cm-2 s-1")}))
    assert e[0] == pytest.approx(2.0) and e2[0] == pytest.approx((1e-12 * u.erg).to_value(u.TeV))
    with pytest.raises(GwidgetsError, match="'dnde' or 'e2dnde'"):
        flux_points_arrays(Table({"e_ref": [1.0], "flux": [1.0]}))
    assert math.isfinite(view.model_line.y[0])


def test_dashboard_composes_fit_spectrum_and_sed_views(hess_session):
    from gwidgets.app import Dashboard
    from gwidgets.widgets import FitView as FV

    s = hess_session
    s.set_dataset_mode("joint")  # per-run datasets: the spectrum view offers their sum first
    s.select([23523, 23526])
    s.set_on_region(CircleSkyRegion(CRAB, 0.11 * u.deg))
    board = Dashboard(session=s)
    assert isinstance(board.fit_view, FV) and isinstance(board.spectrum, SpectrumView) and isinstance(board.sed, SEDView)
    s.compute("datasets")
    assert list(board.fit_view.dataset.options) == s.datasets.names
    assert board.spectrum.dataset.options[0] == "all datasets (sum)"
    assert f"counts {sum(d.counts[d.mask_safe].sum() for d in s.datasets):.0f}" in board.spectrum.info.value
    # a fit error from the page goes to the StatusBar, the model stays
    spectral = s.models["crab"].spectral_model
    alpha, frozen = spectral.alpha.value, [p.frozen for p in spectral.parameters]
    for p in spectral.parameters:
        p.frozen = True
    try:
        board.fit_view.run_fit()
    finally:
        for p, f in zip(spectral.parameters, frozen):
            p.frozen = f
    assert "No free parameters" in s.error and "No free parameters" in board.status.banner.value
    assert board.fit_view.banner is None  # shown once, by the StatusBar
    assert spectral.alpha.value == alpha and [p.frozen for p in spectral.parameters] == frozen
    s.error = ""


def test_fit_of_a_sky_model_holds_its_position(hess_session):
    """1D spectra do not constrain lon_0 / lat_0: the fit holds them, and equals the spectral-only core fit."""
    from gwidgets.core.models import Models, PointSpatialModel

    s = hess_session
    s.select([23523, 23526])
    s.set_on_region(CircleSkyRegion(CRAB, 0.11 * u.deg))
    sky = SkyModel(_model().spectral_model, PointSpatialModel.from_position(CRAB), name="crab")
    s.set_models(Models([sky]))
    result = s.fit()
    assert result is not None and result.success, s.error
    lon = sky.spatial_model.lon_0
    assert lon.value == pytest.approx(CRAB.ra.deg) and not lon.frozen
    ref_sets = Datasets([d.copy() for d in s.datasets])
    ref_sets.models = _model()
    ref = Fit().run(ref_sets)
    for name in ("amplitude", "alpha", "beta"):
        assert result.parameters[name].value == pytest.approx(ref.parameters[name].value, rel=1e-6), name
    s.set_models([_model()])


def test_light_curve_view_draws_a_gadf_table():
    from astropy.time import Time

    from gwidgets.widgets import LightCurveView
    from gwidgets.widgets.light_curve_view import light_curve_arrays

    t = Table({"time_min": Time([55000.0, 55001.0, 55002.0], format="mjd"),
               "time_max": Time([55001.0, 55002.0, 55004.0], format="mjd"),
               "flux": [[2e-11], [3e-11], [1e-11]] * u.Unit("cm-2 s-1"),
               "flux_err": [[2e-12], [3e-12], [1e-12]] * u.Unit("cm-2 s-1"), "is_ul": [[False], [False], [True]]})
    view = LightCurveView()
    view.set_table(t)
    np.testing.assert_allclose(view.points.x, [55000.5, 55001.5])
    np.testing.assert_allclose(view.points.y, [2e-11, 3e-11])
    np.testing.assert_allclose(view.uls.x, [55003.0])
    np.testing.assert_allclose(view.uls.y, [1e-11])  # no flux_ul column: at the value
    t["flux_ul"] = [[2.4e-11], [3.4e-11], [2.5e-11]] * u.Unit("cm-2 s-1")
    view.set_table(t)
    np.testing.assert_allclose(view.uls.y, [2.5e-11])  # at the UL value
    np.testing.assert_allclose(view.points.y, [2e-11, 3e-11])
    assert "2 points, 1 upper limits" in view.info.value and view.figure.y_label.startswith("flux [")
    t2, half, *_ = light_curve_arrays(Table({"time_min": [1.0], "time_max": [3.0], "norm": [1.2]}))
    assert t2[0] == 2.0 and half[0] == 1.0
    with pytest.raises(GwidgetsError, match="one of"):
        light_curve_arrays(Table({"time_min": [1.0], "time_max": [2.0], "counts": [3]}))


def test_profile_plot_after_a_fit(crab_session, data_dir):
    s = crab_session
    s.fit_throttle = 1 / 30
    view = FitView(s)
    s.fit(wait=True)
    assert s.fit_result is not None and s.fit_result.success, s.error
    assert not view.profile_button.disabled
    labels = dict(view.profile_parameter.options)
    assert set(labels) == {"amplitude", "alpha", "beta"}  # the free parameters
    view.profile_parameter.value = labels["beta"]
    values = [p.value for p in s.models.parameters]
    view.profile_button.click()
    s.wait(60)
    assert s.error == "" and s.profile_result["parameter"] == "beta"
    assert [p.value for p in s.models.parameters] == values  # computed on a copy: the model did not move
    # the core profile on fresh copies of the data with the fitted model
    ref_sets = _joint_crab(data_dir)
    ref_sets.models = s.models.copy()
    ref = Fit().stat_profile(ref_sets, "beta", n=21, n_sigma=3.0)
    delta = ref["stat_scan"] - ref["stat_scan"].min()
    np.testing.assert_allclose(view.profile_line.x, ref["values"], rtol=1e-12)
    np.testing.assert_allclose(view.profile_line.y, delta, rtol=1e-8, atol=1e-8)
    # at ±1σ (the fit's error) of one parameter, others fixed: Δstat = 1 / (1 − ρ²) ≥ 1 (quadratic approximation)
    beta = s.models.parameters["beta"]
    prof = s.stat_profile("beta", values=[beta.value - beta.error, beta.value, beta.value + beta.error], wait=True)
    corr = np.asarray(s.fit_result.covariance.correlation)
    names = list(s.fit_result.covariance.names)
    i = names.index("beta")
    rho2 = np.linalg.inv(corr)[i, i]  # 1 / (1 − R²) of beta on the others
    np.testing.assert_allclose(prof["delta_stat"][[0, 2]], rho2, rtol=0.1)
    assert view.profile_figure.layout.display == "" and "profile of beta" in view.profile_info.value
