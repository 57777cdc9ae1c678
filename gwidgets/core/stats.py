"""Fit statistics for counts data: Cash, WStat (Poisson ON with Poisson OFF), chi².

All functions are vectorised over NumPy arrays and return the statistic per
bin as ``-2 log L`` (up to model-independent terms), so that a difference of
1 corresponds to 1σ for one parameter. Conventions are gammapy's (Cash 1979,
XSPEC's W statistic with the profile-likelihood background, de Naurois 2012),
so values agree with ``gammapy.stats`` to rounding:

* `cash`: ``2 (μ − n log μ)`` with ``μ`` truncated at 1e-25.
* `wstat`: with the profiled background ``μ_b`` (`get_wstat_mu_bkg`) and,
  by default, the goodness-of-fit terms of `get_wstat_gof_terms` so that
  the statistic is ≥ 0 and ~ χ² at the best fit. The limits ``n_on = 0`` and
  ``n_off = 0`` are taken analytically (the ``n log(...)`` terms vanish).
* `chi2`: ``((data − model) / error)²``.

`cash_sum`, `wstat_sum`, `chi2_sum` sum over bins (optionally a mask).
Significances: `cash_sqrt_ts` (known background) and `wstat_sqrt_ts`
(= Li & Ma 1983 eq. 17, `lima_significance`), signed by the excess.

Examples
--------
>>> from gwidgets.core.stats import cash, wstat, lima_significance
>>> float(cash(2, 2.0))
1.2274112777602189
>>> float(wstat(n_on=0, n_off=0, alpha=0.2, mu_sig=1.5))
3.0
>>> round(float(lima_significance(n_on=130, n_off=500, alpha=0.2)), 4)
2.596
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "TRUNCATION_VALUE",
    "cash",
    "cash_sum",
    "cstat",
    "wstat",
    "wstat_sum",
    "get_wstat_mu_bkg",
    "get_wstat_gof_terms",
    "chi2",
    "chi2_sum",
    "cash_sqrt_ts",
    "wstat_sqrt_ts",
    "lima_significance",
    "ts_to_sqrt_ts",
]

#: smallest expected count used in the logarithm of the Cash statistic (as gammapy)
TRUNCATION_VALUE = 1e-25


def _f(x):
    return np.asarray(x, dtype=np.float64)


def cash(n_on, mu_on, truncation_value: float = TRUNCATION_VALUE):
    r"""Cash statistic per bin, :math:`C = 2 (\mu - n \log \mu)`.

    ``mu_on`` below ``truncation_value`` is replaced by it (so ``μ = 0`` with
    ``n > 0`` gives a large but finite value, and ``n = 0`` gives ``2 μ``).

    Parameters
    ----------
    n_on : array-like
        Observed counts.
    mu_on : array-like
        Predicted counts.
    truncation_value : float, optional
        Smallest ``μ`` used in the logarithm.

    Returns
    -------
    numpy.ndarray
        The statistic per bin (float64, broadcast).

    Raises
    ------
    ValueError
        If ``truncation_value`` is not positive.
    """
    if truncation_value <= 0:
        raise ValueError("Cash statistic truncation value must be positive")
    n_on, mu_on = _f(n_on), _f(mu_on)
    mu_on = np.maximum(mu_on, truncation_value)
    return 2.0 * (mu_on - n_on * np.log(mu_on))


def cstat(n_on, mu_on, truncation_value: float = TRUNCATION_VALUE):
    """C statistic (Cash plus the model-independent terms), ≥ 0 and ≈ χ² at the best fit.

    ``2 (μ − n + n (log n − log μ))``, with ``n`` and ``μ`` truncated at ``truncation_value``.

    Parameters
    ----------
    n_on : array-like
        Observed counts.
    mu_on : array-like
        Predicted counts.
    truncation_value : float, optional
        Smallest value used in the logarithms.

    Returns
    -------
    numpy.ndarray
        The statistic per bin.

    Examples
    --------
    >>> float(cstat(2, 2.0))
    0.0
    """
    n_on, mu_on = _f(n_on), _f(mu_on)
    n = np.maximum(n_on, truncation_value)
    mu = np.maximum(mu_on, truncation_value)
    stat = 2.0 * (mu - n + n * (np.log(n) - np.log(mu)))
    return np.where(mu > 0, stat, 0.0)


def cash_sum(n_on, mu_on, mask=None, truncation_value: float = TRUNCATION_VALUE) -> float:
    """Sum of `cash` over the bins (where ``mask`` is True).

    Parameters
    ----------
    n_on : array-like
        Observed counts.
    mu_on : array-like
        Predicted counts.
    mask : array-like of bool, optional
        Bins to include (all if None).
    truncation_value : float, optional
        Smallest ``μ`` used in the logarithm.

    Returns
    -------
    float
        The summed statistic.

    Examples
    --------
    >>> cash_sum([2, 0], [2.0, 1.0])
    3.227411277760219
    """
    n_on, mu_on = _f(n_on), _f(mu_on)
    if mask is not None:
        n_on, mu_on = n_on[mask], mu_on[mask]
    n_on, mu = n_on.ravel(), np.maximum(mu_on, truncation_value).ravel()
    return float(2.0 * (mu.sum() - n_on @ np.log(mu)))


def get_wstat_mu_bkg(n_on, n_off, alpha, mu_sig):
    r"""Profile-likelihood estimate of the background in the OFF region, :math:`\mu_b`.

    :math:`\mu_b = (C + D) / (2 \alpha (\alpha + 1))` with
    :math:`C = \alpha (n_{on} + n_{off}) - (1 + \alpha) \mu_{sig}` and
    :math:`D = \sqrt{C^2 + 4 \alpha (\alpha + 1) n_{off} \mu_{sig}}`;
    this covers the corner cases ``n_on = 0`` and ``n_off = 0`` (then
    ``μ_b = max(C, 0) / (α (α+1))``). NaN where ``alpha = 0``.

    Parameters
    ----------
    n_on : array-like
        Counts in the ON region.
    n_off : array-like
        Counts in the OFF region.
    alpha : array-like
        Exposure ratio ON / OFF of the background.
    mu_sig : array-like
        Predicted signal counts in the ON region.

    Returns
    -------
    numpy.ndarray
        ``μ_b``, the background counts in the OFF region.

    Examples
    --------
    >>> float(get_wstat_mu_bkg(n_on=10, n_off=50, alpha=0.2, mu_sig=0.0))    # (n_on + n_off) / (1 + α)
    50.0
    """
    n_on, n_off, alpha, mu_sig = _f(n_on), _f(n_off), _f(alpha), _f(mu_sig)
    c = alpha * (n_on + n_off) - (1 + alpha) * mu_sig
    d = np.sqrt(c**2 + 4 * alpha * (alpha + 1) * n_off * mu_sig)
    with np.errstate(invalid="ignore", divide="ignore"):
        # for C < 0, C + D cancels (to exactly 0 for a tiny n_off, e.g. FFT round-off in ring OFF maps,
        # which made -n_off log μ_b infinite): use the equal form 2 n_off μ_sig / (D - C) there
        mu_b = np.where(c >= 0, (c + d) / (2 * alpha * (alpha + 1)), 2 * n_off * mu_sig / (d - c))
        return np.where(alpha == 0, np.nan, mu_b)


def get_wstat_gof_terms(n_on, n_off):
    r"""Model-independent terms :math:`2 [n (\log n - 1)]` for ON and OFF (0 where n = 0).

    Parameters
    ----------
    n_on, n_off : array-like
        ON and OFF counts.

    Returns
    -------
    numpy.ndarray
        ``2 [n_on (log n_on − 1) + n_off (log n_off − 1)]``.
    """
    n_on, n_off = _f(n_on), _f(n_off)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_on = np.where(n_on > 0, n_on * (np.log(n_on) - 1), 0.0)
        t_off = np.where(n_off > 0, n_off * (np.log(n_off) - 1), 0.0)
    return 2.0 * (t_on + t_off)


def wstat(n_on, n_off, alpha, mu_sig, mu_bkg=None, extra_terms: bool = True):
    r"""W statistic per bin (Poisson ON counts, Poisson OFF counts, profiled background).

    .. math::
        W = 2 [\mu_{sig} + (1 + \alpha) \mu_b - n_{on} \log(\mu_{sig} + \alpha \mu_b)
              - n_{off} \log \mu_b] \; (+ \text{gof terms})

    The ``n log`` terms are 0 where the corresponding counts are 0 (their
    limit), so ``n_on = n_off = 0`` gives ``2 μ_sig``. ``mu_bkg`` defaults to
    `get_wstat_mu_bkg`. Where ``alpha = 0`` the result is NaN (as gammapy;
    the datasets treat such bins as contributing 0).

    Parameters
    ----------
    n_on : array-like
        Counts in the ON region.
    n_off : array-like
        Counts in the OFF region.
    alpha : array-like
        Exposure ratio ON / OFF of the background.
    mu_sig : array-like
        Predicted signal counts in the ON region.
    mu_bkg : array-like, optional
        Background counts in the OFF region (default: profiled).
    extra_terms : bool, optional
        Add the goodness-of-fit terms.

    Returns
    -------
    numpy.ndarray
        The statistic per bin.
    """
    n_on, n_off, alpha, mu_sig = _f(n_on), _f(n_off), _f(alpha), _f(mu_sig)
    if mu_bkg is None:
        mu_bkg = get_wstat_mu_bkg(n_on, n_off, alpha, mu_sig)
    mu_bkg = _f(mu_bkg)
    with np.errstate(divide="ignore", invalid="ignore"):
        term2 = np.where(n_on == 0, 0.0, -n_on * np.log(mu_sig + alpha * mu_bkg))
        term3 = np.where(n_off == 0, 0.0, -n_off * np.log(mu_bkg))
    stat = 2.0 * (mu_sig + (1 + alpha) * mu_bkg + term2 + term3)
    if extra_terms:
        stat = stat + get_wstat_gof_terms(n_on, n_off)
    return stat


def wstat_sum(n_on, n_off, alpha, mu_sig, mask=None, extra_terms: bool = True) -> float:
    """Sum of `wstat` over the bins where ``mask`` is True; non-finite bins count 0 (as gammapy).

    Parameters
    ----------
    n_on : array-like
        Counts in the ON region.
    n_off : array-like
        Counts in the OFF region.
    alpha : array-like
        Exposure ratio ON / OFF of the background.
    mu_sig : array-like
        Predicted signal counts in the ON region.
    mask : array-like of bool, optional
        Bins to include (all if None).
    extra_terms : bool, optional
        Add the goodness-of-fit terms.

    Returns
    -------
    float
        The summed statistic.
    """
    stat = np.nan_to_num(wstat(n_on, n_off, alpha, mu_sig, extra_terms=extra_terms))
    if mask is not None:
        stat = stat[mask]
    return float(np.sum(stat))


def chi2(data, model, error):
    r""":math:`\chi^2` per point, ``((data - model) / error)**2``.

    Parameters
    ----------
    data, model, error : array-like
        Measured values, predicted values and 1σ errors.

    Returns
    -------
    numpy.ndarray
        The statistic per point.
    """
    return ((_f(data) - _f(model)) / _f(error)) ** 2


def chi2_sum(data, model, error, mask=None) -> float:
    """Sum of `chi2` over the points where ``mask`` is True.

    Parameters
    ----------
    data, model, error : array-like
        Measured values, predicted values and 1σ errors.
    mask : array-like of bool, optional
        Points to include (all if None).

    Returns
    -------
    float
        The summed statistic.

    Examples
    --------
    >>> chi2_sum([1, 2, 3], [1, 1, 1], [1, 1, 2])
    2.0
    """
    stat = chi2(data, model, error)
    if mask is not None:
        stat = stat[mask]
    return float(np.sum(stat))


def ts_to_sqrt_ts(ts, excess):
    """``sign(excess) · sqrt(max(ts, 0))``.

    Parameters
    ----------
    ts : array-like
        Test statistic (negative values count as 0).
    excess : array-like
        Excess whose sign is given to the result.

    Returns
    -------
    numpy.ndarray
        Signed significance.

    Examples
    --------
    >>> ts_to_sqrt_ts([4.0, 9.0], [-1, 2])
    array([-2.,  3.])
    """
    return np.sign(excess) * np.sqrt(np.clip(_f(ts), 0, None))


def cash_sqrt_ts(n_on, mu_bkg):
    """Signed significance of ``n_on`` counts over a known background ``mu_bkg``.

    ``sqrt(TS)`` of the Cash statistic between the background only and the best fit ``μ = n_on``.

    Parameters
    ----------
    n_on : array-like
        Observed counts.
    mu_bkg : array-like
        Known background counts.

    Returns
    -------
    numpy.ndarray
        Significance, signed by ``n_on − mu_bkg``.
    """
    n_on, mu_bkg = _f(n_on), _f(mu_bkg)
    ts = cash(n_on, mu_bkg) - cash(n_on, n_on)
    return ts_to_sqrt_ts(ts, n_on - mu_bkg)


def wstat_sqrt_ts(n_on, n_off, alpha):
    """Signed significance of the excess ``n_on − α n_off`` (profile likelihood, = Li & Ma eq. 17).

    Parameters
    ----------
    n_on : array-like
        Counts in the ON region.
    n_off : array-like
        Counts in the OFF region.
    alpha : array-like
        Exposure ratio ON / OFF of the background.

    Returns
    -------
    numpy.ndarray
        Significance, signed by the excess.

    Examples
    --------
    >>> round(float(wstat_sqrt_ts(n_on=130, n_off=500, alpha=0.2)), 4)
    2.596
    """
    n_on, n_off, alpha = _f(n_on), _f(n_off), _f(alpha)
    excess = n_on - alpha * n_off
    ts = wstat(n_on, n_off, alpha, 0.0) - wstat(n_on, n_off, alpha, excess)
    return ts_to_sqrt_ts(ts, excess)


def lima_significance(n_on, n_off, alpha):
    r"""Li & Ma (1983) eq. 17, signed by the excess; the limits n_on = 0 / n_off = 0 included.

    .. math::
        S = \sqrt{2} \left[ n_{on} \ln\frac{(1+\alpha) n_{on}}{\alpha (n_{on}+n_{off})}
            + n_{off} \ln\frac{(1+\alpha) n_{off}}{n_{on}+n_{off}} \right]^{1/2}

    ``n_on``, ``n_off`` and ``alpha`` as in `wstat_sqrt_ts`, which computes the same significance
    from the profile likelihood (the two agree to ~1e-10; each checks the other in the tests).

    Returns
    -------
    numpy.ndarray
        Significance, signed by ``n_on − α n_off``.

    Examples
    --------
    >>> round(float(lima_significance(n_on=130, n_off=500, alpha=0.2)), 4)
    2.596
    """
    n_on, n_off, alpha = _f(n_on), _f(n_off), _f(alpha)
    total = n_on + n_off
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = np.where(n_on > 0, n_on * np.log((1 + alpha) * n_on / (alpha * total)), 0.0)
        t2 = np.where(n_off > 0, n_off * np.log((1 + alpha) * n_off / total), 0.0)
    return ts_to_sqrt_ts(2 * (t1 + t2), n_on - alpha * n_off)
