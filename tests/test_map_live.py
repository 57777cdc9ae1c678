"""Live 3D residual maps (issue 14).

The incremental images against the plain evaluation and against gammapy 2.1, the region spectrum, and the 3D
session (parameter change -> new map, fit with live maps, Stop, the user's edit wins over a running fit).

All on the four H.E.S.S. DR1 Crab runs stacked by gwidgets and by gammapy (tests/crab_cubes.py): 150 × 150 pixels,
10 reco-energy bins. The gammapy reference is ``MapDataset.plot_residuals_spatial``'s computation with
``method="diff/sqrt(model)"`` and its defaults (counts and npred × mask summed over energy, Gaussian smoothing of
0.1°, NaN outside the mask) on gammapy's own npred with the same parameters.
"""
from __future__ import annotations

import threading
import time
import warnings

import numpy as np
import pytest
from crab_cubes import CRAB, crab_sky_model, gammapy_crab_sky_model, stacked_crab_cubes
from gw_testdata import STORES

from gwidgets.core.datasets.map_residuals import ResidualMaps, region_spectrum, significance_image
from gwidgets.core.models import DiskSpatialModel, FoVBackgroundModel, GaussianSpatialModel, PowerLaw, SkyModel
from gwidgets.errors import GwidgetsError

pytestmark = pytest.mark.skipif(not STORES["hess-dr1"].exists(), reason="H.E.S.S. DR1 data not found")


def _extended():
    return [SkyModel(PowerLaw(index=2.4, amplitude="1e-11 cm-2 s-1 TeV-1"),
                     GaussianSpatialModel(lon_0="83.3 deg", lat_0="22.3 deg", sigma="0.15 deg"), name="gauss"),
            SkyModel(PowerLaw(index=2.2, amplitude="5e-12 cm-2 s-1 TeV-1"),
                     DiskSpatialModel(lon_0="84.0 deg", lat_0="21.8 deg", r_0="0.1 deg"), name="disk")]


@pytest.fixture
def ours():
    """Our stacked Crab cube with a point source, a Gaussian, a disk and the background model."""
    ds, _ = stacked_crab_cubes()
    ds.models = [crab_sky_model(), *_extended(), FoVBackgroundModel(ds.name)]
    return ds


# ------------------------------------------------------------------ core
def test_incremental_images_equal_the_plain_evaluation(ours):
    """The cached images equal those computed from dataset.npred() on the whole cube, after each change.

    Changes: a source moved by less and by more than its cut-out margin, a size, a spectrum, the background norm.
    """
    maps = ResidualMaps(ours, smooth_radius=0.1)
    models = ours.models
    changes = [("crab", "spatial", "lon_0", 83.65), ("crab", "spatial", "lat_0", 22.3),  # 0.29°: new cut-out
               ("gauss", "spatial", "sigma", 0.25), ("gauss", "spatial", "lon_0", 83.1),
               ("disk", "spatial", "r_0", 0.2), ("crab", "spectral", "index", 2.4)]
    before = maps.images()["significance"].copy()
    for name, part, par, value in changes:
        getattr(models[name], f"{part}_model").parameters[par].value = value
        fast, full = maps.images(), maps.full()
        for key in ("counts", "npred", "significance"):
            np.testing.assert_allclose(fast[key], full[key], rtol=1e-10, atol=1e-12, equal_nan=True,
                                       err_msg=f"{key} after {name}.{par} = {value}")
        assert np.nanmax(np.abs(fast["significance"] - before)) > 1e-3, f"{name}.{par} changed nothing"
        before = fast["significance"].copy()
    models[f"{ours.name}-bkg"].spectral_model.norm.value = 1.2
    fast, full = maps.images(), maps.full()
    np.testing.assert_allclose(fast["npred"], full["npred"], rtol=1e-10, atol=1e-12)
    # an energy band and no smoothing
    band = ResidualMaps(ours, energy_range=(2, 6), smooth_radius=0)
    npred = ours.npred().data[2:6] * ours.mask_safe[2:6]
    np.testing.assert_allclose(band.images()["npred"], npred.sum(axis=0), rtol=1e-10, atol=1e-12)


def test_images_equal_gammapy_residual_significance():
    """Same cubes, same parameters: our significance image is gammapy's plot_residuals_spatial image."""
    gmodels = pytest.importorskip("gammapy.modeling.models")
    ours, theirs = stacked_crab_cubes()
    ours.models = [crab_sky_model(), FoVBackgroundModel(ours.name)]
    theirs.models = gmodels.Models([gammapy_crab_sky_model(), gmodels.FoVBackgroundModel(dataset_name=theirs.name)])
    maps = ResidualMaps(ours, smooth_radius=0.1)
    for dlon, norm in [(0.0, 1.0), (0.1, 1.1)]:
        for m, bkg in ((ours.models["crab"], ours.models[1]), (theirs.models["crab"], theirs.models[1])):
            m.spatial_model.lon_0.value = CRAB.ra.deg + dlon
            bkg.spectral_model.norm.value = norm
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            counts, npred = theirs.counts.copy(), theirs.npred()
        counts *= theirs.mask
        npred *= theirs.mask
        c_s = counts.sum_over_axes().smooth(width="0.1 deg", kernel="gauss").data.reshape(150, 150)
        n_s = npred.sum_over_axes().smooth(width="0.1 deg", kernel="gauss").data.reshape(150, 150)
        with np.errstate(invalid="ignore", divide="ignore"):
            sig = (c_s - n_s) / np.sqrt(n_s)
        sig[~theirs.mask.data.any(axis=0)] = np.nan
        ours_img = maps.images()
        np.testing.assert_array_equal(ours_img["counts"], counts.data.sum(axis=0))
        assert np.array_equal(np.isfinite(ours_img["significance"]), np.isfinite(sig))
        diff = np.abs(ours_img["significance"] - sig)[np.isfinite(sig)]
        # npred differs by the documented PSF discretisation (tests/test_map_fit.py): < 0.02 sigma everywhere
        assert diff.max() < 0.02, diff.max()
        assert np.median(diff) < 1e-4
        rel = np.abs(ours_img["npred"] / npred.data.sum(axis=0) - 1)[npred.data.sum(axis=0) > 0]
        assert np.percentile(rel, 95) < 1e-2 and ours_img["npred"].sum() == pytest.approx(npred.data.sum(), rel=1e-3)


def test_region_spectrum_against_gammapy_and_the_plain_sum(ours):
    """Counts, npred in a 0.2° circle: gammapy's region mask and npred; the cached path equals the plain sum."""
    gmodels = pytest.importorskip("gammapy.modeling.models")
    import astropy.units as u
    from regions import CircleSkyRegion

    _, theirs = stacked_crab_cubes()
    ours.models = [crab_sky_model(), FoVBackgroundModel(ours.name)]
    theirs.models = gmodels.Models([gammapy_crab_sky_model(), gmodels.FoVBackgroundModel(dataset_name=theirs.name)])
    maps = ResidualMaps(ours)
    spec = maps.region_spectrum((CRAB.ra.deg, CRAB.dec.deg), 0.2)
    region = theirs.counts.geom.to_image().region_mask([CircleSkyRegion(CRAB, 0.2 * u.deg)]).data
    np.testing.assert_array_equal(maps.region_mask(CRAB, 0.2 * u.deg), region)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g_npred = (theirs.npred().data * theirs.mask.data * region[None]).sum(axis=(1, 2))
    np.testing.assert_array_equal(spec["counts"], (theirs.counts.data * region[None]).sum(axis=(1, 2)))
    # the encircled signal per reco bin differs by the PSF kernels (up to ~4 %, tests/test_map_fit.py)
    np.testing.assert_allclose(spec["npred"], g_npred, rtol=0.04)
    assert spec["npred"].sum() == pytest.approx(g_npred.sum(), rel=5e-3)
    # the cached path equals the plain one, also after a move and a norm change
    ours.models["crab"].spatial_model.lat_0.value = 22.1
    ours.models[1].spectral_model.norm.value = 0.9
    fast = maps.region_spectrum((CRAB.ra.deg, CRAB.dec.deg), 0.2)
    plain = region_spectrum(ours, region)
    for key in ("counts", "background", "npred", "residuals"):
        np.testing.assert_allclose(fast[key], plain[key], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fast["residuals"], fast["counts"] - fast["npred"])


def test_both_signal_paths_equal_the_plain_evaluation(ours):
    """Both signal-image paths equal the plain dataset.npred(); compute_image equals the reco cube summed.

    The image summed over energy in the evaluator (a mask the same in every reco bin) and per reco bin (a mask
    that differs between bins); compute_image with EDISP (the DR1 cube) and without (the simulated store, true
    bins = reco bins).
    """
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    import gwidgets as gw
    from gwidgets.core.datasets.map_evaluator import MapEvaluator
    from gwidgets.core.geom import MapAxis, WcsGeom
    from gwidgets.core.reduction import MapDatasetMaker

    mask_fit = np.ones(ours.counts.data.shape, bool)
    mask_fit[:3, :, :75] = False  # the three lowest reco bins: only the right half of the map
    ours.mask_fit = mask_fit
    for energy_range in (None, (3, 8)):  # bins 3..7 share one mask: the summed path; all bins: per reco bin
        maps = ResidualMaps(ours, energy_range=energy_range, smooth_radius=0.1)
        ours.models["gauss"].spatial_model.lon_0.value += 0.03
        fast, full = maps.images(), maps.full()
        for key in ("npred", "significance"):
            np.testing.assert_allclose(fast[key], full[key], rtol=1e-10, atol=1e-12, equal_nan=True,
                                       err_msg=f"{key}, energy_range {energy_range}")
    store = gw.example_store()
    axis = MapAxis.from_energy_bounds(1 * u.TeV, 10 * u.TeV, 4)
    geom = WcsGeom.create(SkyCoord(83.63, 22.01, unit="deg"), binsz=0.04, width=2 * u.deg, axes=[axis])
    sim = MapDatasetMaker(geom, axis.copy(name="energy_true"), offset_max="2.5 deg").run_stacked(
        store.get_observations(store.obs_ids[:1]))
    sim.edisp = None
    for dataset in (ours, sim):
        ev = MapEvaluator(ours.models["gauss"], dataset)
        sl, cube = ev.compute()
        for bins in ((0, cube.shape[0]), (1, 3)):
            sl_image, image = ev.compute_image(bins)
            assert sl_image == sl
            np.testing.assert_allclose(image, cube[bins[0]:bins[1]].sum(axis=0), rtol=1e-12, atol=1e-14 * cube.max())
            assert image.max() > 0


def test_significance_image_and_bad_input(ours):
    """The significance formula on numbers; bad energy range, smoothing or radius are named errors."""
    assert significance_image(np.full((2, 2), 4.0), np.ones((2, 2)))[0, 0] == 3.0
    assert np.isnan(significance_image(np.ones((1, 1)), np.zeros((1, 1)))[0, 0])
    with pytest.raises(GwidgetsError, match="energy_range"):
        ResidualMaps(ours, energy_range=(5, 3))
    with pytest.raises(GwidgetsError, match="smooth_radius"):
        ResidualMaps(ours, smooth_radius=-0.1)
    with pytest.raises(GwidgetsError, match="radius"):
        ResidualMaps(ours).region_spectrum(CRAB, 0.0)


# ------------------------------------------------------------------ state
def _session(background=False, **kwargs):
    from gwidgets.state.map_session import MapSession

    ds, _ = stacked_crab_cubes()
    return MapSession(ds, models=[crab_sky_model(), *_extended()], background=background, **kwargs)


def test_session_parameter_change_gives_the_new_map():
    """A move / size / region change gives the new images (equal to the plain evaluation) and spectrum."""
    s = _session()
    assert list(s.models.names) == ["crab", "gauss", "disk", "stacked-bkg"]  # the background model was added
    first = s.images()["significance"].copy()
    version = s.model_version
    s.move("crab", 83.7, 22.05)
    assert s.model_version == version + 2
    assert (s.models["crab"].spatial_model.lon_0.value, s.models["crab"].spatial_model.lat_0.value) == (83.7, 22.05)
    new = s.images()
    np.testing.assert_allclose(new["significance"], ResidualMaps(s.dataset).full()["significance"], rtol=1e-10,
                               atol=1e-12, equal_nan=True)
    assert np.nanmax(np.abs(new["significance"] - first)) > 0.1
    assert s.images() is new  # cached until the next change
    s.set_size("gauss", 0.3)
    assert s.models["gauss"].spatial_model.sigma.value == 0.3
    s.set_size("disk", 0.05)
    assert s.models["disk"].spatial_model.r_0.value == 0.05
    with pytest.raises(GwidgetsError, match="no size parameter"):
        s.set_size("crab", 0.1)
    with pytest.raises(GwidgetsError, match="No sky model named 'nope'"):
        s.move("nope", 1, 2)
    s.set_region(83.633, 22.014, 0.3)
    spec = s.spectrum()
    region = s.dataset.counts.geom.separation(CRAB).deg <= 0.3
    assert spec["n_pixels"] == int(region.sum())
    inside = s.dataset.counts.data * s.dataset.mask_safe * region
    np.testing.assert_array_equal(spec["counts"], inside.sum(axis=(1, 2)))
    with pytest.raises(GwidgetsError, match="radius"):
        s.set_region(83.6, 22.0, -1)


def test_session_fit_live_maps_and_stop_keeps_the_best_point():
    """A background fit sends live images, converges on the Crab; Stop keeps a point better than the start."""
    s = _session(background=True)
    s.set_models([crab_sky_model()])
    crab = s.models["crab"].spatial_model
    crab.lon_0.value, crab.lat_0.value = 83.60, 22.04  # start off the source
    start_stat = s.dataset.stat_sum()
    seen = []
    s.observe(lambda c: seen.append(c["new"]), "fit_progress")
    s.fit(wait=True)
    assert s.error == "" and s.fit_result is not None and s.fit_result.success
    live = [p for p in seen if not p["final"]]
    assert live and all(p["images"]["significance"].shape == (150, 150) for p in live)
    final = seen[-1]
    assert final["final"] and final["stat"] == pytest.approx(s.dataset.stat_sum(), rel=1e-9)
    assert final["stat"] < start_stat
    assert abs(crab.lon_0.value - CRAB.ra.deg) < 0.02 and abs(crab.lat_0.value - CRAB.dec.deg) < 0.02
    # Stop: a slowed fit stopped after a few steps keeps a point better than the start
    crab.lon_0.value, crab.lat_0.value = 83.60, 22.04
    start_stat = s.dataset.stat_sum()
    s.fit_step_delay = 0.5  # the fit sleeps after each live update: Stop lands in the middle of MIGRAD
    s.fit_throttle = 0.0  # the first update at the first step (MIGRAD can converge within one 0.1 s throttle)
    seen.clear()
    s.fit()
    deadline = time.monotonic() + 60
    while not [p for p in list(seen) if not p["final"]] and time.monotonic() < deadline:
        time.sleep(0.01)
    s.stop_fit()
    s.wait()
    assert s.fit_result.cancelled
    assert s.dataset.stat_sum() <= start_stat
    assert seen[-1]["final"] and not s.fitting
    s.close()


def test_session_the_users_edit_wins_over_a_running_fit():
    """A drag during a fit stops it; the dragged position stays, the result is stale, the maps show the drag."""
    s = _session(background=True)
    s.set_models([crab_sky_model()])
    crab = s.models["crab"].spatial_model
    crab.lon_0.value = 83.60
    s.fit_step_delay = 0.05
    started = threading.Event()
    s.observe(lambda c: started.set() if not c["new"].get("final") else None, "fit_progress")
    s.fit()
    assert started.wait(60)
    s.move("crab", 83.9, 22.2)  # the user drags the source while the fit runs
    s.wait()
    assert (crab.lon_0.value, crab.lat_0.value) == (83.9, 22.2)
    assert s.fit_stale and "lon_0" in s.status
    images = s.images()
    np.testing.assert_allclose(images["npred"], ResidualMaps(s.dataset).full()["npred"], rtol=1e-10, atol=1e-12)
    s.close()


def test_map_view_drag_moves_the_model_and_changes_the_map():
    """Drag events (as the page sends them) move the model to the pixel's sky position and redraw the map."""
    from gwidgets.widgets.map_view import REGION, MapView

    s = _session()
    view = MapView(s)
    view.flush()
    before, version = bytes(view.canvas.image), view.canvas.version
    handle = next(h for h in view.canvas.handles if h["name"] == "crab")
    x, y = handle["x"] + 12.0, handle["y"] - 7.0
    view.canvas.drag = {"name": "crab", "what": "center", "x": x, "y": y, "r": 0, "final": True, "seq": 1}
    view.flush()
    lon, lat = s.geom.wcs.wcs_pix2world([[x, y]], 0)[0]
    crab = s.models["crab"].spatial_model
    assert crab.lon_0.value == pytest.approx(lon, abs=1e-9) and crab.lat_0.value == pytest.approx(lat, abs=1e-9)
    moved = next(h for h in view.canvas.handles if h["name"] == "crab")
    assert (moved["x"], moved["y"]) == (pytest.approx(x, abs=1e-6), pytest.approx(y, abs=1e-6))
    assert view.canvas.version > version and bytes(view.canvas.image) != before
    # the size handle of the Gaussian: radius in pixels -> sigma in degrees
    view.canvas.drag = {"name": "gauss", "what": "size", "x": 0, "y": 0, "r": 10.0, "final": True, "seq": 2}
    view.flush()
    assert s.models["gauss"].spatial_model.sigma.value == pytest.approx(10 * s.geom.binsz)
    # the region: its spectrum panel follows
    counts_before = view.counts.y.copy()
    view.canvas.drag = {"name": REGION, "what": "size", "x": 0, "y": 0, "r": 25.0, "final": True, "seq": 3}
    view.flush()
    assert s.region["radius"] == pytest.approx(25 * s.geom.binsz)
    assert view.counts.y.sum() > counts_before.sum()
    # a bad drag is reported in the page, not raised
    view.canvas.drag = {"name": "nope", "what": "center", "x": 1, "y": 1, "r": 0, "final": True, "seq": 4}
    assert "No sky model named 'nope'" in s.error
    view.close()


def test_build_from_a_store_and_dashboard_tab_is_lazy():
    """MapSession.build reduces runs of the simulated store; the dashboard imports nothing 3D before its tab."""
    import subprocess
    import sys

    import gwidgets as gw
    from gwidgets.state.map_session import MapSession

    store = gw.example_store()
    s = MapSession(background=False)
    s.build(store, store.obs_ids[:2])
    assert s.dataset.counts.data.shape == (10, 150, 150) and s.dataset.meta["obs_ids"] == list(store.obs_ids[:2])
    assert [m.name for m in s.models] == ["source", "stacked-bkg"]
    assert np.isfinite(s.images()["significance"]).any()
    with pytest.raises(GwidgetsError, match="No observations selected"):
        s.build(store, [])
    # per observation: the stacked cube is the sum of the runs' cubes; each dataset has its background model
    s.build(store, store.obs_ids[:2], per_observation=True)
    names = [f"obs-{i}" for i in store.obs_ids[:2]]
    assert list(s.datasets) == ["stacked", *names]
    stacked = s.datasets["stacked"].counts.data
    np.testing.assert_array_equal(stacked, sum(s.datasets[n].counts.data * s.datasets[n].mask_safe for n in names))
    assert sorted(m.name for m in s.models if type(m).__name__ == "FoVBackgroundModel") == sorted(
        f"{n}-bkg" for n in ["stacked", *names])
    s.show(names[1])
    one = s.images()
    np.testing.assert_array_equal(one["counts"], (s.datasets[names[1]].counts.data
                                                  * s.datasets[names[1]].mask_safe).sum(axis=0))
    with pytest.raises(GwidgetsError, match="No 3D dataset 'nope'"):
        s.show("nope")
    code = ("import sys; from gwidgets.app import Dashboard; d = Dashboard(aladin=False); "
            "print(sorted(m for m in sys.modules if m.endswith(('map_session', 'map_view', 'sky_canvas', "
            "'map_residuals'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def _cutout_wcs(geom, sy, sx):
    """The WCS of the map pixels (sy, sx)."""
    wcs = geom.wcs.deepcopy()
    wcs.wcs.crpix = [wcs.wcs.crpix[0] - sx.start, wcs.wcs.crpix[1] - sy.start]
    wcs.wcs.set()
    return wcs


def test_cached_kernel_transforms_equal_scipy_fftconvolve(ours):
    """The evaluator's PSF convolution (kernel FFTs kept per FFT length) equals scipy.signal.fftconvolve.

    The model on the evaluator's input window, convolved in full by scipy and cut to the cut-out. Also after
    the source moved to a new cut-out (a new FFT length: the kept kernel transforms must not be reused), after
    a size change and back; each time it also equals a fresh evaluator's result (no stale cache).
    """
    from scipy.signal import fftconvolve

    from gwidgets.core.datasets.map_evaluator import MapEvaluator

    model = ours.models["gauss"]
    ev = MapEvaluator(model, ours)
    geom, kernel = ours.counts.geom, ours.psf.data
    h = kernel.shape[1] // 2
    lit = ours.exposure.data.reshape(kernel.shape[0], -1).any(axis=1)
    assert lit.any() and not lit.all()  # the DR1 cube has true-energy bins without exposure: they are skipped
    windows = set()
    for change in (None, ("lon_0", 83.0), ("sigma", 0.3), ("sigma", 0.15), ("lon_0", 83.9), ("lon_0", 83.91)):
        if change is not None:
            model.spatial_model.parameters[change[0]].value = change[1]
        (sy, sx), _ = ev.compute()
        iy, ix = ev.input_slices
        spatial = model.spatial_model.integrate_wcs(_cutout_wcs(geom, iy, ix), (iy.stop - iy.start, ix.stop - ix.start))
        full = fftconvolve(np.broadcast_to(spatial, (kernel.shape[0],) + spatial.shape), kernel, axes=(1, 2))
        # full[:, j] is map pixel iy.start - h + j: cut it to the cut-out
        y0, x0 = sy.start - (iy.start - h), sx.start - (ix.start - h)
        expected = np.clip(full[:, y0:y0 + sy.stop - sy.start, x0:x0 + sx.stop - sx.start], 0, None)
        assert expected.shape[1:] == (sy.stop - sy.start, sx.stop - sx.start)
        values = ev.spatial_psf()
        np.testing.assert_allclose(values[lit], expected[lit], rtol=1e-12, atol=1e-15, err_msg=str(change))
        assert not values[~lit].any()
        fresh = MapEvaluator(model, ours)  # the window depends on the parameters only: the same numbers
        fresh.compute()
        assert fresh.input_slices == ev.input_slices
        np.testing.assert_array_equal(values, fresh.spatial_psf(), err_msg=str(change))
        windows.add((iy.stop - iy.start, ix.stop - ix.start))
    assert len(windows) >= 3  # new windows, new FFT lengths: the kernel transforms were not reused


def test_kernel_transforms_follow_a_replaced_kernel(ours):
    """The kernels' transforms, shared and kept per FFT shape, follow a replaced PSF kernel.

    A dataset given a new PSF kernel of the same size (the same FFT shapes) gets the model convolved with the
    new kernel, equal to scipy's convolution with it.
    """
    from scipy.signal import fftconvolve

    from gwidgets.core.datasets.map_evaluator import MapEvaluator
    from gwidgets.core.datasets.map_irf import PSFKernel

    model = ours.models["gauss"]
    ev = MapEvaluator(model, ours)
    before = ev.spatial_psf().copy()
    narrow = ours.psf.data ** 2
    narrow /= narrow.sum(axis=(1, 2), keepdims=True)
    ours.psf = PSFKernel(narrow, ours.psf.binsz_deg)
    model.spatial_model.sigma.value += 1e-9  # the same window and FFT shape, a new evaluation
    ev = MapEvaluator(model, ours)
    (sy, sx), _ = ev.compute()
    after = ev.spatial_psf()
    assert after.shape == before.shape and np.abs(after - before).max() > 1e-3 * before.max()
    iy, ix = ev.input_slices
    spatial = model.spatial_model.integrate_wcs(_cutout_wcs(ours.counts.geom, iy, ix),
                                                (iy.stop - iy.start, ix.stop - ix.start))
    h = narrow.shape[1] // 2
    full = fftconvolve(np.broadcast_to(spatial, (narrow.shape[0],) + spatial.shape), narrow, axes=(1, 2))
    y0, x0 = sy.start - (iy.start - h), sx.start - (ix.start - h)
    expected = np.clip(full[:, y0:y0 + sy.stop - sy.start, x0:x0 + sx.stop - sx.start], 0, None)
    lit = ours.exposure.data.reshape(narrow.shape[0], -1).any(axis=1)
    np.testing.assert_allclose(after[lit], expected[lit], rtol=1e-12, atol=1e-15)


def _whole_map_npred(ds, model):
    """The predicted counts of ``model`` evaluated on the whole map of ``ds`` (scipy's convolution, its EDISP)."""
    from scipy.signal import fftconvolve

    kernel = ds.psf.data
    spatial = model.spatial_model.integrate_wcs(ds.counts.geom.wcs, ds.counts.data.shape[1:])
    conv = np.clip(fftconvolve(np.broadcast_to(spatial, (kernel.shape[0],) + spatial.shape), kernel, mode="same",
                               axes=(1, 2)), 0, None)
    edges = ds.exposure.geom.axis("energy_true").edges.to_value("TeV")
    npred_true = model.spectral_model.integral_values(edges[:-1], edges[1:])[:, None, None] * conv * ds.exposure.data
    return np.einsum("ij,ikl->jkl", ds.edisp, npred_true * 1e4)


def test_template_turned_on_the_map_is_not_truncated(ours):
    """A square template turned on the map is evaluated whole (its corners are inside the window).

    Galactic template on the ICRS map (turned by ~60 deg, corners full): its npred on the evaluator's window
    equals the whole-map evaluation to < 1e-6.
    """
    from astropy.coordinates import SkyCoord
    from astropy.wcs import WCS

    from gwidgets.core.datasets.map_evaluator import MapEvaluator
    from gwidgets.core.models import TemplateSpatialModel

    gal = SkyCoord(83.5, 22.1, unit="deg").galactic
    wcs = WCS(naxis=2)
    wcs.wcs.ctype, wcs.wcs.cdelt = ["GLON-CAR", "GLAT-CAR"], [-0.02, 0.02]
    wcs.wcs.crval, wcs.wcs.crpix = [gal.l.deg, gal.b.deg], [25.5, 25.5]
    wcs.wcs.set()
    model = SkyModel(PowerLaw(index=2.4, amplitude="1e-11 cm-2 s-1 TeV-1"),
                     TemplateSpatialModel(np.ones((50, 50)), wcs), name="template")
    ours.models = [*ours.models, model]
    sl, cut = MapEvaluator(model, ours).compute()
    ours_npred = np.zeros(ours.counts.data.shape)
    ours_npred[(slice(None),) + sl] = cut
    reference = _whole_map_npred(ours, model)
    assert reference.sum() > 0
    assert abs(ours_npred.sum() - reference.sum()) < 1e-6 * reference.sum()
    assert np.abs(ours_npred - reference).max() < 1e-6 * reference.max()


@pytest.mark.parametrize("sigma", [0.05, 0.1, 0.2])
def test_gaussian_truncation_below_1e6_of_npred(ours, sigma):
    """The Gaussian evaluated on its input window only differs from it evaluated on the whole map by < 1e-6.

    Its npred against the model on the whole map (same kernel, exposure and EDISP, convolved by scipy): the
    difference is < 1e-6 of the total npred, per pixel and in sum.

    The source just under half a block off the centre of its window on both axes (the window's worst case).
    """
    from gwidgets.core.datasets.map_evaluator import BLOCK_PIX, MapEvaluator

    model = ours.models["gauss"]
    sm = model.spatial_model
    sm.sigma.value = sigma
    wcs = ours.counts.geom.wcs
    x, y = wcs.wcs_world2pix([[sm.lon_0.value, sm.lat_0.value]], 0)[0]
    off = 0.49 * BLOCK_PIX
    x, y = BLOCK_PIX * np.round(x / BLOCK_PIX) + off, BLOCK_PIX * np.round(y / BLOCK_PIX) - off
    sm.lon_0.value, sm.lat_0.value = wcs.wcs_pix2world([[x, y]], 0)[0]
    ev = MapEvaluator(model, ours)
    sl, cut = ev.compute()
    iy, ix = ev.input_slices
    if ix.start > 0 and ix.stop < ours.counts.data.shape[2]:  # not clipped by the map: the source is off-centre
        assert abs((ix.start + ix.stop - 1) / 2 - x) == pytest.approx(off, abs=1e-6)
    reference = _whole_map_npred(ours, model)
    ours_npred = np.zeros_like(reference)
    ours_npred[(slice(None),) + sl] = cut
    total = ours.npred().data.sum()
    lost = abs(ours_npred.sum() - reference.sum())
    print(f"sigma {sigma}: truncation {lost / total:.2e} of the total npred, {lost / reference.sum():.2e} of the "
          f"source's (max pixel {np.abs(ours_npred - reference).max() / total:.2e} of the total)")
    assert lost < 1e-6 * total and lost < 1e-6 * reference.sum()  # also of the source's own npred
    assert np.abs(ours_npred - reference).max() < 1e-6 * total
    assert (iy.stop - iy.start) * (ix.stop - ix.start) < reference[0].size  # the truncation is not vacuous


def test_axis_plan_circular_equals_linear_convolution():
    """axis_plan: the circular convolution of the planned length, cropped, equals the linear one on the output.

    Random input lengths, offsets (also outside the output), output lengths and kernels, against numpy.convolve.
    """
    from gwidgets.core.datasets.map_evaluator import axis_plan

    rng = np.random.default_rng(1)
    for _ in range(300):
        n_in, n_out, k = rng.integers(1, 30), rng.integers(1, 40), 2 * rng.integers(0, 8) + 1
        offset = int(rng.integers(-n_in - k, n_out + k))
        x, kern = rng.normal(size=n_in), rng.normal(size=k)
        expected = np.zeros(n_out)  # linear convolution, kernel centred, on output pixels 0..n_out-1
        full = np.convolve(x, kern)
        for j, v in enumerate(full):
            p = offset - k // 2 + j
            if 0 <= p < n_out:
                expected[p] = v
        n_min, a, b, p0 = axis_plan(n_in, offset, n_out, k)
        got = np.zeros(n_out)
        if b > a:
            circ = np.fft.irfft(np.fft.rfft(x, n_min) * np.fft.rfft(kern, n_min), n_min)
            got[p0:p0 + b - a] = circ[a:b]
        np.testing.assert_allclose(got, expected, atol=1e-12, err_msg=str((n_in, offset, n_out, k)))
        assert n_min <= n_in + k - 1 or b <= a
