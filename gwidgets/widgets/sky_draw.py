"""Draw circles on a bqplot sky image with two clicks (centre, then a point on the edge).

Why clicks and not a click-drag: in bqplot 0.13 the `BrushSelector` draws its
rectangle in the browser but never sends ``selected_x`` / ``selected_y`` back
to Python for real (CDP/Playwright) mouse input, and on an `Image` mark the
image covers the brush overlay anyway. A click on a `bqplot.Image` mark,
however, is sent to Python with data coordinates
(``{"event": "element_click", "data": {"click_x": x, "click_y": y}}``), with
no extra package. So:

1. the first click on the image sets the centre (a marker shows it);
2. the second click sets the radius (distance to the centre) and calls
   ``on_circle(x, y, radius)`` in the image's display coordinates.

A third click starts a new circle; `cancel()` forgets a pending centre.
Clicks on marks drawn above the image (region outlines, pointing markers) are
not seen: click next to them.

Wiring it into `SkyView` (the view keeps its display ↔ sky transforms)::

    drawer = CircleClickDrawer(sky.image, on_circle=sky.draw_circle, figure=sky.figure)
    sky.mode.observe(lambda ch: setattr(drawer, "enabled", ch["new"] != "select pointings"), "value")

and `SkyView._on_mode` must then stop putting the brush back as ``figure.interaction``:
the brush's overlay rectangle lies above the image and swallows the clicks.
"""
from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["CircleClickDrawer"]


class CircleClickDrawer:
    """Two-click circle drawing on a `bqplot.Image` mark.

    Parameters
    ----------
    image : bqplot.Image
        The mark that receives the clicks (its scales define the coordinates).
    on_circle : callable
        ``on_circle(x, y, radius)`` in the image's data coordinates.
    figure : bqplot.Figure, optional
        If given, a marker for the pending centre is added to its marks.
    color : str
        Colour of the centre marker.
    clear_interaction : bool
        Remove the figure's interaction (``figure.interaction = None``). A
        selector's overlay (e.g. `BrushSelector`) lies above the marks and
        would swallow the clicks.
    """

    def __init__(self, image, on_circle: Callable[[float, float, float], None], figure=None, color: str = "#00e676",
                 clear_interaction: bool = True):
        self.image = image
        self.on_circle = on_circle
        self.enabled = True
        self.center: tuple[float, float] | None = None
        self.marker = None
        if figure is not None:
            import bqplot as bq

            if clear_interaction:
                figure.interaction = None

            self.marker = bq.Scatter(x=[], y=[], scales=dict(image.scales), colors=[color], default_size=60,
                                     marker="cross", stroke="black")
            figure.marks = [*figure.marks, self.marker]
        image.on_element_click(self._on_element_click)

    # ------------------------------------------------------------ events
    def _on_element_click(self, mark, event):
        data = (event or {}).get("data") or {}
        x, y = data.get("click_x"), data.get("click_y")
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
        if self.marker is None:
            return
        with self.marker.hold_sync():
            if self.center is None:
                self.marker.x, self.marker.y = [], []
            else:
                self.marker.x, self.marker.y = [self.center[0]], [self.center[1]]
