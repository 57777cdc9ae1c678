"""The fit control of a session: one piece used by the 1D and the 3D session.

`FitControl` runs a session's fit in its `~gwidgets.state.worker.Worker` (or
at once without a background thread), keeps the active fit's thread and
`~gwidgets.core.progress.CancelToken`, stops it (`FitControl.stop`: the
parameters stay at the best point found so far), sends throttled live progress
into the session's ``fit_progress`` and does the bookkeeping of **the user's
edit wins**: a parameter edited (or the models replaced, an input changed) while
a fit runs stops it, the user's value is re-applied after the fit returns, and
the fit's result is kept but marked stale (``fit_stale``); an edit after a fit
marks its result stale.

What differs between the sessions, what is fitted and what the live progress
carries (1D predictions, 3D images), comes in a `FitPlan`.

The session is a ``HasTraits`` with the traits ``fitting``, ``status``,
``error``, ``fit_progress``, ``fit_result``, ``fit_stale``, ``model_version``
and ``models``, and the attributes ``background``, ``worker``,
``fit_throttle`` and ``fit_step_delay``
(`~gwidgets.state.session.AnalysisSession`, `~gwidgets.state.map_session.MapSession`).

Examples
--------
A session-like object fitted synchronously: the plan fits a power law to a simulated spectrum.

>>> import numpy as np
>>> from traitlets import Any, Bool, Dict, HasTraits, Int, Unicode
>>> from gwidgets.core.datasets import SpectrumDataset
>>> from gwidgets.core.fit import Fit
>>> from gwidgets.core.models import PowerLaw
>>> from gwidgets.state.worker import Worker
>>> class Session(HasTraits):
...     fitting, status, error = Bool(False), Unicode(""), Unicode("")
...     fit_progress, fit_result, fit_stale = Dict(), Any(None), Bool(False)
...     model_version, models = Int(0), Any(None)
...     background, fit_throttle, fit_step_delay = False, 0.0, 0.0
...     worker = Worker()
>>> edges, exposure = np.geomspace(1, 10, 5), np.full(4, 1e14)
>>> truth = SpectrumDataset(counts=np.zeros(4), exposure=exposure, energy_edges=edges, name="truth")
>>> truth.models = PowerLaw(index=2.5, amplitude="1e-12 cm-2 s-1 TeV-1")
>>> dataset = SpectrumDataset(counts=truth.npred_signal(), exposure=exposure, energy_edges=edges, name="toy")
>>> dataset.models = PowerLaw(index=2.0, amplitude="1e-12 cm-2 s-1 TeV-1")
>>> session = Session(models=dataset.models)
>>> control = FitControl(session)
>>> result = control.start(Fit(), lambda token: FitPlan(dataset, session.models, ["toy"]))
>>> round(float(dataset.models.parameters["index"].value), 3), session.fit_progress["final"]
(2.5, True)
>>> result.dataset_names, session.status[:8], session.model_version
(['toy'], 'fit done', 1)
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.progress import CancelToken
from .fit_status import fit_error_message, fit_status

__all__ = ["FitControl", "FitPlan"]


@dataclass
class FitPlan:
    """What one fit of a session fits and shows; made in the fit's thread when the fit starts.

    Parameters
    ----------
    datasets : dataset, list of datasets or `~gwidgets.core.datasets.Datasets`
        What ``Fit.run`` gets.
    models : `~gwidgets.core.models.Models`
        The models fitted: if the session's ``models`` are another object when the fit returns, the models were
        replaced meanwhile and the result is stale.
    dataset_names : list of str
        The names the `~gwidgets.core.fit.result.FitResult` records (``result.dataset_names``).
    live : callable, optional
        ``live() -> dict``: what a progress update carries besides ``nfev``, ``stat``, ``values`` and ``final``
        (computed in the fit's thread, at the current parameters).
    final : callable, optional
        The same for the update after the fit returned (default: ``live``).
    held : list of Parameter
        Free parameters frozen during the fit (the data cannot constrain them) and released after it.

    Examples
    --------
    >>> FitPlan(datasets=[], models=None, dataset_names=[]).live()
    {}
    """

    datasets: object
    models: object
    dataset_names: list
    live: Callable[[], dict] = dict
    final: Callable[[], dict] | None = None
    held: list = field(default_factory=list)


class FitControl:
    """Starts, runs and stops the fits of ``session`` (see the module doc).

    Parameters
    ----------
    session : HasTraits
        The session whose traits the fit sets (``fitting``, ``status``, ``error``, ``fit_progress``,
        ``fit_result``, ``fit_stale``, ``model_version``) and whose ``worker``, ``background``,
        ``fit_throttle``, ``fit_step_delay`` and ``models`` it uses.
    on_change : callable, optional
        Called with no argument on every change of a watched parameter, the fit's own steps included, before
        anything else (the 1D session marks its predictions stale there).

    Attributes
    ----------
    thread : int or None
        Ident of the thread running a fit (its own parameter writes are not user edits).
    token : CancelToken or None
        The running (or last) fit's token.
    edits : dict
        ``id(param) -> (param, attr, value)`` edited by the user during the fit, re-applied when it returns.
    interrupted : str
        Why a user edit stopped the running fit ("" if none did).
    interrupted_version : int
        The ``model_version`` the fit was working on when a user edit stopped it.
    watched : list of Parameter
        The parameters of the session's models, observed for user edits (`models_replaced`).
    """

    def __init__(self, session, on_change: Callable[[], object] | None = None):
        self.session = session
        self.on_change = on_change
        self.watched: list = []
        self.thread = None
        self.token = None
        self.edits: dict = {}
        self.interrupted = ""
        self.interrupted_version = 0

    # ------------------------------------------------------------- state
    def in_fit(self) -> bool:
        """True in the thread of the running fit (its parameter steps are not user edits)."""
        thread = self.thread
        return thread is not None and threading.get_ident() == thread

    def active(self) -> bool:
        """A fit is running, or asked for and not finished (queued in the worker)."""
        return self.thread is not None or self.session.worker.pending("fit")

    # ------------------------------------------------- the user's edit wins
    def user_edit(self, why: str):
        """An edit by the user: stop a running or queued fit (its result becomes stale); mark a finished one stale.

        Parameters
        ----------
        why : str
            What the user did (shown in the status line: "fit stopped because <why>").
        """
        s = self.session
        if self.active():
            if not self.interrupted:
                self.interrupted = why
                self.interrupted_version = s.model_version - 1  # the version the fit was working on
            self.stop()
        elif s.fit_result is not None and not s.fit_stale:
            s.fit_stale = True

    def models_replaced(self, models):
        """The session's ``models`` are now ``models``: watch their parameters; ``model_version`` increases.

        Outside the fit's thread this is a user edit (`user_edit`): it stops a running fit.

        Parameters
        ----------
        models : `~gwidgets.core.models.Models` or None
            The new models.
        """
        self.unwatch()
        self.watched = list(models.parameters) if models is not None else []
        for p in self.watched:
            p.observe(self._on_parameter)
        self.session.model_version += 1
        if not self.in_fit():
            self.user_edit("the models were replaced")

    def unwatch(self):
        """Stop observing the parameters (`models_replaced` watches the new ones; the session's ``close``)."""
        for p in self.watched:
            p.unobserve(self._on_parameter)
        self.watched = []

    def _on_parameter(self, param, attr, old, new):
        # called on every slider move (and every step of a fit): keep it cheap
        if self.on_change is not None:
            self.on_change()
        self.parameter_edited(param, attr, new)

    def parameter_edited(self, param, attr: str, new) -> bool:
        """A watched parameter changed (called by the observer `models_replaced` sets up; keep it cheap).

        Outside the fit's own steps: ``model_version`` increases, and during a fit the edit is remembered (it wins
        over the fit's value) and stops the fit; after a fit, its result becomes stale.

        Parameters
        ----------
        param : Parameter
            The parameter changed.
        attr : str
            What changed (``value``, ``frozen``, ``min``...).
        new : object
            The new value.

        Returns
        -------
        bool
            False for a step of the running fit (nothing done), True for a user edit.
        """
        if self.in_fit():
            return False  # the fit's own steps: views follow fit_progress; model_version moves once at the end
        s = self.session
        s.model_version += 1
        active = self.active()
        if active or s.fit_result is not None:
            if active:  # re-applied when the fit returns: a fit that already read the old value never wins
                self.edits[id(param)] = (param, attr, new)
            self.user_edit(f"parameter '{param.name}' ({attr}) was edited")
        return True

    # ------------------------------------------------------------- running
    def start(self, fit, plan: Callable[[CancelToken], FitPlan], wait: bool = False):
        """Start a fit: in the session's worker if ``session.background``, else at once.

        Parameters
        ----------
        fit : `~gwidgets.core.fit.Fit`
            The fitter.
        plan : callable
            ``plan(token) -> FitPlan``, called in the fit's thread once the fit started (a `GwidgetsError` it
            raises is shown in ``error``).
        wait : bool
            With a background thread, block until the fit is done.

        Returns
        -------
        `~gwidgets.core.fit.result.FitResult` or None
            The result when the fit ran here (not in the background) and did not fail.
        """
        s = self.session
        self.edits, self.interrupted = {}, ""  # edits from now on (queued or running) win over this fit
        if s.background:
            s.worker.submit("fit", lambda token: self.run(fit, plan, token))
            if wait:
                s.wait()
            return None
        self.token = CancelToken()
        return self.run(fit, plan, self.token)

    def stop(self):
        """Cancel a running or queued fit; the parameters stay at the best point found so far."""
        self.session.worker.cancel("fit")
        token = self.token
        if token is not None:
            token.cancel()

    def run(self, fit, plan: Callable[[CancelToken], FitPlan], token: CancelToken):
        """Run one fit in this thread (see `start`); errors go to the session's ``error``.

        Parameters
        ----------
        fit : `~gwidgets.core.fit.Fit`
            The fitter.
        plan : callable
            ``plan(token) -> FitPlan``.
        token : CancelToken
            Cancels the fit (`stop`).

        Returns
        -------
        `~gwidgets.core.fit.result.FitResult` or None
            None if the fit failed.
        """
        from ..core.fit.fit import as_datasets, unique_names

        s = self.session
        self.thread, self.token = threading.get_ident(), token
        s.fitting = True
        s.status = "fitting…"
        held = []
        try:
            p = plan(token)
            held = list(p.held)
            for param in held:
                param.frozen = True

            def callback(nfev, values, stat):
                s.fit_progress = {"nfev": int(nfev), "stat": float(stat), "values": dict(values), **p.live(),
                                  "final": False}
                if s.fit_step_delay:
                    time.sleep(s.fit_step_delay)

            try:
                result = fit.run(p.datasets, callback=callback, throttle=s.fit_throttle, token=token)
            finally:
                free = list(as_datasets(p.datasets).parameters.free_parameters)
                values = dict(zip(unique_names(free), (q.value for q in free)))
                for param in held:
                    param.frozen = False
                held = []
                for param, attr, value in list(self.edits.values()):  # the user's latest edit wins
                    setattr(param, attr, value)
                self.thread = None
                s.model_version += 1  # the parameters moved during the fit (its steps did not count)
            interrupted = self.interrupted or (p.models is not s.models and "the models were replaced")
            result.model_version = self.interrupted_version if self.interrupted else s.model_version
            result.dataset_names = list(p.dataset_names)
            s.fit_stale = bool(interrupted)
            s.fit_result = result
            s.fit_progress = {"nfev": result.nfev, "stat": result.total_stat, "values": values,
                              **(p.final or p.live)(), "final": True}
            s.status = fit_status(result, interrupted)
            return result
        except Exception as exc:  # shown in the page, never lost in a thread
            s.error = fit_error_message(exc)
            s.status = "fit failed"
        finally:
            for param in held:
                param.frozen = False
            if self.thread is not None:  # failed before or inside the fit
                self.thread = None
                s.model_version += 1
            s.fitting = False
        return None

    def __repr__(self):
        return (f"FitControl(active={self.active()}, interrupted={self.interrupted!r}, "
                f"edits={len(self.edits)})")
