"""`gwidgets download`: checksums, resume with HTTP Range, offline message — against a local http.server."""
from __future__ import annotations

import hashlib
import http.server
import os
import socket
import threading
from pathlib import Path

import pytest

from gwidgets.cli import main
from gwidgets.core import download as dl
from gwidgets.core.download import DownloadError, FileEntry, download, download_file, load_manifest, sha256sum

PAYLOAD = os.urandom(200_000)
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict = {}
    honour_range = True
    requests: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = self.files.get(self.path)
        type(self).requests.append((self.path, self.headers.get("Range")))
        if body is None:
            self.send_error(404, "Not Found")
            return
        rng = self.headers.get("Range")
        if rng and self.honour_range:
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(body):
                self.send_error(416, "Range Not Satisfiable")
                return
            part = body[start:]
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            part = body
            self.send_response(200)
        self.send_header("Content-Length", str(len(part)))
        self.end_headers()
        self.wfile.write(part)


@pytest.fixture(autouse=True)
def _no_mirror(monkeypatch):
    monkeypatch.delenv(dl.MIRROR_ENV, raising=False)  # the public origins / the test server, unless a test sets one


@pytest.fixture
def server():
    _Handler.files = {"/data/a.bin": PAYLOAD, "/data/sub/b.bin": PAYLOAD[:1000]}
    _Handler.honour_range = True
    _Handler.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _dead_url():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there any more
    return f"http://127.0.0.1:{port}"


def test_fresh_download_is_checked_and_moved_into_place(server, tmp_path):
    seen = []
    path = download_file(server + "/data/a.bin", tmp_path / "a.bin", SHA, len(PAYLOAD), progress=seen.append)
    assert path.read_bytes() == PAYLOAD and sum(seen) == len(PAYLOAD)
    assert not (tmp_path / "a.bin.part").exists()
    # present with the right checksum: no request at all
    n = len(_Handler.requests)
    download_file(server + "/data/a.bin", tmp_path / "a.bin", SHA, len(PAYLOAD))
    assert len(_Handler.requests) == n


@pytest.mark.parametrize("honour_range", [True, False])
def test_resume_a_partial_file(server, tmp_path, honour_range):
    _Handler.honour_range = honour_range
    (tmp_path / "a.bin.part").write_bytes(PAYLOAD[:70_000])
    path = download_file(server + "/data/a.bin", tmp_path / "a.bin", SHA, len(PAYLOAD))
    assert sha256sum(path) == SHA
    assert _Handler.requests[-1] == ("/data/a.bin", "bytes=70000-")  # asked for the rest only


def test_complete_part_file_and_range_not_satisfiable(server, tmp_path):
    (tmp_path / "a.bin.part").write_bytes(PAYLOAD)
    assert download_file(server + "/data/a.bin", tmp_path / "a.bin", SHA, len(PAYLOAD)).read_bytes() == PAYLOAD


def test_checksum_mismatch_removes_the_part(server, tmp_path):
    with pytest.raises(DownloadError, match=r"Checksum mismatch for 'a.bin' .* run the command again"):
        download_file(server + "/data/a.bin", tmp_path / "a.bin", "0" * 64, len(PAYLOAD))
    assert list(tmp_path.iterdir()) == []


def test_offline_and_http_errors_are_one_line(server, tmp_path):
    with pytest.raises(DownloadError, match=r"Cannot reach 127.0.0.1:\d+ to download a.bin: .*offline") as info:
        download_file(_dead_url() + "/data/a.bin", tmp_path / "a.bin", SHA)
    assert "\n" not in str(info.value)
    with pytest.raises(DownloadError, match="HTTP 404"):
        download_file(server + "/data/missing.bin", tmp_path / "m.bin")


def test_download_a_data_set_with_progress(server, tmp_path):
    manifest = {"toy": {"base_url": server + "/data", "files": [FileEntry("a.bin", SHA, len(PAYLOAD)),
                                                                 FileEntry("sub/b.bin", hashlib.sha256(PAYLOAD[:1000]).hexdigest(), 1000)]}}
    reports = []
    path = download("toy", dest=tmp_path, manifest=manifest, progress=lambda d, t, m: reports.append((d, t)))
    assert path == tmp_path / "toy"
    assert (path / "sub" / "b.bin").read_bytes() == PAYLOAD[:1000]
    assert reports[-1] == (len(PAYLOAD) + 1000, len(PAYLOAD) + 1000)
    with pytest.raises(DownloadError, match="Unknown data set 'nope'"):
        download("nope", dest=tmp_path, manifest=manifest)


def test_cli_download_offline_is_one_clear_line(tmp_path, monkeypatch, capsys):
    manifest = load_manifest()
    for spec in manifest.values():
        spec["base_url"] = _dead_url()
    monkeypatch.setattr(dl, "DATASETS", manifest)
    assert main(["download", "joint-crab", "--dest", str(tmp_path), "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("gwidgets: error: Cannot reach 127.0.0.1") and "\n" not in err


def test_package_manifest_matches_the_shared_data(data_dir, monkeypatch, tmp_path):
    """Every listed file, hashed: the manifest is the layout of the data root, from the public origins."""
    manifest = load_manifest()
    assert set(manifest) == {"hess-dl3-dr1", "joint-crab"}
    assert manifest["hess-dl3-dr1"]["base_url"] == "https://raw.githubusercontent.com/gammapy/gammapy-data/master/hess-dl3-dr1"
    assert manifest["joint-crab"]["base_url"] == "https://raw.githubusercontent.com/open-gamma-ray-astro/joint-crab/master"
    for name, spec in manifest.items():
        for f in spec["files"]:
            assert sha256sum(data_dir / name / f.path) == f.sha256, f.path
            assert (data_dir / name / f.path).stat().st_size == f.size
    paths = {f"{n}/{f.path}" for n, spec in manifest.items() for f in spec["files"]}
    for needed in ("hess-dl3-dr1/hdu-index.fits.gz", "hess-dl3-dr1/README.txt",  # README.txt: the H.E.S.S. terms of use
                   "joint-crab/data/hess/obs-index.fits.gz", "joint-crab/data/fermi/events.fits.gz",
                   "joint-crab/results/spectra/hess/pha_obs23523.fits", "joint-crab/results/maps/exclusion_mask.fits.gz"):
        assert needed in paths, needed
    monkeypatch.setenv(dl.DATA_ENV, str(tmp_path))
    assert dl.DATA_ENV == "GWIDGETS_DATA"
    assert dl.data_dir() == tmp_path and dl.data_dir(tmp_path / "x") == tmp_path / "x"


def _layout(root, names=("hess-dl3-dr1", "joint-crab")):
    return {p.relative_to(root).as_posix(): p.stat().st_size
            for n in names for p in (root / n).rglob("*") if p.is_file()}


def test_download_all_from_a_file_mirror_gives_the_layout_the_examples_read(data_dir, monkeypatch, tmp_path):
    """`gwidgets download all` against a file:// mirror of the shared data, GWIDGETS_DATA unset: the default
    data root (the user data folder) gets exactly the shared layout, and the example configs, which write
    `$GWIDGETS_DATA/...`, and the notebooks' `gw.data_path(...)` find every data set in it."""
    from gwidgets.core.data import DataStore
    from gwidgets.core.datapaths import data_path, data_root

    monkeypatch.delenv("GWIDGETS_DATA", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # platformdirs' user data folder on Linux
    monkeypatch.setenv(dl.MIRROR_ENV, data_dir.as_uri())
    root = data_root()
    assert root == tmp_path / "xdg" / "gwidgets"
    assert main(["download", "all", "--quiet"]) == 0
    shared = {k: v for k, v in _layout(data_dir).items() if k != "hess-dl3-dr1/README.md"}  # the project's own note
    assert _layout(root) == shared and len(shared) == 302
    assert not list(root.rglob("*.part"))
    # every $GWIDGETS_DATA path of the example configs resolves into the default data root and exists there
    import yaml

    from gwidgets.core.config import expand_path

    def data_paths(node):
        if isinstance(node, dict):
            return [p for k, v in node.items() for p in data_paths(v)]
        if isinstance(node, list):
            return [p for v in node for p in data_paths(v)]
        return [node] if isinstance(node, str) and "$GWIDGETS_DATA" in node else []

    examples = Path(__file__).resolve().parents[1] / "examples"
    found = [Path(expand_path(t)) for f in sorted(examples.glob("*.yaml")) for t in data_paths(yaml.safe_load(f.read_text()))]
    assert len(found) >= 6 and all(p.is_relative_to(root) and p.exists() for p in found), found
    # and the data stores among them read as the shared copies do
    stores = [p for p in found if (p / "obs-index.fits.gz").exists() or (p / "hdu-index.fits.gz").exists()]
    assert {s.relative_to(root).as_posix() for s in stores} >= {
        "joint-crab/data/hess", "joint-crab/data/magic", "joint-crab/data/veritas", "joint-crab/data/fact", "hess-dl3-dr1"}
    assert [len(DataStore.from_dir(s).obs_ids) for s in stores] == [
        len(DataStore.from_dir(data_dir / s.relative_to(root)).obs_ids) for s in stores]
    # what the notebooks read
    assert len(list(data_path("joint-crab/results/spectra", "hess").glob("pha_*.fits"))) == 4
    assert data_path("hess-dl3-dr1") == root / "hess-dl3-dr1"
    # again: every file present with its checksum, nothing fetched (a mirror that vanished is not asked)
    monkeypatch.setenv(dl.MIRROR_ENV, (tmp_path / "gone").as_uri())
    assert main(["download", "joint-crab", "--quiet"]) == 0


def test_a_file_missing_from_the_mirror_is_named(tmp_path, capsys):
    manifest = {"toy": {"base_url": "https://example.invalid", "files": [FileEntry("a.bin", SHA, len(PAYLOAD))]}}
    with pytest.raises(DownloadError, match=r"toy/a.bin failed: .*No such file.*<mirror>/<data set>/<path>"):
        download("toy", dest=tmp_path / "root", manifest=manifest, mirror=str(tmp_path / "mirror"))
    (tmp_path / "mirror" / "toy").mkdir(parents=True)
    (tmp_path / "mirror" / "toy" / "a.bin").write_bytes(PAYLOAD)
    path = download("toy", dest=tmp_path / "root", manifest=manifest, mirror=str(tmp_path / "mirror"))
    assert (path / "a.bin").read_bytes() == PAYLOAD


def test_missing_data_names_the_download_command(monkeypatch, tmp_path):
    """gw.data_path and a config reading $GWIDGETS_DATA say which `gwidgets download` fetches what is missing."""
    import gwidgets as gw
    from gwidgets.core.analysis.steps.observations import open_store
    from gwidgets.core.config import ConfigError
    from gwidgets.core.datapaths import MissingDataError

    monkeypatch.setenv("GWIDGETS_DATA", str(tmp_path))
    assert gw.data_root() == tmp_path
    with pytest.raises(MissingDataError, match=r"joint-crab/results/spectra.*GWIDGETS_DATA = .*"
                                               r"`gwidgets download joint-crab`"):
        gw.data_path("joint-crab/results/spectra")
    with pytest.raises(MissingDataError, match=r"`gwidgets download hess-dl3-dr1`"):
        gw.data_path("hess-dl3-dr1")
    with pytest.raises(MissingDataError, match=r"'cta-1dc' is not a data set that `gwidgets download` fetches"):
        gw.data_path("cta-1dc")
    with pytest.raises(ValueError, match="inside the data root"):
        gw.data_path("../elsewhere")
    (tmp_path / "joint-crab" / "data" / "hess").mkdir(parents=True)
    assert gw.data_path("joint-crab", "data/hess") == tmp_path / "joint-crab" / "data" / "hess"
    group = {"key": "data.groups[1]", "datastore": "$GWIDGETS_DATA/joint-crab/data/magic"}
    with pytest.raises(ConfigError, match=r"'data.groups\[1\].datastore': Data not found.*`gwidgets download joint-crab`"):
        open_store(group)


def test_old_data_set_name_and_cli_mirror_option(tmp_path, monkeypatch):
    seen = {}

    def fake(name, dest=None, show_progress=False, mirror=None):
        seen.update(name=name, dest=dest, mirror=mirror)
        return tmp_path

    monkeypatch.setattr(dl, "download", fake)
    assert main(["download", "hess-dr1", "--mirror", "file:///m", "--dest", str(tmp_path), "--quiet"]) == 0
    assert seen == {"name": "hess-dr1", "dest": str(tmp_path), "mirror": "file:///m"}
    assert dl.ALIASES["hess-dr1"] == "hess-dl3-dr1" and dl.mirror_url("/m/") == "file:///m"
