"""`MapDatasetOnOff`: a sky cube with ON and OFF counts (ring background), fitted with WStat.

The background is not a model: in each bin it is profiled from the OFF
counts (`~gwidgets.core.stats.wstat`, as gammapy's ``MapDatasetOnOff``):

* ``counts``, ``counts_off``, ``acceptance``, ``acceptance_off``: `Map` s on the
  reco-energy geometry; ``alpha = acceptance / acceptance_off`` (0 where
  ``acceptance_off`` is 0);
* ``exposure``, ``psf``, ``edisp``, ``mask_safe``, ``mask_fit``, ``models``: as `MapDataset`
  (sky models only; a `FoVBackgroundModel` is an error);
* ``npred_background()`` = α × μ_b, the profiled background for the current signal;
  ``background`` = α × counts_off.

Build one from a `MapDataset` and a `RingBackgroundMaker` (or its result)
with `MapDatasetOnOff.from_ring`; ``Fit().run(dataset)`` fits it.

Examples
--------
Two runs of the simulated example store binned around its bright point source:

>>> from gwidgets.core.datasets import example_exclusion_mask, example_map_dataset
>>> dataset = example_map_dataset([1001, 1002])
>>> keep = example_exclusion_mask(dataset.counts.geom)   # True = source-free (a 0.3 deg circle excluded)
>>> from gwidgets.core.fit import Fit
>>> from gwidgets.core.models import PointSpatialModel, PowerLaw, SkyModel
>>> from gwidgets.core.reduction.ring import RingBackgroundMaker
>>> ring = RingBackgroundMaker(r_in="0.5 deg", width="0.3 deg", exclusion_mask=keep)
>>> onoff = MapDatasetOnOff.from_ring(dataset.to_masked(), ring)
>>> onoff.models = [SkyModel(PowerLaw(index=2.5, amplitude="3e-11 cm-2 s-1 TeV-1"),
...                          PointSpatialModel(lon_0="83.63 deg", lat_0="22.01 deg"), name="bright")]
>>> Fit().run(onoff).success
True
"""
from __future__ import annotations

import numpy as np

from ..geom import Map
from ..stats import get_wstat_mu_bkg, wstat
from .base import DatasetError, bump_epoch
from .map import MapDataset
from .map_irf import PSFKernel

__all__ = ["MapDatasetOnOff"]

_ONOFF_KEYS = ("counts_off", "acceptance", "acceptance_off")


def _as_map(value, geom, what, name) -> Map:
    if isinstance(value, Map):
        data = np.asarray(value.data, float)
    else:
        data = np.asarray(value, float)
    shape = tuple(int(n) for n in geom.data_shape) if hasattr(geom, "data_shape") else None
    try:
        data = np.broadcast_to(data, shape).copy() if shape is not None else data
    except ValueError:
        raise DatasetError(f"Dataset '{name}': {what} has shape {data.shape}, expected {shape}") from None
    return Map(geom, data)


def _wstat0(n_on, n_off, alpha):
    """WStat per bin without signal (NaN → 0, as gammapy)."""
    return np.nan_to_num(wstat(n_on, n_off, alpha, np.zeros_like(n_on)))


class MapDatasetOnOff(MapDataset):
    """ON/OFF sky cube fitted with WStat (see the module doc).

    Parameters
    ----------
    counts, counts_off, acceptance, acceptance_off : `~gwidgets.core.geom.Map` or array-like
        ON counts (a Map), OFF counts and acceptances (Maps or arrays of the counts shape;
        scalars for the acceptances).
    exposure : Map
        With an ``energy_true`` axis, m² s.
    psf, edisp, mask_safe, mask_fit, name, models, livetime, irf_weights, meta
        As `MapDataset`.
    """

    stat_type = "wstat"
    tag = "MapDatasetOnOff"

    def __init__(self, counts: Map, exposure: Map, counts_off, acceptance=1.0, acceptance_off=1.0, psf=None,
                 edisp=None, mask_safe=None, mask_fit=None, name: str = "map-onoff", models=None, livetime=None,
                 irf_weights=None, meta=None):
        geom = counts.geom
        n = str(name)
        object.__setattr__(self, "counts_off", _as_map(counts_off, geom, "counts_off", n))
        object.__setattr__(self, "acceptance", _as_map(acceptance, geom, "acceptance", n))
        object.__setattr__(self, "acceptance_off", _as_map(acceptance_off, geom, "acceptance_off", n))
        super().__init__(counts, exposure, None, psf=psf, edisp=edisp, mask_safe=mask_safe, mask_fit=mask_fit,
                         name=name, models=models, livetime=livetime, irf_weights=irf_weights, meta=meta)

    def __setattr__(self, key, value):
        if key in _ONOFF_KEYS:
            value = _as_map(value, self.counts.geom, key, self.name)
        super().__setattr__(key, value)
        if key in _ONOFF_KEYS:
            self.__dict__["_stat_cache"] = None
            bump_epoch()

    # ------------------------------------------------------------------ build
    @classmethod
    def from_ring(cls, dataset: MapDataset, ring, name: str | None = None) -> MapDatasetOnOff:
        """From a `MapDataset` and a `RingBackgroundMaker` (run on it) or a `RingBackgroundResult` of it.

        Counts, OFF counts and acceptances come from the ring; exposure, PSF,
        EDISP, livetime and meta from ``dataset``; the safe mask is the ring's
        (the dataset's, without pixels whose ring sees no acceptance).

        Parameters
        ----------
        dataset : `~gwidgets.core.datasets.map.MapDataset`
            The dataset the ring background was (or is) run on.
        ring : RingBackgroundMaker or RingBackgroundResult
            The maker (`~gwidgets.core.reduction.ring.RingBackgroundMaker`, run on ``dataset`` here)
            or its result (`~gwidgets.core.reduction.ring.RingBackgroundResult`).
        name : str, optional
            Name of the new dataset (default: the dataset's).

        Returns
        -------
        MapDatasetOnOff
            The ON/OFF dataset (no models).

        Raises
        ------
        DatasetError
            If ``ring`` is neither a maker nor a result, or its shape differs from the dataset's.
        """
        result = ring.run(dataset) if hasattr(ring, "run") else ring
        for attr in ("counts", "counts_off", "acceptance", "acceptance_off", "mask_safe"):
            if not hasattr(result, attr):
                raise DatasetError(f"from_ring needs a RingBackgroundMaker or RingBackgroundResult, "
                                   f"not {type(ring).__name__}")
        if result.counts.data.shape != dataset.counts.data.shape:
            raise DatasetError(f"Ring result shape {result.counts.data.shape} differs from dataset "
                               f"'{dataset.name}' {dataset.counts.data.shape}")
        counts_off = np.clip(np.asarray(result.counts_off.data, float), 0, None)
        acceptance_off = np.clip(np.asarray(result.acceptance_off.data, float), 0, None)
        return cls(result.counts, dataset.exposure.copy(), counts_off, result.acceptance, acceptance_off,
                   psf=dataset.psf, edisp=dataset.edisp, mask_safe=result.mask_safe,
                   mask_fit=dataset.mask_fit, name=dataset.name if name is None else name, livetime=dataset.livetime,
                   irf_weights=dataset.irf_weights, meta=dataset.meta)

    # ------------------------------------------------------------------ data
    @property
    def alpha(self) -> Map:
        """``acceptance / acceptance_off`` (0 where not finite)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            a = np.nan_to_num(self.acceptance.data / self.acceptance_off.data, nan=0.0, posinf=0.0, neginf=0.0)
        return Map(self.counts.geom, a)

    @property
    def background(self):
        """α × counts_off (the OFF-based background estimate), or None while the dataset is being built."""
        off = self.__dict__.get("counts_off")
        if off is None or "acceptance_off" not in self.__dict__:
            return None
        return Map(self.counts.geom, self.alpha.data * off.data)

    @background.setter
    def background(self, value):
        if value is not None:
            raise DatasetError(f"Dataset '{self.name}': the background of a MapDatasetOnOff comes from counts_off; "
                               "set counts_off / acceptance_off instead")

    def _background_model(self):
        bkg = super()._background_model()
        if bkg is not None:
            raise DatasetError(f"Dataset '{self.name}' is ON/OFF (background profiled from counts_off): "
                               "remove its FoVBackgroundModel")
        return None

    def _background_factor(self):
        return None

    def npred_background(self) -> Map:
        """α × μ_b: the background profiled for the current signal (gammapy's definition).

        Returns
        -------
        `~gwidgets.core.geom.Map`
            Predicted background counts on the counts geometry.
        """
        alpha = self.alpha.data
        mu_bkg = get_wstat_mu_bkg(self.counts.data, self.counts_off.data, alpha, self.npred_signal().data)
        return Map(self.counts.geom, np.nan_to_num(alpha * mu_bkg))

    # --------------------------------------------------------------- statistic
    def _stat_setup(self):
        c = self._stat_cache
        if c is None:
            mask = self.mask
            n_on, n_off = self.counts.data.astype(float), self.counts_off.data.astype(float)
            alpha = self.alpha.data
            zero = _wstat0(n_on, n_off, alpha)
            m = np.ones(n_on.shape, bool) if mask is None else mask
            c = self.__dict__["_stat_cache"] = {"mask": mask, "m": m, "counts": n_on, "n_off": n_off,
                                                "alpha": alpha, "zero": zero, "zero_sum": float(zero[m].sum())}
        return c

    def stat_array(self) -> np.ndarray:
        """WStat per bin (0 outside the mask and where α = 0).

        Returns
        -------
        numpy.ndarray
            WStat per bin, of the counts shape.

        Raises
        ------
        DatasetError
            If a `~gwidgets.core.models.FoVBackgroundModel` applies to the dataset.
        """
        c = self._stat_setup()
        self._background_model()
        out = np.nan_to_num(wstat(c["counts"], c["n_off"], c["alpha"], self.npred_signal().data))
        return np.where(c["m"], out, 0.0)

    def stat_sum(self) -> float:
        """WStat summed over ``mask_safe & mask_fit``; only the bins around the sources are recomputed.

        Returns
        -------
        float
            The summed WStat statistic.

        Raises
        ------
        DatasetError
            If a `~gwidgets.core.models.FoVBackgroundModel` applies to the dataset.
        """
        c = self._stat_setup()
        self._background_model()
        box, signal = self._signal_box()
        if box is None:
            return c["zero_sum"]
        y0, y1, x0, x1 = box
        sl = (slice(None), slice(y0, y1), slice(x0, x1))
        m = c["m"][sl]
        inside = np.nan_to_num(wstat(c["counts"][sl][m], c["n_off"][sl][m], c["alpha"][sl][m], signal[m]))
        return float(c["zero_sum"] - c["zero"][sl][m].sum() + inside.sum())

    # ------------------------------------------------------------------ misc
    def copy(self, name=None) -> MapDatasetOnOff:
        """A copy of the ON/OFF data, masks and IRFs (models not copied: the copy has none).

        Parameters
        ----------
        name : str, optional
            Name of the copy (default: the same name).

        Returns
        -------
        MapDatasetOnOff
            The copy.
        """
        return MapDatasetOnOff(self.counts.copy(), self.exposure.copy(), self.counts_off.copy(),
                               self.acceptance.copy(), self.acceptance_off.copy(),
                               psf=None if self.psf is None else PSFKernel(self.psf.data.copy(), self.psf.binsz_deg),
                               edisp=None if self.edisp is None else self.edisp.copy(), mask_safe=self.mask_safe,
                               mask_fit=self.mask_fit, name=self.name if name is None else name,
                               livetime=self.livetime, irf_weights=self.irf_weights, meta=self.meta)

    def stack(self, other):
        """Not supported: stack the `~gwidgets.core.datasets.map.MapDataset` s, then run the ring background once.

        Parameters
        ----------
        other : dataset
            Ignored.

        Raises
        ------
        DatasetError
            Always.
        """
        raise DatasetError(f"Stacking MapDatasetOnOff ('{other.name}' onto '{self.name}') is not supported: stack "
                           "the MapDatasets, then run the ring background once on the stack")

    def to_masked(self, name=None):
        """Not supported for ON/OFF datasets.

        Parameters
        ----------
        name : str, optional
            Ignored.

        Raises
        ------
        DatasetError
            Always.
        """
        raise DatasetError(f"Dataset '{self.name}': to_masked is only available for MapDataset")

    def to_image(self, name=None):
        """Not supported: call ``to_image`` on the `~gwidgets.core.datasets.map.MapDataset` before the ring background.

        Parameters
        ----------
        name : str, optional
            Ignored.

        Raises
        ------
        DatasetError
            Always.
        """
        raise DatasetError(f"Dataset '{self.name}': to_image of a MapDatasetOnOff is not supported; call to_image "
                           "on the MapDataset before the ring background")

    def __repr__(self):
        n_models = len(self._models) if self._models is not None else 0
        return (f"MapDatasetOnOff(name='{self.name}', shape={self.counts.data.shape}, "
                f"counts={self.counts.data.sum():.0f}, counts_off={self.counts_off.data.sum():.0f}, "
                f"psf={'yes' if self.psf is not None else 'no'}, edisp={'yes' if self.edisp is not None else 'no'}, "
                f"models={n_models})")
