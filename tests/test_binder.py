"""binder/requirements.txt: every package pinned, the pins are the tested environment, and a clean
virtual environment built from it imports gwidgets and runs the getting-started notebook.

Offline-safe and quick: ``python -m venv --system-site-packages --without-pip`` gives a clean
environment that sees the installed packages; ``pip install --dry-run --no-deps --no-index -r
binder/requirements.txt`` then succeeds only if every pinned version is exactly the installed one
(nothing is downloaded); gwidgets itself is installed into the venv as a path entry (what
``pip install -e .`` does), so the venv runs this checkout, not another installed copy.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "binder" / "requirements.txt"
PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([0-9][A-Za-z0-9.+\-]*)$")


def _pins():
    lines = [line.split("#")[0].strip() for line in REQUIREMENTS.read_text().splitlines()]
    return [line for line in lines if line]


def test_every_requirement_is_pinned():
    pins = _pins()
    assert pins, "binder/requirements.txt is empty"
    bad = [line for line in pins if not PIN.match(line)]
    assert not bad, f"not pinned with '==': {bad}"
    names = [PIN.match(p).group(1).lower() for p in pins]
    assert len(names) == len(set(names)), "a package is pinned twice"
    for needed in ("numpy", "astropy", "regions", "iminuit", "ipywidgets", "bqplot", "voila", "traitlets"):
        assert needed in names, f"{needed} is imported by gwidgets but not pinned"


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    path = tmp_path_factory.mktemp("binder") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(path)],
                   check=True, timeout=120)
    python = path / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "gwidgets-checkout.pth").write_text(str(ROOT) + "\n")
    return path


def _env(venv):
    env = dict(os.environ)
    env["PATH"] = str(venv / "bin") + os.pathsep + env.get("PATH", "")  # the kernel is the venv's python
    env.pop("PYTHONPATH", None)
    env.pop("GWIDGETS_DATA", None)
    return env


def test_pins_are_the_installed_versions(venv):
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--dry-run", "--no-deps",
                           "--no-index", "--disable-pip-version-check", "-r", str(REQUIREMENTS)],
                          capture_output=True, text=True, timeout=180, env=_env(venv), cwd=str(venv))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    satisfied = re.findall(r"Requirement already satisfied: (\S+)==", proc.stdout)
    assert len(satisfied) == len(_pins()), proc.stdout[-3000:]


def test_clean_venv_imports_gwidgets_and_runs_getting_started(venv, tmp_path):
    python = str(venv / "bin" / "python")
    code = ("import sys, gwidgets, gwidgets.widgets, gwidgets.app.dashboard; "
            "print(sys.prefix); print(gwidgets.__file__)")
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True, cwd=str(tmp_path),
                         env=_env(venv)).stdout.split()
    assert Path(out[0]) == venv and Path(out[1]).is_relative_to(ROOT)
    run = f"""
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read({str(ROOT / 'notebooks' / 'getting_started.ipynb')!r}, as_version=4)
nb.cells.append(nbformat.v4.new_code_cell("import sys, gwidgets; print('KERNEL', sys.prefix, gwidgets.__file__)"))
NotebookClient(nb, timeout=600, kernel_name="python3", resources={{"metadata": {{"path": {str(tmp_path)!r}}}}}).execute()
print(nb.cells[-1].outputs[0]["text"])
"""
    proc = subprocess.run([python, "-c", run], capture_output=True, text=True, timeout=600, cwd=str(tmp_path),
                          env=_env(venv))
    assert proc.returncode == 0, proc.stderr[-4000:]
    kernel = proc.stdout.split("KERNEL", 1)[1].split()
    assert Path(kernel[0]) == venv and Path(kernel[1]).is_relative_to(ROOT), proc.stdout[-1000:]
