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
from types import SimpleNamespace

import numpy as np

__all__ = ["DPI", "FORMATS", "SaveImageMixin", "figure_png", "figure_svg", "render_matplotlib", "save_figure",
           "with_save_buttons"]

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


def _bqplot_state(fig) -> SimpleNamespace:
    """What `render_matplotlib` reads, from a `bqplot.Figure` (the marks the views use)."""

    def px(size, default):
        try:
            return int(str(size).removesuffix("px"))
        except ValueError:
            return default

    def rows(a):
        a = np.asarray(a, float)
        return [a] if a.ndim < 2 else list(a)

    series = []
    for mark in fig.marks:
        name = type(mark).__name__
        color = (list(getattr(mark, "colors", None) or []) or ["#1f77b4"])[0]
        xs, ys = rows(mark.x), rows(mark.y)
        if len(xs) == 1 and len(ys) > 1:
            xs = xs * len(ys)
        if name == "Scatter":
            marker = {"circle": "circle", "square": "square", "cross": "cross", "triangle-down": "triangle-down"}
            series.append({"kind": "points", "x": [float(v) for v in xs[0]], "y": [float(v) for v in ys[0]],
                           "color": color, "width": 1.0, "dash": False, "size": float(np.sqrt(mark.default_size) / 2),
                           "marker": marker.get(mark.marker, "circle")})
            continue
        x_all, y_all = [], []
        for x, y in zip(xs, ys):
            if getattr(mark, "interpolation", "") == "step-after" and len(x) > 1:
                x, y = np.repeat(x, 2)[1:], np.repeat(y, 2)[:-1]
            x_all += [*map(float, x), np.nan]
            y_all += [*map(float, y), np.nan]
        fill = getattr(mark, "fill", "none") in ("inside", "between")
        entry = {"kind": "fill" if fill else "lines", "x": x_all[:-1], "y": y_all[:-1], "color": color,
                 "width": float(getattr(mark, "stroke_width", 1.0) or 1.0), "dash": mark.line_style == "dashed",
                 "size": 3.0, "marker": "circle"}
        if fill:
            entry["opacity"] = float((list(getattr(mark, "fill_opacities", None) or []) or [1.0])[0])
        series.append(entry)
    ax_x, ax_y = fig.axes[0], fig.axes[1]

    def rng(scale, key):
        values = np.array([v for s in series for v in s[key] if v is not None and np.isfinite(v)], float)
        log = type(scale).__name__ == "LogScale"
        if log:
            values = values[values > 0]
        lo = scale.min if scale.min is not None else (values.min() if values.size else (1.0 if log else 0.0))
        hi = scale.max if scale.max is not None else (values.max() if values.size else (10.0 if log else 1.0))
        return [float(lo), float(hi if hi > lo else (lo * 10 if log else lo + 1))], log

    (x_range, x_log), (y_range, y_log) = rng(ax_x.scale, "x"), rng(ax_y.scale, "y")
    return SimpleNamespace(width=px(fig.layout.width, 520), height=px(fig.layout.height, 280), x_log=x_log,
                           y_log=y_log, x_reverse=bool(getattr(ax_x.scale, "reverse", False)), x_range=x_range,
                           y_range=y_range, x_label=ax_x.label or "", y_label=ax_y.label or "", series=series,
                           image=b"", image_extent=[])


def render_matplotlib(figure):
    """A `matplotlib.figure.Figure` drawing ``figure`` as the page does.

    Parameters
    ----------
    figure : CanvasFigure or bqplot.Figure

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot (no global state); each mark's artists carry the mark's ``name``
        (else ``series<i>``) as their SVG id.
    """
    from matplotlib.figure import Figure

    if not hasattr(figure, "series"):  # a bqplot Figure
        figure = _bqplot_state(figure)
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
    return out


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


def with_save_buttons(figure, name: str | None = None):
    """``figure`` with *PNG* / *SVG* buttons for the page.

    A `CanvasFigure` has them built in and is returned as it is; a `bqplot.Figure` is returned in a box
    under a row of two small buttons that call its own ``save_png`` / ``save_svg`` (the browser saves
    the image, named after ``name`` or the figure's first CSS class).

    Parameters
    ----------
    figure : CanvasFigure or bqplot.Figure
    name : str, optional
        File name without suffix.

    Returns
    -------
    ipywidgets.Widget
        The widget to put in the view instead of ``figure``.
    """
    import ipywidgets as w

    if hasattr(figure, "series"):
        return figure
    classes = [c for c in figure._dom_classes if c.startswith("gw-")]
    name = name or (classes[0].removeprefix("gw-").removesuffix("-figure") if classes else "figure")
    small = w.Layout(width="44px", height="22px", padding="0")
    png = w.Button(description="PNG", tooltip="save this plot as PNG", layout=small)
    svg = w.Button(description="SVG", tooltip="save this plot as SVG", layout=small)
    png.add_class("gw-save-png")
    svg.add_class("gw-save-svg")
    png.on_click(lambda _: figure.save_png(f"{name}.png"))
    svg.on_click(lambda _: figure.save_svg(f"{name}.svg"))
    return w.VBox([w.HBox([png, svg], layout=w.Layout(justify_content="flex-end")), figure])


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
