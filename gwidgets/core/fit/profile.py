"""Likelihood scans and tests around a fit: profiles, MINOS intervals and contours, TS.

All of them leave the parameters as they found them (values, errors, frozen flags).
"""
from __future__ import annotations

import math

import numpy as np

from .fit import FitError, unique_names

__all__ = ["stat_profile", "stat_contour", "confidence", "ts", "sqrt_ts", "ts_nested"]


def ts(stat_null: float, stat_alt: float) -> float:
    """Likelihood-ratio test statistic ``TS = stat_null − stat_alt`` (both ``−2 log L``).

    Parameters
    ----------
    stat_null, stat_alt : float
        Statistic of the null and of the alternative hypothesis.

    Returns
    -------
    float
        The test statistic.
    """
    return float(stat_null) - float(stat_alt)


def sqrt_ts(ts_value: float, sign: float = 1.0) -> float:
    """``sign × sqrt(max(TS, 0))``: the significance (σ) for one degree of freedom (Wilks).

    Parameters
    ----------
    ts_value : float
        Test statistic (negative counts as 0).
    sign : float, optional
        Its sign is given to the result.

    Returns
    -------
    float
        The signed significance.

    Examples
    --------
    >>> sqrt_ts(9.0, sign=-1)
    -3.0
    """
    return math.copysign(math.sqrt(max(float(ts_value), 0.0)), sign)


def _parameter(datasets, parameter):
    params = datasets.parameters
    if isinstance(parameter, str):
        return params[parameter]
    if parameter in params:
        return parameter
    raise FitError(f"Parameter {getattr(parameter, 'name', parameter)!r} is not a parameter of these datasets")


def stat_profile(fit, datasets, parameter, values=None, n=11, n_sigma=3.0, reoptimize=False) -> dict:
    """Statistic at ``values`` of ``parameter`` (others fixed, or refitted with ``reoptimize``).

    Default values: ``n`` points over ± ``n_sigma`` × error around the current
    value (± 50 % without an error). Returns ``{"values", "<name>_scan",
    "stat_scan", "fit_results"}`` (``fit_results`` empty unless ``reoptimize``).

    Parameters
    ----------
    fit : Fit
        The fit (used to reoptimize).
    datasets : `~gwidgets.core.datasets.Datasets`
        The datasets.
    parameter : str or `~gwidgets.core.models.parameter.Parameter`
        The scanned parameter.
    values : array-like or `~astropy.units.Quantity`, optional
        Values to scan (numbers in the parameter's unit).
    n : int, optional
        Number of default values.
    n_sigma : float, optional
        Half-width of the default range, in errors.
    reoptimize : bool, optional
        Refit the other free parameters at each value.

    Returns
    -------
    dict
        See above; ``stat_scan`` is the statistic at each value.

    Raises
    ------
    FitError
        If ``parameter`` is not a parameter of the datasets.
    """
    par = _parameter(datasets, parameter)
    if values is None:
        width = n_sigma * par.error if par.error and math.isfinite(par.error) and par.error > 0 else \
            (0.5 * abs(par.value) or 1.0)
        values = np.linspace(par.value - width, par.value + width, int(n))
    else:
        values = np.asarray(values.to_value(par.unit) if hasattr(values, "to_value") else values, dtype=float)
    params = datasets.parameters
    stats, results = [], []
    with params.restoring():
        if reoptimize:
            par.frozen = True
        for v in values:
            par.set_value_unchecked(float(v))
            if reoptimize and params.free_parameters:
                result = fit.optimize(datasets, restore_on_failure=False)
                results.append(result)
                stats.append(result.total_stat)
            else:
                stats.append(datasets.stat_sum())
    return {"values": values, f"{par.name}_scan": values, "stat_scan": np.array(stats), "fit_results": results}


def _minuit_at_best(fit, datasets):
    result = fit.optimize(datasets)
    if not result.success:
        raise FitError(f"Cannot compute the interval: the fit failed ({result.message})")
    return fit._minuit


def confidence(fit, datasets, parameter, sigma=1.0) -> dict:
    """MINOS errors of ``parameter`` at ``sigma``: ``{"errp", "errn", "success", "message", "nfev"}``.

    Parameters
    ----------
    fit : Fit
        The fit (it is run first).
    datasets : `~gwidgets.core.datasets.Datasets`
        The datasets.
    parameter : str or `~gwidgets.core.models.parameter.Parameter`
        The parameter.
    sigma : float, optional
        Confidence level in σ.

    Returns
    -------
    dict
        Errors in the parameter's unit; NaN with ``success=False`` if MINOS fails.

    Raises
    ------
    FitError
        If the parameter is unknown, or the fit fails.
    """
    par = _parameter(datasets, parameter)
    params = datasets.parameters
    with params.restoring():
        minuit = _minuit_at_best(fit, datasets)
        from scipy.stats import norm

        free = list(params.free_parameters)
        name = unique_names(free)[free.index(par)]
        try:
            minuit.minos(name, cl=2 * norm.cdf(sigma) - 1)
            err = minuit.merrors[name]
            out = {"errp": err.upper * par.scale, "errn": -err.lower * par.scale, "success": bool(err.is_valid),
                   "message": "MINOS terminated successfully." if err.is_valid else "MINOS result is invalid.",
                   "nfev": int(err.nfcn)}
        except Exception as exc:
            out = {"errp": np.nan, "errn": np.nan, "success": False, "message": f"MINOS failed: {exc}", "nfev": 0}
    return out


def stat_contour(fit, datasets, x, y, numpoints=10, sigma=1.0) -> dict:
    """MINOS contour (``iminuit.mncontour``) of parameters ``x`` and ``y`` at ``sigma`` (2 d.o.f.).

    Returns ``{"<x name>": values, "<y name>": values, "success": bool, "message": str}``
    in the parameters' units (a closed polygon of ``numpoints + 1`` points).

    Parameters
    ----------
    fit : Fit
        The fit (it is run first).
    datasets : `~gwidgets.core.datasets.Datasets`
        The datasets.
    x, y : str or `~gwidgets.core.models.parameter.Parameter`
        The two parameters.
    numpoints : int, optional
        Number of contour points.
    sigma : float, optional
        Confidence level in σ for 2 degrees of freedom.

    Returns
    -------
    dict
        See above.

    Raises
    ------
    FitError
        If ``x`` and ``y`` are the same, one is frozen or unknown, or the fit fails.
    """
    px, py = _parameter(datasets, x), _parameter(datasets, y)
    if px is py:
        raise FitError("stat_contour needs two different parameters")
    params = datasets.parameters
    with params.restoring():
        minuit = _minuit_at_best(fit, datasets)
        free = list(params.free_parameters)
        names = unique_names(free)
        for p in (px, py):
            if p not in free:
                raise FitError(f"Parameter '{p.name}' is frozen: a contour needs free parameters")
        nx, ny = names[free.index(px)], names[free.index(py)]
        from scipy.stats import chi2

        try:
            points = np.asarray(minuit.mncontour(nx, ny, cl=chi2(2).cdf(sigma ** 2), size=int(numpoints)))
            ok, message = bool(np.all(np.isfinite(points))), "MINOS contour computed."
        except Exception as exc:
            points, ok, message = np.full((0, 2), np.nan), False, f"MINOS contour failed: {exc}"
        out = {px.name: points[:, 0] * px.scale, py.name: points[:, 1] * py.scale, "success": ok,
               "message": message}
    return out


def ts_nested(fit, datasets, parameter, null_value=0.0) -> dict:
    """Fit with ``parameter`` free (alternative) and fixed at ``null_value`` (null hypothesis).

    Returns ``{"ts", "sqrt_ts", "stat_alt", "stat_null", "fit_results": (alt, null)}``;
    ``sqrt_ts`` carries the sign of ``best value − null_value``. Parameters are restored.

    Parameters
    ----------
    fit : Fit
        The fit.
    datasets : `~gwidgets.core.datasets.Datasets`
        The datasets.
    parameter : str or `~gwidgets.core.models.parameter.Parameter`
        The tested parameter.
    null_value : float, optional
        Its value under the null hypothesis, in its unit.

    Returns
    -------
    dict
        See above (``fit_results[1]`` is None when no parameter is left free).

    Raises
    ------
    FitError
        If the parameter is unknown, or a fit cannot start.
    """
    par = _parameter(datasets, parameter)
    params = datasets.parameters
    with params.restoring():
        alt = fit.optimize(datasets, restore_on_failure=False)
        best = par.value
        par.frozen = True
        par.set_value_unchecked(float(null_value))
        if params.free_parameters:
            null = fit.optimize(datasets, restore_on_failure=False)
            stat_null = null.total_stat
        else:
            null, stat_null = None, datasets.stat_sum()
    value = ts(stat_null, alt.total_stat)
    return {"ts": value, "sqrt_ts": sqrt_ts(value, best - null_value or 1.0), "stat_alt": alt.total_stat,
            "stat_null": stat_null, "fit_results": (alt, null)}

