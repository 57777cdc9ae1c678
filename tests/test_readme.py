"""The README's quick start runs as written (on the simulated example store)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from gw_testdata import DATA

ROOT = Path(__file__).resolve().parents[1]


def test_readme_quick_start_runs(tmp_path):
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README has no python block"
    # the data root: the shared data folder (a python block reads gw.data_path("joint-crab/..."))
    env = dict(os.environ, GWIDGETS_CACHE_DIR=str(tmp_path / "cache"), MPLBACKEND="Agg", GWIDGETS_DATA=str(DATA))
    for code in blocks:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]


def test_readme_commands_match_ci():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'pip install ".[test]" && python -m pytest' in readme
    assert 'pip install ".[test]" && python -m pytest' in ci
