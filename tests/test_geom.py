"""Geometry and maps against gammapy 2.1 (same inputs, same test)."""
from __future__ import annotations

import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord

from gwidgets.core.data import DataStore
from gwidgets.core.geom import Map, MapAxis, WcsGeom
from gwidgets.errors import GwidgetsError

gmaps = pytest.importorskip("gammapy.maps")

CRAB = SkyCoord(83.633, 22.014, unit="deg")


@pytest.mark.parametrize("frame,proj", [("icrs", "CAR"), ("icrs", "TAN"), ("galactic", "CAR"), ("galactic", "TAN")])
def test_geom_matches_gammapy(frame, proj):
    energy = MapAxis.from_energy_bounds(1 * u.TeV, 100 * u.TeV, nbin=4)
    ours = WcsGeom.create(CRAB, binsz=0.05, width=(2 * u.deg, 1.5 * u.deg), frame=frame, proj=proj, axes=[energy])
    theirs = gmaps.WcsGeom.create(
        skydir=CRAB, binsz=0.05, width=(2, 1.5), frame=frame, proj=proj,
        axes=[gmaps.MapAxis.from_energy_bounds(1, 100, 4, unit="TeV")],
    )
    assert ours.data_shape == theirs.data_shape
    assert ours.pixel_centers().separation(theirs.get_coord().skycoord[0]).max() < 1e-6 * u.deg
    np.testing.assert_allclose(ours.solid_angle().to_value("sr"), theirs.solid_angle()[0].to_value("sr"), rtol=1e-6)
    np.testing.assert_allclose(energy.center.to_value("TeV"), theirs.axes["energy"].center.to_value("TeV"), rtol=1e-12)


def test_map_io_round_trip_with_gammapy(tmp_path):
    energy = MapAxis.from_energy_bounds(0.5 * u.TeV, 50 * u.TeV, nbin=3, name="energy_true")
    geom = WcsGeom.create(CRAB, binsz=0.1, width=1 * u.deg, axes=[energy])
    rng = np.random.default_rng(1)
    ours = Map(geom, rng.random(geom.data_shape), "cm2 s")
    ours.write(tmp_path / "ours.fits")
    theirs = gmaps.Map.read(tmp_path / "ours.fits")
    assert theirs.geom.axes[0].name == "energy_true"
    np.testing.assert_allclose(theirs.geom.axes[0].edges.to_value("TeV"), energy.edges.to_value("TeV"), rtol=1e-12)
    np.testing.assert_allclose(theirs.data, ours.data.astype(np.float32))
    assert theirs.unit == u.Unit("cm2 s")
    theirs.write(tmp_path / "theirs.fits")
    back = Map.read(tmp_path / "theirs.fits")
    assert back.geom == geom
    np.testing.assert_array_equal(back.data, theirs.data)


def test_fill_events_matches_gammapy(stores):
    obs = DataStore.from_dir(stores["jc-hess"]).get_observations([23523], required_irf="point-like")[0]
    energy = MapAxis.from_energy_bounds(1 * u.TeV, 100 * u.TeV, nbin=10)
    geom = WcsGeom.create(CRAB, binsz=0.02, width=3 * u.deg, axes=[energy])
    counts = Map.from_geom(geom).fill_events(obs.events)

    from gammapy.data import DataStore as GDataStore

    gobs = GDataStore.from_dir(stores["jc-hess"]).obs(23523, required_irf="point-like")
    gmap = gmaps.Map.from_geom(gmaps.WcsGeom.create(
        skydir=CRAB, binsz=0.02, width=3, axes=[gmaps.MapAxis.from_energy_bounds(1, 100, 10, unit="TeV")]))
    gmap.fill_events(gobs.events)
    np.testing.assert_array_equal(counts.data, gmap.data)
    assert counts.data.sum() > 100


def test_region_mask_and_cutout():
    from regions import CircleSkyRegion

    geom = WcsGeom.create(CRAB, binsz=0.02, width=2 * u.deg)
    mask = geom.region_mask([CircleSkyRegion(CRAB, 0.3 * u.deg)])
    theirs = gmaps.WcsGeom.create(skydir=CRAB, binsz=0.02, width=2).region_mask([CircleSkyRegion(CRAB, 0.3 * u.deg)])
    np.testing.assert_array_equal(mask, theirs.data)
    sep = geom.separation(CRAB)
    assert mask.sum() == pytest.approx(np.sum(sep < 0.3 * u.deg), abs=8)  # pixel centres vs exact circle
    m = Map(geom, np.arange(np.prod(geom.data_shape), dtype=float).reshape(geom.data_shape))
    cut = m.cutout(CRAB, 0.2 * u.deg)
    assert cut.data.shape == (10, 10)
    # the cut-out pixel centres are the parent's pixel centres
    assert cut.geom.pixel_centers()[0, 0].separation(geom.pixel_centers()[45, 45]) < 1e-8 * u.deg
    assert cut.data[0, 0] == m.data[45, 45]


def test_axis_errors_and_indexing():
    ax = MapAxis.from_energy_bounds(1 * u.TeV, 10 * u.TeV, nbin=2, per_decade=True)
    assert ax.nbin == 2
    np.testing.assert_array_equal(ax.coord_to_idx([0.5, 1, 3.16, 9.99, 10, 11] * u.TeV), [-1, 0, 0, 1, 1, -1])
    assert ax.coord_to_idx(5000 * u.GeV) == 1
    with pytest.raises(GwidgetsError, match="increase"):
        MapAxis([1, 3, 2] * u.TeV)
    with pytest.raises(GwidgetsError, match="e_min < e_max"):
        MapAxis.from_energy_bounds(10 * u.TeV, 1 * u.TeV, 3)
    with pytest.raises(GwidgetsError, match="does not match"):
        Map(WcsGeom.create(CRAB, npix=3), np.zeros((2, 2)))
