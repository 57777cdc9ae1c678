"""``gwidgets download``: fetch the public data sets into the data root, checked and resumable.

Each data set is a folder of the data root (`gwidgets.core.datapaths.data_root`:
``$GWIDGETS_DATA``, else the user data folder), named and laid out as the
examples and notebooks read it: ``hess-dl3-dr1/`` (the H.E.S.S. DL3 DR1 with
its background models, from gammapy-data) and ``joint-crab/`` (``data/`` — the
DL3 inputs of the joint-crab paper — and ``results/spectra``,
``results/maps/exclusion_mask.fits.gz`` — its OGIP spectra and exclusion mask —
from the joint-crab repository). Every file is listed in the package manifest
(``gwidgets/data/download_manifest.json``: URL base, relative path, size,
SHA-256). A mirror holding the same layout (``<mirror>/<data set>/<path>``,
e.g. ``file:///srv/gamma-data``) replaces the public origins: ``--mirror URL``
or ``$GWIDGETS_DATA_MIRROR``. A download

* skips files already present with the right checksum;
* resumes a partial ``<file>.part`` with an HTTP ``Range`` request (a server
  ignoring the range sends the whole file, which then replaces the part);
* checks the SHA-256 and only then moves the file into place;
* reports progress through ``progress(done_bytes, total_bytes, message)`` (a
  tqdm bar from the command line);
* fails with one clear line when the host cannot be reached (offline).

Examples
--------
>>> from gwidgets.core.download import download, DATASETS
>>> sorted(DATASETS)
['hess-dl3-dr1', 'joint-crab']
>>> download("joint-crab")                           # needs the network (~1 GB)  # doctest: +SKIP
PosixPath('/home/me/.local/share/gwidgets/joint-crab')
>>> download("all", mirror="file:///srv/gamma-data")  # needs that mirror  # doctest: +SKIP
PosixPath('/home/me/.local/share/gwidgets')
"""
from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from ..errors import GwidgetsError
from .datapaths import DATA_ENV, data_root

__all__ = ["DownloadError", "DATASETS", "ALIASES", "data_dir", "download", "download_file", "load_manifest",
           "build_manifest", "sha256sum", "DATA_ENV", "MIRROR_ENV", "mirror_url"]

#: base URL of a mirror laid out as the data root (``<mirror>/<data set>/<path>``); replaces the public origins
MIRROR_ENV = "GWIDGETS_DATA_MIRROR"
#: former data set names still accepted
ALIASES = {"hess-dr1": "hess-dl3-dr1"}
MANIFEST = Path(__file__).resolve().parents[1] / "data" / "download_manifest.json"
CHUNK = 1 << 16


class DownloadError(GwidgetsError):
    """A download failed (offline, HTTP error, checksum mismatch); the message names the file or host."""


@dataclass
class FileEntry:
    """One file of a data set in the download manifest.

    Parameters
    ----------
    path : str
        Path relative to the data set folder (POSIX).
    sha256 : str
        Hex SHA-256 of the content.
    size : int
        Size in bytes.
    """

    path: str
    sha256: str
    size: int


def load_manifest(path=MANIFEST) -> dict:
    """``{name: {"description", "base_url", "license", "files": [FileEntry, ...]}}``.

    Parameters
    ----------
    path : str or Path, optional
        The manifest (default the package's).

    Returns
    -------
    dict
        Data set name → description, base URL, license and files.

    Raises
    ------
    DownloadError
        If the manifest file is missing.
    """
    path = Path(path)
    if not path.exists():
        raise DownloadError(f"Download manifest '{path}' is missing from the installation")
    raw = json.loads(path.read_text())
    out = {}
    for name, d in raw["datasets"].items():
        out[name] = dict(d, files=[FileEntry(**f) for f in d["files"]])
    return out


class _LazyManifest(dict):
    def _load(self):
        if not super().__len__():
            self.update(load_manifest())

    def __getitem__(self, key):
        self._load()
        return super().__getitem__(key)

    def __iter__(self):
        self._load()
        return super().__iter__()

    def __len__(self):
        self._load()
        return super().__len__()

    def __contains__(self, key):
        self._load()
        return super().__contains__(key)

    def keys(self):
        self._load()
        return super().keys()

    def items(self):
        self._load()
        return super().items()


#: the data sets of the package manifest (loaded on first use)
DATASETS = _LazyManifest()


def data_dir(dest=None) -> Path:
    """Where data sets go: ``dest``, else the data root (``$GWIDGETS_DATA``, else the user data folder).

    Parameters
    ----------
    dest : str or Path, optional
        Destination folder (``~`` expanded).

    Returns
    -------
    Path
        The folder.
    """
    if dest is not None:
        return Path(dest).expanduser()
    return data_root()


def mirror_url(mirror=None) -> str | None:
    """The mirror base URL: ``mirror``, else ``$GWIDGETS_DATA_MIRROR``, else None (the public origins).

    A local folder is turned into a ``file://`` URL.

    >>> mirror_url("/srv/gamma-data")
    'file:///srv/gamma-data'

    Parameters
    ----------
    mirror : str or Path, optional
        URL or local folder of the mirror.

    Returns
    -------
    str or None
        The base URL without a trailing ``/``.
    """
    mirror = mirror or os.environ.get(MIRROR_ENV) or None
    if mirror is None:
        return None
    mirror = str(mirror)
    if "://" not in mirror:
        mirror = Path(mirror).expanduser().absolute().as_uri()
    return mirror.rstrip("/")


def sha256sum(path) -> str:
    """SHA-256 of a file, read in 64 KiB blocks.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    str
        The hex digest.
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _offline(url, reason) -> DownloadError:
    host = urlparse(url).netloc or url
    return DownloadError(f"Cannot reach {host} to download {Path(urlparse(url).path).name}: {reason} "
                         "(are you offline? re-run the same command later: finished files are kept)")


def download_file(url: str, dest, sha256: str | None = None, size: int | None = None, progress=None,
                  timeout: float = 30.0) -> Path:
    """Download ``url`` to ``dest`` (resuming ``dest.part``), verify ``sha256``, then move into place.

    ``progress(n_bytes)`` is called with each chunk's size.

    A file already at ``dest`` with the right checksum is kept (no request is made).

    Parameters
    ----------
    url : str
        Source URL (``http(s)://`` or ``file://``).
    dest : str or Path
        Destination file; its folder is created.
    sha256 : str, optional
        Expected hex SHA-256 (no check if None).
    size : int, optional
        Expected size in bytes.
    progress : callable, optional
        ``progress(n_bytes)``.
    timeout : float, optional
        Connection timeout in s.

    Returns
    -------
    Path
        ``dest``.

    Raises
    ------
    DownloadError
        For an HTTP error, an unreachable host, a lost connection, an incomplete
        file or a checksum mismatch (the message names the file and host).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     src = Path(tmp, "src.txt"); _ = src.write_text("gamma")
    ...     out = download_file(src.as_uri(), Path(tmp, "copy", "dst.txt"), sha256=sha256sum(src))
    ...     print(out.read_text())
    gamma
    """
    dest = Path(dest)
    if dest.exists() and (sha256 is None or sha256sum(dest) == sha256):
        if progress is not None:
            progress(dest.stat().st_size)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have > size:
        part.unlink()
        have = 0
    request = urllib.request.Request(url, headers={"User-Agent": "gwidgets-download"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # range not satisfiable: the part is complete already
            response = None
        else:
            raise DownloadError(f"Download of {url} failed: HTTP {exc.code} {exc.reason}") from None
    except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as exc:
        if urlparse(url).scheme == "file":
            raise DownloadError(f"Download of {url} failed: {getattr(exc, 'reason', exc)} "
                                "(is the mirror laid out as <mirror>/<data set>/<path>?)") from None
        raise _offline(url, getattr(exc, "reason", exc)) from None
    if response is not None:
        with response:
            resumed = have and getattr(response, "status", None) == 206
            if have and not resumed:
                have = 0  # the server sent the whole file
            elif have and progress is not None:
                progress(have)
            try:
                with open(part, "ab" if resumed else "wb") as f:
                    for block in iter(lambda: response.read(CHUNK), b""):
                        f.write(block)
                        if progress is not None:
                            progress(len(block))
            except (TimeoutError, ConnectionError, OSError) as exc:
                raise _offline(url, f"connection lost ({exc})") from None
    if size is not None and part.stat().st_size < size:
        raise DownloadError(f"Download of {url} is incomplete ({part.stat().st_size} of {size} bytes); "
                            "run the command again to resume")
    if sha256 is not None:
        got = sha256sum(part)
        if got != sha256:
            part.unlink()
            raise DownloadError(f"Checksum mismatch for '{dest.name}' from {url}: expected sha256 {sha256[:12]}…, "
                                f"got {got[:12]}…; the partial file was removed, run the command again")
    os.replace(part, dest)
    return dest


def _bar(total: int, desc: str):
    """A tqdm byte progress bar; returns (update(n), close())."""
    from tqdm.auto import tqdm

    bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc)
    return bar.update, bar.close


def download(name: str = "all", dest=None, progress=None, manifest=None, base_url: str | None = None,
             show_progress: bool = False, mirror: str | None = None) -> Path:
    """Download data set ``name`` ("hess-dl3-dr1", "joint-crab" or "all") into ``data_dir(dest)/<name>``.

    Files come from the data set's public origin (its ``base_url`` in the
    manifest, or ``base_url``), or from ``<mirror>/<name>/`` when a mirror is
    given (``mirror``, else ``$GWIDGETS_DATA_MIRROR``).
    ``progress(done_bytes, total_bytes, message)`` is called after each chunk;
    ``show_progress`` draws a tqdm bar instead. Returns the data set folder
    (the data root for "all").

    Parameters
    ----------
    name : str, optional
        Data set name (or a former name in ``ALIASES``), or ``"all"``.
    dest : str or Path, optional
        Destination root (default the data root).
    progress : callable, optional
        ``progress(done_bytes, total_bytes, message)``.
    manifest : dict, optional
        Data sets to use instead of the package manifest.
    base_url : str, optional
        Origin replacing the manifest's ``base_url``.
    show_progress : bool, optional
        Draw a tqdm bar per data set.
    mirror : str, optional
        Mirror URL or folder.

    Returns
    -------
    Path
        The data set folder, or the data root for ``"all"``.

    Raises
    ------
    DownloadError
        For an unknown data set, or a failed file download.
    """
    sets = manifest if manifest is not None else DATASETS
    name = ALIASES.get(name, name)
    mirror = mirror_url(mirror)
    names = list(sets) if name == "all" else [name]
    unknown = [n for n in names if n not in sets]
    if unknown:
        raise DownloadError(f"Unknown data set '{unknown[0]}'; choose one of {sorted(sets)} or 'all'")
    root = data_dir(dest)
    for n in names:
        spec = sets[n]
        files = spec["files"]
        total = sum(f.size for f in files)
        done = 0
        update, close = _bar(total, n) if show_progress else (None, None)

        def on_bytes(k, f=None, *, update=update, total=total, n=n):  # this data set's bar, total and name
            nonlocal done
            done += k
            if update is not None:
                update(k)
            if progress is not None:
                progress(done, total, n)

        try:
            for f in files:
                base = f"{mirror}/{n}" if mirror else (base_url or spec["base_url"])
                url = base.rstrip("/") + "/" + f.path
                download_file(url, root / n / f.path, f.sha256, f.size, progress=on_bytes)
        finally:
            if close is not None:
                close()
    return root if name == "all" else root / name


def build_manifest(folders: dict, out=MANIFEST, exclude=(), note: str = "") -> dict:
    """Write the manifest from local copies (maintainers).

    ``folders``: ``{name: (folder, base_url, description, license)}``; every file of ``folder``
    is listed by its path relative to it, except the relative paths in ``exclude``.

    Parameters
    ----------
    folders : dict
        ``{name: (folder, base_url, description, license)}``.
    out : str or Path, optional
        Manifest file to write (default the package's).
    exclude : collection of str, optional
        Files to leave out, as ``"<name>/<relative path>"``.
    note : str, optional
        Free text stored in the manifest.

    Returns
    -------
    dict
        The manifest data written.
    """
    data = {"note": note, "datasets": {}}
    for name, (folder, base_url, description, license_) in folders.items():
        folder = Path(folder)
        files = [p for p in sorted(folder.rglob("*"))
                 if p.is_file() and f"{name}/{p.relative_to(folder).as_posix()}" not in exclude]
        data["datasets"][name] = {
            "description": description, "base_url": base_url, "license": license_,
            "files": [{"path": p.relative_to(folder).as_posix(), "sha256": sha256sum(p), "size": p.stat().st_size}
                      for p in files],
        }
    Path(out).write_text(json.dumps(data, indent=1) + "\n")
    return data
