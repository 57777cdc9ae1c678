"""The messages a session shows when its fit ends: the same words in the 1D and the 3D session.

`~gwidgets.state.session.AnalysisSession` and `~gwidgets.state.map_session.MapSession`
put these in their ``status`` and ``error`` traits.
"""
from __future__ import annotations

from ..errors import GwidgetsError

__all__ = ["fit_status", "fit_error_message"]


def fit_status(result, interrupted: str = "") -> str:
    """The status line after a fit returned.

    Parameters
    ----------
    result : `~gwidgets.core.fit.result.FitResult`
        The fit's result (``cancelled``, ``message``, ``nfev``, ``total_stat``).
    interrupted : str, optional
        Why a user edit stopped the fit ("" if none did).

    Returns
    -------
    str
        The status line.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> fit_status(SimpleNamespace(cancelled=False, message="converged", nfev=42, total_stat=12.345))
    'fit done: converged (nfev 42, stat 12.35)'
    >>> fit_status(None, "parameter 'index' (value) was edited")
    "fit stopped because parameter 'index' (value) was edited: your edit is kept, the fit result is stale"
    """
    if interrupted:
        return f"fit stopped because {interrupted}: your edit is kept, the fit result is stale"
    return (f"fit {'stopped' if result.cancelled else 'done'}: {result.message} "
            f"(nfev {result.nfev}, stat {result.total_stat:.2f})")


def fit_error_message(exc: BaseException) -> str:
    """The ``error`` text of a failed fit: a `~gwidgets.errors.GwidgetsError` as is, others with their type.

    Parameters
    ----------
    exc : BaseException
        What the fit raised.

    Returns
    -------
    str
        The message shown to the user.

    Examples
    --------
    >>> fit_error_message(ValueError("NaN in the gradient"))
    'Fit failed: ValueError: NaN in the gradient'
    """
    return str(exc) if isinstance(exc, GwidgetsError) else f"Fit failed: {type(exc).__name__}: {exc}"
