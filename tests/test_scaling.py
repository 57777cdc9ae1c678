"""Scaling past one machine: streamed stacking, bounded in-flight work, light observations, config executors.

Also `gwidgets run` on a Dask cluster started as separate processes.
"""
from __future__ import annotations

import os
import pickle
import socket
import subprocess
import sys
import time
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

import gwidgets as gw
from gwidgets.core.config import AnalysisConfig, ConfigError
from gwidgets.core.datasets import Datasets
from gwidgets.core.executor import DaskExecutor, ProcessExecutor, SerialExecutor, executor_from_config, get_executor
from gwidgets.core.geom import MapAxis, WcsGeom
from gwidgets.core.simulate import example_store_path
from gwidgets.core.stacking import FromStore, WithObsId, light_observations, stack_stream

TARGET = SkyCoord(83.63, 22.01, unit="deg")
E_RECO = MapAxis.from_energy_bounds(0.1 * u.TeV, 100 * u.TeV, 12)
E_TRUE = MapAxis.from_energy_bounds(0.05 * u.TeV, 200 * u.TeV, 20, name="energy_true")
SPECTRUM = ("counts", "counts_off", "acceptance", "acceptance_off", "exposure", "edisp", "mask_safe")


@pytest.fixture(scope="module")
def store():
    """The simulated example store (20 runs)."""
    return gw.example_store()


def _makers():
    from gwidgets.core.reduction import MapDatasetMaker, SpectrumDatasetMaker

    maker_1d = SpectrumDatasetMaker(CircleSkyRegion(TARGET, 0.15 * u.deg), E_RECO, E_TRUE)
    geom = WcsGeom.create(TARGET, binsz=0.1, width=2 * u.deg, axes=[E_RECO])
    return maker_1d, MapDatasetMaker(geom, E_TRUE, offset_max=2 * u.deg)


# ------------------------------------------------------------------ config
@pytest.mark.parametrize("value", ["dask", {"type": "dask", "address": "tcp://127.0.0.1:8786"},
                                   {"type": "processes", "n_workers": 2}, {"type": "dask", "n_workers": 3}])
def test_executor_config_forms_round_trip(value):
    """The string and mapping forms validate and survive a YAML round trip."""
    cfg = AnalysisConfig.from_dict({"general": {"executor": value}})
    assert cfg["general"]["executor"] == value
    assert AnalysisConfig.from_yaml(cfg.to_yaml())["general"]["executor"] == value


@pytest.mark.parametrize("value,message", [
    ("gpu", r"'general.executor' = 'gpu' is not allowed"),
    ({"type": "dask", "adress": "tcp://a:1"}, r"Unknown key 'general.executor.adress'; allowed keys: address, "),
    ({"address": "tcp://a:1"}, r"'general.executor.type' is missing"),
    ({"type": "dask", "address": "127.0.0.1:8786"}, r"'general.executor.address' = '127.0.0.1:8786' is not a "
                                                    r"scheduler address"),
    ({"type": "processes", "address": "tcp://a:1"}, r"'general.executor.address' needs type 'dask'"),
    ({"type": "dask", "address": "tcp://a:1", "n_workers": 2}, r"give 'address' .* or 'n_workers'"),
    ({"type": "serial", "n_workers": 2}, r"'general.executor.n_workers' needs type 'processes' or 'dask'"),
    ({"type": "dask", "n_workers": 0}, r"'general.executor.n_workers' = 0 must be at least 1"),
    (3, r"'general.executor' must be one of"),
])
def test_executor_config_named_errors(value, message):
    """Each bad executor setting names its key."""
    with pytest.raises(ConfigError, match=message):
        AnalysisConfig.from_dict({"general": {"executor": value}})


def test_executor_from_config():
    """The config's executor settings build the executor they name; an absent scheduler is named."""
    assert isinstance(executor_from_config("serial"), SerialExecutor)
    assert executor_from_config({"type": "processes", "n_workers": 3}).n_jobs == 3
    assert executor_from_config("processes", n_jobs=2).n_jobs == 2  # general.n_jobs when the mapping is silent
    pytest.importorskip("dask.distributed")
    address = f"tcp://127.0.0.1:{_free_port()}"
    with pytest.raises(gw.errors.GwidgetsError, match=f"Cannot connect to the Dask scheduler at '{address}'"):
        DaskExecutor(address=address, timeout=1)


# ------------------------------------------------------------- executors
def _slow_square(x):
    time.sleep(0.01 * (x % 3))
    return x * x


@pytest.mark.parametrize("ordered", [False, True])
def test_imap_keeps_at_most_max_in_flight_items_out(ordered):
    """Items are pulled from the input lazily: never more than max_in_flight ahead of what was yielded."""
    pulled = []

    def source():
        for i in range(12):
            pulled.append(i)
            yield i

    ahead, got = [], []
    for i, result in ProcessExecutor(n_jobs=2).imap(_slow_square, source(), max_in_flight=3, ordered=ordered):
        got.append((i, result))
        ahead.append(len(pulled) - len(got))  # submitted (or finished and waiting) but not yet yielded
    assert max(ahead) == 3 and len(got) == 12
    assert sorted(got) == [(i, i * i) for i in range(12)]
    if ordered:
        assert [i for i, _ in got] == list(range(12))


# --------------------------------------------------------------- stacking
def test_pickled_observation_does_not_carry_the_whole_store(store):
    """An observation pickles with a store of its own rows, whatever the size of its store.

    The same size from the 20-run store as from a 1-run subset (it carried the whole index: 2.1 MB per run of a
    1000-run store); it reduces identically after the round trip, with the same metadata; light_observations
    gives the same observations, lazily.
    """
    maker_1d, _ = _makers()
    one = store.subset([1003])
    assert one.obs_ids == [1003] and len(store.obs_ids) == 20
    full_obs = store.obs(1003)
    assert len(pickle.dumps(full_obs)) <= 1.05 * len(pickle.dumps(one.obs(1003)))
    assert len(pickle.dumps(full_obs)) < len(pickle.dumps(store)) / 3
    back = pickle.loads(pickle.dumps(full_obs))
    light = light_observations(store, [1003])
    assert len(light) == 1
    lo = next(iter(light))
    assert back.meta == full_obs.meta == lo.meta
    reference, _ = maker_1d.reduce(store.obs(1003))
    for obs in (back, lo):
        dataset, _ = maker_1d.reduce(obs)
        for attr in SPECTRUM:
            np.testing.assert_array_equal(getattr(dataset, attr), getattr(reference, attr), err_msg=attr)


@pytest.mark.parametrize("backend", ["serial", "processes", "dask"])
def test_stack_stream_equals_stacking_all_datasets_at_the_end(store, backend):
    """The streamed stacks equal stacking every per-run dataset at the end.

    1D (tasks of observation ids, FromStore): bit-for-bit (same order as gammapy's stack_reduce); 3D (light
    observations) in chunks of 3, stacked on the worker first and in arrival order, equals the serial
    run_stacked to rounding.
    """
    maker_1d, maker_3d = _makers()
    ids = store.obs_ids[:8]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        per_run = [maker_1d.reduce(o)[0] for o in store.get_observations(ids)]
        reference = Datasets([d for d in per_run if d is not None]).stack_reduce(name="stacked")
        if backend == "dask":
            pytest.importorskip("dask.distributed")
        with (DaskExecutor(n_workers=2) if backend == "dask" else get_executor(backend)) as ex:
            streamed = stack_stream(FromStore(maker_1d.reduce, store), ids, ex, max_in_flight=2)
            cube = stack_stream(WithObsId(maker_3d.run), light_observations(store, ids), ex, chunk_size=3,
                                ordered=False)
        cube_ref = maker_3d.run_stacked(store.get_observations(ids))
    assert streamed.n_stacked == len(per_run) == 8
    assert [r.obs_id for r in streamed.infos] == ids
    for attr in SPECTRUM:
        np.testing.assert_array_equal(getattr(streamed.dataset, attr), getattr(reference, attr), err_msg=attr)
    assert cube.infos == ids and cube.n_stacked == 8
    for name in ("counts", "background", "exposure"):
        np.testing.assert_allclose(getattr(cube.dataset, name).data, getattr(cube_ref, name).data, rtol=1e-12,
                                   atol=0, err_msg=name)
    np.testing.assert_allclose(cube.dataset.edisp, cube_ref.edisp, rtol=1e-12, atol=1e-15)
    assert sorted(cube.dataset.meta.get("obs_ids", [])) == sorted(cube_ref.meta.get("obs_ids", []))


# ------------------------------------------------ gwidgets run on a cluster
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dask_cluster(tmp_path):
    """A scheduler and one worker (2 threads), each its own process, on 127.0.0.1; always killed at the end."""
    pytest.importorskip("dask.distributed")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, DASK_DISTRIBUTED__WORKER__DAEMON="False")
    procs = []
    logs = [open(tmp_path / name, "w") for name in ("scheduler.log", "worker.log")]
    try:
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                       "--port", str(port), "--no-dashboard"], stdout=logs[0], stderr=subprocess.STDOUT,
                                      env=env))
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", "1",
                                       "--nthreads", "2", "--no-dashboard", "--name", "gw-test-worker"],
                                      stdout=logs[1], stderr=subprocess.STDOUT, env=env))
        from dask.distributed import Client

        deadline = time.monotonic() + 90
        while True:
            try:
                with Client(address, timeout=5) as client:
                    client.wait_for_workers(1, timeout=max(1, deadline - time.monotonic()))
                break
            except (OSError, TimeoutError):
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    raise RuntimeError("the Dask scheduler/worker did not start:\n"
                                       + (tmp_path / "scheduler.log").read_text()[-2000:]
                                       + (tmp_path / "worker.log").read_text()[-2000:]) from None
                time.sleep(0.5)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        for f in logs:
            f.close()


RUN_CONFIG = """
general: {{executor: {executor}}}
data: {{datastore: '{store}', obs_ids: {obs_ids}}}
datasets:
  type: 1d
  stack: false
  on_region: {{lon: 83.63 deg, lat: 22.01 deg, radius: 0.15 deg}}
  geom:
    axes:
      energy: {{min: 0.1 TeV, max: 100 TeV, nbins: 12}}
      energy_true: {{min: 0.05 TeV, max: 200 TeV, nbins: 20}}
models:
  - name: src
    type: SkyModel
    spectral:
      type: PowerLawSpectralModel
      parameters:
        - {{name: amplitude, value: 3.0e-11, unit: cm-2 s-1 TeV-1}}
        - {{name: reference, value: 1.0, unit: TeV, frozen: true}}
        - {{name: index, value: 2.5}}
outputs: {{flux_points: false, light_curve: false, plots: false, maps: false}}
"""


RUN_CONFIG_3D = """
general: {{executor: {executor}}}
data: {{datastore: '{store}', obs_ids: {obs_ids}}}
datasets:
  type: 3d
  stack: true
  geom:
    skydir: {{lon: 83.63 deg, lat: 22.01 deg}}
    binsize: 0.1 deg
    width: 2 deg
    axes:
      energy: {{min: 0.3 TeV, max: 30 TeV, nbins: 4}}
      energy_true: {{min: 0.2 TeV, max: 50 TeV, nbins: 8}}
outputs: {{flux_points: false, light_curve: false, plots: false}}
"""


def _gwidgets_run(tmp_path, name, executor, obs_ids, template=RUN_CONFIG):
    cfg = tmp_path / f"{name}.yaml"
    cfg.write_text(template.format(executor=executor, obs_ids=obs_ids, store=example_store_path()))
    out = tmp_path / name
    proc = subprocess.run([sys.executable, "-m", "gwidgets", "run", str(cfg), "--outdir", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_gwidgets_run_on_a_dask_cluster_started_as_separate_processes(tmp_path, dask_cluster, store):
    """`gwidgets run` with executor {type: dask, address: ...} gives the serial run's results bit for bit.

    1D: the per-run datasets and the fit; 3D: the stacked cubes. The reductions ran on that cluster: its
    scheduler saw one finished task per observation and analysis, its worker ran them.
    """
    from dask.distributed import Client

    from gwidgets.core.analysis.writers import read_fit_result

    ids = store.obs_ids[:6]
    serial = _gwidgets_run(tmp_path, "serial", "serial", ids)
    remote = _gwidgets_run(tmp_path, "remote", f"{{type: dask, address: '{dask_cluster}'}}", ids)
    a = Datasets.read(serial / "datasets")
    b = Datasets.read(remote / "datasets")
    assert a.names == b.names and len(a) == len(ids)
    for x, y in zip(a, b):
        for attr in SPECTRUM:
            np.testing.assert_array_equal(getattr(x, attr), getattr(y, attr), err_msg=f"{attr} of {x.name}")
    fa, fb = read_fit_result(serial), read_fit_result(remote)
    assert fa["success"] and fb["success"] and fa["total_stat"] == fb["total_stat"]
    assert fa["parameters"] == fb["parameters"]
    from gwidgets.core.geom import Map

    cubes_serial = _gwidgets_run(tmp_path, "serial3d", "serial", ids, RUN_CONFIG_3D)
    cubes_remote = _gwidgets_run(tmp_path, "remote3d", f"{{type: dask, address: '{dask_cluster}'}}", ids,
                                 RUN_CONFIG_3D)
    names = sorted(p.name for p in (cubes_serial / "maps").glob("*.fits"))
    assert names == sorted(p.name for p in (cubes_remote / "maps").glob("*.fits"))
    assert any(n.endswith("_counts.fits") for n in names) and any(n.endswith("_exposure.fits") for n in names)
    for n in names:
        np.testing.assert_array_equal(np.asarray(Map.read(cubes_serial / "maps" / n).data),
                                      np.asarray(Map.read(cubes_remote / "maps" / n).data), err_msg=n)
    with Client(dask_cluster, timeout=10) as client:
        counts = client.run_on_scheduler(
            lambda dask_scheduler: {k: dict(v.state_counts) for k, v in dask_scheduler.task_prefixes.items()})
        executed = client.run(lambda dask_worker: dask_worker.state.executed_count)
    assert counts.get("call", {}).get("memory") == 2 * len(ids), counts  # executor tasks (key prefix of _call)
    assert sum(executed.values()) == 2 * len(ids)


def test_gwidgets_run_names_an_unreachable_scheduler(tmp_path):
    """No scheduler at the address: one line naming general.executor and the address, nothing written."""
    pytest.importorskip("dask.distributed")
    address = f"tcp://127.0.0.1:{_free_port()}"
    cfg = tmp_path / "c.yaml"
    cfg.write_text(RUN_CONFIG.format(executor=f"{{type: dask, address: '{address}'}}", obs_ids=[1001],
                                     store=example_store_path()))
    env = dict(os.environ, DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="2s")
    proc = subprocess.run([sys.executable, "-m", "gwidgets", "run", str(cfg), "--outdir", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert f"'general.executor': Cannot connect to the Dask scheduler at '{address}'" in last
    assert not (tmp_path / "o").exists()


def test_dask_executor_closes_the_local_cluster_it_started():
    """A DaskExecutor that started a local cluster shuts its client down on leaving the with block."""
    pytest.importorskip("dask.distributed")
    with DaskExecutor(n_workers=1) as ex:
        assert ex.map(abs, [-1, -2, 3]) == [1, 2, 3]
        cluster_client = ex.client
    assert cluster_client.status == "closed"
