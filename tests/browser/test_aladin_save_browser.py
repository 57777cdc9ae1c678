"""Saving the Aladin view in a real browser (Voilà + headless Chromium, offline): Aladin Lite makes the picture.

* *PNG* over the view: the page's picture travels to the kernel and back as a download (``aladin.png``) whose size
  is the Aladin view's on the page and whose green pixels (the ON region's colour; the survey itself cannot load
  offline) form the ON circle: centred in the picture (the view is centred on it) with the radius 0.3° has in a
  3° wide field;
* ``view.save(path)`` from Python (a button in the notebook calls it): the file is written by the kernel once the
  page has answered, and ``on_saved`` is told; the temporary file of the button path is gone.
"""
from __future__ import annotations

import io
import tempfile
from pathlib import Path

import nbformat
import numpy as np
import pytest
from browser_helpers import server_env, voila_server
from PIL import Image

from conftest import ROOT
from gwidgets.core.download import DownloadError
from gwidgets.widgets.aladin_assets import ALADIN_JS_ENV, fetch_aladin_js, find_aladin_js

pytestmark = pytest.mark.browser

CODE = """
import astropy.units as u
import ipywidgets as w
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion
import gwidgets as gw
from gwidgets.state import AnalysisSession
from gwidgets.widgets.aladin_view import AladinView

store = gw.DataStore.from_dir({store!r})
session = AnalysisSession(store, background=False, required_irf="point-like")
session.select([int(i) for i in store.obs_table["OBS_ID"][:2]])
session.set_on_region(CircleSkyRegion(SkyCoord(83.633, 22.014, unit="deg"), 0.3 * u.deg))
view = AladinView(session, fov=3.0)
done = w.HTML()
done.add_class("test-saved")
save = w.Button(description="save from Python")
save.add_class("test-save-python")
save.on_click(lambda _: view.save({target!r}, on_saved=lambda p: setattr(done, "value", "saved " + str(p))))
w.VBox([save, done, view])
"""

#: the ON region's colour (aladin_view.STYLES)
GREEN = (0x00, 0xE6, 0x76)
ON_RADIUS, FOV = 0.3, 3.0  # deg


@pytest.fixture(scope="module")
def aladin_js(tmp_path_factory):
    """A local Aladin Lite copy (the user's, or fetched from the npm registry into a temporary folder)."""
    path = find_aladin_js()
    if path is not None:
        return path
    try:
        return fetch_aladin_js(cache_dir=tmp_path_factory.mktemp("aladin-lite"))
    except DownloadError as exc:
        pytest.skip(f"no local Aladin Lite copy and the npm registry is not reachable: {exc}")


def _green_circle(rgb: np.ndarray):
    """Centre (x, y) and mean radius in px of the pixels of the ON region's colour, and how many there are."""
    ys, xs = np.nonzero(np.abs(rgb.astype(int) - np.array(GREEN)).max(axis=-1) <= 40)
    cx, cy = xs.mean(), ys.mean()
    return cx, cy, float(np.hypot(xs - cx, ys - cy).mean()), xs.size


def _leftovers() -> set:
    return set(Path(tempfile.gettempdir()).glob("gwidgets-aladin-*"))


def test_aladin_view_saves_what_aladin_lite_draws(stores, aladin_js, new_page, artifacts, tmp_path,
                                                  playwright_browser):
    """PNG button and ``view.save``: the picture Aladin Lite makes, with the session's overlays."""
    target = tmp_path / "aladin-from-python.png"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CODE.format(store=str(stores["jc-hess"]), target=str(target)))]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook = tmp_path / "aladin-save.ipynb"
    nbformat.write(nb, str(notebook))
    before = _leftovers()
    env = server_env(PYTHONPATH=ROOT, **{ALADIN_JS_ENV: aladin_js})
    with voila_server(notebook, tmp_path, env) as url:
        page = new_page()
        page.goto(url, timeout=120_000)
        drawn = "document.querySelector('.gw-aladin-drawn')"
        page.wait_for_function(f"{drawn} && /1 ON, \\d+ OFF, 0 exclusion regions, 2 pointings/.test({drawn}.innerText)",
                               timeout=90_000)
        page.wait_for_timeout(1500)  # Aladin Lite draws the overlays on its next frame
        box = page.locator(".gw-aladin-view .aladin-widget").bounding_box()
        with page.expect_download(timeout=60_000) as info:
            page.locator(".gw-aladin-save-png").click()
        download = info.value
        assert download.suggested_filename == "aladin.png"
        path = artifacts / "aladin-download.png"
        download.save_as(str(path))
        image = Image.open(io.BytesIO(path.read_bytes()))
        assert image.size == (round(box["width"]), round(box["height"]))
        cx, cy, radius, n = _green_circle(np.asarray(image.convert("RGB")))
        assert n > 200, "the ON circle is not in the picture"
        assert (cx, cy) == pytest.approx((image.width / 2, image.height / 2), abs=4)
        assert radius == pytest.approx(ON_RADIUS / FOV * image.width, rel=0.05)
        # from Python: written by the kernel when the page answered
        page.locator(".test-save-python").click()
        page.wait_for_function("/saved /.test(document.querySelector('.test-saved').innerText)", timeout=60_000)
        assert page.locator(".test-saved").inner_text().strip() == f"saved {target}"
        saved = Image.open(target)
        assert saved.format == "PNG" and saved.size == image.size
        assert _green_circle(np.asarray(saved.convert("RGB")))[2] == pytest.approx(radius, abs=1)
        page.screenshot(path=str(artifacts / "aladin-03-saved.png"), full_page=True)
        assert not any("esm.sh" in u for u in page.external_requests), page.external_requests
    assert _leftovers() <= before, "the button's temporary file was left behind"
