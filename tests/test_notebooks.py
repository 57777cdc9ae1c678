"""The notebooks run top to bottom (``pytest --nbval-lax``) with ``$GWIDGETS_DATA`` = the shared data folder,
fail with the data-path error (naming the download command) without data, and the ``gwidgets dashboard``
command's pieces."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gw_testdata import DATA
from gwidgets.app import cli_dashboard as cli
from gwidgets.core.datapaths import DATA_ENV

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def _env(data_root=DATA):
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")  # kernel = this Python
    env.pop(cli.STORE_ENV, None)
    env.pop(cli.IRF_ENV, None)
    env[DATA_ENV] = str(data_root)  # the data root: the notebooks find their data sets with gw.data_path
    return env


def _nbval(name, env):
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", str(NOTEBOOKS / name), "-q", "-p", "no:cacheprovider",
         "-o", "addopts="],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )


#: every tutorial notebook (each < 30 s); a new notebook = one more name here
NOTEBOOK_NAMES = ["getting_started.ipynb", "dashboard.ipynb", "joint_crab.ipynb", "analysis_3d.ipynb",
                  "build_your_own_dashboard.ipynb"]


#: the notebooks that read public data sets (the others use the simulated example store)
NEEDS_DATA = {"joint_crab.ipynb", "analysis_3d.ipynb"}


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_runs_with_nbval_lax(name):
    pytest.importorskip("nbval")
    if name in NEEDS_DATA and not DATA.exists():
        pytest.skip(f"shared data not found at {DATA}")
    proc = _nbval(name, _env(DATA))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout, proc.stdout[-2000:]


def test_notebooks_read_no_path_outside_the_repository():
    for name in NOTEBOOK_NAMES:
        text = (NOTEBOOKS / name).read_text()
        assert "../" not in text and "shared/data" not in text, f"{name} points outside the repository"


@pytest.mark.parametrize("name, command", [("joint_crab.ipynb", "gwidgets download joint-crab"),
                                           ("analysis_3d.ipynb", "gwidgets download hess-dl3-dr1")])
def test_without_data_a_notebook_fails_with_the_download_command(name, command, tmp_path):
    """An empty data root: the first cell stops with MissingDataError naming the command (not a later
    misleading error such as 'No free parameters to fit' after reading 0 spectra)."""
    pytest.importorskip("nbval")
    proc = _nbval(name, _env(tmp_path / "empty-data-root"))
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert "MissingDataError" in proc.stdout and command in proc.stdout, proc.stdout[-3000:]
    assert "No free parameters" not in proc.stdout


def test_dashboard_notebook_is_the_cli_notebook():
    import nbformat

    saved = nbformat.read(str(NOTEBOOKS / "dashboard.ipynb"), as_version=4)
    made = cli.dashboard_notebook()
    assert [(c.cell_type, c.source) for c in saved.cells] == [(c.cell_type, c.source) for c in made.cells], (
        "notebooks/dashboard.ipynb is out of date: regenerate it with "
        "nbformat.write(gwidgets.app.cli_dashboard.dashboard_notebook(), 'notebooks/dashboard.ipynb')")
    assert all(not c.get("outputs") for c in saved.cells if c.cell_type == "code")


def test_extra_code_goes_before_the_display(tmp_path):
    import nbformat

    path = cli.write_notebook(tmp_path, extra_code="x = 1")
    code = nbformat.read(str(path), as_version=4).cells[-1].source.splitlines()
    assert code[-2:] == ["x = 1", "dashboard"]


def test_dashboard_subcommand_arguments():
    parser = argparse.ArgumentParser(prog="gwidgets")
    sub = parser.add_subparsers(dest="command")
    cli.add_parser(sub)
    args = parser.parse_args(["dashboard", "some/store", "--port", "8899", "--no-browser", "--required-irf", "point-like"])
    assert (args.path, args.port, args.no_browser, args.required_irf, args.func) == (
        "some/store", 8899, True, "point-like", cli.run)
    args = parser.parse_args(["dashboard"])
    assert (args.path, args.port, args.no_browser, args.ip, args.no_preheat) == (None, None, False, None, False)
    assert parser.parse_args(["dashboard", "--no-preheat"]).no_preheat is True
    with pytest.raises(SystemExit):
        parser.parse_args(["dashboard", "--required-irf", "nonsense"])


def test_voila_command_and_environment(tmp_path):
    cmd = cli.voila_command(tmp_path / "app.ipynb", port=8899, no_browser=True, ip="127.0.0.1")
    assert cmd[:3] == [sys.executable, "-m", "voila"] and str(tmp_path / "app.ipynb") in cmd
    assert {"--port=8899", "--no-browser", "--Voila.ip=127.0.0.1"} <= set(cmd)
    assert "--no-browser" not in cli.voila_command("a.ipynb")
    assert "--preheat_kernel=True" not in cmd
    assert {"--preheat_kernel=True", "--pool_size=1"} <= set(cli.voila_command("a.ipynb", preheat=True))
    env = cli.voila_env(tmp_path, "point-like", base={"PATH": "/usr/bin", cli.STORE_ENV: "stale", DATA_ENV: "/root"})
    assert env["PATH"].split(os.pathsep)[0] == os.path.dirname(sys.executable)
    assert env[cli.STORE_ENV] == str(tmp_path.resolve()) and env[cli.IRF_ENV] == "point-like"
    assert env[DATA_ENV] == "/root"  # the data root is passed on untouched: it is not the store
    assert cli.STORE_ENV != DATA_ENV
    # the notebook takes its store from the internal variable only: a data root in $GWIDGETS_DATA is never
    # opened as one store (it merged every data set into 249 observations with 'livetime nan h')
    assert f'os.environ.get("{cli.STORE_ENV}")' in cli.CODE and f'"{DATA_ENV}"' not in cli.CODE
    assert cli.STORE_ENV not in cli.voila_env(None, base={cli.STORE_ENV: "stale"})  # no PATH: the example store


def test_dashboard_command_errors(tmp_path, capsys):
    assert cli.main([str(tmp_path / "missing")]) == 1
    assert "not found" in capsys.readouterr().err


def test_cli_module_does_not_import_voila():
    code = "import sys, gwidgets.app.cli_dashboard; print('voila' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
