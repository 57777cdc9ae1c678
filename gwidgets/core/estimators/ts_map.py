"""TS map: at every pixel, the Cash test statistic of a point source (PSF × EDISP kernel) over the background.

As gammapy's ``TSMapEstimator`` on a dataset summed over energy:

* the kernel is the predicted-counts image of a reference point source
  (power law of index 2 by default) at the map centre with the exposure of
  the centre, i.e. the PSF kernels of the true-energy bins weighted by
  flux × exposure and folded with EDISP, summed over reco energy, normalised to 1;
* the source counts per pixel are ``norm × exposure_npred × kernel``, with
  ``exposure_npred`` the counts the reference spectrum gives per unit norm
  (exposure folded with its spectrum and EDISP, inside the safe mask);
* for each pixel the norm maximising the Poisson likelihood over the kernel
  footprint is found by Newton steps, vectorised over all pixels (the
  footprints are strided views, not copies); ``ts = C(0) − C(norm)``,
  ``sqrt_ts = sign(norm) √ts``. Negative norms are allowed as long as the
  predicted counts stay positive.

Examples
--------
Two runs of the simulated example store binned around its bright point source:

>>> from gwidgets.core.datasets import example_map_dataset
>>> dataset = example_map_dataset([1001, 1002])
>>> maps = TSMapEstimator(kernel_width="0.5 deg").run(dataset.to_image())
>>> bool(np.nanmax(maps["sqrt_ts"].data) > 5)
True
"""
from __future__ import annotations

import astropy.units as u
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ...errors import GwidgetsError
from ..geom import Map
from .base import Estimator, one_dataset

__all__ = ["TSMapEstimator"]


class TSMapEstimator(Estimator):
    """Point-source TS map of a `MapDataset` (summed over its reco-energy bins).

    Parameters
    ----------
    spectral_model : SpectralModel, optional
        Reference spectrum (default: power law of index 2).
    kernel_width : Angle, optional
        Width of the (square) kernel footprint; default the PSF kernel's size. As gammapy,
        the kernel is cropped to ``round_up_to_odd(width / binsz)`` pixels and renormalised.
    n_iter : int
        Newton iterations per pixel (the norm converges to < 1e-6 in ~10).
    """

    def __init__(self, spectral_model=None, kernel_width=None, n_iter: int = 30):
        self.kernel_width = None if kernel_width is None else u.Quantity(kernel_width, u.deg)
        if spectral_model is None:
            from ..models import PowerLaw

            spectral_model = PowerLaw(index=2.0, amplitude="1e-12 cm-2 s-1 TeV-1")
        self.spectral_model = spectral_model
        self.n_iter = int(n_iter)

    def _true_weights(self, dataset, exposure_true):
        e = dataset.exposure.geom.axis("energy_true").edges.to_value(u.TeV)
        flux = self.spectral_model.integral_values(e[:-1], e[1:])  # cm-2 s-1
        return flux[:, None] * exposure_true * 1e4  # counts per true bin (per pixel column)

    def kernel(self, dataset) -> np.ndarray:
        """Normalised counts image of the reference point source (odd size; the dataset's PSF kernel size).

        Per true-energy bin, the reference spectrum's counts at the map centre (flux × exposure, times the
        EDISP sum over the reco bins) weight the dataset's PSF images.

        Parameters
        ----------
        dataset : `~gwidgets.core.datasets.map.MapDataset`
            The dataset (exposure at the map centre, PSF kernel, EDISP).

        Returns
        -------
        numpy.ndarray
            2D kernel summing to 1 (cropped or padded to ``kernel_width`` when given).

        Raises
        ------
        `~gwidgets.errors.GwidgetsError`
            If there is no exposure at the map centre or the reference source predicts no counts.
        """
        ny, nx = dataset.counts.data.shape[1:]
        exposure_c = dataset.exposure.data[:, ny // 2, nx // 2]
        if not np.any(exposure_c > 0):
            raise GwidgetsError(f"Dataset '{dataset.name}': no exposure at the map centre, cannot build the TS kernel")
        w = self._true_weights(dataset, exposure_c[:, None])[:, 0]  # (n_true,)
        if dataset.edisp is not None:
            w = w * dataset.edisp.sum(axis=1)
        psf = dataset.psf.data if dataset.psf is not None else np.ones((len(w), 1, 1))
        k = np.tensordot(w, psf, axes=(0, 0))
        if self.kernel_width is not None:
            n = int(np.ceil(self.kernel_width.to_value(u.deg) / dataset.counts.geom.binsz) // 2 * 2 + 1)
            if n < k.shape[0]:
                c, h = k.shape[0] // 2, n // 2
                k = k[c - h: c + h + 1, c - h: c + h + 1]
            else:
                k = np.pad(k, (n - k.shape[0]) // 2)
        total = k.sum()
        if total <= 0:
            raise GwidgetsError(f"Dataset '{dataset.name}': the reference source predicts no counts")
        return k / total

    def run(self, datasets) -> dict:
        """Maps on the image geometry: ts, sqrt_ts, norm, norm_err, npred_excess (counts of the fitted source).

        Parameters
        ----------
        datasets : MapDataset, or a Datasets / list of one
            The dataset (`one_dataset`).

        Returns
        -------
        dict
            Name → `Map`.
        """
        dataset = one_dataset(datasets, "TSMapEstimator")
        mask = np.ones(dataset.counts.data.shape, bool) if dataset.mask is None else dataset.mask
        counts = (dataset.counts.data * mask).sum(axis=0)
        background = (dataset.npred().data * mask).sum(axis=0)
        mask_img = mask.any(axis=0)
        # counts per unit norm of the reference spectrum, per pixel, inside the safe mask
        w = self._true_weights(dataset, dataset.exposure.data.reshape(dataset.exposure.data.shape[0], -1))
        edisp = dataset.edisp if dataset.edisp is not None else np.eye(w.shape[0])
        expo = np.einsum("tr,tp->rp", edisp, w, optimize=False).reshape(dataset.counts.data.shape)
        expo = (expo * mask).sum(axis=0)
        kernel = self.kernel(dataset)
        h = kernel.shape[0] // 2
        pad = lambda a: np.pad(a, h)  # noqa: E731
        n_w = sliding_window_view(pad(counts), kernel.shape)
        b_w = sliding_window_view(pad(background), kernel.shape)
        e_w = sliding_window_view(pad(expo), kernel.shape)
        ny, nx = counts.shape
        ts, norm, err, npred = (np.zeros((ny, nx)) for _ in range(4))
        rows = max(1, int(4e6 // (nx * kernel.size)))  # bounded memory: a block of rows at a time
        for y0 in range(0, ny, rows):
            sl = slice(y0, min(y0 + rows, ny))
            m = e_w[sl] * kernel  # source counts per unit norm over each footprint
            ts[sl], norm[sl], err[sl] = _fit_norms(n_w[sl], b_w[sl], m, self.n_iter)
            npred[sl] = norm[sl] * m.sum(axis=(-2, -1))
        valid = mask_img & (background > 0)
        geom = dataset.counts.geom.to_cube([dataset.counts.geom.axis("energy").squash()])
        out = {"ts": ts, "sqrt_ts": np.sign(norm) * np.sqrt(np.clip(ts, 0, None)), "norm": norm, "norm_err": err,
               "npred_excess": npred}
        return {k: Map(geom, np.where(valid, v, np.nan)[None]) for k, v in out.items()}

    def __repr__(self):
        return f"TSMapEstimator(spectral_model={type(self.spectral_model).__name__})"


def _fit_norms(n, b, m, n_iter):
    """Per pixel: norm maximising Σ n log μ − μ with μ = b + norm·m over the footprint (Newton, μ kept > 0)."""
    sum_m = m.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        # start: the least-squares-like guess Σ(n − b)m / Σ m²
        norm = ((n - b) * m).sum(axis=(-2, -1)) / (m * m).sum(axis=(-2, -1))
    norm = np.nan_to_num(norm)
    # lowest allowed norm: μ > 0 wherever m > 0 (μ ≥ 1e-10·b)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(m > 0, -b / m, -np.inf)
    norm_min = ratio.max(axis=(-2, -1)) * (1 - 1e-6)
    norm = np.maximum(norm, norm_min)
    for _ in range(n_iter):
        mu = b + norm[..., None, None] * m
        with np.errstate(invalid="ignore", divide="ignore"):
            g = (n * m / mu).sum(axis=(-2, -1)) - sum_m  # d logL / d norm
            hess = (n * m * m / (mu * mu)).sum(axis=(-2, -1))
            step = np.where(hess > 0, g / hess, 0.0)
        new = norm + step
        # keep μ > 0: at most half-way to the lower limit
        new = np.where(new <= norm_min, 0.5 * (norm + norm_min), new)
        norm = np.nan_to_num(new)
    mu = b + norm[..., None, None] * m
    with np.errstate(invalid="ignore", divide="ignore"):
        log_ratio = np.where(n > 0, n * (np.log(mu) - np.log(b)), 0.0)
        ts = 2.0 * (log_ratio.sum(axis=(-2, -1)) - norm * sum_m)
        hess = (n * m * m / (mu * mu)).sum(axis=(-2, -1))
        err = 1.0 / np.sqrt(hess)
    ts = np.where(np.isfinite(ts), ts, 0.0)
    return ts, norm, np.where(np.isfinite(err), err, np.nan)
