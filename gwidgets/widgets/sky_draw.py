"""Draw circles on a sky figure with two clicks (centre, then a point on the edge).

A drag on the sky view pans it (and a drag on the ON centre moves the region),
so drawing is done with clicks — a press and release without moving:

1. the first click sets the centre (a cross marks it);
2. the second click sets the radius (distance to the centre) and calls
   ``on_circle(x, y, radius)`` in the figure's data coordinates.

A third click starts a new circle; `cancel()` forgets a pending centre.
Clicks reach the drawer through ``figure.on("click", ...)`` of a
`~gwidgets.widgets.canvas_plot.CanvasFigure`, with data coordinates computed
in the page from the range shown (zoom and pan included).

>>> from gwidgets.widgets.canvas_plot import CanvasFigure, Scale
>>> fig = CanvasFigure([], Scale(), Scale())
>>> circles = []
>>> drawer = CircleClickDrawer(fig, on_circle=lambda *c: circles.append(c))
>>> fig.dispatch({"event": "click", "x": 1.0, "y": 2.0})
>>> fig.dispatch({"event": "click", "x": 4.0, "y": 6.0})
>>> circles
[(1.0, 2.0, 5.0)]
"""
from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["CircleClickDrawer"]


class CircleClickDrawer:
    """Two-click circle drawing on a `CanvasFigure`.

    Parameters
    ----------
    figure : CanvasFigure
        The figure whose clicks draw (its data coordinates define the circle).
    on_circle : callable
        ``on_circle(x, y, radius)`` in data coordinates.
    color : str
        Colour of the pending centre's cross.
    """

    def __init__(self, figure, on_circle: Callable[[float, float, float], None], color: str = "#00e676"):
        from .canvas_plot import CanvasScatter

        self.figure = figure
        self.on_circle = on_circle
        self.enabled = True
        self.center: tuple[float, float] | None = None
        self.marker = CanvasScatter(color=color, size=7, marker="cross", name="pending-centre")
        figure.add_marks(self.marker)
        figure.on("click", self._on_click)

    def _on_click(self, event: dict):
        x, y = event.get("x"), event.get("y")
        if x is None or y is None:
            return
        self.click(float(x), float(y))

    def click(self, x: float, y: float):
        """What a click at data coordinates ``(x, y)`` does (also for scripts and tests)."""
        if not self.enabled or not (math.isfinite(x) and math.isfinite(y)):
            return
        if self.center is None:
            self.center = (x, y)
            self._show_center()
            return
        cx, cy = self.center
        self.cancel()
        radius = math.hypot(x - cx, y - cy)
        if radius > 0:
            self.on_circle(cx, cy, radius)

    def cancel(self):
        """Forget a pending centre."""
        self.center = None
        self._show_center()

    def _show_center(self):
        if self.center is None:
            self.marker.x, self.marker.y = [], []
        else:
            self.marker.x, self.marker.y = [self.center[0]], [self.center[1]]
        self.figure.render()
