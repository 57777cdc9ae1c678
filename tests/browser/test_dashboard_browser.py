"""The dashboard in a real browser: Voilà serves the dashboard notebook on real data
(joint-crab H.E.S.S., point-like IRFs) and headless Chromium drives it.

Each test loads its own page (its own kernel) and waits for text that the
*kernel* writes, so a pass proves the browser → kernel → browser round trip.
Screenshots of each state go to ``test-artifacts/``.
"""
from __future__ import annotations

import re

import pytest

from gwidgets.app.cli_dashboard import IRF_ENV, STORE_ENV, write_notebook

from conftest import ROOT
from browser_helpers import server_env, voila_server

pytestmark = pytest.mark.browser

#: a colour in the sky canvas near the page point (x, y): the brightest green of a 7x7 px patch
GREEN_NEAR = """([x, y]) => { const c = document.querySelector('.gw-sky-figure canvas'), b = c.getBoundingClientRect();
  const d = c.getContext('2d').getImageData(Math.round(x - b.left) - 3, Math.round(y - b.top) - 3, 7, 7).data;
  let best = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 120 && d[i + 2] < 200) best = Math.max(best, d[i + 1]);
  return best; }"""
LOAD_TIMEOUT = 90_000
ALPHA = ".gw-param-source-spectral-alpha"


@pytest.fixture(scope="module")
def dashboard_url(stores, tmp_path_factory, playwright_browser):  # the browser first: skip before starting Voilà
    tmp = tmp_path_factory.mktemp("voila-dashboard")
    notebook = write_notebook(tmp)
    env = server_env(**{STORE_ENV: stores["jc-hess"], IRF_ENV: "point-like", "PYTHONPATH": ROOT})  # this checkout, not an installed copy
    with voila_server(notebook, tmp, env) as url:
        yield url


def open_dashboard(new_page, url):
    page = new_page()
    page.goto(url, timeout=LOAD_TIMEOUT)
    page.wait_for_selector(".gw-dashboard", state="visible", timeout=LOAD_TIMEOUT)
    page.wait_for_selector(f"{ALPHA} .noUi-handle", state="visible", timeout=LOAD_TIMEOUT)
    return page


def text_of(page, selector) -> str:
    return page.locator(selector).first.inner_text()


def select_observations(page, n=2):
    listing = page.locator(".gw-obs-list select")
    listing.wait_for(state="visible")
    listing.select_option(index=list(range(n)))
    # written by the kernel once the counts map is computed and drawn
    page.wait_for_function(
        "document.querySelector('.gw-sky-info') && /counts in the map/.test(document.querySelector('.gw-sky-info').innerText)",
        timeout=60_000)
    page.wait_for_function(f"/<b>{n}<\\/b> selected/.test(document.querySelector('.gw-obs-summary').innerHTML)")


def check_clean(page):
    assert page.page_errors == [], page.page_errors
    assert not any("Could not create a view" in m for m in page.console_errors), page.console_errors
    # only the Voilà template's Font Awesome CSS tries to leave the machine
    assert all("fontawesome" in u or "font-awesome" in u for u in page.external_requests), page.external_requests


def test_dashboard_loads(dashboard_url, new_page, artifacts):
    page = open_dashboard(new_page, dashboard_url)
    assert "gwidgets" in text_of(page, ".gw-dashboard h3")
    assert page.locator(".gw-model-editor .gw-param-row").count() == 6  # LogParabola (4) + point source (2)
    assert page.locator(".gw-sky-figure canvas").count() == 1
    assert page.locator(".bqplot").count() == 0  # nothing on the first page is bqplot (its bundle need not load)
    # the fit view is shown at once; the spectrum and SED views are built by the kernel when their tab
    # is first opened (empty until there are spectra)
    assert page.locator(".gw-fit-view").first.is_visible()
    assert page.locator(".gw-spectrum-view").count() == 0
    for tab, view in (("Spectrum", ".gw-spectrum-view"), ("SED", ".gw-sed-view")):
        page.locator(".gw-dashboard-tabs .lm-TabBar-tab", has_text=tab).first.click()
        page.wait_for_selector(view, state="visible", timeout=30_000)
    assert "No spectra yet" in text_of(page, ".gw-spectrum-info")
    page.locator(".gw-dashboard-tabs .lm-TabBar-tab", has_text="Fit").first.click()
    page.wait_for_selector(".gw-fit-view", state="visible")
    assert page.locator(".gw-error").first.inner_text().strip() == ""
    # showing the model must not change it (sliders snap to their grid in the browser)
    page.wait_for_timeout(500)
    assert text_of(page, ".gw-model-version") == "model version 1"
    assert page.locator(".gw-param-source-spectral-amplitude .gw-param-value input").input_value() == "3.5e-11"
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / "dashboard-01-loaded.png"), full_page=True)
    check_clean(page)


def test_model_editor_round_trips(dashboard_url, new_page, artifacts):
    """A slider moved with the keyboard and values typed in a parameter box reach the kernel."""
    page = open_dashboard(new_page, dashboard_url)
    page.wait_for_function("/model version \\d+/.test(document.querySelector('.gw-model-version').innerText)")
    before = text_of(page, ".gw-model-version")
    value_box = page.locator(f"{ALPHA} .gw-param-value input")
    assert value_box.input_value() == "2.5"

    # 1. keyboard on the slider handle: each ArrowRight is one step (0.025 for alpha in [0, 5])
    page.locator(f"{ALPHA} .noUi-handle").first.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    # both texts are written by the kernel: the parameter moved and the session counted it
    page.wait_for_function(
        "(b) => document.querySelector('.gw-model-version').innerText !== b", arg=before, timeout=10_000)
    page.wait_for_function(f"document.querySelector('{ALPHA} .gw-param-value input').value === '2.55'", timeout=10_000)
    n_before = int(re.search(r"\d+", before).group())
    page.wait_for_function(
        f"parseInt(document.querySelector('.gw-model-version').innerText.match(/\\d+/)[0]) >= {n_before + 2}")
    page.wait_for_timeout(500)  # let noUiSlider finish its animation before the screenshot
    page.screenshot(path=str(artifacts / "dashboard-03-slider.png"), full_page=True)

    # 2. a value that is not a number: error in the page, the kept value back in the box
    value_box.fill("abc")
    value_box.press("Enter")
    page.wait_for_function("/is not a number/.test(document.querySelector('.gw-error').innerText)", timeout=10_000)
    error = text_of(page, ".gw-error")
    assert "source.spectral.alpha" in error and "'abc'" in error, error
    page.wait_for_function(f"document.querySelector('{ALPHA} .gw-param-value input').value === '2.55'")
    page.screenshot(path=str(artifacts / "dashboard-04-bad-value.png"), full_page=True)

    # 3. an out-of-bounds value is refused the same way (lat_0 is bounded to [-90, 90])
    lat = page.locator(".gw-param-source-spatial-lat_0 .gw-param-value input")
    lat.fill("95")
    lat.press("Enter")
    page.wait_for_function("/outside its bounds/.test(document.querySelector('.gw-error').innerText)", timeout=10_000)

    # 4. a good value is taken and clears the error
    value_box.fill("2.7")
    value_box.press("Enter")
    page.wait_for_function("document.querySelector('.gw-error').innerText.trim() === ''", timeout=10_000)
    check_clean(page)


def test_counts_map_and_on_region(dashboard_url, new_page, artifacts):
    """Select observations in the list → counts map; two clicks on the map → ON region and OFF regions."""
    page = open_dashboard(new_page, dashboard_url)
    images_before = int(page.locator(".gw-sky-figure").first.get_attribute("data-image") or 0)
    select_observations(page, 2)
    info = text_of(page, ".gw-sky-info")
    counts = int(re.match(r"(\d+) counts", info).group(1))
    assert counts > 100, info
    page.wait_for_function("(n) => +document.querySelector('.gw-sky-figure').dataset.image > n", arg=images_before)
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / "dashboard-02-counts-map.png"), full_page=True)

    # the plot area (the counts map fills it until zoomed)
    box = page.evaluate("(() => { const f = document.querySelector('.gw-sky-figure'), L = f.gwLayout,"
                        " b = f.querySelector('canvas').getBoundingClientRect();"
                        " return {x: b.left + L.m.l, y: b.top + L.m.t, width: L.pw, height: L.ph}; })()")
    assert box and box["width"] > 100, box
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    centre = page.evaluate("([x, y]) => document.querySelector('.gw-sky-figure').gwData(x, y)", [cx + 15, cy - 10])
    page.mouse.click(cx + 15, cy - 10)  # the centre, a little off the middle
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / "dashboard-05a-centre-clicked.png"), full_page=True)
    page.mouse.click(cx + 15 + 0.1 * box["width"], cy - 10)  # a point on the edge: radius = 10 % of the map width
    page.wait_for_function("/ON region set/.test(document.querySelector('.gw-sky-info').innerText)", timeout=30_000)
    radius = float(page.locator(".gw-on-radius input").input_value())
    assert radius == pytest.approx(0.5, rel=0.15), radius  # the map is 5° wide
    # the ON circle is drawn around the clicked centre (the new map, centred on the ON region, resets the
    # view: find the circle through its sky position): green one radius away from the centre, none half-way
    page.wait_for_timeout(1500)
    at = "([x, y]) => document.querySelector('.gw-sky-figure').gwPixel(x, y)"
    edge_green = page.evaluate(GREEN_NEAR, page.evaluate(at, [centre[0] + radius, centre[1]]))
    half_green = page.evaluate(GREEN_NEAR, page.evaluate(at, [centre[0] + radius / 2, centre[1]]))
    assert edge_green > 180 and half_green < 150, (edge_green, half_green)
    page.screenshot(path=str(artifacts / "dashboard-05b-on-region.png"), full_page=True)
    check_clean(page)
