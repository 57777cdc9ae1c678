"""MapDataset / MapEvaluator / PSFKernel on synthetic inputs: analytic results, the fast Cash path against
the plain sum, fitting simulated data, and clear errors."""
from __future__ import annotations

import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord

from gwidgets.core.datasets.base import DatasetError
from gwidgets.core.datasets.map import MapDataset
from gwidgets.core.datasets.map_irf import PSFKernel, combine_weighted
from gwidgets.core.fit import Fit
from gwidgets.core.geom import Map, MapAxis, WcsGeom
from gwidgets.core.models import (DiskSpatialModel, FoVBackgroundModel, GaussianSpatialModel, PointSpatialModel,
                                  PowerLaw, SkyModel)
from gwidgets.core.stats import cash_sum

CENTER = SkyCoord(83.633, 22.014, unit="deg")


class GaussPSF:
    """A Gaussian PSF with the IRF interface used by PSFKernel.from_irf (sigma in deg)."""

    def __init__(self, sigma):
        self.sigma = sigma

    def evaluate(self, rad, energy_true, offset):
        r = u.Quantity(rad, u.deg).value
        s = self.sigma
        return u.Quantity(np.exp(-0.5 * (r / s) ** 2) / (2 * np.pi * s**2) * np.ones(np.shape(energy_true)), "deg-2")

    def containment_radius(self, fraction, energy_true, offset):
        return np.sqrt(-2 * np.log(1 - fraction)) * self.sigma * np.ones(np.shape(energy_true)) * u.deg


def _dataset(psf_sigma=None, n_e=4, npix=60, bkg=2.0, edisp=True):
    energy = MapAxis.from_energy_bounds(1 * u.TeV, 10 * u.TeV, n_e)
    e_true = MapAxis.from_energy_bounds(1 * u.TeV, 10 * u.TeV, n_e, name="energy_true")
    geom = WcsGeom.create(CENTER, binsz=0.02, npix=npix, axes=[energy])
    exposure = Map(geom.to_cube([e_true]), np.full((n_e, npix, npix), 1e10), "m2 s")
    counts = Map(geom, np.zeros((n_e, npix, npix)))
    background = Map(geom, np.full((n_e, npix, npix), bkg))
    psf = None if psf_sigma is None else PSFKernel.from_irf(GaussPSF(psf_sigma), e_true, 0.5 * u.deg, 0.02 * u.deg)
    return MapDataset(counts, exposure, background, psf=psf, edisp=np.eye(n_e) if edisp else None, name="sim")


def test_psf_kernel_containment_matches_gaussian():
    e_true = MapAxis.from_energy_bounds(1 * u.TeV, 10 * u.TeV, 2, name="energy_true")
    kernel = PSFKernel.from_irf(GaussPSF(0.08), e_true, 0.5 * u.deg, 0.02 * u.deg)
    n = kernel.data.shape[1]
    assert n % 2 == 1
    np.testing.assert_allclose(kernel.data.sum(axis=(1, 2)), 1.0)
    y, x = np.mgrid[:n, :n] - n // 2
    var = (kernel.data[0] * (x * 0.02) ** 2).sum()
    # second moment per axis of a Gaussian truncated at its 99.9 % radius (a = R²/2σ²), + pixel² / 12
    a = -np.log(1 - 0.999)
    expected = 0.08**2 * (1 - a * np.exp(-a) / (1 - np.exp(-a))) + 0.02**2 / 12
    assert var == pytest.approx(expected, rel=2e-3)
    merged = combine_weighted([kernel, kernel], [np.ones(2), np.ones(2)])
    np.testing.assert_allclose(merged.data, kernel.data)


@pytest.mark.parametrize("spatial, rtol", [
    (PointSpatialModel(lon_0="83.633 deg", lat_0="22.014 deg"), 1e-9),
    (GaussianSpatialModel(lon_0="83.64 deg", lat_0="22.0 deg", sigma="0.1 deg"), 1e-3),
    (DiskSpatialModel(lon_0="83.6 deg", lat_0="22.02 deg", r_0="0.15 deg"), 5e-3),
])
def test_npred_total_is_flux_times_exposure(spatial, rtol):
    ds = _dataset(psf_sigma=0.05)
    model = SkyModel(PowerLaw(index=2.5, amplitude="1e-12 cm-2 s-1 TeV-1"), spatial, name="src")
    ds.models = [model]
    e = ds.exposure.geom.axis("energy_true").edges.to_value(u.TeV)
    expected = model.spectral_model.integral_values(e[:-1], e[1:]) * 1e10 * 1e4  # cm-2 s-1 × cm2 s
    np.testing.assert_allclose(ds.npred_signal().data.sum(axis=(1, 2)), expected, rtol=rtol)
    # the centroid of the predicted counts is the source position
    img = ds.npred_signal().data.sum(axis=0)
    y, x = np.mgrid[: img.shape[0], : img.shape[1]]
    cx, cy = (img * x).sum() / img.sum(), (img * y).sum() / img.sum()
    px, py = ds.counts.geom.wcs.world_to_pixel(spatial.position)
    assert abs(cx - px) < 0.02 and abs(cy - py) < 0.02


def test_fast_cash_equals_full_sum_and_fit_recovers_truth():
    rng = np.random.default_rng(1)
    ds = _dataset(psf_sigma=0.06, bkg=0.5)
    truth = [SkyModel(PowerLaw(index=2.3, amplitude="2e-12 cm-2 s-1 TeV-1"),
                      PointSpatialModel(lon_0="83.62 deg", lat_0="22.02 deg"), name="a"),
             SkyModel(PowerLaw(index=2.8, amplitude="1e-12 cm-2 s-1 TeV-1"),
                      GaussianSpatialModel(lon_0="83.75 deg", lat_0="21.95 deg", sigma="0.08 deg"), name="b"),
             FoVBackgroundModel("sim")]
    ds.models = truth
    ds.counts = Map(ds.counts.geom, rng.poisson(ds.npred().data).astype(float))
    ds.mask_safe = np.ones(ds.counts.data.shape, bool)
    mask = ds.mask_safe.copy()
    mask[:, :5] = False
    ds.mask_fit = mask
    truth[2].spectral_model.norm.value = 1.07
    truth[0].spatial_model.lon_0.value = 83.63
    assert ds.stat_sum() == pytest.approx(cash_sum(ds.counts.data, ds.npred().data, mask=ds.mask), rel=1e-12)
    truth[2].spectral_model.norm.value = 1.0
    truth[0].spatial_model.lon_0.value = 83.62
    start = {"index": 2.0, "lon_0": 83.6, "lat_0": 22.04}
    a = truth[0]
    a.spectral_model.index.value = start["index"]
    a.spatial_model.lon_0.value = start["lon_0"]
    a.spatial_model.lat_0.value = start["lat_0"]
    truth[1].freeze()
    result = Fit().run(ds)
    assert result.success
    for name, value in (("index", 2.3), ("lon_0", 83.62), ("lat_0", 22.02)):
        p = a.get_parameter(name)
        assert abs(p.value - value) < 3 * p.error, name
    assert abs(truth[2].spectral_model.norm.value - 1) < 3 * truth[2].spectral_model.norm.error


def test_source_outside_map_and_errors():
    ds = _dataset()
    ds.models = [SkyModel(PowerLaw(), PointSpatialModel(lon_0="90 deg", lat_0="22 deg"), name="far")]
    assert ds.npred_signal().data.sum() == 0
    with pytest.raises(DatasetError, match="no spatial model"):
        ds.models = [SkyModel(PowerLaw(), name="nospatial")]
        ds.npred_signal()
    with pytest.raises(DatasetError, match="edisp matrix has shape"):
        MapDataset(ds.counts, ds.exposure, ds.background, edisp=np.eye(3), name="bad")
    with pytest.raises(DatasetError, match="mask_safe has shape"):
        MapDataset(ds.counts, ds.exposure, ds.background, mask_safe=np.ones((2, 2), bool), name="bad")
    with pytest.raises(DatasetError, match="at most one is allowed"):
        ds.models = [FoVBackgroundModel("sim"), FoVBackgroundModel("sim", name="other")]
        ds.npred_background()


def test_map_dataset_maker_same_result_serial_and_processes():
    from gw_testdata import STORES
    from gwidgets.core.data import DataStore
    from gwidgets.core.reduction import MapDatasetMaker
    from gwidgets.core.executor import ProcessExecutor

    geom = WcsGeom.create(CENTER, binsz=0.04, npix=50, axes=[MapAxis.from_energy_bounds(1 * u.TeV, 100 * u.TeV, 4)])
    e_true = MapAxis.from_energy_bounds(0.5 * u.TeV, 200 * u.TeV, 8, name="energy_true")
    maker = MapDatasetMaker(geom, e_true, offset_max=2.5 * u.deg)
    obs = DataStore.from_dir(STORES["hess-dr1"]).get_observations([23523, 23559])
    seen = []
    serial = maker.run_stacked(obs, progress=lambda done, total, msg: seen.append(done))
    assert seen[-1] == 2
    parallel = maker.run_stacked(obs, executor=ProcessExecutor(n_jobs=2))
    for name in ("counts", "exposure", "background"):
        np.testing.assert_array_equal(getattr(serial, name).data, getattr(parallel, name).data)
    np.testing.assert_array_equal(serial.psf.data, parallel.psf.data)
    np.testing.assert_array_equal(serial.edisp, parallel.edisp)
    np.testing.assert_array_equal(serial.mask_safe, parallel.mask_safe)
    assert serial.meta["obs_ids"] == [23523, 23559]
