"""Fit statistics: analytic values (incl. the n_on = 0 / n_off = 0 limits) and gammapy.stats on random arrays."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from gwidgets.core import stats


# --------------------------------------------------------------------------- Cash
def test_cash_analytic():
    assert stats.cash(2, 2.0) == pytest.approx(2 * (2 - 2 * math.log(2)), rel=1e-14)
    assert stats.cash(0, 1.5) == pytest.approx(3.0, rel=1e-14)          # n = 0: 2 mu
    # mu = 0 is truncated at 1e-25 (finite)
    assert stats.cash(1, 0.0) == pytest.approx(2 * (1e-25 - math.log(1e-25)), rel=1e-14)
    assert stats.cash(0, 0.0) == pytest.approx(2e-25)
    np.testing.assert_allclose(stats.cash([1, 5], [2.0, 5.0]), [2 * (2 - math.log(2)), 2 * (5 - 5 * math.log(5))])


def test_cash_sum_and_mask():
    n, mu = np.array([0, 3, 7]), np.array([0.5, 2.0, 8.0])
    assert stats.cash_sum(n, mu) == pytest.approx(np.sum(stats.cash(n, mu)), rel=1e-14)
    assert stats.cash_sum(n, mu, mask=[True, False, True]) == pytest.approx(
        stats.cash(0, 0.5) + stats.cash(7, 8.0), rel=1e-14)


def test_cstat_is_zero_at_perfect_model():
    assert stats.cstat(5, 5.0) == pytest.approx(0.0, abs=1e-12)
    assert stats.cstat(0, 2.0) == pytest.approx(4.0)


# --------------------------------------------------------------------------- WStat
def _wstat_by_profiling(n_on, n_off, alpha, mu_sig):
    """-2 log L maximised numerically over the background, plus the gof terms."""
    def f(b):
        val = mu_sig + (1 + alpha) * b
        if n_on:
            val -= n_on * math.log(mu_sig + alpha * b)
        if n_off:
            val -= n_off * math.log(b)
        return 2 * val

    res = minimize_scalar(f, bounds=(1e-12, 10 * (n_on + n_off + 1) / alpha), method="bounded",
                          options={"xatol": 1e-13})
    gof = 2 * ((n_on * (math.log(n_on) - 1) if n_on else 0) + (n_off * (math.log(n_off) - 1) if n_off else 0))
    return min(res.fun, f(1e-300) if n_off == 0 and mu_sig > 0 else np.inf) + gof


@pytest.mark.parametrize("n_on, n_off, alpha, mu_sig", [
    (10, 30, 0.2, 3.5), (3, 100, 0.05, 0.2), (50, 4, 0.5, 40.0), (1, 1, 1.0, 0.5),
])
def test_wstat_equals_profile_likelihood(n_on, n_off, alpha, mu_sig):
    assert stats.wstat(n_on, n_off, alpha, mu_sig) == pytest.approx(
        _wstat_by_profiling(n_on, n_off, alpha, mu_sig), rel=1e-7)


def test_wstat_limits_analytic():
    a, s = 0.2, 1.5
    # n_on = n_off = 0: 2 mu_sig
    assert stats.wstat(0, 0, a, s) == pytest.approx(2 * s, rel=1e-14)
    # n_on = 0: mu_bkg = n_off / (1 + a) and W = 2 mu_sig + 2 n_off ln(1 + a)
    assert stats.get_wstat_mu_bkg(0, 4, a, s) == pytest.approx(4 / (1 + a), rel=1e-14)
    assert stats.wstat(0, 4, a, s) == pytest.approx(2 * s + 2 * 4 * math.log(1 + a), rel=1e-13)
    # n_off = 0, mu_sig large (>= a n_on / (1 + a)): mu_bkg = 0, Cash-like
    n = 3
    assert stats.get_wstat_mu_bkg(n, 0, a, s) == 0.0
    expected = 2 * (s - n * math.log(s)) + 2 * n * (math.log(n) - 1)
    assert stats.wstat(n, 0, a, s) == pytest.approx(expected, rel=1e-13)
    # n_off = 0, mu_sig small: mu_bkg = (a n_on - (1 + a) s) / (a (1 + a)), W = -2 s / a + 2 n ln((1 + a) / a)
    s_small = 0.1
    assert stats.get_wstat_mu_bkg(n, 0, a, s_small) == pytest.approx((a * n - (1 + a) * s_small) / (a * (1 + a)))
    assert stats.wstat(n, 0, a, s_small) == pytest.approx(-2 * s_small / a + 2 * n * math.log((1 + a) / a),
                                                          rel=1e-12)
    # no gof terms
    assert stats.wstat(0, 0, a, s, extra_terms=False) == pytest.approx(2 * s)


def test_wstat_sum_nan_to_num_and_mask():
    # alpha = 0 gives NaN per bin, counted as 0 (as gammapy's datasets)
    assert math.isnan(stats.wstat(3, 4, 0.0, 1.0))
    assert stats.wstat_sum([3, 2], [4, 5], [0.0, 0.2], [1.0, 1.0]) == pytest.approx(stats.wstat(2, 5, 0.2, 1.0))
    assert stats.wstat_sum([3, 2], [4, 5], [0.1, 0.2], [1.0, 1.0], mask=[False, True]) == pytest.approx(
        stats.wstat(2, 5, 0.2, 1.0))


def test_chi2():
    assert stats.chi2(3.0, 1.0, 2.0) == 1.0
    assert stats.chi2_sum([1, 2, 3], [1, 1, 1], [1, 1, 2]) == pytest.approx(2.0)


# --------------------------------------------------------------------------- significance
def test_lima_known_value_and_limits():
    # Li & Ma (1983) eq. 17 by hand
    n_on, n_off, a = 130, 500, 0.2
    t1 = n_on * math.log((1 + a) / a * n_on / (n_on + n_off))
    t2 = n_off * math.log((1 + a) * n_off / (n_on + n_off))
    assert stats.lima_significance(n_on, n_off, a) == pytest.approx(math.sqrt(2 * (t1 + t2)), rel=1e-12)
    assert stats.lima_significance(n_on, n_off, a) == pytest.approx(stats.wstat_sqrt_ts(n_on, n_off, a), rel=1e-10)
    # negative excess gives a negative significance; n_on = 0 and n_off = 0 are finite
    assert stats.lima_significance(10, 100, 0.2) < 0
    assert stats.lima_significance(0, 10, 0.1) == pytest.approx(-math.sqrt(2 * 10 * math.log(1.1)))
    assert stats.lima_significance(5, 0, 0.1) == pytest.approx(math.sqrt(2 * 5 * math.log(11)))


def test_cash_sqrt_ts():
    # TS = 2 [n ln(n / b) - (n - b)]
    n, b = 25, 10.0
    assert stats.cash_sqrt_ts(n, b) == pytest.approx(math.sqrt(2 * (n * math.log(n / b) - (n - b))), rel=1e-10)


# --------------------------------------------------------------------------- vs gammapy
@pytest.fixture(scope="module")
def random_counts():
    rng = np.random.default_rng(42)
    n = 2000
    n_on = rng.poisson(rng.uniform(0, 20, n)).astype(float)
    n_off = rng.poisson(rng.uniform(0, 60, n)).astype(float)
    alpha = rng.uniform(0.01, 1.0, n)
    mu_sig = rng.uniform(0, 15, n)
    mu_sig[::17] = 0.0
    n_on[::13] = 0
    n_off[::11] = 0
    return n_on, n_off, alpha, mu_sig


def test_against_gammapy(random_counts):
    gstats = pytest.importorskip("gammapy.stats")
    n_on, n_off, alpha, mu_sig = random_counts
    rtol = 1e-10
    np.testing.assert_allclose(stats.cash(n_on, mu_sig), gstats.cash(n_on, mu_sig), rtol=rtol)
    np.testing.assert_allclose(stats.cstat(n_on, mu_sig + 0.1), gstats.cstat(n_on, mu_sig + 0.1), rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(stats.get_wstat_mu_bkg(n_on, n_off, alpha, mu_sig),
                               gstats.get_wstat_mu_bkg(n_on, n_off, alpha, mu_sig), rtol=rtol)
    np.testing.assert_allclose(stats.wstat(n_on, n_off, alpha, mu_sig), gstats.wstat(n_on, n_off, alpha, mu_sig),
                               rtol=rtol, atol=1e-9)
    np.testing.assert_allclose(stats.wstat(n_on, n_off, alpha, mu_sig, extra_terms=False),
                               gstats.wstat(n_on, n_off, alpha, mu_sig, extra_terms=False), rtol=rtol, atol=1e-9)
    np.testing.assert_allclose(stats.get_wstat_gof_terms(n_on, n_off), gstats.get_wstat_gof_terms(n_on, n_off),
                               rtol=rtol)
    np.testing.assert_allclose(stats.wstat_sqrt_ts(n_on, n_off, alpha),
                               gstats.WStatCountsStatistic(n_on, n_off, alpha).sqrt_ts, rtol=1e-8, atol=1e-7)
    np.testing.assert_allclose(stats.cash_sqrt_ts(n_on, mu_sig + 0.5),
                               gstats.CashCountsStatistic(n_on, mu_sig + 0.5).sqrt_ts, rtol=1e-8, atol=1e-7)
