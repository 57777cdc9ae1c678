"""SkyCanvas: a sky image on one <canvas> (anywidget) with draggable source and region handles.

The image travels as compact bytes: one uint8 colour index per pixel (0–254,
255 = no data), coloured in the page with a fixed palette ("diverging" for
significances, "sequential" for counts). A 150 × 150 map is 22.5 kB per
redraw, drawn synchronously when it arrives; ``data-drawn`` on the element is
the ``version`` last drawn, ``data-image`` a checksum of its pixels,
``data-handles`` the handles drawn and ``data-rtt`` the milliseconds from the
last drag sent to the next image drawn (for tests and benchmarks).

Handles (``handles``: name, x, y in map pixels, optional size radius ``r`` in
pixels, colour) are drawn over the image: a cross in a circle at the centre,
and for extended sources a circle of radius ``r`` with a square on its right
edge (the size handle). The spectrum ``region`` (x, y, r) is a dashed circle
with the same two handles. Dragging one moves it at once in the page and sends
``drag`` = {name, what: "center" | "size", x, y, r, final, seq} to the kernel on
every mouse move (the browser already coalesces them per frame); the kernel
answers with a new image and the handles where the models now are.

Pixel coordinates are those of the map (FITS order, 0-based, y up); the page
flips the image so that north is up.

>>> canvas = SkyCanvas(shape=(2, 2))
>>> canvas.set_image(np.array([[0.0, 1.0], [np.nan, -1.0]]), -1.0, 1.0)
>>> list(canvas.image)
[127, 254, 255, 0]
"""
from __future__ import annotations

import numpy as np
import traitlets as t

__all__ = ["SkyCanvas", "to_indices"]

ESM = r"""
function lut(name) {
  const out = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 255; i++) {
    const f = i / 254;
    let r, g, b;
    if (name === "diverging") {            // blue - white - red
      if (f < 0.5) { const a = f / 0.5; r = 40 + 215 * a; g = 90 + 165 * a; b = 200 + 55 * a; }
      else { const a = (f - 0.5) / 0.5; r = 255 - 35 * a; g = 255 - 205 * a; b = 255 - 215 * a; }
    } else {                               // dark blue - yellow
      r = 255 * Math.min(1, Math.max(0, 1.6 * f - 0.3)); g = 255 * Math.pow(f, 0.8);
      b = 255 * (0.35 + 0.3 * Math.sin(Math.PI * f)) * (1 - f * 0.6);
    }
    out[4 * i] = r; out[4 * i + 1] = g; out[4 * i + 2] = b; out[4 * i + 3] = 255;
  }
  out[4 * 255] = 230; out[4 * 255 + 1] = 230; out[4 * 255 + 2] = 230; out[4 * 255 + 3] = 255;
  return out;
}
const LUTS = {diverging: lut("diverging"), sequential: lut("sequential")};

function toBytes(v) {
  if (!v) return new Uint8Array(0);
  if (v instanceof Uint8Array) return v;
  if (v instanceof DataView) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (v.buffer) return new Uint8Array(v.buffer, v.byteOffset || 0, v.byteLength);
  return new Uint8Array(v);
}

export default {
  render({ model, el }) {
    const canvas = document.createElement("canvas");
    canvas.style.cursor = "crosshair";
    canvas.style.touchAction = "none";
    el.appendChild(canvas);
    const off = document.createElement("canvas");
    const st = {drag: null, seq: 0, local: {}};

    function geom() {
      const [ny, nx] = model.get("shape"), s = model.get("scale");
      return {ny, nx, s, W: nx * s, H: ny * s};
    }
    // map pixel (x right, y up, pixel centres at integers) <-> canvas px
    const toC = (g, x, y) => [(x + 0.5) * g.s, (g.ny - 0.5 - y) * g.s];
    const toM = (g, X, Y) => [X / g.s - 0.5, g.ny - 0.5 - Y / g.s];

    function paintImage(g) {
      const bytes = toBytes(model.get("image"));
      if (bytes.length !== g.nx * g.ny) return false;
      if (off.width !== g.nx || off.height !== g.ny) { off.width = g.nx; off.height = g.ny; }
      const octx = off.getContext("2d"), img = octx.createImageData(g.nx, g.ny);
      const L = LUTS[model.get("palette")] || LUTS.diverging;
      const d = img.data;
      let hash = 0;
      for (let y = 0; y < g.ny; y++) {
        const row = (g.ny - 1 - y) * g.nx, src = y * g.nx;   // flip: map row 0 is the bottom
        for (let x = 0; x < g.nx; x++) {
          const v = bytes[src + x], k = 4 * v, o = 4 * (row + x);
          d[o] = L[k]; d[o + 1] = L[k + 1]; d[o + 2] = L[k + 2]; d[o + 3] = 255;
          hash = (hash * 31 + v) | 0;
        }
      }
      octx.putImageData(img, 0, 0);
      el.dataset.image = String(hash);     // a checksum of the map pixels last drawn (tests)
      return true;
    }

    function items() {
      const out = [];
      for (const h of model.get("handles")) {
        const loc = st.local[h.name];
        out.push(Object.assign({}, h, loc || {}));
      }
      const r = model.get("region");
      if (r && r.r) {
        out.push(Object.assign({name: "__region__", color: "#111", dashed: true}, r, st.local["__region__"] || {}));
      }
      return out;
    }

    function draw(newImage) {
      const g = geom(), dpr = window.devicePixelRatio || 1;
      if (canvas.width !== g.W * dpr || canvas.height !== g.H * dpr) {
        canvas.width = g.W * dpr; canvas.height = g.H * dpr;
        canvas.style.width = g.W + "px"; canvas.style.height = g.H + "px";
      }
      if (newImage) paintImage(g);
      const ctx = canvas.getContext("2d");
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.imageSmoothingEnabled = false;
      ctx.clearRect(0, 0, g.W, g.H);
      if (off.width === g.nx) ctx.drawImage(off, 0, 0, g.W, g.H);
      const shown = {};
      for (const h of items()) {
        const [X, Y] = toC(g, h.x, h.y);
        ctx.strokeStyle = h.color || "#000"; ctx.lineWidth = 2; ctx.setLineDash(h.dashed ? [6, 4] : []);
        if (h.r) {
          ctx.beginPath(); ctx.arc(X, Y, h.r * g.s, 0, 2 * Math.PI); ctx.stroke();
          ctx.setLineDash([]); ctx.fillStyle = h.color || "#000";
          ctx.fillRect(X + h.r * g.s - 5, Y - 5, 10, 10);
        }
        ctx.setLineDash([]);
        ctx.beginPath(); ctx.arc(X, Y, 7, 0, 2 * Math.PI); ctx.stroke();
        ctx.beginPath(); ctx.moveTo(X - 11, Y); ctx.lineTo(X + 11, Y); ctx.moveTo(X, Y - 11); ctx.lineTo(X, Y + 11);
        ctx.stroke();
        if (h.name !== "__region__") {
          ctx.fillStyle = h.color || "#000"; ctx.font = "12px sans-serif"; ctx.fillText(h.name, X + 10, Y - 10);
        }
        shown[h.name] = [h.x, h.y, h.r || 0];
      }
      el.dataset.handles = JSON.stringify(shown);
      el.dataset.drawn = String(model.get("version"));
      if (newImage && st.sentAt) { el.dataset.rtt = (performance.now() - st.sentAt).toFixed(1); st.sentAt = 0; }
    }

    function pick(X, Y) {
      const g = geom();
      let best = null, bd = 12;
      for (const h of items()) {
        const [hx, hy] = toC(g, h.x, h.y), penalty = h.name === "__region__" ? 6 : 0;  // sources first
        if (h.r) {
          const d = Math.hypot(X - (hx + h.r * g.s), Y - hy) + penalty;
          if (d < bd) { bd = d; best = {h, what: "size"}; }
        }
        const d = Math.hypot(X - hx, Y - hy) + penalty;
        if (d < bd) { bd = d; best = {h, what: "center"}; }
      }
      return best;
    }

    function send(final) {
      const d = st.drag, h = st.local[d.name];
      st.seq += 1;
      model.set("drag", {name: d.name, what: d.what, x: h.x, y: h.y, r: h.r || 0, final: !!final, seq: st.seq});
      model.save_changes();
      st.sentAt = performance.now();
    }

    function pos(ev) { const b = canvas.getBoundingClientRect(); return [ev.clientX - b.left, ev.clientY - b.top]; }

    canvas.addEventListener("pointerdown", ev => {
      const [X, Y] = pos(ev), p = pick(X, Y);
      if (!p) return;
      ev.preventDefault();
      canvas.setPointerCapture(ev.pointerId);
      st.drag = {name: p.h.name, what: p.what};
      st.local[p.h.name] = {x: p.h.x, y: p.h.y, r: p.h.r || 0};
      el.dataset.dragging = p.h.name;
    });
    canvas.addEventListener("pointermove", ev => {
      if (!st.drag) return;
      const g = geom(), [X, Y] = pos(ev), [mx, my] = toM(g, X, Y), loc = st.local[st.drag.name];
      if (st.drag.what === "center") { loc.x = mx; loc.y = my; }
      else { loc.r = Math.max(0.5, Math.hypot(mx - loc.x, my - loc.y)); }
      send(false);       // the kernel's work starts first; the handle follows the mouse in the same frame
      draw(false);
    });
    const end = ev => {
      if (!st.drag) return;
      send(true);
      const name = st.drag.name;
      st.drag = null;
      delete el.dataset.dragging;
      // keep the local position until the kernel's answer (the next "handles"/"region") arrives
      st.pending = name;
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);

    // one draw per kernel message (image, handles and region arrive together), at the end of the message
    let queued = false, withImage = false;
    const later = image => {
      withImage = withImage || image;
      if (queued) return;
      queued = true;
      queueMicrotask(() => { queued = false; const i = withImage; withImage = false; draw(i); });
    };
    const fromKernel = () => {
      if (!st.drag) st.local = {};   // while dragging, the dragged handle follows the mouse, not the kernel
      later(false);
    };
    model.on("change:image", () => later(true));
    model.on("change:handles", fromKernel);
    model.on("change:region", fromKernel);
    model.on("change:palette", () => draw(true));
    model.on("change:scale", () => draw(true));
    draw(true);
  }
};
"""


def to_indices(values, lo: float, hi: float, stretch: str = "linear") -> np.ndarray:
    """Colour indices (uint8, 0–254; 255 for NaN) of ``values`` scaled from ``lo`` to ``hi``.

    Parameters
    ----------
    values : ndarray
    lo, hi : float
        The values shown as the first and the last colour (clipped outside).
    stretch : {"linear", "sqrt"}

    Returns
    -------
    ndarray of uint8, same shape

    Examples
    --------
    >>> to_indices(np.array([-1.0, 0.0, 1.0, np.nan]), -1.0, 1.0).tolist()
    [0, 127, 254, 255]
    """
    v = np.asarray(values, float)
    span = hi - lo if hi > lo else 1.0
    f = np.clip((v - lo) / span, 0.0, 1.0)
    if stretch == "sqrt":
        f = np.sqrt(f)
    out = (f * 254.0).astype(np.uint8)
    out[~np.isfinite(v)] = 255
    return out


def _widget_base():
    import anywidget

    return anywidget.AnyWidget


class SkyCanvas(_widget_base()):
    """The canvas (see the module doc). ``set_image`` sends an image, ``handles``/``region`` the overlays."""

    _esm = ESM
    shape = t.List([1, 1]).tag(sync=True)
    scale = t.Int(3).tag(sync=True)
    image = t.Bytes(b"").tag(sync=True)
    palette = t.Unicode("diverging").tag(sync=True)
    handles = t.List().tag(sync=True)
    region = t.Dict().tag(sync=True)
    drag = t.Dict().tag(sync=True)
    #: bumped with every image; the page writes it into ``data-drawn`` once drawn
    version = t.Int(0).tag(sync=True)

    def __init__(self, shape=(1, 1), scale: int = 3, **kwargs):
        super().__init__(shape=[int(shape[0]), int(shape[1])], scale=int(scale), **kwargs)

    def set_image(self, values, lo: float, hi: float, palette: str = "diverging", stretch: str = "linear"):
        """Send ``values`` (ny, nx) coloured from ``lo`` to ``hi`` (one message)."""
        v = np.asarray(values)
        with self.hold_sync():
            if list(v.shape) != self.shape:
                self.shape = [int(v.shape[0]), int(v.shape[1])]
            self.palette = palette
            self.image = to_indices(v, lo, hi, stretch).tobytes()
            self.version += 1
