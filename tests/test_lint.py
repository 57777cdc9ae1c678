"""``ruff check gwidgets`` is clean (the configuration is in pyproject.toml; CI runs it too, see .ci/run)."""
import shutil
import subprocess
import sys

import pytest
from gw_testdata import ROOT


def _ruff() -> list[str]:
    exe = shutil.which("ruff")
    if exe:
        return [exe]
    try:
        import ruff  # noqa: F401 - the pip package: `python -m ruff`
    except ImportError:
        pytest.skip("ruff is not installed (it is in the 'test' extra)")
    return [sys.executable, "-m", "ruff"]


def test_ruff_check_gwidgets_is_clean():
    """No finding in the package (what CI's lint step checks too)."""
    proc = subprocess.run([*_ruff(), "check", "gwidgets", "--output-format", "concise"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"ruff check gwidgets found problems:\n{proc.stdout}{proc.stderr}"


def test_ruff_finds_a_long_line(tmp_path):
    """The check is live: the project's configuration flags a line over 120 columns."""
    bad = tmp_path / "gwidgets_bad.py"
    bad.write_text(f'"""Module."""\nX = "{"x" * 130}"\n')
    proc = subprocess.run([*_ruff(), "check", "--config", str(ROOT / "pyproject.toml"), "--output-format", "concise",
                           str(bad)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 1 and "E501" in proc.stdout, proc.stdout + proc.stderr
