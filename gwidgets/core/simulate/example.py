"""The built-in example data set: simulated on first use into the user cache, then reused.

The store lives in ``<cache>/example-dl3-v1`` where ``<cache>`` is
``$GWIDGETS_CACHE_DIR`` if set, else ``platformdirs.user_cache_dir("gwidgets")``.
Generation is atomic (:func:`.simulate_datastore` writes a temporary directory
and renames it) and guarded by an inter-process lock, so two processes starting
at once generate it once; debris of an interrupted run (temporary directories)
is ignored and cleaned up, and a store written by an older version of the
simulation (another ``truth.yaml`` format version) is regenerated.
"""
from __future__ import annotations

import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

from ...errors import GwidgetsError
from .store import DEFAULT_SEED, simulate_datastore
from .truth import FORMAT as TRUTH_FORMAT
from .truth import VERSION as TRUTH_VERSION

__all__ = ["example_store_path", "example_store", "cache_dir", "EXAMPLE_NAME", "CACHE_ENV"]

EXAMPLE_NAME = "example-dl3-v1"
CACHE_ENV = "GWIDGETS_CACHE_DIR"
_REQUIRED = ("obs-index.fits.gz", "hdu-index.fits.gz", "truth.yaml")
STALE_LOCK_SECONDS = 300.0
WAIT_SECONDS = 600.0


def cache_dir() -> Path:
    """Gwidgets' cache directory (``$GWIDGETS_CACHE_DIR`` or the platform's user cache).

    Returns
    -------
    Path
        The folder (it may not exist yet).
    """
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("gwidgets"))


def _complete(path: Path) -> bool:
    """The store is there and was written by this version of the simulation (older ones are replaced)."""
    if not all((path / name).is_file() for name in _REQUIRED):
        return False
    try:
        head = (path / "truth.yaml").read_text()
    except OSError:
        return False
    return f"format: {TRUTH_FORMAT}" in head and f"\n  version: {TRUTH_VERSION}\n" in head


@contextmanager
def _exclusive(lock: Path, timeout: float = WAIT_SECONDS):
    """Hold an inter-process lock on ``lock``.

    POSIX: ``fcntl.flock`` on the (persistent, empty) lock file; the kernel
    releases it when the holder exits or crashes, so there are no stale locks.
    Elsewhere: an ``O_EXCL`` lock file, removed afterwards; one older than
    STALE_LOCK_SECONDS is taken to belong to a crashed process.
    """
    deadline = time.monotonic() + timeout
    message = f"Timed out waiting for another process generating the example store (lock '{lock}')"
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        fcntl = None
    if fcntl is not None:
        with open(lock, "a") as fh:
            while True:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise GwidgetsError(message) from None
                    time.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return
    while True:  # pragma: no cover - Windows
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            try:
                stale = time.time() - lock.stat().st_mtime > STALE_LOCK_SECONDS
            except FileNotFoundError:
                continue
            if stale:
                lock.unlink(missing_ok=True)
            elif time.monotonic() > deadline:
                raise GwidgetsError(message) from None
            else:
                time.sleep(0.1)
    try:  # pragma: no cover - Windows
        os.close(fd)
        yield
    finally:  # pragma: no cover - Windows
        lock.unlink(missing_ok=True)


def _clean_debris(parent: Path):
    """Remove temporary directories left by interrupted generations (only while holding the lock)."""
    for p in parent.glob(f".{EXAMPLE_NAME}.*"):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)


def example_store_path(progress=None) -> Path:
    """Directory of the simulated example store, generating it (a few seconds) if needed.

    ``progress(done, total, message)`` is called during generation. Safe to call
    from several processes at once: one generates, the others wait for it.

    Parameters
    ----------
    progress : callable, optional
        ``progress(done, total, message)``.

    Returns
    -------
    Path
        The store directory.

    Raises
    ------
    `~gwidgets.errors.GwidgetsError`
        If the cache directory cannot be created.
    """
    target = cache_dir() / EXAMPLE_NAME
    if _complete(target):
        return target
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GwidgetsError(f"Cannot create the gwidgets cache directory '{parent}' ({exc}); "
                            f"set {CACHE_ENV} to a writable directory") from exc
    with _exclusive(parent / f"{EXAMPLE_NAME}.lock"):
        if not _complete(target):
            _clean_debris(parent)
            simulate_datastore(target, seed=DEFAULT_SEED, overwrite=True, progress=progress)
    return target


def example_store(progress=None):
    """The simulated example `~gwidgets.core.data.DataStore` (made on first use).

    Parameters
    ----------
    progress : callable, optional
        ``progress(done, total, message)`` during a generation.

    Returns
    -------
    `~gwidgets.core.data.DataStore`
        20 simulated observations around the Crab position, named "gwidgets example (simulated)".

    Examples
    --------
    >>> store = example_store()
    >>> store.name, len(store.obs_ids)
    ('gwidgets example (simulated)', 20)
    """
    from ..data import DataStore

    store = DataStore.from_dir(example_store_path(progress))
    store.name = "gwidgets example (simulated)"
    return store
