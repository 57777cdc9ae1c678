"""Counts, excess and significance maps correlated within a radius (for the sky viewer).

As gammapy's ``ExcessMapEstimator``: within each energy band the images are
correlated with a top-hat of ``correlation_radius`` (astropy's
`Tophat2DKernel`, peak-normalised, FFT convolution; correlated counts rounded
to integers), inside the safe mask, then

* a `MapDataset` (known background ``npred``, Cash): ``sqrt_ts`` is the
  signed significance of the counts over the predicted counts;
* a ring result (`RingBackgroundResult`: ON/OFF, WStat): the OFF counts and
  the background ``α·N_off`` are correlated too, ``α = background / N_off``, and
  ``sqrt_ts`` is Li & Ma's eq. 17.

Examples
--------
Two runs of the simulated example store binned around its bright point source:

>>> from gwidgets.core.datasets import EXAMPLE_SOURCE_POSITION, example_map_dataset
>>> dataset = example_map_dataset([1001, 1002])
>>> crab = EXAMPLE_SOURCE_POSITION          # the example store's bright source
>>> geom = dataset.counts.geom
>>> from gwidgets.core.models import FoVBackgroundModel
>>> dataset.models = [FoVBackgroundModel(dataset.name)]     # background only: the source shows
>>> maps = ExcessMapEstimator("0.1 deg").run(dataset)
>>> sqrt_ts = maps["sqrt_ts"].data
>>> peak = np.unravel_index(np.nanargmax(sqrt_ts), sqrt_ts.shape)
>>> bool(np.nanmax(sqrt_ts) > 5), bool(geom.wcs.pixel_to_world(peak[2], peak[1]).separation(crab) < 0.1 * u.deg)
(True, True)
"""
from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.convolution import Tophat2DKernel

from ...errors import GwidgetsError
from ..geom import Map, MapAxis
from ..reduction.ring import convolve_images
from ..stats import cash_sqrt_ts, lima_significance
from .base import Estimator, one_dataset

__all__ = ["ExcessMapEstimator"]


def _band_sums(data, axis_edges, band_edges):
    """Sum a cube's energy bins into bands (band edges must be bin edges)."""
    idx = [int(np.argmin(np.abs(axis_edges - e))) for e in band_edges]
    for e, i in zip(band_edges, idx):
        if not np.isclose(axis_edges[i], e, rtol=1e-6):
            raise GwidgetsError(f"Excess map: band edge {e:g} TeV is not an edge of the dataset's energy axis")
    return np.stack([data[a:b].sum(axis=0) for a, b in zip(idx[:-1], idx[1:])])


class ExcessMapEstimator(Estimator):
    """Correlated counts / background / excess / significance maps.

    Parameters
    ----------
    correlation_radius : Angle
        Radius of the top-hat (default 0.1°).
    energy_edges : Quantity, optional
        Energy bands (edges of the dataset's axis); default one band over the whole axis.

    Raises
    ------
    `~gwidgets.errors.GwidgetsError`
        If ``correlation_radius`` is not positive.
    """

    def __init__(self, correlation_radius="0.1 deg", energy_edges=None):
        self.correlation_radius = u.Quantity(correlation_radius, u.deg)
        if self.correlation_radius.value <= 0:
            raise GwidgetsError(f"correlation_radius must be positive, got {self.correlation_radius}")
        self.energy_edges = None if energy_edges is None else u.Quantity(energy_edges, u.TeV)

    def kernel(self, geom) -> np.ndarray:
        """Top-hat correlation kernel of radius ``correlation_radius``, peak-normalised.

        Parameters
        ----------
        geom : `~gwidgets.core.geom.WcsGeom`
            Geometry whose pixel size (``binsz``, deg) sets the kernel scale.

        Returns
        -------
        numpy.ndarray
            2D kernel, 1 inside the circle and 0 outside.
        """
        k = Tophat2DKernel(self.correlation_radius.to_value(u.deg) / geom.binsz).array
        return k / k.max()

    def run(self, datasets) -> dict:
        """Maps (one image per energy band): counts, npred (background), npred_excess, ts, sqrt_ts.

        Parameters
        ----------
        datasets : MapDataset, RingBackgroundResult, or a Datasets / list of one
            The dataset (`one_dataset`).

        Returns
        -------
        dict
            Name → `Map`.
        """
        dataset = one_dataset(datasets, "ExcessMapEstimator")
        geom = dataset.counts.geom
        axis = geom.axis("energy")
        e_ax = axis.edges.to_value(u.TeV)
        bands = e_ax[[0, -1]] if self.energy_edges is None else self.energy_edges.to_value(u.TeV)
        mask = np.ones(dataset.counts.data.shape, bool) if dataset.mask_safe is None else dataset.mask_safe
        kernel = self.kernel(geom)
        sums = lambda cube: _band_sums(np.where(mask, cube, 0.0), e_ax, bands)  # noqa: E731
        n_on = np.rint(convolve_images(sums(dataset.counts.data), kernel))
        if hasattr(dataset, "counts_off"):  # ON/OFF (ring)
            keep = dataset.acceptance_off.data > 0
            background = np.where(keep, dataset.background.data, 0.0)
            bkg_conv = convolve_images(sums(background), kernel)
            n_off = convolve_images(sums(dataset.counts_off.data), kernel)
            with np.errstate(invalid="ignore", divide="ignore"):
                alpha = bkg_conv / n_off
            excess = n_on - bkg_conv
            sqrt_ts = lima_significance(n_on, n_off, alpha)
            npred = bkg_conv
        else:
            npred = convolve_images(sums(dataset.npred().data), kernel)
            excess = n_on - npred
            sqrt_ts = cash_sqrt_ts(n_on, npred)
        band_axis = MapAxis(bands * u.TeV, name="energy", interp="log")
        out_geom = geom.to_cube([band_axis])
        maps = {"counts": n_on, "npred": npred, "npred_excess": excess, "sqrt_ts": sqrt_ts, "ts": sqrt_ts**2}
        return {k: Map(out_geom, np.nan_to_num(v) if k != "sqrt_ts" else v) for k, v in maps.items()}

    def __repr__(self):
        return f"ExcessMapEstimator(correlation_radius={self.correlation_radius})"
