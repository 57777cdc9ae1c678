"""Exceptions raised by gwidgets.

Every error derives from :class:`GwidgetsError` and names the thing at fault
(file, HDU, column, parameter or observation id), so that a user — or a widget
showing the message — can tell what to fix without reading a traceback.

Examples
--------
>>> from gwidgets import errors
>>> try:
...     raise errors.MissingHDUError("EVENTS", "run_001.fits")
... except errors.GwidgetsError as exc:
...     print(exc)
HDU 'EVENTS' not found in file 'run_001.fits'
"""
from __future__ import annotations

__all__ = [
    "GwidgetsError",
    "DataFileError",
    "FileNotFoundGwError",
    "NotFITSError",
    "MissingHDUError",
    "MissingColumnError",
    "UnitError",
    "UnsupportedFormatError",
    "EmptySelectionError",
    "SelectionError",
    "NoDataError",
    "MissingIRFError",
    "ObservationNotFoundError",
]


class GwidgetsError(Exception):
    """Base class of every error raised by gwidgets."""


class DataFileError(GwidgetsError):
    """A data file could not be used."""

    def __init__(self, message: str, filename=None):
        self.filename = str(filename) if filename is not None else None
        super().__init__(message)


class FileNotFoundGwError(DataFileError, FileNotFoundError):
    """A file that should exist does not."""

    def __init__(self, filename, referenced_by=None):
        msg = f"File not found: '{filename}'"
        if referenced_by:
            msg += f" (referenced by {referenced_by})"
        super().__init__(msg, filename)

    def __str__(self):  # OSError would otherwise print "[Errno None] None"
        return self.args[0]


class NotFITSError(DataFileError):
    """A file exists but is not a readable FITS file (truncated, corrupt, other format)."""

    def __init__(self, filename, reason: str = ""):
        msg = f"File '{filename}' is not a readable FITS file"
        if reason:
            msg += f": {reason}"
        super().__init__(msg, filename)


class MissingHDUError(DataFileError, KeyError):
    """A required HDU is not in the file."""

    def __init__(self, hdu, filename, available=None):
        self.hdu = hdu
        msg = f"HDU '{hdu}' not found in file '{filename}'"
        if available:
            msg += f" (available: {', '.join(available)})"
        super().__init__(msg, filename)

    def __str__(self):  # KeyError would otherwise quote the message
        return self.args[0]


class MissingColumnError(DataFileError, KeyError):
    """A required column is missing from a table HDU."""

    def __init__(self, column, hdu, filename, available=None):
        self.column, self.hdu = column, hdu
        msg = f"Column '{column}' missing in HDU '{hdu}' of file '{filename}'"
        if available:
            msg += f" (columns: {', '.join(available)})"
        super().__init__(msg, filename)

    def __str__(self):
        return self.args[0]


class UnitError(DataFileError, ValueError):
    """A column or keyword has a unit that cannot be converted to the expected one."""

    def __init__(self, column, unit, expected, hdu=None, filename=None):
        self.column, self.unit, self.expected = column, unit, expected
        where = f" in HDU '{hdu}'" if hdu else ""
        where += f" of file '{filename}'" if filename else ""
        msg = (
            f"Column '{column}'{where} has unit '{unit}', "
            f"which is not convertible to '{expected}'"
        )
        super().__init__(msg, filename)


class UnsupportedFormatError(DataFileError):
    """A file uses a format, class or version gwidgets cannot read."""


class NoDataError(DataFileError):
    """A directory or list of files holds no DL3 data."""


class SelectionError(GwidgetsError, ValueError):
    """A selection that can select nothing by construction (negative radius, stop before start)."""


class EmptySelectionError(GwidgetsError, ValueError):
    """A selection (observations, events, energy range…) contains nothing."""


class MissingIRFError(GwidgetsError, LookupError):
    """An observation does not have an IRF component that was required."""

    def __init__(self, obs_id, irf, available=None):
        self.obs_id, self.irf = obs_id, irf
        msg = f"Observation {obs_id} has no '{irf}' IRF"
        if available is not None:
            msg += f" (available HDU types: {', '.join(sorted(available)) or 'none'})"
        super().__init__(msg)


class ObservationNotFoundError(GwidgetsError, KeyError):
    """An observation id is not in the data store."""

    def __init__(self, obs_id, where=""):
        self.obs_id = obs_id
        msg = f"Observation {obs_id} not found" + (f" in {where}" if where else "")
        super().__init__(msg)

    def __str__(self):
        return self.args[0]
