"""Warnings people read: a batch reports one line per distinct cause, with the count and the observation ids.

Per-observation steps return their notes (a cause, without the observation
id) instead of warning; the batch collects them in a `BatchNotes` and warns
once per cause at the end. The same lines go into ``gwidgets run``'s log.

>>> notes = BatchNotes()
>>> for obs_id in (3, 1, 2):
...     notes.add("ON radius 0.1732° differs slightly from RAD_MAX 0.173205°; using RAD_MAX", obs_id)
>>> notes.lines()
['ON radius 0.1732° differs slightly from RAD_MAX 0.173205°; using RAD_MAX: 3 observations (1, 2, 3)']
"""
from __future__ import annotations

import re
import warnings

__all__ = ["BatchNotes", "ReductionWarning", "format_ids", "reason_cause"]


class ReductionWarning(UserWarning):
    """A reduction note: the result is usable, but something the user should know happened."""


def reason_cause(reason: str, obs_id) -> str:
    """A skip reason without its observation id, so that equal causes fold into one line.

    Parameters
    ----------
    reason : str
        The reason, possibly naming the observation.
    obs_id : int
        The observation id to remove (with a following colon, if any).

    Returns
    -------
    str
        The reason without the id.

    Examples
    --------
    >>> reason_cause("observation 23523 has zero livetime", 23523)
    'observation has zero livetime'
    """
    return re.sub(rf"\s*\b{int(obs_id)}\b:?", "", str(reason)).strip()


def format_ids(ids, limit: int = 8) -> str:
    """``"1, 2, 3"``; beyond ``limit`` ids the first ones, an ellipsis and the last two.

    Parameters
    ----------
    ids : iterable of int
        Observation ids (sorted here).
    limit : int, optional
        Most ids written in full.

    Returns
    -------
    str
        The ids, comma-separated.

    Examples
    --------
    >>> format_ids(range(100, 130))
    '100, 101, 102, 103, 104, 105, …, 128, 129'
    """
    ids = sorted(ids)
    if len(ids) <= limit:
        return ", ".join(str(i) for i in ids)
    head = ", ".join(str(i) for i in ids[:limit - 2])
    return f"{head}, …, {ids[-2]}, {ids[-1]}"


class BatchNotes:
    """Notes of a batch of observations, grouped by cause (insertion order kept)."""

    def __init__(self):
        self._by_cause: dict[str, list] = {}

    def add(self, cause: str, obs_id) -> None:
        """Record that ``cause`` happened for observation ``obs_id``.

        Parameters
        ----------
        cause : str
            The note, without the observation id (see `reason_cause`).
        obs_id : int
            The observation id.
        """
        self._by_cause.setdefault(str(cause), []).append(obs_id)

    def extend(self, notes, obs_id) -> None:
        """Record several notes of one observation.

        Parameters
        ----------
        notes : iterable of str or None
            The observation's notes (None: none).
        obs_id : int
            The observation id.
        """
        for cause in notes or ():
            self.add(cause, obs_id)

    def __len__(self):
        return len(self._by_cause)

    def __bool__(self):
        return bool(self._by_cause)

    def items(self):
        """``(cause, [obs ids])`` pairs.

        Returns
        -------
        list of tuple
            In the order the causes were first seen.
        """
        return list(self._by_cause.items())

    def lines(self) -> list[str]:
        """One line per cause: ``"<cause>: N observation(s) (ids)"``.

        Returns
        -------
        list of str
            In the order the causes were first seen.
        """
        out = []
        for cause, ids in self._by_cause.items():
            n = len(ids)
            out.append(f"{cause}: {n} observation{'s' if n != 1 else ''} ({format_ids(ids)})")
        return out

    def warn(self, prefix: str = "", stacklevel: int = 3) -> None:
        """One `ReductionWarning` per cause.

        Parameters
        ----------
        prefix : str, optional
            Text put before each line.
        stacklevel : int, optional
            Passed to `warnings.warn`.
        """
        for line in self.lines():
            warnings.warn(f"{prefix}{line}", ReductionWarning, stacklevel=stacklevel)

    def __repr__(self):
        return "BatchNotes(" + "; ".join(self.lines()) + ")"
