"""DL3 → counts / exposure / IRF-background cubes, against gammapy's MapDatasetMaker on the same runs."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord

from gwidgets.core.data import DataStore
from gwidgets.core.geom import MapAxis, WcsGeom
from gwidgets.core.reduction.map_maker import MapMaker, integrate_loglog_edges, stack_cubes

gdata = pytest.importorskip("gammapy.data")
gmakers = pytest.importorskip("gammapy.makers")
gmaps = pytest.importorskip("gammapy.maps")
gds = pytest.importorskip("gammapy.datasets")

CRAB = SkyCoord(83.633, 22.014, unit="deg")
IDS = [23523, 23526, 23559, 23592]


def test_cubes_match_gammapy(stores):
    path = stores["hess-dr1"]
    obs = DataStore.from_dir(path).get_observations(IDS)
    geom = WcsGeom.create(CRAB, binsz=0.04, width=3 * u.deg, axes=[MapAxis.from_energy_bounds(1 * u.TeV, 100 * u.TeV, 10)])
    e_true = MapAxis.from_energy_bounds(0.5 * u.TeV, 200 * u.TeV, 20, name="energy_true")
    cubes = MapMaker(geom, e_true, bkg_integration="edges").run_many(obs)  # gammapy 2.1: bin edges only

    ggeom = gmaps.WcsGeom.create(skydir=CRAB, binsz=0.04, width=3, axes=[gmaps.MapAxis.from_energy_bounds(1, 100, 10, unit="TeV")])
    empty = gds.MapDataset.create(ggeom, energy_axis_true=gmaps.MapAxis.from_energy_bounds(0.5, 200, 20, unit="TeV", name="energy_true"))
    maker = gmakers.MapDatasetMaker(selection=["counts", "exposure", "background"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = [maker.run(empty.copy(), o) for o in gdata.DataStore.from_dir(path).get_observations(IDS)]
    for c, g in zip(cubes, theirs):
        np.testing.assert_array_equal(c.counts.data, g.counts.data)
        # exposure: LIVETIME keyword vs gammapy's GTI x DEADC (< 1e-4 apart); a few pixels near steep AEFF edges differ by up to 6e-4
        ge = g.exposure.quantity.to_value("m2 s")
        pos = ge > 0
        assert np.all(c.exposure.data[~pos] == 0)
        rel = np.abs(c.exposure.data[pos] - ge[pos]) / ge[pos]
        assert np.mean(rel < 1e-4) > 0.99 and rel.max() < 0.01  # ~0.15 % of pixels, at the lowest true energies, differ more (not yet understood)
        a, b = c.background.data, g.background.data
        # gammapy extrapolates log-values upwards next to empty high-energy BKG bins (values explode);
        # compare where gammapy's value is sane
        sane = (b > 0) & (b < 10 * np.median(b[b > 0]))
        assert sane.mean() > 0.75
        assert a[sane].sum() == pytest.approx(b[sane].sum(), rel=1e-4)
        close = np.abs(a[sane] - b[sane]) <= 1e-3 * b[sane]
        assert close.mean() > 0.99
    stacked = stack_cubes(cubes)
    assert stacked.counts.data.sum() == sum(c.counts.data.sum() for c in cubes)
    assert stacked.obs_ids == IDS


def test_loglog_integral_is_exact_for_power_laws():
    e = np.geomspace(1, 100, 11)
    y = 3.0 * e**-2.7
    exact = 3.0 / 1.7 * (e[:-1] ** -1.7 - e[1:] ** -1.7)
    np.testing.assert_allclose(integrate_loglog_edges(y, e), exact, rtol=1e-12)


def test_background_exact_integration_against_a_fine_grid(stores):
    """``bkg_integration="exact"`` (default) equals the integral of the BKG IRF on a fine energy grid (40 points per
    bin, log-log rule between points: the IRF interpolates log values linearly in log E, so a fine grid converges);
    gammapy's edge-only rule ("edges") misses the curvature inside wide bins by up to several % per bin."""
    from gwidgets.errors import GwidgetsError

    obs = DataStore.from_dir(stores["hess-dr1"]).get_observations([23523])[0]
    edges = np.geomspace(0.5, 50, 5)  # 2 bins per decade: wide bins
    geom = WcsGeom.create(CRAB, binsz=0.25, width=2 * u.deg, axes=[MapAxis.from_energy_edges(edges * u.TeV)])
    e_true = MapAxis.from_energy_bounds(0.5 * u.TeV, 200 * u.TeV, 4, name="energy_true")
    exact = MapMaker(geom, e_true).run(obs).background.data
    edge_only = MapMaker(geom, e_true, bkg_integration="edges").run(obs).background.data
    # reference: the IRF evaluated on 40 sub-bins per bin at each pixel's FoV coordinates (astropy's
    # RADEC-aligned offset frame of the pointing, as gammapy evaluates BKG_3D IRFs)
    off = geom.pixel_centers().transform_to(obs.pointing_radec.icrs.skyoffset_frame())
    lon, lat = off.lon.wrap_at(180 * u.deg).deg, off.lat.deg
    fine = np.geomspace(edges[0], edges[-1], 40 * (len(edges) - 1) + 1)
    rate = obs.bkg.evaluate(energy=fine[:, None, None] * u.TeV, fov_lon=lon[None] * u.deg, fov_lat=lat[None] * u.deg,
                            limit_extrapolation=True).to_value("s-1 TeV-1 sr-1")
    per_sub = integrate_loglog_edges(rate, fine[:, None, None])
    ref = per_sub.reshape(len(edges) - 1, 40, *lon.shape).sum(axis=1)
    ref = ref * geom.solid_angle().to_value("sr")[None] * obs.gti.time_sum.to_value("s")
    np.testing.assert_allclose(exact, ref, rtol=2e-3)
    assert np.max(np.abs(edge_only / ref - 1)) > 1e-2  # the edge-only rule is measurably off for such bins
    with pytest.raises(GwidgetsError, match="bkg_integration must be one of"):
        MapMaker(geom, e_true, bkg_integration="trapezoid")
