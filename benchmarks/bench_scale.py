"""How reduction cost grows with the number of runs (issue 14, part 4): 100, 300 and 1000 runs.

The store: 1000 runs simulated with the project's simulator (`simulate_datastore`, the example
store's instrument and sky, 28-min wobble runs, real GADF DL3 files), cached in gwidgets' user
cache (``<cache>/bench-scale-1000``, ``$GWIDGETS_CACHE_DIR`` or platformdirs) and simulated only
when absent (about 2 min, 190 MB).

Each case reduces the first N runs of that store twice, in one fresh interpreter:

* 1D: `SpectrumDatasetMaker` (0.15 deg ON circle at the target, reflected-region OFF, aeff-default
  safe mask; 12 reco / 20 true energy bins), each run's dataset stacked as it arrives;
* 3D: `MapDatasetMaker` on a 3 x 3 deg cube (0.05 deg pixels, 12 energy bins; offset < 2 deg),
  stacked as it arrives;

both through `gwidgets.core.stacking.stack_stream` over observation ids with `FromStore` (each
observation is made where it is reduced and dropped once reduced; the store reaches each Dask
worker once, inside the scattered function). Modes: ``serial`` (this process) and
``dask``: a `LocalCluster` of 2 worker processes (1 thread each), tasks of 10 runs stacked on the
worker, at most 4 tasks in flight; the cluster is started before the clock starts.

Peak RSS: a thread samples, every 20 ms, the summed RSS (psutil) of the case's process and all its
descendants (the Dask nanny and worker processes); the peak of that sum is reported. Time: wall
clock of the two reductions. Target: time linear in runs, peak RSS at 1000 runs <= 1.3x that at
100 runs.

    python benchmarks/run.py scale                 # 100, 300, 1000 runs, serial and dask
    python benchmarks/run.py scale --sizes 100 300 # other sizes (at most the store's 1000 runs)
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

N_STORE = 1000
SIZES = (100, 300, 1000)
MODES = ("serial", "dask")
N_WORKERS = 2
CHUNK = 10
IN_FLIGHT = 4
ROOT = Path(__file__).resolve().parents[1]


def store_path(n_obs: int = N_STORE) -> Path:
    """The cached simulated store of ``n_obs`` runs (simulated when missing or incomplete)."""
    from gwidgets.core.simulate import cache_dir, simulate_datastore

    path = cache_dir() / f"bench-scale-{n_obs}"
    index = path / "obs-index.fits.gz"
    if index.is_file() and (path / "truth.yaml").is_file():
        from astropy.table import Table

        if len(Table.read(index)) == n_obs:
            return path
    t0 = time.perf_counter()
    print(f"simulating {n_obs} runs into {path} (once; cached) ...", flush=True)
    simulate_datastore(path, n_obs=n_obs, overwrite=True)
    print(f"  done in {time.perf_counter() - t0:.0f} s", flush=True)
    return path


class PeakRSS:
    """Peak of the summed RSS of this process and its descendants, sampled every ``interval`` s."""

    def __init__(self, interval: float = 0.02):
        import psutil

        self.proc, self.interval, self.peak = psutil.Process(), interval, 0
        self.cpu = {}  # pid -> user + system CPU seconds, last seen
        self.peaks = {}  # pid -> (peak RSS bytes, role)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> int:
        """The summed RSS now (bytes); updates the peak."""
        import psutil

        total = 0
        with self._lock:
            for p in [self.proc, *self.proc.children(recursive=True)]:
                try:
                    mem = p.memory_info().rss
                    total += mem
                    old = self.peaks.get(p.pid)
                    if old is None or mem > old[0]:
                        self.peaks[p.pid] = (mem, old[1] if old else self._role(p))
                    cpu = p.cpu_times()
                    self.cpu[p.pid] = cpu.user + cpu.system
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
            self.peak = max(self.peak, total)
        return total

    def _role(self, p) -> str:
        if p.pid == self.proc.pid:
            return "main"
        cmd = " ".join(p.cmdline())  # LocalCluster: the nannies live in this process, each worker is a child
        return "other" if "resource_tracker" in cmd else "worker"

    def by_role(self) -> dict:
        """Peak RSS (MiB) of the largest process of each role (main, worker, other)."""
        out = {}
        for mem, role in self.peaks.values():
            out[role] = max(out.get(role, 0.0), mem / 2**20)
        return out

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by this process and its descendants (seen alive)."""
        self.sample()
        return sum(self.cpu.values())

    def _run(self):
        while not self._stop.is_set():
            self.sample()
            time.sleep(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sample()


def warm_up():
    """Import what the reduction tasks need (run on every Dask worker before timing)."""
    import gwidgets.core.reduction.map_dataset_maker  # noqa: F401
    import gwidgets.core.reduction.spectrum_maker  # noqa: F401
    import gwidgets.core.stacking  # noqa: F401


def child(mode: str, n: int) -> dict:
    """One case in this (fresh) interpreter: reduce the first ``n`` runs to 1D and 3D stacks."""
    import warnings

    warnings.simplefilter("ignore")
    with PeakRSS() as rss:
        import astropy.units as u
        from astropy.coordinates import SkyCoord
        from regions import CircleSkyRegion

        from gwidgets.core.data import DataStore
        from gwidgets.core.executor import DaskExecutor, SerialExecutor
        from gwidgets.core.geom import MapAxis, WcsGeom
        from gwidgets.core.reduction import MapDatasetMaker, SpectrumDatasetMaker
        from gwidgets.core.stacking import FromStore, WithObsId, stack_stream

        store = DataStore.from_dir(store_path())
        ids = store.obs_ids[:n]
        target = SkyCoord(83.63, 22.01, unit="deg")
        e_reco = MapAxis.from_energy_bounds(0.1 * u.TeV, 100 * u.TeV, 12)
        e_true = MapAxis.from_energy_bounds(0.05 * u.TeV, 200 * u.TeV, 20, name="energy_true")
        maker_1d = SpectrumDatasetMaker(CircleSkyRegion(target, 0.15 * u.deg), e_reco, e_true)
        geom = WcsGeom.create(target, binsz=0.05, width=3 * u.deg, axes=[e_reco])
        maker_3d = MapDatasetMaker(geom, e_true, offset_max=2 * u.deg)
        t0 = time.perf_counter()
        ex = DaskExecutor(n_workers=N_WORKERS) if mode == "dask" else SerialExecutor()
        kw = {"chunk_size": CHUNK, "max_in_flight": IN_FLIGHT} if mode == "dask" else {}
        with ex:
            if mode == "dask":  # a running cluster: workers have imported gwidgets before the clock starts
                ex.client.run(warm_up)
            t_start = time.perf_counter() - t0
            cpu0 = rss.cpu_seconds()
            t1 = time.perf_counter()
            one = stack_stream(FromStore(maker_1d.reduce, store), ids, ex, **kw)
            t_1d = time.perf_counter() - t1
            t1 = time.perf_counter()
            cube = stack_stream(FromStore(WithObsId(maker_3d.run), store), ids, ex, **kw)
            t_3d = time.perf_counter() - t1
            cpu = rss.cpu_seconds() - cpu0
    ds = one.dataset
    return {"mode": mode, "n": n, "t_start": t_start, "t_1d": t_1d, "t_3d": t_3d, "peak_mib": rss.peak / 2**20,
            "cpu": cpu, "peak_by_role": rss.by_role(),
            "n_1d": one.n_stacked, "n_3d": cube.n_stacked, "n_on": float(ds.counts.sum()),
            "n_off": float(ds.counts_off.sum()), "cube_counts": float(cube.dataset.counts.data.sum())}


def run_case(mode: str, n: int) -> dict:
    """Run one case in a fresh interpreter and return its numbers."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, __file__, "--child", mode, str(n)], capture_output=True, text=True,
                          env=env, timeout=3600)
    for line in proc.stdout.splitlines():
        if line.startswith("__RESULT__"):
            return json.loads(line[len("__RESULT__"):])
    raise RuntimeError(f"scale case {mode} {n} failed:\n{proc.stderr[-3000:]}")


def main(argv=None):
    """Print the table and the summary line (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="bench_scale")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args([] if argv is None else argv)  # run.py passes only the options after the names
    if args.child:
        print("__RESULT__" + json.dumps(child(args.child[0], int(args.child[1]))))
        return
    sizes = sorted(args.sizes)
    if sizes[-1] > N_STORE:
        raise SystemExit(f"--sizes: at most {N_STORE} runs (the cached store)")
    store_path()
    print("== scale: 1D (reflected regions) + 3D (3x3 deg cube) reductions of N simulated runs, stacked as they "
          "arrive")
    print(f"   serial: this process; dask: LocalCluster of {N_WORKERS} worker processes, {CHUNK} runs per task "
          f"stacked on the worker, <= {IN_FLIGHT} tasks in flight")
    print("   peak RSS: max over time of the summed RSS of the case's process (with the LocalCluster's scheduler and "
          "nannies) + its children (the dask workers), psutil every 20 ms; each case in a fresh interpreter")
    print("   CPU: user + system seconds of the process tree during the two reductions (less sensitive than the "
          "wall clock to other jobs on the machine)")
    print(f"   {'mode':<7}{'runs':>6}{'1D s':>8}{'3D s':>8}{'total s':>9}{'ms/run':>8}{'runs/s':>8}{'CPU ms/run':>11}"
          f"{'peak RSS MiB':>14}{'start s':>9}   check")
    results = {}
    for mode in args.modes:
        for n in sizes:
            r = results[mode, n] = run_case(mode, n)
            total = r["t_1d"] + r["t_3d"]
            print(f"   {mode:<7}{n:>6}{r['t_1d']:>8.2f}{r['t_3d']:>8.2f}{total:>9.2f}{1e3 * total / n:>8.1f}"
                  f"{n / total:>8.1f}{1e3 * r['cpu'] / n:>11.1f}{r['peak_mib']:>14.0f}{r['t_start']:>9.1f}   "
                  f"1D {r['n_1d']} runs N_on={r['n_on']:.0f} N_off={r['n_off']:.0f}; 3D {r['n_3d']} runs "
                  f"counts={r['cube_counts']:.0f}", flush=True)
    lo, hi = sizes[0], sizes[-1]
    for mode in args.modes:
        a, b = results[mode, lo], results[mode, hi]
        per_lo = (a["t_1d"] + a["t_3d"]) / lo
        per_hi = (b["t_1d"] + b["t_3d"]) / hi
        keys = ("n_on", "n_off", "cube_counts")
        same = all(results[m, n][k] == results[args.modes[0], n][k] for m in args.modes for n in sizes for k in keys)
        cpu_ratio = (b["cpu"] / hi) / (a["cpu"] / lo)
        print(f"   {mode}: time per run {1e3 * per_lo:.1f} ms at {lo} runs, {1e3 * per_hi:.1f} ms at {hi} "
              f"({per_hi / per_lo:.2f}x; linear = 1.00), CPU per run {cpu_ratio:.2f}x; peak RSS "
              f"{b['peak_mib'] / a['peak_mib']:.2f}x of {lo} runs (target <= 1.30)"
              f"{'' if same else '; counts DIFFER between modes!'}")
    mode = "dask" if "dask" in args.modes else args.modes[0]
    b = results[mode, hi]
    total = b["t_1d"] + b["t_3d"]
    print(f"   (last line: {mode}, 1D + 3D)")
    print(f"scale: {hi} runs in {total:.1f} s, {hi / total:.1f} runs/s, peak RSS {b['peak_mib']:.0f} MiB "
          f"({lo} runs: {results[mode, lo]['peak_mib']:.0f} MiB)")


if __name__ == "__main__":
    main(sys.argv[1:])
