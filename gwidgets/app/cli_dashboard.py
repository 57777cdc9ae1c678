"""``gwidgets dashboard [PATH] [--port N] [--no-browser] [--required-irf KIND]``: the dashboard in Voilà.

Writes the dashboard notebook (the same code as ``notebooks/dashboard.ipynb``)
into a temporary directory and runs ``python -m voila`` on it, handing the data
store PATH to the kernel in the internal ``GWIDGETS_DASHBOARD_STORE``
environment variable (no PATH: the simulated example store). ``GWIDGETS_DATA``
is the data root of the public data sets (`gwidgets.core.datapaths`), never a store. Voilà is only
imported by the child process, so importing this module (and ``gwidgets.cli``) stays cheap.

Wiring into ``gwidgets.cli``::

    from .app.cli_dashboard import add_parser
    add_parser(sub)            # sub = parser.add_subparsers(...)

Stand-alone: ``python -m gwidgets.app.cli_dashboard [PATH] ...``.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

__all__ = ["add_parser", "run", "main", "dashboard_notebook", "write_notebook", "voila_command", "voila_env",
           "popen_kwargs", "STORE_ENV", "IRF_ENV", "NOTEBOOK_NAME", "CULL_IDLE_TIMEOUT"]

#: internal: the data store path that ``gwidgets dashboard PATH`` hands to the dashboard notebook's kernel
STORE_ENV = "GWIDGETS_DASHBOARD_STORE"
#: environment variable holding ``session.required_irf`` ("full-enclosure", "point-like", "all-optional")
IRF_ENV = "GWIDGETS_REQUIRED_IRF"
NOTEBOOK_NAME = "gwidgets-dashboard.ipynb"
IRF_CHOICES = ("full-enclosure", "point-like", "all-optional")

INTRO = """# gwidgets dashboard

Select observations, draw the ON region and edit the source model. The data store is the
simulated example store, or PATH when served with `gwidgets dashboard PATH` (add
`--required-irf point-like` for point-like data sets such as `joint-crab/data/magic`)."""

CODE = """import os

from gwidgets.app import Dashboard
from gwidgets.core.data import DataStore
from gwidgets.state import AnalysisSession

path = os.environ.get("GWIDGETS_DASHBOARD_STORE")  # set by `gwidgets dashboard PATH`
if path:
    store = DataStore.from_dir(path)
else:
    from gwidgets.core.simulate.example import example_store

    store = example_store()  # the simulated example data set
session = AnalysisSession(store, background=False)  # synchronous while setting up: nothing to compute yet
session.required_irf = os.environ.get("GWIDGETS_REQUIRED_IRF") or session.required_irf
session.background = True
dashboard = Dashboard(session=session, first_look=not path)  # no PATH: open with the example analysed
dashboard"""


def dashboard_notebook(extra_code: str | None = None, kernel_name: str = "python3"):
    """The dashboard notebook (`nbformat` v4); ``extra_code`` is run before the dashboard is displayed.

    ``kernel_name`` is its kernelspec (``gwidgets dashboard`` serves it with `gwidgets.app.kernel.KERNEL_NAME`).
    """
    import nbformat

    code = CODE
    if extra_code:
        head, _, last = CODE.rpartition("\n")
        code = f"{head}\n{extra_code.strip()}\n{last}"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(INTRO), nbformat.v4.new_code_cell(code)]
    display = "Python 3" if kernel_name == "python3" else f"Python 3 ({kernel_name})"
    nb.metadata["kernelspec"] = {"name": kernel_name, "display_name": display, "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def write_notebook(directory, extra_code: str | None = None, kernel_name: str = "python3") -> Path:
    """Write the dashboard notebook (kernelspec ``kernel_name``) into ``directory``; returns its path."""
    import nbformat

    path = Path(directory) / NOTEBOOK_NAME
    nbformat.write(dashboard_notebook(extra_code, kernel_name), str(path))
    return path


#: seconds a kernel with no page connected may stay idle before Voilà culls it (a page closed
#: without its unload request: a laptop lid, a dropped network); checked every CULL_INTERVAL s
CULL_IDLE_TIMEOUT = 30.0
CULL_INTERVAL = 10.0
#: seconds Voilà waits for a cell's outputs after the kernel says it has run it (nbclient's default: 4)
IOPUB_TIMEOUT = 60.0


def voila_command(notebook, port: int | None = None, no_browser: bool = False, ip: str | None = None,
                  preheat: bool = False, pool_size: int = 1,
                  cull_idle_timeout: float | None = CULL_IDLE_TIMEOUT) -> list[str]:
    """The command line that serves ``notebook`` with Voilà in this Python environment.

    Parameters
    ----------
    notebook : path
        The notebook to serve.
    port : int, optional
        Port (Voilà's default 8866 when None).
    no_browser : bool
        Do not open a web browser.
    ip : str, optional
        Address to listen on.
    preheat : bool
        Keep ``pool_size`` kernels that have already run the notebook waiting for the next pages
        (first paint ≈2 s instead of ≈4 s; each costs one idle kernel's memory).
    pool_size : int
        Number of pre-heated kernels (a classroom: about the number of people who arrive at once).
    cull_idle_timeout : float or None
        Seconds after which a kernel that no page is connected to and that is idle is shut down
        (Voilà's ``MappingKernelManager`` culling; pooled kernels are never culled). None: never.

    Returns
    -------
    list of str
        The command line.
    """
    # Voilà drops a cell's output (the dashboard never appears) when the kernel's IOPub messages lag more
    # than nbclient's 4 s behind the execute reply: a loaded server (a classroom: 10 kernels starting on
    # 2 cores) needs a longer wait
    cmd = [sys.executable, "-m", "voila", str(notebook), "--show_tracebacks=True", "--theme=light",
           f"--VoilaExecutor.iopub_timeout={IOPUB_TIMEOUT:g}"]
    if preheat:
        cmd += ["--preheat_kernel=True", f"--pool_size={max(int(pool_size), 1)}"]
    if cull_idle_timeout is not None and cull_idle_timeout > 0:
        interval = min(CULL_INTERVAL, max(float(cull_idle_timeout) / 3, 1.0))
        cmd += [f"--MappingKernelManager.cull_idle_timeout={int(round(cull_idle_timeout))}",
                f"--MappingKernelManager.cull_interval={int(round(interval))}",
                "--MappingKernelManager.cull_connected=False",
                # culls a page's kernel only after the page has connected (see gwidgets.app.voila_kernels)
                "--VoilaConfiguration.multi_kernel_manager_class=gwidgets.app.voila_kernels.DashboardKernelManager"]
    if port is not None:
        cmd.append(f"--port={int(port)}")
    if no_browser:
        cmd.append("--no-browser")
    if ip:
        cmd.append(f"--Voila.ip={ip}")
    return cmd


def voila_env(path=None, required_irf: str | None = None, base: dict | None = None) -> dict:
    """Environment for Voilà: this interpreter first on PATH, the data store path and the required IRFs.

    This interpreter's directory comes first on PATH so that the ``python3`` kernel is this environment.
    """
    env = dict(os.environ if base is None else base)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.pop(STORE_ENV, None)
    env.pop(IRF_ENV, None)
    if path:
        env[STORE_ENV] = str(Path(path).expanduser().resolve())
    if required_irf:
        env[IRF_ENV] = required_irf
    return env


def _default_sigint():  # pragma: no cover - runs in the child between fork and exec
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.setpgid(0, 0)  # own process group: a terminal's Ctrl-C reaches Voilà once, forwarded by run()


def popen_kwargs() -> dict:
    """Popen options so that SIGINT stops Voilà cleanly even when this process ignores SIGINT.

    (A command started in the background by a non-interactive shell does; Python then keeps
    ignoring it, and so would Voilà.) Voilà also runs in a process group of its own: a terminal sends
    Ctrl-C to its whole foreground group, and a second SIGINT (the one ``run`` forwards) would
    interrupt Voilà while it shuts its kernels down (traceback, exit code 254, kernels left).
    """
    return {"preexec_fn": _default_sigint} if os.name == "posix" else {}


#: signals that stop ``gwidgets dashboard``: Ctrl-C, ``kill``, a closed terminal
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def _forward_stop_signals(proc: subprocess.Popen) -> dict:
    """Install handlers that stop Voilà with one SIGINT (its clean shutdown), and SIGTERM if asked again.

    Returns the previous handlers. Signals this process ignores (``nohup``, ``&``) stay ignored.
    """
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        return {}
    sent = []

    def forward(signum, frame):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM if sent else signal.SIGINT)
            sent.append(signum)

    return {s: signal.signal(s, forward) for s in STOP_SIGNALS if signal.getsignal(s) is not signal.SIG_IGN}


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``dashboard`` sub-command to an ``argparse`` sub-parsers object."""
    p = subparsers.add_parser("dashboard", help="open the interactive dashboard (Voilà)",
                              description="Serve the gwidgets dashboard with Voilà.")
    _arguments(p)
    p.set_defaults(func=run)
    return p


def _arguments(p: argparse.ArgumentParser):
    p.add_argument("path", nargs="?", help="DL3 data store directory (default: the simulated example store)")
    p.add_argument("--port", type=int, default=None, help="port to serve on (default: Voilà's, 8866)")
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    p.add_argument("--ip", default=None, help="address to listen on (default: Voilà's, localhost)")
    p.add_argument("--required-irf", choices=IRF_CHOICES, default=None,
                   help="IRFs an observation must have (point-like data sets: point-like)")
    p.add_argument("--pool-size", type=int, default=1, metavar="N",
                   help="pre-heated kernels kept ready (default 1; a classroom: about the number of people "
                        "arriving at once; each idle kernel costs its memory)")
    p.add_argument("--cull-idle-timeout", type=float, default=CULL_IDLE_TIMEOUT, metavar="SECONDS",
                   help="shut down a kernel whose page is gone after this many idle seconds "
                        f"(default {CULL_IDLE_TIMEOUT:g}; 0: never)")
    p.add_argument("--no-preheat", action="store_true",
                   help="do not keep a kernel that has already run the dashboard ready for the next page "
                        "(saves one idle kernel; the page then takes ~6 s instead of ~3 s to appear)")


def run(args) -> int:
    """Run Voilà until it exits (Ctrl-C stops it cleanly); returns its exit code."""
    from ..errors import GwidgetsError

    if args.path and not Path(args.path).expanduser().is_dir():
        raise GwidgetsError(f"Data store directory not found: '{args.path}'")
    import importlib.util

    if importlib.util.find_spec("voila") is None:
        raise GwidgetsError("Voilà is not installed: pip install voila")
    from .kernel import KERNEL_NAME, kernel_env, write_kernel_spec

    with tempfile.TemporaryDirectory(prefix="gwidgets-dashboard-") as tmp:
        # each page's kernel: ipykernel without the debugger and jedi (gwidgets.app.kernel), ~9 MiB less per kernel
        notebook = write_notebook(tmp, kernel_name=KERNEL_NAME)
        env = kernel_env(write_kernel_spec(Path(tmp) / "jupyter"), voila_env(args.path, args.required_irf))
        pool = getattr(args, "pool_size", 1)
        if pool is not None and pool < 1:
            raise GwidgetsError(f"--pool-size must be at least 1, got {pool} (use --no-preheat for no pool)")
        cull = getattr(args, "cull_idle_timeout", CULL_IDLE_TIMEOUT)
        if cull is not None and cull < 0:
            raise GwidgetsError(f"--cull-idle-timeout must be >= 0 seconds, got {cull:g}")
        cmd = voila_command(notebook, args.port, args.no_browser, args.ip,
                            preheat=not getattr(args, "no_preheat", False), pool_size=pool or 1,
                            cull_idle_timeout=cull or None)
        proc = subprocess.Popen(cmd, cwd=tmp, env=env, **popen_kwargs())
        previous = _forward_stop_signals(proc)
        try:
            return proc.wait()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def main(argv=None) -> int:
    """Stand-alone entry point (``python -m gwidgets.app.cli_dashboard``)."""
    from ..errors import GwidgetsError

    parser = argparse.ArgumentParser(prog="gwidgets dashboard", description="Serve the gwidgets dashboard with Voilà.")
    _arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except GwidgetsError as exc:
        print(f"gwidgets: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
