"""The live fit view in a real browser (Voilà + headless Chromium) on the 10 joint-crab OGIP spectra.

Waits on text the kernel writes (``.gw-fit-info``, ``.gw-fit-params``, ``.gw-error``), so a
pass proves the browser → kernel → browser round trip; screenshots go to ``test-artifacts/``.
The fitted values shown in the page are compared with a plain core fit run in this test.
"""
from __future__ import annotations

import re

import pytest

from gwidgets.app.fit_app import SPECTRA_ENV, write_fit_notebook

from conftest import ROOT
from browser_helpers import server_env, voila_server

pytestmark = pytest.mark.browser
LOAD_TIMEOUT = 90_000
ALPHA = ".gw-param-crab-spectral-alpha"
#: every fit evaluation is published and paused a little: the live updates are visible in the page
SLOW_FIT = "session.fit_throttle = 0.0\nsession.fit_step_delay = 0.02"


@pytest.fixture(scope="module")
def spectra_dir(data_dir):
    path = data_dir / "joint-crab" / "results" / "spectra"
    if len(list(path.glob("*/pha_*.fits"))) != 10:
        pytest.skip("joint-crab OGIP spectra not available")
    return path


@pytest.fixture(scope="module")
def fit_url(spectra_dir, tmp_path_factory, playwright_browser):
    tmp = tmp_path_factory.mktemp("voila-fit")
    notebook = write_fit_notebook(tmp, extra_code=SLOW_FIT)
    with voila_server(notebook, tmp, server_env(**{SPECTRA_ENV: spectra_dir, "PYTHONPATH": ROOT})) as url:
        yield url


def open_app(new_page, url):
    page = new_page()
    page.goto(url, timeout=LOAD_TIMEOUT)
    page.wait_for_selector(".gw-fit-app", state="visible", timeout=LOAD_TIMEOUT)
    page.wait_for_selector(f"{ALPHA} .noUi-handle", state="visible", timeout=LOAD_TIMEOUT)
    page.wait_for_function("/draw \\d+/.test(document.querySelector('.gw-fit-info').innerText)", timeout=30_000)
    return page


def draws(page) -> int:
    return int(re.search(r"draw (\d+)", page.locator(".gw-fit-info").first.inner_text()).group(1))


#: the residual panel's pixels (a canvas): what the user sees, as a data URL
RESIDUAL_PIXELS = "document.querySelector('.gw-fit-residuals canvas').toDataURL()"
#: how many of the residual panel's pixels are painted (axes, points, bars)
PAINTED = ("(() => { const c = document.querySelector('.gw-fit-residuals canvas');"
           " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;"
           " for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; })()")


def residual_points(page):
    return page.evaluate(RESIDUAL_PIXELS)


def test_slider_redraws_residuals_and_bad_value_shows_error(fit_url, new_page, artifacts):
    page = open_app(new_page, fit_url)
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / "fit-01-loaded.png"), full_page=True)
    before, n0 = residual_points(page), draws(page)
    assert page.evaluate(PAINTED) > 2000  # axes, points and error bars are on the canvas
    page.locator(f"{ALPHA} .noUi-handle").first.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(f"document.querySelector('{ALPHA} .gw-param-value input').value === '2.575'")
    page.wait_for_function(f"parseInt(document.querySelector('.gw-fit-info').innerText.match(/draw (\\d+)/)[1]) > {n0}")
    page.wait_for_function(f"(b) => {RESIDUAL_PIXELS} !== b", arg=before)  # the residual pixels changed
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / "fit-02-slider-moved.png"), full_page=True)
    box = page.locator(f"{ALPHA} .gw-param-value input")
    box.fill("abc")
    box.press("Enter")
    page.wait_for_function("/is not a number/.test(document.querySelector('.gw-error').innerText)", timeout=10_000)
    assert "crab.spectral.alpha" in page.locator(".gw-error").first.inner_text()
    page.wait_for_function(f"document.querySelector('{ALPHA} .gw-param-value input').value === '2.575'")
    page.screenshot(path=str(artifacts / "fit-03-bad-value.png"), full_page=True)
    assert page.page_errors == [], page.page_errors


def test_fit_updates_live_and_ends_with_fitted_values(fit_url, new_page, artifacts, spectra_dir):
    from gwidgets.core.datasets import Datasets, SpectrumDatasetOnOff
    from gwidgets.core.fit import Fit
    from gwidgets.core.models import LogParabola, SkyModel

    page = open_app(new_page, fit_url)
    page.locator(".gw-fit-button").first.click()
    # drawn from the fit callback while the fit runs (the Stop button is enabled meanwhile)
    page.wait_for_function("/live fit updates [1-9]/.test(document.querySelector('.gw-fit-info').innerText)",
                           timeout=30_000)
    running = page.locator(".gw-fit-params").first.inner_text()
    page.screenshot(path=str(artifacts / "fit-04-running.png"), full_page=True)
    page.wait_for_function("/final/.test(document.querySelector('.gw-fit-params').innerText)", timeout=60_000)
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / "fit-05-done.png"), full_page=True)
    live = int(re.search(r"live fit updates (\d+)", page.locator(".gw-fit-info").first.inner_text()).group(1))
    assert live >= 3 and "running" in running
    shown = dict(re.findall(r"(amplitude|alpha|beta)\s+([-\d.e+]+)", page.locator(".gw-fit-params").first.inner_text()))
    # the same fit with the core API, in this process
    files = sorted(spectra_dir.glob("*/pha_*.fits"))
    ds = Datasets([SpectrumDatasetOnOff.read(f) for f in files])
    ds.set_fit_range(0.03, 30)
    ds.models = SkyModel(LogParabola(log_base=10, amplitude=3e-11, reference=1.0, alpha=2.5, beta=0.23), name="crab")
    ref = Fit().run(ds)
    for name in ("amplitude", "alpha", "beta"):
        assert float(shown[name]) == pytest.approx(ref.parameters[name].value, rel=1e-3), (name, shown)
    assert "correlation" in page.locator(".gw-fit-covariance").first.inner_text()
    # the model editor follows the fit
    page.wait_for_function(f"Math.abs(parseFloat(document.querySelector('{ALPHA} .gw-param-value input').value)"
                           f" - {ref.parameters['alpha'].value}) < 1e-3")
    assert page.page_errors == [], page.page_errors
