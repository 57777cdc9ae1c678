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
