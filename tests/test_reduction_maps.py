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
    cubes = MapMaker(geom, e_true).run_many(obs)

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
