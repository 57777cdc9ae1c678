"""The gwidgets command line: info, simulate, errors as one clear line."""
from __future__ import annotations

import subprocess
import sys

import pytest

from gwidgets.cli import main


def test_info_on_a_real_store(stores, capsys):
    assert main(["info", str(stores["jc-hess"])]) == 0
    out = capsys.readouterr().out
    assert "4 observations" in out and "23523" in out and "astropy" in out


def test_simulate_then_info(tmp_path, capsys):
    assert main(["simulate", str(tmp_path / "s"), "--n-obs", "2", "--seed", "3"]) == 0
    assert main(["info", str(tmp_path / "s")]) == 0
    assert "2 observations" in capsys.readouterr().out


def test_bad_path_is_one_clear_line():
    out = subprocess.run([sys.executable, "-m", "gwidgets", "info", "/no/such/dir"], capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.strip() == "gwidgets: error: File not found: '/no/such/dir'"


def test_help_lists_run_and_download(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "run" in out and "download" in out and "dashboard" in out
    with pytest.raises(SystemExit):
        main(["download", "fermi-all-sky"])  # not a known data set: argparse names the choices
    assert "invalid choice: 'fermi-all-sky'" in capsys.readouterr().err


def test_run_error_is_one_clear_line_with_progress_bar(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("data: {datastore: $GW_SURELY_UNSET/hess}\n")
    out = subprocess.run([sys.executable, "-m", "gwidgets", "run", str(cfg), "--outdir", str(tmp_path / "o")],
                         capture_output=True, text=True, env={k: v for k, v in __import__("os").environ.items()
                                                              if k != "GW_SURELY_UNSET"})
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last == ("gwidgets: error: 'data.datastore' = '$GW_SURELY_UNSET/hess': "
                    "environment variable GW_SURELY_UNSET is not set")
    assert not (tmp_path / "o").exists()
    missing = subprocess.run([sys.executable, "-m", "gwidgets", "run", str(tmp_path / "none.yaml")],
                             capture_output=True, text=True)
    assert missing.returncode == 1 and missing.stderr.strip() == f"gwidgets: error: File not found: '{tmp_path / 'none.yaml'}'"
