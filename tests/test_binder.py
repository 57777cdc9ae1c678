"""Binder: binder/requirements.txt pins every dependency, binder/runtime.txt names the Python the pins need,
and the environment built as repo2docker builds it runs every notebook.

Quick: ``pip install --dry-run -r binder/requirements.txt`` resolves the pinned set from the index for this
Python (nothing is installed; skipped offline). Slow: a fresh ``python -m venv`` (no system site packages)
with the runtime's Python, ``pip install -r binder/requirements.txt``, then ``binder/postBuild`` run from a
copy of the repository (it installs gwidgets and downloads the data, here from a ``file://`` mirror of the
shared data), then ``pytest --nbval-lax`` on all the notebooks inside that venv, with a fresh home folder
for the data root and Jupyter's kernels.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "binder" / "requirements.txt"
RUNTIME = ROOT / "binder" / "runtime.txt"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
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
    for needed in ("numpy", "astropy", "regions", "iminuit", "ipywidgets", "anywidget", "voila", "traitlets",
                   "ipykernel"):  # ipykernel: the kernel the notebooks and Voila run in
        assert needed in names, f"{needed} is imported by gwidgets but not pinned"


def test_pins_satisfy_the_package_requirements():
    """Every runtime dependency of gwidgets is pinned, at a version its range in pyproject.toml admits."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins = {canonicalize_name(PIN.match(p).group(1)): PIN.match(p).group(2) for p in _pins()}
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for dep in map(Requirement, deps):
        name = canonicalize_name(dep.name)
        assert name in pins, f"runtime dependency {dep.name} is not pinned in binder/requirements.txt"
        assert dep.specifier.contains(pins[name], prereleases=True), \
            f"binder pins {dep.name}=={pins[name]}, outside gwidgets' range '{dep.specifier}'"


def test_pins_resolve_from_the_package_index(tmp_path):
    """The pinned set is installable together from the index (pip resolves it, nothing is installed).

    Pins drift from what ``pip install .[test]`` picks up today, so the pins are checked for
    existence and mutual consistency, not equality with this environment.
    """
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                           "--disable-pip-version-check", "--quiet", "--report", str(tmp_path / "report.json"),
                           "-r", str(REQUIREMENTS)], capture_output=True, text=True, timeout=300)
    offline = ("Could not find a version" in proc.stderr and "from versions: none" in proc.stderr
               and "Failed to establish" in proc.stderr + proc.stdout) or "NewConnectionError" in proc.stderr
    if proc.returncode != 0 and offline:
        pytest.skip("package index not reachable")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    import json

    resolved = {i["metadata"]["name"].lower().replace("_", "-"): i["metadata"]["version"]
                for i in json.loads((tmp_path / "report.json").read_text())["install"]}
    for pin in _pins():
        name, version = PIN.match(pin).groups()
        assert resolved.get(name.lower().replace("_", "-")) == version, f"{pin} resolved to {resolved.get(name)}"


def _runtime_version() -> tuple[int, int]:
    m = re.fullmatch(r"python-(\d+)\.(\d+)", RUNTIME.read_text().strip())
    assert m, f"binder/runtime.txt must read python-X.Y, got {RUNTIME.read_text()!r}"
    return int(m.group(1)), int(m.group(2))


def test_runtime_python_is_the_one_the_pins_and_the_package_need():
    """runtime.txt names a Python that requires-python admits, and requires-python admits no older one
    (the pins need >= 3.11: numpy 2.4, scipy 1.17, astropy 8 and matplotlib 3.11 say so)."""
    import tomllib

    from packaging.specifiers import SpecifierSet

    major, minor = _runtime_version()
    spec = SpecifierSet(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"])
    assert spec.contains(f"{major}.{minor}") and not spec.contains(f"{major}.{minor - 1}"), spec


def _runtime_python():
    """An interpreter of binder/runtime.txt's version: this one, else pythonX.Y on PATH."""
    want = _runtime_version()
    if sys.version_info[:2] == want:
        return sys.executable
    return shutil.which("python%d.%d" % want)


def _run(cmd, env, cwd, timeout, what):
    t0 = time.perf_counter()
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, cwd=str(cwd), timeout=timeout)
    assert proc.returncode == 0, f"{what} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    print(f"{what}: {time.perf_counter() - t0:.1f} s")
    return proc.stdout


PROBE = """import sys, gwidgets
from pathlib import Path
assert Path(sys.prefix) == Path({venv!r}), sys.prefix        # the kernel is the venv's Python
assert Path(gwidgets.__file__).is_relative_to({venv!r}), gwidgets.__file__   # the installed copy, not a checkout
assert gwidgets.data_root() == Path({root!r}), gwidgets.data_root()   # postBuild filled the default data root
"""


@pytest.mark.slow
def test_binder_environment_runs_every_notebook(data_dir, tmp_path):
    """As repo2docker: a fresh venv with the runtime's Python, the pinned requirements, postBuild from the
    repository root; then every notebook runs under nbval in that venv with the data postBuild fetched."""
    python = _runtime_python()
    if python is None:
        pytest.skip("no python%d.%d for binder/runtime.txt" % _runtime_version())
    repo = tmp_path / "repo"  # repo2docker's copy of the repository (pip install . builds in it)
    shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(".git", "build", "*.egg-info", "__pycache__",
                                                               ".pytest_cache", "test-artifacts", "artifacts", ".venv"))
    venv = tmp_path / "venv"
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GWIDGETS_", "PYTHON", "VIRTUAL_ENV", "JUPYTER", "CONDA"))}
    env.update(PATH=str(venv / "bin") + os.pathsep + env.get("PATH", os.defpath),
               XDG_DATA_HOME=str(home / ".local" / "share"),    # user data folder (the data root) and Jupyter's
               GWIDGETS_CACHE_DIR=str(home / ".cache" / "gwidgets"),  # the simulated store, made by postBuild
               GWIDGETS_DATA_MIRROR=data_dir.as_uri(),           # postBuild downloads from the shared data
               MPLBACKEND="Agg")
    _run([python, "-m", "venv", venv], env, tmp_path, 300, "python -m venv")
    t0 = time.perf_counter()
    install = subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check", "-q",
                              "-r", repo / "binder" / "requirements.txt"],
                             capture_output=True, text=True, env=env, cwd=str(repo), timeout=1500)
    if install.returncode != 0 and ("NewConnectionError" in install.stderr or "from versions: none" in install.stderr):
        pytest.skip("package index not reachable")
    assert install.returncode == 0, install.stderr[-3000:]
    print(f"pip install -r binder/requirements.txt: {time.perf_counter() - t0:.1f} s")
    _run(["bash", repo / "binder" / "postBuild"], env, repo, 900, "binder/postBuild")
    root = home / ".local" / "share" / "gwidgets"
    for needed in ("hess-dl3-dr1/hdu-index.fits.gz", "joint-crab/results/spectra/hess/pha_obs23523.fits",
                   "joint-crab/data/hess/obs-index.fits.gz"):
        assert (root / needed).is_file(), needed
    # the test runner only (not part of Binder), at this environment's versions
    _run([venv / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check", "-q",
          f"pytest=={metadata.version('pytest')}", f"nbval=={metadata.version('nbval')}"], env, tmp_path, 600, "pip install nbval")
    import nbformat

    probe = repo / "binder-probe" / "probe.ipynb"  # in the copy only; its folder (the kernel's cwd) holds no gwidgets
    probe.parent.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(PROBE.format(venv=str(venv), root=str(root)))])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(probe))
    notebooks = [repo / "notebooks" / p.name for p in NOTEBOOKS]
    t0 = time.perf_counter()
    proc = subprocess.run([venv / "bin" / "python", "-m", "pytest", "--nbval-lax", "-v", "-p", "no:cacheprovider",
                           "-o", "addopts=", probe, *notebooks],
                          capture_output=True, text=True, env=env, cwd=str(repo), timeout=1500)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
    print(f"pytest --nbval-lax (probe + {len(NOTEBOOKS)} notebooks): {time.perf_counter() - t0:.1f} s")
    # pytest prints a notebook's cells as 'notebooks/name.ipynb::Cell 3' or 'notebooks/name::ipynb::Cell 3'
    passed = set(re.findall(r"([\w\-]+)(?:\.|::)ipynb::Cell \d+ PASSED", proc.stdout))
    assert passed == {"probe", *(p.stem for p in NOTEBOOKS)}, proc.stdout[-3000:]
    assert len(NOTEBOOKS) == 5
