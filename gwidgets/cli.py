"""The ``gwidgets`` command line.

Sub-commands
------------
``gwidgets info [PATH]``
    Versions of gwidgets and its dependencies, and a summary of a DL3 data
    store (the simulated example store when PATH is omitted).
``gwidgets simulate OUTDIR [--seed N] [--n-obs N] [--overwrite]``
    Write the project's simulated DL3 data store into OUTDIR.
``gwidgets dashboard [PATH] [--port N] [--no-browser]``
    Serve the dashboard with Voilà (the simulated store when PATH is omitted).
``gwidgets run CONFIG.yaml [--outdir DIR] [--overwrite]``
    Run a config-driven analysis and write every product into the output folder
    (all or nothing), with a progress bar.
``gwidgets download [hess-dl3-dr1|joint-crab|all|aladin-lite] [--dest DIR] [--mirror URL]``
    Fetch public data sets into the data root (``$GWIDGETS_DATA``, else the user
    data folder) under the names the examples read (checksums, resumable).
"""
from __future__ import annotations

import argparse
import signal
import sys
import time

__all__ = ["main"]


def _versions() -> list[tuple[str, str]]:
    from importlib import metadata

    out = []
    for name in ("gwidgets", "numpy", "scipy", "astropy", "regions", "iminuit", "ipywidgets", "anywidget", "voila"):
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            out.append((name, "not installed"))
    return out


def cmd_info(args) -> int:
    from .core.data import DataStore

    for name, version in _versions():
        print(f"{name:>10}: {version}")
    if args.path:
        store = DataStore.from_dir(args.path)
    else:
        from .core.simulate.example import example_store

        store = example_store()
    print()
    print(store)
    t = store.obs_table
    cols = [c for c in ("OBS_ID", "OBJECT", "RA_PNT", "DEC_PNT", "ZEN_PNT", "LIVETIME") if c in t.colnames]
    shown = t[cols]
    for c in ("RA_PNT", "DEC_PNT", "ZEN_PNT"):
        if c in shown.colnames:
            shown[c].info.format = ".3f"
    if "LIVETIME" in shown.colnames:
        shown["LIVETIME"].info.format = ".1f"
    shown.pprint(max_lines=args.max_lines, max_width=120)
    problems = store.check()
    for p in problems:
        print("problem:", p)
    return 1 if problems else 0


def cmd_simulate(args) -> int:
    from .core.simulate import simulate_datastore

    t0 = time.perf_counter()
    kwargs = {k: v for k, v in (("seed", args.seed), ("n_obs", args.n_obs)) if v is not None}
    path = simulate_datastore(args.outdir, overwrite=args.overwrite, **kwargs)
    print(f"Simulated DL3 data store written to {path} in {time.perf_counter() - t0:.1f} s")
    return 0


def _stop_on_terminate() -> dict:
    """SIGTERM / SIGHUP (``kill``, a process manager, a closed terminal) stop ``gwidgets run`` as Ctrl-C does.

    The output is written all or nothing, so no partial folder is left. Returns the previous handlers.
    """
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}

    def stop(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    wanted = [getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    return {s: signal.signal(s, stop) for s in wanted if signal.getsignal(s) is not signal.SIG_IGN}


def cmd_run(args) -> int:
    import warnings
    from pathlib import Path

    from .core.analysis import Analysis

    t0 = time.perf_counter()
    analysis = Analysis(Path(args.config))
    bar = None
    if not args.quiet:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(analysis.planned_steps()), desc="gwidgets run", unit="step")

    def progress(done, total, message=""):
        bar.n = done
        bar.set_postfix_str(message, refresh=False)
        bar.refresh()

    previous = _stop_on_terminate()
    try:
        with warnings.catch_warnings():
            if args.quiet:
                warnings.simplefilter("ignore")
            path = analysis.run(progress=progress if bar is not None else None, outdir=args.outdir,
                                overwrite=True if args.overwrite else None)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if bar is not None:
            bar.close()
    for line in analysis.notes:  # skipped observations and the like, one line per cause
        print(f"note: {line}")
    result = analysis.fit_result
    if result is not None:
        print(f"fit: success={result.success}, total stat={result.total_stat:.4f}")
        table = result.parameters_table()
        free = table[~table["frozen"]] if len(table) else table
        if len(free):
            free.keep_columns(["name", "value", "error", "unit"])
            print("\n".join(free.pformat(max_lines=-1, max_width=-1)))
    print(f"Results written to {path} in {time.perf_counter() - t0:.1f} s")
    return 0


def cmd_download(args) -> int:
    if args.dataset == "aladin-lite":
        return _download_aladin(args)
    from .core.download import download

    path = download(args.dataset, dest=args.dest, show_progress=not args.quiet, mirror=args.mirror)
    print(f"Data in {path}")
    return 0


def _download_aladin(args) -> int:
    """The Aladin Lite ES module for the offline Aladin view (npm tarball, checksum-verified)."""
    from pathlib import Path

    from .widgets.aladin_assets import ALADIN_LITE_VERSION, TARBALL_SIZE, fetch_aladin_js

    cache = None if args.dest is None else Path(args.dest) / "aladin-lite" / ALADIN_LITE_VERSION
    bar = None
    if not args.quiet:
        from tqdm.auto import tqdm

        bar = tqdm(total=TARBALL_SIZE, unit="B", unit_scale=True, unit_divisor=1024, desc="aladin-lite")
    try:
        path = fetch_aladin_js(cache_dir=cache, progress=None if bar is None else bar.update)
    finally:
        if bar is not None:
            bar.close()
    print(f"Aladin Lite {ALADIN_LITE_VERSION} in {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gwidgets", description="Interactive gamma-ray astronomy toolkit")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("info", help="versions and a data store summary")
    p.add_argument("path", nargs="?", help="DL3 data store directory (default: the simulated example store)")
    p.add_argument("--max-lines", type=int, default=30, help="rows of the observation table to print")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("simulate", help="write the simulated example DL3 data store")
    p.add_argument("outdir", help="output directory")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the example store's)")
    p.add_argument("--n-obs", type=int, default=None, help="number of observations")
    p.add_argument("--overwrite", action="store_true", help="replace an existing store")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("run", help="run a config-driven analysis (gwidgets run config.yaml)")
    p.add_argument("config", help="analysis configuration YAML file")
    p.add_argument("--outdir", default=None, help="output folder (default: general.outdir of the config)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no warnings")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("download", help="fetch public data sets (H.E.S.S. DR1, joint-crab) or Aladin Lite")
    p.add_argument("dataset", nargs="?", default="all",
                   choices=["hess-dl3-dr1", "joint-crab", "all", "aladin-lite", "hess-dr1"],
                   help="which data set (default: all data sets; hess-dr1 = hess-dl3-dr1); aladin-lite: the "
                        "JavaScript of the offline Aladin view (from the npm registry)")
    p.add_argument("--dest", default=None,
                   help="data root to fill (default: $GWIDGETS_DATA, else the user data folder)")
    p.add_argument("--mirror", default=None,
                   help="base URL (or folder) of a mirror laid out as the data root, <mirror>/<data set>/<path> "
                        "(default: $GWIDGETS_DATA_MIRROR, else the public origins)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_download)

    from .app.cli_dashboard import add_parser as add_dashboard_parser

    add_dashboard_parser(sub)
    return parser


def main(argv=None) -> int:
    from .errors import GwidgetsError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__

        print(__version__)
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except GwidgetsError as exc:
        print(f"gwidgets: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM / SIGHUP during `gwidgets run`
        print("gwidgets: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
