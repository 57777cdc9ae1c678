"""Run heavy computations off the UI thread, latest request wins.

``Worker.submit(kind, func)`` cancels the running job of the same ``kind``
(through its `CancelToken`) and queues the new one; only the newest result of
each kind is delivered. A burst of slider moves therefore ends on the final
value, never on a stale one.
"""
from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from ..core.progress import Cancelled, CancelToken

__all__ = ["Worker", "Job"]


class Job:
    """One submitted computation: its future, token and sequence number."""

    def __init__(self, kind: str, seq: int, token: CancelToken, future: Future):
        self.kind, self.seq, self.token, self.future = kind, seq, token, future

    def cancel(self):
        self.token.cancel()

    def result(self, timeout=None):
        return self.future.result(timeout)

    def done(self) -> bool:
        return self.future.done()


class Worker:
    """A single background thread for heavy work (reduction, fits).

    ``on_done(kind, value)`` and ``on_error(kind, exc, tb)`` are called in the
    worker thread for the newest job of each kind only.
    """

    def __init__(self, on_done: Callable | None = None, on_error: Callable | None = None, max_workers: int = 1):
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="gwidgets-worker")
        self._lock = threading.Lock()
        self._latest: dict[str, Job] = {}
        self._seq = 0
        self.on_done = on_done
        self.on_error = on_error

    def submit(self, kind: str, func: Callable[[CancelToken], object]) -> Job:
        """Run ``func(token)`` in the background; cancel the previous job of ``kind``."""
        with self._lock:
            self._seq += 1
            seq = self._seq
            previous = self._latest.get(kind)
            if previous is not None:
                previous.cancel()
            token = CancelToken()
            future = self._pool.submit(self._run, kind, seq, func, token)
            job = Job(kind, seq, token, future)
            self._latest[kind] = job
        return job

    def _is_latest(self, kind, seq) -> bool:
        with self._lock:
            job = self._latest.get(kind)
            return job is not None and job.seq == seq

    def _run(self, kind, seq, func, token):
        if token.cancelled:
            return None
        try:
            value = func(token)
        except Cancelled:
            return None
        except BaseException as exc:  # reported to the UI, never lost in a thread
            if self._is_latest(kind, seq) and self.on_error is not None:
                self.on_error(kind, exc, traceback.format_exc())
            raise
        if self._is_latest(kind, seq) and not token.cancelled and self.on_done is not None:
            self.on_done(kind, value)
        return value

    def pending(self, kind: str) -> bool:
        """True while the newest job of ``kind`` is queued or running."""
        with self._lock:
            job = self._latest.get(kind)
        return job is not None and not job.done()

    def cancel(self, kind: str | None = None):
        with self._lock:
            jobs = [self._latest[kind]] if kind in self._latest else ([] if kind else list(self._latest.values()))
        for job in jobs:
            job.cancel()

    def wait(self, timeout: float | None = None):
        """Block until all submitted jobs are finished (tests, scripts)."""
        with self._lock:
            jobs = list(self._latest.values())
        for job in jobs:
            try:
                job.future.exception(timeout)
            except Exception:
                pass

    def shutdown(self):
        self.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
