"""Map background methods and sky maps against gammapy 2.1 on the same stacked H.E.S.S. Crab cube:
ring background (RingBackgroundMaker), FoV background normalisation (FoVBackgroundMaker "scale" and "fit")
and correlated counts / excess / significance maps (ExcessMapEstimator, correlation radius 0.1°)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

from gw_testdata import STORES
from gwidgets.core.data import DataStore
from gwidgets.core.reduction import MapDatasetMaker
from gwidgets.core.estimators.excess_map import ExcessMapEstimator
from gwidgets.core.geom import Map, MapAxis, WcsGeom
from gwidgets.core.models import FoVBackgroundModel
from gwidgets.core.reduction.fov_background import FoVBackgroundMaker
from gwidgets.core.reduction.ring import RingBackgroundMaker
from gwidgets.errors import GwidgetsError

gdata = pytest.importorskip("gammapy.data")
gds = pytest.importorskip("gammapy.datasets")
gmakers = pytest.importorskip("gammapy.makers")
gmaps = pytest.importorskip("gammapy.maps")
gest = pytest.importorskip("gammapy.estimators")
gmodels = pytest.importorskip("gammapy.modeling.models")

CRAB = SkyCoord(83.633, 22.014, unit="deg")
IDS = [23523, 23526, 23559, 23592]
EXCLUDED = CircleSkyRegion(CRAB, 0.3 * u.deg)


@pytest.fixture(scope="module")
def pair():
    path = STORES["hess-dr1"]
    geom = WcsGeom.create(CRAB, binsz=0.02, width=3 * u.deg, axes=[MapAxis.from_energy_bounds(1 * u.TeV, 100 * u.TeV, 5)])
    e_true = MapAxis.from_energy_bounds(0.5 * u.TeV, 200 * u.TeV, 10, name="energy_true")
    ours = MapDatasetMaker(geom, e_true, offset_max=2.5 * u.deg, psf=False, edisp=False,
                           bkg_integration="edges").run_stacked(  # gammapy 2.1: bin edges only
        DataStore.from_dir(path).get_observations(IDS))
    ggeom = gmaps.WcsGeom.create(skydir=CRAB, binsz=0.02, width=3, axes=[gmaps.MapAxis.from_energy_bounds(1, 100, 5, unit="TeV")])
    empty = gds.MapDataset.create(ggeom, name="stacked",
                                  energy_axis_true=gmaps.MapAxis.from_energy_bounds(0.5, 200, 10, unit="TeV", name="energy_true"))
    maker = gmakers.MapDatasetMaker(selection=["counts", "exposure", "background"])
    safe = gmakers.SafeMaskMaker(methods=["offset-max"], offset_max=2.5 * u.deg)
    theirs = empty.copy(name="stacked")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for obs in gdata.DataStore.from_dir(path).get_observations(IDS):
            theirs.stack(safe.run(maker.run(empty.copy(name=f"obs{obs.obs_id}"), obs), obs))
    keep_ours = geom.to_image().region_mask([EXCLUDED], inside=False)
    keep_theirs = ggeom.to_image().region_mask([EXCLUDED], inside=False)
    np.testing.assert_array_equal(keep_ours, keep_theirs.data)
    return ours, theirs, keep_ours, keep_theirs


def _same_inputs(ours, theirs):
    """Image datasets with identical counts and background arrays (the IRF background itself differs by
    < 1e-4 per pixel, see test_reduction_maps), so that the methods are compared, not their inputs."""
    image_o, image_t = ours.to_image(), theirs.to_image()
    np.testing.assert_array_equal(image_o.counts.data, image_t.counts.data)
    np.testing.assert_allclose(image_o.background.data, image_t.background.data, rtol=2e-4)
    image_o.background = Map(image_o.counts.geom, np.array(image_t.background.data, float))
    return image_o, image_t


def test_ring_background(pair):
    ours, theirs, keep_o, keep_t = pair
    image_o, image_t = _same_inputs(ours, theirs)
    ring_o = RingBackgroundMaker(r_in=0.5 * u.deg, width=0.3 * u.deg, exclusion_mask=keep_o).run(image_o)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ring_t = gmakers.RingBackgroundMaker(r_in="0.5 deg", width="0.3 deg", exclusion_mask=keep_t).run(image_t)
    np.testing.assert_array_equal(ring_o.mask_safe, ring_t.mask_safe.data)
    m = ring_o.mask_safe
    np.testing.assert_allclose(ring_o.counts.data[m], ring_t.counts.data[m])
    for name in ("counts_off", "acceptance", "acceptance_off"):
        np.testing.assert_allclose(getattr(ring_o, name).data[m], getattr(ring_t, name).data[m], rtol=1e-6, atol=1e-9,
                                   err_msg=name)
    np.testing.assert_allclose(ring_o.alpha.data[m], ring_t.alpha.data[m], rtol=1e-6)
    assert ring_o.excess.data[m].sum() == pytest.approx(ring_t.excess.data[m].sum(), rel=1e-6)
    assert ring_o.excess.data[m].sum() > 100  # the Crab is there

    # correlated maps on the ring ON/OFF result (WStat / Li & Ma)
    maps_o = ExcessMapEstimator("0.1 deg").run(ring_o)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        maps_t = gest.ExcessMapEstimator(correlation_radius="0.1 deg").run(ring_t)
    _compare_maps(maps_o, maps_t)


def _compare_maps(maps_o, maps_t):
    np.testing.assert_array_equal(maps_o["counts"].data, maps_t["npred"].data)
    ok = np.isfinite(maps_t["sqrt_ts"].data) & (maps_t["npred"].data > 0)
    assert ok.mean() > 0.9
    np.testing.assert_allclose(maps_o["npred_excess"].data[ok], maps_t["npred_excess"].data[ok], rtol=1e-5, atol=1e-5)  # gammapy: float32
    np.testing.assert_allclose(maps_o["sqrt_ts"].data[ok], maps_t["sqrt_ts"].data[ok], rtol=1e-5, atol=1e-4)
    assert np.nanmax(maps_o["sqrt_ts"].data) > 10  # the Crab


def test_excess_map_cash(pair):
    ours, theirs, _, _ = pair
    image_o, image_t = _same_inputs(ours, theirs)
    maps_o = ExcessMapEstimator("0.1 deg").run(image_o)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        maps_t = gest.ExcessMapEstimator(correlation_radius="0.1 deg").run(image_t)
    _compare_maps(maps_o, maps_t)


@pytest.mark.parametrize("method", ["scale", "fit"])
def test_fov_background(pair, method):
    ours, theirs, keep_o, keep_t = pair
    ds_o = ours.copy(name="stacked")
    ds_t = theirs.copy(name="stacked")
    spectral = None
    if method == "fit":
        ds_o.models = [FoVBackgroundModel("stacked")]
        ds_o.models["stacked-bkg"].spectral_model.tilt.frozen = False
        model_t = gmodels.FoVBackgroundModel(dataset_name="stacked")
        model_t.spectral_model.tilt.frozen = False
        ds_t.models = [model_t]
    FoVBackgroundMaker(method=method, exclusion_mask=keep_o, spectral_model=spectral).run(ds_o)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds_t = gmakers.FoVBackgroundMaker(method=method, exclusion_mask=keep_t).run(ds_t)
    norm_o = ds_o.models["stacked-bkg"].spectral_model.norm
    norm_t = ds_t.models["stacked-bkg"].spectral_model.norm
    if method == "scale":
        # the IRF backgrounds agree to 1e-5 in total (test_reduction_maps)
        assert norm_o.value == pytest.approx(norm_t.value, rel=1e-4)
        assert norm_o.error == pytest.approx(norm_t.error, rel=1e-4)
    else:
        for name in ("norm", "tilt"):
            po = ds_o.models["stacked-bkg"].spectral_model.parameters[name]
            pt = ds_t.models["stacked-bkg"].spectral_model.parameters[name]
            assert abs(po.value - pt.value) < 0.05 * pt.error, name
            assert po.error == pytest.approx(pt.error, rel=0.05)
    # the mask_fit of the dataset is restored
    assert ds_o.mask_fit is None


def test_bad_exclusion_masks(pair):
    ours, _, keep_o, _ = pair
    with pytest.raises(GwidgetsError, match="excludes every pixel"):
        RingBackgroundMaker(r_in=0.5 * u.deg, width=0.3 * u.deg, exclusion_mask=np.zeros_like(keep_o)).run(ours)
    with pytest.raises(GwidgetsError, match="shape"):
        FoVBackgroundMaker(exclusion_mask=np.ones((3, 3), bool)).run(ours.copy())
    with pytest.raises(GwidgetsError, match="Unknown FoV background method"):
        FoVBackgroundMaker(method="magic")
