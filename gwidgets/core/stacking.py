"""Stack per-run datasets as they arrive: memory bounded whatever the number of runs.

`stack_stream` reduces items (observations) with any executor and folds each
result into one running stack, so at most ``max_in_flight`` per-run results
exist at any time, on the client and on the workers together. With
``chunk_size > 1`` each task reduces a chunk of runs and stacks them on the
worker (a two-level tree reduction): the client receives one partial stack per
chunk instead of one dataset per run, which cuts the transfers and the number
of tasks by ``chunk_size``.

Stacking is associative (counts, background and exposure are sums; PSF and
EDISP exposure-weighted means; for ON/OFF spectra alpha is the OFF-weighted
mean), so the stack does not depend on the order results arrive in, up to
floating-point rounding.

Examples
--------
Four runs of the simulated example store, two per task, on an in-process Dask cluster
(``DaskExecutor(address="tcp://scheduler:8786")`` for a real one):

>>> from regions import CircleSkyRegion
>>> from gwidgets.core.executor import DaskExecutor
>>> from gwidgets.core.geom import MapAxis
>>> from gwidgets.core.reduction.spectrum_maker import SpectrumDatasetMaker, make_spectrum_datasets
>>> observations = gw.example_store().get_observations([1001, 1002, 1003, 1004])
>>> on_region = CircleSkyRegion(SkyCoord(83.63, 22.01, unit="deg"), 0.15 * u.deg)
>>> energy_axis = MapAxis.from_energy_bounds(0.3 * u.TeV, 100 * u.TeV, 15)
>>> energy_axis_true = MapAxis.from_energy_bounds(0.1 * u.TeV, 200 * u.TeV, 25, name="energy_true")
>>> maker = SpectrumDatasetMaker(on_region, energy_axis, energy_axis_true)
>>> with DaskExecutor() as ex:
...     result = stack_stream(maker.reduce, observations, ex, chunk_size=2)
>>> result.n_stacked, result.dataset.name
(4, 'stacked')
>>> serial = make_spectrum_datasets(observations, on_region, energy_axis, energy_axis_true, stack=True)[0]
>>> bool((result.dataset.counts == serial.counts).all())      # the same stack, whatever the back-end
True
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from .executor import get_executor
from .progress import make_progress

__all__ = ["Stack", "StackResult", "stack_stream", "reduce_chunk", "WithObsId", "FromStore",
           "light_observations", "LightObservations"]


class Stack:
    """A running stack: `add` folds one dataset (or a partial stack) in; None is ignored.

    Parameters
    ----------
    name : str
        Name of the stacked dataset.

    Examples
    --------
    >>> import numpy as np
    >>> from gwidgets.core.datasets import SpectrumDatasetOnOff
    >>> def run(n_on):
    ...     return SpectrumDatasetOnOff(counts=np.array([n_on, 1.0]), exposure=np.ones(2), energy_edges=[1, 2, 4],
    ...                                 energy_edges_true=[1, 2, 4], counts_off=np.array([4.0, 2.0]), acceptance=1.0,
    ...                                 acceptance_off=2.0, livetime=1.0)
    >>> acc = Stack("all")
    >>> for n in (3.0, 5.0, None):
    ...     acc.add(None if n is None else run(n))
    >>> acc.dataset.counts.tolist(), acc.n_added
    ([8.0, 2.0], 2)
    """

    def __init__(self, name: str = "stacked"):
        self.name = name
        self.dataset = None
        self.n_added = 0

    def add(self, dataset):
        """Fold ``dataset`` into the stack (restricted to its safe mask, as ``Datasets.stack_reduce``).

        Parameters
        ----------
        dataset : dataset or None
            A dataset of the same type and geometry as the stack; None is skipped.

        Raises
        ------
        `~gwidgets.core.datasets.base.DatasetError`
            If ``dataset`` cannot be stacked onto the stack (other type or geometry).
        """
        if dataset is None:
            return
        if self.dataset is None:
            self.dataset = dataset.to_masked(name=self.name)
        else:
            self.dataset.stack(dataset)
        self.n_added += 1


def reduce_chunk(func: Callable, chunk: list, name: str = "stacked"):
    """Reduce the items of ``chunk`` one by one and stack them (runs on a worker).

    Parameters
    ----------
    func : callable
        ``func(item) -> (dataset or None, info)``.
    chunk : list
        Items (observations).
    name : str
        Name of the partial stack.

    Returns
    -------
    tuple
        ``(partial stack or None, [info, ...], number of datasets stacked)``.
    """
    acc = Stack(name)
    infos = []
    for item in chunk:
        dataset, info = func(item)
        acc.add(dataset)
        infos.append(info)
    return acc.dataset, infos, acc.n_added


class WithObsId:
    """``item -> (func(item), item.obs_id)``: adapts a reducer returning only a dataset (picklable).

    Parameters
    ----------
    func : callable
        E.g. ``MapDatasetMaker(...).run``.
    """

    def __init__(self, func: Callable):
        self.func = func

    def __call__(self, item):
        """``(func(item), item.obs_id)``.

        Parameters
        ----------
        item : object
            An observation (anything with ``obs_id``; None is used without one).

        Returns
        -------
        tuple
            ``(dataset or None, obs_id)``.
        """
        return self.func(item), getattr(item, "obs_id", None)


class FromStore:
    """``obs_id -> func(store.obs(obs_id))``: tasks that carry observation ids, not observations.

    With a Dask executor the function, and the store inside it, reach each worker once (the
    executor scatters it); each task message is then a few integers. Shipping observations
    instead costs ~10 kB per run on the wire, and more as Python objects wherever messages are
    kept (a Dask scheduler keeps its last 1000 messages to each worker for debugging: 160 MB in
    the client process of the 1000-run benchmark, whose LocalCluster scheduler runs there, with
    observations as items).

    Parameters
    ----------
    func : callable
        Applied to each observation, e.g. ``SpectrumDatasetMaker.reduce``.
    store : DataStore
        Where the observations are (pickled once per worker).
    required_irf : str or list
        Checked per observation as in `DataStore.get_observations`.

    Examples
    --------
    >>> import gwidgets as gw
    >>> task = FromStore(lambda obs: obs.obs_id * 10, gw.example_store())
    >>> task(1002)
    10020
    """

    def __init__(self, func: Callable, store, required_irf="full-enclosure"):
        self.func, self.store, self.required_irf = func, store, required_irf

    def __call__(self, obs_id):
        """``func`` of the observation ``obs_id`` (its IRFs checked first)."""
        obs = self.store.obs(int(obs_id))
        obs.check(self.required_irf)
        return self.func(obs)


@dataclass
class StackResult:
    """What `stack_stream` returns: the stack and one ``info`` per item (input order).

    Parameters
    ----------
    dataset : dataset or None
        The stack (None when nothing was stacked).
    infos : list, optional
        One ``info`` per item, in input order.
    n_stacked : int, optional
        Number of datasets stacked.
    """

    dataset: Any
    infos: list = field(default_factory=list)
    n_stacked: int = 0


class _Chunks:
    """Consecutive chunks of an iterable (sized when the iterable is)."""

    def __init__(self, items, size):
        self.items, self.size = items, size
        self.n_items = len(items) if hasattr(items, "__len__") else 0

    def __len__(self):
        return -(-self.n_items // self.size)

    def __iter__(self):
        it = iter(self.items)
        while chunk := list(islice(it, self.size)):
            yield chunk


def stack_stream(func: Callable, items: Iterable, executor="serial", name: str = "stacked", chunk_size: int = 1,
                 max_in_flight: int | None = None, ordered: bool = True, progress=None, token=None) -> StackResult:
    """Reduce every item and stack the results as they arrive (never all per-run results at once).

    Parameters
    ----------
    func : callable
        ``func(item) -> (dataset or None, info)``, e.g.
        ``SpectrumDatasetMaker.reduce`` (info: the observation's record) or
        ``WithObsId(MapDatasetMaker(...).run)``; must pickle for process and
        Dask executors.
    items : iterable
        What ``func`` takes. Best observation ids with ``func`` a `FromStore`:
        each observation is made where it is reduced and dropped after, and a
        task message is a few integers. Or observations, best from
        `light_observations` (each made when its task is submitted; a list
        keeps every observation, and what it loaded, until the end).
    executor : str, Executor or dask Client
        Where the reduction runs (`~gwidgets.core.executor.get_executor`).
    name : str
        Name of the stacked dataset.
    chunk_size : int
        Runs per task, stacked on the worker before they travel.
    max_in_flight : int, optional
        Tasks submitted and not yet stacked (default: the executor's).
    ordered : bool
        Stack in input order (default): the stack is then bit-for-bit the same
        on every back-end for a given ``chunk_size``, at the price of idle
        workers while a slow chunk holds up later ones. False: stack in
        arrival order (equal up to floating-point rounding).
    progress, token
        ``progress(done_runs, total_runs, message)`` and a `CancelToken`.

    Returns
    -------
    StackResult
        ``dataset`` (None if no run gave a dataset), ``infos`` (one per item, in
        input order) and ``n_stacked``.
    """
    if int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    chunks = _Chunks(items, int(chunk_size))
    ex = get_executor(executor)
    report = make_progress(progress, token)
    acc = Stack(name)
    infos: dict[int, list] = {}
    done = n_stacked = 0
    task = _ChunkTask(func, name)
    for i, (partial, chunk_infos, n) in ex.imap(task, chunks, token=token, max_in_flight=max_in_flight,
                                                       ordered=ordered):
        acc.add(partial)
        infos[i] = chunk_infos
        done += len(chunk_infos)
        n_stacked += n
        report(done, chunks.n_items, f"{done} runs stacked")
    return StackResult(acc.dataset, [info for i in sorted(infos) for info in infos[i]], n_stacked)


class _ChunkTask:
    """Picklable ``chunk -> reduce_chunk(func, chunk, name)``."""

    def __init__(self, func, name):
        self.func, self.name = func, name

    def __call__(self, chunk):
        return reduce_chunk(self.func, chunk, self.name)


def light_observations(store, obs_ids=None, required_irf="full-enclosure") -> LightObservations:
    """The observations of ``store``, made one at a time as they are iterated to.

    A consumer that drops each observation after use (`stack_stream`) then never holds more than a
    few observations, nor the events and IRFs they loaded; a list of observations keeps everything
    each one loaded until the list goes. Each observation is bound to a store of its own rows
    (`DataStore.subset`), so it is as small to ship to a worker as a pickled observation.

    Parameters
    ----------
    store : DataStore
        The data store.
    obs_ids : iterable of int, optional
        Which observations (default: all, in table order).
    required_irf : str or list
        Checked per observation as in `DataStore.get_observations`.

    Returns
    -------
    LightObservations
        Sized and iterable (again and again), yielding `Observation` s.

    Examples
    --------
    >>> import gwidgets as gw
    >>> light = light_observations(gw.example_store(), [1002, 1003])
    >>> len(light), [obs.obs_id for obs in light]
    (2, [1002, 1003])
    """
    ids = [int(i) for i in (store.obs_ids if obs_ids is None else obs_ids)]
    return LightObservations(store, ids, required_irf)


class LightObservations:
    """What `light_observations` returns: ``len()`` and iteration over freshly made observations.

    Parameters
    ----------
    store : `~gwidgets.core.data.DataStore`
        The data store.
    obs_ids : list of int
        Observation ids, in iteration order.
    required_irf : str or list, optional
        IRFs each observation must have (checked when it is made).
    """

    def __init__(self, store, obs_ids: list, required_irf="full-enclosure"):
        self.store, self.obs_ids, self.required_irf = store, list(obs_ids), required_irf

    def __len__(self):
        return len(self.obs_ids)

    def __iter__(self):
        for obs_id in self.obs_ids:
            yield self.observation(obs_id)

    def observation(self, obs_id: int):
        """One observation (IRFs checked), bound to a `DataStore` of its own rows.

        Parameters
        ----------
        obs_id : int
            Observation id.

        Returns
        -------
        `~gwidgets.core.data.Observation`
            The observation.

        Raises
        ------
        `~gwidgets.errors.MissingIRFError`
            If it lacks an IRF of ``required_irf``.
        """
        obs = self.store.subset([obs_id]).obs(obs_id)
        obs.check(self.required_irf)
        return obs
