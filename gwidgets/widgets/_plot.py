"""Small plotting helpers shared by the canvas views: error bars, step lines, safe log data, energy bands.

The views draw on `~gwidgets.widgets.canvas_plot.CanvasFigure`; these helpers turn
arrays into the vertices of its marks (``x`` / ``y`` of `CanvasLines` and
`CanvasScatter`): all error bars of a mark as one NaN-broken polyline, a
histogram as one step polyline, so that each mark is one array pair in the
figure's single message.
"""
from __future__ import annotations

import ipywidgets as w
import numpy as np

__all__ = ["errorbar_xy", "positive", "set_errorbars", "step_xy", "energy_band_inputs", "read_energy_band"]


def positive(x, y, *more):
    """Only the points with finite x, y (and y > 0: for log axes)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = np.isfinite(x) & np.isfinite(y) & (y > 0)
    return (x[keep], y[keep], *[np.asarray(m, float)[keep] for m in more])


def errorbar_xy(x, lo, hi):
    """All error bars as ONE polyline broken by NaN: ``(xs, ys)`` of length 3 n.

    One path for all the bars (instead of one per point) keeps the message small and the redraw cheap.
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
    lines.x, lines.y = errorbar_xy(x, lo, y + err) if len(x) else ([], [])
    scatter.x, scatter.y = x, y


def step_xy(edges, values, log=False):
    """A histogram as ONE step polyline: ``(xs, ys)`` of length 2 n, each bin a flat segment over its edges.

    Parameters
    ----------
    edges : array_like
        The n + 1 bin edges.
    values : array_like
        The n bin contents.
    log : bool
        For a log y axis: values ≤ 0 (and non-finite ones) become NaN, a break in the line.

    Returns
    -------
    xs, ys : numpy.ndarray
        ``xs[0::2]`` are the low edges, ``xs[1::2]`` the high edges, ``ys[0::2] == ys[1::2] == values``.

    Examples
    --------
    >>> xs, ys = step_xy([1.0, 2.0, 4.0], [3.0, 0.0], log=True)
    >>> xs.tolist(), ys.tolist()
    ([1.0, 2.0, 2.0, 4.0], [3.0, 3.0, nan, nan])
    """
    edges, values = np.asarray(edges, float), np.asarray(values, float)
    if edges.shape != (len(values) + 1,):
        raise ValueError(f"step_xy: {len(values)} values need {len(values) + 1} edges, got {edges.shape}")
    if log:
        values = np.where(np.isfinite(values) & (values > 0), values, np.nan)
    return np.stack([edges[:-1], edges[1:]], 1).ravel(), np.repeat(values, 2)


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
