"""The browser half of `CanvasFigure` (an ES module for anywidget), and the one place of tick/label layout.

`layout` decides, for a canvas of ``W × H`` px, the tick values, their labels
and the margins so that no two tick labels overlap, no label is cut at the
canvas edge and the rotated y-axis label never touches the y tick labels: the
margins are computed from the measured label extents (``measure(text)`` →
width in px: ``ctx.measureText`` in the page, a fixed character width in the
unit tests, which run this module with node). Log axes get decades
(``10⁻¹²``, or plain numbers between 10⁻³ and 10⁴), thinned to every 2nd,
3rd, 5th … decade when they would collide, and 1-2-5 or linear ticks when the
axis spans less than a decade.

The page also draws an image layer (the sky's counts map), lines, points,
filled polygons; reports clicks and point drags to Python (``model.send``);
zooms with the mouse wheel and pans by dragging when ``zoom`` is on; and has a
small toolbar: *PNG* (the canvas, saved by the browser), *SVG* (asked from
Python, which draws the same data with matplotlib) and, when zoomable,
*reset view*.

The element gets ``data-drawn`` (the ``version`` drawn), ``data-image`` (how
many images were decoded and drawn) and, for tests, ``el.gwLayout`` (ticks with
their label boxes), ``el.gwPixel(x, y)`` / ``el.gwData(px, py)`` (data ↔ page
pixel coordinates) and ``el.gwSeries()`` (the marks as received).
"""
# ruff: noqa: E501  (the JavaScript below keeps its statements on one line each)
from __future__ import annotations

__all__ = ["ESM", "FONT_PX", "LABEL_GAP_PX"]

#: tick and axis label font size [px]
FONT_PX = 11
#: the smallest gap between two neighbouring tick labels [px]
LABEL_GAP_PX = 6

ESM = r"""
const FONT = @FONT@, GAP = @GAP@, TICK = 4, PAD = 3, LH = Math.round(FONT * 1.35), XLAB = TICK + PAD + 1;
const SUP = {"-": "\u207b", "0": "\u2070", "1": "\u00b9", "2": "\u00b2", "3": "\u00b3", "4": "\u2074",
             "5": "\u2075", "6": "\u2076", "7": "\u2077", "8": "\u2078", "9": "\u2079"};
const sup = n => String(n).split("").map(c => SUP[c]).join("");

function trim(s) { return s.indexOf(".") >= 0 ? s.replace(/0+$/, "").replace(/\.$/, "") : s; }

/** label of a tick value ``v``; ``digits`` decimals of a linear step; ``sci`` forces m×10ⁿ */
export function formatTick(v, digits, sci) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (!sci && a >= 1e-3 && a < 1e5) return digits > 0 ? v.toFixed(Math.min(digits, 10)) : trim(v.toFixed(Math.min(Math.max(0, 3 - Math.floor(Math.log10(a))), 10)));
  let e = Math.floor(Math.log10(a) + 1e-9), m = v / Math.pow(10, e);
  const md = Math.max(0, Math.min(6, digits + e));
  let ms = trim(m.toFixed(md));
  if (ms === "10" || ms === "-10") { e += 1; ms = ms[0] === "-" ? "-1" : "1"; }
  if (ms === "1") return "10" + sup(e);
  if (ms === "-1") return "-10" + sup(e);
  return ms + "\u00d7" + "10" + sup(e);
}

function linearCandidates(lo, hi) {
  const span = hi - lo, out = [];  // densest first
  if (!(span > 0)) return out;
  const k0 = Math.floor(Math.log10(span)) - 2;
  for (let k = k0; k <= k0 + 3; k++) for (const m of [1, 2, 5]) {
    const step = m * Math.pow(10, k), n = span / step;
    if (n > 40 || n < 0.5) continue;
    const vals = [];
    for (let i = Math.ceil(lo / step - 1e-9); i * step <= hi + step * 1e-9; i++) vals.push(Math.abs(i * step) < step * 1e-9 ? 0 : i * step);
    out.push({vals, digits: Math.max(0, -k)});
  }
  return out;
}

function logCandidates(lo, hi) {
  const a = Math.floor(Math.log10(lo) + 1e-9), b = Math.ceil(Math.log10(hi) - 1e-9), out = [];
  const inside = v => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9);
  for (const every of [1, 2, 3, 4, 5, 10, 20, 50, 100]) {  // decades first: the most readable
    const vals = [];
    for (let e = Math.ceil(a / every) * every; e <= b; e += every) { const v = Math.pow(10, e); if (inside(v)) vals.push(v); }
    out.push({vals, digits: 0});
  }
  for (const mult of [[1, 2, 5], [1, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
    const vals = [];
    for (let e = a; e <= b; e++) for (const m of mult) { const v = m * Math.pow(10, e); if (inside(v)) vals.push(v); }
    out.push({vals, digits: 0});
  }
  return out;
}

/** ticks of one axis of ``len`` px: the first candidate (decades, then 1-2-5, then linear steps, densest first) with
 *  at least 3 (else 2) and at most one per 60 px (y: 35 px) ticks, else 2 or 1 ticks at any density, whose labels
 *  keep GAP px apart and stay inside [-lead, len + trail] */
export function axisTicks(lo, hi, log, len, horizontal, measure, lead, trail) {
  if (!(hi > lo) || !isFinite(lo) || !isFinite(hi) || (log && !(lo > 0)) || !(len > 0)) return [];
  const frac = log ? (v => (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) : (v => (v - lo) / (hi - lo));
  let cands = log ? logCandidates(lo, hi) : [];
  cands = cands.concat(linearCandidates(lo, hi).map(c => ({vals: log ? c.vals.filter(v => v > 0) : c.vals, digits: c.digits})));
  const maxAbs = Math.max(Math.abs(lo), Math.abs(hi));
  const sci = !log && (maxAbs >= 1e5 || maxAbs < 1e-3);
  const maxN = Math.max(2, Math.floor(len / (horizontal ? 60 : 35)));
  for (const [minN, most] of [[3, maxN], [2, maxN], [2, Infinity], [1, Infinity]]) {
    for (const c of cands) {
      if (c.vals.length < minN || c.vals.length > most) continue;
      const ticks = c.vals.map(v => {
        const label = formatTick(v, c.digits, sci), width = measure(label);
        return {v, label, pos: frac(v) * len, size: horizontal ? width : LH, width};
      });
      let ok = true;
      for (let i = 0; i < ticks.length && ok; i++) {
        const t = ticks[i];
        if (t.pos - t.size / 2 < -lead || t.pos + t.size / 2 > len + trail) ok = false;
        if (i > 0) {
          const p = ticks[i - 1];
          if (Math.abs(t.pos - p.pos) - (t.size + p.size) / 2 < GAP || p.label === t.label) ok = false;
        }
      }
      if (ok) return ticks;
    }
  }
  return [];
}

/** margins and ticks of a W×H canvas: see the module docs */
export function layout(W, H, s, measure) {
  const [x0, x1] = s.x_range, [y0, y1] = s.y_range;
  const t = 8, b = XLAB + LH + (s.x_label ? LH + 2 : 0) + 2;
  const ph = H - t - b;
  const yt = axisTicks(y0, y1, s.y_log, ph, false, measure, b, t);
  const yw = yt.reduce((m, k) => Math.max(m, k.width), 0);
  const l = Math.ceil(4 + (s.y_label ? LH + 4 : 0) + yw + PAD + TICK);
  let r = 10, xt = [];
  for (let iter = 0; iter < 3; iter++) {  // labels may reach 40 px past the plot's right end: the margin follows
    const pw = W - l - r, room = iter === 0 ? 40 : r - 2;
    xt = axisTicks(x0, x1, s.x_log, pw, true, measure, s.x_reverse ? room : l - 2, s.x_reverse ? l - 2 : room);
    if (s.x_reverse) xt.forEach(k => { k.pos = pw - k.pos; });
    const need = Math.ceil(xt.reduce((mx, k) => Math.max(mx, k.pos + k.width / 2 - pw + 2), 10));
    if (need <= r) break;
    r = need;
  }
  const m = {l, r, t, b}, pw = W - l - r;
  const boxes = [];
  for (const k of xt) boxes.push({axis: "x", label: k.label, x0: l + k.pos - k.width / 2, x1: l + k.pos + k.width / 2,
                                  y0: t + ph + XLAB, y1: t + ph + XLAB + LH});
  for (const k of yt) boxes.push({axis: "y", label: k.label, x0: l - TICK - PAD - k.width, x1: l - TICK - PAD,
                                  y0: t + ph - k.pos - LH / 2, y1: t + ph - k.pos + LH / 2});
  // axis titles: centred on the plot, shifted (then shrunk) to stay inside the canvas
  const title = (label, centre, room) => {
    const w0 = measure(label), f = Math.min(1, (room - 4) / w0), w = w0 * f;
    const c = Math.min(Math.max(centre, 2 + w / 2), room - 2 - w / 2);
    return {label, font: FONT * f, a: c - w / 2, b: c + w / 2};
  };
  const titles = [];
  if (s.x_label) { const k = title(s.x_label, l + pw / 2, W); titles.push({axis: "x", label: k.label, font: k.font, x0: k.a, x1: k.b, y0: H - LH - 2, y1: H - 2}); }
  if (s.y_label) { const k = title(s.y_label, t + ph / 2, H); titles.push({axis: "y", label: k.label, font: k.font, x0: 4, x1: 4 + LH, y0: k.a, y1: k.b}); }
  return {m, pw, ph, xt, yt, boxes, titles};
}

const MARKERS = {
  circle: (c, X, Y, r) => { c.beginPath(); c.arc(X, Y, r, 0, 2 * Math.PI); c.fill(); },
  square: (c, X, Y, r) => c.fillRect(X - r, Y - r, 2 * r, 2 * r),
  cross: (c, X, Y, r) => { c.beginPath(); c.moveTo(X - r, Y); c.lineTo(X + r, Y); c.moveTo(X, Y - r); c.lineTo(X, Y + r); c.lineWidth = 2; c.stroke(); },
  "triangle-down": (c, X, Y, r) => { c.beginPath(); c.moveTo(X - r, Y - r * 0.6); c.lineTo(X + r, Y - r * 0.6); c.lineTo(X, Y + r); c.closePath(); c.fill(); },
  handle: (c, X, Y, r) => { c.beginPath(); c.arc(X, Y, r, 0, 2 * Math.PI); c.fill(); c.lineWidth = 2; c.strokeStyle = "#fff"; c.stroke(); },
};

function transform(s, L) {
  const [x0, x1] = s.x_range, [y0, y1] = s.y_range, xl = s.x_log, yl = s.y_log, rev = s.x_reverse;
  const f = (v, a, b, lg) => lg ? (Math.log10(v) - Math.log10(a)) / (Math.log10(b) - Math.log10(a)) : (v - a) / (b - a);
  const g = (q, a, b, lg) => lg ? Math.pow(10, Math.log10(a) + q * (Math.log10(b) - Math.log10(a))) : a + q * (b - a);
  return {
    px: v => L.m.l + (rev ? 1 - f(v, x0, x1, xl) : f(v, x0, x1, xl)) * L.pw,
    py: v => L.m.t + (1 - f(v, y0, y1, yl)) * L.ph,
    dx: X => g(rev ? 1 - (X - L.m.l) / L.pw : (X - L.m.l) / L.pw, x0, x1, xl),
    dy: Y => g(1 - (Y - L.m.t) / L.ph, y0, y1, yl),
    ok: (x, y) => x !== null && y !== null && isFinite(x) && isFinite(y) && (!xl || x > 0) && (!yl || y > 0),
  };
}

function draw(model, canvas, el, st) {
  const W = model.get("width"), H = model.get("height"), dpr = window.devicePixelRatio || 1;
  if (canvas.width !== W * dpr || canvas.height !== H * dpr) {
    canvas.width = W * dpr; canvas.height = H * dpr; canvas.style.width = W + "px"; canvas.style.height = H + "px";
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, H);
  ctx.font = FONT + "px sans-serif";
  const s = {};
  for (const k of ["x_range", "y_range", "x_log", "y_log", "x_reverse", "x_label", "y_label"]) s[k] = model.get(k);
  const key = JSON.stringify([W, H, s, model.get("equal_aspect")]);  // a slider move keeps the axes: same layout
  if (st.layoutKey !== key) {
    const measure = txt => ctx.measureText(txt).width;
    let L = layout(W, H, s, measure);
    // equal aspect (the sky): the axis with fewer units per px is widened about its centre, twice (labels move)
    for (let i = 0; i < 2 && model.get("equal_aspect") && !s.x_log && !s.y_log && L.pw > 0 && L.ph > 0; i++) {
      const [a, b] = s.x_range, [c, d] = s.y_range, u = Math.max((b - a) / L.pw, (d - c) / L.ph);
      s.x_range = [(a + b) / 2 - u * L.pw / 2, (a + b) / 2 + u * L.pw / 2];
      s.y_range = [(c + d) / 2 - u * L.ph / 2, (c + d) / 2 + u * L.ph / 2];
      L = layout(W, H, s, measure);
    }
    st.layoutKey = key; st.layoutMemo = L; st.shown = {x_range: s.x_range, y_range: s.y_range};
  }
  const L = st.layoutMemo;
  s.x_range = st.shown.x_range; s.y_range = st.shown.y_range;
  const T = transform(s, L), {m, pw, ph} = L;
  st.L = L; st.T = T;
  ctx.save(); ctx.beginPath(); ctx.rect(m.l, m.t, pw, ph); ctx.clip();
  const ext = model.get("image_extent");
  if (st.bitmap && ext && ext.length === 4) {
    const X0 = T.px(ext[0]), X1 = T.px(ext[1]), Yt = T.py(ext[3]), Yb = T.py(ext[2]);
    ctx.save(); ctx.imageSmoothingEnabled = false; ctx.translate(X0, Yt);
    ctx.scale((X1 - X0) / st.bitmap.width, (Yb - Yt) / st.bitmap.height); ctx.drawImage(st.bitmap, 0, 0); ctx.restore();
  }
  const series = model.get("series");
  series.forEach((sr, si) => {
    const xs = st.drag && st.drag.mark === si ? sr.x.map((v, i) => i === st.drag.index ? st.drag.x : v) : sr.x;
    const ys = st.drag && st.drag.mark === si ? sr.y.map((v, i) => i === st.drag.index ? st.drag.y : v) : sr.y;
    ctx.strokeStyle = sr.color; ctx.fillStyle = sr.color; ctx.lineWidth = sr.width || 1; ctx.setLineDash(sr.dash ? [5, 4] : []);
    ctx.globalAlpha = sr.opacity === undefined ? 1 : sr.opacity;
    if (sr.kind === "lines" || sr.kind === "fill") {
      ctx.beginPath(); let pen = false;
      for (let i = 0; i < xs.length; i++) {
        if (!T.ok(xs[i], ys[i])) { if (pen && sr.kind === "fill") ctx.closePath(); pen = false; continue; }
        const X = T.px(xs[i]), Y = T.py(ys[i]);
        if (pen) ctx.lineTo(X, Y); else { ctx.moveTo(X, Y); pen = true; }
      }
      if (sr.kind === "fill") { ctx.closePath(); ctx.fill(); } else ctx.stroke();
    } else {
      const r = sr.size || 3, sel = new Set(sr.selected || []), mk = MARKERS[sr.marker] || MARKERS.circle;
      for (let i = 0; i < xs.length; i++) {
        if (!T.ok(xs[i], ys[i])) continue;
        ctx.fillStyle = ctx.strokeStyle = sel.has(i) ? (sr.selected_color || "#ffee58") : sr.color;
        ctx.setLineDash([]);
        mk(ctx, T.px(xs[i]), T.py(ys[i]), r);
      }
    }
    ctx.globalAlpha = 1;
  });
  ctx.restore();
  // axes, ticks, labels (after the data: never hidden under the image)
  ctx.strokeStyle = "#333"; ctx.fillStyle = "#333"; ctx.lineWidth = 1; ctx.setLineDash([]);
  ctx.beginPath(); ctx.moveTo(m.l, m.t); ctx.lineTo(m.l, m.t + ph); ctx.lineTo(m.l + pw, m.t + ph); ctx.stroke();
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  for (const k of L.xt) { const X = m.l + k.pos; ctx.beginPath(); ctx.moveTo(X, m.t + ph); ctx.lineTo(X, m.t + ph + TICK); ctx.stroke(); ctx.fillText(k.label, X, m.t + ph + XLAB); }
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (const k of L.yt) { const Y = m.t + ph - k.pos; ctx.beginPath(); ctx.moveTo(m.l - TICK, Y); ctx.lineTo(m.l, Y); ctx.stroke(); ctx.fillText(k.label, m.l - TICK - PAD, Y); }
  ctx.textAlign = "center"; ctx.textBaseline = "bottom";
  for (const k of L.titles) {
    ctx.save(); ctx.font = k.font.toFixed(2) + "px sans-serif";
    if (k.axis === "x") ctx.fillText(k.label, (k.x0 + k.x1) / 2, k.y1);
    else { ctx.translate((k.x0 + k.x1) / 2, (k.y0 + k.y1) / 2); ctx.rotate(-Math.PI / 2); ctx.textBaseline = "middle"; ctx.fillText(k.label, 0, 0); }
    ctx.restore();
  }
  el.dataset.drawn = String(model.get("version"));
  el.dataset.image = String(st.images);
  el.gwLayout = {m, pw, ph, W, H, boxes: L.boxes, titles: L.titles, x_range: s.x_range, y_range: s.y_range};
}

function download(name, blob) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob); a.download = name; document.body.appendChild(a); a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

function toolbar(model, canvas, el, st, redraw) {
  const bar = document.createElement("div");
  bar.className = "gw-canvas-toolbar";
  bar.style.cssText = "position:absolute;top:0;right:0;display:flex;gap:2px;opacity:0.45;line-height:normal";
  bar.onmouseenter = () => { bar.style.opacity = "1"; };
  bar.onmouseleave = () => { bar.style.opacity = "0.45"; };
  const button = (text, cls, title, fn) => {
    const b = document.createElement("button");
    b.textContent = text; b.className = cls; b.title = title;
    b.style.cssText = "font:10px sans-serif;padding:1px 4px;border:1px solid #bbb;background:#fff;cursor:pointer";
    b.onclick = ev => { ev.stopPropagation(); fn(); };
    bar.appendChild(b);
  };
  if (model.get("zoom")) button("\u27f2", "gw-reset-view", "reset zoom and pan", () => model.send({event: "reset_view"}));
  button("PNG", "gw-save-png", "save this plot as PNG", () => canvas.toBlob(b => download(model.get("name") + ".png", b), "image/png"));
  button("SVG", "gw-save-svg", "save this plot as SVG (drawn by the kernel with matplotlib)", () => model.send({event: "svg"}));
  model.on("msg:custom", msg => { if (msg && msg.kind === "svg") download(msg.name, new Blob([msg.text], {type: "image/svg+xml"})); });
  el.appendChild(bar);
}

function hit(model, st, X, Y, want) {
  let best = null;
  model.get("series").forEach((sr, si) => {
    if (sr.kind !== "points" || !sr[want]) return;
    const r = (sr.size || 3) + 4;
    for (let i = 0; i < sr.x.length; i++) {
      if (!st.T.ok(sr.x[i], sr.y[i])) continue;
      const d = Math.hypot(st.T.px(sr.x[i]) - X, st.T.py(sr.y[i]) - Y);
      if (d <= r && (!best || d < best.d)) best = {mark: si, index: i, d};
    }
  });
  return best;
}

function interact(model, canvas, el, st, redraw) {
  const local = ev => { const b = canvas.getBoundingClientRect(); return [ev.clientX - b.left, ev.clientY - b.top]; };
  let saveTimer = null;
  const saveView = () => { clearTimeout(saveTimer); saveTimer = setTimeout(() => model.save_changes(), 120); };
  const setView = (xr, yr) => { model.set("x_range", xr); model.set("y_range", yr); redraw(); saveView(); };
  canvas.addEventListener("mousedown", ev => {
    if (ev.button !== 0 || !st.T) return;
    const [X, Y] = local(ev), h = hit(model, st, X, Y, "draggable");
    st.press = {X, Y, moved: false, handle: h, xr: st.shown.x_range.slice(), yr: st.shown.y_range.slice(), T: st.T};
    ev.preventDefault();
  });
  window.addEventListener("mousemove", ev => {
    const p = st.press; if (!p) return;
    const [X, Y] = local(ev);
    if (!p.moved && Math.hypot(X - p.X, Y - p.Y) < 4) return;
    p.moved = true;
    if (p.handle) {
      st.drag = {mark: p.handle.mark, index: p.handle.index, x: st.T.dx(X), y: st.T.dy(Y)};
      redraw();
      const sr = model.get("series")[p.handle.mark];
      if (sr && sr.live && !st.liveQueued) {
        st.liveQueued = true;
        requestAnimationFrame(() => { st.liveQueued = false; if (st.drag) model.send(Object.assign({event: "drag", final: false}, st.drag)); });
      }
    } else if (model.get("zoom")) {
      // pan: the data point under the mouse at the press stays under the mouse
      const T = p.T, shift = (a, b, lg, d0, d1) => lg ? [a * d0 / d1, b * d0 / d1] : [a + d0 - d1, b + d0 - d1];
      setView(shift(p.xr[0], p.xr[1], model.get("x_log"), T.dx(p.X), T.dx(X)), shift(p.yr[0], p.yr[1], model.get("y_log"), T.dy(p.Y), T.dy(Y)));
    }
  });
  window.addEventListener("mouseup", ev => {
    const p = st.press; if (!p) return;
    st.press = null;
    const [X, Y] = local(ev);
    if (p.handle && p.moved) {
      const d = st.drag; st.drag = null;
      model.send(Object.assign({event: "drag", final: true}, d));
      return;
    }
    if (!p.moved) {
      const h = hit(model, st, X, Y, "pickable");
      model.send({event: "click", x: st.T.dx(X), y: st.T.dy(Y), mark: h ? h.mark : null, index: h ? h.index : null,
                  shift: ev.shiftKey || ev.ctrlKey || ev.metaKey});
    }
  });
  canvas.addEventListener("wheel", ev => {
    if (!model.get("zoom") || !st.T) return;
    ev.preventDefault();
    const [X, Y] = local(ev), f = Math.pow(1.0015, ev.deltaY), T = st.T;
    const zoom = (a, b, lg, c) => lg ? [c * Math.pow(a / c, f), c * Math.pow(b / c, f)] : [c + (a - c) * f, c + (b - c) * f];
    const [xa, xb] = st.shown.x_range, [ya, yb] = st.shown.y_range;
    setView(zoom(xa, xb, model.get("x_log"), T.dx(X)), zoom(ya, yb, model.get("y_log"), T.dy(Y)));
  }, {passive: false});
  el.gwPixel = (x, y) => { const b = canvas.getBoundingClientRect(); return [b.left + st.T.px(x), b.top + st.T.py(y)]; };
  el.gwData = (X, Y) => { const b = canvas.getBoundingClientRect(); return [st.T.dx(X - b.left), st.T.dy(Y - b.top)]; };
  el.gwSeries = () => model.get("series");
}

export default {
  render({ model, el }) {
    const canvas = document.createElement("canvas"), wrap = document.createElement("div");
    canvas.style.display = "block";
    wrap.style.cssText = "position:relative;display:inline-block;line-height:0";
    wrap.appendChild(canvas);
    el.appendChild(wrap);
    const st = {bitmap: null, images: 0, press: null, drag: null};
    let queued = false;
    const redraw = () => { if (!queued) { queued = true; queueMicrotask(() => { queued = false; draw(model, canvas, el, st); }); } };
    const loadImage = () => {
      const data = model.get("image");
      const n = data ? data.byteLength : 0;
      if (!n) { st.bitmap = null; redraw(); return; }
      const token = st.token = {};
      createImageBitmap(new Blob([data], {type: "image/png"})).then(bmp => {
        if (st.token !== token) return;
        st.bitmap = bmp; st.images += 1; draw(model, canvas, el, st);
      });
    };
    for (const name of ["series", "x_range", "y_range", "x_label", "y_label", "x_log", "y_log", "x_reverse", "width", "height",
                        "version", "image_extent"]) {
      model.on("change:" + name, redraw);
    }
    model.on("change:image", loadImage);
    toolbar(model, canvas, wrap, st, redraw);
    interact(model, canvas, el, st, redraw);
    draw(model, canvas, el, st);
    loadImage();
  }
};
""".replace("@FONT@", str(FONT_PX)).replace("@GAP@", str(LABEL_GAP_PX))
