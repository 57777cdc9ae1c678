"""The dashboard's first look (issue 12, part 4): the default dashboard opens with the analysis done.

References: the simulation's truth (``truth.yaml`` next to the example store: source
positions, spectra, fluxes), gammapy 2.1's PSF containment radius on the same files, the
Crab's published position for a real store's target, and the pointings for the sky axes.
"""
from __future__ import annotations

import time

import numpy as np
import astropy.units as u
import pytest
from astropy.coordinates import SkyCoord

from gwidgets.app import Dashboard
from gwidgets.app.cli_dashboard import dashboard_notebook
from gwidgets.app.first_look import apply_first_look, find_target, plan_first_look, truth_path
from gwidgets.core.models import Models
from gwidgets.core.simulate.example import example_store, example_store_path
from gwidgets.errors import GwidgetsError
from gwidgets.state import AnalysisSession
from gwidgets.widgets.sky_view import SkyView

#: the Crab Nebula (SIMBAD, ICRS)
CRAB = SkyCoord(83.63308, 22.01450, unit="deg")


@pytest.fixture(scope="module")
def store():
    return example_store()


@pytest.fixture(scope="module")
def truth():
    return Models.read(example_store_path() / "truth.yaml")


@pytest.fixture(scope="module")
def dashboard(store):
    """The first-look dashboard on the example store, computed synchronously."""
    return Dashboard(session=AnalysisSession(store, background=False), first_look=True)


def _brightest(truth) -> str:
    """The truth component with the largest photon flux above 1 TeV (components of one source summed)."""
    flux = {}
    for m in truth:
        name = m.name.split("-")[0]  # "variable-flare" is the flare of "variable"
        f = m.spectral_model.integral(1 * u.TeV, 100 * u.TeV).to_value("cm-2 s-1")
        flux[name] = flux.get(name, 0.0) + float(f)
    return max(flux, key=flux.get)


def _pointings(store):
    p = store.obs_table.pointing_radec
    return p.ra.deg, p.dec.deg


def test_selection_on_region_and_off_regions(dashboard, store, truth):
    s = dashboard.session
    assert s.selection == sorted(int(i) for i in store.obs_ids)
    name = _brightest(truth)
    assert name == "bright" == dashboard.first_look.target_name
    spatial = truth[name].spatial_model
    source = SkyCoord(spatial.lon_0.value, spatial.lat_0.value, unit="deg")
    assert s.on_region.center.separation(source).deg < 0.01
    assert set(s.off_regions) == set(s.selection)
    assert all(len(res.regions) >= 1 for res in s.off_regions.values())
    # the OFF regions do not overlap the ON region
    for res in s.off_regions.values():
        for off in res.regions:
            assert off.center.separation(s.on_region.center) > off.radius + s.on_region.radius


def test_on_radius_is_the_psf_containment_of_gammapy(dashboard, store):
    """0.68 containment at 1 TeV at the target's offset, gammapy 2.1 on the same PSF file."""
    gammapy_data = pytest.importorskip("gammapy.data")
    obs = gammapy_data.DataStore.from_dir(example_store_path()).obs(store.obs_ids[0])
    offset = obs.get_pointing_icrs(obs.tmid).separation(dashboard.session.on_region.center)
    ref = obs.psf.containment_radius(fraction=0.68, energy_true=1 * u.TeV, offset=offset).to_value("deg")
    radius = dashboard.session.on_region.radius.to_value("deg")
    assert dashboard.first_look.radius_from == "PSF"
    assert radius == pytest.approx(round(float(np.squeeze(ref)), 2), abs=1e-9)
    assert dashboard.sky.radius.value == pytest.approx(radius)  # the radius box shows it


def test_fit_recovers_the_truth(dashboard, truth):
    s = dashboard.session
    result = s.fit_result
    assert result is not None and result.success, s.error
    fitted = s.models[0].spectral_model
    true = truth["bright"].spectral_model
    for name in ("amplitude", "alpha"):
        p = fitted.parameters[name]
        assert p.error > 0
        assert abs(p.value - true.parameters[name].value) < 3 * p.error, (name, p.value, p.error)


def test_views_are_filled(dashboard):
    s = dashboard.session
    assert s.counts_map is not None and s.counts_map.data.sum() > 1000
    dashboard.fit_view.flush()
    assert dashboard.fit_view.n_draws >= 1 and "✔" in dashboard.fit_view.covariance.value
    assert "1σ band" in dashboard.sed.info.value
    fp = s.flux_points_result
    assert fp is not None
    table = fp.to_table("e2dnde")
    assert np.isfinite(np.asarray(table["e2dnde"])[~np.asarray(table["is_ul"], bool)]).sum() >= 4
    # the fit stacks the 20 runs (the default: a joint fit of low-count runs biases the curvature)
    assert s.dataset_mode == "stacked" and s.datasets.names == ["stacked"]
    assert dashboard.spectrum.info.value.startswith("stacked: 1 dataset(s)")
    n_runs = sum(d.counts[d.mask_safe].sum() for d in s.compute("reduced"))
    assert f"counts {n_runs:.0f}" in dashboard.spectrum.info.value  # the stack holds every run's safe counts
    assert s.error == ""


def test_sky_axes_fit_the_pointings_before_and_after_the_map(store):
    ra, dec = _pointings(store)
    session = AnalysisSession(store, background=False)
    apply_first_look(session)  # inputs only: no counts map yet
    assert session.counts_map is None
    sky = SkyView(session)
    extents = {"before the map": (sky.sx.min, sky.sx.max, sky.sy.min, sky.sy.max)}
    session.refresh()
    assert session.counts_map is not None
    extents["map"] = (sky.sx.min, sky.sx.max, sky.sy.min, sky.sy.max)
    for when, (x0, x1, y0, y1) in extents.items():
        assert x0 < ra.min() and x1 > ra.max() and y0 < dec.min() and y1 > dec.max(), (when, x0, x1, y0, y1)
        assert x1 - x0 < 20 and y1 - y0 < 20, (when, x0, x1)  # not RA 0–86°
    # once the map exists the axes are its extent: 5° wide around the ON region
    x0, x1, y0, y1 = extents["map"]
    assert x1 - x0 == pytest.approx(session.map_settings["width"], rel=0.02)
    assert (x0 + x1) / 2 == pytest.approx(session.on_region.center.ra.deg, abs=0.05)


def test_sky_axes_without_a_selection_fit_all_pointings(store):
    """The plain dashboard (no first look): nothing selected, the axes still hold every pointing."""
    ra, dec = _pointings(store)
    sky = SkyView(AnalysisSession(store, background=False))
    assert sky.sx.min < ra.min() < ra.max() < sky.sx.max
    assert sky.sy.min < dec.min() < dec.max() < sky.sy.max
    assert sky.sx.max - sky.sx.min < 5


def test_banner(dashboard):
    text = dashboard.banner.value
    assert dashboard.children[1] is dashboard.banner
    for part in ("Simulated data", "20 observations", "bright", "0.11°", "LogParabola", "ON region on the sky map",
                 "Fit"):
        assert part in text, part


def test_background_session_computes_in_the_worker(store):
    """The dashboard's own path: the worker computes after the widgets are built, the views follow."""
    session = AnalysisSession(store, background=True)
    try:
        dash = Dashboard(session=session, first_look=True)
        assert session.selection and session.on_region is not None  # set before the views were built
        deadline = time.monotonic() + 120
        while session.flux_points_result is None and not session.error and time.monotonic() < deadline:
            time.sleep(0.1)
        assert session.error == ""
        assert session.fit_result is not None and session.fit_result.success
        assert dash.sky._geom is not None  # the counts map reached the sky view
    finally:
        session.close()


def test_no_first_look_without_the_option(store):
    dash = Dashboard(session=AnalysisSession(store, background=False))
    assert dash.first_look is None and dash.banner is None
    assert dash.session.selection == [] and dash.session.on_region is None


def test_cli_notebook_uses_the_first_look_only_without_path():
    code = dashboard_notebook().cells[1].source
    assert "first_look=not path" in code


def test_target_of_a_real_store_is_its_object(stores):
    """No truth.yaml: the observations' OBJECT at RA_OBJ / DEC_OBJ (joint-crab H.E.S.S.: the Crab)."""
    from gwidgets.core.data import DataStore

    store = DataStore.from_dir(stores["jc-hess"])
    assert truth_path(store) is None
    position, name, finder = find_target(store)
    assert finder == "obs_table" and "Crab" in name
    assert position.separation(CRAB).deg < 0.01
    look = plan_first_look(AnalysisSession(store, background=False))
    assert not look.simulated and 0.05 <= look.radius.to_value("deg") <= 0.3


def test_a_session_without_store_is_refused():
    session = AnalysisSession(None, background=False)
    with pytest.raises(GwidgetsError, match="needs a data store"):
        plan_first_look(session)


def test_start_policy(monkeypatch):
    from gwidgets.app.first_look import start_when

    monkeypatch.setenv("VOILA_PREHEAT", "False")  # a Voilà kernel started for a waiting page
    assert start_when("auto") == "shown"
    monkeypatch.setenv("VOILA_PREHEAT", "True")  # pre-heated: nobody waits yet
    assert start_when("auto") == "now"
    monkeypatch.delenv("VOILA_PREHEAT")  # a notebook or a script
    assert start_when("auto") == "now" and start_when("shown") == "shown"
    with pytest.raises(GwidgetsError, match="Unknown first-look start 'later'"):
        start_when("later")


def test_shown_waits_for_the_browser_view(store):
    """``first_look_start="shown"``: nothing computed until the browser reports a view of the tabs."""
    session = AnalysisSession(store, background=False)
    dash = Dashboard(session=session, first_look=True, first_look_start="shown")
    assert dash.first_look_started == "shown"
    assert session.counts_map is None and session.fit_result is None
    assert dash.tabs._view_count == 0  # the browser is asked to count its views
    dash.tabs._view_count = 1  # what the browser's widget manager sends once the tabs are displayed
    assert session.fit_result is not None and session.fit_result.success
    first = session.fit_result
    dash.tabs._view_count = 2  # a second view (another page) does not fit again
    assert session.fit_result is first


def test_shown_starts_anyway_without_a_browser(store):
    from gwidgets.app.first_look import apply_first_look, start_first_look
    import ipywidgets as w

    session = AnalysisSession(store, background=False)
    apply_first_look(session)
    assert start_first_look(session, w.HTML(), "shown", fallback=0.2) == "shown"
    deadline = time.monotonic() + 60
    while session.fit_result is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert session.fit_result is not None and session.fit_result.success
