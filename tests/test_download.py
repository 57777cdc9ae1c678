"""`gwidgets download`: checksums, resume with HTTP Range, offline message — against a local http.server."""
from __future__ import annotations

import hashlib
import http.server
import os
import socket
import threading

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
    manifest = load_manifest()
    assert set(manifest) == {"hess-dr1", "joint-crab"}
    local = {"hess-dr1": data_dir / "hess-dl3-dr1", "joint-crab": data_dir / "joint-crab" / "data"}
    for name, spec in manifest.items():
        assert spec["base_url"].startswith("https://")
        paths = {f.path for f in spec["files"]}
        assert "hdu-index.fits.gz" in paths or "hess/hdu-index.fits.gz" in paths
        for f in spec["files"][:: max(1, len(spec["files"]) // 5)]:  # a sample: hashing 60 MB takes time
            assert sha256sum(local[name] / f.path) == f.sha256, f.path
            assert (local[name] / f.path).stat().st_size == f.size
    monkeypatch.setenv(dl.DATA_ENV, str(tmp_path))
    assert dl.data_dir() == tmp_path and dl.data_dir(tmp_path / "x") == tmp_path / "x"
