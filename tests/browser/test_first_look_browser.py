"""``gwidgets dashboard`` with no PATH opens with the analysis done (issue 12, part 4), in a real browser.

The command serves the dashboard on the simulated example store; the page must show, with no
click: all observations selected, the ON and reflected OFF regions on the sky map, a converged
fit (result ✔, residual panel drawn), the banner, and — in their tabs — the spectrum and the SED
with its band and flux points; no error anywhere. Screenshots go to ``test-artifacts/``
(``first-look[-no-preheat]-01-first-paint.png``: the page when the model editor's sliders appear, the
first-paint criterion of benchmarks/bench_widgets.py; ``-02-fitted.png``: the fitted state; ``-03-sed.png``).
"""
from __future__ import annotations

import json
import sys
import time

import pytest

from conftest import ROOT
from browser_helpers import free_port, server_env, server_log, start_server, stop

pytestmark = pytest.mark.browser

LOAD_TIMEOUT = 120_000
FIT_DONE = "/✔/.test((document.querySelector('.gw-fit-covariance') || {}).innerText || '')"


@pytest.mark.parametrize("preheat", [True, False], ids=["preheated", "no-preheat"])
def test_default_dashboard_shows_the_analysis(new_page, artifacts, tmp_path, preheat):
    """Pre-heated (the default): the kernel has analysed before the page asks. ``--no-preheat``: the
    kernel starts with the request and the first look starts once the browser shows the tabs."""
    pytest.importorskip("voila")
    port = free_port()
    cmd = [sys.executable, "-m", "gwidgets.app.cli_dashboard", "--no-browser", f"--port={port}", "--ip=127.0.0.1"]
    cmd += [] if preheat else ["--no-preheat"]
    tag = "" if preheat else "-no-preheat"
    proc = start_server(cmd, tmp_path, server_env(PYTHONPATH=ROOT), tmp_path / "cli.log", port)
    try:
        page = new_page()
        t0 = time.perf_counter()
        page.goto(f"http://127.0.0.1:{port}/", timeout=LOAD_TIMEOUT)
        page.wait_for_selector(".gw-dashboard .noUi-handle", state="visible", timeout=LOAD_TIMEOUT)
        first_paint = time.perf_counter() - t0
        page.screenshot(path=str(artifacts / f"first-look{tag}-01-first-paint.png"), full_page=True)
        page.wait_for_function(FIT_DONE, timeout=LOAD_TIMEOUT)
        fitted = time.perf_counter() - t0

        banner = page.locator(".gw-first-look").first.inner_text()
        assert "Simulated data" in banner and "20 observations" in banner and "bright" in banner, banner
        assert "Draw another ON region" in banner, banner
        # every observation selected, in the list and in its summary
        assert page.locator(".gw-obs-list select option:checked").count() == 20
        assert "20" in page.locator(".gw-obs-summary").first.inner_text()
        # sky map: the counts image, the ON circle and the reflected OFF circles, the OFF count per observation
        page.wait_for_function("/counts in the map|OFF regions per observation/.test("
                               "document.querySelector('.gw-sky-info').innerText)", timeout=LOAD_TIMEOUT)
        page.wait_for_function("+document.querySelector('.gw-sky-figure').dataset.image >= 1", timeout=LOAD_TIMEOUT)
        assert float(page.locator(".gw-on-radius input").input_value()) == pytest.approx(0.11)
        # the sky axes fit the data: tick labels around RA 83.6°, Dec 22° (not RA 0 … 86°)
        ticks = page.evaluate("document.querySelector('.gw-sky-figure').gwLayout.boxes"
                              ".map(t => parseFloat(t.label)).filter(v => !isNaN(v))")
        assert ticks and min(ticks) > 15 and max(ticks) < 90, ticks
        ra_ticks = [t for t in ticks if t > 50]
        assert ra_ticks and min(ra_ticks) > 78 and max(ra_ticks) < 89, ticks
        # the fit panel: residuals drawn, the fitted parameters listed as final
        page.wait_for_function("document.querySelector('.gw-fit-residuals').dataset.drawn !== undefined")
        page.wait_for_function("/Parameters \\(final\\)/.test(document.querySelector('.gw-fit-params').innerText)",
                               timeout=15_000)
        page.locator(".gw-fit-view").first.scroll_into_view_if_needed()  # Voilà scrolls inside its own element
        page.wait_for_timeout(500)
        page.screenshot(path=str(artifacts / f"first-look{tag}-02-fitted.png"), full_page=True)

        page.locator(".gw-dashboard-tabs .lm-TabBar-tab", has_text="Spectrum").first.click()
        # the fit stacks the 20 runs (the default): one stacked dataset with their counts
        page.wait_for_function("/stacked: 1 dataset\\(s\\), counts [1-9]/.test((document.querySelector('.gw-spectrum-info') || {})"
                               ".innerText || '')", timeout=30_000)
        page.locator(".gw-dashboard-tabs .lm-TabBar-tab", has_text="SED").first.click()
        page.wait_for_function("/1σ band/.test((document.querySelector('.gw-sed-info') || {}).innerText || '')",
                               timeout=30_000)
        page.wait_for_function("parseInt((document.querySelector('.gw-sed-fp-info') || {}).innerText) >= 4",
                               timeout=30_000)
        page.locator(".gw-sed-view").first.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        page.screenshot(path=str(artifacts / f"first-look{tag}-03-sed.png"), full_page=True)

        assert page.locator(".gw-error").first.inner_text().strip() == ""
        assert page.page_errors == [], page.page_errors
        assert not any("Could not create a view" in m for m in page.console_errors), page.console_errors
        timing = {"first_paint_s": round(first_paint, 2), "fit_shown_s": round(fitted, 2)}
        (artifacts / f"first-look{tag}-timing.json").write_text(json.dumps(timing))
        print(f"first look{tag}: {timing}")
    finally:
        code = stop(proc)
        proc.log_file.close()
    assert code == 0, server_log(proc)
