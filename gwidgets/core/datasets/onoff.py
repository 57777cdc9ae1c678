"""`SpectrumDatasetOnOff`: ON and OFF counts, fitted with WStat (background profiled per bin).

``alpha = acceptance / acceptance_off`` (0 where undefined, as gammapy); the
background in the ON region is ``alpha × counts_off``; the OFF-region
expectation is not a model but the WStat profile ``μ_b`` per bin
(`~gwidgets.core.stats.get_wstat_mu_bkg`), so no background model is needed.

Read and write OGIP files (`read` / `write`, see `gwidgets.core.io.ogip`),
build from a reduction result (`from_extraction`), stack as gammapy
(``acceptance_off`` rescaled so that the stacked alpha is the OFF-weighted
mean of the alphas).

Examples
--------
One run of the simulated example store, reduced, written as OGIP files and read back:

>>> from gwidgets.core.datasets import SpectrumDatasetOnOff, example_spectrum_datasets
>>> dataset = example_spectrum_datasets([1001])[0]
>>> sorted(dataset.write("pha_obs1001.fits"))       # the PHA file and the files it names
['arf', 'bkg', 'pha', 'rmf']
>>> ds = SpectrumDatasetOnOff.read("pha_obs1001.fits")
>>> ds.name, bool((ds.counts == dataset.counts).all()), bool((ds.counts_off == dataset.counts_off).all())
('1001', True, True)
>>> ds.set_fit_range(0.66, 30)                # TeV
"""
from __future__ import annotations

import numpy as np

from ..io.ogip import OGIPSpectrum
from ..io.spectrum_formats import write_spectrum
from ..stats import get_wstat_mu_bkg, wstat, wstat_sqrt_ts
from .base import ArrayAttribute, DatasetError, energy_mask
from .spectrum import SpectrumDataset

__all__ = ["SpectrumDatasetOnOff"]


class SpectrumDatasetOnOff(SpectrumDataset):
    """ON/OFF spectrum (WStat).

    Parameters
    ----------
    counts, counts_off : array (n_reco,)
    acceptance, acceptance_off : array (n_reco,) or scalar
        Relative background acceptance of the ON and OFF regions.
    exposure : Quantity or array (n_true,), cm² s
    energy_edges, energy_edges_true : Quantity, MapAxis or arrays in TeV
    edisp : array (n_true, n_reco), optional
    mask_safe, mask_fit, livetime, name, models, meta
        As `SpectrumDataset`.
    """

    stat_type = "wstat"
    tag = "SpectrumDatasetOnOff"

    counts_off = ArrayAttribute("reco", doc="OFF counts per reco bin.")
    acceptance = ArrayAttribute("reco", scalar_ok=True, doc="ON-region acceptance per reco bin.")
    acceptance_off = ArrayAttribute("reco", scalar_ok=True, doc="OFF-region acceptance per reco bin.")

    def __init__(self, counts, exposure, energy_edges, counts_off=None, acceptance=1.0, acceptance_off=1.0,
                 energy_edges_true=None, edisp=None, mask_safe=None, mask_fit=None, livetime=None, name=None,
                 models=None, meta=None):
        super().__init__(counts=counts, exposure=exposure, energy_edges=energy_edges,
                         energy_edges_true=energy_edges_true, edisp=edisp, background=None, mask_safe=mask_safe,
                         mask_fit=mask_fit, livetime=livetime, name=name, models=None, meta=meta)
        self.counts_off = counts_off
        self.acceptance = acceptance
        self.acceptance_off = acceptance_off
        self.models = models

    # --------------------------------------------------------------- data
    @property
    def alpha(self) -> np.ndarray:
        """``acceptance / acceptance_off`` (0 where not finite)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.nan_to_num(self.acceptance / self.acceptance_off)

    @property
    def background(self):
        """``alpha × counts_off`` (None without OFF counts)."""
        if self.counts_off is None:
            return None
        return self.alpha * self.counts_off

    @background.setter
    def background(self, value):
        if value is not None:
            raise DatasetError(f"Dataset '{self.name}': the background of an ON/OFF dataset is alpha × counts_off; "
                               "set counts_off / acceptance_off instead")

    @property
    def excess_error(self) -> np.ndarray:
        """1σ error of `excess` per bin, ON and OFF Poisson terms: ``sqrt(counts + alpha² counts_off)``.

        Returns
        -------
        numpy.ndarray
            One error per reco bin (``sqrt(counts)`` without OFF counts).

        Examples
        --------
        >>> d = SpectrumDatasetOnOff(counts=[10.0], exposure=[1.0], energy_edges=[1.0, 2.0], counts_off=[40.0],
        ...                          acceptance_off=4.0)
        >>> d.excess, d.excess_error
        (array([0.]), array([3.53553391]))
        """
        if self.counts_off is None:
            return np.sqrt(self.counts)
        return np.sqrt(self.counts + self.alpha ** 2 * self.counts_off)

    def _require_off(self):
        if self.counts_off is None:
            raise DatasetError(f"Dataset '{self.name}' has no counts_off")

    # ---------------------------------------------------------- predictions
    def npred_background(self) -> np.ndarray:
        """``alpha × μ_b``: the WStat-profiled background in the ON region for the current model.

        Returns
        -------
        numpy.ndarray
            One value per reco bin.

        Raises
        ------
        DatasetError
            If the dataset has no ``counts_off``.
        """
        self._require_off()
        alpha = self.alpha
        mu = get_wstat_mu_bkg(self.counts, self.counts_off, alpha, self.npred_signal())
        return np.nan_to_num(alpha * mu)

    def npred_off(self) -> np.ndarray:
        """Predicted OFF counts ``μ_b``.

        Returns
        -------
        numpy.ndarray
            One value per reco bin (0 where alpha is 0).

        Raises
        ------
        DatasetError
            If the dataset has no ``counts_off``.
        """
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.nan_to_num(self.npred_background() / self.alpha)

    @property
    def sqrt_ts(self) -> np.ndarray:
        """Signed significance per bin (Li & Ma eq. 17)."""
        self._require_off()
        return wstat_sqrt_ts(self.counts, self.counts_off, self.alpha)

    def stat_array(self) -> np.ndarray:
        """WStat per reco bin (gammapy's, NaN → 0).

        Returns
        -------
        numpy.ndarray
            WStat per reco bin.

        Raises
        ------
        DatasetError
            If the dataset has no ``counts_off``.
        """
        self._require_off()
        return np.nan_to_num(wstat(self.counts, self.counts_off, self.alpha, self.npred_signal()))

    # ---------------------------------------------------------------- info
    def _summed_significance(self, mask):
        n_on, n_off = self.counts[mask].sum(), self.counts_off[mask].sum()
        bkg = float((self.alpha * self.counts_off)[mask].sum())
        alpha = bkg / n_off if n_off > 0 else 0.0
        return float(wstat_sqrt_ts(n_on, n_off, alpha)), bkg

    def info_dict(self, in_safe_data_range: bool = True) -> dict:
        """Summary numbers: those of `SpectrumDataset.info_dict` plus the OFF quantities.

        Parameters
        ----------
        in_safe_data_range : bool, optional
            Whether to sum over ``mask_safe`` only (else over all bins).

        Returns
        -------
        dict
            The `SpectrumDataset.info_dict` keys, plus ``counts_off`` (int), ``acceptance``,
            ``acceptance_off`` and ``alpha`` (the OFF-weighted mean; NaN without OFF counts).
        """
        info = super().info_dict(in_safe_data_range)
        mask = self.mask_safe if in_safe_data_range else slice(None)
        if self.counts_off is not None:
            n_off = float(self.counts_off[mask].sum())
            bkg = float((self.alpha * self.counts_off)[mask].sum())
            alpha = bkg / n_off if n_off > 0 else np.nan
        else:
            n_off, alpha = 0.0, np.nan
        acceptance = float(self.acceptance[mask].sum())
        info["counts_off"] = int(round(n_off))
        info["acceptance"] = acceptance
        info["acceptance_off"] = acceptance / alpha if alpha else np.nan
        info["alpha"] = float(alpha)
        return info

    # ------------------------------------------------------------- stacking
    def _init_kwargs(self) -> dict:
        kw = super()._init_kwargs()
        kw.pop("background")
        kw.update(counts_off=self.counts_off, acceptance=self.acceptance, acceptance_off=self.acceptance_off)
        return kw

    def stack(self, other):
        """Stack ``other`` in place (gammapy's ``MapDatasetOnOff.stack``).

        ``other`` is restricted to its safe mask; the stacked acceptance is
        the sum of the acceptances, ``counts_off`` the sum of the OFF counts,
        and ``acceptance_off`` is set so that alpha is the OFF-weighted mean
        ``Σ α_i n_off,i / Σ n_off,i`` (where the OFF counts are 0, the mean
        alpha of all bins is used).

        Parameters
        ----------
        other : SpectrumDatasetOnOff
            A dataset on the same reco and true energy grids.

        Raises
        ------
        DatasetError
            If ``other`` is of another class or has other energy grids, or either has no ``counts_off``.
        """
        self._check_stackable(other)
        if self.counts_off is None or other.counts_off is None:
            raise DatasetError(f"Cannot stack '{other.name}' onto '{self.name}': both need counts_off")
        safe = other.mask_safe
        acceptance = self.acceptance + other.acceptance * safe
        off = self.counts_off + other.counts_off * safe
        alpha_off = self.alpha * self.counts_off + other.alpha * other.counts_off * safe
        with np.errstate(divide="ignore", invalid="ignore"):
            acceptance_off = acceptance * off / alpha_off
            average_alpha = alpha_off.sum() / off.sum()
        zero = off == 0
        acceptance_off = np.where(zero, acceptance / average_alpha, acceptance_off)
        self._stack_common(other)
        self.acceptance = acceptance
        self.acceptance_off = acceptance_off
        self.counts_off = off

    def _empty(self, name):
        n_reco, n_true = len(self._energy_edges) - 1, len(self._energy_edges_true) - 1
        return SpectrumDatasetOnOff(counts=np.zeros(n_reco), exposure=np.zeros(n_true), energy_edges=self._energy_edges,
                                    energy_edges_true=self._energy_edges_true, edisp=np.zeros((n_true, n_reco)),
                                    counts_off=np.zeros(n_reco), acceptance=0.0, acceptance_off=0.0,
                                    mask_safe=False, livetime=0.0, name=name)

    def to_spectrum_dataset(self, name=None) -> SpectrumDataset:
        """A Cash `SpectrumDataset` with ``alpha × counts_off`` as known background.

        Parameters
        ----------
        name : str, optional
            Name of the new dataset (default: the same name).

        Returns
        -------
        SpectrumDataset
            Same counts, exposure, edisp, masks and live time; no models.
        """
        kw = super()._init_kwargs()
        kw["background"] = self.background
        return SpectrumDataset(name=name if name is not None else self.name, **kw)

    # ------------------------------------------------------------------ I/O
    @classmethod
    def from_ogip(cls, spec, name=None):
        """From an `~gwidgets.core.io.ogip.OGIPSpectrum` (the container of every spectrum reader).

        Parameters
        ----------
        spec : `~gwidgets.core.io.ogip.OGIPSpectrum`
            The spectrum read; it must have OFF counts.
        name : str, optional
            Dataset name (default: the spectrum's).

        Returns
        -------
        SpectrumDatasetOnOff
            The dataset; ``meta["filenames"]`` lists the files it came from.

        Raises
        ------
        DatasetError
            If the spectrum has no OFF counts.
        """
        if spec.counts_off is None:
            where = next(iter(spec.filenames.values()), spec.name)
            raise DatasetError(f"Spectrum '{where}' has no OFF counts (no BACKFILE / COUNTS_OFF): "
                               "read it with SpectrumDataset.read")
        return cls(counts=spec.counts, counts_off=spec.counts_off, acceptance=spec.acceptance,
                   acceptance_off=spec.acceptance_off if spec.acceptance_off is not None else 1.0,
                   exposure=spec.exposure, energy_edges=spec.energy_edges, energy_edges_true=spec.energy_edges_true,
                   edisp=spec.edisp, mask_safe=spec.mask_safe, mask_fit=spec.mask_fit,
                   livetime=spec.livetime if np.isfinite(spec.livetime) else None,
                   name=name if name is not None else spec.name, meta=dict(spec.meta, filenames=spec.filenames))

    @classmethod
    def read(cls, filename, name=None, format=None):
        """Read an OGIP PHA file (and the BKG / ARF / RMF files it names) or a gammapy "gadf" file.

        ``format``: ``"ogip"``, ``"gadf"`` or None (recognised from the file, as gammapy does).

        Parameters
        ----------
        filename : str or `~pathlib.Path`
            The PHA (or gadf) file.
        name : str, optional
            Dataset name (default: the one in the file).
        format : {"ogip", "gadf"}, optional
            File format; None recognises it.

        Returns
        -------
        SpectrumDatasetOnOff
            The dataset read.

        Raises
        ------
        DatasetError
            If the file has no OFF counts.
        `~gwidgets.errors.UnsupportedFormatError`
            If the file is a BKG, ARF or RMF file, or no spectrum at all.
        """
        return super().read(filename, name=name, format=format)

    def to_ogip(self) -> OGIPSpectrum:
        """The dataset as an `~gwidgets.core.io.ogip.OGIPSpectrum` (what `write` writes).

        Returns
        -------
        `~gwidgets.core.io.ogip.OGIPSpectrum`
            Counts, OFF counts, acceptances, exposure (cm² s), edisp and masks (no known background).
        """
        spec = super().to_ogip()
        spec.background = None
        spec.acceptance = self.acceptance
        spec.counts_off, spec.acceptance_off = self.counts_off, self.acceptance_off
        return spec

    def write(self, filename, overwrite: bool = False, format: str = "ogip"):
        """Write the dataset as ``format`` ``"ogip"``, ``"ogip-sherpa"`` or ``"gadf"``.

        OGIP: ``filename`` = PHA and ``*_bkg``, ``*_arf``, ``*_rmf`` next to it; GADF: one file,
        gammapy's default format.

        Parameters
        ----------
        filename : str or `~pathlib.Path`
            Output file (the PHA file for OGIP).
        overwrite : bool, optional
            Whether existing files are replaced.
        format : {"ogip", "ogip-sherpa", "gadf"}, optional
            File format.

        Returns
        -------
        dict or `~pathlib.Path`
            The written paths by kind (OGIP formats) or the written file (gadf).
        """
        return write_spectrum(self.to_ogip(), filename, format=format, overwrite=overwrite)

    @classmethod
    def from_extraction(cls, extraction, name=None):
        """From a `~gwidgets.core.reduction.spectrum.SpectrumExtraction` (one observation).

        The safe mask is the reco bins inside the extraction's ``energy_thresholds`` (if any).

        Parameters
        ----------
        extraction : `~gwidgets.core.reduction.spectrum.SpectrumExtraction`
            The ON/OFF extraction of one observation.
        name : str, optional
            Dataset name (default: the observation id).

        Returns
        -------
        SpectrumDatasetOnOff
            The dataset (no models).

        Raises
        ------
        DatasetError
            If the extraction failed (``ok`` is False).
        """
        if not getattr(extraction, "ok", True):
            raise DatasetError(f"Observation {extraction.obs_id} was not extracted: {extraction.reason}")
        thresholds = getattr(extraction, "energy_thresholds", (None, None)) or (None, None)
        ds = cls(counts=extraction.counts, counts_off=extraction.counts_off, acceptance=extraction.acceptance,
                 acceptance_off=extraction.acceptance_off, exposure=extraction.exposure,
                 energy_edges=extraction.energy_axis, energy_edges_true=extraction.energy_axis_true,
                 edisp=extraction.edisp, livetime=extraction.livetime,
                 name=name if name is not None else str(extraction.obs_id), meta=dict(extraction.meta or {}))
        lo, hi = thresholds
        if lo is not None or hi is not None:
            ds.mask_safe = energy_mask(ds.energy_edges, lo, hi)
        return ds

    def __repr__(self):
        base = super().__repr__()
        off = int(round(float(self.counts_off.sum()))) if self.counts_off is not None else None
        return base[:-1] + f", counts_off={off})"

