"""The kernel's thread: where every widget change must happen.

Heavy work (reductions, fits, flux points) runs in the session's worker
thread, but ipywidgets are not thread-safe: a trait set from another thread
races with the kernel's own message handling. `UIThread` remembers the asyncio
loop of the Jupyter kernel (the thread that made the session) and runs a
callable there: at once when called in that thread, else scheduled with
``call_soon_threadsafe``. Outside a kernel (scripts, tests without a loop)
there is no loop and callables run at once, in the calling thread.

`AnalysisSession` sends every trait-change notification through it, so that no
view is ever called from the worker; the views' coalescers flush on the same
loop.

>>> ui = UIThread(None)
>>> ui.call(print, "runs now")
runs now
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

__all__ = ["KernelThreadNotifications", "UIThread", "kernel_loop"]


def kernel_loop() -> asyncio.AbstractEventLoop | None:
    """The asyncio loop of the Jupyter kernel we run in, if any.

    Only a real kernel counts: other libraries (Playwright's sync API, for one)
    leave a "running" loop registered in the main thread that never turns while
    our code runs, and a callable scheduled there would never run.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return None
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return None
    return loop


class UIThread:
    """Run callables in the thread of ``loop`` (the kernel's); at once without a loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None):
        self.loop = loop
        self.ident = threading.get_ident() if loop is not None else None

    def here(self) -> bool:
        """True when a callable may run at once (no loop, or we are in its thread)."""
        return self.loop is None or threading.get_ident() == self.ident

    def call(self, func: Callable, *args) -> None:
        if self.here() or self.loop.is_closed():
            func(*args)
            return
        try:
            self.loop.call_soon_threadsafe(func, *args)
        except RuntimeError:  # the loop closed meanwhile: nobody is watching
            func(*args)

    def __repr__(self):
        return f"UIThread(loop={'kernel' if self.loop is not None else None})"


class KernelThreadNotifications:
    """Mixin for a ``HasTraits`` session: every trait notification runs in the thread of its ``ui``.

    Hence every view update runs in the kernel's thread (`UIThread`), while the value is set at once; without a
    ``ui`` yet, notifications run at once.

    Put it before ``HasTraits`` in the bases (`~gwidgets.state.session.AnalysisSession`,
    `~gwidgets.state.map_session.MapSession`).

    >>> from traitlets import HasTraits, Int
    >>> class Counter(KernelThreadNotifications, HasTraits):
    ...     n = Int(0)
    >>> c = Counter()
    >>> c.ui = UIThread(None)
    >>> c.observe(lambda change: print("seen", change["new"]), "n")
    >>> c.n = 3
    seen 3
    """

    def notify_change(self, change):
        """Deliver ``change`` to the observers in the ``ui`` thread (at once when already there)."""
        ui = self.__dict__.get("ui")
        if ui is None or ui.here():
            super().notify_change(change)
        else:
            ui.call(super().notify_change, change)
