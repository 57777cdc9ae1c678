"""The canvas plots of the default dashboard in a real browser: sky zoom and pan, save buttons, readable axes.

``gwidgets dashboard`` (no PATH: the simulated store, opened with its first look: ON/OFF regions,
fitted model, flux points) is served by Voilà; headless Chromium

* zooms the sky view with the wheel and pans it by dragging: the sky point under the mouse stays under
  the mouse, and a circle drawn after zooming has the radius the zoomed scale gives (the kernel turns
  the page's click coordinates into the region), ⟲ returns to the map's extent;
* clicks *PNG* and *SVG* on the SED view: the PNG download decodes to the canvas's size, the SVG
  (drawn by the kernel with matplotlib) parses and holds the model line and the flux points;
* opens the Spectrum tab: the canvas draws the stacked spectrum (the counts it received sum to the
  counts the kernel reports; under every excess point the canvas pixel has the excess colour), and
  its *PNG* button downloads the plot;
* checks that no two tick labels of the sky, SED and spectrum axes overlap and that none leaves the
  canvas (boxes measured by the page's own ``measureText``).

Screenshots: ``test-artifacts/plots-sky-view.png``, ``plots-sky-zoomed.png``, ``plots-sed-view.png``,
``plots-spectrum-view.png`` (and the downloads ``plots-sed-download.png`` / ``.svg``,
``plots-spectrum-download.png``).
"""
from __future__ import annotations

import io
import sys
import xml.etree.ElementTree as ET

import pytest
from browser_helpers import free_port, server_env, server_log, start_server, stop

from conftest import ROOT

pytestmark = pytest.mark.browser

LOAD_TIMEOUT = 120_000
FIT_DONE = "/✔/.test((document.querySelector('.gw-fit-covariance') || {}).innerText || '')"
LAYOUT = "(sel) => document.querySelector(sel).gwLayout"
PLOT_BOX = ("(sel) => { const f = document.querySelector(sel), L = f.gwLayout, b = f.querySelector('canvas')"
            ".getBoundingClientRect(); return {x: b.left + L.m.l, y: b.top + L.m.t, w: L.pw, h: L.ph}; }")
DATA_AT = "([sel, x, y]) => document.querySelector(sel).gwData(x, y)"
#: the canvas pixel (RGB) under each point of the mark named ``name``, at the page's own data → pixel mapping
PIXELS_UNDER = """([sel, name]) => {
  const f = document.querySelector(sel), c = f.querySelector('canvas'), b = c.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1, ctx = c.getContext('2d');
  const s = f.gwSeries().find(m => m.name === name);
  return s.x.map((x, i) => { const [X, Y] = f.gwPixel(x, s.y[i]);
    const d = ctx.getImageData(Math.round((X - b.left) * dpr), Math.round((Y - b.top) * dpr), 1, 1).data;
    return [d[0], d[1], d[2]]; });
}"""


@pytest.fixture(scope="module")
def page(playwright_browser, tmp_path_factory):
    """The default dashboard served by Voilà, opened in Chromium, after its first look has fitted."""
    pytest.importorskip("voila")
    tmp = tmp_path_factory.mktemp("voila-plots")
    port = free_port()
    cmd = [sys.executable, "-m", "gwidgets.app.cli_dashboard", "--no-browser", f"--port={port}", "--ip=127.0.0.1"]
    proc = start_server(cmd, tmp, server_env(PYTHONPATH=ROOT), tmp / "cli.log", port)
    context = playwright_browser.new_context(viewport={"width": 1500, "height": 1300}, accept_downloads=True)
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
        ("http://127.0.0.1", "ws://127.0.0.1", "blob:", "data:")) else r.abort())
    p = context.new_page()
    errors = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    try:
        p.goto(f"http://127.0.0.1:{port}/", timeout=LOAD_TIMEOUT)
        p.wait_for_function(FIT_DONE, timeout=LOAD_TIMEOUT)
        p.wait_for_function("+document.querySelector('.gw-sky-figure').dataset.image >= 1", timeout=LOAD_TIMEOUT)
        p.wait_for_function("/OFF regions per observation/.test(document.querySelector('.gw-sky-info').innerText)",
                            timeout=LOAD_TIMEOUT)
        p.page_errors = errors
        yield p
    finally:
        context.close()
        code = stop(proc)
        proc.log_file.close()
    assert code == 0, server_log(proc)


def assert_readable(layout, what):
    """No two tick labels overlap, none leaves the canvas, none overlaps an axis title."""
    boxes, titles = layout["boxes"], layout["titles"]
    assert sum(b["axis"] == "x" for b in boxes) >= 2 and sum(b["axis"] == "y" for b in boxes) >= 2, (what, boxes)
    for b in boxes + titles:
        assert 0 <= b["x0"] and b["x1"] <= layout["W"] and 0 <= b["y0"] and b["y1"] <= layout["H"], (what, b)
    everything = boxes + titles
    for i, a in enumerate(everything):
        for b in everything[i + 1:]:
            apart = a["x1"] <= b["x0"] or b["x1"] <= a["x0"] or a["y1"] <= b["y0"] or b["y1"] <= a["y0"]
            assert apart, (what, a, b)


def test_spectrum_view_draws_and_its_png_downloads(page, artifacts):
    """The spectrum canvas draws what the kernel sent, readable; its PNG downloads.

    First in the module: the sky test then draws another ON region (off the source).
    """
    from PIL import Image

    page.locator(".gw-dashboard-tabs .lm-TabBar-tab", has_text="Spectrum").first.click()
    sel = ".gw-spectrum-figure"
    page.wait_for_function("/counts [1-9]/.test((document.querySelector('.gw-spectrum-info') || {}).innerText || '')",
                           timeout=60_000)
    page.wait_for_function(f"+(document.querySelector('{sel}') || {{dataset: {{}}}}).dataset.drawn >= 1")
    page.locator(sel).first.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.locator(".gw-spectrum-view").first.screenshot(path=str(artifacts / "plots-spectrum-view.png"))
    layout = page.evaluate(LAYOUT, sel)
    assert_readable(layout, "spectrum")
    # what the canvas received is what the kernel reports: the counts steps (each bin's value twice) sum to it
    info = page.locator(".gw-spectrum-info").first.inner_text()
    series = {s["name"]: s for s in page.evaluate(f"document.querySelector('{sel}').gwSeries()")}
    assert {"counts", "background", "excess-errors", "excess"} <= set(series)
    counts = [v for v in series["counts"]["y"][0::2] if v is not None]
    assert f"counts {sum(counts):.0f}," in info, (info, sum(counts))
    # and it is drawn: the canvas pixel under every excess point has the excess colour (#1f77b4)
    pixels = page.evaluate(PIXELS_UNDER, [sel, "excess"])
    assert len(pixels) >= 5
    for rgb in pixels:
        assert max(abs(a - b) for a, b in zip(rgb, (0x1F, 0x77, 0xB4))) < 40, pixels
    # PNG: saved by the browser from the canvas, the plotted size
    page.hover(sel)
    with page.expect_download(timeout=30_000) as download_info:
        page.locator(f"{sel} .gw-save-png").first.click()
    download = download_info.value
    assert download.suggested_filename == "spectrum.png"
    path = artifacts / "plots-spectrum-download.png"
    download.save_as(str(path))
    dpr = page.evaluate("window.devicePixelRatio")
    with Image.open(path) as im:
        im.load()
        assert im.format == "PNG" and im.size == (round(layout["W"] * dpr), round(layout["H"] * dpr))
        assert len(im.getcolors(1_000_000) or []) > 20  # not blank: axes, text, steps, points
    assert page.page_errors == []


def test_sky_zoom_and_pan(page, artifacts):
    """Wheel zoom and drag pan keep the sky under the mouse; ⟲ resets; a circle drawn zoomed has the zoomed radius."""
    sel = ".gw-sky-figure"
    page.locator(sel).first.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.locator(sel).first.screenshot(path=str(artifacts / "plots-sky-view.png"))
    assert_readable(page.evaluate(LAYOUT, sel), "sky")
    home = page.evaluate(LAYOUT, sel)
    box = page.evaluate(PLOT_BOX, sel)
    # wheel zoom around a point: that sky point stays under the mouse, the span shrinks by 1.0015^-400
    mx, my = box["x"] + 0.3 * box["w"], box["y"] + 0.35 * box["h"]
    under = page.evaluate(DATA_AT, [sel, mx, my])
    page.mouse.move(mx, my)
    page.mouse.wheel(0, -400)
    page.wait_for_function("(w) => { const r = document.querySelector('.gw-sky-figure').gwLayout.x_range;"
                           " return r[1] - r[0] < w * 0.8; }", arg=home["x_range"][1] - home["x_range"][0])
    page.wait_for_timeout(200)
    zoomed = page.evaluate(LAYOUT, sel)
    span0, span1 = (home["x_range"][1] - home["x_range"][0]), (zoomed["x_range"][1] - zoomed["x_range"][0])
    assert span1 / span0 == pytest.approx(1.0015 ** -400, rel=0.02)
    assert page.evaluate(DATA_AT, [sel, mx, my]) == pytest.approx(under, abs=1e-3 * span0)
    # drag pan (away from the ON centre's handle): the point grabbed follows the mouse
    gx, gy = box["x"] + 0.8 * box["w"], box["y"] + 0.8 * box["h"]
    grabbed = page.evaluate(DATA_AT, [sel, gx, gy])
    page.mouse.move(gx, gy)
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(gx - 8 * k, gy - 5 * k)
    page.mouse.up()
    page.wait_for_timeout(200)
    assert page.evaluate(DATA_AT, [sel, gx - 80, gy - 50]) == pytest.approx(grabbed, abs=2e-3 * span0)
    panned = page.evaluate(LAYOUT, sel)
    deg_per_px = (panned["x_range"][1] - panned["x_range"][0]) / panned["pw"]
    assert panned["x_range"][0] - zoomed["x_range"][0] == pytest.approx(-80 * deg_per_px, rel=0.05)  # x grows left
    assert_readable(panned, "sky zoomed")
    page.locator(sel).first.screenshot(path=str(artifacts / "plots-sky-zoomed.png"))
    # ⟲: back to the map's extent (the kernel resets the range)
    page.locator(f"{sel} .gw-reset-view").first.click()
    page.wait_for_function("(r) => { const x = document.querySelector('.gw-sky-figure').gwLayout.x_range;"
                           " return Math.abs(x[0] - r[0]) < 1e-9 && Math.abs(x[1] - r[1]) < 1e-9; }",
                           arg=home["x_range"], timeout=10_000)
    # a circle drawn on a zoomed view: the kernel's radius is the click distance at the zoomed scale
    page.mouse.move(mx, my)
    page.mouse.wheel(0, -400)
    page.wait_for_timeout(300)
    zoomed = page.evaluate(LAYOUT, sel)
    deg_per_px = (zoomed["x_range"][1] - zoomed["x_range"][0]) / zoomed["pw"]
    cx, cy = box["x"] + 0.5 * box["w"], box["y"] + 0.5 * box["h"]
    page.mouse.click(cx, cy)
    page.wait_for_timeout(300)
    page.mouse.click(cx + 60, cy)
    page.wait_for_function(f"Math.abs(parseFloat(document.querySelector('.gw-on-radius input').value) - "
                           f"{60 * deg_per_px}) < {0.03 * 60 * deg_per_px}", timeout=30_000)
    assert page.page_errors == []


def test_sed_save_buttons_and_axes(page, artifacts):
    """SED axes readable; PNG and SVG downloads hold the plot."""
    from PIL import Image

    page.locator(".gw-dashboard-tabs .lm-TabBar-tab", has_text="SED").first.click()
    sel = ".gw-sed-figure"
    page.wait_for_function("parseInt((document.querySelector('.gw-sed-fp-info') || {}).innerText) >= 4",
                           timeout=60_000)
    page.wait_for_function("/1σ band/.test((document.querySelector('.gw-sed-info') || {}).innerText || '')")
    page.locator(sel).first.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.locator(".gw-sed-view").first.screenshot(path=str(artifacts / "plots-sed-view.png"))
    layout = page.evaluate(LAYOUT, sel)
    assert_readable(layout, "sed")
    assert any(b["label"] in ("1", "10") for b in layout["boxes"] if b["axis"] == "x"), layout["boxes"]
    # PNG: saved by the browser from the canvas, the plotted size
    page.hover(sel)
    with page.expect_download(timeout=30_000) as info:
        page.locator(f"{sel} .gw-save-png").first.click()
    download = info.value
    assert download.suggested_filename == "sed.png"
    path = artifacts / "plots-sed-download.png"
    download.save_as(str(path))
    dpr = page.evaluate("window.devicePixelRatio")
    with Image.open(path) as im:
        im.load()
        assert im.format == "PNG" and im.size == (round(layout["W"] * dpr), round(layout["H"] * dpr))
        assert len(im.getcolors(1_000_000) or []) > 20  # not blank: axes, text, band, points
    # SVG: drawn by the kernel (matplotlib) from the same data, sent back and downloaded
    with page.expect_download(timeout=60_000) as info:
        page.locator(f"{sel} .gw-save-svg").first.click()
    download = info.value
    assert download.suggested_filename == "sed.svg"
    path = artifacts / "plots-sed-download.svg"
    download.save_as(str(path))
    root = ET.parse(io.BytesIO(path.read_bytes())).getroot()
    ids = {el.get("id") for el in root.iter()}
    assert {"model", "band", "flux-points"} <= ids, sorted(i for i in ids if i)
    texts = "".join(el.text or "" for el in root.iter() if el.tag.endswith("text"))
    assert "E [TeV]" in texts
    assert page.page_errors == []

