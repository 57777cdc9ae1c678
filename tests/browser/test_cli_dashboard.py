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
