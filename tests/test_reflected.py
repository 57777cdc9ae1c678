"""Reflected OFF regions against gammapy 2.1's ReflectedRegionsFinder on the same inputs."""
from __future__ import annotations

import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion, EllipseSkyRegion, RectangleSkyRegion

from gwidgets.core.geom import Map, WcsGeom
from gwidgets.core.reduction.reflected import ReflectedRegionsFinder

gmakers = pytest.importorskip("gammapy.makers")
gmaps = pytest.importorskip("gammapy.maps")

CRAB = SkyCoord(83.633, 22.014, unit="deg")


def _compare(on, pointing, mask=None, gmask=None):
    ours = ReflectedRegionsFinder().run(on, pointing, exclusion_mask=mask)
    theirs, _ = gmakers.ReflectedRegionsFinder().run(on, pointing, exclusion_mask=gmask)
    assert len(ours.regions) == len(theirs)
    for a, b in zip(ours.regions, theirs):
        assert a.center.separation(b.center) < 1e-6 * u.deg
    return ours


CASES = [(o, s) for o in (0.5, 1.5) for s in ("circle", "ellipse", "rectangle")]


@pytest.mark.parametrize("offset,shape", CASES)
def test_same_regions_as_gammapy(offset, shape):
    pointing = SkyCoord(83.633, 22.014 - offset, unit="deg")
    on = {
        "circle": CircleSkyRegion(CRAB, 0.11 * u.deg),
        "ellipse": EllipseSkyRegion(CRAB, 0.3 * u.deg, 0.1 * u.deg, 30 * u.deg),
        "rectangle": RectangleSkyRegion(CRAB, 0.3 * u.deg, 0.2 * u.deg, 10 * u.deg),
    }[shape]
    _compare(on, pointing)


def test_far_off_axis_dr1_run_28981(stores):
    """H.E.S.S. DR1 run 28981: target (1ES 0414+009) 7.5° from the pointing: same OFF regions as gammapy, fast, small."""
    import time
    import tracemalloc

    from gwidgets.core.data import DataStore

    obs = DataStore.from_dir(stores["hess-dr1"]).obs(28981)
    target, pointing = obs.target_radec, obs.pointing_radec
    assert 7.4 < target.separation(pointing).deg < 7.6
    on = CircleSkyRegion(target, 0.11 * u.deg)
    tracemalloc.start()
    t0 = time.perf_counter()
    ours = ReflectedRegionsFinder().run(on, pointing)
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 2.0 and peak < 50 * 2**20, (elapsed, peak / 2**20)
    theirs, _ = gmakers.ReflectedRegionsFinder().run(on, pointing)  # gammapy: ~8 s, a 3000² pixel mask
    assert len(ours.regions) == len(theirs) == 217
    for a, b in zip(ours.regions, theirs):
        assert a.center.separation(b.center) < 1e-6 * u.deg


def test_exclusion_mask_matches_gammapy():
    pointing = SkyCoord(83.633, 22.014 - 0.7, unit="deg")
    on = CircleSkyRegion(CRAB, 0.11 * u.deg)
    excl = CircleSkyRegion(SkyCoord(83.0, 21.5, unit="deg"), 0.3 * u.deg)
    geom = WcsGeom.create(pointing, binsz=0.02, width=4 * u.deg)
    mask = Map(geom, ~geom.region_mask([excl]))
    ggeom = gmaps.WcsGeom.create(skydir=pointing, binsz=0.02, width=4)
    gmask = ~ggeom.region_mask([excl])
    np.testing.assert_array_equal(mask.data, gmask.data)
    result = _compare(on, pointing, mask, gmask)
    free = ReflectedRegionsFinder().run(on, pointing)
    assert 0 < len(result.regions) < len(free.regions)
    for r in result.regions:
        assert r.center.separation(excl.center) > excl.radius + r.radius * 0.9


def test_target_at_pointing_gives_explicit_empty_result():
    on = CircleSkyRegion(CRAB, 0.11 * u.deg)
    result = ReflectedRegionsFinder().run(on, CRAB)
    assert len(result) == 0 and "inside the ON region" in result.reason


def test_fully_excluded_ring_reports_reason():
    pointing = SkyCoord(83.633, 21.514, unit="deg")
    geom = WcsGeom.create(pointing, binsz=0.02, width=3 * u.deg)
    mask = Map(geom, np.zeros(geom.data_shape, dtype=bool))  # everything excluded
    result = ReflectedRegionsFinder().run(CircleSkyRegion(CRAB, 0.11 * u.deg), pointing, exclusion_mask=mask)
    assert len(result) == 0 and "exclusion mask" in result.reason
