"""Take the widget screenshots the tutorials show in the docs (widgets cannot render in a static page).

For each cell of ``WIDGET_CELLS`` (the code cells of a tutorial whose output is a widget), a notebook of that
cell and the code cells before it (less the other widget cells) is served with Voilà on loopback, as
``gwidgets dashboard`` serves its notebook, and loaded in headless Chromium (Debian's ``chromium``, driven
by Playwright; never ``playwright install``); the widget output is saved as
``docs/_static/screenshots/<notebook>-<k>.png`` (k-th widget cell, from 1), quantised to 256 colours.
``docs/conf.py`` shows each one in place of the output of its cell. (One widget per page: served whole,
``getting_started.ipynb`` left its widgets at "Loading widget..." in Voilà 0.5.13 here.)

Run by hand after a widget's look changes (about 1 min per widget cell on 2 cores)::

    GWIDGETS_DATA=/path/to/data python docs/screenshots.py [NOTEBOOK ...]
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "_static" / "screenshots"
#: notebook (in notebooks/) -> indices of its code cells whose output is a widget
WIDGET_CELLS = {
    "getting_started": [10, 12, 15],
    "dashboard": [1],
    "build_your_own_dashboard": [9],
    "joint_crab": [8, 10],
}


def screenshot_name(notebook: str, k: int) -> str:
    """File name (in docs/_static/screenshots) of the screenshot of the k-th (from 0) widget cell of ``notebook``."""
    return f"{notebook}-{k + 1}.png"


def cell_notebook(notebook: str, index: int, out_dir: Path) -> Path:
    """A notebook of the code cells of ``notebook`` up to ``index``, less the other widget cells.

    Cells that use a name only those left-out cells define are left out too (e.g. ``editor.flush()``).
    """
    import ast

    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / f"{notebook}.ipynb", as_version=4)
    others = set(WIDGET_CELLS[notebook]) - {index}
    dropped_names: set[str] = set()
    cells = []
    for i, cell in enumerate(nb.cells[: index + 1]):
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        if i in others or (i != index and loaded & dropped_names):
            dropped_names |= stored
            continue
        dropped_names -= stored
        cells.append(cell)
    sub = nbformat.v4.new_notebook(metadata=nb.metadata, cells=cells)
    path = out_dir / f"{notebook}-cell{index}.ipynb"
    nbformat.write(sub, path)
    return path
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: a top-level output of a code cell that holds a widget (not the widgets nested inside another widget)
WIDGET_OUTPUT = ".jp-Cell-outputArea > .jp-OutputArea-child > .jp-OutputArea-output:has(.jupyter-widgets)"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(notebook: Path, port: int, log) -> subprocess.Popen:
    """Start Voilà on ``notebook`` as ``gwidgets dashboard`` does; return once it listens."""
    from gwidgets.app.cli_dashboard import voila_command

    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")  # this checkout
    proc = subprocess.Popen(voila_command(notebook, port, no_browser=True, ip="127.0.0.1"),
                            cwd=notebook.parent, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"voila exited early with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    stop(proc)
    raise TimeoutError(f"voila does not listen on port {port}")


def stop(proc: subprocess.Popen) -> None:
    """Stop the Voilà server we started, by its PID: SIGINT (kernels shut down), then SIGTERM, SIGKILL."""
    for sig, wait in ((signal.SIGINT, 15), (signal.SIGTERM, 10), (signal.SIGKILL, None)):
        if proc.poll() is not None:
            return
        os.kill(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue


def shrink(path: Path) -> None:
    """Quantise the PNG at ``path`` to 256 colours (a third of the size, no visible change for widgets)."""
    from PIL import Image

    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def shoot(notebook: Path, path: Path, browser, settle: float) -> Path:
    """Serve ``notebook``, wait for its widget and save the (last) widget output as ``path``."""
    port = free_port()
    with open(notebook.with_suffix(".voila.log"), "w") as log:
        proc = serve(notebook, port, log)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 2400})
            page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
            page.wait_for_selector(WIDGET_OUTPUT, state="visible", timeout=120_000)
            time.sleep(settle)  # plots redraw once after the kernel's last message
            page.locator(WIDGET_OUTPUT).last.screenshot(path=str(path))
            page.close()
        finally:
            stop(proc)
    shrink(path)
    return path


def main(argv=None) -> int:
    """Take the screenshots of the widget cells of the notebooks given (default: all of WIDGET_CELLS)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", default=list(WIDGET_CELLS))
    parser.add_argument("--settle", type=float, default=8.0, help="seconds to wait after the widget shows")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    failed = 0
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for name in args.notebooks:
            for k, index in enumerate(WIDGET_CELLS[name]):
                t0 = time.monotonic()
                path = OUT / screenshot_name(name, k)
                try:
                    shoot(cell_notebook(name, index, Path(tmp)), path, browser, args.settle)
                except Exception as exc:  # one cell failing does not stop the others
                    failed += 1
                    print(f"{name} cell {index}: FAILED after {time.monotonic() - t0:.0f} s: {exc!r:.300}")
                    continue
                print(f"{name} cell {index}: {path.name}, {path.stat().st_size // 1024} kB, "
                      f"{time.monotonic() - t0:.0f} s")
        browser.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
