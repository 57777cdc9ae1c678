"""``gwidgets dashboard`` end to end: the command serves the dashboard on the example store, a browser shows it,
and SIGINT stops the command and its Voilà server cleanly."""
from __future__ import annotations

import sys

import pytest

from browser_helpers import free_port, server_env, server_log, start_server, stop

pytestmark = pytest.mark.browser


def test_dashboard_command_serves_the_example_store(new_page, artifacts, tmp_path):
    pytest.importorskip("voila")
    port = free_port()
    cmd = [sys.executable, "-m", "gwidgets.app.cli_dashboard", "--no-browser", f"--port={port}", "--ip=127.0.0.1"]
    proc = start_server(cmd, tmp_path, server_env(), tmp_path / "cli.log", port)
    try:
        page = new_page()
        page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
        page.wait_for_selector(".gw-dashboard", state="visible", timeout=120_000)
        page.wait_for_selector(".gw-param-source-spectral-alpha .noUi-handle", state="visible", timeout=60_000)
        assert "example" in page.locator(".gw-dashboard h3").first.inner_text()
        assert page.locator(".gw-obs-list select option").count() == 20
        assert page.page_errors == [], page.page_errors
        page.screenshot(path=str(artifacts / "cli-dashboard-example.png"), full_page=True)
    finally:
        code = stop(proc)
        proc.log_file.close()
    log = server_log(proc)
    assert code == 0, log
    assert "Kernel shutdown" in log, log


def _kernel_count(proc) -> int:
    import psutil

    n = 0
    for child in psutil.Process(proc.pid).children(recursive=True):
        try:
            # gwidgets dashboard's kernels run gwidgets.app.kernel (ipykernel without debugpy and jedi)
            n += "gwidgets.app.kernel" in child.cmdline()
        except psutil.Error:
            continue
    return n


def test_kernel_of_a_vanished_page_is_culled(playwright_browser, tmp_path):
    """A page closed without its unload request (lid closed, network gone): Voilà never hears about it,
    and without culling its kernel would live until the server stops. With ``--cull-idle-timeout 4`` it
    is gone within a few culling intervals; the pre-heated kernel stays. A pre-heated kernel that idled past
    the timeout still serves the next page (it is not culled before the page connects)."""
    pytest.importorskip("voila")
    psutil = pytest.importorskip("psutil")
    import time

    port = free_port()
    cmd = [sys.executable, "-m", "gwidgets.app.cli_dashboard", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           "--cull-idle-timeout", "4"]
    proc = start_server(cmd, tmp_path, server_env(), tmp_path / "cli.log", port)
    try:
        deadline = time.monotonic() + 120
        while _kernel_count(proc) < 1 and time.monotonic() < deadline:  # the pre-heated kernel
            time.sleep(0.5)
        pool = _kernel_count(proc)
        # the pre-heated kernel idles past the culling timeout before a page takes it: a culling pass between
        # the hand-over and the page's connection must not shut it down (the page would never paint)
        time.sleep(8)
        context = playwright_browser.new_context()
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
        page.wait_for_selector(".gw-dashboard .noUi-handle", state="visible", timeout=120_000)
        deadline = time.monotonic() + 120
        while _kernel_count(proc) <= pool and time.monotonic() < deadline:  # the pool refills
            time.sleep(0.5)
        assert _kernel_count(proc) == pool + 1, server_log(proc)
        context.close()  # no beforeunload: Voilà's shutdown-on-unload request is never sent
        closed = time.monotonic()
        while _kernel_count(proc) > pool and time.monotonic() - closed < 60:
            time.sleep(1.0)
        assert _kernel_count(proc) == pool, f"kernel still alive 60 s after its page closed\n{server_log(proc)}"
        assert psutil.Process(proc.pid).is_running()
    finally:
        stop(proc)
        proc.log_file.close()
