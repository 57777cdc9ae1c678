"""Coalesce bursts of model changes into one widget update.

A fit changes parameter values thousands of times a second; redrawing the
sliders (one comm message per widget per change) on every step would flood the
browser. `Coalescer.request()` is cheap and may be called from any thread; the
``flush`` callback runs once per burst, ``delay`` seconds after the first
request of the burst:

* inside a Jupyter kernel (an asyncio loop runs in the thread that made the
  coalescer) the flush is scheduled on that loop, so it always runs in the
  widget thread — and a fit running synchronously in a cell is shown once, at
  its end;
* elsewhere (scripts, tests) a daemon `threading.Timer` runs it.

``flush_now()`` flushes at once, in the calling thread (scripts and tests).
"""
from __future__ import annotations

import threading
from collections.abc import Callable

from ..state.ui_thread import kernel_loop

__all__ = ["Coalescer"]


class Coalescer:
    """Run ``flush()`` once per burst of ``request()`` calls."""

    def __init__(self, flush: Callable[[], None], delay: float = 0.05, loop=...):
        """``loop``: the loop to flush on (a session's ``ui.loop``); default: the kernel's, if any."""
        self._flush = flush
        self.delay = float(delay)
        self._lock = threading.RLock()
        self._pending = False
        self._timer: threading.Timer | None = None
        self._loop = kernel_loop() if loop is ... else loop

    @property
    def pending(self) -> bool:
        return self._pending

    def request(self):
        """Ask for a flush (cheap; thread-safe; many requests → one flush)."""
        with self._lock:
            if self._pending:
                return
            self._pending = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(loop.call_later, self.delay, self._run)
                return
            except RuntimeError:  # loop closed between the check and the call
                pass
        timer = threading.Timer(self.delay, self._run)
        timer.daemon = True
        self._timer = timer
        timer.start()

    def _run(self):
        with self._lock:
            if not self._pending:
                return
            self._pending = False
            self._timer = None
            self._flush()

    def flush_now(self):
        """Run the flush now, in this thread (a pending one is then skipped)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._pending = False
            self._flush()

    def cancel(self):
        with self._lock:
            self._pending = False
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
