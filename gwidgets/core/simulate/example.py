"""The embedded default data set: simulated on first use into the user cache, then reused.

``GWIDGETS_CACHE_DIR`` overrides the cache location. Generation is atomic
(written to a temporary directory, then renamed) and guarded by a lock file,
so two processes starting at once do not both write it.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from .store import DEFAULT_SEED, simulate_datastore

__all__ = ["example_store_path", "example_store", "EXAMPLE_VERSION"]

EXAMPLE_VERSION = "v1"


def _cache_dir() -> Path:
    env = os.environ.get("GWIDGETS_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("gwidgets"))


def example_store_path(progress=None) -> Path:
    """Directory of the simulated example store, generating it if needed."""
    target = _cache_dir() / f"example-dl3-{EXAMPLE_VERSION}"
    if (target / "hdu-index.fits.gz").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = target.parent / f".example-dl3-{EXAMPLE_VERSION}.lock"
    deadline = time.monotonic() + 300
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            if (target / "hdu-index.fits.gz").exists():
                return target
            if time.monotonic() > deadline or time.time() - lock.stat().st_mtime > 600:
                lock.unlink(missing_ok=True)  # a stale lock from a crashed process
                continue
            time.sleep(0.2)
    try:
        os.write(fd, str(os.getpid()).encode())
        if not (target / "hdu-index.fits.gz").exists():
            simulate_datastore(target, seed=DEFAULT_SEED, overwrite=True, progress=progress)
    finally:
        os.close(fd)
        lock.unlink(missing_ok=True)
    return target


def example_store(progress=None):
    """The simulated example `DataStore` (made on first use, a few seconds)."""
    from ..data import DataStore

    store = DataStore.from_dir(example_store_path(progress))
    store.name = "gwidgets example (simulated)"
    return store
