"""The observation table (GADF ``OBS_INDEX``) with selection helpers.

Every selection returns a new :class:`ObservationTable`; the original is never
modified, so a widget can keep the full table and show any number of
selections of it.

Examples
--------
>>> import astropy.units as u
>>> from astropy.coordinates import SkyCoord
>>> import gwidgets as gw
>>> store = gw.example_store()                      # any store: gw.DataStore.from_dir(path)
>>> crab = SkyCoord(83.63, 22.01, unit="deg")
>>> t = store.obs_table.select_sky_cone(crab, 1 * u.deg)
>>> len(t), len(store.obs_table)                    # a new table; the store's is unchanged
(20, 20)
>>> low = t.select_zenith(0 * u.deg, 17 * u.deg)
>>> bool(low["ZEN_PNT"].quantity.max() <= 17 * u.deg), len(low) < len(t)
(True, True)
"""
from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.coordinates import Angle, SkyCoord
from astropy.table import Table
from astropy.time import Time

from ...errors import GwidgetsError, MissingColumnError, SelectionError

__all__ = ["ObservationTable", "time_reference"]

# Units of the standard OBS_INDEX columns, applied when the file has none.
_UNITS = {
    "RA_PNT": u.deg, "DEC_PNT": u.deg, "GLON_PNT": u.deg, "GLAT_PNT": u.deg,
    "ZEN_PNT": u.deg, "ALT_PNT": u.deg, "AZ_PNT": u.deg, "RA_OBJ": u.deg,
    "DEC_OBJ": u.deg, "OFFSET_OBJ": u.deg, "ONTIME": u.s, "LIVETIME": u.s,
    "TSTART": u.s, "TSTOP": u.s,
}


def time_reference(meta: dict, where: str = "") -> Time:
    """The MET reference time from GADF header keywords (MJDREFI/F or MJDREF, TIMESYS).

    An unknown TIMESYS is taken as TT.

    Parameters
    ----------
    meta : dict
        Header keywords.
    where : str, optional
        What the header belongs to, for the error message.

    Returns
    -------
    `~astropy.time.Time`
        The reference time (MJD format, in the TIMESYS scale).

    Raises
    ------
    `~gwidgets.errors.GwidgetsError`
        Naming ``where`` if the keywords are missing.

    Examples
    --------
    >>> time_reference({"MJDREFI": 51910, "MJDREFF": 0.00074287, "TIMESYS": "TT"}).isot
    '2001-01-01T00:01:04.184'
    """
    scale = str(meta.get("TIMESYS", "tt") or "tt").strip().lower()
    if scale not in Time.SCALES:
        scale = "tt"
    if "MJDREFI" in meta:
        mjd_i, mjd_f = float(meta["MJDREFI"]), float(meta.get("MJDREFF", 0.0))
    elif "MJDREF" in meta:
        mjd_i, mjd_f = float(meta["MJDREF"]), 0.0
    else:
        raise GwidgetsError(f"No time reference (MJDREFI/MJDREFF) in the header of {where or 'the table'}")
    return Time(mjd_i, mjd_f, format="mjd", scale=scale)


class ObservationTable(Table):
    """Table of observations, one row each, with `~astropy.units.Quantity` columns.

    Selection methods (`select_ids`, `select_sky_cone`, `select_sky_box`,
    `select_time`, `select_zenith`, `select_object`, `select_range`,
    `select_rows`) return a new table and never modify this one.
    Build one with `from_index_table`; the constructor is that of
    `~astropy.table.Table`.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.table import Table
    >>> t = ObservationTable.from_index_table(Table({
    ...     "OBS_ID": [1, 2, 3], "RA_PNT": [83.6, 84.1, 120.0], "DEC_PNT": [22.0, 22.5, -40.0],
    ...     "ZEN_PNT": [20.0, 45.0, 30.0], "OBJECT": ["Crab", "Crab", "Vela"]}))
    >>> t.select_zenith(0 * u.deg, 40 * u.deg).obs_ids
    [1, 3]
    >>> t.select_object("crab").obs_ids, t.select_ids([3, 2]).obs_ids
    ([1, 2], [2, 3])
    """

    @classmethod
    def from_index_table(cls, table: Table, filename: str = "obs-index") -> ObservationTable:
        """Standardise an OBS_INDEX table: units on the known columns, ``OBJECT`` as str.

        Known columns without unit get their GADF unit (deg for the pointing and
        target positions, s for times); ``meta["FILENAME"]`` records ``filename``.

        Parameters
        ----------
        table : `~astropy.table.Table`
            The OBS_INDEX table (not copied).
        filename : str, optional
            Where it came from, for error messages.

        Returns
        -------
        ObservationTable
            The table.

        Raises
        ------
        `~gwidgets.errors.MissingColumnError`
            If there is no OBS_ID column.
        """
        if "OBS_ID" not in table.colnames:
            raise MissingColumnError("OBS_ID", "OBS_INDEX", filename, table.colnames)
        t = cls(table, copy=False, masked=False)
        for name, unit in _UNITS.items():
            if name in t.colnames and t[name].unit is None:
                t[name].unit = unit
        t.meta["FILENAME"] = str(filename)
        return t

    # ------------------------------------------------------------------ basics
    @property
    def obs_ids(self) -> list[int]:
        """The OBS_ID column as a list of int."""
        return [int(x) for x in self["OBS_ID"]]

    @property
    def pointing_radec(self) -> SkyCoord:
        """Pointing positions (ICRS) from RA_PNT / DEC_PNT."""
        return SkyCoord(self._col("RA_PNT"), self._col("DEC_PNT"), frame="icrs")

    @property
    def time_ref(self) -> Time:
        """MET reference time of the table's header keywords."""
        return time_reference(self.meta, self.meta.get("FILENAME", "the observation table"))

    @property
    def time_start(self) -> Time:
        """Observation starts (TSTART) as `~astropy.time.Time`."""
        return self.time_ref + self._col("TSTART")

    @property
    def time_stop(self) -> Time:
        """Observation stops (TSTOP) as `~astropy.time.Time`."""
        return self.time_ref + self._col("TSTOP")

    def _col(self, name):
        if name not in self.colnames:
            raise MissingColumnError(name, "OBS_INDEX", self.meta.get("FILENAME", "obs-index"), self.colnames)
        col = self[name]
        return u.Quantity(col) if col.unit is not None else np.asarray(col)

    def summary(self) -> str:
        """Counts and totals as one line of text.

        Returns
        -------
        str
            Number of observations, total livetime (h) and up to six object names.
        """
        n = len(self)
        text = f"{n} observation{'s' if n != 1 else ''}"
        if "LIVETIME" in self.colnames and n:
            text += f", livetime {self._col('LIVETIME').to_value('h').sum():.2f} h"
        if "OBJECT" in self.colnames and n:
            objects = sorted({str(o).strip() for o in self["OBJECT"]})
            text += f", objects: {', '.join(objects[:6])}" + (" …" if len(objects) > 6 else "")
        return text

    # -------------------------------------------------------------- selections
    def select_rows(self, mask_or_predicate) -> ObservationTable:
        """Rows where a boolean mask is true, or where ``predicate(table)`` is true.

        ``predicate`` receives this table and returns a boolean array, e.g.
        ``t.select_rows(lambda t: t["N_TELS"] >= 3)``.

        Parameters
        ----------
        mask_or_predicate : array-like of bool or callable
            A mask with one entry per row, or a function of the table returning one.

        Returns
        -------
        ObservationTable
            The selected rows.

        Raises
        ------
        `~gwidgets.errors.GwidgetsError`
            If the mask does not have one entry per row.
        """
        if callable(mask_or_predicate):
            mask = mask_or_predicate(self)
        else:
            mask = mask_or_predicate
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (len(self),):
            raise GwidgetsError(f"Selection mask has shape {mask.shape}, expected ({len(self)},)")
        return self[mask]

    def select_ids(self, obs_ids) -> ObservationTable:
        """Rows whose OBS_ID is in ``obs_ids`` (in table order).

        Parameters
        ----------
        obs_ids : int or array-like of int
            Wanted ids (ids not in the table are ignored).

        Returns
        -------
        ObservationTable
            The selected rows.
        """
        ids = np.atleast_1d(np.asarray(obs_ids, dtype=np.int64))
        return self.select_rows(np.isin(np.asarray(self["OBS_ID"], dtype=np.int64), ids))

    def select_sky_cone(self, center: SkyCoord, radius, border=0 * u.deg) -> ObservationTable:
        """Pointings within ``radius`` (+ ``border``) of ``center`` (any frame).

        Parameters
        ----------
        center : `~astropy.coordinates.SkyCoord`
            Centre of the cone.
        radius : `~astropy.coordinates.Angle` or `~astropy.units.Quantity`
            Radius of the cone.
        border : `~astropy.coordinates.Angle` or `~astropy.units.Quantity`, optional
            Margin added to the radius.

        Returns
        -------
        ObservationTable
            The selected rows.

        Raises
        ------
        `~gwidgets.errors.SelectionError`
            If ``radius + border`` is not positive.
        """
        radius = Angle(radius) + Angle(border)
        if not radius.deg > 0:
            raise SelectionError(f"select_sky_cone: radius + border must be positive, got {radius.deg:g}°")
        sep = self.pointing_radec.separation(center.icrs if hasattr(center, "icrs") else center)
        return self.select_rows(sep <= radius)

    def select_sky_box(self, lon, lat, frame: str = "icrs") -> ObservationTable:
        """Pointings inside a lon/lat box, e.g. ``lon=(80, 90) * u.deg, lat=(20, 25) * u.deg``.

        Longitude ranges may wrap (``lon=(350, 10) * u.deg``).

        Parameters
        ----------
        lon, lat : `~astropy.units.Quantity`
            ``(min, max)`` longitude and latitude bounds (inclusive).
        frame : str, optional
            Frame of the box (``"icrs"``, ``"galactic"``, ...).

        Returns
        -------
        ObservationTable
            The selected rows.
        """
        pnt = self.pointing_radec.transform_to(frame).spherical
        lon_min, lon_max = Angle(lon).wrap_at(360 * u.deg).deg
        lat_min, lat_max = Angle(lat).deg
        plon = pnt.lon.wrap_at(360 * u.deg).deg
        plat = pnt.lat.deg
        if lon_min <= lon_max:
            in_lon = (plon >= lon_min) & (plon <= lon_max)
        else:
            in_lon = (plon >= lon_min) | (plon <= lon_max)
        return self.select_rows(in_lon & (plat >= lat_min) & (plat <= lat_max))

    def select_time(self, start, stop, partial_overlap: bool = True) -> ObservationTable:
        """Observations overlapping ``[start, stop]`` (`~astropy.time.Time`, or MET Quantities).

        With ``partial_overlap=False`` only observations entirely inside are kept.

        Parameters
        ----------
        start, stop : `~astropy.time.Time` or `~astropy.units.Quantity`
            Time range, absolute or in seconds since the MET reference.
        partial_overlap : bool, optional
            Keep observations that overlap the range only in part.

        Returns
        -------
        ObservationTable
            The selected rows.

        Raises
        ------
        `~gwidgets.errors.SelectionError`
            If ``stop`` is not after ``start``.
        """
        tstart, tstop = self._col("TSTART"), self._col("TSTOP")
        start = self._met(start)
        stop = self._met(stop)
        if not stop > start:
            raise SelectionError(f"select_time: the stop ({stop:g} MET) must be after the start ({start:g} MET)")
        if partial_overlap:
            mask = (tstop > start) & (tstart < stop)
        else:
            mask = (tstart >= start) & (tstop <= stop)
        return self.select_rows(mask)

    def _met(self, t):
        if isinstance(t, Time):
            return (t - self.time_ref).to(u.s)
        return u.Quantity(t, u.s)

    def select_zenith(self, min=0 * u.deg, max=90 * u.deg) -> ObservationTable:
        """Observations with ``min <= ZEN_PNT < max`` (falls back to 90° - ALT_PNT).

        Parameters
        ----------
        min, max : `~astropy.units.Quantity`, optional
            Zenith-angle bounds (default 0 and 90 deg).

        Returns
        -------
        ObservationTable
            The selected rows.
        """
        if "ZEN_PNT" in self.colnames:
            zen = self._col("ZEN_PNT")
        else:
            zen = 90 * u.deg - self._col("ALT_PNT")
        return self.select_rows((zen >= Angle(min)) & (zen < Angle(max)))

    def select_range(self, column: str, min=None, max=None) -> ObservationTable:
        """Rows with ``min <= column < max`` (either bound may be None).

        Parameters
        ----------
        column : str
            Column name.
        min, max : `~astropy.units.Quantity` or float, optional
            Bounds, in the column's unit (a Quantity for a column with a unit).

        Returns
        -------
        ObservationTable
            The selected rows.

        Raises
        ------
        `~gwidgets.errors.MissingColumnError`
            If there is no such column.
        """
        values = self._col(column)
        mask = np.ones(len(self), dtype=bool)
        if min is not None:
            mask &= values >= min
        if max is not None:
            mask &= values < max
        return self.select_rows(mask)

    def select_object(self, name: str, exact: bool = False) -> ObservationTable:
        """Rows whose OBJECT matches ``name`` (case- and space-insensitive; substring unless ``exact``).

        Parameters
        ----------
        name : str
            Object name (OBJECT column, else TARGET_NAME).
        exact : bool, optional
            Require the whole name to match.

        Returns
        -------
        ObservationTable
            The selected rows.
        """
        col = "OBJECT" if "OBJECT" in self.colnames else "TARGET_NAME"
        norm = lambda s: "".join(str(s).lower().split())  # noqa: E731
        key = norm(name)
        objects = [norm(o) for o in self._col(col)]
        mask = [o == key if exact else key in o for o in objects]
        return self.select_rows(np.array(mask, dtype=bool))
