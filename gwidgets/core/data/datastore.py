"""The DL3 data store: observation + HDU index over a directory of GADF files.

Examples
--------
>>> import gwidgets as gw
>>> from gwidgets.core.simulate import example_store_path
>>> store = gw.DataStore.from_dir(example_store_path())   # the simulated store; any GADF folder reads the same
>>> store
DataStore(20 observations, livetime ... h, objects: GWSIM field, name='example-dl3-v1')
>>> store.get_observations([1001, 1002])
Observations(2 observations, livetime ... h, ids [1001, 1002])
>>> gw.DataStore.from_dir(gw.data_path("hess-dl3-dr1"))   # needs: gwidgets download hess-dl3-dr1  # doctest: +SKIP
DataStore(105 observations, livetime ... h, objects: Crab Nebula, MSH 15-52, ...)
"""
from __future__ import annotations

import html
import threading
import warnings
from collections import OrderedDict
from pathlib import Path

import numpy as np
from astropy.table import Table

from ...errors import (
    DataFileError,
    EmptySelectionError,
    MissingIRFError,
    NoDataError,
    ObservationNotFoundError,
)
from ..io.fits import FitsFile
from .events import GTI, EventList
from .hdu_index import HDUIndex, HDULocation
from .obs_table import ObservationTable
from .observation import Observation, Observations, required_irfs
from .scan import scan_files

__all__ = ["DataStore", "NoDataError"]

_INDEX_NAMES = {
    "hdu": ("hdu-index.fits.gz", "hdu-index.fits", "hdu_index.fits.gz", "hdu_index.fits"),
    "obs": ("obs-index.fits.gz", "obs-index.fits", "obs_index.fits.gz", "obs_index.fits"),
}


def _read_index_table(path: Path, kind: str) -> Table:
    ff = FitsFile(path)
    hdu = next((h for h in ff.hdus[1:] if hasattr(h, "columns")), None)
    if hdu is None:
        raise NoDataError(f"Index file '{path}' has no table HDU", path)
    t = hdu.to_table()
    t.meta = dict(hdu.header)
    return t


class DataStore:
    """Observations of a DL3 data set (GADF 0.2/0.3): an observation table and an HDU index.

    Use :meth:`from_dir` (index files, or a scan of the FITS files when there
    are none) or :meth:`from_files`.  Files read are kept in a small
    least-recently-used cache (``file_cache_size`` files); IRF HDUs shared by
    several observations are parsed once.

    Parameters
    ----------
    hdu_index : `~gwidgets.core.data.hdu_index.HDUIndex`
        Where each observation's HDUs are.
    obs_table : `~gwidgets.core.data.obs_table.ObservationTable`
        One row per observation.
    name : str, optional
        Name of the data set (shown in messages and the repr).

    Examples
    --------
    >>> import gwidgets as gw
    >>> store = gw.example_store()
    >>> store.obs_ids[:3]
    [1001, 1002, 1003]
    >>> store.get_observations([1001, 1002]).ids
    [1001, 1002]
    """

    #: how many recently read files are kept in memory (an observation's HDUs
    #: usually share one file, read once for all of them)
    file_cache_size = 4

    def __init__(self, hdu_index: HDUIndex, obs_table: ObservationTable, name: str = ""):
        self.hdu_index = hdu_index
        self.obs_table = obs_table
        self.name = name
        self._files: OrderedDict[Path, FitsFile] = OrderedDict()
        self._shared: dict = {}
        self._rows = None  # (obs_id -> HDU-index rows, obs_id -> observation-table row), built by subset()
        self._lock = threading.RLock()

    # ------------------------------------------------------------ construct
    @classmethod
    def from_dir(cls, path, hdu_table_filename=None, obs_table_filename=None) -> DataStore:
        """Open a data store directory.

        Uses ``hdu-index.fits[.gz]`` and ``obs-index.fits[.gz]`` when present
        (also under ``index/*/``); otherwise scans all FITS files below ``path``.
        Without an obs-index, the observation table is built from the EVENTS headers.

        Parameters
        ----------
        path : str or Path
            The directory.
        hdu_table_filename, obs_table_filename : str or Path, optional
            Index files to use instead of those found in ``path``.

        Returns
        -------
        DataStore
            The store, named after the directory.

        Raises
        ------
        `~gwidgets.errors.FileNotFoundGwError`
            If ``path`` does not exist.
        `~gwidgets.errors.NoDataError`
            If ``path`` is not a directory, or has neither index files nor FITS files.
        `~gwidgets.errors.MissingColumnError`
            If an index table lacks a required column.
        """
        path = Path(path)
        if not path.exists():
            from ...errors import FileNotFoundGwError

            raise FileNotFoundGwError(path)
        if not path.is_dir():
            raise NoDataError(f"'{path}' is not a directory (use DataStore.from_files for files)", path)
        hdu_file = Path(hdu_table_filename) if hdu_table_filename else _find_index(path, "hdu")
        obs_file = Path(obs_table_filename) if obs_table_filename else _find_index(path, "obs")
        if hdu_file is None:
            suffixes = (".fits", ".fits.gz", ".fit", ".fits.fz")
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(suffixes))
            if not files:
                raise NoDataError(f"No index files and no FITS files in directory '{path}'", path)
            return cls.from_files(files, name=path.name)
        hdu_table = _read_index_table(hdu_file, "hdu")
        base_dir = hdu_file.parent
        if str(hdu_table.meta.get("BASE_DIR", "") or "").strip():
            base_dir = base_dir / str(hdu_table.meta["BASE_DIR"]).strip()
        hdu_index = HDUIndex(hdu_table, base_dir, filename=str(hdu_file))
        if obs_file is not None:
            obs_table = ObservationTable.from_index_table(_read_index_table(obs_file, "obs"), str(obs_file))
        else:
            obs_table = _obs_table_from_events(hdu_index)
        return cls(hdu_index, obs_table, name=path.name)

    @classmethod
    def from_files(cls, paths, name: str = "") -> DataStore:
        """Build the indexes by reading the headers of the given FITS files.

        Files with an EVENTS HDU define observations; files holding only IRFs
        are shared by every observation that lacks that IRF.

        Parameters
        ----------
        paths : iterable of str or Path
            DL3 FITS files.
        name : str, optional
            Name of the data set.

        Returns
        -------
        DataStore
            The store.

        Raises
        ------
        `~gwidgets.errors.NoDataError`
            If no files are given or none has an EVENTS HDU.
        """
        paths = [Path(p) for p in paths]
        if not paths:
            raise NoDataError("No files given to DataStore.from_files")
        hdu_table, obs_table = scan_files(paths)
        if len(obs_table) == 0:
            raise NoDataError(f"None of the {len(paths)} files has an EVENTS HDU: "
                              f"{', '.join(str(p) for p in paths[:5])}")
        hdu_index = HDUIndex(hdu_table, Path("/"), filename="(scanned files)")
        return cls(hdu_index, ObservationTable.from_index_table(obs_table, "(scanned files)"), name=name)

    # ------------------------------------------------------------- reading
    def _file(self, path: Path) -> FitsFile:
        with self._lock:
            ff = self._files.get(path)
            if ff is not None:
                self._files.move_to_end(path)
                return ff
        ff = FitsFile(path)
        with self._lock:
            self._files[path] = ff
            while len(self._files) > self.file_cache_size:
                self._files.popitem(last=False)
        return ff

    def clear_cache(self):
        """Forget files and shared IRFs kept in memory."""
        with self._lock:
            self._files.clear()
            self._shared.clear()

    def _read_hdu(self, loc: HDULocation):
        key = (loc.path, loc.hdu_name.upper())
        shared = key in self.hdu_index.shared and loc.hdu_type not in ("events", "gti")
        if shared and key in self._shared:
            return self._shared[key]
        loc.check_exists()
        hdu = self._file(loc.path)[loc.hdu_name]
        if loc.hdu_type == "events":
            value = EventList.from_hdu(hdu)
        elif loc.hdu_type == "gti":
            value = GTI.from_hdu(hdu)
        else:
            from ..irf import load_irf

            value = load_irf(hdu, loc.hdu_class or None)
        if shared:
            self._shared[key] = value
        return value

    def _fixed_rad_max(self, obs_id, aeff):
        value = getattr(aeff, "meta", {}).get("RAD_MAX")
        if value is None:
            return None
        from ..irf import RadMax2D

        return RadMax2D.from_fixed(value, aeff)

    # ---------------------------------------------------------- observations
    @property
    def obs_ids(self) -> list[int]:
        """Observation ids of the observation table, in table order."""
        return self.obs_table.obs_ids

    def obs(self, obs_id) -> Observation:
        """One observation by id (no IRF check).

        Parameters
        ----------
        obs_id : int
            Observation id.

        Returns
        -------
        `~gwidgets.core.data.observation.Observation`
            The observation; its ``meta`` is its row of the observation table (empty
            if the table has none) plus the time reference keywords.

        Raises
        ------
        `~gwidgets.errors.ObservationNotFoundError`
            If the HDU index has no HDU for ``obs_id``.
        """
        obs_id = int(obs_id)
        rows = np.flatnonzero(np.asarray(self.obs_table["OBS_ID"], dtype=np.int64) == obs_id)
        meta = {}
        if len(rows):
            row = self.obs_table[rows[0]]
            meta = {k: _scalar(row[k]) for k in self.obs_table.colnames}
        if not self.hdu_index.hdu_types(obs_id):
            raise ObservationNotFoundError(obs_id, f"the HDU index of data store '{self.name}'")
        meta.update({k: self.obs_table.meta[k] for k in ("MJDREFI", "MJDREFF", "TIMESYS") if k in self.obs_table.meta})
        return Observation(obs_id, self, meta)

    def get_observations(self, obs_id=None, required_irf="full-enclosure", skip_missing=False) -> Observations:
        """Observations by id (all when ``obs_id`` is None), checked for IRFs.

        Parameters
        ----------
        obs_id : int, list of int, `~astropy.table.Table` with OBS_ID, or None
        required_irf : {"full-enclosure", "point-like", "all-optional"} or list
            IRF components each observation must have ("aeff", "edisp", "psf",
            "bkg", "rad_max").
        skip_missing : bool
            If False (default) a missing observation or IRF raises a
            `~gwidgets.errors.GwidgetsError` naming it; if True the observation
            is left out and recorded in ``result.skipped``.

        Returns
        -------
        `~gwidgets.core.data.observation.Observations`
            The observations, in the order asked for.

        Raises
        ------
        `~gwidgets.errors.EmptySelectionError`
            If no id is selected, or none of them is usable.
        `~gwidgets.errors.GwidgetsError`
            For an unknown ``required_irf``; without ``skip_missing``,
            `~gwidgets.errors.ObservationNotFoundError`,
            `~gwidgets.errors.MissingIRFError` or a file error naming the culprit.
        """
        if obs_id is None:
            ids = self.obs_ids
        elif isinstance(obs_id, Table):
            ids = [int(x) for x in obs_id["OBS_ID"]]
        else:
            ids = [int(x) for x in np.atleast_1d(obs_id)]
        if not ids:
            raise EmptySelectionError(f"No observations selected from data store '{self.name}'")
        required = required_irfs(required_irf)
        result, skipped = [], {}
        for oid in ids:
            try:
                obs = self.obs(oid)
                obs.check(required)
            except (MissingIRFError, ObservationNotFoundError, DataFileError) as exc:
                if not skip_missing:
                    raise
                skipped[oid] = str(exc)
                continue
            result.append(obs)
        if skipped:
            warnings.warn(f"Skipped {len(skipped)} observation(s) (missing IRFs or unreadable files): "
                          f"{sorted(skipped)[:10]}", stacklevel=2)
        if not result:
            raise EmptySelectionError(
                f"None of the {len(ids)} selected observations is readable with the required IRFs {list(required)}: "
                + "; ".join(list(skipped.values())[:3])
            )
        return Observations(result, skipped)

    def check(self) -> list[str]:
        """Problems found in the index: files that do not exist (empty list if none).

        Returns
        -------
        list of str
            One message per missing file, naming the OBS_ID and HDU type that refer to it.
        """
        problems = []
        seen = set()
        for oid in self.hdu_index.obs_ids:
            for t in self.hdu_index.hdu_types(oid):
                loc = self.hdu_index.location(oid, t)
                if loc.path not in seen:
                    seen.add(loc.path)
                    if not loc.path.exists():
                        problems.append(f"missing file {loc.path} (OBS_ID {oid}, {t})")
        return problems

    # -------------------------------------------------------------- display
    def subset(self, obs_ids) -> DataStore:
        """A store that knows only ``obs_ids``: their observation-table and HDU-index rows, the same files.

        What an `Observation` carries when it is pickled (sent to a process or a Dask worker): its
        own rows (~10 kB) rather than the whole index (2.1 MB per observation of a 1000-run store,
        growing with the store). The row lookup is built once per store.

        Parameters
        ----------
        obs_ids : int or iterable of int
            The observations to keep (ids absent from the store are ignored).

        Returns
        -------
        DataStore

        Examples
        --------
        >>> import gwidgets as gw
        >>> store = gw.example_store()
        >>> small = store.subset([1001, 1002])
        >>> small.obs_ids, len(small.hdu_index) == 2 * len(store.hdu_index) // len(store.obs_ids)
        ([1001, 1002], True)
        """
        with self._lock:
            if self._rows is None:
                hdu_ids = np.asarray(self.hdu_index.table["OBS_ID"]).astype(np.int64)
                order = np.argsort(hdu_ids, kind="stable")
                starts = np.flatnonzero(np.r_[True, np.diff(hdu_ids[order]) != 0])
                groups = np.split(order, starts[1:])
                self._rows = ({int(hdu_ids[g[0]]): g for g in groups if len(g)},
                              {int(o): i for i, o in enumerate(np.asarray(self.obs_table["OBS_ID"]).astype(np.int64))})
            hdu_rows, obs_rows = self._rows
        ids = [int(i) for i in np.atleast_1d(obs_ids)]
        picked = [hdu_rows[i] for i in ids if i in hdu_rows]
        rows = np.sort(np.concatenate(picked)) if picked else np.zeros(0, dtype=int)
        index = HDUIndex(self.hdu_index.table[rows], self.hdu_index.base_dir, self.hdu_index.filename)
        return DataStore(index, self.obs_table[[obs_rows[i] for i in ids if i in obs_rows]], name=self.name)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_files"] = OrderedDict()
        state["_shared"] = {}
        state["_rows"] = None
        del state["_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def __repr__(self):
        return f"DataStore({self.obs_table.summary()}, name='{self.name}')"

    def _repr_html_(self):
        head = f"<p><b>DataStore</b> '{html.escape(self.name)}': {html.escape(self.obs_table.summary())}</p>"
        return head + self.obs_table[:20]._repr_html_()


def _find_index(path: Path, kind: str) -> Path | None:
    for name in _INDEX_NAMES[kind]:
        if (path / name).exists():
            return path / name
    # CTA-like layout: index/<dataset>/hdu-index.fits.gz
    for name in _INDEX_NAMES[kind]:
        found = sorted(path.glob(f"index/*/{name}"))
        if len(found) == 1:
            return found[0]
    return None


def _scalar(value):
    if hasattr(value, "unit") and value.unit is not None and hasattr(value, "value"):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (bytes, np.bytes_)):
        return value.decode().strip()
    return value


def _obs_table_from_events(hdu_index: HDUIndex) -> ObservationTable:
    """Observation table from the EVENTS headers when there is no obs-index."""
    from .scan import obs_row_from_header

    rows, meta = [], {}
    for oid in hdu_index.obs_ids:
        loc = hdu_index.location(oid, "events")
        if loc is None:
            continue
        loc.check_exists()
        hdu = FitsFile(loc.path)[loc.hdu_name]
        rows.append(obs_row_from_header(hdu.header, hdu.nrows))
        meta = meta or {k: hdu.header[k] for k in ("MJDREFI", "MJDREFF", "TIMESYS") if k in hdu.header}
    from .scan import rows_to_table

    t = rows_to_table(rows)
    t.meta.update(meta)
    return ObservationTable.from_index_table(t, str(hdu_index.filename))
