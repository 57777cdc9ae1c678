"""SessionView: the base of every view over an `~gwidgets.state.AnalysisSession`.

A view shows the session and turns the user's clicks into calls on it. What
every view needs is here, written once:

* **errors in the page** — ``with self.action():`` runs a UI action; an
  exception is shown in the page through ``session.error`` (the message of a
  `~gwidgets.errors.GwidgetsError` as it is, since it names its culprit; any other
  exception with its type) and is not raised, so the user's models, regions
  and selection stay as they were. A success clears the error this view
  showed, never another's. With ``show_errors=True`` the view shows
  ``session.error`` in its own banner (`error_html`, the one error banner of
  the package; the dashboard's `StatusBar` is that banner for all views);
* **busy indicator** — ``with self.action(busy="saving…"):`` sets
  ``session.busy`` and ``session.status`` while a synchronous step runs (the
  StatusBar shows them);
* **teardown** — observers registered with `watch` (on the session, on
  parameters, on anything with ``observe``/``unobserve``) and coalescers made
  with `coalescer` are undone by `close`: a closed view is never called again;
* **the kernel's thread** — session notifications already arrive there
  (`~gwidgets.state.ui_thread.UIThread`); `on_ui` runs any other update there
  (from a worker, a parameter callback …), and `coalescer` flushes bursts there.

Examples
--------
A minimal view: a line of text showing the number of selected observations.

>>> import ipywidgets as w
>>> from gwidgets.state import AnalysisSession
>>> class SelectionCount(SessionView):
...     def __init__(self, session, **kwargs):
...         self.label = w.HTML()
...         super().__init__(session, [self.label], **kwargs)
...         self.watch(session, self.redraw, "selection")
...         self.redraw()
...     def redraw(self, *_):
...         self.label.value = f"{len(self.session.selection)} selected"
>>> session = AnalysisSession(None, background=False)
>>> view = SelectionCount(session)
>>> session.selection = [1, 2]
>>> view.label.value
'2 selected'
>>> view.close(); session.selection = [1]; view.label.value
'2 selected'
"""
from __future__ import annotations

import contextlib
import html
import traceback
from collections.abc import Callable

import ipywidgets as w

from ..errors import GwidgetsError
from ._coalesce import Coalescer

__all__ = ["SessionView", "close_tree", "error_html", "error_message"]

#: inline style of the error banner (the one place it is written)
ERROR_STYLE = "background:#fdecea;color:#611a15;border-left:4px solid #f44336;padding:4px 8px;font-family:sans-serif"


def error_html(message: str) -> str:
    """The error banner's HTML for ``message`` (escaped); ``""`` for no error.

    Parameters
    ----------
    message : str
        The error text (``session.error``).

    Returns
    -------
    str
        An HTML ``div``, or the empty string when ``message`` is empty.

    Examples
    --------
    >>> error_html("")
    ''
    >>> "<b>Error:</b> a &lt; b" in error_html("a < b")
    True
    """
    if not message:
        return ""
    return f'<div style="{ERROR_STYLE}"><b>Error:</b> {html.escape(message)}</div>'


def error_message(exc: BaseException, what: str | None = None) -> str:
    """The text shown for an exception raised by a UI action.

    A `GwidgetsError` names its culprit: its message is shown as it is. Any
    other exception is shown with its type, after ``what`` (the action) if given.

    Parameters
    ----------
    exc : BaseException
        The exception.
    what : str, optional
        What the user asked for (``"Save config"``), for exceptions that do not say.

    Returns
    -------
    str
        The message.

    Examples
    --------
    >>> error_message(GwidgetsError("No observations selected"), "Fit")
    'No observations selected'
    >>> error_message(ValueError("bad"), "Fit")
    'Fit: ValueError: bad'
    """
    if isinstance(exc, GwidgetsError):
        return str(exc)
    text = f"{type(exc).__name__}: {exc}"
    return f"{what}: {text}" if what else text


class SessionView(w.VBox):
    """Base class of the views over an `AnalysisSession` (see the module docs).

    Subclasses build their widgets, call ``super().__init__(session, children, ...)``,
    then register their observers with `watch`.

    Parameters
    ----------
    session : AnalysisSession or None
        The session the view shows (None for a view of data given to it directly, e.g. a table: it then
        has no actions and no banner).
    children : sequence of Widget
        The view's widgets (the error banner goes first when ``show_errors``).
    show_errors : bool
        Show ``session.error`` in this view's own banner (``self.banner``, CSS class ``gw-error``). Leave it
        False where a `StatusBar` shows the errors for every view (the dashboard).
    **kwargs
        Passed to `ipywidgets.VBox`.
    """

    def __init__(self, session, children=(), show_errors: bool = False, **kwargs):
        self.session = session
        self._watches: list[tuple] = []
        self._coalescers: list[Coalescer] = []
        self._own_error: str | None = None
        #: the traceback of the last error an action caught (for debugging; the page shows the message)
        self.last_traceback = ""
        self.banner = None
        children = list(children)
        if show_errors and session is not None:
            self.banner = w.HTML()
            self.banner.add_class("gw-error")
            children.insert(0, self.banner)
        super().__init__(children, **kwargs)
        if self.banner is not None:
            self.watch(session, self.show_error, "error")
            self.show_error()

    # ------------------------------------------------------------- observing
    def watch(self, source, handler: Callable, names=None):
        """``source.observe(handler, names)``, undone by `unwatch` / `close`.

        With ``names`` None: ``source.observe(handler)`` (a `Parameter`'s signature).

        Parameters
        ----------
        source : object
            The session, a parameter, a widget: anything with ``observe`` and ``unobserve``.
        handler : callable
            The callback.
        names : str or list of str, optional
            The traits to observe (traitlets objects).

        Returns
        -------
        callable
            ``handler``.
        """
        if names is None:
            source.observe(handler)
        else:
            source.observe(handler, names)
        self._watches.append((source, handler, names))
        return handler

    def unwatch(self, source=None):
        """Remove the observers registered with `watch` on ``source`` (all of them if None)."""
        keep = []
        for entry in self._watches:
            src, handler, names = entry
            if source is not None and src is not source:
                keep.append(entry)
                continue
            with contextlib.suppress(ValueError, KeyError):  # already gone (a closed widget)
                if names is None:
                    src.unobserve(handler)
                else:
                    src.unobserve(handler, names)
        self._watches = keep

    def watching(self, source) -> bool:
        """True if an observer registered with `watch` is on ``source``."""
        return any(src is source for src, _, _ in self._watches)

    # ------------------------------------------------------ the kernel's thread
    def on_ui(self, func: Callable, *args):
        """Run ``func(*args)`` in the kernel's thread (at once when already there, or outside a kernel)."""
        if self.session is None:
            func(*args)
        else:
            self.session.ui.call(func, *args)

    def coalescer(self, flush: Callable[[], None], delay: float = 0.0) -> Coalescer:
        """A `Coalescer` flushing on the kernel's loop, cancelled by `close`."""
        coalescer = Coalescer(flush, delay, loop=self.session.ui.loop if self.session is not None else None)
        self._coalescers.append(coalescer)
        return coalescer

    # ---------------------------------------------------------------- errors
    @contextlib.contextmanager
    def action(self, what: str | None = None, busy: str | None = None, clear: bool = False):
        """Run a UI action: an exception is shown in the page (``session.error``), not raised.

        Parameters
        ----------
        what : str, optional
            The action's name, put before the message of exceptions that do not name their culprit.
        busy : str, optional
            Set ``session.busy`` and ``session.status`` to this text while the action runs.
        clear : bool
            Clear ``session.error`` first, whoever set it (an action that starts a new computation).

        Yields
        ------
        None
        """
        session = self.session
        was_busy, was_status = session.busy, session.status
        if clear:
            session.error = ""
            self._own_error = None
        if busy:
            session.busy = True
            session.status = busy
        try:
            yield
        except Exception as exc:  # shown in the page; the user's work stays as it was
            self.last_traceback = traceback.format_exc()
            self.report(error_message(exc, what))
        else:
            self.report(None)
        finally:
            if busy:
                session.busy = was_busy
                if session.status == busy:  # nothing said what happened since: the line shows what it showed
                    session.status = was_status

    def report(self, message: str | None):
        """Show ``message`` as the error in the page (``session.error``).

        ``None`` means the last action succeeded: the error this view showed goes, errors shown by others stay.
        """
        session = self.session
        if message is None:
            if self._own_error is not None and session.error == self._own_error:
                session.error = ""
            self._own_error = None
            return
        self._own_error = message
        session.error = message

    def show_error(self, *_):
        """Show ``session.error`` in the banner (called on every change of it)."""
        self.banner.value = error_html(self.session.error)

    # -------------------------------------------------------------- teardown
    def close(self):
        """Stop observing (session, parameters …), cancel pending redraws, close the view and its widgets."""
        self.unwatch()
        for coalescer in self._coalescers:
            coalescer.cancel()
        self._coalescers = []
        for child in list(self.children):
            close_tree(child)
        super().close()


def close_tree(widget):
    """Close ``widget`` and the boxes' children below it (a `SessionView` closes itself, observers first).

    Parameters
    ----------
    widget : ipywidgets.Widget
        The root of the tree to close.
    """
    if isinstance(widget, SessionView):
        widget.close()
        return
    for child in list(getattr(widget, "children", None) or ()):
        if isinstance(child, w.Widget):
            close_tree(child)
    widget.close()
