"""Run every benchmark and print gwidgets vs the reference from one run.

    python benchmarks/run.py            # all
    python benchmarks/run.py io         # only bench_io.py
    python benchmarks/run.py closure --seeds 5 --jobs 2   # options after the names go to each benchmark's main
    python benchmarks/run.py map_live python              # so do words that are not benchmark names
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

BENCHMARKS = ["io", "reduce", "maps", "fit", "estimators", "widgets", "jointcrab", "closure", "classroom", "scale",
              "map_live"]


def main(argv=None):
    argv = list(argv if argv is not None else sys.argv[1:])
    names = []
    while argv and not argv[0].startswith("-") and argv[0] in BENCHMARKS:
        names.append(argv.pop(0))  # the rest (e.g. "map_live python", "widgets first-look") goes to the benchmark
    for name in names or BENCHMARKS:
        module = importlib.import_module(f"bench_{name}")
        module.main(argv) if argv else module.main()


if __name__ == "__main__":
    main()
