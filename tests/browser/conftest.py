"""Fixtures for the browser tests: a Voilà server on loopback and headless Chromium via Playwright.

Follows shared/recipes/browser-testing.md: Debian's /usr/bin/chromium (never
``playwright install``), a free port found by binding to port 0, readiness by a
TCP connect (a GET would start a kernel), the interpreter's directory first on
PATH so the ``python3`` kernel is this environment, shutdown by SIGINT to the
PID we started (SIGTERM/SIGKILL only as fallbacks), and every non-local request
aborted at once. Screenshots go to ``test-artifacts/`` in the repository root
(git-ignored).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
LOCAL_PREFIXES = ("http://127.0.0.1", "ws://127.0.0.1", "http://localhost", "ws://localhost", "blob:", "data:")


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def playwright_browser():
    """One headless Chromium for the whole run (skips cleanly without Chromium or Playwright)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not found (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    pytest.importorskip("voila")
    p = sync_api.sync_playwright().start()
    try:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as exc:  # e.g. a Chromium that cannot start in this sandbox
        p.stop()
        pytest.skip(f"cannot launch {CHROMIUM}: {exc}")
    yield browser
    browser.close()
    p.stop()


@pytest.fixture
def new_page(playwright_browser):
    """Factory: a fresh page (own context) whose non-local requests are aborted and recorded."""
    contexts = []

    def make(width=1500, height=1300):
        context = playwright_browser.new_context(viewport={"width": width, "height": height})
        external: list[str] = []

        def route(r):
            url = r.request.url
            if url.startswith(LOCAL_PREFIXES):
                r.continue_()
            else:
                external.append(url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.set_default_timeout(30_000)
        errors: list[str] = []
        console_errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.external_requests = external
        page.page_errors = errors
        page.console_errors = console_errors
        contexts.append(context)
        return page

    yield make
    for c in contexts:
        c.close()
