"""The kernel ``gwidgets dashboard`` gives each page (gwidgets.app.kernel): ipykernel without debugpy and jedi.

Started the way Voilà starts it: jupyter_client finds the kernelspec by name on ``JUPYTER_PATH`` and runs
its argv. The reference is ipykernel's own ``python3`` kernel started the same way, which has the debugger
when debugpy is installed.
"""
from __future__ import annotations

import json
import os

import pytest

from gwidgets.app.cli_dashboard import dashboard_notebook, write_notebook
from gwidgets.app.kernel import BLOCKED_MODULES, KERNEL_NAME, kernel_env, write_kernel_spec

pytest.importorskip("ipykernel")
jupyter_client = pytest.importorskip("jupyter_client")

PROBE = "import sys, json; print(json.dumps({m: m in sys.modules and sys.modules[m] is not None for m in %r}))"


def _start(name, tmp_path, monkeypatch):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    env = kernel_env(write_kernel_spec(tmp_path / "jupyter"), dict(os.environ))
    monkeypatch.setenv("JUPYTER_PATH", env["JUPYTER_PATH"])  # KernelSpecManager reads it, as Voilà's does
    km = KernelManager(kernel_name=name, kernel_spec_manager=KernelSpecManager())
    km.start_kernel(cwd=str(tmp_path))
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    return km, kc


def _stop(km, kc):
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def _run(kc, code) -> str:
    msg_id = kc.execute(code)
    out = []
    while True:
        msg = kc.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            raise AssertionError("\n".join(msg["content"]["traceback"]))
        elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return "".join(out)


def _reply(kc, msg_id) -> dict:
    while True:  # skip the replies to earlier requests (execute)
        msg = kc.get_shell_msg(timeout=30)
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg["content"]


def _features(kc) -> list:
    return _reply(kc, kc.kernel_info()).get("supported_features", [])


def test_dashboard_kernel_runs_without_debugger_and_jedi(tmp_path, monkeypatch):
    """Found by name as Voilà finds it; runs code and completes, with debugpy and jedi never imported."""
    km, kc = _start(KERNEL_NAME, tmp_path, monkeypatch)
    try:
        assert "-m" in km.kernel_spec.argv and "gwidgets.app.kernel" in km.kernel_spec.argv
        assert "debugger" not in _features(kc)
        loaded = json.loads(_run(kc, PROBE % (BLOCKED_MODULES,)).strip())
        assert loaded == {name: False for name in BLOCKED_MODULES}
        assert _run(kc, "print(6 * 7)").strip() == "42"
        reply = _reply(kc, kc.complete("import itertool", 15))
        assert reply["status"] == "ok" and "itertools" in reply["matches"]  # IPython's own completer
    finally:
        _stop(km, kc)


def test_reference_python3_kernel_has_the_debugger(tmp_path, monkeypatch):
    """The default ipykernel kernel, started the same way, has the debugger: what the dashboard kernel drops."""
    pytest.importorskip("debugpy")
    km, kc = _start("python3", tmp_path, monkeypatch)
    try:
        assert "debugger" in _features(kc)
    finally:
        _stop(km, kc)


def test_cli_notebook_names_the_dashboard_kernel(tmp_path):
    """``gwidgets dashboard`` serves its notebook with the dashboard kernel; the notebook file keeps python3."""
    assert dashboard_notebook().metadata["kernelspec"]["name"] == "python3"
    import nbformat

    nb = nbformat.read(str(write_notebook(tmp_path, kernel_name=KERNEL_NAME)), as_version=4)
    assert nb.metadata["kernelspec"]["name"] == KERNEL_NAME
    spec = json.loads((write_kernel_spec(tmp_path / "j") / "kernels" / KERNEL_NAME / "kernel.json").read_text())
    assert spec["argv"][-2:] == ["-f", "{connection_file}"] and spec["language"] == "python"
