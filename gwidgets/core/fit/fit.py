"""`Fit`: maximum-likelihood fit of datasets with MINUIT (MIGRAD, then HESSE for the errors).

The minimiser works on the free parameters' *factors* (``value = factor × scale``,
the scale reset to the power of ten of the value at the start, as gammapy),
with ``errordef = 1`` since the statistics are ``−2 log L``, and bounds from
the parameters' ``min`` / ``max``.

Failure modes give clear outcomes, never a crash:

* no free parameter, a NaN / infinite start value, a value outside its
  bounds, a statistic that is not finite at the start → `FitError`;
* MIGRAD not converging (call limit, EDM too large) or the model raising
  → an unsuccessful result with the reason; the parameters are restored to
  their start values (``restore_on_failure=False`` keeps the best point seen);
* cancelling (callback returning False, `StopFit`, a `~gwidgets.core.progress.CancelToken`) → an
  unsuccessful result with message "cancelled"; the parameters are left at
  the best point found so far.

Examples
--------
Four runs of the simulated example store, whose source "bright" is a log-parabola with
amplitude 3e-11 cm-2 s-1 TeV-1 at 1 TeV, alpha = 2.4 and beta = 0.1:

>>> from gwidgets.core.datasets import example_spectrum_datasets
>>> datasets = example_spectrum_datasets([1001, 1002, 1003, 1004])
>>> from gwidgets.core.models import LogParabola, SkyModel
>>> datasets.models = SkyModel(LogParabola(amplitude="3e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.5, beta=0.1),
...                            name="bright")
>>> fit = Fit()
>>> result = fit.run(datasets)
>>> alpha = result.parameters["alpha"]
>>> result.success, bool(abs(alpha.value - 2.4) < 3 * alpha.error)     # the truth within 3 sigma
(True, True)
"""
from __future__ import annotations

import math

import numpy as np
from astropy.table import Table
from iminuit import Minuit

from ...errors import GwidgetsError
from ..models.spectral_errors import attach_covariance
from .objective import Objective, StopFit
from .result import Covariance, CovarianceResult, FitResult, OptimizeResult

__all__ = ["Fit", "FitError", "StopFit", "as_datasets"]


def _check_exposure(datasets):
    """A dataset without any exposure cannot constrain a model: a `FitError` naming it, before MIGRAD."""
    for d in datasets:
        exposure = getattr(d, "exposure", None)
        if exposure is None:
            continue
        values = np.asarray(getattr(exposure, "data", exposure), dtype=float)
        if values.size and not np.any(values > 0):
            raise FitError(f"Dataset '{d.name}' has zero exposure everywhere: it cannot constrain a model "
                           "(check its ARF / effective area and live time, or leave it out)")


class FitError(GwidgetsError, ValueError):
    """A fit cannot start (no free parameter, invalid start values...); the message says why."""


def as_datasets(datasets):
    """A `~gwidgets.core.datasets.Datasets` for a Datasets, a dataset or a list of datasets.

    Parameters
    ----------
    datasets : dataset, list of datasets or `~gwidgets.core.datasets.Datasets`
        What to fit; any object with ``stat_sum`` and ``parameters`` (and no
        ``stat_type``) is used as it is.

    Returns
    -------
    `~gwidgets.core.datasets.Datasets`
        The datasets (or the object itself).

    Raises
    ------
    FitError
        For anything else.
    """
    from ..datasets import Datasets

    if isinstance(datasets, Datasets):
        return datasets
    if hasattr(datasets, "stat_sum") and hasattr(datasets, "stat_type"):
        return Datasets([datasets])
    if isinstance(datasets, (list, tuple)):
        return Datasets(list(datasets))
    if hasattr(datasets, "stat_sum") and hasattr(datasets, "parameters"):
        return datasets  # any object with the Datasets interface
    raise FitError(f"Cannot fit {type(datasets).__name__}: give a dataset, a list of datasets or a Datasets")


def _stat_function(datasets):
    """The fastest callable giving the current total statistic (the data are fixed during a fit)."""
    get = getattr(datasets, "stat_function", None)
    return get() if get is not None else datasets.stat_sum


def unique_names(params) -> list:
    """Parameter names made unique for the minimiser (repeated names get their model's name or an index).

    A name used more than once gets ``_<position>`` appended.

    Parameters
    ----------
    params : list of `~gwidgets.core.models.parameter.Parameter`
        The parameters.

    Returns
    -------
    list of str
        One unique name per parameter.

    Examples
    --------
    >>> from gwidgets.core.models.parameter import Parameter
    >>> unique_names([Parameter("index", 2.0), Parameter("amplitude", 1.0), Parameter("index", 3.0)])
    ['index_0', 'amplitude', 'index_2']
    """
    names = [p.name for p in params]
    out = []
    for i, n in enumerate(names):
        out.append(n if names.count(n) == 1 else f"{n}_{i}")
    return out


def _models_copy(datasets):
    models = getattr(datasets, "models", None)
    if models is None and hasattr(datasets, "_distinct_models"):
        distinct = datasets._distinct_models()
        models = distinct[0] if len(distinct) == 1 else (distinct or None)
    if models is None:
        return None
    if isinstance(models, list):
        return [m.copy() if hasattr(m, "copy") else m for m in models]
    return models.copy() if hasattr(models, "copy") else models


class Fit:
    """Fit datasets with iminuit.

    Parameters
    ----------
    backend : {"minuit"}
    tol : float
        MIGRAD tolerance (stops when EDM < 0.002 × tol × errordef); 0.1 as gammapy.
    strategy : {0, 1, 2}
        MINUIT strategy (1: default, as gammapy).
    maxfev : int, optional
        Maximum number of statistic evaluations for MIGRAD (None: MINUIT's default).
    store_trace : bool
        Keep every evaluation (``result.trace``, an astropy Table).
    restore_on_failure : bool
        Restore the start values when the fit fails (default True).
    throttle : float
        Minimum time in seconds between two progress callbacks.
    print_level : int, optional
        MINUIT's print level (0: silent).

    Raises
    ------
    FitError
        For an unknown backend.

    Examples
    --------
    >>> from gwidgets.core.fit import Fit
    >>> from gwidgets.core.models import Parameter, Parameters
    >>> class Measurement:  # any object with parameters and stat_sum() fits: here χ² of x = 3 ± 1
    ...     parameters = Parameters([Parameter("x", 1.0)])
    ...     def stat_sum(self):
    ...         return (self.parameters["x"].value - 3.0) ** 2
    ...     def __iter__(self):  # no sub-datasets
    ...         return iter(())
    >>> result = Fit().run(Measurement())
    >>> result.success, round(result.parameters["x"].value, 6), round(result.parameters["x"].error, 6)
    (True, 3.0, 1.0)
    """

    def __init__(self, backend="minuit", tol=0.1, strategy=1, maxfev=None, store_trace=False,
                 restore_on_failure=True, throttle=0.02, print_level=0):
        if backend != "minuit":
            raise FitError(f"Unknown fit backend '{backend}' (available: 'minuit')")
        self.backend = backend
        self.tol = float(tol)
        self.strategy = int(strategy)
        self.maxfev = maxfev
        self.store_trace = bool(store_trace)
        self.restore_on_failure = bool(restore_on_failure)
        self.throttle = float(throttle)
        self.print_level = print_level
        self._minuit = None
        self._objective = None

    # ---------------------------------------------------------------- setup
    @staticmethod
    def _free(datasets):
        params = datasets.parameters
        free = list(params.free_parameters)
        if not free:
            raise FitError("No free parameters to fit: every model parameter is frozen (or there is no model)")
        for p in free:
            if not math.isfinite(p.value):
                raise FitError(f"Parameter '{p.name}' has a non-finite start value ({p.value})")
            lo, hi = p.min, p.max
            if (math.isfinite(lo) and p.value < lo) or (math.isfinite(hi) and p.value > hi):
                raise FitError(f"Parameter '{p.name}' = {p.value:g} is outside its bounds [{lo:g}, {hi:g}]")
            if math.isfinite(lo) and math.isfinite(hi) and lo >= hi:
                raise FitError(f"Parameter '{p.name}' has empty bounds [{lo:g}, {hi:g}]")
        return params, free

    def _minuit_for(self, objective, free, names):
        minuit = Minuit(objective, np.array([p.factor for p in free], dtype=float), name=names)
        minuit.errordef = 1.0
        minuit.tol = self.tol
        minuit.strategy = self.strategy
        minuit.print_level = self.print_level
        for name, p in zip(names, free):
            err = p.error / p.scale if (p.error and math.isfinite(p.error) and p.error > 0) else 1.0
            minuit.errors[name] = err
            lo = None if not math.isfinite(p.min) else p.factor_min
            hi = None if not math.isfinite(p.max) else p.factor_max
            minuit.limits[name] = (lo, hi)
        return minuit

    # ------------------------------------------------------------- optimize
    def optimize(self, datasets, callback=None, throttle=None, token=None, restore_on_failure=None) -> OptimizeResult:
        """Run MIGRAD; no errors.

        ``callback(iteration, values, stat)`` is called at most every
        ``throttle`` seconds (and once at the end); returning False cancels
        the fit (as does raising `StopFit` or setting ``token``).

        Parameters
        ----------
        datasets : dataset, list of datasets or `~gwidgets.core.datasets.Datasets`
            What to fit (see `as_datasets`).
        callback : callable, optional
            ``callback(iteration, values, stat)``, ``values`` a dict name → value.
        throttle : float, optional
            Minimum time between callbacks in s (default the fit's).
        token : `~gwidgets.core.progress.CancelToken`, optional
            Cancels the fit when set.
        restore_on_failure : bool, optional
            Restore the start values on failure (default the fit's).

        Returns
        -------
        `~gwidgets.core.fit.result.OptimizeResult`
            The outcome; the parameters are left at the best fit (on success).

        Raises
        ------
        FitError
            If the fit cannot start: no free parameter, a start value that is not
            finite or outside its bounds, a dataset with zero exposure, or a
            statistic that cannot be computed or is not finite at the start.
        """
        datasets = as_datasets(datasets)
        _check_exposure(datasets)
        params, free = self._free(datasets)
        restore = self.restore_on_failure if restore_on_failure is None else restore_on_failure
        snapshot = params.snapshot()
        for p in free:
            p.autoscale()
        names = unique_names(free)
        objective = Objective(_stat_function(datasets), free, names, callback,
                              self.throttle if throttle is None else throttle, token, self.store_trace)
        try:
            start = datasets.stat_sum()
        except Exception as exc:
            raise FitError(f"The fit statistic cannot be computed at the start values: "
                           f"{type(exc).__name__}: {exc}") from exc
        if not math.isfinite(start):
            raise FitError(f"The fit statistic is not finite at the start values ({start}); check the model "
                           "and the data (masks, counts)")
        minuit = self._minuit_for(objective, free, names)
        self._minuit, self._objective = minuit, objective
        cancelled, error = False, None
        try:
            minuit.migrad(ncall=self.maxfev)
        except StopFit as exc:
            cancelled, error = True, str(exc)
        except Exception as exc:  # a model raising must not crash the caller
            error = f"{type(exc).__name__}: {exc}"
        if cancelled:
            if objective.best_factors is not None:
                objective.set_factors(objective.best_factors)
            success, message = False, f"cancelled ({error})"
        elif error is not None:
            if restore:
                params.restore(snapshot)
            success, message = False, f"Optimization failed: the statistic raised {error}"
        else:
            objective.set_factors(minuit.values)
            success = bool(minuit.valid) and all(math.isfinite(p.value) for p in free)
            message = self._message(minuit, success)
            if not success:
                if restore:
                    params.restore(snapshot)
                elif objective.best_factors is not None:
                    objective.set_factors(objective.best_factors)
        try:
            total = datasets.stat_sum()
        except Exception:  # the model failed; the message says so already
            total = math.nan
        try:
            objective.report(total, final=True)
        except StopFit:  # the callback may keep asking to stop: the fit is over anyway
            pass
        trace = None
        if objective.trace is not None:
            trace = Table(rows=objective.trace, names=["nfev", "stat", *names]) if objective.trace else None
        return OptimizeResult(success, message, objective.nfev, total, params.copy(), _models_copy(datasets),
                              self.backend, "migrad", trace, cancelled, getattr(minuit.fmin, "edm", np.nan))

    @staticmethod
    def _message(minuit, success):
        if success:
            return "Optimization terminated successfully." if minuit.accurate else \
                "Optimization terminated successfully, but uncertainties are unreliable."
        message = "Optimization failed."
        fmin = minuit.fmin
        if fmin is not None and fmin.has_reached_call_limit:
            message += " Call limit was reached."
        if fmin is not None and fmin.is_above_max_edm:
            message += " Estimated distance to minimum too large."
        return message

    # ----------------------------------------------------------- covariance
    def covariance(self, datasets, _steps=None) -> CovarianceResult:
        """HESSE at the current parameter values; sets the parameters' errors and covariance.

        HESSE runs in a fresh MINUIT whose initial steps are the parameters'
        current errors (after `run`: MIGRAD's errors), as gammapy's
        ``Fit.covariance``; seeded like this it reproduces MIGRAD's own
        covariance estimate (the numbers gammapy reports) to ~1e-5.

        Parameters
        ----------
        datasets : dataset, list of datasets or `~gwidgets.core.datasets.Datasets`
            The fitted datasets.
        _steps : list of float, optional
            Initial HESSE steps in factor units (`run` passes MIGRAD's errors).

        Returns
        -------
        `~gwidgets.core.fit.result.CovarianceResult`
            The outcome, with the covariance of the free parameters in their units.

        Raises
        ------
        FitError
            If there is no free parameter or a value is invalid.
        """
        datasets = as_datasets(datasets)
        params, free = self._free(datasets)
        names = unique_names(free)
        snapshot = params.snapshot()
        objective = Objective(_stat_function(datasets), free, names)
        minuit = self._minuit_for(objective, free, names)
        if _steps is not None:
            for name, step in zip(names, _steps):
                if math.isfinite(step) and step > 0:
                    minuit.errors[name] = step
        scales = np.array([p.scale for p in free])
        try:
            minuit.hesse()
            factor_cov = np.array(minuit.covariance, dtype=float)
            fmin = minuit.fmin
            ok = (fmin is None or not fmin.hesse_failed) and bool(np.all(np.isfinite(factor_cov)))
            message = "Hesse terminated successfully." if ok else "Hesse failed."
        except Exception as exc:
            factor_cov = np.full((len(free), len(free)), np.nan)
            ok, message = False, f"Hesse failed: {type(exc).__name__}: {exc}"
        # HESSE evaluates around the point: put the parameters back exactly where they were
        for p, value, *_ in snapshot:
            if p.linked_to is None:
                p.set_value_unchecked(value)
        matrix = factor_cov * np.outer(scales, scales)
        if ok:
            params.set_covariance_errors(matrix, free)
            # every fitted model (and component) gets its block: model.covariance / evaluate_error
            parts = datasets if hasattr(datasets, "__iter__") else ()
            roots = [getattr(datasets, "models", None)] + [getattr(d, "models", None) for d in parts]
            attach_covariance(roots, free, matrix)
        return CovarianceResult(ok, message, Covariance(matrix, names), nfev=objective.nfev)

    # ------------------------------------------------------------------ run
    def run(self, datasets, callback=None, throttle=None, token=None, restore_on_failure=None) -> FitResult:
        """MIGRAD then HESSE; returns a `FitResult` (see `optimize` for the callback).

        Parameters
        ----------
        datasets : dataset, list of datasets or `~gwidgets.core.datasets.Datasets`
            What to fit.
        callback : callable, optional
            ``callback(iteration, values, stat)``.
        throttle : float, optional
            Minimum time between callbacks in s.
        token : `~gwidgets.core.progress.CancelToken`, optional
            Cancels the fit when set.
        restore_on_failure : bool, optional
            Restore the start values on failure.

        Returns
        -------
        `~gwidgets.core.fit.result.FitResult`
            The outcome; HESSE runs only after a successful MIGRAD.

        Raises
        ------
        FitError
            If the fit cannot start (see `optimize`).
        """
        datasets = as_datasets(datasets)
        opt = self.optimize(datasets, callback=callback, throttle=throttle, token=token,
                            restore_on_failure=restore_on_failure)
        if not opt.success:
            return FitResult(opt, None)
        steps = [float(self._minuit.errors[i]) for i in range(len(self._minuit.parameters))]
        cov = self.covariance(datasets, _steps=steps)
        opt.parameters = datasets.parameters.copy()
        if cov.success:
            free = list(datasets.parameters.free_parameters)
            opt.parameters.set_covariance_errors(cov.matrix.matrix,
                                                 [opt.parameters[datasets.parameters.index(p)] for p in free])
            opt.models = _models_copy(datasets)
        return FitResult(opt, cov)

    # -------------------------------------------------------- scans & tests
    def stat_profile(self, datasets, parameter, values=None, n=11, n_sigma=3.0, reoptimize=False) -> dict:
        """Statistic as a function of one parameter (see `gwidgets.core.fit.profile.stat_profile`).

        Parameters
        ----------
        datasets : dataset, list of datasets or `~gwidgets.core.datasets.Datasets`
            The datasets.
        parameter : str or `~gwidgets.core.models.parameter.Parameter`
            The scanned parameter.
        values : array-like or `~astropy.units.Quantity`, optional
            Values to scan.
        n : int, optional
            Number of default values.
        n_sigma : float, optional
            Half-width of the default range, in errors.
        reoptimize : bool, optional
            Refit the other parameters at each value.

        Returns
        -------
        dict
            ``values``, ``<name>_scan``, ``stat_scan``, ``fit_results``.
        """
        from .profile import stat_profile

        return stat_profile(self, as_datasets(datasets), parameter, values, n, n_sigma, reoptimize)

    def stat_contour(self, datasets, x, y, numpoints=10, sigma=1.0) -> dict:
        """MINOS contour of two parameters (see `gwidgets.core.fit.profile.stat_contour`).

        Parameters
        ----------
        datasets : dataset, list of datasets or `~gwidgets.core.datasets.Datasets`
            The datasets.
        x, y : str or `~gwidgets.core.models.parameter.Parameter`
            The two free parameters.
        numpoints : int, optional
            Number of contour points.
        sigma : float, optional
            Confidence level in σ (2 degrees of freedom).

        Returns
        -------
        dict
            ``{x name: values, y name: values, "success", "message"}``.
        """
        from .profile import stat_contour

        return stat_contour(self, as_datasets(datasets), x, y, numpoints, sigma)

    def confidence(self, datasets, parameter, sigma=1.0) -> dict:
        """MINOS interval of one parameter: ``{"errp", "errn", "success", "message"}`` (in its unit).

        Parameters
        ----------
        datasets : dataset, list of datasets or `~gwidgets.core.datasets.Datasets`
            The datasets.
        parameter : str or `~gwidgets.core.models.parameter.Parameter`
            The parameter.
        sigma : float, optional
            Confidence level in σ.

        Returns
        -------
        dict
            ``errp``, ``errn`` (in the parameter's unit), ``success``, ``message``, ``nfev``.

        Examples
        --------
        >>> from gwidgets.core.fit import Fit
        >>> from gwidgets.core.models import Parameter, Parameters
        >>> class Measurement:  # any object with parameters and stat_sum() fits: here χ² of x = 3 ± 1
        ...     parameters = Parameters([Parameter("x", 1.0)])
        ...     def stat_sum(self):
        ...         return (self.parameters["x"].value - 3.0) ** 2
        ...     def __iter__(self):  # no sub-datasets
        ...         return iter(())
        >>> interval = Fit().confidence(Measurement(), "x")
        >>> round(interval["errn"], 6), round(interval["errp"], 6)
        (1.0, 1.0)
        """
        from .profile import confidence

        return confidence(self, as_datasets(datasets), parameter, sigma)

    def ts(self, datasets, parameter, null_value=0.0) -> dict:
        """Likelihood-ratio test of ``parameter = null_value`` (see `gwidgets.core.fit.profile.ts_nested`).

        Parameters
        ----------
        datasets : dataset, list of datasets or `~gwidgets.core.datasets.Datasets`
            The datasets.
        parameter : str or `~gwidgets.core.models.parameter.Parameter`
            The tested parameter.
        null_value : float, optional
            Its value under the null hypothesis, in its unit.

        Returns
        -------
        dict
            ``ts``, ``sqrt_ts``, ``stat_alt``, ``stat_null``, ``fit_results``.
        """
        from .profile import ts_nested

        return ts_nested(self, as_datasets(datasets), parameter, null_value)

    def __repr__(self):
        return f"Fit(backend='{self.backend}', tol={self.tol}, strategy={self.strategy}, maxfev={self.maxfev})"
