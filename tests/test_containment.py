"""PSF containment correction and time meta of 1D extraction, against gammapy 2.1 on the same runs in the same test.

The four joint-crab H.E.S.S. Crab runs have full-enclosure IRFs with a PSF
table: with ``containment_correction=True`` the exposure per true-energy bin
is AEFF × livetime × (fraction of the PSF inside the 0.11° ON circle at the
source offset), as gammapy's ``SpectrumDatasetMaker(containment_correction=True)``.
Point-like IRFs (MAGIC) must refuse it.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion, RectangleSkyRegion

from gwidgets.core.data import DataStore
from gwidgets.core.geom import MapAxis
from gwidgets.core.reduction.spectrum import ContainmentCorrectionError, SpectrumExtractor
from gwidgets.core.reduction.spectrum_maker import make_spectrum_datasets

gmakers = pytest.importorskip("gammapy.makers")
gdata = pytest.importorskip("gammapy.data")
gds = pytest.importorskip("gammapy.datasets")
gmaps = pytest.importorskip("gammapy.maps")

CRAB = SkyCoord(83.633, 22.014, unit="deg")
ON = CircleSkyRegion(CRAB, 0.11 * u.deg)
E_RECO = MapAxis.from_energy_bounds(0.01 * u.TeV, 100 * u.TeV, 80)
E_TRUE = MapAxis.from_energy_bounds(0.01 * u.TeV, 100 * u.TeV, 80, name="energy_true")


@pytest.fixture(scope="module")
def ours(stores):
    obs = DataStore.from_dir(stores["jc-hess"]).get_observations(required_irf=["aeff", "edisp", "psf"])
    return make_spectrum_datasets(obs, ON, E_RECO, E_TRUE, containment_correction=True, safe_mask=None)


@pytest.fixture(scope="module")
def theirs(stores):
    """gammapy 2.1 exposure with containment correction (and without, to check the correction is not trivial)."""
    gobs = gdata.DataStore.from_dir(stores["jc-hess"]).get_observations(required_irf=["aeff", "edisp", "psf"])
    geom = gmaps.RegionGeom.create(region=ON, axes=[gmaps.MapAxis.from_energy_bounds(0.01, 100, 80, unit="TeV")])
    empty = gds.SpectrumDataset.create(
        geom=geom, energy_axis_true=gmaps.MapAxis.from_energy_bounds(0.01, 100, 80, unit="TeV", name="energy_true"))
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for cc in (True, False):
            maker = gmakers.SpectrumDatasetMaker(selection=["exposure"], containment_correction=cc)
            out[cc] = {str(o.obs_id): maker.run(empty.copy(name=str(o.obs_id)), o).exposure.quantity.to_value("cm2 s")
                       .ravel() for o in gobs}
        out["gti"] = {str(o.obs_id): (o.gti.time_start.min(), o.gti.time_stop.max()) for o in gobs}
    return out


def test_containment_exposure_matches_gammapy(ours, theirs):
    assert len(ours) == 4 and ours.skipped == {}
    for d in ours:
        ref, plain = theirs[True][d.name], theirs[False][d.name]
        # where gammapy's exposure is non-zero (PSF table energy range)
        used = ref > 0
        assert used.sum() > 40
        np.testing.assert_allclose(d.exposure[used], ref[used], rtol=5e-3, err_msg=f"obs {d.name}")
        assert np.all(d.exposure[~used] <= 1e-6 * d.exposure.max())
        # the correction is real: 0.11° contains well under 100 % of the H.E.S.S. PSF
        ratio = ref[used] / plain[used]
        assert 0.3 < ratio.min() and ratio.max() < 0.95


def test_containment_refused_for_pointlike_and_non_circles(stores):
    obs = DataStore.from_dir(stores["jc-magic"]).get_observations(required_irf="point-like")
    on = CircleSkyRegion(CRAB, 0.1414213 * u.deg)
    with pytest.raises(ContainmentCorrectionError, match=r"Observation \d+ has point-like IRFs.*full-enclosure"):
        make_spectrum_datasets(obs, on, E_RECO, E_TRUE, containment_correction=True)
    rect = RectangleSkyRegion(CRAB, 0.2 * u.deg, 0.2 * u.deg)
    with pytest.raises(ContainmentCorrectionError, match="circular ON region.*RectangleSkyRegion"):
        SpectrumExtractor(rect, E_RECO, E_TRUE, containment_correction=True)


def test_datasets_carry_gti_time_range(ours, theirs, stores):
    """time_start/time_stop of each dataset = first GTI start / last GTI stop of its run, as gammapy reads them."""
    from gwidgets.core.estimators.light_curve import add_time_meta, dataset_time_range

    store = DataStore.from_dir(stores["jc-hess"])
    for d in ours:
        start, stop = dataset_time_range(d)
        g0, g1 = theirs["gti"][d.name]
        assert abs((start - g0).to_value("s")) < 1e-3 and abs((stop - g1).to_value("s")) < 1e-3
        # add_time_meta is a no-op when the meta is already there
        before = dict(d.meta)
        add_time_meta(d, store.get_observations([int(d.name)], required_irf=None)[0])
        assert d.meta["time_start"] is before["time_start"] and d.meta["time_stop"] is before["time_stop"]
