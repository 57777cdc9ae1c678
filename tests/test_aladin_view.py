"""The Aladin view without a browser: the local Aladin Lite copy (download, checksum, inlined module), the
offline note, and the overlays sent for the session's pointings and regions once the widget has loaded."""
from __future__ import annotations

import base64
import hashlib
import io
import re
import tarfile

import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion, EllipseSkyRegion, PointSkyRegion

pytest.importorskip("ipyaladin")

from gw_testdata import STORES  # noqa: E402
from gwidgets.core.data import DataStore  # noqa: E402
from gwidgets.core.download import DownloadError  # noqa: E402
from gwidgets.state import AnalysisSession  # noqa: E402
from gwidgets.widgets import aladin_assets  # noqa: E402
from gwidgets.widgets.aladin_assets import (ALADIN_JS_ENV, MEMBER, AladinAssetError, fetch_aladin_js,  # noqa: E402
                                            find_aladin_js, local_widget_esm)
from gwidgets.widgets.aladin_view import AladinView  # noqa: E402

FAKE_JS = b"const A = {init: Promise.resolve(), aladin: () => null};\nexport{A as default};\n"
CRAB = SkyCoord(83.633, 22.014, unit="deg")


@pytest.fixture
def fake_js(tmp_path):
    path = tmp_path / "aladin.js"
    path.write_bytes(FAKE_JS)
    return path


@pytest.fixture
def no_local_copy(monkeypatch, tmp_path):
    monkeypatch.delenv(ALADIN_JS_ENV, raising=False)
    monkeypatch.setenv("GWIDGETS_DATA", str(tmp_path / "empty-data-dir"))


def _tarball(tmp_path, js=FAKE_JS, member=True):
    """An npm-style tarball holding ``js`` as package/dist/aladin.js (or, ``member=False``, as a README only)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo(MEMBER if member else "package/README.md")
        info.size = len(js)
        tar.addfile(info, io.BytesIO(js))
    data = buf.getvalue()
    path = tmp_path / "src" / "aladin-lite-test.tgz"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path.as_uri(), hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------ the local copy
def test_fetch_keeps_only_aladin_js_and_checks_the_sum(tmp_path):
    url, sha = _tarball(tmp_path)
    cache = tmp_path / "cache"
    path = fetch_aladin_js(cache_dir=cache, url=url, sha256=sha)
    assert path == cache / "aladin.js" and path.read_bytes() == FAKE_JS
    assert sorted(p.name for p in cache.iterdir()) == ["aladin.js"]  # tarball and .part removed
    assert fetch_aladin_js(cache_dir=cache, url="file:///nonexistent.tgz") == path  # cached: no download
    assert find_aladin_js(cache_dir=cache) == path

    with pytest.raises(DownloadError, match="Checksum mismatch"):
        fetch_aladin_js(cache_dir=tmp_path / "c2", url=url, sha256="0" * 64)
    assert not (tmp_path / "c2" / "aladin.js").exists()
    url, sha = _tarball(tmp_path, member=False)
    with pytest.raises(AladinAssetError, match="no readable package/dist/aladin.js"):
        fetch_aladin_js(cache_dir=tmp_path / "c3", url=url, sha256=sha)
    with pytest.raises(DownloadError, match="nonexistent"):
        fetch_aladin_js(cache_dir=tmp_path / "c4", url="file:///nonexistent/aladin.tgz", sha256=None)


def test_env_variable_wins_and_must_name_a_file(monkeypatch, fake_js, tmp_path):
    monkeypatch.setenv(ALADIN_JS_ENV, str(fake_js))
    assert find_aladin_js(cache_dir=tmp_path / "nothing") == fake_js
    monkeypatch.setenv(ALADIN_JS_ENV, str(tmp_path / "missing.js"))
    with pytest.raises(AladinAssetError, match=r"GWIDGETS_ALADIN_JS.*missing.js.*is not a file"):
        find_aladin_js()


def test_widget_module_imports_the_local_copy_not_the_cdn(fake_js, tmp_path):
    esm = local_widget_esm(fake_js)
    assert "esm.sh" not in esm
    urls = re.findall(r'from\s*"data:text/javascript;base64,([A-Za-z0-9+/=]+)"', esm)
    assert len(urls) == 1 and base64.b64decode(urls[0]) == FAKE_JS
    # the rest of ipyaladin's module is untouched
    original = aladin_assets._ipyaladin_widget_js()
    cdn = aladin_assets._IMPORT.search(original).group(1)
    assert esm.replace("data:text/javascript;base64," + urls[0], cdn) == original
    not_a_module = tmp_path / "notes.js"
    not_a_module.write_text("console.log('hello')")
    with pytest.raises(AladinAssetError, match="does not look like Aladin Lite"):
        local_widget_esm(not_a_module)


# ------------------------------------------------------------------ the view
@pytest.fixture(scope="module")
def store():
    return DataStore.from_dir(STORES["jc-hess"])


def _session(store):
    return AnalysisSession(store, background=False, required_irf="point-like")


def test_without_a_local_copy_the_view_is_a_note_with_a_download_button(store, no_local_copy):
    view = AladinView(_session(store))
    assert view.aladin is None and not view.loaded
    assert "gwidgets download aladin-lite" in view.note.value and "sky view shows the same" in view.note.value
    assert view.download_button.layout.display == "" and list(view.children) == [view.note, view.download_button]


def test_download_button_failure_is_shown_and_the_view_keeps_working(store, no_local_copy, monkeypatch):
    def offline(**_):
        raise DownloadError("Cannot reach registry.npmjs.org to download aladin-lite-3.9.2-beta.tgz: offline")

    monkeypatch.setattr("gwidgets.widgets.aladin_view.fetch_aladin_js", offline)
    view = AladinView(_session(store))
    view.download_button.click()
    assert "Download failed" in view.note.value and "registry.npmjs.org" in view.note.value
    assert view.download_button.layout.display == ""


def test_download_button_success_starts_aladin(store, no_local_copy, monkeypatch, fake_js):
    fetched = []
    monkeypatch.setattr("gwidgets.widgets.aladin_view.fetch_aladin_js", lambda **_: fetched.append(fake_js))
    monkeypatch.setattr("gwidgets.widgets.aladin_view.find_aladin_js", lambda: fetched[0] if fetched else None)
    view = AladinView(_session(store))
    assert view.aladin is None
    view.download_button.click()
    assert view.aladin is not None and view.aladin in view.children and "esm.sh" not in view.aladin._esm


def test_overlays_follow_the_session_once_loaded(store, fake_js):
    s = _session(store)
    view = AladinView(s, aladin_js=fake_js)
    sent = []
    view.aladin.send = lambda msg, buffers=None: sent.append(msg)
    ids = [int(i) for i in store.obs_table["OBS_ID"][:2]]
    s.select(ids)
    assert sent == [] and view.n_redraws == 0  # nothing queued before the page has loaded the widget

    view.aladin._is_loaded = True  # what the browser reports once Aladin Lite runs
    markers = [m for m in sent if m["event_name"] == "add_marker"]
    assert len(markers) == 1 and markers[0]["options"]["name"] == "gw-pointings"
    table = store.obs_table
    for marker in markers[0]["markers"]:
        row = list(table["OBS_ID"]).index(int(marker["title"].split()[-1]))
        assert marker["lon"] == pytest.approx(table["RA_PNT"][row]) and marker["lat"] == pytest.approx(table["DEC_PNT"][row])

    sent.clear()
    s.set_on_region(CircleSkyRegion(CRAB, 0.11 * u.deg))
    s.compute("off_regions")
    s.add_exclusion(EllipseSkyRegion(CRAB.directional_offset_by(0 * u.deg, 1.5 * u.deg), 0.4 * u.deg, 0.2 * u.deg))
    last = {}
    for m in sent:
        if m["event_name"] == "add_overlay":
            last[m["graphic_options"]["name"]] = m
    on = last["gw-on"]["regions_infos"]
    assert len(on) == 1 and on[0]["region_type"] == "circle"
    assert on[0]["infos"]["ra"] == pytest.approx(CRAB.ra.deg) and on[0]["infos"]["radius"] == pytest.approx(0.11)
    n_off = sum(len(r.regions) for r in s.off_regions.values())
    assert n_off > 0 and len(last["gw-off"]["regions_infos"]) == n_off
    assert last["gw-exclusion"]["regions_infos"][0]["region_type"] == "ellipse"
    # every redraw removes what it drew before: the widget holds one overlay per kind
    assert sorted(view.aladin._overlay_manager.keys()) == ["gw-exclusion", "gw-off", "gw-on", "gw-pointings"]
    assert any(m["event_name"] == "remove_overlay" for m in sent)
    assert f"{n_off} OFF" in view.note.value and "2 pointings" in view.note.value

    # a point region (energy-dependent RAD_MAX) has no outline: skipped, not an error
    s.set_on_region(PointSkyRegion(CRAB))
    assert "gw-on" not in view.aladin._overlay_manager.keys()


def test_dashboard_builds_the_aladin_tab(store, fake_js, monkeypatch):
    from gwidgets.app import Dashboard

    monkeypatch.setenv(ALADIN_JS_ENV, str(fake_js))
    dash = Dashboard(session=_session(store))
    assert not dash.tabs.is_built("Aladin sky")
    dash.tabs.selected_index = dash.tabs.titles.index("Aladin sky")
    assert isinstance(dash.aladin, AladinView) and dash.aladin.aladin is not None
    assert np.isfinite(float(dash.aladin.aladin.target.ra.deg))


def test_cli_download_aladin_lite_uses_the_cache(tmp_path, capsys):
    from gwidgets.cli import main

    cached = tmp_path / "aladin-lite" / aladin_assets.ALADIN_LITE_VERSION / "aladin.js"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(FAKE_JS)
    assert main(["download", "aladin-lite", "--dest", str(tmp_path), "--quiet"]) == 0
    assert str(cached) in capsys.readouterr().out
