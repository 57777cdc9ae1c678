"""``gwidgets dashboard`` stops cleanly, with its Voilà server and every kernel, however it is stopped.

A terminal's Ctrl-C sends SIGINT to the whole foreground process group, and closing the terminal
sends SIGHUP to it; ``kill PID`` sends SIGTERM to the ``gwidgets`` process alone. In each case Voilà
must get exactly one SIGINT (its clean shutdown): a second one, arriving while it shuts its kernels
down, interrupts that shutdown with a KeyboardInterrupt traceback and exit code 254.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid: int) -> dict[int, str]:
    """PID -> command line of every live descendant of ``pid`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = {}, [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = _cmdline(child)
            todo.append(child)
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _idle(pid: int, seconds: float = 1.5) -> bool:
    """No CPU time used by ``pid`` for ``seconds``."""
    before = _cpu_ticks(pid)
    time.sleep(seconds)
    return _cpu_ticks(pid) == before


def _wait(predicate, timeout: float, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(what() if callable(what) else what)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from Linux /proc")
@pytest.mark.parametrize("how", ["ctrl-c", "kill", "hangup"])
def test_dashboard_command_stops_voila_and_its_kernels(how, tmp_path):
    pytest.importorskip("voila")
    pytest.importorskip("ipykernel")
    port = _free_port()
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    log_path = tmp_path / "dashboard.log"
    cmd = [sys.executable, "-m", "gwidgets", "dashboard", "--no-browser", f"--port={port}", "--ip=127.0.0.1"]
    with open(log_path, "w") as log:
        # its own process group, as a job started from a shell; SIGINT not ignored, as in a terminal
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    started = {}
    try:
        # the pre-heated kernel has run the dashboard notebook and sits idle: Voilà has a kernel to shut down
        # (a kernel still booting prints its own KeyboardInterrupt when jupyter_client interrupts it)
        _wait(lambda: "is filled with 1 kernel" in log_path.read_text(), 240, "the kernel pool never filled")
        started = _descendants(proc.pid)
        # gwidgets dashboard's kernels run gwidgets.app.kernel (ipykernel without debugpy and jedi)
        kernels = {pid: c for pid, c in started.items() if "-m gwidgets.app.kernel" in c}
        assert kernels, started
        _wait(lambda: all(_idle(pid) for pid in kernels), 240, "the pre-heated kernel never went idle")
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)
        elif how == "hangup":
            os.killpg(proc.pid, signal.SIGHUP)
        else:
            os.kill(proc.pid, signal.SIGTERM)
        code = proc.wait(timeout=60)
        alive = lambda: [c for p, c in started.items() if _cmdline(p) == c]  # noqa: E731
        _wait(lambda: not alive(), 20, lambda: f"still running after the command exited: {alive()}")
    finally:
        for pid, c in {**started, proc.pid: _cmdline(proc.pid)}.items():  # never leave a server behind
            if c and _cmdline(pid) == c:
                os.kill(pid, signal.SIGKILL)
        proc.wait()
    text = log_path.read_text()
    assert code == 0, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    assert text.count("Kernel shutdown") >= len(kernels), text[-3000:]
