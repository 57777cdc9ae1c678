"""The Aladin Lite JavaScript, served from this machine instead of a CDN.

ipyaladin's widget code does ``import A from "https://esm.sh/aladin-lite@<version>"``:
without network the Aladin view shows a JavaScript error and never loads.
Aladin Lite is published on the npm registry as one self-contained ES module
(``package/dist/aladin.js`` of the tarball, GPL-3.0, so it is fetched, not shipped).
This module

* finds a local copy: ``$GWIDGETS_ALADIN_JS`` (a path to ``aladin.js``, e.g. from
  ``npm pack aladin-lite@3.9.2-beta``), else the user cache filled by
  `fetch_aladin_js` (``gwidgets download aladin-lite``);
* builds ipyaladin's widget module with that import pointing at an inline
  ``data:`` URL (`local_widget_esm`), so the page needs no server route and no CDN.

>>> ALADIN_LITE_VERSION
'3.9.2-beta'
>>> find_aladin_js(cache_dir="/nonexistent") is None
True
"""
from __future__ import annotations

import base64
import functools
import os
import re
import tarfile
from pathlib import Path

from ..core.download import DownloadError, data_dir, download_file

__all__ = ["ALADIN_LITE_VERSION", "ALADIN_JS_ENV", "TARBALL_URL", "TARBALL_SHA256", "find_aladin_js",
           "fetch_aladin_js", "local_widget_esm", "AladinAssetError"]

#: the Aladin Lite release ipyaladin 0.8 imports
ALADIN_LITE_VERSION = "3.9.2-beta"
ALADIN_JS_ENV = "GWIDGETS_ALADIN_JS"
TARBALL_URL = f"https://registry.npmjs.org/aladin-lite/-/aladin-lite-{ALADIN_LITE_VERSION}.tgz"
TARBALL_SHA256 = "dbc2bfa603f03228b25e4452d9b17c9749fa1d05cd5bf53a39cc42ec705f2fdc"
TARBALL_SIZE = 858852
MEMBER = "package/dist/aladin.js"
_IMPORT = re.compile(r'from\s*"(https://esm\.sh/aladin-lite@[^"]+)"')


class AladinAssetError(DownloadError):
    """Aladin Lite cannot be used from a local copy (file missing, not the expected module, ipyaladin changed)."""


def _cache_dir(cache_dir=None) -> Path:
    return Path(cache_dir) if cache_dir is not None else data_dir() / "aladin-lite" / ALADIN_LITE_VERSION


def find_aladin_js(cache_dir=None) -> Path | None:
    """The local ``aladin.js``: ``$GWIDGETS_ALADIN_JS``, else the cached download, else None.

    A ``$GWIDGETS_ALADIN_JS`` that names no file is an error (it was asked for explicitly).
    """
    env = os.environ.get(ALADIN_JS_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise AladinAssetError(f"${ALADIN_JS_ENV} = '{env}' is not a file (expected Aladin Lite's dist/aladin.js)")
        return path
    path = _cache_dir(cache_dir) / "aladin.js"
    return path if path.is_file() else None


def fetch_aladin_js(cache_dir=None, url: str = TARBALL_URL, sha256: str | None = TARBALL_SHA256,
                    progress=None) -> Path:
    """Download the Aladin Lite npm tarball (checksum-verified), keep only ``dist/aladin.js``; returns its path.

    Already cached: returns at once. Offline: `DownloadError` in one line.
    """
    folder = _cache_dir(cache_dir)
    target = folder / "aladin.js"
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    tarball = download_file(url, folder / Path(url).name, sha256=sha256,
                            size=TARBALL_SIZE if url == TARBALL_URL else None, progress=progress)
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            member = tar.extractfile(MEMBER)
            if member is None:
                raise KeyError(MEMBER)
            data = member.read()
    except (KeyError, tarfile.TarError, OSError) as exc:
        raise AladinAssetError(f"'{tarball}' has no readable {MEMBER} ({exc})") from None
    part = target.with_name("aladin.js.part")
    part.write_bytes(data)
    os.replace(part, target)
    tarball.unlink()
    return target


def _ipyaladin_widget_js() -> str:
    import ipyaladin

    return (Path(ipyaladin.__file__).parent / "static" / "widget.js").read_text()


@functools.lru_cache(maxsize=4)
def _esm_for(js_path: str, mtime: float) -> str:
    source = _ipyaladin_widget_js()
    match = _IMPORT.search(source)
    if match is None:
        raise AladinAssetError("ipyaladin's widget.js no longer imports Aladin Lite from esm.sh: this version of "
                               "ipyaladin is not supported by the local Aladin loader")
    data = Path(js_path).read_bytes()
    if b"export" not in data[-4096:]:
        raise AladinAssetError(f"'{js_path}' does not look like Aladin Lite's ES module (no export)")
    url = "data:text/javascript;base64," + base64.b64encode(data).decode("ascii")
    return source[:match.start(1)] + url + source[match.end(1):]


def local_widget_esm(js_path) -> str:
    """Ipyaladin's widget module with its Aladin Lite import replaced by an inline ``data:`` URL of ``js_path``."""
    path = Path(js_path)
    return _esm_for(str(path.resolve()), path.stat().st_mtime)
