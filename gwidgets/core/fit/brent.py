"""Brent's methods in one dimension: a root in a sign-changing bracket, a minimum from two starting points.

Line-for-line ports of ``scipy.optimize.brentq`` (scipy's ``brentq.c``) and of
``scipy.optimize.minimize_scalar(method="brent")`` with a two-point bracket
(scipy's ``bracket`` and ``Brent.optimize``): the same floating-point steps, so
the same roots and minima for the same calls. They exist so that the flux
points of the dashboard's first look do not import ``scipy.optimize``, which
costs about 23 MiB of every dashboard kernel's memory (it imports
``scipy.sparse``, ``scipy.linalg``, ``scipy.spatial`` and ``scipy.fft``).

>>> round(brentq(lambda x: x * x - 2.0, 0.0, 2.0), 12)
1.414213562373
>>> res = minimize_brent(lambda x: (x - 3.0) ** 2 + 1.0, bracket=(0.0, 1.0))
>>> round(res.x, 6), round(res.fun, 6), res.success
(3.0, 1.0, True)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["brentq", "minimize_brent", "find_bracket", "BrentResult", "BracketError"]

#: scipy's defaults
XTOL_ROOT = 2e-12
RTOL_ROOT = 4 * 2.220446049250313e-16
GOLD = 1.618034  # bracket growth: (1 + sqrt 5) / 2, as scipy writes it
CGOLD = 0.3819660  # golden-section step: (3 - sqrt 5) / 2
MINTOL = 1.0e-11
VERY_SMALL = 1e-21


class BracketError(RuntimeError):
    """No valid three-point bracket of a minimum was found (``data``: the last points and values, call count)."""

    data: tuple = ()


@dataclass
class BrentResult:
    """Result of `minimize_brent` (the fields of scipy's ``OptimizeResult`` that it fills)."""

    x: float
    fun: float
    nit: int
    nfev: int
    success: bool
    message: str = ""


def _checked(f):
    """``f`` as a float function that raises ValueError on NaN (scipy's brentq does the same)."""

    def g(x):
        fx = float(f(x))
        if math.isnan(fx):
            raise ValueError(f"The function value at x={x} is NaN; solver cannot continue.")
        return fx

    return g


def brentq(f, a: float, b: float, xtol: float = XTOL_ROOT, rtol: float = RTOL_ROOT, maxiter: int = 100) -> float:
    """Root of ``f`` in ``[a, b]`` by Brent's method (``f(a)`` and ``f(b)`` of opposite signs).

    Parameters
    ----------
    f : callable
        ``f(x) -> float``.
    a, b : float
        The bracket.
    xtol, rtol : float
        The root is within ``xtol + rtol * |root|`` (``xtol > 0``, ``rtol >= 4 eps``).
    maxiter : int
        Maximum number of iterations.

    Returns
    -------
    float
        The root (the same as ``scipy.optimize.brentq`` with these arguments).

    Raises
    ------
    ValueError
        ``f(a)`` and ``f(b)`` have the same sign, ``f`` returned NaN, or a tolerance is too small.
    RuntimeError
        Not converged within ``maxiter`` iterations.

    Examples
    --------
    >>> brentq(lambda x: x - 0.25, 0.0, 1.0)
    0.25
    """
    if xtol <= 0:
        raise ValueError(f"xtol too small ({xtol:g} <= 0)")
    if rtol < RTOL_ROOT:
        raise ValueError(f"rtol too small ({rtol:g} < {RTOL_ROOT:g})")
    f = _checked(f)
    xpre, xcur = float(a), float(b)
    xblk = fblk = spre = scur = 0.0
    fpre, fcur = f(xpre), f(xcur)
    if fpre == 0:
        return xpre
    if fcur == 0:
        return xcur
    if math.copysign(1.0, fpre) == math.copysign(1.0, fcur):
        raise ValueError("f(a) and f(b) must have different signs")
    for _ in range(int(maxiter)):
        if fpre != 0 and fcur != 0 and math.copysign(1.0, fpre) != math.copysign(1.0, fcur):
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (xtol + rtol * abs(xcur)) / 2
        sbis = (xblk - xcur) / 2
        if fcur == 0 or abs(sbis) < delta:
            return xcur
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            try:
                if xpre == xblk:  # interpolate
                    stry = -fcur * (xcur - xpre) / (fcur - fpre)
                else:  # extrapolate
                    dpre = (fpre - fcur) / (xpre - xcur)
                    dblk = (fblk - fcur) / (xblk - xcur)
                    stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            except ZeroDivisionError:  # C gives ±inf or NaN here: the step test below then bisects
                stry = math.inf
            if 2 * abs(stry) < min(abs(spre), 3 * abs(sbis) - delta):  # good short step
                spre, scur = scur, stry
            else:  # bisect
                spre = scur = sbis
        else:  # bisect
            spre = scur = sbis
        xpre, fpre = xcur, fcur
        if abs(scur) > delta:
            xcur += scur
        else:
            xcur += delta if sbis > 0 else -delta
        fcur = f(xcur)
    raise RuntimeError(f"Failed to converge after {int(maxiter)} iterations, value is {xcur}.")


def find_bracket(f, xa: float, xb: float, grow_limit: float = 110.0, maxiter: int = 1000):
    """Three points ``xa, xb, xc`` with ``f(xb)`` below ``f(xa)`` and ``f(xc)``, searched downhill from ``xa, xb``.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``.
    xa, xb : float
        Two distinct starting points.
    grow_limit : float
        Maximum growth of a parabolic extrapolation step.
    maxiter : int
        Maximum number of steps.

    Returns
    -------
    tuple
        ``(xa, xb, xc, fa, fb, fc, ncalls)``.

    Raises
    ------
    BracketError
        The search ended without a valid bracket.
    RuntimeError
        No bracket after ``maxiter`` steps.

    Examples
    --------
    >>> xa, xb, xc, *_ = find_bracket(lambda x: (x - 3.0) ** 2, 0.0, 1.0)
    >>> min(xa, xc) < 3.0 < max(xa, xc)
    True
    """
    xa, xb = float(xa), float(xb)
    fa, fb = f(xa), f(xb)
    if fa < fb:  # so that fa > fb
        xa, xb, fa, fb = xb, xa, fb, fa
    xc = xb + GOLD * (xb - xa)
    fc = f(xc)
    ncalls, it = 3, 0
    while fc < fb:
        tmp1 = (xb - xa) * (fb - fc)
        tmp2 = (xb - xc) * (fb - fa)
        val = tmp2 - tmp1
        denom = 2.0 * VERY_SMALL if abs(val) < VERY_SMALL else 2.0 * val
        w = xb - ((xb - xc) * tmp2 - (xb - xa) * tmp1) / denom
        wlim = xb + grow_limit * (xc - xb)
        if it > maxiter:
            raise RuntimeError("No valid bracket was found before the iteration limit was reached.")
        it += 1
        if (w - xc) * (xb - w) > 0.0:
            fw = f(w)
            ncalls += 1
            if fw < fc:
                xa, xb, fa, fb = xb, w, fb, fw
                break
            elif fw > fb:
                xc, fc = w, fw
                break
            w = xc + GOLD * (xc - xb)
            fw = f(w)
            ncalls += 1
        elif (w - wlim) * (wlim - xc) >= 0.0:
            w = wlim
            fw = f(w)
            ncalls += 1
        elif (w - wlim) * (xc - w) > 0.0:
            fw = f(w)
            ncalls += 1
            if fw < fc:
                xb, xc = xc, w
                w = xc + GOLD * (xc - xb)
                fb, fc = fc, fw
                fw = f(w)
                ncalls += 1
        else:
            w = xc + GOLD * (xc - xb)
            fw = f(w)
            ncalls += 1
        xa, xb, xc = xb, xc, w
        fa, fb, fc = fb, fc, fw
    valid = (((fb < fc and fb <= fa) or (fb < fa and fb <= fc)) and (xa < xb < xc or xc < xb < xa)
             and all(math.isfinite(v) for v in (xa, xb, xc)))
    if not valid:
        err = BracketError("The algorithm terminated without finding a valid bracket. "
                           "Consider trying different initial points.")
        err.data = (xa, xb, xc, fa, fb, fc, ncalls)
        raise err
    return xa, xb, xc, fa, fb, fc, ncalls


def minimize_brent(f, bracket: tuple = (0.0, 1.0), xtol: float = 1.48e-8, maxiter: int = 500) -> BrentResult:
    """Minimum of ``f`` by Brent's method, bracketed downhill from the two points ``bracket``.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``.
    bracket : tuple of two floats
        Starting points of the downhill bracket search (see `find_bracket`).
    xtol : float
        Relative tolerance on ``x``.
    maxiter : int
        Maximum number of iterations.

    Returns
    -------
    BrentResult
        ``x``, ``fun``, ``nit``, ``nfev``, ``success`` as ``scipy.optimize.minimize_scalar(f,
        bracket=bracket, method="brent")`` gives them; a failed bracket search gives ``success=False``
        at the best point seen (as scipy does).

    Raises
    ------
    ValueError
        ``xtol`` is negative.
    RuntimeError
        The bracket search did not end within its step limit.

    Examples
    --------
    >>> res = minimize_brent(lambda x: (x - 0.5) ** 2, bracket=(0.0, 0.1))
    >>> abs(res.x - 0.5) < 1e-8, res.success
    (True, True)
    """
    if xtol < 0:
        raise ValueError(f"tolerance should be >= 0, got {xtol!r}")
    fl = lambda x: float(f(x))  # noqa: E731
    try:
        xa, xb, xc, fa, fb, fc, ncalls = find_bracket(fl, *bracket)
    except BracketError as exc:
        xs, fs = exc.data[:3], exc.data[3:6]
        if any(math.isnan(v) for v in (*xs, *fs)):
            x, fx = math.nan, math.nan
        else:
            k = min(range(3), key=lambda i: fs[i])
            x, fx = xs[k], fs[k]
        return BrentResult(x, fx, 0, exc.data[6], False, str(exc))
    x = w = v = xb
    fw = fv = fx = fb
    a, b = (xa, xc) if xa < xc else (xc, xa)
    deltax = rat = 0.0
    it = 0
    while it < maxiter:
        tol1 = xtol * abs(x) + MINTOL
        tol2 = 2.0 * tol1
        xmid = 0.5 * (a + b)
        if abs(x - xmid) < (tol2 - 0.5 * (b - a)):  # converged
            break
        if abs(deltax) <= tol1:  # golden-section step
            deltax = a - x if x >= xmid else b - x
            rat = CGOLD * deltax
        else:  # parabolic step
            tmp1 = (x - w) * (fx - fv)
            tmp2 = (x - v) * (fx - fw)
            p = (x - v) * tmp2 - (x - w) * tmp1
            tmp2 = 2.0 * (tmp2 - tmp1)
            if tmp2 > 0.0:
                p = -p
            tmp2 = abs(tmp2)
            dx_temp = deltax
            deltax = rat
            if p > tmp2 * (a - x) and p < tmp2 * (b - x) and abs(p) < abs(0.5 * tmp2 * dx_temp):
                rat = p * 1.0 / tmp2
                u = x + rat
                if (u - a) < tol2 or (b - u) < tol2:
                    rat = tol1 if xmid - x >= 0 else -tol1
            else:
                deltax = a - x if x >= xmid else b - x
                rat = CGOLD * deltax
        if abs(rat) < tol1:  # a step of at least tol1
            u = x + tol1 if rat >= 0 else x - tol1
        else:
            u = x + rat
        fu = fl(u)
        ncalls += 1
        if fu > fx:
            if u < x:
                a = u
            else:
                b = u
            if fu <= fw or w == x:
                v, w, fv, fw = w, u, fw, fu
            elif fu <= fv or v == x or v == w:
                v, fv = u, fu
        else:
            if u >= x:
                a = x
            else:
                b = x
            v, w, x = w, x, u
            fv, fw, fx = fw, fx, fu
        it += 1
    success = it < maxiter and not (math.isnan(x) or math.isnan(fx))
    message = ("converged" if success else "maximum number of iterations exceeded" if it >= maxiter
               else "NaN result encountered")
    return BrentResult(x, fx, it, ncalls, success, message)
