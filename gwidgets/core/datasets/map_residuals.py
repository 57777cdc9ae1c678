"""Counts, predicted counts and residual significance images of a `MapDataset`, updated per parameter change.

The live 3D view redraws a residual map on every drag of a source; this module
makes that cheap. What does not depend on the model parameters is prepared
once: the counts image (counts × mask summed over the chosen reco-energy bins,
smoothed), the masked background cube flattened to (n_e, n_pix). A parameter
change then costs

* the background image: one product of the background model's per-energy norm
  with that flattened cube (no 3D array is built);
* the signal: each sky model's predicted counts on its cut-out
  (`~gwidgets.core.datasets.map_evaluator.MapEvaluator`, cached per model by
  its parameter values — moving one source re-evaluates only that source),
  masked and summed over energy into the image (when the mask is the same in
  every reco bin summed, the usual case, the evaluator sums over energy first:
  `~gwidgets.core.datasets.map_evaluator.MapEvaluator.compute_image`);
* the smoothing of the npred image and the significance
  ``(counts − npred) / √npred``.

The images are those of gammapy's ``MapDataset.plot_residuals_spatial``
(``method="diff/sqrt(model)"``, Gaussian smoothing of width ``smooth_radius``
by ``scipy.ndimage.gaussian_filter`` with its defaults, NaN outside the mask),
and `ResidualMaps.full` computes them the plain way from ``dataset.npred()``
as a reference.

Examples
--------
Two runs of the simulated example store, binned around its bright source, with a model of it:

>>> from gwidgets.core.geom import MapAxis, WcsGeom
>>> from gwidgets.core.models import FoVBackgroundModel, PointSpatialModel, PowerLaw, SkyModel
>>> from gwidgets.core.reduction import MapDatasetMaker
>>> observations = gw.example_store().get_observations([1001, 1002])
>>> position = SkyCoord(83.63, 22.01, unit="deg")                     # the example store's bright source
>>> energy_axis = MapAxis.from_energy_bounds(1 * u.TeV, 10 * u.TeV, 4)
>>> geom = WcsGeom.create(position, binsz=0.04, width=2 * u.deg, axes=[energy_axis])
>>> energy_axis_true = MapAxis.from_energy_bounds(0.5 * u.TeV, 20 * u.TeV, 8, name="energy_true")
>>> dataset = MapDatasetMaker(geom, energy_axis_true, offset_max="2.5 deg").run_stacked(observations)
>>> dataset.models = [SkyModel(PowerLaw(index=2.6, amplitude="3e-11 cm-2 s-1 TeV-1"),
...                            PointSpatialModel(lon_0="83.63 deg", lat_0="22.01 deg"), name="crab"),
...                   FoVBackgroundModel(dataset.name)]
>>> maps = ResidualMaps(dataset, smooth_radius=0.1)
>>> dataset.models["crab"].spatial_model.lon_0.value += 0.05
>>> images = maps.images()                                   # only the moved source is re-evaluated
>>> images["significance"].shape
(50, 50)
>>> full = maps.full()                                       # the plain way, from dataset.npred()
>>> bool(np.allclose(images["npred"], full["npred"], equal_nan=True))
True
"""
from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from scipy.ndimage import gaussian_filter

from .base import DatasetError
from .map_evaluator import MapEvaluator

__all__ = ["ResidualMaps", "significance_image", "region_spectrum", "sky_models", "background_model"]


def _applies(model, dataset) -> bool:
    names = getattr(model, "datasets_names", None)
    return names is None or dataset.name in names


def sky_models(dataset) -> list:
    """The `SkyModel` s of ``dataset.models`` that apply to ``dataset`` (``datasets_names``).

    Parameters
    ----------
    dataset : `~gwidgets.core.datasets.map.MapDataset`
        The dataset.

    Returns
    -------
    list of `~gwidgets.core.models.SkyModel`
        In the order of ``dataset.models`` (empty without models).
    """
    return [m for m in (dataset.models or []) if type(m).__name__ == "SkyModel" and _applies(m, dataset)]


def background_model(dataset):
    """The `FoVBackgroundModel` of ``dataset`` (None without one).

    Parameters
    ----------
    dataset : `~gwidgets.core.datasets.map.MapDataset`
        The dataset.

    Returns
    -------
    `~gwidgets.core.models.FoVBackgroundModel` or None
        The background model that applies to ``dataset``.

    Raises
    ------
    DatasetError
        If more than one background model applies to ``dataset``.
    """
    bkg = [m for m in (dataset.models or []) if type(m).__name__ == "FoVBackgroundModel" and _applies(m, dataset)]
    if len(bkg) > 1:
        raise DatasetError(f"Dataset '{dataset.name}' has {len(bkg)} background models; at most one is allowed")
    return bkg[0] if bkg else None


class Cutouts:
    """One `MapEvaluator` per sky model of a dataset (made on first use, kept while the model object lives).

    Parameters
    ----------
    dataset : `~gwidgets.core.datasets.map.MapDataset`
        The dataset whose sky models are evaluated.
    """

    def __init__(self, dataset):
        self.dataset = dataset
        self._evaluators: dict = {}

    def evaluators(self) -> list:
        """The evaluators of the dataset's current sky models (new ones for new models; the others are dropped).

        Returns
        -------
        list of `~gwidgets.core.datasets.map_evaluator.MapEvaluator`
            In the order of `sky_models`.
        """
        out, keep = [], {}
        for model in sky_models(self.dataset):
            ev = self._evaluators.get(id(model))
            if ev is None or ev.model is not model or ev.dataset is not self.dataset:
                ev = MapEvaluator(model, self.dataset)
            keep[id(model)] = ev
            out.append(ev)
        self._evaluators = keep
        return out

    def __call__(self):
        """``[(model, slices, npred cut-out (n_reco, h, w))]`` of the sky models with pixels on the map.

        Returns
        -------
        list of tuple
            ``(model, slices, npred)`` per sky model on the map: ``slices`` the (y, x) slices of its
            cut-out, ``npred`` its predicted counts (n_reco, h, w).
        """
        out = []
        for ev in self.evaluators():
            sl, values = ev.compute()
            if sl is not None:
                out.append((ev.model, sl, values))
        return out

    def images(self, reco_bins) -> list:
        """``[(model, slices, image)]``: as calling this object, npred summed over the reco bins ``[i0, i1)``.

        Parameters
        ----------
        reco_bins : tuple of int
            ``(i0, i1)``: the reco-energy bins summed.

        Returns
        -------
        list of tuple
            ``(model, slices, image)`` per sky model on the map, ``image`` (h, w) in counts.
        """
        out = []
        for ev in self.evaluators():
            sl, image = ev.compute_image(reco_bins)
            if sl is not None:
                out.append((ev.model, sl, image))
        return out


def significance_image(counts, npred, smooth_pix: float = 0.0, valid=None) -> np.ndarray:
    """``(counts − npred) / √npred`` of two images after a Gaussian smoothing of ``smooth_pix`` pixels.

    Parameters
    ----------
    counts, npred : ndarray (ny, nx)
        Counts and predicted counts images (already masked and summed over energy).
    smooth_pix : float
        Standard deviation of the Gaussian smoothing in pixels (0: none), as gammapy's ``Map.smooth``.
    valid : ndarray of bool (ny, nx), optional
        Pixels to keep; the others are NaN.

    Returns
    -------
    ndarray (ny, nx)
        The significance image (NaN where npred ≤ 0 or outside ``valid``).

    Examples
    --------
    >>> import numpy as np
    >>> float(significance_image(np.full((2, 2), 4.0), np.ones((2, 2)))[0, 0])
    3.0
    """
    c = np.asarray(counts, float)
    n = np.asarray(npred, float)
    if smooth_pix > 0:
        c = gaussian_filter(c, smooth_pix)
        n = gaussian_filter(n, smooth_pix)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (c - n) / np.sqrt(n)
    out[~(n > 0)] = np.nan
    if valid is not None:
        out[~valid] = np.nan
    return out


class ResidualMaps:
    """Counts / npred / significance images of ``dataset`` for the current model parameters (see the module doc).

    Parameters
    ----------
    dataset : `~gwidgets.core.datasets.MapDataset`
        The dataset with its models (sky models + optional FoV background model).
    energy_range : (int, int), optional
        Reco-energy bins ``[i0, i1)`` summed into the images (default: all).
    smooth_radius : float or Quantity
        Gaussian smoothing width (standard deviation) of the counts and npred images [deg]; 0 for none.

    Raises
    ------
    DatasetError
        If ``energy_range`` is not bins ``[i0, i1)`` with 0 ≤ i0 < i1 ≤ n_reco, or ``smooth_radius``
        is not a finite angle ≥ 0.

    Examples
    --------
    The dataset and models of the module's example:

    >>> from gwidgets.core.geom import MapAxis, WcsGeom
    >>> from gwidgets.core.models import FoVBackgroundModel, PointSpatialModel, PowerLaw, SkyModel
    >>> from gwidgets.core.reduction import MapDatasetMaker
    >>> observations = gw.example_store().get_observations([1001, 1002])
    >>> position = SkyCoord(83.63, 22.01, unit="deg")                     # the example store's bright source
    >>> energy_axis = MapAxis.from_energy_bounds(1 * u.TeV, 10 * u.TeV, 4)
    >>> geom = WcsGeom.create(position, binsz=0.04, width=2 * u.deg, axes=[energy_axis])
    >>> energy_axis_true = MapAxis.from_energy_bounds(0.5 * u.TeV, 20 * u.TeV, 8, name="energy_true")
    >>> dataset = MapDatasetMaker(geom, energy_axis_true, offset_max="2.5 deg").run_stacked(observations)
    >>> dataset.models = [SkyModel(PowerLaw(index=2.6, amplitude="3e-11 cm-2 s-1 TeV-1"),
    ...                            PointSpatialModel(lon_0="83.63 deg", lat_0="22.01 deg"), name="crab"),
    ...                   FoVBackgroundModel(dataset.name)]
    >>> maps = ResidualMaps(dataset)
    >>> bool(np.isclose(np.nansum(maps.images()["npred"]), dataset.npred().data[:, dataset.mask.any(axis=0)].sum()))
    True
    """

    def __init__(self, dataset, energy_range=None, smooth_radius=0.1):
        self.dataset = dataset
        n_e = dataset.counts.data.shape[0]
        i0, i1 = (0, n_e) if energy_range is None else (int(energy_range[0]), int(energy_range[1]))
        if not 0 <= i0 < i1 <= n_e:
            raise DatasetError(f"Dataset '{dataset.name}': energy_range {energy_range} must be bins [i0, i1) "
                               f"with 0 <= i0 < i1 <= {n_e}")
        self.energy_range = (i0, i1)
        radius = u.Quantity(smooth_radius, u.deg).to_value(u.deg)
        if not np.isfinite(radius) or radius < 0:
            raise DatasetError(f"smooth_radius must be a finite angle >= 0, got {smooth_radius}")
        self.smooth_radius = radius
        self.smooth_pix = radius / dataset.counts.geom.binsz
        self._prepare()

    # ----------------------------------------------------------- constants
    def _prepare(self):
        ds = self.dataset
        i0, i1 = self.energy_range
        shape = ds.counts.data.shape
        mask = ds.mask
        mask = np.ones(shape, bool) if mask is None else mask
        self._mask = mask[i0:i1]
        self.valid = self._mask.any(axis=0)
        # the same mask in every reco bin summed (an offset cut, an exclusion): the signal summed over energy first
        self._mask_image = self._mask[0] if (self._mask == self._mask[:1]).all() else None
        self.counts = (ds.counts.data[i0:i1] * self._mask).sum(axis=0).astype(float)
        self._counts_smooth = gaussian_filter(self.counts, self.smooth_pix) if self.smooth_pix > 0 else self.counts
        ny, nx = shape[1:]
        if ds.background is None:
            self._bkg_flat = None
        else:
            self._bkg_flat = (ds.background.data[i0:i1] * self._mask).reshape(i1 - i0, ny * nx)
        self._image_shape = (ny, nx)
        self.cutouts = Cutouts(ds)
        self._e_center = ds.counts.geom.axis("energy").center.to_value(u.TeV)

    # ------------------------------------------------------------ images
    def background_image(self) -> np.ndarray:
        """Predicted background counts (× the background model's norm), masked and summed over energy.

        Returns
        -------
        numpy.ndarray
            Image (ny, nx) in counts (zeros without a background).

        Raises
        ------
        DatasetError
            If more than one background model applies to the dataset.
        """
        ds = self.dataset
        i0, i1 = self.energy_range
        bkg = background_model(ds)
        if self._bkg_flat is None:
            return np.zeros(self._image_shape)
        if bkg is not None and bkg.spatial_model is not None:  # rare: the plain way
            return (ds.npred_background().data[i0:i1] * self._mask).sum(axis=0)
        if bkg is None:
            factor = np.ones(i1 - i0)
        else:
            factor = np.broadcast_to(np.asarray(bkg.spectral_model.dnde_values(self._e_center[i0:i1]), float),
                                     (i1 - i0,))
        return (factor @ self._bkg_flat).reshape(self._image_shape)

    def signal_image(self) -> np.ndarray:
        """Predicted source counts of all sky models, masked and summed over energy (each model on its cut-out).

        Returns
        -------
        numpy.ndarray
            Image (ny, nx) in counts.
        """
        i0, i1 = self.energy_range
        out = np.zeros(self._image_shape)
        if self._mask_image is not None:
            for _, sl, image in self.cutouts.images((i0, i1)):
                out[sl] += image * self._mask_image[sl]
            return out
        for _, sl, values in self.cutouts():
            out[sl] += np.einsum("ijk,ijk->jk", values[i0:i1], self._mask[(slice(None),) + sl], optimize=False)
        return out

    def images(self) -> dict:
        """``{"counts", "npred", "significance", "counts_smooth", "npred_smooth"}`` images (ny, nx).

        For the current parameters. The significance is computed from counts and npred smoothed by
        ``smooth_radius`` (``counts_smooth``, ``npred_smooth``).

        Returns
        -------
        dict of numpy.ndarray
            Images (ny, nx): ``counts`` and ``npred`` (counts), ``counts_smooth`` and ``npred_smooth``,
            ``significance`` (NaN where npred ≤ 0 or outside the mask).
        """
        npred = self.background_image() + self.signal_image()
        n_s = gaussian_filter(npred, self.smooth_pix) if self.smooth_pix > 0 else npred
        with np.errstate(invalid="ignore", divide="ignore"):
            sig = (self._counts_smooth - n_s) / np.sqrt(n_s)
        sig[~(n_s > 0) | ~self.valid] = np.nan
        return {"counts": self.counts, "npred": npred, "significance": sig, "counts_smooth": self._counts_smooth,
                "npred_smooth": n_s}

    def full(self) -> dict:
        """The same images computed the plain way from ``dataset.npred()`` (the reference for `images`).

        Returns
        -------
        dict of numpy.ndarray
            Images (ny, nx): ``counts``, ``npred``, ``significance``.
        """
        i0, i1 = self.energy_range
        npred = (self.dataset.npred().data[i0:i1] * self._mask).sum(axis=0)
        sig = significance_image(self.counts, npred, self.smooth_pix, self.valid)
        return {"counts": self.counts, "npred": npred, "significance": sig}

    # ---------------------------------------------------------- spectra
    def region_mask(self, center, radius) -> np.ndarray:
        """Pixels (ny, nx) whose centre is within ``radius`` of ``center``.

        ``center`` is a SkyCoord or (lon, lat) in degrees in the map's frame.

        Parameters
        ----------
        center : `~astropy.coordinates.SkyCoord` or tuple of float
            Circle centre.
        radius : `~astropy.units.Quantity` or float
            Circle radius (floats in deg).

        Returns
        -------
        numpy.ndarray
            Boolean image (ny, nx).

        Raises
        ------
        DatasetError
            If ``radius`` is not a positive finite angle.
        """
        geom = self.dataset.counts.geom
        if isinstance(center, SkyCoord):
            c = center.transform_to(geom.frame).spherical
            center = (float(c.lon.deg), float(c.lat.deg))
        r = u.Quantity(radius, u.deg).to_value(u.deg)
        if not np.isfinite(r) or r <= 0:
            raise DatasetError(f"Region radius must be a positive angle, got {radius}")
        if getattr(self, "_xyz", None) is None:  # unit vectors of the pixel centres, once
            sph = geom.pixel_centers().spherical
            lon, lat = sph.lon.rad, sph.lat.rad
            self._xyz = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)
        lon0, lat0 = np.radians(center[0]), np.radians(center[1])
        v = np.array([np.cos(lat0) * np.cos(lon0), np.cos(lat0) * np.sin(lon0), np.sin(lat0)])
        return self._xyz @ v >= np.cos(np.radians(r))

    def region_spectrum(self, center, radius) -> dict:
        """Counts, background, npred and residuals per reco-energy bin in a circle (as `region_spectrum`).

        What depends only on the circle (its mask, the counts and background in it) is kept until the circle
        moves; each call then sums the background norm and the sky models' cut-outs inside it.

        Parameters
        ----------
        center : `~astropy.coordinates.SkyCoord` or tuple of float
            Circle centre ((lon, lat) in deg in the map's frame).
        radius : `~astropy.units.Quantity` or float
            Circle radius (floats in deg).

        Returns
        -------
        dict
            As `region_spectrum`: ``energy_edges`` (TeV), ``counts``, ``background``, ``npred``,
            ``residuals``, ``significance`` per reco-energy bin, and ``n_pixels``.

        Raises
        ------
        DatasetError
            If ``radius`` is not a positive finite angle.
        """
        ds = self.dataset
        key = (tuple(center) if not isinstance(center, SkyCoord) else (center.ra.deg, center.dec.deg),
               u.Quantity(radius, u.deg).to_value(u.deg))
        if getattr(self, "_region_key", None) != key:
            region = self.region_mask(center, radius)
            full_mask = ds.mask
            sel = np.broadcast_to(region[None], ds.counts.data.shape) if full_mask is None else full_mask & region[None]
            self._region = {
                "sel": sel, "n_pixels": int(region.sum()),
                "counts": (ds.counts.data * sel).sum(axis=(1, 2)).astype(float),
                "background": (np.zeros(sel.shape[0]) if ds.background is None
                               else (ds.background.data * sel).sum(axis=(1, 2))),
            }
            self._region_key = key
        reg = self._region
        bkg_model = background_model(ds)
        if bkg_model is not None and bkg_model.spatial_model is not None:
            background = (ds.npred_background().data * reg["sel"]).sum(axis=(1, 2))
        elif bkg_model is not None:
            background = reg["background"] * np.asarray(bkg_model.spectral_model.dnde_values(self._e_center), float)
        else:
            background = reg["background"]
        signal = np.zeros(reg["counts"].shape)
        for _, sl, values in self.cutouts():
            signal += np.einsum("ijk,ijk->i", values, reg["sel"][(slice(None),) + sl], optimize=False)
        return _spectrum_dict(ds, reg["counts"], background, signal, reg["n_pixels"])


def region_spectrum(dataset, region, cutouts=None) -> dict:
    """Spectrum of the pixels ``region`` (ny, nx bool) of a `MapDataset`: counts, npred, residuals per energy.

    Only the safe/fit mask's bins count. The signal is summed from each sky model's cut-out.

    Parameters
    ----------
    dataset : `~gwidgets.core.datasets.MapDataset`
    region : ndarray of bool (ny, nx)
    cutouts : `Cutouts`, optional
        The evaluators to reuse (a live view keeps one); default: new ones.

    Returns
    -------
    dict
        ``energy_edges`` [TeV] (n+1,), ``counts``, ``background``, ``npred`` (background + signal),
        ``residuals`` (counts − npred) and ``significance`` ((counts − npred)/√npred), each (n,);
        ``n_pixels``.

    Examples
    --------
    The dataset and models of the module's example:

    >>> from gwidgets.core.geom import MapAxis, WcsGeom
    >>> from gwidgets.core.models import FoVBackgroundModel, PointSpatialModel, PowerLaw, SkyModel
    >>> from gwidgets.core.reduction import MapDatasetMaker
    >>> observations = gw.example_store().get_observations([1001, 1002])
    >>> position = SkyCoord(83.63, 22.01, unit="deg")                     # the example store's bright source
    >>> energy_axis = MapAxis.from_energy_bounds(1 * u.TeV, 10 * u.TeV, 4)
    >>> geom = WcsGeom.create(position, binsz=0.04, width=2 * u.deg, axes=[energy_axis])
    >>> energy_axis_true = MapAxis.from_energy_bounds(0.5 * u.TeV, 20 * u.TeV, 8, name="energy_true")
    >>> dataset = MapDatasetMaker(geom, energy_axis_true, offset_max="2.5 deg").run_stacked(observations)
    >>> dataset.models = [SkyModel(PowerLaw(index=2.6, amplitude="3e-11 cm-2 s-1 TeV-1"),
    ...                            PointSpatialModel(lon_0="83.63 deg", lat_0="22.01 deg"), name="crab"),
    ...                   FoVBackgroundModel(dataset.name)]
    >>> spec = region_spectrum(dataset, dataset.counts.geom.separation(position).deg < 0.2)
    >>> spec["counts"].shape, spec["n_pixels"] > 0
    ((4,), True)
    """
    region = np.asarray(region, bool)
    shape = dataset.counts.data.shape
    if region.shape != shape[1:]:
        raise DatasetError(f"Dataset '{dataset.name}': region mask has shape {region.shape}, expected {shape[1:]}")
    mask = dataset.mask
    sel = region[None] if mask is None else (mask & region[None])
    sel = np.broadcast_to(sel, shape)
    counts = (dataset.counts.data * sel).sum(axis=(1, 2)).astype(float)
    ys, xs = np.nonzero(region)
    if ys.size:
        box = (slice(None), slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
        background = (dataset.npred_background().data[box] * sel[box]).sum(axis=(1, 2))
    else:
        background = np.zeros(shape[0])
    signal = np.zeros(shape[0])
    for _, sl, values in (cutouts if cutouts is not None else Cutouts(dataset))():
        signal += (values * sel[(slice(None),) + sl]).sum(axis=(1, 2))
    return _spectrum_dict(dataset, counts, background, signal, int(region.sum()))


def _spectrum_dict(dataset, counts, background, signal, n_pixels) -> dict:
    npred = background + signal
    with np.errstate(invalid="ignore", divide="ignore"):
        significance = np.where(npred > 0, (counts - npred) / np.sqrt(np.where(npred > 0, npred, 1.0)), np.nan)
    return {"energy_edges": dataset.counts.geom.axis("energy").edges.to_value(u.TeV), "counts": counts,
            "background": background, "npred": npred, "residuals": counts - npred, "significance": significance,
            "n_pixels": n_pixels}
