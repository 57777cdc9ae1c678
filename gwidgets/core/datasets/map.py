"""`MapDataset`: counts, exposure, background, PSF kernel and energy dispersion on a sky cube (Cash).

* ``counts``, ``background``: `Map` on the reco-energy geometry (n_reco, ny, nx);
* ``exposure``: `Map` on the same pixels with an ``energy_true`` axis, in m² s;
* ``psf``: a `PSFKernel` (per true-energy bin) at the dataset position, or None;
* ``edisp``: a matrix (n_true, n_reco) at that position, or None (then true = reco bins);
* ``mask_safe``, ``mask_fit``: boolean arrays of the counts shape (None: all True).

``models`` holds `SkyModel` s (each evaluated by a `MapEvaluator` on a cut-out)
and at most one `FoVBackgroundModel` for this dataset (norm × (E/E_ref)^-tilt
of the background, evaluated at the reco-bin centres as gammapy). The dataset
has ``parameters``, ``stat_sum()`` and ``stat_type = "cash"``, so
``Fit().run(dataset)`` fits it directly.

Examples
--------
Two runs of the simulated example store binned around its bright point source:

>>> from gwidgets.core.datasets import example_map_dataset
>>> dataset = example_map_dataset([1001, 1002])
>>> dataset
MapDataset(name='stacked', shape=(4, 50, 50), n_true=8, counts=..., psf=yes, edisp=yes, models=0)
>>> from gwidgets.core.fit import Fit
>>> from gwidgets.core.models import FoVBackgroundModel, PointSpatialModel, PowerLaw, SkyModel
>>> source = SkyModel(PowerLaw(index=2.5, amplitude="3e-11 cm-2 s-1 TeV-1"),
...                   PointSpatialModel(lon_0="83.6 deg", lat_0="22.0 deg"), name="bright")
>>> dataset.models = [source, FoVBackgroundModel(dataset.name)]
>>> Fit().run(dataset).success
True
>>> lat = source.spatial_model.lat_0
>>> bool(abs(lat.value - 22.01) < 3 * lat.error)                      # the true position within 3 sigma
True
"""
from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.table import Table

from ..geom import Map
from ..stats import TRUNCATION_VALUE, cash_sum
from .base import DatasetError, bump_epoch
from .map_evaluator import MapEvaluator
from .map_irf import PSFKernel
from .map_stacking import MapDatasetStacking
from .map_stat import MapCash

__all__ = ["MapDataset"]


def _as_mask(mask, shape, what, name):
    if mask is None:
        return None
    arr = np.asarray(getattr(mask, "data", mask), dtype=bool)
    if arr.shape == shape[-2:]:
        arr = np.broadcast_to(arr, shape)
    if arr.shape != shape:
        raise DatasetError(f"Dataset '{name}': {what} has shape {arr.shape}, expected {shape}")
    return np.array(arr, dtype=bool)


class MapDataset(MapDatasetStacking):
    """A 3D (or 2D with one energy bin) binned dataset fitted with the Cash statistic.

    Parameters
    ----------
    counts : `~gwidgets.core.geom.Map`
        Counts cube (n_reco, ny, nx) on the reco-energy geometry.
    exposure : `~gwidgets.core.geom.Map`
        Exposure in m² s on the same pixels, with an ``energy_true`` axis (n_true, ny, nx).
    background : `~gwidgets.core.geom.Map`, optional
        Predicted background counts, same shape as ``counts``.
    psf : `~gwidgets.core.datasets.map_irf.PSFKernel`, optional
        PSF kernel with one image per true-energy bin.
    edisp : array-like, optional
        Energy-dispersion matrix (n_true, n_reco); None takes true = reco bins.
    mask_safe, mask_fit : array-like or `~gwidgets.core.geom.Map`, optional
        Boolean masks of the counts shape (an image is broadcast over energy); None means all True.
    name : str, optional
        Dataset name.
    models : `~gwidgets.core.models.SkyModel`, list or `~gwidgets.core.models.Models`, optional
        Sky models and at most one `~gwidgets.core.models.FoVBackgroundModel`.
    livetime : `~astropy.units.Quantity` or float, optional
        Live time (floats in s).
    irf_weights : array-like, optional
        Per-true-energy weights of the PSF / EDISP when stacking (default: equal weights).
    meta : dict, optional
        Metadata (e.g. ``obs_ids``).

    Raises
    ------
    DatasetError
        If the exposure pixels, background, edisp, PSF or mask shapes do not match the counts.
    """

    stat_type = "cash"
    tag = "MapDataset"

    def __init__(self, counts: Map, exposure: Map, background: Map | None = None, psf: PSFKernel | None = None,
                 edisp=None, mask_safe=None, mask_fit=None, name: str = "map", models=None,
                 livetime=None, irf_weights=None, meta=None):
        self.name = str(name)
        if exposure.geom.npix != counts.geom.npix:
            raise DatasetError(f"Dataset '{self.name}': exposure pixels {exposure.geom.npix} differ from counts "
                               f"{counts.geom.npix}")
        exposure.geom.axis("energy_true")
        self.counts = counts
        self.exposure = exposure
        self.background = background
        if background is not None and background.data.shape != counts.data.shape:
            raise DatasetError(f"Dataset '{self.name}': background shape {background.data.shape} "
                               f"!= counts {counts.data.shape}")
        n_true, n_reco = exposure.data.shape[0], counts.data.shape[0]
        if edisp is not None:
            edisp = np.asarray(edisp, dtype=float)
            if edisp.shape != (n_true, n_reco):
                raise DatasetError(f"Dataset '{self.name}': edisp matrix has shape {edisp.shape}, "
                                   f"expected {(n_true, n_reco)}")
        if psf is not None and psf.data.shape[0] != n_true:
            raise DatasetError(f"Dataset '{self.name}': PSF kernel has {psf.data.shape[0]} energies, exposure {n_true}")
        self.psf = psf
        self.edisp = edisp
        self.mask_safe = _as_mask(mask_safe, counts.data.shape, "mask_safe", self.name)
        self.mask_fit = _as_mask(mask_fit, counts.data.shape, "mask_fit", self.name)
        self.livetime = None if livetime is None else u.Quantity(livetime, u.s)
        self.irf_weights = None if irf_weights is None else np.asarray(irf_weights, float)
        self.meta = dict(meta or {})
        self._models = None
        self._models_from_collection = False
        self._evaluators = {}
        self._stat_cache = None
        self.models = models

    # ------------------------------------------------------------------ basics
    @classmethod
    def from_cubes(cls, cubes, psf=None, edisp=None, mask_safe=None, name="map", irf_weights=None, models=None):
        """A dataset from a `~gwidgets.core.reduction.map_maker.MapCubes` (one observation or a stack).

        Parameters
        ----------
        cubes : `~gwidgets.core.reduction.map_maker.MapCubes`
            Counts, exposure (m² s), background, live time and observation ids.
        psf : `~gwidgets.core.datasets.map_irf.PSFKernel`, optional
            PSF kernel per true-energy bin.
        edisp : array-like, optional
            Energy-dispersion matrix (n_true, n_reco).
        mask_safe : array-like, optional
            Boolean safe mask of the counts shape.
        name : str, optional
            Dataset name.
        irf_weights : array-like, optional
            Per-true-energy weights of the IRFs for stacking.
        models : optional
            Models of the dataset.

        Returns
        -------
        MapDataset
            The dataset; ``meta["obs_ids"]`` lists the cubes' observations.
        """
        return cls(cubes.counts, cubes.exposure, cubes.background, psf=psf, edisp=edisp, mask_safe=mask_safe,
                   name=name, livetime=cubes.livetime, irf_weights=irf_weights, models=models,
                   meta={"obs_ids": list(cubes.obs_ids)})

    @property
    def geoms(self) -> dict:
        """The counts and exposure geometries: ``{"geom": ..., "geom_exposure": ...}``."""
        return {"geom": self.counts.geom, "geom_exposure": self.exposure.geom}

    @property
    def mask(self) -> np.ndarray | None:
        """``mask_safe & mask_fit`` (None if neither is set)."""
        if self.mask_safe is None and self.mask_fit is None:
            return None
        m = np.ones(self.counts.data.shape, bool)
        if self.mask_safe is not None:
            m &= self.mask_safe
        if self.mask_fit is not None:
            m &= self.mask_fit
        return m

    @property
    def mask_safe_image(self) -> np.ndarray:
        """Image (ny, nx) of the pixels safe in at least one energy bin (all True without a safe mask)."""
        if self.mask_safe is None:
            return np.ones(self.counts.data.shape[1:], bool)
        return self.mask_safe.any(axis=0)

    def __setattr__(self, key, value):
        object.__setattr__(self, key, value)
        if key in ("counts", "exposure", "background", "psf", "edisp", "mask_safe", "mask_fit"):
            self.__dict__["_evaluators"] = {}
            self.__dict__["_stat_cache"] = None
            bump_epoch()

    # ------------------------------------------------------------------ models
    @property
    def models(self):
        """The dataset's `~gwidgets.core.models.Models` (None if unset); assigning wraps a model or list."""
        return self._models

    @models.setter
    def models(self, models):
        self._set_models(models, from_collection=False)

    def _set_models(self, models, from_collection=False):
        from ..models import Models

        if models is not None and not isinstance(models, Models):
            models = Models(models if isinstance(models, (list, tuple)) else [models])
        self.__dict__["_models"] = models
        self.__dict__["_models_from_collection"] = bool(from_collection) and models is not None
        self.__dict__["_evaluators"] = {}
        self.__dict__["_stat_cache"] = None
        bump_epoch()

    def _applies(self, m):
        names = getattr(m, "datasets_names", None)
        return names is None or self.name in names

    def _sky_models(self):
        return [m for m in (self._models or []) if type(m).__name__ == "SkyModel" and self._applies(m)]

    def _background_model(self):
        bkg = [m for m in (self._models or []) if type(m).__name__ == "FoVBackgroundModel" and self._applies(m)]
        if len(bkg) > 1:
            raise DatasetError(f"Dataset '{self.name}' has {len(bkg)} background models; at most one is allowed")
        return bkg[0] if bkg else None

    @property
    def parameters(self):
        """Parameters of the models that apply to this dataset, as `~gwidgets.core.models.Parameters`."""
        from ..models import Parameters

        if self._models is None:
            return Parameters([])
        return Parameters([p for m in self._models if self._applies(m) for p in m.parameters])

    # ------------------------------------------------------------------- npred
    def _evaluator(self, model):
        ev = self._evaluators.get(id(model))
        if ev is None or ev.model is not model:
            ev = self._evaluators[id(model)] = MapEvaluator(model, self)
        return ev

    def npred_background(self) -> Map:
        """Background counts × the background model's spectral norm (and spatial model, if any).

        Returns
        -------
        `~gwidgets.core.geom.Map`
            Predicted background counts on the counts geometry (zeros without a background).

        Raises
        ------
        DatasetError
            If more than one background model applies to this dataset.
        """
        if self.background is None:
            return Map(self.counts.geom, np.zeros(self.counts.data.shape))
        data = self.background.data
        bkg = self._background_model()
        if bkg is not None:
            e = self.counts.geom.axis("energy").center.to_value(u.TeV)
            factor = np.asarray(bkg.spectral_model.dnde_values(e), float)[:, None, None]
            if bkg.spatial_model is not None:
                from ..models._sphere import pixel_centers_world

                lon, lat = pixel_centers_world(self.counts.geom.wcs, self.counts.data.shape[1:])
                factor = factor * bkg.spatial_model.values(lon, lat)[None]
            data = data * factor
        return Map(self.counts.geom, np.asarray(data, float))

    def npred_signal(self, model_name: str | None = None) -> Map:
        """Predicted source counts (all sky models, or the one named ``model_name``).

        Parameters
        ----------
        model_name : str, optional
            Name of one sky model; None sums all sky models of the dataset.

        Returns
        -------
        `~gwidgets.core.geom.Map`
            Predicted signal counts on the counts geometry.

        Raises
        ------
        DatasetError
            If no sky model has the name ``model_name``.
        """
        out = np.zeros(self.counts.data.shape)
        models = self._sky_models()
        if model_name is not None:
            models = [m for m in models if m.name == model_name]
            if not models:
                raise DatasetError(f"Dataset '{self.name}' has no sky model named '{model_name}'")
        for m in models:
            sl, values = self._evaluator(m).compute()
            if sl is not None:
                out[(slice(None),) + sl] += values
        return Map(self.counts.geom, out)

    def npred(self) -> Map:
        """Total predicted counts: background + signal.

        Returns
        -------
        `~gwidgets.core.geom.Map`
            Predicted counts on the counts geometry.
        """
        m = self.npred_background()
        m.data = m.data + self.npred_signal().data
        return m

    # --------------------------------------------------------------- statistic
    def _stat_setup(self):
        c = self._stat_cache
        if c is None:
            mask = self.mask
            counts = self.counts.data.astype(float)
            c = self.__dict__["_stat_cache"] = {"mask": mask, "counts": counts}
        return c

    def stat_array(self) -> np.ndarray:
        """Cash statistic per bin (0 outside the mask).

        Returns
        -------
        numpy.ndarray
            Cash statistic per bin, of the counts shape.
        """
        from ..stats import cash

        c = self._stat_setup()
        out = cash(c["counts"], self.npred().data)
        if c["mask"] is not None:
            out = np.where(c["mask"], out, 0.0)
        return out

    def _background_factor(self):
        """Per-energy norm of the background model (None if it has a spatial part)."""
        bkg = self._background_model()
        n_e = self.counts.data.shape[0]
        if bkg is None:
            return np.ones(n_e)
        if bkg.spatial_model is not None:
            return None
        e = self.counts.geom.axis("energy").center.to_value(u.TeV)
        return np.broadcast_to(np.asarray(bkg.spectral_model.dnde_values(e), float), (n_e,))

    def _signal_box(self):
        """``(box, signal)`` of the sky models, or ``(None, None)`` when no model has any pixel on the map.

        ``box`` is the bounding box (y0, y1, x0, x1) of all sky models' cut-outs, ``signal`` their summed
        predicted counts inside it.
        """
        parts = [self._evaluator(m).compute() for m in self._sky_models()]
        parts = [(sl, v) for sl, v in parts if sl is not None]
        if not parts:
            return None, None
        y0 = min(sl[0].start for sl, _ in parts)
        y1 = max(sl[0].stop for sl, _ in parts)
        x0 = min(sl[1].start for sl, _ in parts)
        x1 = max(sl[1].stop for sl, _ in parts)
        signal = np.zeros((self.counts.data.shape[0], y1 - y0, x1 - x0))
        for sl, v in parts:
            signal[:, sl[0].start - y0: sl[0].stop - y0, sl[1].start - x0: sl[1].stop - x0] += v
        return (y0, y1, x0, x1), signal

    def stat_sum(self) -> float:
        """Cash statistic summed over ``mask_safe & mask_fit``.

        Only the bins around the sources are evaluated each time (see `~gwidgets.core.datasets.map_stat`).

        Returns
        -------
        float
            The summed Cash statistic.
        """
        c = self._stat_setup()
        factor = self._background_factor()
        if factor is not None:
            box, signal = self._signal_box()
            cash = c.get("fast")
            if cash is None:
                cash = c["fast"] = MapCash(c["counts"], None if self.background is None else self.background.data,
                                           c["mask"])
            value = cash.stat_sum(factor, box, signal)
            if value is not None:
                return value
        return cash_sum(c["counts"], self.npred().data, mask=c["mask"], truncation_value=TRUNCATION_VALUE)

    def residuals(self, method: str = "diff") -> Map:
        """Residual map: counts − npred (``"diff"``), (counts − npred)/npred (``"diff/model"``) or /√npred.

        The last is ``"diff/sqrt(model)"``.

        Parameters
        ----------
        method : {"diff", "diff/model", "diff/sqrt(model)"}, optional
            Residual definition.

        Returns
        -------
        `~gwidgets.core.geom.Map`
            Residuals on the counts geometry (NaN / inf where npred is 0 for the divided forms).

        Raises
        ------
        DatasetError
            For an unknown ``method``.
        """
        npred = self.npred().data
        diff = self.counts.data - npred
        with np.errstate(invalid="ignore", divide="ignore"):
            if method == "diff":
                data = diff
            elif method == "diff/model":
                data = diff / npred
            elif method == "diff/sqrt(model)":
                data = diff / np.sqrt(npred)
            else:
                raise DatasetError(f"Unknown residual method '{method}' (use 'diff', 'diff/model', 'diff/sqrt(model)')")
        return Map(self.counts.geom, data)

    # -------------------------------------------------------------------- info
    def info_dict(self) -> dict:
        """Summary numbers over ``mask_safe & mask_fit``.

        Returns
        -------
        dict
            ``name``, ``counts``, ``background``, ``excess``, ``npred_signal`` (NaN without sky model),
            ``exposure_min`` / ``exposure_max`` (m² s, the minimum over pixels with exposure > 0),
            ``livetime`` (s), ``n_bins``, ``n_fit_bins``, ``stat_type``, ``stat_sum``.
        """
        mask = self.mask
        sel = (lambda a: a[mask]) if mask is not None else (lambda a: a.ravel())
        counts = float(sel(self.counts.data).sum())
        bkg = float(sel(self.npred_background().data).sum())
        signal = float(sel(self.npred_signal().data).sum()) if self._sky_models() else float("nan")
        exp = self.exposure.data
        info = {
            "name": self.name,
            "counts": counts,
            "background": bkg,
            "excess": counts - bkg,
            "npred_signal": signal,
            "exposure_min": float(exp[exp > 0].min()) if np.any(exp > 0) else 0.0,
            "exposure_max": float(exp.max()),
            "livetime": float(self.livetime.to_value(u.s)) if self.livetime is not None else float("nan"),
            "n_bins": int(self.counts.data.size),
            "n_fit_bins": int(mask.sum()) if mask is not None else int(self.counts.data.size),
            "stat_type": self.stat_type,
            "stat_sum": self.stat_sum(),
        }
        return info

    def info_table(self) -> Table:
        """`info_dict` as a one-row table.

        Returns
        -------
        astropy.table.Table
            One row; exposures in m² s and live time in s.
        """
        info = self.info_dict()
        t = Table([[v] for v in info.values()], names=list(info))
        t["exposure_min"].unit = t["exposure_max"].unit = "m2 s"
        t["livetime"].unit = "s"
        return t

    def __repr__(self):
        n_models = len(self._models) if self._models is not None else 0
        return (f"MapDataset(name='{self.name}', shape={self.counts.data.shape}, n_true={self.exposure.data.shape[0]}, "
                f"counts={self.counts.data.sum():.0f}, psf={'yes' if self.psf is not None else 'no'}, "
                f"edisp={'yes' if self.edisp is not None else 'no'}, models={n_models})")
