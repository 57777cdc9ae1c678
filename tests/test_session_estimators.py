"""Session → estimators: flux points, light curve and likelihood profile computed in the worker.

References: the core estimators (`FluxPointsEstimator`, `LightCurveEstimator`,
`Fit.stat_profile`) run directly, in the same test, on fresh copies of the same
datasets with the fitted model; and the SEDView / LightCurveView arrays against
the result tables.
"""
from __future__ import annotations

import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

from gwidgets.core.data import DataStore
from gwidgets.core.datasets import Datasets, SpectrumDatasetOnOff
from gwidgets.core.estimators import FluxPointsEstimator, LightCurveEstimator, add_time_meta
from gwidgets.core.fit import Fit
from gwidgets.core.models import LogParabola, SkyModel
from gwidgets.state import AnalysisSession
from gwidgets.widgets import LightCurveView, SEDView

CRAB = SkyCoord(83.633, 22.014, unit="deg")
EDGES = np.geomspace(0.1, 30, 7) * u.TeV


def _model():
    return SkyModel(LogParabola(log_base=10, amplitude=3e-11, reference=1.0, alpha=2.5, beta=0.23), name="crab")


def _hess_ogip(data_dir):
    files = sorted((data_dir / "joint-crab" / "results" / "spectra" / "hess").glob("pha_*.fits"))
    if not files:
        pytest.skip("joint-crab H.E.S.S. OGIP spectra not available")
    return Datasets([SpectrumDatasetOnOff.read(f) for f in files])


@pytest.fixture(scope="module")
def fitted(data_dir):
    s = AnalysisSession.from_datasets(_hess_ogip(data_dir), models=[_model()], background=True)
    s.fit(wait=True)
    assert s.fit_result is not None and s.fit_result.success, s.error
    yield s
    s.close()


def _reference(data_dir, session):
    ref = _hess_ogip(data_dir)
    ref.models = session.models.copy()
    return ref


def test_session_flux_points_equal_the_estimator_run_directly(fitted, data_dir):
    s = fitted
    seen = []
    s.observe(lambda c: seen.append(c["new"]), "flux_points_result")
    values = [p.value for p in s.models.parameters]
    fp = s.flux_points(EDGES, wait=True)
    assert s.error == "" and seen and seen[-1] is fp is s.flux_points_result
    assert [p.value for p in s.models.parameters] == values  # the session's model did not move
    ref = FluxPointsEstimator(EDGES, source="crab", selection_optional=["errn-errp", "ul"]).run(_reference(data_dir, s))
    for col in ("norm", "norm_err", "norm_errn", "norm_errp", "norm_ul", "ts"):
        np.testing.assert_allclose(fp[col], ref[col], rtol=1e-9, equal_nan=True, err_msg=col)
    np.testing.assert_allclose(fp["e2dnde"].value, ref["e2dnde"].value, rtol=1e-9)
    # the SEDView draws them (button → session → trait → view)
    view = SEDView(s)
    view.flux_points_button.click()
    s.wait(60)
    table = s.flux_points_result.to_table("e2dnde")
    ul = np.asarray(table["is_ul"], bool)
    np.testing.assert_allclose(view.fp.y, table["e2dnde"].quantity.to_value("TeV cm-2 s-1")[~ul & (table["e2dnde"] > 0)])
    assert len(view.fp_ul.y) == ul.sum()
    assert "flux points" in view.fp_info.value


def test_flux_point_errors_are_shown_and_keep_the_old_result(fitted):
    s = fitted
    old = s.flux_points_result
    s.flux_points([300, 1000] * u.TeV, wait=True)  # no data up there
    assert "No data in the flux point energy range" in s.error
    assert s.flux_points_result is old
    s.error = ""


def test_profile_equals_the_core_profile_and_leaves_the_model(fitted, data_dir):
    s = fitted
    values = [p.value for p in s.models.parameters]
    prof = s.stat_profile("alpha", n=7, wait=True)
    assert s.error == "" and prof is s.profile_result and prof["parameter"] == "alpha"
    assert [p.value for p in s.models.parameters] == values
    ref_sets = _reference(data_dir, s)
    ref = Fit().stat_profile(ref_sets, "alpha", n=7, n_sigma=3.0)
    np.testing.assert_allclose(prof["values"], ref["values"], rtol=1e-12)
    np.testing.assert_allclose(prof["stat_scan"], ref["stat_scan"], rtol=1e-9)
    # after a fit the profile is lowest at the best-fit value (the middle of the scan)
    assert np.argmin(prof["stat_scan"]) == 3 and prof["delta_stat"][3] == 0


@pytest.fixture(scope="module")
def hess_runs(stores):
    s = AnalysisSession(DataStore.from_dir(stores["jc-hess"]), required_irf="point-like", background=False)
    s.select([23523, 23526, 23559, 23592])
    s.set_on_region(CircleSkyRegion(CRAB, 0.11 * u.deg))
    s.set_models([_model()])
    assert s.fit() is not None and s.fit_result.success, s.error
    yield s
    s.close()


def test_session_light_curve_equals_the_estimator_run_directly(hess_runs):
    s = hess_runs
    view = LightCurveView(s)
    view.light_curve_button.click()  # per observation, 1–100 TeV (synchronous session)
    lc = s.light_curve_result
    assert s.error == "" and lc is not None and len(lc.table) == 4
    # the light curve has one bin per observation, also when the fit stacks the runs (the default)
    ref_sets = Datasets([d.copy() for d in s.compute("reduced")])
    for d in ref_sets:
        add_time_meta(d, s.store.obs(int(d.name)))
    ref_sets.models = s.models.copy()
    ref = LightCurveEstimator(energy_edges=[1, 100] * u.TeV, source="crab", selection_optional=["ul"]).run(ref_sets)
    for col in ("norm", "norm_err", "norm_ul", "ts"):
        np.testing.assert_allclose(lc[col], ref[col], rtol=1e-9, equal_nan=True, err_msg=col)
    np.testing.assert_allclose(lc.time_min.mjd, ref.time_min.mjd)
    # the view draws the session's light curve
    flux = lc.to_table("flux")
    ok = ~np.asarray(flux["is_ul"], bool).reshape(len(flux), -1)[:, 0]
    np.testing.assert_allclose(view.points.y, np.asarray(flux["flux"].value).reshape(len(flux), -1)[ok, 0])
    assert "4 points" in view.info.value or "upper limits" in view.info.value


def test_light_curve_without_times_gives_a_clear_error(fitted):
    s = fitted
    if all(d.meta.get("time_start") is not None for d in s.datasets):
        pytest.skip("these OGIP files carry their time range")
    old = s.light_curve_result
    s.light_curve(wait=True)
    assert "has no time range" in s.error and s.light_curve_result is old
    s.error = ""
