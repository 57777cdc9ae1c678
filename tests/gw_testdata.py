"""Paths to the real public data in ../shared/data, shared by the test modules.

The shared folder is laid out as a gwidgets data root (``hess-dl3-dr1/``, ``joint-crab/data``,
``joint-crab/results``), plus test-only sets (``cta-1dc/``, ``magic/``, ``veritas/``) that
``gwidgets download`` does not fetch. Tests that run notebooks or configs set ``GWIDGETS_DATA`` to it;
``$GWIDGETS_TEST_DATA`` (test suite and benchmarks only) points the tests at another copy of the whole folder.

A plain module (not ``conftest``) so that ``tests/browser/conftest.py`` cannot shadow it.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("GWIDGETS_TEST_DATA", ROOT.parent / "shared" / "data"))

#: data store directories used across the tests
STORES = {
    "hess-dr1": DATA / "hess-dl3-dr1",
    "jc-hess": DATA / "joint-crab" / "data" / "hess",
    "jc-magic": DATA / "joint-crab" / "data" / "magic",
    "jc-veritas": DATA / "joint-crab" / "data" / "veritas",
    "jc-fact": DATA / "joint-crab" / "data" / "fact",
    "cta-1dc": DATA / "cta-1dc",
    "magic-radmax": DATA / "magic" / "rad_max" / "data",
    "veritas-ed": DATA / "veritas" / "crab-point-like-ED",
}


def in_own_thread(test):
    """Run ``test()`` in a new thread and re-raise what it raised: the "kernel" thread of a test with its own loop.

    The main thread may already run an event loop (Playwright's sync API, kept alive by the session-scoped
    browser fixtures), and ``loop.run_until_complete`` refuses to run inside it.
    """
    import threading

    outcome = {}

    def run():
        try:
            test()
        except BaseException as error:  # re-raised in the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, name="kernel")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
