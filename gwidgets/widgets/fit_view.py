"""FitView: Fit / Stop buttons, live spectrum + residual panels, parameter table, covariance.

A view over an `AnalysisSession`:

* **Fit** calls ``session.fit()`` (worker thread); **Stop** calls
  ``session.stop_fit()`` (the best point so far is kept).
* While a fit runs the panels are drawn from ``session.fit_progress`` (the
  fit callback, ~30 Hz, with predictions computed in the fit thread); otherwise
  from ``session.predictions()`` whenever a parameter changes. Both paths are
  coalesced (`Coalescer`): a burst of changes gives one redraw showing the
  latest state — never a stale one.
* Browser speed: two canvas panels (spectrum, residuals) showing the dataset
  chosen in the selector (one panel per dataset of a joint fit, one visible at
  a time), no animation; a parameter change updates only the npred line and
  the residual marks, and each panel is one canvas (`CanvasFigure`) sent in one
  message and drawn as soon as it arrives, on fixed ranges (the axes do not move).
* The parameter table shows value ± error, the covariance appears after the
  fit; errors are shown in the page (``session.error``), the user's model and
  regions stay as they were.
* After a fit, **Profile** draws the fit statistic along the parameter chosen
  in the dropdown (``session.stat_profile``: ``Fit().stat_profile`` on a copy
  of the datasets, in the worker thread), as Δ stat with the 1σ line (Δ = 1),
  on a third canvas (built with the first profile) with its own *PNG* / *SVG*
  buttons; ``view.profile_figure.save("profile.png")`` from Python.

>>> import gwidgets as gw
>>> from gwidgets.app.first_look import default_analysis
>>> from gwidgets.state import AnalysisSession
>>> session = AnalysisSession(gw.example_store(), background=False)
>>> look = default_analysis(session)       # all runs, ON region on the bright source, a fitted model "source"
>>> view = FitView(session)
>>> view.fit_button.click()
>>> session.fit_result.success
True
"""
from __future__ import annotations

import html
import math
import threading

import ipywidgets as w
import numpy as np

from ._plot import set_errorbars
from .base import SessionView
from .canvas_plot import CanvasFigure, CanvasLines, CanvasScatter, Scale

__all__ = ["FitView"]


def _fmt(v) -> str:
    return "–" if v is None or not math.isfinite(v) else f"{v:.4g}"


class FitView(SessionView):
    """Live fit view bound to an `AnalysisSession` (see the module docs).

    Parameters
    ----------
    session : AnalysisSession
    delay : float
        Coalescing delay [s] of redraws (0: the next turn of the kernel's loop — a burst of
        messages already queued still gives one redraw).
    show_errors : bool
        Show ``session.error`` in the view's own banner (the Dashboard has a StatusBar instead).
    """

    def __init__(self, session, delay: float = 0.0, show_errors: bool = True, width: int = 560, **kwargs):
        self.n_draws = 0
        self.n_live_draws = 0  # draws made from a running fit's callback
        self._data_key = None
        self._pending_progress = None
        # the fit thread writes the latest progress, the widget thread takes it: one lock, or a final
        # progress written between the take and the clear is lost (the table then stays "running")
        self._progress_lock = threading.Lock()

        self.fit_button = w.Button(description="Fit", icon="play", button_style="primary")
        self.fit_button.add_class("gw-fit-button")
        self.stop_button = w.Button(description="Stop", icon="stop", disabled=True)
        self.stop_button.add_class("gw-fit-stop")
        self.dataset = w.Dropdown(options=[], description="dataset", layout=w.Layout(width="260px"))
        self.dataset.add_class("gw-fit-dataset")
        self.info = w.HTML()
        self.info.add_class("gw-fit-info")
        self.params = w.HTML()
        self.params.add_class("gw-fit-params")
        self.covariance = w.HTML()
        self.covariance.add_class("gw-fit-covariance")

        # the two live panels are canvases (CanvasFigure): one model and one message per redraw, drawn as soon
        # as the message arrives (an SVG plot library would update its marks a frame or more later)
        self.sx = Scale(log=True)
        self.sy = Scale(log=True)
        self.sr = Scale()
        self.counts_bars = CanvasLines(color="#444")
        self.counts = CanvasScatter(color="#444", size=3)
        self.excess_bars = CanvasLines(color="#1f77b4")
        self.excess = CanvasScatter(color="#1f77b4", size=3, marker="square")
        self.npred = CanvasLines(color="#d62728", width=2)
        self.zero = CanvasLines(color="#999", dash=True)
        self.res_bars = CanvasLines(color="#1f77b4")
        self.res = CanvasScatter(color="#1f77b4", size=3)
        self.spectrum_figure = CanvasFigure([self.counts_bars, self.counts, self.excess_bars, self.excess, self.npred],
                                            self.sx, self.sy, "E [TeV]", "counts", 280, width, "gw-fit-spectrum")
        self.residual_figure = CanvasFigure([self.zero, self.res_bars, self.res], self.sx, self.sr, "E [TeV]",
                                            "counts − npred", 200, width, "gw-fit-residuals")

        self._build_profile(width)
        self.fit_button.on_click(lambda _: self.run_fit())
        self.stop_button.on_click(lambda _: self.session.stop_fit())
        self.dataset.observe(lambda _: self.redraw(), "value")
        legend = w.HTML("<span style='color:#444'>● counts</span> &nbsp; <span style='color:#1f77b4'>■ excess</span>"
                        " &nbsp; <span style='color:#d62728'>— npred</span>")
        super().__init__(session, [w.HBox([w.HTML("<b>Fit</b>", layout=w.Layout(width="40px")), self.fit_button,
                                           self.stop_button, self.dataset]),
                                   legend, self.spectrum_figure, self.residual_figure, self.info,
                                   w.HBox([self.params, self.covariance]), self.profile_box],
                         show_errors=show_errors, **kwargs)
        self.add_class("gw-fit-view")
        self._coalescer = self.coalescer(self._flush, delay)
        self.watch(session, self._on_datasets, "datasets")
        self.watch(session, self._on_version, "model_version")
        self.watch(session, self._on_progress, "fit_progress")
        self.watch(session, self._on_fitting, "fitting")
        self.watch(session, self._on_result, "fit_result")
        self.watch(session, lambda _: self._draw_result(self.session.fit_result), "fit_stale")
        self.watch(session, self._update_profile_choices, ["models", "fit_result"])
        self.watch(session, self._on_profile, "profile_result")
        self._on_datasets()
        self._update_profile_choices()

    # ------------------------------------------------------------ profile
    def _build_profile(self, width):
        self.profile_parameter = w.Dropdown(options=[], description="parameter", layout=w.Layout(width="260px"))
        self.profile_parameter.add_class("gw-fit-profile-parameter")
        self.profile_button = w.Button(description="Profile", icon="area-chart", disabled=True,
                                       tooltip="fit statistic along the chosen parameter (after a fit)")
        self.profile_button.add_class("gw-fit-profile-button")
        self.profile_button.on_click(lambda _: self.run_profile())
        # the profile figure is built with the first profile (one figure less for the browser at first paint)
        self.profile_figure = None
        self._profile_width = width
        self.profile_info = w.HTML()
        self.profile_info.add_class("gw-fit-profile-info")
        self.profile_box = w.VBox([w.HBox([self.profile_button, self.profile_parameter]), self.profile_info])

    def _ensure_profile_figure(self):
        if self.profile_figure is not None:
            return self.profile_figure
        self.px, self.py = Scale(), Scale(min=0.0)
        self.profile_one = CanvasLines(color="#999", dash=True, name="one-sigma")
        self.profile_line = CanvasLines(color="#1f77b4", width=2, name="profile")
        self.profile_points = CanvasScatter(color="#1f77b4", size=3, name="profile-points")
        self.profile_figure = CanvasFigure([self.profile_one, self.profile_line, self.profile_points], self.px,
                                           self.py, "parameter", "Δ stat", 200, self._profile_width,
                                           "gw-fit-profile", name="profile")
        head, info = self.profile_box.children
        self.profile_box.children = [head, self.profile_figure, info]
        return self.profile_figure

    def _update_profile_choices(self, *_):
        models = self.session.models
        params = list(models.parameters) if models is not None else []
        names = [p.name for p in params]
        options = [(n if names.count(n) == 1 else f"{n} #{i}", i) for i, (n, p) in enumerate(zip(names, params))
                   if not p.frozen]
        if list(self.profile_parameter.options) != options:
            current = self.profile_parameter.value
            self.profile_parameter.options = options
            values = [v for _, v in options]
            if values:
                self.profile_parameter.value = current if current in values else values[0]
        self.profile_button.disabled = self.session.fit_result is None or not options

    def run_profile(self, n: int = 21):
        """What the Profile button does: ``session.stat_profile`` of the chosen parameter (errors in the page)."""
        if self.profile_parameter.value is None:
            return
        with self.action("Profile", clear=True):
            param = list(self.session.models.parameters)[self.profile_parameter.value]
            self.profile_info.value = f"<span style='color:#555'>profiling {html.escape(param.name)}…</span>"
            self.session.stat_profile(param, n=n)

    def _on_profile(self, change):
        prof = change["new"]
        if prof is None:
            return
        x, dy = np.asarray(prof["values"], float), np.asarray(prof["delta_stat"], float)
        fig = self._ensure_profile_figure()
        self.px.min, self.px.max = float(x.min()), float(x.max())
        self.py.max = float(max(np.nanmax(dy), 1.5) * 1.1)
        self.profile_line.x, self.profile_line.y = x, dy
        self.profile_points.x, self.profile_points.y = x, dy
        self.profile_one.x, self.profile_one.y = [float(x.min()), float(x.max())], [1.0, 1.0]
        unit = f" [{prof['unit']}]" if prof.get("unit") else ""
        fig.x_label = f"{prof['parameter']}{unit}"
        fig.render()
        self.profile_figure.layout.display = ""
        inside = x[dy <= 1.0]
        interval = (f", Δ stat ≤ 1 for {inside.min():.4g} … {inside.max():.4g}" if inside.size else "")
        self.profile_info.value = (f"<span style='color:#555'>profile of {html.escape(prof['parameter'])}: "
                                   f"{len(x)} points, best {prof['best']:.4g}{html.escape(interval)}</span>")

    # ------------------------------------------------------------ actions
    def run_fit(self):
        """What the Fit button does (errors are shown in the page)."""
        with self.action("Fit", clear=True):
            self.session.fit()

    # ------------------------------------------------------ session → view
    def _on_datasets(self, *_):
        ds = self.session.datasets
        names = list(ds.names) if ds is not None else []
        if list(self.dataset.options) != names:
            current = self.dataset.value
            self.dataset.options = names
            if names:
                self.dataset.value = current if current in names else names[0]
        self._data_key = None
        self._coalescer.request()

    def _on_version(self, change):
        if not self.session.fitting:
            self._coalescer.request()

    def _on_progress(self, change):
        with self._progress_lock:
            self._pending_progress = change["new"]
        self._coalescer.request()

    def _on_fitting(self, change):
        running = bool(change["new"])
        self.fit_button.disabled = running
        self.stop_button.disabled = not running

    def _on_result(self, change):
        self._draw_result(change["new"])

    # ------------------------------------------------------------ drawing
    def flush(self):
        """Redraw now (scripts and tests; the page does it by itself)."""
        self._coalescer.flush_now()

    def redraw(self):
        self._data_key = None
        self._coalescer.request()

    def _current_predictions(self):
        with self._progress_lock:
            progress, self._pending_progress = self._pending_progress, None
        if progress is not None:
            return progress.get("predictions") or {}, progress
        s = self.session
        if s.fitting or s.models is None or s.datasets is None:
            return None, None
        if not s.predictions_ready():
            return None, None
        with self.action("Cannot compute the predicted counts"):
            return s.predictions(), None
        return None, None

    def _flush(self):
        preds, progress = self._current_predictions()
        if not preds:
            return
        name = self.dataset.value if self.dataset.value in preds else next(iter(preds))
        self.draw(preds[name])
        self.n_draws += 1
        if progress is not None and not progress.get("final"):
            self.n_live_draws += 1
        if progress is not None:
            self._draw_values(progress)
        self.info.value = (f"<span style='color:#555'>draw {self.n_draws} — dataset {html.escape(name)}, "
                           f"model version {self.session.model_version}, live fit updates {self.n_live_draws}"
                           + (f", nfev {progress['nfev']}, stat {progress['stat']:.3f}" if progress else "")
                           + "</span>")

    def draw(self, p):
        """Show one `SpectrumPrediction` (counts and excess only when the dataset changed)."""
        x = p.energy_center
        key = (p.name, id(p.counts))
        if key != self._data_key:  # (both canvases are sent once, at the end)
            self._fix_ranges(p)
            set_errorbars(self.counts_bars, self.counts, x, p.counts, p.counts_err, log=True)
            set_errorbars(self.excess_bars, self.excess, x, p.excess, p.excess_err, log=True)
            self._set_npred(x, p)
            e = p.energy_edges
            self.zero.x, self.zero.y = [float(e[0]), float(e[-1])], [0.0, 0.0]
            self._data_key = key
        else:
            self._set_npred(x, p)
        self._grow_residual_range(p)
        set_errorbars(self.res_bars, self.res, x, p.residuals, p.residuals_err)
        self.spectrum_figure.render()
        self.residual_figure.render()

    def _fix_ranges(self, p):
        """Explicit scale ranges per dataset: a parameter change then moves marks, never the axes.

        An auto-ranged scale re-renders every mark and axis on it in the browser.
        """
        e = p.energy_edges
        self.sx.min, self.sx.max = float(e[0]), float(e[-1])
        top = np.concatenate([p.counts + p.counts_err, p.excess + p.excess_err])
        top = top[np.isfinite(top)]
        pos = np.concatenate([p.counts[p.counts > 0], p.excess[p.excess > 0]])
        hi = float(top.max()) if top.size and top.max() > 0 else 10.0
        lo = float(pos.min()) if pos.size else hi * 1e-3
        self.sy.min, self.sy.max = max(lo * 0.3, hi * 1e-6), hi * 2.0
        self.sr.min, self.sr.max = -1.0, 1.0
        self._grow_residual_range(p)

    def _grow_residual_range(self, p):
        ext = np.abs(p.residuals) + p.residuals_err
        ext = ext[np.isfinite(ext)]
        need = float(ext.max()) if ext.size else 1.0
        if need > self.sr.max:
            r = 1.5 * need
            with self.sr.hold_sync():
                self.sr.min, self.sr.max = -r, r

    def _set_npred(self, x, p):
        keep = p.mask & (p.npred > 0)
        with self.npred.hold_sync():
            self.npred.x, self.npred.y = x[keep], p.npred[keep]

    def _draw_values(self, progress):
        values = progress.get("values") or {}
        result = self.session.fit_result if progress.get("final") else None
        errors = {}
        if result is not None and result.parameters is not None:
            errors = {p.name: p.error for p in result.parameters}
        rows = "".join(f"<tr><td>{html.escape(k)}</td><td class='gw-fit-value'>{_fmt(v)}</td>"
                       f"<td>{'± ' + _fmt(errors[k]) if errors.get(k) else ''}</td></tr>" for k, v in values.items())
        state = "final" if progress.get("final") else "running"
        self.params.value = (f"<b>Parameters ({state})</b><table class='gw-fit-table'>{rows}</table>")

    def _draw_result(self, result):
        if result is None:
            self.covariance.value = ""
            return
        cov = result.covariance
        head = (f"<b>Result</b>: {'✔' if result.success else '✘'} {html.escape(result.message)} "
                f"(nfev {result.nfev}, stat {result.total_stat:.3f})")
        if self.session.fit_stale:
            head += (" <span class='gw-fit-stale' style='background:#fff3cd;padding:0 4px'>stale: the model or the "
                     "data changed since this fit</span>")
        if cov is None:
            self.covariance.value = head
            return
        names = cov.names
        corr = cov.correlation
        rows = "".join(f"<tr><th>{html.escape(n)}</th>" + "".join(f"<td>{c:.2f}</td>" for c in corr[i]) + "</tr>"
                       for i, n in enumerate(names))
        errs = ", ".join(f"{html.escape(n)} ± {e:.3g}" for n, e in cov.errors.items())
        self.covariance.value = (f"{head}<br>errors: {errs}<br><b>correlation</b><table><tr><th></th>"
                                 + "".join(f"<th>{html.escape(n)}</th>" for n in names) + f"</tr>{rows}</table>")
