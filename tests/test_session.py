"""AnalysisSession: staleness graph, background worker, errors keep the user's state."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

from gwidgets.core.data import DataStore
from gwidgets.core.geom import Map
from gwidgets.core.progress import Cancelled
from gwidgets.errors import GwidgetsError, ObservationNotFoundError
from gwidgets.state import AnalysisSession, Graph, Worker

CRAB = SkyCoord(83.633, 22.014, unit="deg")


def test_graph_recomputes_only_what_changed():
    g = Graph()
    g.add_input("a", 1)
    g.add_input("b", 10)
    g.add_derived("a2", ["a"], lambda a: a * 2)
    g.add_derived("sum", ["a2", "b"], lambda a2, b: a2 + b)
    assert g.get("sum") == 12
    g.set("b", 20)
    assert g.is_stale("sum") and not g.is_stale("a2")
    assert g.get("sum") == 22
    assert g.n_computed("a2") == 1 and g.n_computed("sum") == 2
    assert g.is_input("b") and not g.is_input("sum") and g.n_computed("b") == 0
    with pytest.raises(GwidgetsError, match="Unknown node 'nope'"):
        g.is_input("nope")
    g.add_derived("bad", ["a"], lambda a: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        g.get("bad")
    with pytest.raises(GwidgetsError, match="unknown node"):
        g.add_derived("x", ["nope"], lambda n: n)


def test_worker_latest_wins():
    done = []
    w = Worker(on_done=lambda kind, v: done.append(v))
    started = threading.Event()

    def slow(token, value):
        started.set()
        for _ in range(200):
            token.raise_if_cancelled()
            time.sleep(0.002)
        return value

    w.submit("fit", lambda t: slow(t, 1))
    started.wait(2)
    for v in range(2, 6):
        w.submit("fit", lambda t, v=v: slow(t, v))
    w.wait(10)
    assert done == [5]
    w.shutdown()


@pytest.fixture(scope="module")
def hess_store(stores):
    return DataStore.from_dir(stores["jc-hess"])


def test_session_counts_map_matches_direct_fill(hess_store):
    s = AnalysisSession(hess_store, background=False)
    s.required_irf = "point-like"
    s.select([23523, 23526])
    s.set_on_region(CircleSkyRegion(CRAB, 0.11 * u.deg))
    s.update_map_settings(width=2.0, binsz=0.05)
    counts = s.compute("counts_map")
    direct = Map.from_geom(counts.geom)
    for oid in (23523, 23526):
        ev = hess_store.obs(oid).events.select_energy(0.3 * u.TeV, 100 * u.TeV)
        direct.fill_events(ev)
    np.testing.assert_array_equal(counts.data, direct.data)
    assert s.counts_map is counts
    # moving the ON region re-centres the map; selection-derived observations are reused
    n_obs = s.graph.n_computed("observations")
    s.set_on_region(CircleSkyRegion(SkyCoord(83.9, 22.0, unit="deg"), 0.11 * u.deg))
    assert s.graph.is_stale("counts_map") and not s.graph.is_stale("observations")
    s.compute("counts_map")
    assert s.graph.n_computed("observations") == n_obs


def test_session_background_and_errors(hess_store):
    s = AnalysisSession(hess_store, background=True)
    s.required_irf = "point-like"
    s.update_map_settings(width=1.0, binsz=0.1)
    s.select([23523])
    s.wait(30)
    assert s.counts_map is not None and s.counts_map.data.sum() > 0
    before = list(s.selection)
    with pytest.raises(ObservationNotFoundError):
        s.select([1, 2, 3])
    assert s.selection == before  # the user's selection is kept
    with s.capture_errors():
        s.update_map_settings(colour="red")
    assert "Unknown map setting" in s.error
    s.selection = []  # an empty selection: nothing is computed in the background, no error shown
    s.wait(30)
    assert s.error == ""
    with pytest.raises(GwidgetsError, match="No observations selected"):
        s.compute("counts_map")  # asking for a result explicitly gives a readable error
    assert "No observations selected" in s.error
    s.close()


def test_off_regions_follow_on_region_and_regions_round_trip(hess_store, tmp_path):
    from gwidgets.core.reduction.reflected import ReflectedRegionsFinder

    s = AnalysisSession(hess_store, background=False)
    s.required_irf = "point-like"
    s.select([23523, 23526])
    on = CircleSkyRegion(CRAB, 0.11 * u.deg)
    s.set_on_region(on)
    off = s.compute("off_regions")
    direct = ReflectedRegionsFinder().run(on, hess_store.obs(23523).pointing_radec)
    assert len(off[23523].regions) == len(direct.regions) > 0
    # an exclusion region covering part of the ring removes OFF regions
    s.update_map_settings(width=3.0)
    s.add_exclusion(CircleSkyRegion(direct.regions[0].center, 0.2 * u.deg))
    off2 = s.compute("off_regions")
    assert len(off2[23523].regions) < len(direct.regions)
    path = tmp_path / "regions.reg"
    s.save_regions(path)
    s2 = AnalysisSession(hess_store, background=False)
    s2.load_regions(path)
    assert s2.on_region.center.separation(on.center) < 1e-6 * u.deg
    assert len(s2.exclusion_regions) == 1
    bad = tmp_path / "bad.reg"
    bad.write_text("this is not ds9 ((((")
    with pytest.warns(UserWarning), pytest.raises(GwidgetsError, match="No sky regions in '.*bad.reg'"):
        s2.load_regions(bad)
    assert s2.on_region is not None and len(s2.exclusion_regions) == 1  # kept after the failed load


def test_models_parameter_changes_are_observed(hess_store):
    from gwidgets.core.models import LogParabola, Models, SkyModel

    s = AnalysisSession(hess_store, background=False)
    s.graph.add_derived("flux_1tev", ["models"], lambda m: m["crab"].spectral_model(1 * u.TeV).value)
    s.set_models([SkyModel(LogParabola(amplitude="3e-11 cm-2 s-1 TeV-1", reference="1 TeV"), name="crab")])
    v0 = s.model_version
    f0 = s.graph.get("flux_1tev")
    s.models["crab"].spectral_model.amplitude.value = 6e-11
    assert s.model_version == v0 + 1 and s.graph.is_stale("flux_1tev")
    assert s.graph.get("flux_1tev") == pytest.approx(2 * f0)
    old = s.models
    s.set_models(Models([SkyModel(LogParabola(), name="other")]))
    assert s.model_version == v0 + 2
    old["crab"].spectral_model.alpha.value = 3.0  # the old models are no longer watched
    assert s.model_version == v0 + 2


def test_moving_the_on_region_re_extracts_spectra_only(hess_store):
    s = AnalysisSession(hess_store, background=False)
    s.required_irf = "point-like"
    s.select([23523, 23526])
    s.set_on_region(CircleSkyRegion(CRAB, 0.11 * u.deg))
    spectra = s.compute("spectra")
    assert [r.obs_id for r in spectra] == [23523, 23526] and all(r.ok for r in spectra)
    n_on = sum(r.n_on for r in spectra)
    counts_runs = s.graph.n_computed("counts_map")
    s.set_on_region(CircleSkyRegion(SkyCoord(83.633, 22.3, unit="deg"), 0.11 * u.deg))
    moved = s.compute("spectra")
    assert sum(r.n_on for r in moved) < n_on  # off the Crab: fewer ON counts
    assert s.graph.n_computed("counts_map") == counts_runs  # the sky map was not recomputed
    assert s.graph.n_computed("observations") == 1


def test_traits_passed_to_the_constructor_are_applied(hess_store):
    """``AnalysisSession(store, required_irf=...)`` used to fail: the trait was observed before the graph existed."""
    settings = {"binsz": 0.1, "width": 1.0, "e_min": 0.3, "e_max": 100.0, "frame": "icrs"}
    s = AnalysisSession(hess_store, required_irf="point-like", map_settings=settings, background=False)
    assert s.required_irf == "point-like" and s.graph.peek("required_irf") == "point-like"
    assert s.graph.peek("map_settings") == settings
    s.select([23523])
    counts = s.compute("counts_map")  # point-like IRFs are found with the constructor's setting
    assert counts.geom.data_shape[-1] == 10 and counts.data.sum() > 0
    with pytest.raises(ObservationNotFoundError):
        AnalysisSession(hess_store, selection=[1], required_irf="point-like", background=False)
