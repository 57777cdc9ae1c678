"""CanvasFigure: a 2D plot drawn on one <canvas> (anywidget): every plot of the views.

The fit panels and likelihood profile, the spectrum, SED and light-curve views
and the sky view draw with it. An SVG plot library (bqplot) applies every mark
update through a d3 transition, which runs on d3's next timer tick: a redraw
lands a frame or more after its message, and its JavaScript bundle must load
before the page shows anything. This widget draws an optional image, lines
(dashed or not: error bars, step histograms and time bins are NaN-broken
polylines), filled polygons and points
(circle, square, cross, downward triangle for upper limits) on a canvas
synchronously when its data arrives — one widget model and one message per
redraw. Ticks, labels and margins are laid out by `gwidgets.widgets.canvas_js`
(no two labels overlap, none is cut).

The Python side is small: `Scale` (``min``/``max``, log or linear, ``reverse``),
marks with ``x``/``y`` (`CanvasLines`, `CanvasScatter`, `CanvasFill`) and
`CanvasFigure.render` that sends all marks at once when anything changed.

Interaction (sky view): with ``zoom=True`` the wheel zooms around the mouse
and a drag pans (the view range is synced back into ``x_range``/``y_range``;
the scales keep the home range that *reset view* returns to); a click is sent
to the callbacks of ``fig.on("click", f)`` with the data coordinates and the
``pickable`` point under the mouse; a ``draggable`` point dragged with the
mouse is sent to ``fig.on("drag", f)``. Every figure has *PNG* / *SVG* buttons;
`save` and `to_svg` give the same figure from Python (`gwidgets.widgets.save_image`).

>>> import numpy as np
>>> sx, sy = Scale(log=True), Scale()
>>> line = CanvasLines(color="#d62728")
>>> fig = CanvasFigure([line], sx, sy, "E [TeV]", "counts")
>>> line.x, line.y = np.array([1.0, 10.0]), np.array([3.0, np.nan])
>>> fig.render()
True
>>> fig.series[0]["y"]              # non-finite values travel as null (a break in the line)
[3.0, None]
>>> fig.render()                    # nothing changed: nothing sent
False
>>> clicks = []
>>> fig.on("click", lambda event: clicks.append((event["x"], event["y"])))
>>> fig.dispatch({"event": "click", "x": 2.0, "y": 1.5})   # what a click in the page sends
>>> clicks
[(2.0, 1.5)]
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy as np
import traitlets as t

from .canvas_js import ESM

__all__ = ["CanvasFigure", "CanvasFill", "CanvasLines", "CanvasScatter", "Scale", "EVENTS"]

#: what the page sends (``{"event": name, ...}``) and what `CanvasFigure.on` accepts
EVENTS = ("click", "drag", "svg", "reset_view")


class Scale:
    """``min``/``max`` of one axis (``log`` or linear, ``reverse``: values growing to the left).

    Where ``min`` or ``max`` is None the data decide, widened by ``pad`` (a fraction of the span; of the
    decades on a log axis). ``hold_sync()`` is a no-op (code written for widget traits runs unchanged).
    """

    def __init__(self, log: bool = False, min=None, max=None, reverse: bool = False, pad: float = 0.0):
        self.log, self.min, self.max, self.reverse, self.pad = bool(log), min, max, bool(reverse), float(pad)

    def hold_sync(self):
        return contextlib.nullcontext()


#: mark options sent only when they differ from these (keeps the common message small)
_OPTIONAL = {"opacity": 1.0, "selected": None, "selected_color": "#ffee58", "pickable": False, "draggable": False,
             "live": False, "name": ""}


class _Mark:
    kind = "lines"

    def __init__(self, color: str = "#1f77b4", width: float = 1.0, dash: bool = False, size: float = 3.0,
                 marker: str = "circle", **options):
        unknown = set(options) - set(_OPTIONAL)
        if unknown:
            raise TypeError(f"{type(self).__name__}: unknown option(s) {sorted(unknown)} "
                            f"(known: {sorted(_OPTIONAL)})")
        self.__dict__.update(color=color, width=float(width), dash=bool(dash), size=float(size), marker=marker,
                             x=np.zeros(0), y=np.zeros(0), figure=None, **{**_OPTIONAL, **options})

    def __setattr__(self, name, value):
        if name in ("x", "y"):
            value = np.asarray(value, float)
        self.__dict__[name] = value
        fig = self.__dict__.get("figure")
        if fig is not None:
            fig._dirty = True

    def hold_sync(self):
        return contextlib.nullcontext()

    def to_json(self) -> dict:
        def clean(a):
            a = np.asarray(a, float).ravel()
            return [float(v) if np.isfinite(v) else None for v in a]

        out = {"kind": self.kind, "x": clean(self.x), "y": clean(self.y), "color": self.color, "width": self.width,
               "dash": self.dash, "size": self.size, "marker": self.marker}
        for key, default in _OPTIONAL.items():
            value = self.__dict__[key]
            if value != default:
                out[key] = [int(i) for i in value] if key == "selected" else value
        return out


class CanvasLines(_Mark):
    """A polyline (non-finite points break it)."""

    kind = "lines"


class CanvasScatter(_Mark):
    """Points (``marker`` "circle", "square", "cross", "triangle-down" or "handle", radius ``size`` px).

    ``selected`` indices are drawn in ``selected_color``; ``pickable`` points are named in click events,
    ``draggable`` ones can be dragged (``live``: drag events also while moving).
    """

    kind = "points"


class CanvasFill(_Mark):
    """Filled polygon(s) (non-finite points separate them), drawn with ``opacity``."""

    kind = "fill"


def _widget_base():
    import anywidget

    return anywidget.AnyWidget


class CanvasFigure(_widget_base()):
    """One canvas: an optional image, the marks in order, then axes with ticks and labels (see the module doc).

    Parameters
    ----------
    marks : list of CanvasLines, CanvasScatter or CanvasFill
    x_scale, y_scale : Scale
        Axis types and home ranges (None: the data decide).
    x_label, y_label : str
    height, width : int
        Canvas size [CSS px].
    css : str, optional
        A CSS class for the page (tests find the figure by it).
    zoom : bool
        Wheel zoom and drag pan, with a *reset view* button.
    name : str
        File name (without suffix) of the images the buttons download.
    """

    _esm = ESM
    width = t.Int(560).tag(sync=True)
    height = t.Int(280).tag(sync=True)
    x_log = t.Bool(False).tag(sync=True)
    y_log = t.Bool(False).tag(sync=True)
    x_reverse = t.Bool(False).tag(sync=True)
    #: the range shown (the page changes it when zoomed or panned)
    x_range = t.List([1.0, 10.0]).tag(sync=True)
    y_range = t.List([1.0, 10.0]).tag(sync=True)
    x_label = t.Unicode("").tag(sync=True)
    y_label = t.Unicode("").tag(sync=True)
    series = t.List().tag(sync=True)
    #: PNG bytes drawn under the marks over ``image_extent`` = [x of column 0's edge, x of the last column's
    #: far edge, y of the bottom edge, y of the top edge] (data coordinates)
    image = t.Bytes(b"").tag(sync=True)
    image_extent = t.List([]).tag(sync=True)
    zoom = t.Bool(False).tag(sync=True)
    #: one data unit is as many px on x as on y (the sky): the page widens one axis's range about its centre
    equal_aspect = t.Bool(False).tag(sync=True)
    name = t.Unicode("figure").tag(sync=True)
    #: bumped with every render; the page writes it into ``data-drawn`` once drawn
    version = t.Int(0).tag(sync=True)

    def __init__(self, marks, x_scale: Scale, y_scale: Scale, x_label="", y_label="", height=260, width=520,
                 css=None, zoom: bool = False, name: str | None = None, **kwargs):
        super().__init__(width=int(width), height=int(height), x_label=x_label, y_label=y_label,
                         x_log=x_scale.log, y_log=y_scale.log, x_reverse=x_scale.reverse, zoom=bool(zoom),
                         name=name or (css or "figure").removeprefix("gw-").removesuffix("-figure"), **kwargs)
        self.marks, self.x_scale, self.y_scale = list(marks), x_scale, y_scale
        for mark in self.marks:
            mark.__dict__["figure"] = self
        self._home = self._ranges()
        self.x_range, self.y_range = self._home
        self._dirty = True
        self._handlers: dict[str, list[Callable]] = {name: [] for name in EVENTS}
        self._handlers["svg"].append(self._send_svg)
        self._handlers["reset_view"].append(lambda _: self.reset_view())
        self.on_msg(lambda _, content, buffers: self.dispatch(content))
        if css:
            self.add_class(css)

    # ---------------------------------------------------------------- data
    def _ranges(self):
        def rng(scale, axis):
            lo, hi = scale.min, scale.max
            if lo is None or hi is None:  # the data decide (not looked at when the range is fixed: the hot path)
                values = np.concatenate([getattr(m, axis).ravel() for m in self.marks] or [np.zeros(0)])
                finite = values[np.isfinite(values) & ((values > 0) if scale.log else True)]
                dlo = float(finite.min()) if finite.size else (1.0 if scale.log else 0.0)
                dhi = float(finite.max()) if finite.size else (10.0 if scale.log else 1.0)
                if scale.pad and finite.size and dhi > dlo:
                    if scale.log:
                        widen = (dhi / dlo) ** scale.pad
                        dlo, dhi = dlo / widen, dhi * widen
                    else:
                        widen = (dhi - dlo) * scale.pad
                        dlo, dhi = dlo - widen, dhi + widen
                lo = dlo if lo is None else lo
                hi = dhi if hi is None else hi
            if scale.log and not lo > 0:
                lo = hi * 1e-3 if hi > 0 else 1.0
            if not hi > lo:
                hi = lo * 10 if scale.log else lo + 1
            return [float(lo), float(hi)]

        return rng(self.x_scale, "x"), rng(self.y_scale, "y")

    def render(self, force: bool = False) -> bool:
        """Send every mark in one message if anything changed (or ``force``); returns whether it sent.

        A new home range (the scales' ``min``/``max``, or the data's extent) resets zoom and pan.
        """
        home = self._ranges()
        if not (force or self._dirty or home != self._home):
            return False
        with self.hold_sync():
            if home != self._home or force:
                self._home = home
                self.x_range, self.y_range = home
            self.series = [m.to_json() for m in self.marks]
            self.version += 1
        self._dirty = False
        return True

    def add_marks(self, *marks) -> None:
        """Draw ``marks`` above the others (sent with the next `render`)."""
        for mark in marks:
            mark.__dict__["figure"] = self
            self.marks.append(mark)
        self._dirty = True

    def set_image(self, png: bytes, extent) -> None:
        """Draw ``png`` (PNG bytes) under the marks over ``extent`` (see ``image_extent``)."""
        if png and not bytes(png[:8]) == b"\x89PNG\r\n\x1a\n":
            raise ValueError("CanvasFigure.set_image: the image must be PNG bytes")
        with self.hold_sync():
            self.image = bytes(png)
            self.image_extent = [float(v) for v in extent]

    def reset_view(self) -> None:
        """Back to the home range (what the page's ⟲ button does)."""
        with self.hold_sync():
            self.x_range, self.y_range = self._home
        # sent even when unchanged here: the page may hold a zoom it has not synced yet
        self.send_state(["x_range", "y_range"])

    # ---------------------------------------------------------------- events
    def on(self, event: str, callback: Callable[[dict], None]) -> None:
        """Call ``callback(content)`` for each ``event`` (one of `EVENTS`) the page sends.

        ``click``: ``x``, ``y`` (data), ``mark``/``index`` of the pickable point hit (or None), ``shift``;
        ``drag``: ``mark``, ``index``, ``x``, ``y``, ``final`` (False while moving a ``live`` point).
        """
        if event not in self._handlers:
            raise ValueError(f"CanvasFigure.on: unknown event {event!r} (known: {', '.join(EVENTS)})")
        self._handlers[event].append(callback)

    def dispatch(self, content: dict) -> None:
        """Handle one message from the page (also what tests and scripts call to act like the mouse)."""
        content = dict(content or {})
        if content.get("mark") is not None:
            content["mark"] = self.marks[int(content["mark"])]
        for callback in self._handlers.get(content.get("event"), []):
            callback(content)

    # ---------------------------------------------------------------- images
    def _send_svg(self, _):
        self.send({"kind": "svg", "name": f"{self.name}.svg", "text": self.to_svg()})

    def to_svg(self) -> str:
        """The figure as SVG text (matplotlib, the same data, ranges and labels)."""
        from .save_image import figure_svg

        return figure_svg(self)

    def save(self, path):
        """Write the figure to ``path`` (.png, .svg or .pdf: matplotlib, the canvas's size in px at 100 dpi).

        Returns
        -------
        pathlib.Path
            The path written.
        """
        from .save_image import save_figure

        return save_figure(self, path)
