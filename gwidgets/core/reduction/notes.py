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

    >>> reason_cause("observation 23523 has zero livetime", 23523)
    'observation has zero livetime'
    """
    return re.sub(rf"\s*\b{int(obs_id)}\b:?", "", str(reason)).strip()


def format_ids(ids, limit: int = 8) -> str:
    """``"1, 2, 3"``; beyond ``limit`` ids the first ones, an ellipsis and the last two.

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
        self._by_cause.setdefault(str(cause), []).append(obs_id)

    def extend(self, notes, obs_id) -> None:
        for cause in notes or ():
            self.add(cause, obs_id)

    def __len__(self):
        return len(self._by_cause)

    def __bool__(self):
        return bool(self._by_cause)

    def items(self):
        """``(cause, [obs ids])`` pairs."""
        return list(self._by_cause.items())

    def lines(self) -> list[str]:
        """One line per cause: ``"<cause>: N observation(s) (ids)"``."""
        out = []
        for cause, ids in self._by_cause.items():
            n = len(ids)
            out.append(f"{cause}: {n} observation{'s' if n != 1 else ''} ({format_ids(ids)})")
        return out

    def warn(self, prefix: str = "", stacklevel: int = 3) -> None:
        """One `ReductionWarning` per cause."""
        for line in self.lines():
            warnings.warn(f"{prefix}{line}", ReductionWarning, stacklevel=stacklevel)

    def __repr__(self):
        return "BatchNotes(" + "; ".join(self.lines()) + ")"
