"""The Aladin view in a real browser, offline: Aladin Lite from the local copy (no CDN), the session's
regions drawn, the page free of errors; without the local copy, a note and the rest of the page intact.

The local copy is ``$GWIDGETS_ALADIN_JS``, the user cache, or fetched from the npm registry into a
temporary folder (skipped when none of these is possible). Every request that leaves the machine is
aborted (conftest.py): the HiPS survey tiles fail, which must not break the view.
"""
from __future__ import annotations

import nbformat
import pytest

from gwidgets.core.download import DownloadError
from gwidgets.widgets.aladin_assets import ALADIN_JS_ENV, fetch_aladin_js, find_aladin_js

from conftest import ROOT
from browser_helpers import free_port, server_env, server_log, start_server, stop

pytestmark = pytest.mark.browser

#: what Aladin Lite throws (uncaught, inside its own code) when the HiPS survey cannot be fetched
SURVEY_ERRORS = ("Failed to fetch", "HiPS", "rootURL", "NetworkError")

CODE = """
import astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion
import gwidgets as gw
from gwidgets.state import AnalysisSession
from gwidgets.widgets.aladin_view import AladinView

store = gw.DataStore.from_dir({store!r})
session = AnalysisSession(store, background=False, required_irf="point-like")
session.select([int(i) for i in store.obs_table["OBS_ID"][:2]])
session.set_on_region(CircleSkyRegion(SkyCoord(83.633, 22.014, unit="deg"), 0.11 * u.deg))
session.compute("off_regions")
view = AladinView(session, fov=3.0)
view
"""


@pytest.fixture(scope="module")
def aladin_js(tmp_path_factory):
    path = find_aladin_js()
    if path is not None:
        return path
    try:
        return fetch_aladin_js(cache_dir=tmp_path_factory.mktemp("aladin-lite"))
    except DownloadError as exc:
        pytest.skip(f"no local Aladin Lite copy and the npm registry is not reachable: {exc}")


def _serve(tmp, stores, env_extra):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CODE.format(store=str(stores["jc-hess"])))]
    nbformat.write(nb, tmp / "aladin.ipynb")
    port = free_port()
    cmd = [__import__("sys").executable, "-m", "voila", str(tmp / "aladin.ipynb"), "--no-browser", f"--port={port}",
           "--Voila.ip=127.0.0.1", "--show_tracebacks=True"]
    env = server_env(PYTHONPATH=ROOT, **env_extra)
    return start_server(cmd, tmp, env, tmp / "voila.log", port), f"http://127.0.0.1:{port}/"


def test_aladin_loads_from_the_local_copy_and_draws_the_regions(stores, aladin_js, new_page, artifacts,
                                                                 tmp_path, playwright_browser):
    proc, url = _serve(tmp_path, stores, {ALADIN_JS_ENV: aladin_js})
    try:
        page = new_page()
        page.goto(url, timeout=90_000)
        page.wait_for_selector(".gw-aladin-view canvas", state="attached", timeout=90_000)
        # written by the kernel once the browser reported Aladin Lite loaded and the overlays were sent
        page.wait_for_function(
            "document.querySelector('.gw-aladin-drawn') && "
            "/1 ON, \\d+ OFF, 0 exclusion regions, 2 pointings/.test(document.querySelector('.gw-aladin-drawn').innerText)",
            timeout=60_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(artifacts / "aladin-01-local-copy.png"), full_page=True)
        # the survey cannot load offline: Aladin Lite reports it as uncaught promise rejections, nothing else
        others = [e for e in page.page_errors if not any(k in e for k in SURVEY_ERRORS)]
        assert others == [], page.page_errors
        assert not any("esm.sh" in u for u in page.external_requests), page.external_requests
        # only survey tiles (and the template's Font Awesome) were attempted off the machine
        assert all("unistra.fr" in u or "awesome" in u for u in page.external_requests), page.external_requests[:5]
    finally:
        code = stop(proc)
        proc.log_file.close()
        assert code == 0, server_log(proc)


def test_without_the_local_copy_the_page_shows_a_note(stores, new_page, artifacts, tmp_path, playwright_browser):
    proc, url = _serve(tmp_path, stores, {ALADIN_JS_ENV: "", "GWIDGETS_DATA": tmp_path / "no-data"})
    try:
        page = new_page()
        page.goto(url, timeout=90_000)
        page.wait_for_selector(".gw-aladin-note", state="visible", timeout=90_000)
        assert "gwidgets download aladin-lite" in page.locator(".gw-aladin-note").inner_text()
        assert page.locator(".gw-aladin-download").is_visible()
        page.screenshot(path=str(artifacts / "aladin-02-no-local-copy.png"), full_page=True)
        assert page.page_errors == [], page.page_errors
        assert not any("esm.sh" in u for u in page.external_requests), page.external_requests
    finally:
        code = stop(proc)
        proc.log_file.close()
        assert code == 0, server_log(proc)
