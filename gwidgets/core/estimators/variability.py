"""Variability tests of a light curve: χ² to a constant and the fractional variance.

* `chi2_constant`: fit of a constant (error-weighted mean) to the fluxes;
  ``χ² = Σ (x_i − x̄)² / σ_i²`` with ``n − 1`` degrees of freedom and its
  p-value (small p → variable).
* `fractional_variance`: ``F_var = sqrt((S² − ⟨σ²⟩) / x̄²)`` and its error
  (Vaughan et al. 2003, MNRAS 345, 1271, eq. 10 and B2), with ``S²`` the sample
  variance, ``⟨σ²⟩`` the mean squared error and ``x̄`` the (unweighted) mean.
  NaN when the excess variance is negative.

Examples
--------
>>> import numpy as np
>>> r = chi2_constant([1.0, 1.1, 0.9], [0.1, 0.1, 0.1])
>>> round(r["chi2"], 6), r["dof"]
(2.0, 2)
>>> fractional_variance([1.0, 2.0, 3.0], [0.1, 0.1, 0.1])["fvar"] > 0
True
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import chdtrc  # chi2 survival function (cheaper import than scipy.stats)

from .norm_fit import EstimatorError

__all__ = ["chi2_constant", "fractional_variance", "variability_tests"]


def _clean(values, errors, what):
    x = np.asarray(getattr(values, "value", values), float).ravel()
    e = np.asarray(getattr(errors, "value", errors), float).ravel()
    if x.shape != e.shape:
        raise EstimatorError(f"{what}: {len(x)} values but {len(e)} errors")
    good = np.isfinite(x) & np.isfinite(e) & (e > 0)
    if good.sum() < 2:
        raise EstimatorError(f"{what} needs at least two points with finite values and positive errors "
                             f"(have {int(good.sum())})")
    return x[good], e[good]


def chi2_constant(values, errors) -> dict:
    """χ² of a constant fit (weighted mean): ``{"chi2", "dof", "pvalue", "mean", "mean_err", "n"}``.

    Points with a non-finite value or error, or an error ≤ 0, are dropped.

    Parameters
    ----------
    values : array-like or `~astropy.units.Quantity`
        Fluxes (any unit, the same as ``errors``).
    errors : array-like or `~astropy.units.Quantity`
        Their 1σ errors.

    Returns
    -------
    dict
        ``chi2``, ``dof`` (n − 1), ``pvalue`` (χ² survival function), ``mean`` and ``mean_err``
        (weighted mean and its error, in the unit of ``values``), ``n`` (points used).

    Raises
    ------
    EstimatorError
        If the lengths differ or fewer than two points are usable.

    Examples
    --------
    >>> r = chi2_constant([1.0, 1.1, 0.9], [0.1, 0.1, 0.1])
    >>> round(r["chi2"], 6), r["dof"], round(r["pvalue"], 4)       # exp(-1) for 2 degrees of freedom
    (2.0, 2, 0.3679)
    """
    x, e = _clean(values, errors, "chi2_constant")
    w = 1.0 / e**2
    mean = float(np.sum(w * x) / np.sum(w))
    chi2 = float(np.sum((x - mean) ** 2 * w))
    dof = len(x) - 1
    return {"chi2": chi2, "dof": dof, "pvalue": float(chdtrc(dof, chi2)), "mean": mean,
            "mean_err": float(1.0 / math.sqrt(np.sum(w))), "n": len(x)}


def fractional_variance(values, errors) -> dict:
    """Fractional variance ``{"fvar", "fvar_err", "n"}`` (Vaughan et al. 2003).

    Points with a non-finite value or error, or an error ≤ 0, are dropped.

    Parameters
    ----------
    values : array-like or `~astropy.units.Quantity`
        Fluxes (any unit, the same as ``errors``).
    errors : array-like or `~astropy.units.Quantity`
        Their 1σ errors.

    Returns
    -------
    dict
        ``fvar`` and ``fvar_err`` (dimensionless; NaN when the excess variance is ≤ 0 or the mean
        is 0), ``n`` (points used).

    Raises
    ------
    EstimatorError
        If the lengths differ or fewer than two points are usable.

    Examples
    --------
    >>> round(fractional_variance([1.0, 2.0, 3.0], [0.1, 0.1, 0.1])["fvar"], 4)   # sqrt(1 - 0.01) / 2
    0.4975
    """
    x, e = _clean(values, errors, "fractional_variance")
    n = len(x)
    mean = float(np.mean(x))
    s2 = float(np.var(x, ddof=1))
    err2 = float(np.mean(e**2))
    excess = s2 - err2
    if mean == 0 or excess <= 0:
        return {"fvar": math.nan, "fvar_err": math.nan, "n": n}
    fvar = math.sqrt(excess) / abs(mean)
    a = math.sqrt(1.0 / (2 * n)) * err2 / (mean**2 * fvar)
    b = math.sqrt(err2 / n) / abs(mean)
    return {"fvar": fvar, "fvar_err": math.sqrt(a**2 + b**2), "n": n}


def variability_tests(values, errors) -> dict:
    """Both tests: χ² to a constant (``chi2``, ``dof``, ``pvalue``...) and ``fvar`` / ``fvar_err``.

    ``values`` and ``errors`` as in `chi2_constant` (which raises the same `EstimatorError`).

    Returns
    -------
    dict
        The keys of `chi2_constant` and of `fractional_variance`.

    Examples
    --------
    >>> sorted(variability_tests([1.0, 2.0, 3.0], [0.1, 0.1, 0.1]))
    ['chi2', 'dof', 'fvar', 'fvar_err', 'mean', 'mean_err', 'n', 'pvalue']
    """
    out = chi2_constant(values, errors)
    out.update(fractional_variance(values, errors))
    return out
