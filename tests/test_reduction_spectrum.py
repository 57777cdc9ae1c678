"""DL3 → 1D ON/OFF extraction compared with gammapy 2.1 on the same runs in the same test."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

from gwidgets.core.data import DataStore
from gwidgets.core.geom import MapAxis
from gwidgets.core.reduction.safe_mask import SafeMaskMaker, energy_mask
from gwidgets.core.reduction.spectrum import RadMaxMismatchError, SpectrumExtractor

gmakers = pytest.importorskip("gammapy.makers")
gdata = pytest.importorskip("gammapy.data")
gds = pytest.importorskip("gammapy.datasets")
gmaps = pytest.importorskip("gammapy.maps")

CRAB = SkyCoord(83.633, 22.014, unit="deg")
E_RECO = MapAxis.from_energy_bounds(0.01 * u.TeV, 100 * u.TeV, 80)
E_TRUE = MapAxis.from_energy_bounds(0.01 * u.TeV, 100 * u.TeV, 80, name="energy_true")


def _gammapy(path, radius, full_enclosure=False):
    """gammapy 2.1 with the physically right setting: PSF containment correction for full-enclosure IRFs."""
    on = CircleSkyRegion(CRAB, radius * u.deg)
    gobs = gdata.DataStore.from_dir(path).get_observations(
        required_irf=["aeff", "edisp", "psf"] if full_enclosure else "point-like")
    geom = gmaps.RegionGeom.create(region=on, axes=[gmaps.MapAxis.from_energy_bounds(0.01, 100, 80, unit="TeV")])
    empty = gds.SpectrumDataset.create(
        geom=geom, energy_axis_true=gmaps.MapAxis.from_energy_bounds(0.01, 100, 80, unit="TeV", name="energy_true"))
    maker = gmakers.SpectrumDatasetMaker(selection=["counts", "exposure", "edisp"],
                                         containment_correction=full_enclosure)
    bkg = gmakers.ReflectedRegionsBackgroundMaker()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [bkg.run(maker.run(empty.copy(name=str(o.obs_id)), o), o) for o in gobs]


@pytest.mark.parametrize("key,radius", [("jc-hess", 0.11), ("jc-magic", 0.1414213), ("jc-veritas", 0.1)])
def test_extraction_matches_gammapy(stores, key, radius):
    store = DataStore.from_dir(stores[key])
    obs = store.get_observations(required_irf="point-like")
    ours = SpectrumExtractor(CircleSkyRegion(CRAB, radius * u.deg), E_RECO, E_TRUE).run_many(obs)
    # the default ("auto") corrects H.E.S.S.'s full-enclosure IRFs for the PSF containment, and never the
    # point-like MAGIC / VERITAS IRFs: gammapy is run with that physically right setting
    full_enclosure = key == "jc-hess"
    assert all(not o.is_pointlike for o in obs) == full_enclosure
    theirs = _gammapy(stores[key], radius, full_enclosure=full_enclosure)
    assert len(ours) == len(theirs) > 0
    for r, g in zip(ours, theirs):
        assert r.ok, r.reason
        assert r.meta["CONTAINMENT_CORRECTION"] is full_enclosure
        np.testing.assert_array_equal(r.counts, g.counts.data.ravel())
        # OFF: same region centres; the OFF radius is the ON radius here, gammapy's comes from a pixel
        # round trip (differs by ~1e-5 deg), which can move an event sitting on a boundary
        assert abs(r.n_off - g.counts_off.data.sum()) <= 2
        np.testing.assert_allclose(r.acceptance_off, g.acceptance_off.data.ravel())
        np.testing.assert_allclose(r.acceptance, g.acceptance.data.ravel())
        # exposure: we use the LIVETIME keyword, gammapy GTI × DEADC (MAGIC: 1e-4 apart)
        np.testing.assert_allclose(r.exposure.to_value("cm2 s"), g.exposure.quantity.to_value("cm2 s").ravel(), rtol=5e-3)
        np.testing.assert_allclose(r.edisp, g.edisp.get_edisp_kernel().pdf_matrix, atol=1e-5)


def test_rad_max_checks(stores):
    obs = DataStore.from_dir(stores["jc-magic"]).get_observations(required_irf="point-like")
    with pytest.warns(UserWarning, match=r"ON radius 0.1412° differs from RAD_MAX 0.141421° by 0.16%"):
        r = SpectrumExtractor(CircleSkyRegion(CRAB, 0.1412 * u.deg), E_RECO, E_TRUE).run(obs[0])
    assert r.on_region.radius.to_value("deg") == pytest.approx(0.1414213, rel=1e-6)
    with pytest.raises(RadMaxMismatchError, match=r"0.2000° does not match RAD_MAX = 0.1414° .* 5029747"):
        SpectrumExtractor(CircleSkyRegion(CRAB, 0.2 * u.deg), E_RECO, E_TRUE).run(obs[0])


def test_bad_geometry_gives_empty_results_and_batch_continues(stores):
    store = DataStore.from_dir(stores["jc-hess"])
    obs = store.get_observations(required_irf="point-like")
    pointing = obs[0].pointing_radec
    at_pointing = SpectrumExtractor(CircleSkyRegion(pointing, 0.11 * u.deg), E_RECO, E_TRUE).run_many(obs)
    assert not at_pointing[0].ok and "inside the ON region" in at_pointing[0].reason
    far = SkyCoord(10, -60, unit="deg")
    res = SpectrumExtractor(CircleSkyRegion(far, 0.11 * u.deg), E_RECO, E_TRUE).run(obs[0])
    assert not res.ok and "outside the field of view" in res.reason
    # a missing IRF gives an explicit empty result, not a crash
    magic = DataStore.from_dir(stores["jc-magic"]).get_observations(required_irf="point-like")
    magic[0]._cache["edisp"] = None
    res = SpectrumExtractor(CircleSkyRegion(CRAB, 0.1414213 * u.deg), E_RECO, E_TRUE).run_many(magic)
    assert not res[0].ok and "edisp" in res[0].reason and res[1].ok


def test_safe_mask_aeff_default_and_user_threshold(stores):
    hess = DataStore.from_dir(stores["jc-hess"]).get_observations(required_irf="point-like")
    r = SpectrumExtractor(CircleSkyRegion(CRAB, 0.11 * u.deg), E_RECO, E_TRUE).run(hess[0])
    mask, (lo, hi) = SafeMaskMaker(["aeff-default"]).run(r, hess[0])
    assert lo == hess[0].aeff.lo_threshold and hi == hess[0].aeff.hi_threshold
    np.testing.assert_array_equal(mask, energy_mask(E_RECO.edges, lo, hi))
    # gammapy: the same reco bins
    g = _gammapy(stores["jc-hess"], 0.11)[0]
    gmask = gmakers.SafeMaskMaker(methods=["aeff-default"]).run(g, gdata.DataStore.from_dir(stores["jc-hess"]).obs(23523, required_irf="point-like"))
    gm = gmask.mask_safe.data.ravel()
    # gammapy's axis edges carry round-off (100.00000000000004 TeV); a bin whose edge equals the
    # threshold to 1e-9 may differ — anywhere else the masks must agree
    on_edge = np.isclose(E_RECO.edges[1:], hi, rtol=1e-9) | np.isclose(E_RECO.edges[:-1], lo, rtol=1e-9)
    np.testing.assert_array_equal(mask[~on_edge], gm[~on_edge])
    assert mask.sum() > 40
    fact = DataStore.from_dir(stores["jc-fact"]).get_observations(required_irf="point-like")[:1]
    rf = SpectrumExtractor(CircleSkyRegion(CRAB, 0.1732051 * u.deg), E_RECO, E_TRUE).run(fact[0])
    from gwidgets.core.reduction.safe_mask import SafeMaskError

    with pytest.raises(SafeMaskError, match="no default safe energy threshold.*e_min"):
        SafeMaskMaker(["aeff-default"]).run(rf, fact[0])
    mask, (lo, _) = SafeMaskMaker(["aeff-default"], e_min=0.4 * u.TeV).run(rf, fact[0])
    assert lo == 0.4 * u.TeV and not mask[E_RECO.center < 0.4 * u.TeV].any()


def test_dask_local_cluster_gives_the_same_datasets(stores):
    """The four H.E.S.S. Crab runs reduced through a 2-worker LocalCluster give exactly the serial datasets."""
    distributed = pytest.importorskip("dask.distributed")
    from gwidgets.core.reduction.spectrum_maker import make_spectrum_datasets

    store = DataStore.from_dir(stores["jc-hess"])
    on = CircleSkyRegion(CRAB, 0.11 * u.deg)
    serial = make_spectrum_datasets(store.get_observations(required_irf="point-like"), on, E_RECO, E_TRUE)
    calls = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = make_spectrum_datasets(store.get_observations(required_irf="point-like"), on, E_RECO, E_TRUE,
                                        executor=client, progress=lambda d, t, m: calls.append((d, t)))
    assert calls[-1] == (4, 4)
    assert remote.names == serial.names == ["23523", "23526", "23559", "23592"] and remote.skipped == {}
    for a, b in zip(serial, remote):
        for attr in ("counts", "counts_off", "acceptance", "acceptance_off", "exposure", "edisp", "mask_safe"):
            np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr), err_msg=f"{attr} of {a.name}")
        assert a.livetime == b.livetime and a.meta == b.meta
