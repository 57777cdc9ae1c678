"""Run one benchmark case in a fresh subprocess and report wall time and peak RSS.

Each case is a small Python snippet; running it in its own interpreter gives a
fair peak-RSS figure (``ru_maxrss`` of the child) and keeps gammapy and
gwidgets from sharing caches.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("GWIDGETS_TEST_DATA", ROOT.parent / "shared" / "data"))

_WRAPPER = """
import json, resource, time, warnings
warnings.simplefilter("ignore")
{setup}
t0 = time.perf_counter()
{body}
elapsed = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("__RESULT__" + json.dumps({{"seconds": elapsed, "peak_rss_mib": rss, "extra": globals().get("extra", {{}})}}))
"""


def run_case(setup: str, body: str, timeout: float = 600) -> dict:
    """Time ``body`` (after untimed ``setup``) in a new interpreter; return seconds and peak RSS."""
    code = _WRAPPER.format(setup=textwrap.dedent(setup), body=textwrap.dedent(body))
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("__RESULT__"):
            return json.loads(line[len("__RESULT__"):])
    raise RuntimeError(f"benchmark case failed:\n{proc.stderr[-3000:]}")


def report(title: str, ours: dict, ref: dict, ref_name: str = "gammapy") -> str:
    speed = ref["seconds"] / ours["seconds"] if ours["seconds"] else float("inf")
    lines = [
        f"== {title}",
        f"   gwidgets : {ours['seconds']:8.3f} s   peak RSS {ours['peak_rss_mib']:7.1f} MiB",
        f"   {ref_name:<9}: {ref['seconds']:8.3f} s   peak RSS {ref['peak_rss_mib']:7.1f} MiB",
        f"   speed-up : {speed:6.1f}x",
    ]
    return "\n".join(lines)
