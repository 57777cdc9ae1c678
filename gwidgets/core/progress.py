"""Progress reporting and cancellation shared by long-running core work.

Every long computation (reduction of many observations, fits, estimators)
takes an optional ``progress`` callable, called as
``progress(done, total, message)``. Returning ``False`` — or a
:class:`CancelToken` having been cancelled — stops the work at the next step
with :class:`Cancelled`. In scripts use :func:`tqdm_progress`; the widgets pass
their own callable that updates a progress bar through the session.

Examples
--------
>>> token = CancelToken()
>>> report = make_progress(None, token)
>>> report(1, 10, "obs 1")
>>> token.cancel()
>>> try:
...     report(2, 10, "obs 2")
... except Cancelled as exc:
...     print(exc)
cancelled at step 2/10 (obs 2)
"""
from __future__ import annotations

import threading
from collections.abc import Callable

from ..errors import GwidgetsError

__all__ = ["Cancelled", "CancelToken", "make_progress", "tqdm_progress", "ProgressCallback"]

ProgressCallback = Callable[[int, int, str], bool | None]


class Cancelled(GwidgetsError):
    """The user (or a callback) cancelled a long computation."""


class CancelToken:
    """A thread-safe flag that a UI sets to stop a computation running elsewhere."""

    def __init__(self):
        self._event = threading.Event()

    def cancel(self):
        """Set the flag; the computation stops at its next progress report."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """Whether `cancel` has been called."""
        return self._event.is_set()

    def raise_if_cancelled(self, where: str = ""):
        """Raise `Cancelled` if the token is set.

        Parameters
        ----------
        where : str, optional
            Where the computation stopped, added to the message.

        Raises
        ------
        Cancelled
            If `cancel` has been called.
        """
        if self._event.is_set():
            raise Cancelled(f"cancelled{(' ' + where) if where else ''}")


def make_progress(progress: ProgressCallback | None,
                  token: CancelToken | None = None) -> Callable[[int, int, str], None]:
    """Combine a user callback and a cancel token into one ``report(done, total, message)``.

    ``report`` raises `Cancelled` if the token is set or the callback returns False.

    Parameters
    ----------
    progress : callable, optional
        ``progress(done, total, message)``; returning False cancels.
    token : CancelToken, optional
        A cancel token.

    Returns
    -------
    callable
        ``report(done, total, message="")``.
    """

    def report(done: int, total: int, message: str = ""):
        where = f"at step {done}/{total}" + (f" ({message})" if message else "")
        if token is not None and token.cancelled:
            raise Cancelled(f"cancelled {where}")
        if progress is not None and progress(done, total, message) is False:
            raise Cancelled(f"cancelled {where}")

    return report


def tqdm_progress(desc: str = "", **kwargs) -> ProgressCallback:
    """A progress callback drawing a tqdm bar (notebook-aware when in Jupyter).

    The bar is created at the first call and closed when ``done >= total``.

    Parameters
    ----------
    desc : str, optional
        Label of the bar.
    **kwargs
        Options of ``tqdm``.

    Returns
    -------
    callable
        ``callback(done, total, message="")``.
    """
    from tqdm.auto import tqdm

    state = {"bar": None}

    def callback(done, total, message=""):
        bar = state["bar"]
        if bar is None:
            bar = state["bar"] = tqdm(total=total, desc=desc, **kwargs)
        bar.n = done
        if message:
            bar.set_postfix_str(message, refresh=False)
        bar.refresh()
        if done >= total:
            bar.close()

    return callback
