"""CanvasFigure: a small 2D plot drawn on one <canvas> (anywidget), for panels redrawn on every slider move.

bqplot draws SVG and applies every mark update through a d3 transition, which
runs on d3's next timer tick: a redraw lands a frame or more after its message.
A live residual panel needs neither SVG interactivity nor transitions, so
this widget draws points, error bars and lines on a canvas synchronously when
its data arrives — one widget model and one message per redraw.

The Python side mimics the small part of bqplot the views use: `Scale`
(``min``/``max``, log or linear), marks with ``x``/``y`` (`CanvasLines`,
`CanvasScatter`), ``hold_sync()`` (a no-op here) and `CanvasFigure.render`
that sends all marks at once when anything changed.

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
"""
from __future__ import annotations

import contextlib

import numpy as np
import traitlets as t

__all__ = ["CanvasFigure", "CanvasLines", "CanvasScatter", "Scale"]

ESM = r"""
function ticks(lo, hi, log) {
  if (!(hi > lo) || !isFinite(lo) || !isFinite(hi)) return [];
  if (log) {
    if (!(lo > 0)) return [];
    const a = Math.floor(Math.log10(lo)), b = Math.ceil(Math.log10(hi)), out = [];
    const mult = (b - a) <= 2 ? [1, 2, 5] : [1];
    for (let e = a; e <= b; e++) for (const m of mult) { const v = m * Math.pow(10, e); if (v >= lo && v <= hi) out.push(v); }
    return out;
  }
  const raw = (hi - lo) / 5, p = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map(m => m * p).find(s => s >= raw) || raw;
  const out = [];
  if (!(step > 0)) return [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9 && out.length < 50; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}
function fmt(v) { return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(0) : String(Number(v.toPrecision(2))); }

function draw(model, canvas, el) {
  const W = model.get("width"), H = model.get("height"), dpr = window.devicePixelRatio || 1;
  if (canvas.width !== W * dpr || canvas.height !== H * dpr) {
    canvas.width = W * dpr; canvas.height = H * dpr; canvas.style.width = W + "px"; canvas.style.height = H + "px";
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  const m = {l: 60, r: 10, t: 10, b: 40}, pw = W - m.l - m.r, ph = H - m.t - m.b;
  const [x0, x1] = model.get("x_range"), [y0, y1] = model.get("y_range");
  const xl = model.get("x_log"), yl = model.get("y_log");
  const tx = v => xl ? (Math.log10(v) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0)) : (v - x0) / (x1 - x0);
  const ty = v => yl ? (Math.log10(v) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0)) : (v - y0) / (y1 - y0);
  const px = v => m.l + tx(v) * pw, py = v => m.t + (1 - ty(v)) * ph;
  const ok = (x, y) => x !== null && y !== null && isFinite(x) && isFinite(y) && (!xl || x > 0) && (!yl || y > 0);
  ctx.font = "11px sans-serif"; ctx.fillStyle = "#333"; ctx.strokeStyle = "#333"; ctx.lineWidth = 1; ctx.setLineDash([]);
  ctx.beginPath(); ctx.moveTo(m.l, m.t); ctx.lineTo(m.l, m.t + ph); ctx.lineTo(m.l + pw, m.t + ph); ctx.stroke();
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  for (const v of ticks(x0, x1, xl)) { const X = px(v); ctx.beginPath(); ctx.moveTo(X, m.t + ph); ctx.lineTo(X, m.t + ph + 4); ctx.stroke(); ctx.fillText(fmt(v), X, m.t + ph + 6); }
  ctx.fillText(model.get("x_label"), m.l + pw / 2, H - 14);
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (const v of ticks(y0, y1, yl)) { const Y = py(v); ctx.beginPath(); ctx.moveTo(m.l - 4, Y); ctx.lineTo(m.l, Y); ctx.stroke(); ctx.fillText(fmt(v), m.l - 6, Y); }
  ctx.save(); ctx.translate(12, m.t + ph / 2); ctx.rotate(-Math.PI / 2); ctx.textAlign = "center"; ctx.fillText(model.get("y_label"), 0, 0); ctx.restore();
  ctx.save(); ctx.beginPath(); ctx.rect(m.l, m.t, pw, ph); ctx.clip();
  for (const s of model.get("series")) {
    const xs = s.x, ys = s.y;
    ctx.strokeStyle = s.color; ctx.fillStyle = s.color; ctx.lineWidth = s.width || 1; ctx.setLineDash(s.dash ? [5, 4] : []);
    if (s.kind === "lines") {
      ctx.beginPath(); let pen = false;
      for (let i = 0; i < xs.length; i++) {
        if (!ok(xs[i], ys[i])) { pen = false; continue; }
        const X = px(xs[i]), Y = py(ys[i]);
        if (pen) ctx.lineTo(X, Y); else { ctx.moveTo(X, Y); pen = true; }
      }
      ctx.stroke();
    } else {
      const r = s.size || 3;
      for (let i = 0; i < xs.length; i++) {
        if (!ok(xs[i], ys[i])) continue;
        const X = px(xs[i]), Y = py(ys[i]);
        if (s.marker === "square") ctx.fillRect(X - r, Y - r, 2 * r, 2 * r);
        else { ctx.beginPath(); ctx.arc(X, Y, r, 0, 2 * Math.PI); ctx.fill(); }
      }
    }
  }
  ctx.restore();
  el.dataset.drawn = String(model.get("version"));
}

export default {
  render({ model, el }) {
    const canvas = document.createElement("canvas");
    el.appendChild(canvas);
    let queued = false;
    const later = () => { if (!queued) { queued = true; queueMicrotask(() => { queued = false; draw(model, canvas, el); }); } };
    for (const name of ["series", "x_range", "y_range", "x_label", "y_label", "x_log", "y_log", "width", "height", "version"]) {
      model.on("change:" + name, later);
    }
    draw(model, canvas, el);
  }
};
"""


class Scale:
    """``min``/``max`` of one axis (``log`` or linear); ``hold_sync()`` for bqplot-like code."""

    def __init__(self, log: bool = False, min=None, max=None):
        self.log, self.min, self.max = bool(log), min, max

    def hold_sync(self):
        return contextlib.nullcontext()


class _Mark:
    kind = "lines"

    def __init__(self, color: str = "#1f77b4", width: float = 1.0, dash: bool = False, size: float = 3.0,
                 marker: str = "circle"):
        self.__dict__.update(color=color, width=float(width), dash=bool(dash), size=float(size), marker=marker,
                             x=np.zeros(0), y=np.zeros(0), figure=None)

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

        return {"kind": self.kind, "x": clean(self.x), "y": clean(self.y), "color": self.color, "width": self.width,
                "dash": self.dash, "size": self.size, "marker": self.marker}


class CanvasLines(_Mark):
    """A polyline (non-finite points break it)."""

    kind = "lines"


class CanvasScatter(_Mark):
    """Points (``marker`` "circle" or "square", radius ``size`` px)."""

    kind = "points"


def _widget_base():
    import anywidget

    return anywidget.AnyWidget


class CanvasFigure(_widget_base()):
    """One canvas: axes with ticks and labels, then the marks in order (see the module doc)."""

    _esm = ESM
    width = t.Int(560).tag(sync=True)
    height = t.Int(280).tag(sync=True)
    x_log = t.Bool(False).tag(sync=True)
    y_log = t.Bool(False).tag(sync=True)
    x_range = t.List([1.0, 10.0]).tag(sync=True)
    y_range = t.List([1.0, 10.0]).tag(sync=True)
    x_label = t.Unicode("").tag(sync=True)
    y_label = t.Unicode("").tag(sync=True)
    series = t.List().tag(sync=True)
    #: bumped with every render; the page writes it into ``data-drawn`` once drawn
    version = t.Int(0).tag(sync=True)

    def __init__(self, marks, x_scale: Scale, y_scale: Scale, x_label="", y_label="", height=260, width=520,
                 css=None, **kwargs):
        super().__init__(width=int(width), height=int(height), x_label=x_label, y_label=y_label,
                         x_log=x_scale.log, y_log=y_scale.log, **kwargs)
        self.marks, self.x_scale, self.y_scale = list(marks), x_scale, y_scale
        for mark in self.marks:
            mark.__dict__["figure"] = self
        self.x_range, self.y_range = self._ranges()
        self._dirty = True
        if css:
            self.add_class(css)

    def _ranges(self):
        def rng(scale, axis):
            lo, hi = scale.min, scale.max
            if lo is None or hi is None:  # the data decide (not looked at when the range is fixed: the hot path)
                values = np.concatenate([getattr(m, axis).ravel() for m in self.marks] or [np.zeros(0)])
                finite = values[np.isfinite(values) & ((values > 0) if scale.log else True)]
                if lo is None:
                    lo = float(finite.min()) if finite.size else (1.0 if scale.log else 0.0)
                if hi is None:
                    hi = float(finite.max()) if finite.size else (10.0 if scale.log else 1.0)
            if scale.log and not lo > 0:
                lo = hi * 1e-3 if hi > 0 else 1.0
            if not hi > lo:
                hi = lo * 10 if scale.log else lo + 1
            return [float(lo), float(hi)]

        return rng(self.x_scale, "x"), rng(self.y_scale, "y")

    def render(self, force: bool = False) -> bool:
        """Send every mark in one message if anything changed (or ``force``); returns whether it sent."""
        xr, yr = self._ranges()
        if not (force or self._dirty or xr != self.x_range or yr != self.y_range):
            return False
        with self.hold_sync():
            self.x_range, self.y_range = xr, yr
            self.series = [m.to_json() for m in self.marks]
            self.version += 1
        self._dirty = False
        return True
