"""Run every benchmark and print gwidgets vs the reference from one run.

    python benchmarks/run.py            # all
    python benchmarks/run.py io         # only bench_io.py
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

BENCHMARKS = ["io", "reduce", "maps", "fit", "estimators", "widgets"]


def main(argv=None):
    names = (argv if argv is not None else sys.argv[1:]) or BENCHMARKS
    for name in names:
        importlib.import_module(f"bench_{name}").main()


if __name__ == "__main__":
    main()
