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
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from ..errors import GwidgetsError
from .progress import CancelToken, make_progress

__all__ = ["Executor", "SerialExecutor", "ProcessExecutor", "DaskExecutor", "ItemError", "get_executor"]


@dataclass
class ItemError:
    """Stands in for the result of an item that failed (``errors="collect"``)."""

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
    """Base class: ``map(func, items, progress=None, token=None, errors="raise")``."""

    name = "base"

    def map(self, func: Callable, items: Iterable, progress=None, token: CancelToken | None = None,
            errors: str = "raise", labels=None) -> list:
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class SerialExecutor(Executor):
    """Runs items one after the other in this process (streams: one item in memory at a time)."""

    name = "serial"

    def map(self, func, items, progress=None, token=None, errors="raise", labels=None):
        items = list(items)
        report = make_progress(progress, token)
        out = []
        for i, item in enumerate(items):
            report(i, len(items), str(labels[i]) if labels else "")
            out.append(_call(func, item, errors == "collect"))
        report(len(items), len(items), "done")
        return out


class ProcessExecutor(Executor):
    """A local process pool (``n_jobs`` workers, default: all cores)."""

    name = "processes"

    def __init__(self, n_jobs: int | None = None):
        self.n_jobs = n_jobs or os.cpu_count() or 1

    def map(self, func, items, progress=None, token=None, errors="raise", labels=None):
        items = list(items)
        report = make_progress(progress, token)
        out = [None] * len(items)
        report(0, len(items), "")
        with ProcessPoolExecutor(max_workers=self.n_jobs) as pool:
            futures = {pool.submit(_call, func, item, errors == "collect"): i for i, item in enumerate(items)}
            try:
                for done, fut in enumerate(as_completed(futures), start=1):
                    i = futures[fut]
                    out[i] = fut.result()
                    report(done, len(items), str(labels[i]) if labels else "")
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
        return out

    def __repr__(self):
        return f"ProcessExecutor(n_jobs={self.n_jobs})"


class DaskExecutor(Executor):
    """Dask distributed: a `dask.distributed.Client` (local cluster or a real one)."""

    name = "dask"

    def __init__(self, client=None):
        if client is None:
            try:
                from dask.distributed import Client
            except ImportError:  # pragma: no cover - optional dependency
                raise GwidgetsError("Dask back-end needs 'dask[distributed]': pip install 'gwidgets[dask]'") from None
            client = Client(processes=False)
        self.client = client

    def map(self, func, items, progress=None, token=None, errors="raise", labels=None):
        from dask.distributed import as_completed as dask_completed

        items = list(items)
        report = make_progress(progress, token)
        report(0, len(items), "")
        futures = [self.client.submit(_call, func, item, errors == "collect", pure=False) for item in items]
        index = {f.key: i for i, f in enumerate(futures)}
        out = [None] * len(items)
        try:
            for done, fut in enumerate(dask_completed(futures), start=1):
                i = index[fut.key]
                out[i] = fut.result()
                report(done, len(items), str(labels[i]) if labels else "")
        except BaseException:
            self.client.cancel(futures)
            raise
        return out

    def __repr__(self):
        return f"DaskExecutor({self.client!r})"


def get_executor(backend="serial", **kwargs) -> Executor:
    """An executor from a name ("serial", "processes", "dask"), a Dask Client, or an Executor."""
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
