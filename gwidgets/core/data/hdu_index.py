"""The GADF HDU index: where each observation's events, GTI and IRFs are.

See https://gamma-astro-data-formats.readthedocs.io/en/latest/data_storage/hdu_index/
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.table import Table

from ...errors import FileNotFoundGwError, MissingColumnError

__all__ = ["HDULocation", "HDUIndex", "HDU_TYPES"]

#: HDU types a DL3 observation can have, and the classes of each.
HDU_TYPES = {
    "events": ("events",),
    "gti": ("gti",),
    "aeff": ("aeff_2d",),
    "edisp": ("edisp_2d",),
    "psf": ("psf_table", "psf_3gauss", "psf_king"),
    "bkg": ("bkg_2d", "bkg_3d"),
    "rad_max": ("rad_max_2d",),
}

_REQUIRED = ("OBS_ID", "HDU_TYPE", "HDU_CLASS", "FILE_DIR", "FILE_NAME", "HDU_NAME")


@dataclass(frozen=True)
class HDULocation:
    """One HDU of one observation: which file and which extension.

    Parameters
    ----------
    obs_id : int
        Observation id.
    hdu_type : str
        HDU type (``"events"``, ``"gti"``, ``"aeff"``, ... see `HDU_TYPES`).
    hdu_class : str
        HDU class (e.g. ``"aeff_2d"``, ``"psf_table"``).
    path : Path
        The file.
    hdu_name : str
        Name of the HDU in the file.
    index_file : str, optional
        The index that named the file, for error messages.
    """

    obs_id: int
    hdu_type: str
    hdu_class: str
    path: Path
    hdu_name: str
    index_file: str = ""

    def check_exists(self):
        """Raise if the file does not exist.

        Raises
        ------
        `~gwidgets.errors.FileNotFoundGwError`
            Naming the index file, OBS_ID and HDU type that refer to the file.
        """
        if not self.path.exists():
            raise FileNotFoundGwError(
                self.path,
                referenced_by=f"{self.index_file} (OBS_ID {self.obs_id}, HDU_TYPE '{self.hdu_type}')",
            )


class HDUIndex:
    """Lookup of HDU locations by observation id and HDU type.

    Parameters
    ----------
    table : `~astropy.table.Table`
        The HDU index table (GADF ``HDU_INDEX``).
    base_dir : Path
        Directory that FILE_DIR entries are relative to (the ``BASE_DIR``
        header keyword, else the index file's directory).
    filename : str
        Where the table came from, for error messages.
    """

    def __init__(self, table: Table, base_dir, filename: str = "hdu-index"):
        for col in _REQUIRED:
            if col not in table.colnames:
                raise MissingColumnError(col, "HDU_INDEX", filename, table.colnames)
        self.table = table
        self.base_dir = Path(base_dir)
        self.filename = str(filename)
        self._lookup: dict[int, dict[str, HDULocation]] = {}
        obs = np.asarray(table["OBS_ID"]).astype(np.int64)
        types = _strings(table["HDU_TYPE"])
        classes = _strings(table["HDU_CLASS"])
        dirs = _strings(table["FILE_DIR"])
        names = _strings(table["FILE_NAME"])
        hdus = _strings(table["HDU_NAME"])
        # which (file, hdu) pairs are shared by several observations (e.g. one IRF file)
        self.shared: set[tuple[Path, str]] = set()
        seen: set[tuple[Path, str]] = set()
        paths: dict[tuple[str, str], Path] = {}
        for i in range(len(table)):
            key = (dirs[i], names[i])
            path = paths.get(key)
            if path is None:
                path = paths[key] = (self.base_dir / dirs[i] / names[i]) if dirs[i] else self.base_dir / names[i]
            htype = types[i].lower()
            loc = HDULocation(int(obs[i]), htype, classes[i].lower(), path, hdus[i], self.filename)
            pair = (path, hdus[i].upper())
            if pair in seen:
                self.shared.add(pair)
            seen.add(pair)
            self._lookup.setdefault(int(obs[i]), {}).setdefault(htype, loc)

    @property
    def obs_ids(self) -> list[int]:
        """Observation ids with at least one HDU, sorted."""
        return sorted(self._lookup)

    def hdu_types(self, obs_id: int) -> set[str]:
        """HDU types (``"events"``, ``"aeff"``, ...) an observation has.

        Parameters
        ----------
        obs_id : int
            Observation id.

        Returns
        -------
        set of str
            The types; empty for an unknown id.
        """
        return set(self._lookup.get(int(obs_id), {}))

    def location(self, obs_id: int, hdu_type: str) -> HDULocation | None:
        """Where one HDU of one observation is.

        Parameters
        ----------
        obs_id : int
            Observation id.
        hdu_type : str
            HDU type, lower case (``"events"``, ``"gti"``, ``"aeff"``, ``"edisp"``,
            ``"psf"``, ``"bkg"``, ``"rad_max"``).

        Returns
        -------
        HDULocation or None
            The first matching row of the index, None if there is none.
        """
        return self._lookup.get(int(obs_id), {}).get(hdu_type)

    def __len__(self):
        return len(self.table)

    def __repr__(self):
        return f"HDUIndex({len(self.table)} rows, {len(self._lookup)} observations, base_dir='{self.base_dir}')"


def _strings(column) -> list[str]:
    """A string column as a list of stripped str; masked entries become ''."""
    data = column.filled("") if hasattr(column, "filled") else column
    return [str(x).strip() for x in np.asarray(data)]
