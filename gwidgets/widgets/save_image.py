"""Save a view's figure as an image: the same data the page draws, rendered by matplotlib in the kernel.

In the page each `~gwidgets.widgets.canvas_plot.CanvasFigure` has two buttons:
*PNG* saves the canvas as the browser shows it (no kernel round trip), *SVG*
asks the kernel, which draws the figure with matplotlib (`figure_svg`) and sends
the text back for download. From Python, ``view.save("sed.png")`` /
``view.to_svg()`` (`SaveImageMixin`, for every view with a ``figure``) or
``figure.save(path)`` give the same figure: its marks (``series``, the JSON the
page draws), its image layer, the range shown (zoom and pan included), log axes,
reversed x axis and labels, at the canvas's size (``width × height`` px at
`DPI` dpi for PNG).

>>> import numpy as np
>>> from gwidgets.widgets.canvas_plot import CanvasFigure, CanvasLines, Scale
>>> line = CanvasLines(color="#d62728", name="model")
>>> fig = CanvasFigure([line], Scale(log=True), Scale(log=True), "E [TeV]", "flux")
>>> line.x, line.y = np.geomspace(0.1, 10, 5), np.geomspace(1e-11, 1e-13, 5)
>>> _ = fig.render()
>>> svg = figure_svg(fig)
>>> svg.startswith("<?xml") and 'id="model"' in svg
True
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

__all__ = ["DPI", "FORMATS", "SaveImageMixin", "figure_png", "figure_svg", "render_matplotlib", "save_figure"]

#: dots per inch of the matplotlib rendering: a canvas of W × H px gives a PNG of W × H px
DPI = 100
#: file suffixes `save_figure` writes
FORMATS = ("png", "svg", "pdf")
#: canvas marker names → matplotlib markers
_MARKERS = {"circle": "o", "square": "s", "cross": "+", "triangle-down": "v", "handle": "o"}
#: one CSS px in points at `DPI`
_PT = 72.0 / DPI


def _values(a) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in a], float)


def _pieces(x, y):
    """Runs of finite points (a NaN breaks a polygon into pieces)."""
    good = np.isfinite(x) & np.isfinite(y)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], good.astype(int), [0]])))
    return [(x[a:b], y[a:b]) for a, b in zip(edges[::2], edges[1::2])]


def render_matplotlib(figure):
    """A `matplotlib.figure.Figure` drawing ``figure`` as the page does.

    Parameters
    ----------
    figure : CanvasFigure

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot (no global state); each mark's artists carry the mark's ``name``
        (else ``series<i>``) as their SVG id.
    """
    from matplotlib.figure import Figure

    out = Figure(figsize=(figure.width / DPI, figure.height / DPI), dpi=DPI, layout="constrained")
    ax = out.add_subplot()
    if figure.image and len(figure.image_extent) == 4:
        from PIL import Image

        rgba = np.asarray(Image.open(io.BytesIO(bytes(figure.image))).convert("RGBA"))
        x0, x1, y0, y1 = figure.image_extent
        ax.imshow(rgba, extent=(x0, x1, y0, y1), origin="upper", interpolation="nearest", aspect="auto")
    for i, s in enumerate(figure.series):
        x, y = _values(s["x"]), _values(s["y"])
        gid = s.get("name") or f"series{i}"
        if s["kind"] == "lines":
            ax.plot(x, y, color=s["color"], lw=s["width"] * _PT * 1.4, ls="--" if s["dash"] else "-", gid=gid)
        elif s["kind"] == "fill":
            for px, py in _pieces(x, y):
                ax.fill(px, py, color=s["color"], alpha=s.get("opacity", 1.0), lw=0, gid=gid)
        else:
            colors = np.array([s["color"]] * len(x), dtype=object)
            colors[[i for i in s.get("selected", []) if i < len(x)]] = s.get("selected_color", "#ffee58")
            for color in dict.fromkeys(colors):
                keep = colors == color
                ax.plot(x[keep], y[keep], ls="none", marker=_MARKERS.get(s["marker"], "o"), color=color,
                        ms=2 * s["size"] * _PT * 1.4, mew=1.5, gid=gid)
    if figure.x_log:
        ax.set_xscale("log")
    if figure.y_log:
        ax.set_yscale("log")
    x0, x1 = figure.x_range
    ax.set_xlim((x1, x0) if figure.x_reverse else (x0, x1))
    ax.set_ylim(*figure.y_range)
    if getattr(figure, "equal_aspect", False):
        ax.set_aspect("equal", adjustable="box")  # the limits stay those shown; the frame fits them
    ax.set_xlabel(figure.x_label)
    ax.set_ylabel(figure.y_label)
    _thin_linear_ticks(out, [axis for axis, log in ((ax.xaxis, figure.x_log), (ax.yaxis, figure.y_log)) if not log])
    return out


def _labels_apart(axis, gap_px: float) -> bool:
    lo, hi = sorted(axis.get_view_interval())
    boxes = [t.label1.get_window_extent() for t, v in zip(axis.get_major_ticks(), axis.get_majorticklocs())
             if lo <= v <= hi and t.label1.get_visible() and t.label1.get_text()]
    spans = sorted((b.x0, b.x1) if axis is axis.axes.xaxis else (b.y0, b.y1) for b in boxes)
    return all(b0 - a1 >= gap_px for (_, a1), (b0, _) in zip(spans, spans[1:]))


def _thin_linear_ticks(out, axes, gap_px: float = 6.0):
    """Fewer ticks on the linear ``axes`` until no two tick labels of one axis come closer than ``gap_px``.

    matplotlib picks tick counts from the axis length only: long labels (MJD times, 10⁻¹¹ fluxes) can run
    into each other, as the page's layout (`gwidgets.widgets.canvas_js`) never lets them. One layout pass
    (no rendering) when they are apart already.
    """
    from matplotlib.ticker import MaxNLocator

    crowded = list(axes)
    for nbins in (7, 5, 4, 3, 2, 1):
        if not crowded:
            return
        out.draw_without_rendering()
        crowded = [axis for axis in crowded if not _labels_apart(axis, gap_px)]
        for axis in crowded:
            axis.set_major_locator(MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]))


def figure_svg(figure) -> str:
    """``figure`` as SVG text (text kept as text, so labels stay searchable; every data point kept)."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "gwidgets", "path.simplify": False}):
        render_matplotlib(figure).savefig(buf, format="svg")
    return buf.getvalue()


def figure_png(figure) -> bytes:
    """``figure`` as PNG bytes of ``width × height`` px."""
    buf = io.BytesIO()
    render_matplotlib(figure).savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def save_figure(figure, path) -> Path:
    """Write ``figure`` to ``path``; the suffix (one of `FORMATS`) picks the format.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        For a suffix not in `FORMATS` (named with the path).
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        known = ", ".join("." + f for f in FORMATS)
        raise ValueError(f"cannot save a figure as {path}: the suffix must be one of {known}")
    if fmt == "svg":
        path.write_text(figure_svg(figure), encoding="utf-8")
    else:
        render_matplotlib(figure).savefig(path, format=fmt, dpi=DPI)
    return path


class SaveImageMixin:
    """``save(path)``, ``to_svg()`` and ``to_png()`` for a view whose plot is ``self.figure`` (a `CanvasFigure`)."""

    def save(self, path) -> Path:
        """Write the view's figure to ``path`` (.png, .svg or .pdf); see `save_figure`."""
        return save_figure(self.figure, path)

    def to_svg(self) -> str:
        """The view's figure as SVG text."""
        return figure_svg(self.figure)

    def to_png(self) -> bytes:
        """The view's figure as PNG bytes (the canvas's size)."""
        return figure_png(self.figure)
