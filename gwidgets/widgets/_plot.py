"""Small bqplot helpers shared by the spectrum views: figures, error bars, safe log data.

Browser cost, not Python, dominates redraws (SVG): the views use few figures,
no animation, fixed scale ranges, and update only the marks whose data changed,
each mark's ``x`` and ``y`` in one ``hold_sync()`` (one message, one redraw).
"""
from __future__ import annotations

import ipywidgets as w
import numpy as np

__all__ = ["figure", "errorbar_xy", "positive", "set_errorbars", "energy_band_inputs", "read_energy_band"]


def figure(marks, x_scale, y_scale, x_label, y_label, height=260, width=520, css=None):
    import bqplot as bq

    ax = bq.Axis(scale=x_scale, label=x_label, tick_format=".2g", grid_lines="none")
    ay = bq.Axis(scale=y_scale, label=y_label, orientation="vertical", tick_format=".2g", grid_lines="none")
    fig = bq.Figure(marks=marks, axes=[ax, ay], animation_duration=0,
                    layout=w.Layout(width=f"{width}px", height=f"{height}px"),
                    fig_margin={"top": 10, "bottom": 40, "left": 60, "right": 10})
    if css:
        fig.add_class(css)
    return fig


def positive(x, y, *more):
    """Only the points with finite x, y (and y > 0: for log axes)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = np.isfinite(x) & np.isfinite(y) & (y > 0)
    return (x[keep], y[keep], *[np.asarray(m, float)[keep] for m in more])


def errorbar_xy(x, lo, hi):
    """All error bars as ONE polyline broken by NaN: ``(xs, ys)`` of length 3 n.

    bqplot has no error-bar mark; one SVG path instead of one per point keeps the browser's redraw cheap.
    """
    x = np.asarray(x, float)
    nan = np.full_like(x, np.nan)
    return (np.stack([x, x, nan], 1).ravel(),
            np.stack([np.asarray(lo, float), np.asarray(hi, float), nan], 1).ravel())


def set_errorbars(lines, scatter, x, y, err, log=False):
    """Points ``(x, y)`` with ±``err`` bars (log axes: bars clipped above 0, non-positive points dropped)."""
    x, y, err = (np.asarray(a, float) for a in (x, y, err))
    keep = np.isfinite(x) & np.isfinite(y) & np.isfinite(err)
    if log:
        keep &= y > 0
    x, y, err = x[keep], y[keep], err[keep]
    lo = np.maximum(y - err, y * 1e-3) if log else y - err
    # one comm message per mark (x and y together): otherwise the browser redraws each mark twice
    with lines.hold_sync(), scatter.hold_sync():
        if len(x):
            lines.x, lines.y = errorbar_xy(x, lo, y + err)
        else:
            lines.x, lines.y = [], []
        scatter.x, scatter.y = x, y


def energy_band_inputs(lo: float, hi: float, width: str = "150px"):
    """``(e_min, e_max)`` boxes in TeV for a product's energy band (one shared Layout)."""
    small = w.Layout(width=width)
    return (w.BoundedFloatText(value=lo, min=1e-4, max=1e6, description="e_min [TeV]", layout=small),
            w.BoundedFloatText(value=hi, min=1e-4, max=1e6, description="e_max [TeV]", layout=small))


def read_energy_band(e_min, e_max, what: str) -> tuple[float, float]:
    """The band typed in `energy_band_inputs` boxes; a `GwidgetsError` naming ``what`` when it is empty."""
    from ..errors import GwidgetsError

    lo, hi = float(e_min.value), float(e_max.value)
    if not hi > lo:
        raise GwidgetsError(f"{what}: e_max ({hi} TeV) must be above e_min ({lo} TeV)")
    return lo, hi
