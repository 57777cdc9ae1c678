"""Field-of-view background: adjust the IRF background of a map dataset on the source-free region.

Two methods (as gammapy's ``FoVBackgroundMaker``), both only on pixels that
are in the safe (and fit) mask and *not* excluded (exclusion mask True =
usable):

* ``"scale"``: ``norm = (N_counts − N_signal) / N_background`` summed over those
  bins (``N_signal`` the predicted counts of the sky models), error
  ``√(N_counts − N_signal) / N_background``;
* ``"fit"``: a Cash fit of the `FoVBackgroundModel` (norm, and tilt if free)
  with the sky models frozen.

The dataset gets a `FoVBackgroundModel` named ``"<dataset>-bkg"`` if it has none.

Examples
--------
Two runs of the simulated example store binned around its bright point source:

>>> from gwidgets.core.datasets import example_exclusion_mask, example_map_dataset
>>> dataset = example_map_dataset([1001, 1002])
>>> keep = example_exclusion_mask(dataset.counts.geom)   # True = source-free (a 0.3 deg circle excluded)
>>> dataset = FoVBackgroundMaker(method="fit", exclusion_mask=keep).run(dataset)
>>> norm = dataset.models[f"{dataset.name}-bkg"].norm.value
>>> bool(0.8 < norm < 1.25)                              # the simulated background is the IRF's
True
"""
from __future__ import annotations

import numpy as np

from ...errors import GwidgetsError
from .base import DatasetMaker
from .ring import exclusion_on_geom

__all__ = ["FoVBackgroundMaker"]

_METHODS = ("scale", "fit")


class FoVBackgroundMaker(DatasetMaker):
    """Normalise a `MapDataset`'s background outside ``exclusion_mask`` (``method`` "scale" or "fit").

    Parameters
    ----------
    method : {"scale", "fit"}, optional
        How the norm is found (see the module doc).
    exclusion_mask : `~gwidgets.core.geom.Map` or array-like of bool, optional
        True = usable (see `~gwidgets.core.reduction.ring.exclusion_on_geom`); None: no exclusion.
    spectral_model : spectral model, optional
        Spectral model of a new `~gwidgets.core.models.FoVBackgroundModel` (copied); None: its default.
    min_counts : int, optional
        The dataset needs more counts than this outside the exclusion regions.

    Raises
    ------
    `~gwidgets.errors.GwidgetsError`
        For an unknown ``method``.
    """

    def __init__(self, method: str = "scale", exclusion_mask=None, spectral_model=None, min_counts: int = 0):
        if method not in _METHODS:
            raise GwidgetsError(f"Unknown FoV background method '{method}' (available: {', '.join(_METHODS)})")
        self.method = method
        self.exclusion_mask = exclusion_mask
        self.spectral_model = spectral_model
        self.min_counts = int(min_counts)

    def _background_model(self, dataset):
        from ..models import FoVBackgroundModel, Models

        models = dataset.models
        name = f"{dataset.name}-bkg"
        if models is not None and name in models.names:
            return models[name]
        bkg = FoVBackgroundModel(dataset.name, spectral_model=None if self.spectral_model is None
                                 else self.spectral_model.copy())
        dataset.models = Models(list(models or []) + [bkg])
        return dataset.models[name]

    def _mask(self, dataset):
        keep = exclusion_on_geom(self.exclusion_mask, dataset.counts.geom)
        mask = np.broadcast_to(keep, dataset.counts.data.shape).copy()
        if dataset.mask is not None:
            mask &= dataset.mask
        return mask

    def run(self, dataset):
        """Adjust ``dataset``'s background model in place; returns the dataset.

        The model ``"<dataset>-bkg"`` is added to the dataset's models if it is not there.

        Parameters
        ----------
        dataset : `~gwidgets.core.datasets.map.MapDataset`
            The dataset.

        Returns
        -------
        `~gwidgets.core.datasets.map.MapDataset`
            The same dataset, with the background norm (and tilt with ``"fit"``) adjusted.

        Raises
        ------
        `~gwidgets.errors.GwidgetsError`
            If there are no more than ``min_counts`` counts (or, with ``"scale"``, no background) outside
            the exclusion regions; or the exclusion mask is unusable
            (see `~gwidgets.core.reduction.ring.exclusion_on_geom`).
        """
        bkg = self._background_model(dataset)
        mask = self._mask(dataset)
        n_counts = float(dataset.counts.data[mask].sum())
        if n_counts <= self.min_counts:
            raise GwidgetsError(f"Dataset '{dataset.name}': only {n_counts:.0f} counts outside the exclusion "
                                f"regions (min_counts={self.min_counts}); cannot normalise the background")
        if self.method == "scale":
            self._scale(dataset, bkg, mask, n_counts)
        else:
            self._fit(dataset, mask)
        return dataset

    @staticmethod
    def _scale(dataset, bkg, mask, n_counts):
        n_bkg = float(dataset.npred_background().data[mask].sum())
        n_signal = float(dataset.npred_signal().data[mask].sum())
        if n_bkg <= 0:
            raise GwidgetsError(f"Dataset '{dataset.name}': no background outside the exclusion regions")
        norm = bkg.spectral_model.norm
        value = (n_counts - n_signal) / n_bkg
        norm.value = norm.value * value
        norm.error = np.sqrt(max(n_counts - n_signal, 0.0)) / n_bkg

    @staticmethod
    def _fit(dataset, mask):
        from ..fit import Fit

        sky = [m for m in dataset.models if type(m).__name__ == "SkyModel"]
        frozen = [(p, p.frozen) for m in sky for p in m.parameters]
        old_fit = dataset.mask_fit
        try:
            for m in sky:
                m.freeze()
            dataset.mask_fit = mask
            result = Fit().run(dataset)
        finally:
            dataset.mask_fit = old_fit
            for p, f in frozen:
                p.frozen = f
        if not result.success:
            raise GwidgetsError(f"Dataset '{dataset.name}': FoV background fit did not converge ({result.message})")
        return result

    def __repr__(self):
        return f"FoVBackgroundMaker(method='{self.method}')"
