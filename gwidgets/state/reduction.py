"""Pure functions behind the session's 1D nodes: reduced datasets → fitted datasets → predictions.

The reduction itself is the core's one 1D pipeline
(`~gwidgets.core.reduction.spectrum_maker.reduce_spectra`, built from the session's
`~gwidgets.core.reduction.settings.SpectrumReductionSettings`); this module only arranges its output:

* `build_datasets`: the per-observation `SpectrumDatasetOnOff` (``mode="joint"``)
  or their stack (``mode="stacked"``), with an optional fit range.
* `predictions`: for the current model parameters, per dataset: counts,
  excess (with errors), the WStat-profiled background, npred and residuals,
  as plain arrays (`SpectrumPrediction`). This is what changes when a
  parameter moves — the datasets themselves are not rebuilt.

Examples
--------
A session on four runs of the simulated example store (stacked into one dataset):

>>> from regions import CircleSkyRegion
>>> from gwidgets.core.models import LogParabola, SkyModel
>>> from gwidgets.state import AnalysisSession
>>> store = gw.example_store()
>>> session = AnalysisSession(store, background=False)
>>> session.select(store.obs_ids[:4])
>>> session.set_on_region(CircleSkyRegion(SkyCoord(83.63, 22.01, unit="deg"), 0.15 * u.deg))
>>> session.set_models([SkyModel(LogParabola(amplitude="3e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.4, beta=0.1),
...                              name="bright")])
>>> from gwidgets.state.reduction import predictions
>>> datasets = session.compute("datasets")
>>> pred = predictions(datasets, session.models)
>>> list(pred), pred["stacked"].residuals.shape
(['stacked'], (30,))
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.registry import Registry
from ..errors import GwidgetsError

__all__ = ["DATASET_MODES", "SpectrumPrediction", "build_datasets", "predictions", "assign_models"]

#: how the per-observation datasets become the fitted ones (name → builder(list of datasets) → Datasets)
DATASET_MODES = Registry("dataset mode")


@DATASET_MODES.register("joint")
def joint(datasets):
    """One dataset per observation (copies: the fit range and models set on them stay off the reduction's)."""
    from ..core.datasets import Datasets

    return Datasets([d.copy() for d in datasets])


@DATASET_MODES.register("stacked")
def stacked(datasets):
    """One dataset stacked from the observations' safe ranges (`stack_spectra`), named ``stacked``."""
    from ..core.datasets import Datasets
    from ..core.reduction.spectrum_maker import stack_spectra

    return Datasets([stack_spectra(datasets, name="stacked")])


def build_datasets(reduced, mode: str = "joint", fit_range=None):
    """The fitted `Datasets` from the reduction's per-observation datasets; empty `Datasets` without any.

    ``fit_range``: ``(e_min, e_max)`` in TeV (or Quantities) for ``mask_fit``.
    """
    from ..core.datasets import Datasets

    if mode not in DATASET_MODES:
        raise GwidgetsError(f"Unknown dataset mode '{mode}' (known: {', '.join(DATASET_MODES)})")
    usable = list(reduced or [])
    datasets = DATASET_MODES[mode](usable) if usable else Datasets([])
    if fit_range is not None and len(datasets):
        datasets.set_fit_range(*fit_range)
    return datasets


def assign_models(datasets, models):
    """Give ``datasets`` the session's models (only when they are not the same object already)."""
    if datasets is not None and models is not None and datasets.models is not models:
        datasets.models = models


@dataclass
class SpectrumPrediction:
    """Arrays of one dataset for the current model (energies in TeV, all bins; ``mask``: bins fitted)."""

    name: str
    energy_edges: np.ndarray
    counts: np.ndarray
    background: np.ndarray
    excess: np.ndarray
    excess_err: np.ndarray
    npred: np.ndarray
    npred_signal: np.ndarray
    residuals: np.ndarray
    mask: np.ndarray

    @property
    def energy_center(self) -> np.ndarray:
        e = self.energy_edges
        return np.sqrt(e[:-1] * e[1:])

    @property
    def counts_err(self) -> np.ndarray:
        return np.sqrt(self.counts)

    @property
    def residuals_err(self) -> np.ndarray:
        """Error of ``counts − npred``: that of the excess (ON and OFF Poisson terms)."""
        return self.excess_err

    def __repr__(self):
        return (f"SpectrumPrediction('{self.name}', {len(self.counts)} bins, counts={self.counts.sum():.0f}, "
                f"npred={self.npred[self.mask].sum():.1f} in the fit range)")


def _static(d) -> dict:
    """What does not depend on the model (alpha, excess and its error, mask), cached per dataset.

    The cache holds until the core's data epoch moves (any data or mask change).
    """
    from ..core.datasets.base import EPOCH

    cached = getattr(d, "_gw_static", None)
    if cached is not None and cached[0] == EPOCH.value:
        return cached[1]
    counts = d.counts
    off = getattr(d, "counts_off", None)
    if off is not None:
        alpha = d.alpha
        static = {"alpha": alpha, "excess": counts - alpha * off}
    else:
        static = {"alpha": None, "excess": None}
    static["excess_err"] = d.excess_error  # the core's (ON and OFF Poisson terms)
    static["mask"] = np.asarray(d.mask, dtype=bool)
    d._gw_static = (EPOCH.value, static)
    return static


def _predict_one(d) -> SpectrumPrediction:
    from ..core.stats import get_wstat_mu_bkg

    st = _static(d)
    signal = d.npred_signal()
    counts = d.counts
    # ON/OFF: the WStat-profiled background (dataset.npred_background, signal computed once)
    if st["alpha"] is not None:
        alpha = st["alpha"]
        background = alpha * get_wstat_mu_bkg(counts, d.counts_off, alpha, signal)
        background[~np.isfinite(background)] = 0.0
        excess = st["excess"]
    else:
        background = d.npred_background()
        excess = counts - background
    npred = np.clip(signal + background, 0, None)
    mask = st["mask"]
    residuals = np.where(mask, counts - npred, np.nan)
    return SpectrumPrediction(d.name, d.energy_edges, counts, background, excess, st["excess_err"], npred, signal,
                              residuals, mask)


def predictions(datasets, models=None) -> dict:
    """Name → `SpectrumPrediction` for every dataset (models assigned first if given)."""
    if datasets is None:
        return {}
    assign_models(datasets, models)
    return {d.name: _predict_one(d) for d in datasets}
