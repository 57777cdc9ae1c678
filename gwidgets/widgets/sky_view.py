"""SkyView: the counts map of the selection, pointings, ON / OFF / exclusion regions; draw by mouse.

Display coordinates are the map's projection plane scaled to degrees around
the map centre (longitude increasing to the left, as on the sky). The view is
one canvas (`CanvasFigure`: no bqplot): the mouse wheel zooms, a drag pans,
⟲ resets the view. Two clicks draw a circle — the ON region or an exclusion
region, depending on the mode (centre, then a point on the edge:
`CircleClickDrawer`); the ON centre handle can be dragged to move it and the
radius box resizes it; in "select pointings" mode a click on a pointing selects
it (shift-click adds or removes it). Reflected OFF regions are drawn as soon as
an ON region exists (from ``session.off_regions``). *PNG* / *SVG* save the
figure; from Python ``sky.save("sky.png")`` or ``sky.to_svg()``.
"""
from __future__ import annotations

import astropy.units as u
import ipywidgets as w
import numpy as np
from astropy.coordinates import SkyCoord

from .base import SessionView
from .canvas_plot import CanvasFigure, CanvasLines, CanvasScatter, Scale
from .png import colormap_rgba, png_bytes
from .save_image import SaveImageMixin

__all__ = ["SkyView"]


def _png(image: np.ndarray, stretch: str = "sqrt") -> bytes:
    """A 2D array as PNG bytes with a perceptual colour map (north up); no matplotlib (~15 MiB per kernel)."""
    data = np.asarray(image, dtype=float)
    finite = np.isfinite(data)
    lo = np.nanmin(data[finite]) if finite.any() else 0.0
    hi = np.nanpercentile(data[finite], 99.5) if finite.any() else 1.0
    norm = np.clip((data - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
    if stretch == "sqrt":
        norm = np.sqrt(norm)
    return png_bytes(colormap_rgba(norm)[::-1])  # matplotlib's magma, bit for bit


#: degrees kept around each pointing when the axes fit the pointings (before the counts map exists)
POINTING_MARGIN = 0.5


def _circle_xy(center_xy, radius, n=64):
    t = np.linspace(0, 2 * np.pi, n)
    return center_xy[0] + radius * np.cos(t), center_xy[1] + radius * np.sin(t)


def _broken(lines) -> tuple[np.ndarray, np.ndarray]:
    """Several polylines as one, each followed by a NaN (a break)."""
    xs, ys = lines
    if not xs:
        return np.zeros(0), np.zeros(0)
    nan = np.array([np.nan])
    return (np.concatenate([np.concatenate([np.asarray(x, float), nan]) for x in xs]),
            np.concatenate([np.concatenate([np.asarray(y, float), nan]) for y in ys]))


class SkyView(SaveImageMixin, SessionView):
    """Sky image + regions, bound to an `AnalysisSession`."""

    def __init__(self, session, size: int = 520, **kwargs):
        from .sky_draw import CircleClickDrawer

        self.sx = Scale(reverse=True)
        self.sy = Scale()
        self.pointings = CanvasScatter(color="#4fc3f7", size=6, marker="cross", pickable=True, name="pointings")
        self.off_lines = CanvasLines(color="#ffffff", width=1, dash=True, name="off-regions")
        self.excl_lines = CanvasLines(color="#ff5252", width=2, name="exclusion-regions")
        self.on_line = CanvasLines(color="#00e676", width=2, name="on-region")
        self.handle = CanvasScatter(color="#00e676", size=7, marker="handle", draggable=True, name="on-centre")
        self.figure = CanvasFigure([self.pointings, self.off_lines, self.excl_lines, self.on_line, self.handle],
                                   self.sx, self.sy, "RA / l [deg]", "Dec / b [deg]", height=size, width=size,
                                   css="gw-sky-figure", zoom=True, name="sky", equal_aspect=True)
        self.mode = w.ToggleButtons(options=["draw ON", "draw exclusion", "select pointings"], value="draw ON")
        self.mode.add_class("gw-sky-mode")
        self.radius = w.BoundedFloatText(value=0.11, min=0.01, max=5, step=0.01, description="ON radius [°]",
                                         style={"description_width": "initial"}, layout=w.Layout(width="180px"))
        self.radius.add_class("gw-on-radius")
        self.clear_excl = w.Button(description="Clear exclusions", icon="trash")
        self.containment = w.HTML()  # what the extraction did about the PSF containment of the ON region
        self.containment.add_class("gw-containment")
        self.info = w.HTML()
        self.info.add_class("gw-sky-info")
        self._geom = None
        self._drawing = False
        self._obs_ids: list[int] = []

        # two clicks (centre, then edge) draw a circle; a drag pans the view or moves the ON centre
        self.drawer = CircleClickDrawer(self.figure, on_circle=self.draw_circle)
        self.figure.on("click", self._on_click)
        self.figure.on("drag", self._on_drag)
        self.mode.observe(self._on_mode, "value")
        self.radius.observe(self._on_radius, "value")
        self.clear_excl.on_click(lambda _: self.clear_exclusions())
        super().__init__(session, [w.HBox([self.mode, self.radius, self.containment, self.clear_excl]), self.figure,
                                   self.info], **kwargs)
        self.watch(session, self._draw_map, "counts_map")
        self.watch(session, self._draw_regions, ["on_region", "exclusion_regions", "off_regions"])
        self.watch(session, self._draw_pointings, "selection")
        self.watch(session, self._show_containment, "spectra")
        self._show_containment()
        self._draw_pointings()
        self._draw_map()
        self._draw_regions()

    # ----------------------------------------------------------- geometry
    def _to_xy(self, coords: SkyCoord):
        """Sky → display coordinates (deg in the map's projection plane)."""
        g = self._geom
        if g is None:
            c = coords.icrs
            return np.asarray(c.ra.deg), np.asarray(c.dec.deg)
        x, y = g.wcs.world_to_pixel(coords)
        crval = g.wcs.wcs.crval
        crpix = g.wcs.wcs.crpix
        cdelt = g.wcs.wcs.cdelt
        return (crval[0] + (np.asarray(x) - (crpix[0] - 1)) * cdelt[0],
                crval[1] + (np.asarray(y) - (crpix[1] - 1)) * cdelt[1])

    def _to_sky(self, x, y) -> SkyCoord:
        g = self._geom
        if g is None:
            return SkyCoord(x, y, unit="deg")
        crval, crpix, cdelt = g.wcs.wcs.crval, g.wcs.wcs.crpix, g.wcs.wcs.cdelt
        px = (np.asarray(x) - crval[0]) / cdelt[0] + (crpix[0] - 1)
        py = (np.asarray(y) - crval[1]) / cdelt[1] + (crpix[1] - 1)
        return g.wcs.pixel_to_world(px, py)

    # ------------------------------------------------------------ drawing
    def _draw_map(self, *_):
        m = self.session.counts_map
        if m is None:
            return
        self._geom = m.geom
        image = m.data.sum(axis=tuple(range(m.data.ndim - 2))) if m.data.ndim > 2 else m.data
        nx, ny = m.geom.npix
        x0, y0 = self._to_xy(m.geom.wcs.pixel_to_world(-0.5, -0.5))
        x1, y1 = self._to_xy(m.geom.wcs.pixel_to_world(nx - 0.5, ny - 0.5))
        with self.figure.hold_sync():
            self.figure.set_image(_png(image), [float(x0), float(x1), float(y0), float(y1)])
            self.sx.min, self.sx.max = float(min(x0, x1)), float(max(x0, x1))
            self.sy.min, self.sy.max = float(min(y0, y1)), float(max(y0, y1))
            self.figure.render()
        self.info.value = f"{int(image.sum())} counts in the map ({m.geom.frame}, {m.geom.binsz:g}°/pixel)"
        self._draw_pointings()
        self._draw_regions()

    def _draw_pointings(self, *_):
        table = self.session.store.obs_table
        self._obs_ids = [int(x) for x in table["OBS_ID"]]
        x, y = self._to_xy(table.pointing_radec)
        sel = set(self.session.selection)
        self.pointings.x, self.pointings.y = x, y
        self.pointings.selected = [i for i, oid in enumerate(self._obs_ids) if oid in sel] or None
        self._fit_scales()
        self.figure.render()

    def sky_extent(self) -> tuple[float, float, float, float]:
        """``(x_min, x_max, y_min, y_max)`` the axes show before the counts map exists (display degrees).

        A square that holds the selected pointings (all of them without a selection) with
        `POINTING_MARGIN` around each, the ON and exclusion regions, and the map the session
        will make (``map_settings["width"]`` around the ON centre when there is one).
        """
        s = self.session
        table = s.store.obs_table
        pnt = table.pointing_radec
        if s.selection:
            keep = np.isin(np.asarray(table["OBS_ID"]), list(s.selection))
            pnt = pnt[keep] if keep.any() else pnt
        px, py = (np.atleast_1d(np.asarray(a, float)) for a in self._to_xy(pnt))
        xs = [px - POINTING_MARGIN, px + POINTING_MARGIN]
        ys = [py - POINTING_MARGIN, py + POINTING_MARGIN]
        regions = ([s.on_region] if s.on_region is not None else []) + list(s.exclusion_regions)
        for lx, ly in zip(*self._region_lines(regions)):
            xs.append(np.asarray(lx, float))
            ys.append(np.asarray(ly, float))
        if s.on_region is not None and hasattr(s.on_region, "center"):
            cx, cy = (float(v) for v in self._to_xy(s.on_region.center))
            half = float(s.map_settings.get("width", 0)) / 2
            xs.append(np.array([cx - half, cx + half]))
            ys.append(np.array([cy - half, cy + half]))
        x, y = np.concatenate(xs), np.concatenate(ys)
        x, y = x[np.isfinite(x)], y[np.isfinite(y)]
        if not x.size or not y.size:
            return 0.0, 360.0, -90.0, 90.0
        half = max(x.max() - x.min(), y.max() - y.min()) / 2
        cx, cy = (x.max() + x.min()) / 2, (y.max() + y.min()) / 2
        return float(cx - half), float(cx + half), float(cy - half), float(cy + half)

    def _fit_scales(self):
        """Before the counts map: axes around the pointings and regions (the map's extent once it exists)."""
        if self._geom is not None:
            return
        x0, x1, y0, y1 = self.sky_extent()
        self.sx.min, self.sx.max = x0, x1
        self.sy.min, self.sy.max = y0, y1

    def _region_lines(self, regions):
        xs, ys = [], []
        for reg in regions:
            if hasattr(reg, "radius"):
                cx, cy = self._to_xy(reg.center)
                lx, ly = _circle_xy((float(cx), float(cy)), reg.radius.to_value("deg"))
            else:
                verts = reg.to_polygon().vertices if hasattr(reg, "to_polygon") else getattr(reg, "vertices", None)
                if verts is None:
                    continue
                lx, ly = self._to_xy(verts)
                lx, ly = np.append(lx, lx[0]), np.append(ly, ly[0])
            xs.append(lx)
            ys.append(ly)
        return xs, ys

    def _draw_regions(self, *_):
        s = self.session
        self._drawing = True
        try:
            self._draw_regions_now(s)
        finally:
            self._drawing = False

    def _draw_regions_now(self, s):
        if s.on_region is not None:
            self.on_line.x, self.on_line.y = _broken(self._region_lines([s.on_region]))
            cx, cy = self._to_xy(s.on_region.center)
            self.handle.x, self.handle.y = [float(cx)], [float(cy)]
        else:
            self.on_line.x, self.on_line.y = [], []
            self.handle.x, self.handle.y = [], []
        offs = [r for res in (s.off_regions or {}).values() for r in res.regions]
        self.off_lines.x, self.off_lines.y = _broken(self._region_lines(offs))
        self.excl_lines.x, self.excl_lines.y = _broken(self._region_lines(s.exclusion_regions))
        self._fit_scales()
        self.figure.render()
        n_off = {k: len(v.regions) for k, v in (s.off_regions or {}).items()}
        if n_off:
            reasons = [v.reason for v in s.off_regions.values() if v.reason]
            self.info.value = ("ON region set; OFF regions per observation: "
                               + ", ".join(f"{k}: {v}" for k, v in list(n_off.items())[:8])
                               + (f" — {reasons[0]}" if reasons else ""))

    def _show_containment(self, *_):
        import html

        text = html.escape(self.session.containment_status(), quote=True)
        self.containment.value = f"<small title=\"{text}\">{text}</small>" if text else ""

    # ------------------------------------------------------------ interaction
    def clear_exclusions(self):
        """What *Clear exclusions* does."""
        with self.action("Clear exclusions"):
            self.session.exclusion_regions = []

    def _on_mode(self, change):
        self.drawer.cancel()
        self.drawer.enabled = change["new"] != "select pointings"
        self.drawer.marker.color = "#ff5252" if change["new"] == "draw exclusion" else "#00e676"

    def draw_circle(self, x, y, radius):
        """Create a circle at display coordinates (what a click-drag does)."""
        from regions import CircleSkyRegion

        if radius <= 0:
            return
        center = self._to_sky(x, y)
        region = CircleSkyRegion(center, radius * u.deg)
        with self.action("Draw a region"):
            if self.mode.value == "draw exclusion":
                self.session.add_exclusion(region)
            else:
                self.radius.value = round(float(radius), 4)
                self.session.set_on_region(region)

    def _on_drag(self, event):
        """The ON centre dragged in the page (``final``: the mouse was released) moves the ON region."""
        if event.get("mark") is not self.handle or not event.get("final", True):
            return
        self.move_on_region(float(event["x"]), float(event["y"]))

    def move_on_region(self, x, y):
        """Move the ON region's centre to display coordinates ``(x, y)`` (what dragging its handle does)."""
        if self._drawing or self.session.on_region is None:
            return
        from regions import CircleSkyRegion

        center = self._to_sky(x, y)
        if center.separation(self.session.on_region.center) > 1e-6 * u.deg:
            with self.action("Move the ON region"):
                self.session.set_on_region(CircleSkyRegion(center, self.session.on_region.radius))
        else:
            self.figure.render(force=True)  # put the handle back where the region is

    def _on_radius(self, change):
        on = self.session.on_region
        if on is None or not hasattr(on, "radius"):
            return
        from regions import CircleSkyRegion

        if abs(on.radius.to_value("deg") - change["new"]) > 1e-9:
            with self.action("ON radius"):
                self.session.set_on_region(CircleSkyRegion(on.center, change["new"] * u.deg))

    def _on_click(self, event):
        """In "select pointings" mode a click on a pointing selects its observation (shift: adds / removes it)."""
        if self.mode.value != "select pointings" or event.get("mark") is not self.pointings:
            return
        oid = self._obs_ids[int(event["index"])]
        current = list(self.session.selection)
        if event.get("shift"):
            ids = [i for i in current if i != oid] if oid in current else [*current, oid]
        else:
            ids = [oid]
        if sorted(ids) != sorted(current):
            with self.action("Select pointings"):
                self.session.select(ids)
