"""gwidgets.core.fit.brent against scipy.optimize: the same roots and minima, bit for bit, and the same errors."""
import math

import numpy as np
import pytest
from scipy import optimize

from gwidgets.core.fit.brent import BracketError, brentq, find_bracket, minimize_brent


def _cash_like(n_on, mu_bkg, s0):
    """-2 log L of Poisson counts against a background plus a norm times a signal (a flux-point profile)."""
    def stat(norm):
        mu = np.maximum(mu_bkg + norm * s0, 1e-25)
        return float(2 * np.sum(mu - n_on * np.log(mu)))
    return stat


def _functions():
    rng = np.random.default_rng(42)
    out = [lambda x: x**3 - 2 * x - 5, lambda x: math.cos(x) - x, lambda x: math.exp(x) - 10.0,
           lambda x: math.atan(x - 0.3), lambda x: (x - 1.0) ** 5]
    for _ in range(20):
        s0 = rng.uniform(1, 30, 8)
        bkg = rng.uniform(0.5, 10, 8)
        n_on = rng.poisson(bkg + rng.uniform(0.2, 3) * s0).astype(float)
        out.append(_cash_like(n_on, bkg, s0))
    return out


@pytest.mark.parametrize("k", range(25))
def test_minimize_equals_scipy(k):
    """minimize_scalar(method="brent") with a two-point bracket, on analytic and Poisson-likelihood functions."""
    f = _functions()[k] if k >= 5 else (lambda x, c=k: (x - c) ** 2 + math.sin(3 * x))
    for start in (1.0, 0.3, 4.0):
        bracket = (0.9 * start, 1.1 * start)
        ref = optimize.minimize_scalar(f, bracket=bracket, method="brent", options={"xtol": 1e-10, "maxiter": 500})
        res = minimize_brent(f, bracket=bracket, xtol=1e-10, maxiter=500)
        assert (res.x, res.fun, res.nit, res.nfev, res.success) == (float(ref.x), float(ref.fun), ref.nit, ref.nfev,
                                                                     bool(ref.success))


@pytest.mark.parametrize("k", range(25))
def test_root_equals_scipy(k):
    """Root finding on analytic functions and on flux-point likelihood crossings, at three tolerances."""
    f = _functions()[k]
    if k < 5:
        lo, hi = {0: (2, 3), 1: (0, 1), 2: (0, 5), 3: (-4, 7), 4: (-1, 2.5)}[k]
        g = f
    else:  # the likelihood-ratio crossing of a flux point: stat - min - 1 = 0 above the minimum
        best = minimize_brent(f, bracket=(0.9, 1.1), xtol=1e-10)
        g = lambda v: f(v) - best.fun - 1.0  # noqa: E731
        lo, hi = best.x, best.x + 0.1
        while g(hi) <= 0:
            hi += 0.5
    for xtol, rtol in ((1e-12, 1e-12), (2e-12, 4 * np.finfo(float).eps), (1e-4, 1e-6)):
        ref = optimize.brentq(g, lo, hi, xtol=xtol, rtol=rtol, maxiter=200, full_output=True)
        assert brentq(g, lo, hi, xtol=xtol, rtol=rtol, maxiter=200) == ref[0]


def test_errors_as_scipy():
    """The errors scipy raises (signs, NaN, no convergence, tolerance) and its bracket."""
    with pytest.raises(ValueError, match="different signs"):
        brentq(lambda x: x * x + 1, -1.0, 1.0)
    with pytest.raises(ValueError, match="NaN"):
        brentq(lambda x: math.nan if x > 0.5 else -1.0, 0.0, 1.0)
    slow = lambda x: x**9 - 1e-3  # noqa: E731
    with pytest.raises(RuntimeError, match="converge"):
        optimize.brentq(slow, 0.0, 4.0, maxiter=3)
    with pytest.raises(RuntimeError, match="converge"):
        brentq(slow, 0.0, 4.0, maxiter=3)
    with pytest.raises(ValueError, match="rtol"):
        brentq(lambda x: x, -1.0, 1.0, rtol=1e-20)
    assert find_bracket(lambda x: (x - 3.0) ** 2, 0.0, 1.0)[:6] == optimize.bracket(lambda x: (x - 3.0) ** 2, 0.0,
                                                                                     1.0)[:6]
    with pytest.raises(BracketError):
        find_bracket(lambda x: 1.0, 0.0, 1.0)  # flat: scipy's bracket raises its BracketError too


def _outcome(minimize, f):
    try:
        res = minimize(f)
    except Exception as exc:  # noqa: BLE001 - the error type is compared
        return type(exc).__mro__[1] if type(exc).__name__ == "BracketError" else type(exc)
    return float(res.x), float(res.fun), res.nfev, bool(res.success)


@pytest.mark.parametrize("f", [lambda x: math.exp(-x), lambda x: -x, lambda x: 1.0, lambda x: abs(x - 0.5),
                               lambda x: x**4, lambda x: math.nan if x > 2 else -x])
def test_awkward_functions_as_scipy(f):
    """Monotonic, unbounded, flat, kinked, NaN: the same outcome (result, success flag or error) as scipy."""
    ref = _outcome(lambda g: optimize.minimize_scalar(g, bracket=(0.0, 1.0), method="brent"), f)
    got = _outcome(lambda g: minimize_brent(g, bracket=(0.0, 1.0)), f)
    assert repr(got) == repr(ref)  # repr: NaN equals NaN
