"""Widgets driven headless through their traits (no browser): browser ↔ session ↔ sky view."""
from __future__ import annotations

import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord

from gwidgets.core.data import DataStore
from gwidgets.core.reduction.reflected import ReflectedRegionsFinder
from gwidgets.state import AnalysisSession
from gwidgets.widgets import ObservationBrowser, SkyView, StatusBar

CRAB = SkyCoord(83.633, 22.014, unit="deg")


@pytest.fixture
def session(stores):
    s = AnalysisSession(DataStore.from_dir(stores["hess-dr1"]), background=True)
    yield s
    s.close()


def test_browser_filters_and_selects(session):
    b = ObservationBrowser(session)
    table = session.store.obs_table
    assert len(b.listing.options) == len(table)
    b.target.value = "crab"
    assert sorted(b.shown_ids()) == sorted(table.select_object("crab").obs_ids)
    b.select_shown.click()
    assert session.selection == sorted(table.select_object("crab").obs_ids)
    assert "<b>4</b> selected" in b.summary.value
    # zenith filter hides rows but keeps the hidden selection
    b.target.value = ""
    b.zenith.value = (0, 30)
    shown = set(b.shown_ids())
    assert shown == set(table.select_zenith(0 * u.deg, 30.0001 * u.deg).obs_ids)
    b.listing.value = tuple(list(b.listing.value)[:1]) if b.listing.value else (b.shown_ids()[0],)
    hidden = [oid for oid in table.select_object("crab").obs_ids if oid not in shown]
    assert set(hidden) <= set(session.selection)
    b.clear.click()
    assert session.selection == [] and b.listing.value == ()


def test_sky_view_draws_on_region_and_off_regions(session):
    session.required_irf = "point-like"
    sky = SkyView(session)
    status = StatusBar(session)
    session.select([23523, 23526])
    session.wait(60)
    assert session.counts_map is not None and sky.figure.image[:4] == b"\x89PNG"
    sky.mode.value = "draw ON"
    x, y = sky._to_xy(CRAB)
    sky.draw_circle(float(x), float(y), 0.11)
    session.wait(60)
    assert session.on_region.center.separation(CRAB) < 0.001 * u.deg
    expected = ReflectedRegionsFinder().run(session.on_region, session.store.obs(23523).pointing_radec)
    assert len(session.off_regions[23523].regions) == len(expected.regions)
    # one NaN-terminated polyline per OFF region
    assert np.isnan(sky.off_lines.x).sum() == sum(len(r.regions) for r in session.off_regions.values())
    # dragging the ON handle in the page (the message the page sends on release) moves the region, the OFF
    # regions follow
    before = [r.center for r in session.off_regions[23523].regions]
    sky.figure.dispatch({"event": "drag", "mark": sky.figure.marks.index(sky.handle), "index": 0, "final": True,
                         "x": float(x), "y": float(y) + 0.1})
    session.wait(60)
    assert abs(session.on_region.center.dec.deg - (CRAB.dec.deg + 0.1)) < 0.01
    after = [r.center for r in session.off_regions[23523].regions]
    assert before[0].separation(after[0]) > 0.01 * u.deg
    # resizing through the radius box
    sky.radius.value = 0.2
    assert session.on_region.radius.to_value("deg") == pytest.approx(0.2)
    # an exclusion region drawn by mouse
    sky.mode.value = "draw exclusion"
    off0 = session.off_regions[23523].regions[0]
    ox, oy = sky._to_xy(off0.center)
    sky.draw_circle(float(ox), float(oy), 0.3)
    session.wait(60)
    assert len(session.exclusion_regions) == 1
    assert len(session.off_regions[23523].regions) < len(after)
    # an invalid selection shows an error in the page and keeps the selection
    sel = list(session.selection)
    with session.capture_errors():
        session.select([42])
    assert "42" in status.banner.value and session.selection == sel


def test_closing_the_dashboard_stops_every_view(session):
    from gwidgets.app import Dashboard
    from gwidgets.widgets import SessionView

    board = Dashboard(session=session, aladin=False)
    spectrum = board.spectrum  # a lazy tab, built
    views = [board.status, board.browser, board.models, board.fit_view, spectrum]
    assert all(isinstance(v, SessionView) and v.watching(session) for v in views)
    summary = board.browser.summary.value
    board.close()
    assert not any(v.watching(session) for v in views)
    assert board.comm is None and board.browser.listing.comm is None and board.models.rows[0].slider.comm is None
    session.select(session.store.obs_ids[:2])  # the session goes on; the closed views are not called
    session.wait()
    assert board.browser.summary.value == summary and session.selection == list(session.store.obs_ids[:2])
