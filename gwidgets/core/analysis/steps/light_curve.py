"""Step ``light_curve``: flux of the source per time interval → ``analysis.light_curve``.

Intervals: ``light_curve.time_intervals`` (``[[start, stop], ...]``, ISO or
MJD, TT), or one per observation (``per_observation: true``, the default when
no intervals are given; each dataset's ``meta["time_start"/"time_stop"]``
is its GTI span). An interval with no observation in it is a
`ConfigError` naming it, raised before anything is estimated. Uses
`gwidgets.core.estimators.LightCurveEstimator` (lazily imported) on the
per-observation datasets.
"""
from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.time import Time

from ...config import ConfigError
from ._estimator import UL_SELECTION, build, default_source, run_on_copies
from .base import require
from .datasets import energy_axis

__all__ = ["time_intervals"]


def _time(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Time(value, format="mjd", scale="tt")
    return Time(str(value), scale="tt")


def time_intervals(analysis) -> list[tuple[Time, Time]]:
    """The light-curve intervals, each checked to contain at least one observation.

    Parameters
    ----------
    analysis : `~gwidgets.core.analysis.Analysis`
        The analysis (its per-observation datasets carry ``meta["time_start"/"time_stop"]``).

    Returns
    -------
    list of tuple
        ``(start, stop)`` `~astropy.time.Time` pairs (TT): the configured intervals, or one per
        observation in time order.

    Raises
    ------
    `~gwidgets.core.config.ConfigError`
        If an interval's stop is not after its start, or it contains no observation.
    """
    cfg = analysis.config.get("light_curve", {})
    per_obs = analysis.datasets_per_obs
    starts = np.array([Time(d.meta["time_start"]).tt.mjd for d in per_obs])
    stops = np.array([Time(d.meta["time_stop"]).tt.mjd for d in per_obs])
    if cfg.get("time_intervals") and not cfg.get("per_observation", False):
        out = []
        for i, (a, b) in enumerate(cfg["time_intervals"]):
            t0, t1 = _time(a), _time(b)
            key = f"light_curve.time_intervals[{i}]"
            if not t1 > t0:
                raise ConfigError(f"'{key}' = [{a}, {b}]: stop must be after start")
            if not np.any((stops > t0.tt.mjd) & (starts < t1.tt.mjd)):
                raise ConfigError(f"'{key}' = [{a}, {b}] contains no observation "
                                  f"(observations span MJD {starts.min():.3f}–{stops.max():.3f})")
            out.append((t0, t1))
        return out
    order = np.argsort(starts)
    return [(Time(starts[i], format="mjd", scale="tt"), Time(stops[i], format="mjd", scale="tt")) for i in order]


def _energy_edges(analysis, cfg):
    if cfg.get("energy"):
        return energy_axis(cfg["energy"], "energy", "light_curve.energy").edges
    fit_cfg = analysis.config.get("fit", {})
    lo = fit_cfg.get("e_min")
    hi = fit_cfg.get("e_max")
    if lo is None or hi is None:
        ranges = np.array([d.energy_range for d in analysis.datasets_per_obs], dtype=float)
        lo = lo if lo is not None else np.nanmin(ranges[:, 0]) * u.TeV
        hi = hi if hi is not None else np.nanmax(ranges[:, 1]) * u.TeV
    return u.Quantity([lo, hi]).to("TeV")


def run(analysis, progress=None):
    """Light curve of the source on the per-observation datasets (copies, with copies of the fitted models).

    Parameters
    ----------
    analysis : `~gwidgets.core.analysis.Analysis`
        The analysis (fitted).
    progress : callable, optional
        Unused.

    Returns
    -------
    `~gwidgets.core.estimators.light_curve.LightCurve`
        The light curve, also stored as ``analysis.light_curve``.

    Raises
    ------
    `~gwidgets.core.config.ConfigError`
        If a time interval is invalid or contains no observation.
    StepNotAvailableError
        If the estimators cannot be imported.
    """
    cfg = analysis.config.get("light_curve", {})
    intervals = time_intervals(analysis)  # checked first: a bad interval is reported even without the estimator
    (estimator_cls,) = require("gwidgets.core.estimators", ["LightCurveEstimator"], "light_curve")
    source = default_source(analysis, "light_curve")
    per_obs = not cfg.get("time_intervals") or cfg.get("per_observation", False)
    estimator = build(estimator_cls, time_intervals=None if per_obs else intervals,
                      energy_edges=_energy_edges(analysis, cfg),
                      source=source, n_sigma_ul=cfg.get("n_sigma_ul"),
                      selection_optional=UL_SELECTION)
    analysis.light_curve = run_on_copies(estimator, analysis.datasets_per_obs, analysis.models)
    analysis.log(f"light curve: {len(intervals)} intervals for '{source}'")
    return analysis.light_curve
