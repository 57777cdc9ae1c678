"""Helpers for the browser tests: start / stop a server on a free loopback port (see conftest.py)."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited early with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def stop(proc: subprocess.Popen, timeout: float = 15.0) -> int:
    """Stop a process we started, by its PID: SIGINT (Voilà shuts its kernels down), then SIGTERM, SIGKILL."""
    if proc.poll() is not None:
        return proc.returncode
    for sig, wait in ((signal.SIGINT, timeout), (signal.SIGTERM, 10.0), (signal.SIGKILL, None)):
        os.kill(proc.pid, sig)
        try:
            return proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    return proc.wait()


def server_env(**extra) -> dict:
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _default_sigint():  # in the child: undo an inherited SIG_IGN so that SIGINT stops the server
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_server(cmd, cwd, env, log_path, port) -> subprocess.Popen:
    log = open(log_path, "w")
    proc = subprocess.Popen(cmd, cwd=str(cwd), env=env, stdout=log, stderr=subprocess.STDOUT,
                            preexec_fn=_default_sigint if os.name == "posix" else None)
    proc.log_file = log
    proc.log_path = Path(log_path)
    try:
        wait_for_port(port, proc)
    except BaseException:
        stop(proc)
        log.close()
        raise
    return proc


def server_log(proc) -> str:
    try:
        return proc.log_path.read_text()[-4000:]
    except OSError:
        return ""


@contextlib.contextmanager
def voila_server(notebook, cwd, env):
    """Serve ``notebook`` with Voilà (pre-heated kernel, a pool of one) and yield its URL.

    A preheated kernel runs the notebook before the page asks for it: ~3 s instead of ~7 s per page.
    On exit the server is stopped and must have exited with code 0 (else the end of its log is shown).
    """
    from gwidgets.app.cli_dashboard import voila_command

    port = free_port()
    cmd = voila_command(notebook, port, no_browser=True, ip="127.0.0.1") + ["--preheat_kernel=True", "--pool_size=1"]
    proc = start_server(cmd, cwd, env, cwd / "voila.log", port)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        code = stop(proc)
        proc.log_file.close()
        assert code == 0, f"voila exited with {code}:\n{server_log(proc)}"
