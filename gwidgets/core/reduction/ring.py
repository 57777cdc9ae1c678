"""Ring background for maps: OFF counts and acceptance from an annulus around each pixel.

For each energy image, the counts and the background (acceptance) *outside the
exclusion regions* are convolved with a ring (astropy's `Ring2DKernel`,
normalised to a peak of 1, as gammapy's ``RingBackgroundMaker``):

* ``counts_off = ring ⊛ (counts × keep)``, ``acceptance_off = ring ⊛ (background × keep)``;
* ``alpha = acceptance / acceptance_off``, ``background = alpha × counts_off``,
  ``excess = counts − background``;
* pixels whose ring sees no acceptance (``acceptance_off <= 0``) leave the safe mask.

Examples
--------
Two runs of the simulated example store binned around its bright point source:

>>> from gwidgets.core.datasets import example_exclusion_mask, example_map_dataset
>>> dataset = example_map_dataset([1001, 1002])
>>> keep = example_exclusion_mask(dataset.counts.geom)   # True = source-free (a 0.3 deg circle excluded)
>>> maker = RingBackgroundMaker(r_in="0.5 deg", width="0.3 deg", exclusion_mask=keep)
>>> result = maker.run(dataset)
>>> bool(result.excess.data.sum() > 0)                  # the source's excess
True
"""
from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.convolution import Ring2DKernel
from scipy.signal import fftconvolve

from ...errors import GwidgetsError
from ..geom import Map
from .base import DatasetMaker

__all__ = ["RingBackgroundMaker", "RingBackgroundResult", "exclusion_on_geom"]


def exclusion_on_geom(exclusion_mask, geom) -> np.ndarray:
    """The exclusion mask (True = usable, as gammapy) as a boolean image on ``geom``'s pixels.

    Accepts None (no exclusion), a boolean array of the image shape, or a `Map` (looked up at the pixel centres).
    A cube is reduced to an image: a pixel is usable if it is in any plane.

    Parameters
    ----------
    exclusion_mask : `~gwidgets.core.geom.Map`, array-like of bool or None
        The mask; a Map on another geometry is read at ``geom``'s pixel centres (False outside it).
    geom : `~gwidgets.core.geom.WcsGeom`
        The target geometry.

    Returns
    -------
    numpy.ndarray
        Boolean image (ny, nx), True where the pixel may be used for the background.

    Raises
    ------
    `~gwidgets.errors.GwidgetsError`
        If an array has another image shape, or the mask excludes every pixel.
    """
    shape = (geom.npix[1], geom.npix[0])
    if exclusion_mask is None:
        return np.ones(shape, bool)
    if isinstance(exclusion_mask, Map):
        m = exclusion_mask
        data = np.asarray(m.data, bool)
        data = data.any(axis=tuple(range(data.ndim - 2))) if data.ndim > 2 else data
        if m.geom.npix == geom.npix and m.geom.wcs.wcs.compare(geom.wcs.wcs, tolerance=1e-9):
            keep = data
        else:
            iy, ix = m.geom.coord_to_idx(geom.pixel_centers())
            keep = np.where(iy >= 0, data[np.clip(iy, 0, None), np.clip(ix, 0, None)], False)
    else:
        keep = np.asarray(exclusion_mask, bool)
        keep = keep.any(axis=tuple(range(keep.ndim - 2))) if keep.ndim > 2 else keep
        if keep.shape != shape:
            raise GwidgetsError(f"Exclusion mask has shape {keep.shape}, the map images are {shape}")
    if not keep.any():
        raise GwidgetsError("The exclusion mask excludes every pixel of the map: no background region is left")
    return keep


def convolve_images(data, kernel) -> np.ndarray:
    """Each image of a cube (…, ny, nx) convolved with a 2D kernel ("same" size, FFT).

    Parameters
    ----------
    data : array-like
        Images, shape (..., ny, nx).
    kernel : numpy.ndarray
        2D kernel.

    Returns
    -------
    numpy.ndarray
        Float array of the shape of ``data``.

    Examples
    --------
    >>> import numpy as np
    >>> out = convolve_images(np.eye(3)[None], np.full((1, 1), 2.0))
    >>> bool(np.allclose(out, 2 * np.eye(3)))
    True
    """
    data = np.asarray(data, float)
    k = np.asarray(kernel, float).reshape((1,) * (data.ndim - 2) + kernel.shape)
    return fftconvolve(data, k, mode="same", axes=(-2, -1))


@dataclass
class RingBackgroundResult:
    """ON/OFF maps of the ring method (all on the counts geometry).

    Parameters
    ----------
    counts : `~gwidgets.core.geom.Map`
        ON counts.
    counts_off : `~gwidgets.core.geom.Map`
        OFF counts: the ring-convolved counts outside the exclusion regions.
    acceptance : `~gwidgets.core.geom.Map`
        ON acceptance (the dataset's predicted background counts).
    acceptance_off : `~gwidgets.core.geom.Map`
        OFF acceptance: the ring-convolved acceptance outside the exclusion regions.
    mask_safe : numpy.ndarray
        Boolean mask of the counts shape (False where ``acceptance_off <= 0``).
    name : str, optional
        Name of the dataset it came from.
    """

    counts: Map
    counts_off: Map
    acceptance: Map
    acceptance_off: Map
    mask_safe: np.ndarray
    name: str = "ring"

    @property
    def alpha(self) -> Map:
        """``acceptance / acceptance_off`` (0 where ``acceptance_off <= 0``), a `~gwidgets.core.geom.Map`."""
        with np.errstate(invalid="ignore", divide="ignore"):
            a = np.where(self.acceptance_off.data > 0, self.acceptance.data / self.acceptance_off.data, 0.0)
        return Map(self.counts.geom, a)

    @property
    def background(self) -> Map:
        """Background estimate ``alpha × counts_off`` (counts), a `~gwidgets.core.geom.Map`."""
        return Map(self.counts.geom, self.alpha.data * self.counts_off.data)

    @property
    def excess(self) -> Map:
        """``counts − background`` (counts), a `~gwidgets.core.geom.Map`."""
        return Map(self.counts.geom, self.counts.data - self.background.data)

    def __repr__(self):
        m = self.mask_safe
        return (f"RingBackgroundResult(counts={self.counts.data[m].sum():.0f}, "
                f"background={self.background.data[m].sum():.1f}, excess={self.excess.data[m].sum():.1f})")


class RingBackgroundMaker(DatasetMaker):
    """Ring background with inner radius ``r_in`` and ``width`` (Angles), honouring ``exclusion_mask``.

    Parameters
    ----------
    r_in : `~astropy.units.Quantity`, str or float
        Inner ring radius (floats in deg), ≥ 0.
    width : `~astropy.units.Quantity`, str or float
        Ring width (floats in deg), > 0.
    exclusion_mask : `~gwidgets.core.geom.Map` or array-like of bool, optional
        True = usable for the background (see `exclusion_on_geom`); None: no exclusion.

    Raises
    ------
    `~gwidgets.errors.GwidgetsError`
        If ``r_in < 0`` or ``width <= 0``.
    """

    def __init__(self, r_in, width, exclusion_mask=None):
        self.r_in = u.Quantity(r_in, u.deg)
        self.width = u.Quantity(width, u.deg)
        if self.r_in.value < 0 or self.width.value <= 0:
            raise GwidgetsError(f"Ring needs r_in >= 0 and width > 0, got r_in={self.r_in}, width={self.width}")
        self.exclusion_mask = exclusion_mask

    def kernel(self, geom) -> np.ndarray:
        """The ring as a peak-normalised array for pixels of ``geom``.

        Parameters
        ----------
        geom : `~gwidgets.core.geom.WcsGeom`
            Geometry whose pixel size (``binsz``, deg) sets the kernel scale.

        Returns
        -------
        numpy.ndarray
            2D ring kernel with a peak of 1.
        """
        scale = geom.binsz
        ring = Ring2DKernel(self.r_in.to_value(u.deg) / scale, self.width.to_value(u.deg) / scale)
        ring.normalize("peak")
        return ring.array

    def run(self, dataset) -> RingBackgroundResult:
        """Ring OFF maps of a `MapDataset` (its counts and ``npred_background()``, per energy image).

        Parameters
        ----------
        dataset : `~gwidgets.core.datasets.map.MapDataset`
            The dataset (its counts and predicted background are used).

        Returns
        -------
        RingBackgroundResult
            The ON/OFF maps; give it to `~gwidgets.core.datasets.map_onoff.MapDatasetOnOff.from_ring`.

        Raises
        ------
        `~gwidgets.errors.GwidgetsError`
            If the exclusion mask has another shape or excludes every pixel.
        """
        geom = dataset.counts.geom
        keep = exclusion_on_geom(self.exclusion_mask, geom)
        ring = self.kernel(geom)
        counts = dataset.counts.data.astype(float)
        acceptance = dataset.npred_background().data
        counts_off = convolve_images(counts * keep, ring)
        acceptance_off = convolve_images(acceptance * keep, ring)
        mask = np.ones(counts.shape, bool) if dataset.mask_safe is None else dataset.mask_safe.copy()
        mask &= acceptance_off > 0
        return RingBackgroundResult(Map(geom, counts), Map(geom, counts_off), Map(geom, acceptance),
                                    Map(geom, acceptance_off), mask, name=dataset.name)

    def __repr__(self):
        return f"RingBackgroundMaker(r_in={self.r_in}, width={self.width})"
