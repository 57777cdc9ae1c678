"""One small interface to run a function over many items: serial, processes or Dask.

Reduction of many observations goes through :func:`get_executor`:

>>> ex = get_executor("serial")                         # or "processes", or a dask Client
>>> ex.map(lambda x: x * x, [1, 2, 3])
[1, 4, 9]

Results always come back in input order, whatever the back-end, so the
datasets are identical. Progress is reported through the same callback as
everywhere (``progress(done, total, message)``) and a `CancelToken` stops the
work between items. With ``errors="collect"``, an item that raises a
`GwidgetsError` yields an :class:`ItemError` instead of stopping the batch.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from queue import SimpleQueue
from typing import Any

from ..errors import GwidgetsError
from .progress import CancelToken, make_progress

__all__ = ["Executor", "SerialExecutor", "ProcessExecutor", "DaskExecutor", "ItemError", "get_executor",
           "executor_from_config", "EXECUTOR_TYPES"]


@dataclass
class ItemError:
    """Stands in for the result of an item that failed (``errors="collect"``).

    Parameters
    ----------
    item : object
        The input item.
    error : str
        The message of the `~gwidgets.errors.GwidgetsError` it raised.
    """

    item: Any
    error: str

    def __bool__(self):
        return False


def _call(func, item, collect):
    if not collect:
        return func(item)
    try:
        return func(item)
    except GwidgetsError as exc:
        return ItemError(item, str(exc))


class Executor:
    """Base class: `imap` yields results as they finish, `map` returns them in input order.

    Every back-end implements `imap`; ``max_in_flight`` bounds how many items
    are submitted and not yet consumed, so a consumer that folds each result
    into an accumulator (`~gwidgets.core.stacking.stack_stream`) holds a
    bounded number of results whatever the number of items.
    """

    name = "base"

    def imap(self, func: Callable, items: Iterable, progress=None, token: CancelToken | None = None,
             errors: str = "raise", labels=None, max_in_flight: int | None = None,
             ordered: bool = False) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, result)`` as items finish (serial, or ``ordered=True``: in input order).

        Parameters
        ----------
        func : callable
            Called as ``func(item)``; with a process or Dask back-end it must pickle.
        items : iterable
            The inputs; consumed lazily, at most ``max_in_flight`` ahead of the consumer.
        progress : callable, optional
            ``progress(done, total, message)``; returning False cancels (`Cancelled`).
        token : CancelToken, optional
            Cancels between items.
        errors : {"raise", "collect"}
            ``"collect"``: an item raising a `GwidgetsError` yields an `ItemError`.
        labels : sequence of str, optional
            One label per item, passed to ``progress``.
        max_in_flight : int, optional
            Items submitted but not yet yielded, finished ones waiting for their
            turn included (default: back-end specific).
        ordered : bool
            Yield in input order (finished items wait for the earlier ones).

        Returns
        -------
        iterator of (int, object)
        """
        raise NotImplementedError

    def map(self, func: Callable, items: Iterable, progress=None, token: CancelToken | None = None,
            errors: str = "raise", labels=None) -> list:
        """``[func(item) for item in items]`` on this back-end (input order kept; every item in flight at once).

        Parameters
        ----------
        func : callable
            Called as ``func(item)``; with a process or Dask back-end it must pickle.
        items : iterable
            The inputs.
        progress : callable, optional
            ``progress(done, total, message)``; returning False cancels.
        token : `~gwidgets.core.progress.CancelToken`, optional
            Cancels between items.
        errors : {"raise", "collect"}, optional
            ``"collect"``: an item raising a `~gwidgets.errors.GwidgetsError` gives an `ItemError`.
        labels : sequence of str, optional
            One label per item, passed to ``progress``.

        Returns
        -------
        list
            One result per item, in input order.

        Raises
        ------
        `~gwidgets.core.progress.Cancelled`
            If the progress callback or the token cancels.

        Examples
        --------
        >>> SerialExecutor().map(len, ["a", "bb"])
        [1, 2]
        """
        items = list(items)
        out = [None] * len(items)
        for i, result in self.imap(func, items, progress=progress, token=token, errors=errors, labels=labels,
                                   max_in_flight=max(len(items), 1), ordered=False):
            out[i] = result
        return out

    def close(self):
        """Release what this executor started (a Dask client or local cluster it made); no-op otherwise."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"{type(self).__name__}()"


def _label(labels, i):
    return str(labels[i]) if labels else ""


def _total(items) -> int:
    return len(items) if hasattr(items, "__len__") else 0


def _windowed(submit, next_done, cancel, items, limit, ordered, report, labels):
    """Keep at most ``limit`` items submitted or waiting for their turn; yield ``(index, result)``.

    ``submit(item)`` returns a future; ``next_done()`` blocks until one submitted future has finished
    and returns it (O(1) per item, however many are in flight); ``cancel(futures)``.
    """
    total = _total(items)
    source = enumerate(items)
    pending, waiting = {}, {}
    next_out = done = 0

    def fill():
        while len(pending) + len(waiting) < limit:
            for i, item in source:
                pending[submit(item)] = i
                break
            else:
                return

    report(0, total, "")
    try:
        fill()
        while pending or waiting:
            if ordered and next_out in waiting:
                ready = [(next_out, waiting.pop(next_out))]
                next_out += 1
            else:
                ready = []
                fut = next_done()
                i = pending.pop(fut)
                result = fut.result()
                if hasattr(fut, "release"):
                    fut.release()  # Dask: the cluster may forget it now
                if ordered:
                    waiting[i] = result
                else:
                    ready.append((i, result))
            for i, result in ready:
                done += 1
                report(done, total, _label(labels, i))
                fill()
                yield i, result
    except BaseException:
        cancel(list(pending))
        raise


class SerialExecutor(Executor):
    """Runs items one after the other in this process (streams: one item in memory at a time)."""

    name = "serial"

    def imap(self, func, items, progress=None, token=None, errors="raise", labels=None, max_in_flight=None,
             ordered=False):
        """`Executor.imap` (same parameters and yields): one item after the other, in input order.

        ``max_in_flight`` is ignored.
        """
        report = make_progress(progress, token)
        total = _total(items)
        count = 0
        for i, item in enumerate(items):
            report(i, total, _label(labels, i))
            yield i, _call(func, item, errors == "collect")
            count = i + 1
        report(total or count, total or count, "done")


class ProcessExecutor(Executor):
    """A local process pool (``n_jobs`` workers, default: all cores).

    Parameters
    ----------
    n_jobs : int, optional
        Worker processes (default: the number of cores).
    """

    name = "processes"

    def __init__(self, n_jobs: int | None = None):
        self.n_jobs = n_jobs or os.cpu_count() or 1

    def imap(self, func, items, progress=None, token=None, errors="raise", labels=None, max_in_flight=None,
             ordered=False):
        """`Executor.imap` (same parameters and yields) on the pool; ``max_in_flight`` defaults to twice the workers."""
        limit = max(1, max_in_flight or 2 * self.n_jobs)
        finished = SimpleQueue()

        def submit(item):
            fut = pool.submit(_call, func, item, errors == "collect")
            fut.add_done_callback(finished.put)
            return fut

        with ProcessPoolExecutor(max_workers=self.n_jobs) as pool:
            yield from _windowed(submit, finished.get, lambda fs: [f.cancel() for f in fs],
                                 items, limit, ordered, make_progress(progress, token), labels)

    def __repr__(self):
        return f"ProcessExecutor(n_jobs={self.n_jobs})"


class DaskExecutor(Executor):
    """Dask distributed: an existing `dask.distributed.Client`, a scheduler address, or a new local cluster.

    Parameters
    ----------
    client : dask.distributed.Client, optional
        Used as it is (never closed here).
    address : str, optional
        A running scheduler (``tcp://host:port``); the workers must see the
        data store files at the same paths as this process.
    n_workers : int, optional
        Without ``client`` and ``address``: a `LocalCluster` of that many worker
        processes (one thread each). Without any of the three: an in-process
        cluster of threads.
    timeout : float, optional
        Seconds to wait for the scheduler at ``address`` (default: Dask's
        ``distributed.comm.timeouts.connect``, 30 s unless configured).

    Raises
    ------
    `~gwidgets.errors.GwidgetsError`
        If dask.distributed is not installed, or the scheduler at ``address`` cannot be reached.

    Examples
    --------
    >>> with DaskExecutor() as ex:                     # an in-process cluster of threads
    ...     ex.map(abs, [-1, -2])
    [1, 2]
    >>> with DaskExecutor(address="tcp://127.0.0.1:8786") as ex:     # needs a running scheduler  # doctest: +SKIP
    ...     ex.map(abs, [-1, -2])
    [1, 2]
    """

    name = "dask"

    def __init__(self, client=None, address: str | None = None, n_workers: int | None = None,
                 timeout: float | None = None):
        self._owned = []
        if client is None:
            try:
                from dask.distributed import Client, LocalCluster
                from dask.typing import no_default
            except ImportError:  # pragma: no cover - optional dependency
                raise GwidgetsError("Dask back-end needs 'dask[distributed]': pip install 'gwidgets[dask]'") from None
            if address is not None:
                try:
                    client = Client(address, timeout=timeout if timeout is not None else no_default)
                except (OSError, TimeoutError) as exc:
                    raise GwidgetsError(f"Cannot connect to the Dask scheduler at '{address}': {exc}") from None
            elif n_workers is not None:
                cluster = LocalCluster(n_workers=int(n_workers), threads_per_worker=1, processes=True,
                                       dashboard_address=None)
                client = Client(cluster)
                self._owned.append(cluster)
            else:
                client = Client(processes=False, dashboard_address=None)
            self._owned.insert(0, client)
        self.client = client

    def imap(self, func, items, progress=None, token=None, errors="raise", labels=None, max_in_flight=None,
             ordered=False):
        """`Executor.imap` (same parameters and yields) on the cluster; ``max_in_flight``: twice its worker threads.

        ``func`` is sent to every worker once (scattered) and shared by all its tasks: it is not
        pickled with each task, and the caches it fills (e.g. the reflected OFF regions per
        pointing of a `SpectrumExtractor`) stay warm from one task to the next.
        """
        from dask.distributed import as_completed as dask_completed

        limit = max(1, max_in_flight or 2 * max(1, self.n_threads()))
        finished = dask_completed()
        shared = self.client.scatter(func, broadcast=True, hash=False)

        def submit(item):
            fut = self.client.submit(_call, shared, item, errors == "collect", pure=False)
            finished.add(fut)
            return fut

        try:
            yield from _windowed(submit, lambda: next(finished), self.client.cancel,
                                 items, limit, ordered, make_progress(progress, token), labels)
        finally:
            shared.release()

    def n_threads(self) -> int:
        """Worker threads of the cluster now (0 if no worker has joined yet).

        Returns
        -------
        int
            The sum of the workers' threads.
        """
        return int(sum(self.client.nthreads().values()))

    def close(self):
        """Close the client and local cluster this executor started (a client passed in is left open)."""
        for thing in self._owned:
            thing.close()
        self._owned = []

    def __repr__(self):
        return f"DaskExecutor({self.client!r})"


def get_executor(backend="serial", **kwargs) -> Executor:
    """An executor from a name ("serial", "processes", "dask"), a Dask Client, or an Executor.

    Parameters
    ----------
    backend : str, `Executor`, dask Client or None, optional
        ``"serial"`` (or None), ``"processes"`` (also ``"multiprocessing"``, ``"process"``), ``"dask"``,
        a ``dask.distributed.Client`` (wrapped in a `DaskExecutor`) or an executor (returned as is).
    **kwargs
        Passed to `ProcessExecutor` or `DaskExecutor`.

    Returns
    -------
    Executor
        The executor.

    Raises
    ------
    `~gwidgets.errors.GwidgetsError`
        For an unknown back-end.

    Examples
    --------
    >>> get_executor("processes", n_jobs=2)
    ProcessExecutor(n_jobs=2)
    """
    if isinstance(backend, Executor):
        return backend
    if backend is None or backend == "serial":
        return SerialExecutor()
    if backend in ("processes", "multiprocessing", "process"):
        return ProcessExecutor(**kwargs)
    if backend == "dask":
        return DaskExecutor(**kwargs)
    if type(backend).__name__ == "Client" and hasattr(backend, "submit"):
        return DaskExecutor(backend)
    raise GwidgetsError(f"Unknown executor back-end {backend!r}; use 'serial', 'processes', 'dask' or a dask Client")


#: ``general.executor`` types of the analysis config (a string or the ``type`` of a mapping)
EXECUTOR_TYPES = ("serial", "processes", "dask")


def executor_from_config(spec="serial", n_jobs: int | None = None) -> Executor:
    """The executor of an analysis config's ``general.executor`` (validated by `~gwidgets.core.config`).

    Parameters
    ----------
    spec : str or dict
        ``"serial"``, ``"processes"``, ``"dask"``, or a mapping
        ``{type: dask, address: tcp://host:port}`` (an existing cluster),
        ``{type: dask, n_workers: 4}`` (a local cluster of processes) or
        ``{type: processes, n_workers: 4}``.
    n_jobs : int, optional
        ``general.n_jobs``: the workers when the spec does not say.

    Returns
    -------
    Executor
        Close it when done (`Executor.close`, or use it as a context manager):
        a Dask client or cluster it started is shut down, a cluster reached by
        address is only disconnected from.

    Examples
    --------
    >>> executor_from_config({"type": "processes", "n_workers": 2})
    ProcessExecutor(n_jobs=2)
    >>> executor_from_config("serial")
    SerialExecutor()
    """
    if isinstance(spec, Executor):
        return spec
    spec = {"type": spec} if spec is None or isinstance(spec, str) else dict(spec)
    kind = spec.get("type") or "serial"
    n_workers = spec.get("n_workers", n_jobs)
    if kind == "serial":
        return SerialExecutor()
    if kind == "processes":
        return ProcessExecutor(n_workers)
    if kind == "dask":
        return DaskExecutor(address=spec.get("address"), n_workers=n_workers)
    raise GwidgetsError(f"Unknown executor type {kind!r}; use one of {list(EXECUTOR_TYPES)}")
