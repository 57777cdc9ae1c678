"""MapView: live 3D residual maps with draggable sources, a region spectrum and a live fit.

A view over a `~gwidgets.state.map_session.MapSession`:

* the sky image (`SkyCanvas`): residual significance (counts − npred)/√npred
  after smoothing, or counts, or npred, of the dataset shown; every sky model
  with a position has a handle (drag it: ``lon_0``/``lat_0`` move) and
  extended ones a size handle (sigma / r_0 / radius); the dashed circle is the
  region whose spectrum is drawn below (drag its centre or its edge);
* the spectrum of that region (counts, npred, background) and its residuals,
  on two canvas panels;
* **Fit** / **Stop**: the fit runs in the session's worker; the maps follow it
  (``session.fit_progress``, throttled), Stop keeps the best point;
* a `ModelEditor` over the same session (sliders for every parameter);
* *PNG* / *SVG* buttons over the map: the map drawn by matplotlib in the kernel
  (`~gwidgets.widgets.map_figure`: WCS axes in degrees, colorbar, the model
  markers and the region) from the very colour indices the page shows; from
  Python ``view.save("map.png")``, ``view.to_svg()``, ``view.to_png()``;
* **Build 3D dataset** (when the session follows an `AnalysisSession`):
  reduces the runs selected there, stacked or also per observation.

Every redraw is coalesced (`Coalescer`): a burst of drags or slider moves
gives one new image, always of the latest state.

Two runs of the simulated example store reduced to a map dataset around its bright source:

>>> import astropy.units as u
>>> from astropy.coordinates import SkyCoord
>>> import gwidgets as gw
>>> from gwidgets.core.geom import MapAxis, WcsGeom
>>> from gwidgets.core.reduction import MapDatasetMaker
>>> from gwidgets.state.map_session import MapSession
>>> observations = gw.example_store().get_observations([1001, 1002])
>>> geom = WcsGeom.create(SkyCoord(83.63, 22.01, unit="deg"), binsz=0.04, width=2 * u.deg,
...                       axes=[MapAxis.from_energy_bounds(1 * u.TeV, 10 * u.TeV, 4)])
>>> energy_axis_true = MapAxis.from_energy_bounds(0.5 * u.TeV, 20 * u.TeV, 8, name="energy_true")
>>> dataset = MapDatasetMaker(geom, energy_axis_true, offset_max="2.5 deg").run_stacked(observations)
>>> view = MapView(MapSession(dataset, background=False))
>>> "RA [deg]" in view.to_svg()
True
"""
from __future__ import annotations

import html

import ipywidgets as w
import numpy as np
from astropy.coordinates import SkyCoord

from ..errors import GwidgetsError
from ..state.map_session import size_parameter
from .base import SessionView
from .canvas_plot import CanvasFigure, CanvasLines, CanvasScatter, Scale
from .download_buttons import SaveButtons
from .map_figure import map_png, map_svg, render_map, save_map
from .sky_canvas import SkyCanvas

__all__ = ["MapView", "LAYERS"]

COLORS = ["#000000", "#7b1fa2", "#00796b", "#e65100", "#1565c0"]
#: layer -> (image key, palette, stretch)
LAYERS = {"significance": ("significance", "diverging", "linear"), "counts": ("counts_smooth", "sequential", "sqrt"),
          "npred": ("npred_smooth", "sequential", "sqrt")}
#: colour range of the significance image
SIG_RANGE = 5.0
#: layer -> colorbar label of a saved map
LABELS = {"significance": "residual significance [σ]", "counts": "counts (smoothed)", "npred": "npred (smoothed)"}
REGION = "__region__"


class MapView(SessionView):
    """Live 3D maps bound to a `MapSession` (see the module docs).

    Parameters
    ----------
    session : MapSession
    scale : int
        Screen pixels per map pixel.
    editor : bool
        Include a `ModelEditor` over the session.
    show_errors : bool
        Show ``session.error`` in the view's own banner.
    """

    def __init__(self, session, scale: int = 3, editor: bool = True, show_errors: bool = True, **kwargs):
        self.n_draws = 0
        self.n_live_draws = 0
        self._pending_progress = None
        self._range_key = None
        self._seq = -1
        self.canvas = SkyCanvas(scale=scale)
        self.canvas.add_class("gw-map-canvas")
        self.layer = w.ToggleButtons(options=list(LAYERS), value="significance", style={"button_width": "95px"})
        self.layer.add_class("gw-map-layer")
        self.smooth = w.Dropdown(options=[("no smoothing", 0.0), ("0.05°", 0.05), ("0.1°", 0.1), ("0.2°", 0.2)],
                                 value=float(session.smooth_radius) if session.smooth_radius in (0.0, 0.05, 0.1, 0.2)
                                 else 0.1, description="smooth", layout=w.Layout(width="200px"))
        self.smooth.add_class("gw-map-smooth")
        self.dataset = w.Dropdown(options=[], description="dataset", layout=w.Layout(width="240px"))
        self.dataset.add_class("gw-map-dataset")
        self.fit_button = w.Button(description="Fit", icon="play", button_style="primary")
        self.fit_button.add_class("gw-map-fit")
        self.stop_button = w.Button(description="Stop", icon="stop", disabled=True)
        self.stop_button.add_class("gw-map-stop")
        self.build_button = w.Button(description="Build 3D dataset", icon="cubes",
                                     tooltip="reduce the selected runs to a stacked 3D dataset")
        self.build_button.add_class("gw-map-build")
        self.per_obs = w.Checkbox(value=False, description="also per observation", indent=False,
                                  layout=w.Layout(width="170px"))
        self.info = w.HTML()
        self.info.add_class("gw-map-info")
        self.status = w.HTML()
        self.status.add_class("gw-map-status")
        self.legend = w.HTML()
        self.legend.add_class("gw-map-legend")
        #: what the canvas shows: layer, lo, hi, stretch (for a saved figure's colorbar)
        self.shown: dict = {}
        self.save_buttons = SaveButtons("map", ("png", "svg"), tooltips={
            "png": "save the map as PNG (drawn by the kernel with matplotlib: WCS axes, colorbar, markers)",
            "svg": "save the map as SVG (drawn by the kernel with matplotlib)"})
        self.save_buttons.on_save(self._save_bytes)
        self._build_spectrum()
        following = getattr(session, "source", None) is not None
        top = [self.build_button, self.per_obs] if following else []
        controls = w.HBox([*top, self.dataset, self.fit_button, self.stop_button])
        view_controls = w.HBox([self.layer, self.smooth])
        right = w.VBox([w.HTML("<b>Region spectrum</b> <span style='color:#555'>(dashed circle)</span>"),
                        self.spectrum_figure, self.residual_figure])
        sky = w.VBox([self.save_buttons, self.canvas, self.legend])
        children = [controls, self.status, view_controls, w.HBox([sky, right]), self.info]
        self.editor = None
        if editor:
            from .model_editor import ModelEditor

            self.editor = ModelEditor(session)
            children.append(self.editor)
        super().__init__(session, children, show_errors=show_errors, **kwargs)
        self.add_class("gw-map-view")
        self._coalescer = self.coalescer(self._flush)
        self._details = self.coalescer(self._flush_details, delay=0.04)
        self._last_progress = None
        self.fit_button.on_click(lambda _: self.run_fit())
        self.stop_button.on_click(lambda _: self.session.stop_fit())
        self.build_button.on_click(lambda _: self.build())
        self.watch(self.canvas, self._on_drag, "drag")
        self.watch(self.layer, lambda _: self.redraw(), "value")
        self.watch(self.smooth, self._on_smooth, "value")
        self.watch(self.dataset, self._on_dataset_choice, "value")
        self.watch(session, self._on_datasets, ["datasets", "dataset_name"])
        self.watch(session, lambda _: self._coalescer.request(), ["model_version", "region", "smooth_radius"])
        self.watch(session, self._on_progress, "fit_progress")
        self.watch(session, self._on_fitting, "fitting")
        self.watch(session, self._on_status, ["status", "busy"])
        self._on_datasets()
        self._on_status()

    # ------------------------------------------------------------ panels
    def _build_spectrum(self):
        self.sx, self.sy, self.sr = Scale(log=True), Scale(log=True), Scale()
        self.counts_bars = CanvasLines(color="#444")
        self.counts = CanvasScatter(color="#444", size=3)
        self.npred = CanvasLines(color="#d62728", width=2)
        self.bkg = CanvasLines(color="#1f77b4", dash=True)
        self.zero = CanvasLines(color="#999", dash=True)
        self.res_bars = CanvasLines(color="#1f77b4")
        self.res = CanvasScatter(color="#1f77b4", size=3)
        self.spectrum_figure = CanvasFigure([self.bkg, self.counts_bars, self.counts, self.npred], self.sx, self.sy,
                                            "E [TeV]", "counts", 260, 420, "gw-map-spectrum")
        self.residual_figure = CanvasFigure([self.zero, self.res_bars, self.res], self.sx, self.sr, "E [TeV]",
                                            "counts − npred", 180, 420, "gw-map-residuals")

    # ------------------------------------------------------------ actions
    def run_fit(self):
        """What the Fit button does (errors are shown in the page)."""
        with self.action("Fit", clear=True):
            self.session.fit()

    def build(self):
        """What the Build button does: reduce the selected runs of the followed analysis session."""
        with self.action("Build 3D dataset", clear=True):
            self.session.build_selected(per_observation=self.per_obs.value)

    # ------------------------------------------------------------ saving
    def _figure_args(self):
        if not self.shown and self.session.dataset is not None:  # not drawn yet (a script): draw it now
            self._coalescer.flush_now()
        if self.session.geom is None or not self.shown:
            raise GwidgetsError("No map to save yet: build or load a 3D dataset first")
        sh = self.shown
        return self.canvas, self.session.geom.wcs, sh["lo"], sh["hi"], sh["stretch"], LABELS[sh["layer"]]

    def figure(self):
        """The map as shown, as a `matplotlib.figure.Figure` (see `~gwidgets.widgets.map_figure.render_map`)."""
        return render_map(*self._figure_args())

    def save(self, path):
        """Write the map as shown to ``path`` (.png, .svg or .pdf; see `~gwidgets.widgets.map_figure.save_map`).

        Parameters
        ----------
        path : str or Path
            Where to write; the suffix picks the format.

        Returns
        -------
        pathlib.Path
            ``path``.

        Raises
        ------
        GwidgetsError
            Before any dataset (no map to save).
        ValueError
            For another suffix.
        """
        canvas, wcs, lo, hi, stretch, label = self._figure_args()
        return save_map(canvas, wcs, path, lo, hi, stretch, label)

    def to_svg(self) -> str:
        """The map as shown, as SVG text."""
        return map_svg(*self._figure_args())

    def to_png(self) -> bytes:
        """The map as shown, as PNG bytes."""
        return map_png(*self._figure_args())

    def _save_bytes(self, fmt):
        with self.action(f"Save the map as {fmt.upper()}"):
            return self.to_png() if fmt == "png" else self.to_svg().encode("utf-8")
        return None

    def _on_smooth(self, change):
        with self.action("Smoothing"):
            self.session.smooth_radius = float(change["new"])

    def _on_dataset_choice(self, change):
        if change["new"] and change["new"] != self.session.dataset_name:
            with self.action("Dataset"):
                self.session.show(change["new"])

    def _world(self, x, y):
        """(lon, lat) [deg] in the map frame of map pixel (x, y)."""
        lon, lat = self.session.geom.wcs.wcs_pix2world(np.array([[x, y]], float), 0)[0]
        return float(lon) % 360.0, float(lat)

    def _pixel(self, lon, lat, frame=None):
        geom = self.session.geom
        if frame is not None and frame != geom.frame:
            c = SkyCoord(lon, lat, unit="deg", frame=frame).transform_to(geom.frame).spherical
            lon, lat = c.lon.deg, c.lat.deg
        x, y = geom.wcs.wcs_world2pix(np.array([[lon, lat]], float), 0)[0]
        return float(x), float(y)

    def _on_drag(self, change):
        d = change["new"] or {}
        if not d or self.session.geom is None:
            return
        with self.action("Drag"):
            lon, lat = self._world(d["x"], d["y"])
            binsz = self.session.geom.binsz
            if d["name"] == REGION:
                r = self.session.region
                if d["what"] == "center":
                    self.session.set_region(lon, lat, r["radius"])
                else:
                    self.session.set_region(r["lon"], r["lat"], max(float(d["r"]) * binsz, binsz / 2))
                return
            model = self.session.sky_model(d["name"])
            sm = model.spatial_model
            if d["what"] == "center":
                frame = getattr(sm, "frame", self.session.geom.frame)
                if frame != self.session.geom.frame:
                    c = SkyCoord(lon, lat, unit="deg", frame=self.session.geom.frame).transform_to(frame).spherical
                    lon, lat = float(c.lon.deg), float(c.lat.deg)
                self.session.move(d["name"], lon, lat)
            else:
                self.session.set_size(d["name"], max(float(d["r"]) * binsz, 1e-3))

    # ------------------------------------------------------ session → view
    def _on_datasets(self, *_):
        names = list(self.session.datasets)
        if list(self.dataset.options) != names:
            self.dataset.options = names
        if self.session.dataset_name in names and self.dataset.value != self.session.dataset_name:
            self.dataset.value = self.session.dataset_name
        self._range_key = None
        self._coalescer.request()

    def _on_progress(self, change):
        self._pending_progress = change["new"]
        self._coalescer.request()

    def _on_fitting(self, change):
        running = bool(change["new"])
        self.fit_button.disabled = running
        self.stop_button.disabled = not running

    def _on_status(self, *_):
        busy = "⏳ " if self.session.busy else ""
        self.status.value = f"<span style='color:#555'>{busy}{html.escape(self.session.status)}</span>"

    def redraw(self):
        self._range_key = None
        self._coalescer.request()

    def flush(self):
        """Redraw now (scripts and tests; the page does it by itself)."""
        self._coalescer.flush_now()
        self._details.flush_now()

    # ------------------------------------------------------------ drawing
    def _flush(self):
        s = self.session
        progress, self._pending_progress = self._pending_progress, None
        if s.dataset is None:
            self.info.value = "<i>No 3D dataset yet: select runs, then <b>Build 3D dataset</b>.</i>"
            return
        live = progress is not None and not progress.get("final")
        if progress is not None:
            images = progress["images"]
        elif s.fitting:
            return  # the fit's callback brings the images
        else:
            try:
                images = s.images()
            except Exception as exc:  # shown in the page
                self.report(f"Cannot compute the maps: {type(exc).__name__}: {exc}")
                return
        with self.canvas.hold_sync():  # image and handles in one message
            self._draw_image(images)
            self.canvas.handles = self._handles()
        self.n_draws += 1
        self.n_live_draws += int(live)
        self._last_progress = progress
        if progress is not None and progress.get("final"):
            self._flush_details()
        else:  # the spectrum and the text follow a moment later: a drag's next image comes first
            self._details.request()

    def _flush_details(self):
        s = self.session
        if s.dataset is None:
            return
        progress = self._last_progress
        if not s.fitting or (progress is not None and progress.get("final")):
            with self.action("Region spectrum"):
                self._draw_spectrum(s.spectrum())
        self.info.value = self._info_html(progress)

    def _draw_image(self, images):
        key, palette, stretch = LAYERS[self.layer.value]
        values = images[key]
        if key == "significance":
            lo, hi = -SIG_RANGE, SIG_RANGE
        else:
            rkey = (self.session.dataset_name, key, self.session.smooth_radius)
            if rkey != self._range_key:  # fixed per dataset and layer: colours do not jump while dragging
                top = float(np.nanmax(images["counts_smooth"])) if np.isfinite(images["counts_smooth"]).any() else 1.0
                self._range = (0.0, top if top > 0 else 1.0)
                self._range_key = rkey
            lo, hi = self._range
        self.canvas.set_image(values, lo, hi, palette, stretch)
        self.shown = {"layer": self.layer.value, "lo": lo, "hi": hi, "stretch": stretch}
        self.legend.value = (f"<span style='color:#555'>{html.escape(self.layer.value)}: colours {lo:.3g} … {hi:.3g}"
                             f"{' (√ stretch)' if stretch == 'sqrt' else ''}; smoothing "
                             f"{self.session.smooth_radius:g}°</span>")

    def _handles(self):
        s = self.session
        out = []
        binsz = s.geom.binsz
        sky = [m for m in (s.models or []) if type(m).__name__ == "SkyModel"]
        for i, m in enumerate(sky):
            sm = m.spatial_model
            if sm is None or "lon_0" not in sm.parameters:
                continue
            x, y = self._pixel(sm.lon_0.value, sm.lat_0.value, getattr(sm, "frame", None))
            size = size_parameter(sm)
            r = float(size.quantity.to_value("deg")) / binsz if size is not None else 0.0
            out.append({"name": m.name, "x": x, "y": y, "r": r, "color": COLORS[i % len(COLORS)]})
        reg = s.region
        if reg:
            x, y = self._pixel(reg["lon"], reg["lat"])
            self.canvas.region = {"x": x, "y": y, "r": reg["radius"] / binsz}
        return out

    def _draw_spectrum(self, spec):
        e = spec["energy_edges"]
        x = np.sqrt(e[:-1] * e[1:])
        key = (self.session.dataset_name, id(self.session.dataset), tuple(sorted(self.session.region.items())))
        counts, npred, bkg = spec["counts"], spec["npred"], spec["background"]
        err = np.sqrt(np.maximum(counts, 1.0))
        if key != getattr(self, "_spec_key", None):
            self.sx.min, self.sx.max = float(e[0]), float(e[-1])
            top = float(np.nanmax(np.concatenate([counts + err, npred]))) if counts.size else 10.0
            pos = np.concatenate([counts[counts > 0], bkg[bkg > 0]])
            self.sy.min = max(float(pos.min()) * 0.3, top * 1e-5) if pos.size else 0.1
            self.sy.max = max(top * 2.0, self.sy.min * 10)
            self.zero.x, self.zero.y = [float(e[0]), float(e[-1])], [0.0, 0.0]
            self._spec_key = key
            self.sr.min, self.sr.max = -1.0, 1.0
        keep = counts > 0
        lo = np.maximum(counts - err, counts * 1e-3)
        nan = np.full(int(keep.sum()), np.nan)
        self.counts_bars.x = np.stack([x[keep], x[keep], nan], 1).ravel()
        self.counts_bars.y = np.stack([lo[keep], (counts + err)[keep], nan], 1).ravel()
        self.counts.x, self.counts.y = x[keep], counts[keep]
        self.npred.x, self.npred.y = x[npred > 0], npred[npred > 0]
        self.bkg.x, self.bkg.y = x[bkg > 0], bkg[bkg > 0]
        res = spec["residuals"]
        rerr = np.sqrt(np.maximum(npred, 1e-9))
        need = float(np.nanmax(np.abs(res) + rerr)) if res.size else 1.0
        if need > self.sr.max:
            self.sr.min, self.sr.max = -1.5 * need, 1.5 * need
        nan = np.full(x.size, np.nan)
        self.res_bars.x = np.stack([x, x, nan], 1).ravel()
        self.res_bars.y = np.stack([res - rerr, res + rerr, nan], 1).ravel()
        self.res.x, self.res.y = x, res
        self.spectrum_figure.render()
        self.residual_figure.render()

    def _info_html(self, progress) -> str:
        s = self.session
        parts = []
        for m in s.models or []:
            sm = getattr(m, "spatial_model", None)
            if type(m).__name__ != "SkyModel" or sm is None or "lon_0" not in sm.parameters:
                continue
            text = f"{m.name}: lon_0 {sm.lon_0.value:.4f}°, lat_0 {sm.lat_0.value:.4f}°"
            size = size_parameter(sm)
            data_size = ""
            if size is not None:
                text += f", {size.name} {size.value:.4f}°"
                data_size = f" data-size='{size.quantity.to_value('deg'):.6f}'"
            parts.append(f"<span class='gw-map-source' data-name='{html.escape(m.name)}' "
                         f"data-lon='{sm.lon_0.value:.6f}' data-lat='{sm.lat_0.value:.6f}'{data_size}>"
                         f"{html.escape(text)}</span>")
        reg = s.region
        if reg:
            parts.append(f"<span class='gw-map-region' data-radius='{reg['radius']:.6f}'>region: "
                         f"lon {reg['lon']:.4f}°, lat {reg['lat']:.4f}°, radius {reg['radius']:.4f}°</span>")
        fit = ""
        if progress is not None:
            state = "final" if progress.get("final") else "running"
            fit = f" — fit {state}: nfev {progress['nfev']}, stat {progress['stat']:.2f}"
            if progress.get("final") and s.dataset is not None:  # the fit's last word next to a fresh evaluation
                try:
                    now = float(s.dataset.stat_sum())
                except Exception:  # noqa: BLE001 - the fit's own error is shown already
                    now = float("nan")
                fit += (f"<span class='gw-map-fit-end' data-stat='{float(progress['stat'])!r}' "
                        f"data-stat-now='{now!r}'></span>")
        return (f"<span style='color:#555'>draw {self.n_draws}, model version {s.model_version}, live fit updates "
                f"{self.n_live_draws}{fit}</span><br>" + "<br>".join(parts))
