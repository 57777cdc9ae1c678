"""Energy-dependent RAD_MAX (MAGIC RAD_MAX_2D) through `make_spectrum_datasets`, against gammapy 2.1 in the same test.

As gammapy's tutorial "Spectral analysis with energy-dependent directional
cuts": ON region = `PointSkyRegion` at the Crab; an event is ON when it lies
within RAD_MAX(E_reco, offset) of the Crab (nearest-node RAD_MAX);
``WobbleRegionsFinder`` OFF positions (rotated about the pointing) with the
same energy-dependent radius; ON/OFF circles that would overlap at some
energy of the analysis range give no OFF region (gammapy's check).

Differences (none found on these two runs; kept as tolerances): an event
sitting exactly on a RAD_MAX boundary could be classified differently (we
compare cosines of unit vectors, gammapy `SkyCoord.separation`).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion, PointSkyRegion

from gwidgets.core.data import DataStore
from gwidgets.core.geom import MapAxis
from gwidgets.core.reduction.spectrum import RadMaxMismatchError, WobbleRegionsFinder
from gwidgets.core.reduction.spectrum_maker import make_spectrum_datasets

gmakers = pytest.importorskip("gammapy.makers")
gdata = pytest.importorskip("gammapy.data")
gds = pytest.importorskip("gammapy.datasets")
gmaps = pytest.importorskip("gammapy.maps")

CRAB = SkyCoord(83.633, 22.014, unit="deg")
N_OFF = {1: "one wobble OFF position", 3: "three wobble OFF positions"}


def _axes():
    ea = MapAxis.from_energy_bounds(0.05 * u.TeV, 50 * u.TeV, 15)
    eat = MapAxis.from_energy_bounds(0.01 * u.TeV, 100 * u.TeV, 40, name="energy_true")
    return ea, eat


@pytest.fixture(scope="module", params=list(N_OFF))
def both(request, stores):
    n_off = request.param
    ea, eat = _axes()
    obs = DataStore.from_dir(stores["magic-radmax"]).get_observations(required_irf="point-like")
    ours = make_spectrum_datasets(obs, PointSkyRegion(CRAB), ea, eat, safe_mask=None,
                                  finder=WobbleRegionsFinder(n_off))
    gea = gmaps.MapAxis.from_energy_bounds(0.05, 50, 15, unit="TeV")
    geat = gmaps.MapAxis.from_energy_bounds(0.01, 100, 40, unit="TeV", name="energy_true")
    geom = gmaps.RegionGeom.create(region=PointSkyRegion(CRAB), axes=[gea])
    empty = gds.SpectrumDataset.create(geom=geom, energy_axis_true=geat)
    maker = gmakers.SpectrumDatasetMaker(selection=["counts", "exposure", "edisp"], containment_correction=False)
    bkg = gmakers.ReflectedRegionsBackgroundMaker(region_finder=gmakers.WobbleRegionsFinder(n_off_regions=n_off))
    gobs = gdata.DataStore.from_dir(stores["magic-radmax"]).get_observations(
        [int(d.name) for d in ours], required_irf="point-like")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = [bkg.run(maker.run(empty.copy(name=str(o.obs_id)), o), o) for o in gobs]
    return n_off, ours, theirs


def test_radmax_counts_match_gammapy(both):
    n_off, ours, theirs = both
    assert ours.skipped == {} and len(ours) == 2
    for d, g in zip(ours, theirs):
        assert d.name == g.name
        np.testing.assert_array_equal(d.counts, g.counts.data.ravel(), err_msg=f"N_on, obs {d.name}")
        assert d.counts.sum() > 100
        np.testing.assert_allclose(d.acceptance_off, g.acceptance_off.data.ravel())
        assert d.acceptance_off[0] == n_off
        off, goff = d.counts_off, g.counts_off.data.ravel()
        assert np.abs(off - goff).max() <= 1 and abs(off.sum() - goff.sum()) <= 2, f"N_off, obs {d.name}"
        np.testing.assert_allclose(d.exposure, g.exposure.quantity.to_value("cm2 s").ravel(), rtol=5e-3)
        np.testing.assert_allclose(d.edisp, g.edisp.get_edisp_kernel().pdf_matrix, atol=1e-5)


def test_circle_with_energy_dependent_radmax_is_an_error(stores):
    ea, eat = _axes()
    obs = DataStore.from_dir(stores["magic-radmax"]).get_observations(required_irf="point-like")
    with pytest.raises(RadMaxMismatchError, match=r"energy-dependent RAD_MAX.*PointSkyRegion"):
        make_spectrum_datasets(obs, CircleSkyRegion(CRAB, 0.1 * u.deg), ea, eat, safe_mask=None)


def test_overlapping_wobble_regions_give_no_off(stores):
    """Many wobble positions at 0.4° with RAD_MAX up to 0.39°: they overlap → explicit 'no OFF region' result."""
    ea, eat = _axes()
    obs = DataStore.from_dir(stores["magic-radmax"]).get_observations(required_irf="point-like")
    out = make_spectrum_datasets(obs, PointSkyRegion(CRAB), ea, eat, safe_mask=None, finder=WobbleRegionsFinder(5))
    assert len(out) == 0 and set(out.skipped) == set(obs.ids)
    assert all("overlap" in reason for reason in out.skipped.values())
    # gammapy finds the same overlap: no OFF counts, dataset masked
    gobs = gdata.DataStore.from_dir(stores["magic-radmax"]).get_observations(obs.ids[:1], required_irf="point-like")[0]
    geom = gmaps.RegionGeom.create(region=PointSkyRegion(CRAB),
                                   axes=[gmaps.MapAxis.from_energy_bounds(0.05, 50, 15, unit="TeV")])
    empty = gds.SpectrumDataset.create(geom=geom, energy_axis_true=gmaps.MapAxis.from_energy_bounds(
        0.01, 100, 40, unit="TeV", name="energy_true"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = gmakers.ReflectedRegionsBackgroundMaker(region_finder=gmakers.WobbleRegionsFinder(5)).run(
            gmakers.SpectrumDatasetMaker(selection=["counts"]).run(empty, gobs), gobs)
    assert g.counts_off is None and not g.mask_safe.data.any()
