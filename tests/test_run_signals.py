"""``gwidgets run`` stopped by SIGINT or SIGTERM at several moments (reading, fitting, writing): it exits
with 130 and a one-line message, and leaves either no output folder or the complete one, never a partial
or hidden temporary folder (issue 11)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_analysis import SMALL

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signals_at_several_moments_leave_no_partial_output(tmp_path, data_dir, sig):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(SMALL)
    env = dict(os.environ, GWIDGETS_DATA=str(data_dir), PYTHONPATH=str(ROOT))
    # how long a whole run takes here, to spread the signals over it
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gwidgets", "run", str(cfg), "--outdir", str(tmp_path / "full"),
                    "--quiet"], env=env, check=True, capture_output=True, timeout=300)
    total = time.perf_counter() - t0
    outcomes = []
    for k, fraction in enumerate((0.3, 0.6, 0.8, 0.9, 0.95)):
        out = tmp_path / f"out{k}"
        proc = subprocess.Popen([sys.executable, "-m", "gwidgets", "run", str(cfg), "--outdir", str(out), "--quiet"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(fraction * total)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=300)
        assert "Traceback" not in err, err[-3000:]
        if proc.returncode == 0:  # finished before the signal arrived: the complete folder
            assert (out / ".gwidgets-output").exists() and (out / "fit_result.yaml").exists()
        elif proc.returncode == -sig:  # arrived while Python was starting or shutting down: killed
            assert not out.exists() or (out / ".gwidgets-output").exists()
        else:
            assert proc.returncode == 130 and "gwidgets: interrupted" in err, (proc.returncode, err)
            # stopped before the folder was moved into place (nothing), or just after (complete)
            assert not out.exists() or (out / ".gwidgets-output").exists()
        outcomes.append(proc.returncode)
        debris = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
        assert not debris, debris
    assert 130 in outcomes  # at least one signal arrived while it worked
