"""Copying, masking, squashing and stacking map datasets: the `MapDatasetStacking` mixin.

`~gwidgets.core.datasets.map.MapDataset` gets ``copy``, ``to_masked``,
``to_image`` and ``stack`` from here (gammapy's stacking convention: each
dataset counts only inside its safe mask; PSF and EDISP are combined with the
exposure weights); `~gwidgets.core.datasets.map_onoff.MapDatasetOnOff`
overrides them for ON/OFF data.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..geom import Map
from .base import DatasetError
from .map_irf import PSFKernel, combine_weighted

if TYPE_CHECKING:
    from .map import MapDataset

__all__ = ["MapDatasetStacking"]


class MapDatasetStacking:
    """Mixin: copies, safe-mask copies, one-bin images and in-place stacking of a map dataset.

    The class using it has the `~gwidgets.core.datasets.map.MapDataset` attributes
    (``counts``, ``exposure``, ``background``, ``psf``, ``edisp``, ``mask_safe``,
    ``mask_fit``, ``irf_weights``, ``livetime``, ``meta``, ``name``).
    """

    def copy(self, name=None) -> MapDataset:
        """A copy of the data, masks and IRFs (models not copied: the copy has none).

        Parameters
        ----------
        name : str, optional
            Name of the copy (default: the same name).

        Returns
        -------
        MapDataset
            The copy.
        """
        from .map import MapDataset

        return MapDataset(self.counts.copy(), self.exposure.copy(),
                          None if self.background is None else self.background.copy(),
                          psf=None if self.psf is None else PSFKernel(self.psf.data.copy(), self.psf.binsz_deg),
                          edisp=None if self.edisp is None else self.edisp.copy(), mask_safe=self.mask_safe,
                          mask_fit=self.mask_fit, name=self.name if name is None else name, livetime=self.livetime,
                          irf_weights=self.irf_weights, meta=self.meta)

    def to_masked(self, name=None) -> MapDataset:
        """A copy with counts, background and exposure set to 0 outside the safe mask.

        This is gammapy's stacking convention.

        Parameters
        ----------
        name : str, optional
            Name of the copy (default: the same name).

        Returns
        -------
        MapDataset
            The masked copy (no models).
        """
        ds = self.copy(name=name)
        if self.mask_safe is not None:
            ds.counts = Map(self.counts.geom, self.counts.data * self.mask_safe, self.counts.unit)
            if self.background is not None:
                ds.background = Map(self.background.geom, self.background.data * self.mask_safe, self.background.unit)
            ds.exposure = Map(self.exposure.geom, self.exposure.data * self.mask_safe_image[None], self.exposure.unit)
        return ds

    def to_image(self, name=None) -> MapDataset:
        """One reco-energy bin: counts and background summed inside the safe mask (gammapy's ``to_image``).

        Parameters
        ----------
        name : str, optional
            Name of the image dataset (default: the same name).

        Returns
        -------
        MapDataset
            A dataset with one reco-energy bin; the exposure keeps its true-energy axis and the edisp
            matrix is summed to (n_true, 1).
        """
        from .map import MapDataset

        geom = self.counts.geom
        image_geom = geom.to_cube([geom.axis("energy").squash()])
        mask = np.ones(self.counts.data.shape, bool) if self.mask_safe is None else self.mask_safe
        counts = Map(image_geom, (self.counts.data * mask).sum(axis=0, keepdims=True), self.counts.unit)
        bkg = None
        if self.background is not None:
            bkg = Map(image_geom, (self.background.data * mask).sum(axis=0, keepdims=True), self.background.unit)
        edisp = None if self.edisp is None else self.edisp.sum(axis=1, keepdims=True)
        return MapDataset(counts, self.exposure.copy(), bkg, psf=self.psf, edisp=edisp,
                          mask_safe=mask.any(axis=0, keepdims=True), name=self.name if name is None else name,
                          livetime=self.livetime, irf_weights=self.irf_weights, meta=self.meta)

    def stack(self, other: MapDataset):
        """Add ``other`` in place.

        Counts, background and exposure inside each safe mask; PSF and EDISP exposure-weighted.

        Parameters
        ----------
        other : MapDataset
            A dataset on the same counts and exposure geometry.

        Returns
        -------
        MapDataset
            This dataset (stacked), for chaining.

        Raises
        ------
        DatasetError
            If the geometries differ.
        """
        if other.counts.data.shape != self.counts.data.shape or other.exposure.data.shape != self.exposure.data.shape:
            raise DatasetError(f"Cannot stack '{other.name}' onto '{self.name}': different geometries")
        a, b = self.to_masked(), other.to_masked()
        counts = a.counts.data + b.counts.data
        bkg = None
        if a.background is not None and b.background is not None:
            bkg = Map(self.background.geom, a.background.data + b.background.data, self.background.unit)
        exposure = Map(self.exposure.geom, a.exposure.data + b.exposure.data, self.exposure.unit)
        w_a = self.irf_weights if self.irf_weights is not None else np.ones(self.exposure.data.shape[0])
        w_b = other.irf_weights if other.irf_weights is not None else np.ones(self.exposure.data.shape[0])
        psf = (combine_weighted([self.psf, other.psf], [w_a, w_b])
               if (self.psf is not None and other.psf is not None) else (self.psf or other.psf))
        edisp = (combine_weighted([self.edisp, other.edisp], [w_a, w_b])
                 if (self.edisp is not None and other.edisp is not None)
                 else (self.edisp if self.edisp is not None else other.edisp))
        if self.mask_safe is None or other.mask_safe is None:
            mask = None
        else:
            mask = self.mask_safe | other.mask_safe
        self.counts = Map(self.counts.geom, counts, self.counts.unit)
        self.background = bkg
        self.exposure = exposure
        self.psf = psf
        self.edisp = edisp
        self.mask_safe = mask
        self.irf_weights = w_a + w_b
        if self.livetime is not None and other.livetime is not None:
            self.livetime = self.livetime + other.livetime
        self.meta = dict(self.meta, obs_ids=list(self.meta.get("obs_ids", [])) + list(other.meta.get("obs_ids", [])))
        return self
