"""The function the minimiser sees: free-parameter factors → total statistic.

It also keeps the best point seen (so a cancelled fit can stop there),
optionally a trace, and reports progress: ``callback(iteration, values, stat)``
is called at most every ``throttle`` seconds (one clock read per evaluation
otherwise), with ``values`` a dict of parameter name → value. The callback
returning ``False`` — or raising `StopFit`, or a `~gwidgets.core.progress.CancelToken` being set —
stops the fit.
"""
from __future__ import annotations

import math
import time

from ..progress import Cancelled

__all__ = ["StopFit", "Objective"]


class StopFit(Cancelled):
    """Raised (by a callback, or for it) to cancel a running fit; the fit keeps its best point."""


class Objective:
    """Callable for MINUIT: free-parameter factors → total statistic.

    Also counts evaluations (``nfev``), keeps the best point (``best_stat``,
    ``best_factors``), optionally a trace, and reports progress (see the module doc).
    A NaN or infinite statistic is returned as 1e300.

    Parameters
    ----------
    stat_sum : callable
        Total statistic of the current parameter values.
    free : list of `~gwidgets.core.models.parameter.Parameter`
        The free parameters, in the minimiser's order.
    names : list of str
        Their unique names.
    callback : callable, optional
        ``callback(iteration, values, stat)``.
    throttle : float, optional
        Minimum time between callbacks in s.
    token : `~gwidgets.core.progress.CancelToken`, optional
        Cancels the fit when set.
    store_trace : bool, optional
        Keep ``(nfev, stat, *values)`` of every evaluation.
    """

    def __init__(self, stat_sum, free, names, callback=None, throttle=0.02, token=None, store_trace=False):
        self.stat_sum = stat_sum
        self.free = list(free)
        self.names = list(names)
        self.scales = [p.scale for p in self.free]
        self.setters = [p.set_value_unchecked for p in self.free]
        self.callback = callback
        self.token = token
        self.throttle = float(throttle)
        self.watch = callback is not None or token is not None
        self.nfev = 0
        self.best_stat = math.inf
        self.best_factors = None
        self.trace = [] if store_trace else None
        self._last = time.perf_counter()

    def set_factors(self, factors):
        """Set the parameters from minimiser factors (``value = factor × scale``).

        Parameters
        ----------
        factors : sequence of float
            One factor per free parameter.
        """
        for setter, f, scale in zip(self.setters, factors, self.scales):
            setter(float(f) * scale)

    def __call__(self, factors):
        """Set the parameters from ``factors`` and return the total statistic.

        Parameters
        ----------
        factors : sequence of float
            One factor per free parameter.

        Returns
        -------
        float
            The statistic (1e300 if it is NaN or infinite).

        Raises
        ------
        StopFit
            If the (throttled) progress report asks to stop.
        """
        for setter, f, scale in zip(self.setters, factors, self.scales):
            setter(f * scale)
        stat = self.stat_sum()
        self.nfev += 1
        if stat < self.best_stat:
            self.best_stat = stat
            self.best_factors = tuple(factors)
        if self.trace is not None:
            self.trace.append((self.nfev, stat, *[f * s for f, s in zip(factors, self.scales)]))
        if self.watch:
            now = time.perf_counter()
            if now - self._last >= self.throttle:
                self._last = now
                self.report(stat)
        if stat != stat or stat == math.inf:  # NaN / inf: a big finite value keeps MIGRAD's line search going
            return 1e300
        return stat

    def values(self) -> dict:
        """Current values of the free parameters.

        Returns
        -------
        dict
            Unique name → value in the parameter's unit.
        """
        return {n: p.value for n, p in zip(self.names, self.free)}

    def report(self, stat, final=False):
        """Call the callback with the current state; stop the fit if asked to.

        Parameters
        ----------
        stat : float
            Current statistic.
        final : bool, optional
            The last report of a fit: a set token or a False answer no longer stops it.

        Raises
        ------
        StopFit
            If the token is set or the callback returns False (unless ``final``).
        """
        if self.token is not None and self.token.cancelled and not final:
            raise StopFit("cancelled (cancel token set)")
        if self.callback is not None:
            answer = self.callback(self.nfev, self.values(), stat)
            if answer is False and not final:
                raise StopFit("cancelled by the callback")
