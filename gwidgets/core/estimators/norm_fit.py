"""The likelihood of one source's flux normalisation in a group of reco-energy bins, vectorised.

Flux points and light curves both fit, in a group of bins (an energy bin, a
time bin × energy band), a factor ``norm`` multiplying the predicted signal of
one source while every other parameter stays frozen at its current (best-fit)
value — gammapy's ``FluxEstimator`` with ``reoptimize=False``. The predicted
signal is then *linear* in the norm::

    μ_sig(norm) = other + norm × s0

with ``s0`` the source's forward-folded prediction at the reference model and
``other`` the other models' signal, both computed once. `NormLikelihood`
keeps these arrays for the active bins of all datasets of the group and
evaluates the summed statistic (WStat with the profiled background, or Cash
with the dataset's background) for a whole array of norms at once, so that the
best fit, the asymmetric errors, the upper limit and the likelihood scan cost a
few vectorised numpy calls instead of fits.

`estimate_norm` does the estimation for one group:

* best fit: Brent's minimisation (relative tolerance ~1e-10) of ``stat(norm)``;
* ``norm_err``: the curvature at the minimum (central second difference with a
  step of 1e-3 σ, what MINUIT's HESSE computes);
* ``norm_errn``/``norm_errp``: roots of ``stat − stat_min = n_sigma²`` (Brent),
  and ``norm_ul`` = best + root of ``stat − stat_min = n_sigma_ul²``, as
  gammapy's scipy confidence backend;
* ``ts = stat(0) − stat_min``; ``stat_scan`` on the scan values.

Examples
--------
Four runs of the simulated example store; the model is the truth of its source "bright"
(fitted first, in an analysis: ``Fit().run(datasets)``):

>>> from gwidgets.core.models import LogParabola, SkyModel
>>> from gwidgets.core.datasets import example_spectrum_datasets
>>> datasets = example_spectrum_datasets([1001, 1002, 1003, 1004])
>>> datasets.models = SkyModel(LogParabola(amplitude="3e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.4, beta=0.1),
...                            name="bright")
>>> like = NormLikelihood(datasets, "bright")          # masks=None: every fit bin
>>> stat = like.stat(np.array([0.5, 1.0, 2.0]))
>>> stat.shape, int(np.argmin(stat))                   # the truth (norm 1) is the most likely
((3,), 1)
"""
from __future__ import annotations

import math

import numpy as np

from ...errors import GwidgetsError
from ..datasets.base import model_components
from ..datasets.integrate import BinIntegrator
from ..fit.brent import brentq, minimize_brent  # scipy.optimize's, without its ~23 MiB import
from ..stats import cash, get_wstat_gof_terms, wstat

__all__ = ["EstimatorError", "NormLikelihood", "estimate_norm", "source_component_names", "DEFAULT_SCAN"]

#: gammapy's default norm scan: 11 log-spaced values in [0.2, 5]
DEFAULT_SCAN = np.geomspace(0.2, 5.0, 11)


class EstimatorError(GwidgetsError, ValueError):
    """An estimator cannot run on what it was given (no data in a range, unknown source...)."""


def source_component_names(datasets) -> list:
    """Names of the (non-background) model components of the datasets, in order, each once.

    Parameters
    ----------
    datasets : iterable of datasets
        Datasets with models.

    Returns
    -------
    list of str
        Component names (background-norm models left out); empty without models.
    """
    names = []
    for d in datasets:
        for c in model_components(d.models):
            if not c.background and c.applies_to(d.name) and c.name not in names:
                names.append(c.name)
    return names


def resolve_source(datasets, source):
    """The name of the fitted component ``source`` refers to.

    Parameters
    ----------
    datasets : iterable of datasets
        Datasets with models.
    source : str or int
        Component name, or its index in `source_component_names`.

    Returns
    -------
    str
        The component name.

    Raises
    ------
    EstimatorError
        If the datasets have no model, the index is out of range or no component has that name.
    """
    names = source_component_names(datasets)
    if not names:
        raise EstimatorError("The datasets have no model: set datasets.models (and fit it) before estimating fluxes")
    if isinstance(source, (int, np.integer)):
        if not -len(names) <= int(source) < len(names):
            raise EstimatorError(f"Source index {source} out of range: the models are {names}")
        return names[int(source)]
    if source not in names:
        raise EstimatorError(f"No source named '{source}' in the datasets' models (have: {', '.join(names)})")
    return source


class _Part:
    """The arrays of one dataset's active bins."""

    __slots__ = ("dataset", "idx", "n_on", "n_off", "alpha", "s0", "other", "bkg", "wstat")


class NormLikelihood:
    """Summed statistic of ``datasets`` restricted to ``masks`` as a function of the source norm.

    Parameters
    ----------
    datasets : iterable of 1D datasets (with models)
    source : str or int
        Name (or index) of the source component whose prediction is scaled.
    masks : list of bool arrays, optional
        Per dataset, the reco bins of the group (combined with the dataset's ``mask``).
    cache : dict, optional
        Per-dataset source / other-model predictions shared between groups of bins (filled here).

    Raises
    ------
    EstimatorError
        If ``source`` does not name a component of the datasets' models (see `resolve_source`).
    """

    def __init__(self, datasets, source, masks=None, cache=None):
        datasets = list(datasets)
        self._cache = cache if cache is not None else {}
        self.source = resolve_source(datasets, source)
        masks = [None] * len(datasets) if masks is None else list(masks)
        self.parts = []
        self.datasets = datasets
        for d, m in zip(datasets, masks):
            part = self._part(d, m)
            self.parts.append(part)
        active = [p for p in self.parts if p is not None and len(p.idx)]
        w = [p for p in active if p.wstat]
        c = [p for p in active if not p.wstat]
        cat = lambda parts, attr: np.concatenate([getattr(p, attr) for p in parts]) if parts else np.zeros(0)  # noqa: E731
        self.w_on, self.w_off, self.w_alpha = cat(w, "n_on"), cat(w, "n_off"), cat(w, "alpha")
        self.w_s0, self.w_other = cat(w, "s0"), cat(w, "other")
        self.c_n, self.c_bkg, self.c_s0, self.c_other = cat(c, "n_on"), cat(c, "bkg"), cat(c, "s0"), cat(c, "other")
        self.n_bins = len(self.w_on) + len(self.c_n)
        self.w_gof = float(np.sum(get_wstat_gof_terms(self.w_on, self.w_off))) if len(self.w_on) else 0.0

    def _part(self, d, m):
        mask = np.asarray(d.mask, bool).copy()
        if m is not None:
            mask &= np.asarray(m, bool)
        part = _Part()
        part.dataset = d
        part.wstat = d.stat_type == "wstat"
        if part.wstat:
            if d.counts_off is None:
                mask[:] = False
            else:
                a = d.alpha
                mask &= np.isfinite(a) & (a > 0)
        idx = np.flatnonzero(mask)
        part.idx = idx
        s0, other = self._predictions(d)
        part.s0, part.other = s0[idx], other[idx]
        part.n_on = np.asarray(d.counts, float)[idx]
        if part.wstat:
            part.n_off = np.asarray(d.counts_off, float)[idx]
            part.alpha = d.alpha[idx]
            part.bkg = None
        else:
            part.bkg = d.npred_background()[idx]
            part.n_off = part.alpha = None
        return part

    def _predictions(self, d):
        """Source and other-model signal in every reco bin of ``d`` (cached across groups of bins)."""
        key = (id(d), self.source)
        if key not in self._cache:
            comps = [c for c in model_components(d.models) if c.applies_to(d.name)]
            src = [c for c in comps if not c.background and c.name == self.source]
            others = [c for c in comps if not c.background and c.name != self.source]
            e = d.energy_edges_true
            integ = BinIntegrator(e[:-1], e[1:])
            n = len(d.counts)
            s0 = sum(integ(c.spectral) for c in src) @ d.response if src else np.zeros(n)
            other = sum(integ(c.spectral) for c in others) @ d.response if others else np.zeros(n)
            self._cache[key] = (s0, other)
        return self._cache[key]

    # ------------------------------------------------------------ statistic
    @property
    def has_data(self) -> bool:
        """At least one active bin (a bin contributing to the statistic)."""
        return self.n_bins > 0

    @property
    def has_signal(self) -> bool:
        """The source predicts counts in the active bins (the norm is constrained)."""
        return bool(np.any(self.w_s0 != 0) or np.any(self.c_s0 != 0))

    def stat(self, norms) -> np.ndarray:
        """Summed statistic for each value of ``norms`` (1D array) → array of the same length.

        Parameters
        ----------
        norms : array-like
            Norm values (multiplying the source's predicted signal).

        Returns
        -------
        numpy.ndarray
            ``-2 log L`` summed over the active bins (WStat and Cash), one per norm.
        """
        norms = np.atleast_1d(np.asarray(norms, dtype=float))
        total = np.zeros(len(norms))
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            if len(self.w_on):
                mu = self.w_other[None, :] + norms[:, None] * self.w_s0[None, :]
                w = wstat(self.w_on, self.w_off, self.w_alpha, mu, extra_terms=False)
                if not np.all(np.isfinite(w)):
                    w = np.nan_to_num(w)
                total += w.sum(axis=1) + self.w_gof
            if len(self.c_n):
                mu = self.c_other[None, :] + norms[:, None] * self.c_s0[None, :] + self.c_bkg[None, :]
                total += cash(self.c_n, np.maximum(mu, 0.0)).sum(axis=1)
        return total

    def __call__(self, norm: float) -> float:
        """Summed statistic at one norm (see `stat`).

        Parameters
        ----------
        norm : float
            Norm value.

        Returns
        -------
        float
            The statistic.
        """
        return float(self.stat(np.array([norm]))[0])

    # ------------------------------------------------------------ per dataset
    def per_dataset(self, norm: float) -> dict:
        """Counts, npred (signal + background) and source npred per dataset over its active bins.

        Parameters
        ----------
        norm : float
            Norm value (NaN gives NaN predictions).

        Returns
        -------
        dict of numpy.ndarray
            ``counts``, ``npred`` and ``npred_excess``, one value per dataset (NaN predictions for a
            dataset without active bins).
        """
        counts, npred, npred_excess = [], [], []
        for p in self.parts:
            if p is None or not len(p.idx):
                counts.append(0.0)
                npred.append(np.nan)
                npred_excess.append(np.nan)
                continue
            mu = p.other + norm * p.s0
            if p.wstat:
                from ..stats import get_wstat_mu_bkg

                with np.errstate(invalid="ignore", divide="ignore"):
                    bkg = np.nan_to_num(p.alpha * get_wstat_mu_bkg(p.n_on, p.n_off, p.alpha, mu))
            else:
                bkg = p.bkg
            counts.append(float(p.n_on.sum()))
            npred.append(float(np.clip(mu + bkg, 0, None).sum()))
            npred_excess.append(float((norm * p.s0).sum()))
        return {"counts": np.array(counts), "npred": np.array(npred), "npred_excess": np.array(npred_excess)}


# ---------------------------------------------------------------------------- estimation
def _minimize(like, start=1.0):
    """Best-fit norm by Brent's method (bracket grown downhill from around ``start``)."""
    f = like.__call__
    a, b = 0.9 * start if start else 0.9, 1.1 * start if start else 1.1
    try:
        res = minimize_brent(f, bracket=(a, b), xtol=1e-10, maxiter=500)
        x, fx, ok = float(res.x), float(res.fun), bool(res.success)
    except (RuntimeError, ValueError, OverflowError):
        return math.nan, math.nan, False
    return x, fx, ok and math.isfinite(x) and math.isfinite(fx)


def _curvature_error(like, x, fx):
    """sqrt(2 / f'') at the minimum (errordef 1 for −2 log L)."""
    h = 1e-3 * max(abs(x), 1e-2)
    for _ in range(3):
        fp, fm = like.stat(np.array([x + h, x - h]))
        d2 = (fp - 2 * fx + fm) / h**2
        if not (np.isfinite(d2) and d2 > 0):
            return math.nan
        sigma = math.sqrt(2.0 / d2)
        if abs(h / sigma - 1e-3) < 5e-4:
            return sigma
        h = 1e-3 * sigma
    return sigma


def _crossing(like, x, fx, delta, direction, step):
    """Distance from ``x`` to where ``stat − fx = delta`` going in ``direction`` (+1/−1); NaN if none."""
    g = lambda v: like(v) - fx - delta  # noqa: E731
    step = step if (math.isfinite(step) and step > 0) else max(abs(x), 1.0) * 0.1
    lo = x
    hi = x + direction * step
    for _ in range(80):
        value = g(hi)
        if not math.isfinite(value):
            return math.nan
        if value > 0:
            try:
                root = brentq(g, min(lo, hi), max(lo, hi), xtol=1e-12, rtol=1e-12, maxiter=200)
            except (RuntimeError, ValueError):
                return math.nan
            return abs(root - x)
        lo, step = hi, step * 2.0
        hi = x + direction * step
    return math.nan


def estimate_norm(like, selection=("errn-errp", "ul", "scan"), n_sigma=1.0, n_sigma_ul=2.0, scan_values=None,
                  start=1.0) -> dict:
    """All the norm estimates for one group of bins (see module doc); NaN entries when there is no data.

    Parameters
    ----------
    like : NormLikelihood
        The likelihood of the group.
    selection : tuple of str, optional
        Optional steps: ``"errn-errp"``, ``"ul"``, ``"scan"``.
    n_sigma : float, optional
        Width of the errors (``Δstat = n_sigma²``).
    n_sigma_ul : float, optional
        Upper limit at ``Δstat = n_sigma_ul²``.
    scan_values : array-like, optional
        Norm scan values (default `DEFAULT_SCAN`).
    start : float, optional
        Start of the minimisation.

    Returns
    -------
    dict
        ``norm``, ``norm_err``, ``ts``, ``stat``, ``stat_null``, ``success``, ``reason`` (empty on
        success); ``norm_errn`` / ``norm_errp``, ``norm_ul``, ``norm_scan`` / ``stat_scan`` when selected;
        and `NormLikelihood.per_dataset`'s ``counts``, ``npred``, ``npred_excess``.
    """
    scan_values = DEFAULT_SCAN if scan_values is None else np.asarray(scan_values, float)
    out = {"norm": math.nan, "norm_err": math.nan, "ts": math.nan, "stat": math.nan, "stat_null": math.nan,
           "success": False}
    if "errn-errp" in selection:
        out.update(norm_errn=math.nan, norm_errp=math.nan)
    if "ul" in selection:
        out["norm_ul"] = math.nan
    if "scan" in selection:
        out.update(norm_scan=scan_values.copy(), stat_scan=np.full(len(scan_values), np.nan))
    if not like.has_data:
        out.update(like.per_dataset(math.nan))
        out["reason"] = "no data in this bin"
        return out
    if not like.has_signal:
        out.update(like.per_dataset(math.nan))
        out["reason"] = "the source predicts no counts in this bin"
        return out
    x, fx, ok = _minimize(like, start)
    stat_null = like(0.0)
    out.update(norm=x, stat=fx, stat_null=stat_null, success=ok, ts=stat_null - fx, reason="" if ok else
               "the norm fit did not converge")
    if ok:
        err = _curvature_error(like, x, fx)
        out["norm_err"] = err * n_sigma
        if "errn-errp" in selection:
            out["norm_errn"] = _crossing(like, x, fx, n_sigma**2, -1, err * n_sigma)
            out["norm_errp"] = _crossing(like, x, fx, n_sigma**2, +1, err * n_sigma)
        if "ul" in selection:
            out["norm_ul"] = x + _crossing(like, x, fx, n_sigma_ul**2, +1, err * n_sigma_ul)
    if "scan" in selection:
        out["stat_scan"] = like.stat(scan_values)
    out.update(like.per_dataset(x if ok else math.nan))
    return out
