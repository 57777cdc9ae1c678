"""Event lists (GADF ``EVENTS`` HDU) and good time intervals (``GTI``)."""
from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.coordinates import Angle, SkyCoord
from astropy.table import Table
from astropy.time import Time

from ...errors import DataFileError, EmptySelectionError, GwidgetsError
from .obs_table import time_reference

__all__ = ["EventList", "GTI"]


class EventList:
    """A list of gamma-like events backed by an `~astropy.table.Table`.

    Columns carry units (``ENERGY`` in TeV, ``RA``/``DEC`` in deg, ``TIME`` in s
    since the MET reference); the header keywords are in ``meta``. Selections
    return new event lists.

    Parameters
    ----------
    table : `~astropy.table.Table`
        The events, with at least ENERGY, RA, DEC and TIME columns.

    Examples
    --------
    >>> import astropy.units as u
    >>> import gwidgets as gw
    >>> events = gw.example_store().obs(1001).events
    >>> selected = events.select_energy(1 * u.TeV, 10 * u.TeV)
    >>> bool(selected.energy.min() >= 1 * u.TeV), len(selected) < len(events)
    (True, True)
    """

    def __init__(self, table: Table):
        self.table = table

    @classmethod
    def from_hdu(cls, hdu) -> EventList:
        """Read from a `gwidgets.core.io.fits_hdu.TableHDU`, checking columns and units.

        EVENT_ID (or a row number), TIME (s), RA, DEC (deg) and ENERGY (TeV) are
        read, plus DETX, DETY and MC_ID when present; the number of events with a
        non-finite energy, direction or time is stored as ``meta["GW_N_NONFINITE"]``.

        Parameters
        ----------
        hdu : `~gwidgets.core.io.fits_hdu.TableHDU`
            The EVENTS HDU.

        Returns
        -------
        EventList
            The events, with the header as ``meta``.

        Raises
        ------
        `~gwidgets.errors.MissingColumnError`
            If TIME, RA, DEC or ENERGY is missing.
        `~gwidgets.errors.UnitError`
            If a column's unit is not convertible to the expected one.
        """
        t = Table(meta=dict(hdu.header), copy=False)
        t["EVENT_ID"] = hdu.column("EVENT_ID") if hdu.has_column("EVENT_ID") else np.arange(hdu.nrows)
        t["TIME"] = hdu.quantity("TIME", "s", default_unit="s")
        t["RA"] = hdu.quantity("RA", "deg", default_unit="deg")
        t["DEC"] = hdu.quantity("DEC", "deg", default_unit="deg")
        t["ENERGY"] = hdu.quantity("ENERGY", "TeV", default_unit="TeV")
        for extra in ("DETX", "DETY", "MC_ID"):
            if hdu.has_column(extra):
                t[extra] = hdu.quantity(extra) if hdu.unit(extra) else hdu.column(extra)
        t.meta["FILENAME"] = hdu.filename
        # events that cannot be placed (NaN energy or direction, NaN time) are counted here, where they enter;
        # reductions drop them and report the count (never silently)
        finite = np.isfinite(t["ENERGY"]) & np.isfinite(t["RA"]) & np.isfinite(t["DEC"]) & np.isfinite(t["TIME"])
        t.meta["GW_N_NONFINITE"] = int(np.count_nonzero(~np.asarray(finite)))
        return cls(t)

    @property
    def n_nonfinite(self) -> int:
        """Events with a NaN or infinite ENERGY, RA, DEC or TIME (they are never used)."""
        return int(self.meta.get("GW_N_NONFINITE", 0))

    # -------------------------------------------------------------- properties
    def __len__(self):
        return len(self.table)

    @property
    def meta(self) -> dict:
        """Header keywords of the EVENTS HDU (and ``FILENAME``)."""
        return self.table.meta

    @property
    def energy(self) -> u.Quantity:
        """Reconstructed energies (TeV)."""
        return self.table["ENERGY"].quantity

    @property
    def time(self) -> Time:
        """Arrival times as `~astropy.time.Time` (MET reference + ``TIME``)."""
        return self.time_ref + self.table["TIME"].quantity

    @property
    def time_ref(self) -> Time:
        """MET reference time of the header (see `~gwidgets.core.data.obs_table.time_reference`)."""
        return time_reference(self.meta, self.meta.get("FILENAME", "the EVENTS HDU"))

    @property
    def radec(self) -> SkyCoord:
        """Reconstructed directions in ICRS."""
        return SkyCoord(self.table["RA"].quantity, self.table["DEC"].quantity, frame="icrs")

    @property
    def galactic(self) -> SkyCoord:
        """Reconstructed directions in Galactic coordinates."""
        return self.radec.galactic

    @property
    def pointing_radec(self) -> SkyCoord:
        """Pointing position from the ``RA_PNT``/``DEC_PNT`` header keywords (ICRS, deg)."""
        return SkyCoord(self.meta["RA_PNT"], self.meta["DEC_PNT"], unit="deg", frame="icrs")

    @property
    def offset(self) -> Angle:
        """Angular distance of each event from the pointing position."""
        return self.radec.separation(self.pointing_radec)

    # -------------------------------------------------------------- selections
    def select_mask(self, mask) -> EventList:
        """Events where ``mask`` is true.

        Parameters
        ----------
        mask : array-like of bool
            One entry per event.

        Returns
        -------
        EventList
            The selected events (same meta).
        """
        return EventList(self.table[np.asarray(mask, dtype=bool)])

    def select_energy(self, e_min=None, e_max=None) -> EventList:
        """Events with ``e_min <= ENERGY < e_max``.

        Parameters
        ----------
        e_min, e_max : `~astropy.units.Quantity`, optional
            Energy bounds; None leaves that side open.

        Returns
        -------
        EventList
            The selected events.
        """
        energy = self.energy
        mask = np.ones(len(self), dtype=bool)
        if e_min is not None:
            mask &= energy >= u.Quantity(e_min)
        if e_max is not None:
            mask &= energy < u.Quantity(e_max)
        return self.select_mask(mask)

    def select_time(self, start, stop) -> EventList:
        """Events with ``start <= TIME < stop`` (`~astropy.time.Time` or MET Quantities).

        Parameters
        ----------
        start, stop : `~astropy.time.Time` or `~astropy.units.Quantity`
            Time bounds, absolute or in seconds since the MET reference.

        Returns
        -------
        EventList
            The selected events.
        """
        t = self.table["TIME"].quantity
        start = (start - self.time_ref).to(u.s) if isinstance(start, Time) else u.Quantity(start, u.s)
        stop = (stop - self.time_ref).to(u.s) if isinstance(stop, Time) else u.Quantity(stop, u.s)
        return self.select_mask((t >= start) & (t < stop))

    def select_offset(self, offset_min=0 * u.deg, offset_max=180 * u.deg) -> EventList:
        """Events with ``offset_min <= offset < offset_max`` from the pointing position.

        Parameters
        ----------
        offset_min, offset_max : `~astropy.coordinates.Angle` or `~astropy.units.Quantity`, optional
            Offset bounds (default 0 and 180 deg).

        Returns
        -------
        EventList
            The selected events.
        """
        off = self.offset
        return self.select_mask((off >= Angle(offset_min)) & (off < Angle(offset_max)))

    def select_region(self, region, wcs=None) -> EventList:
        """Events inside a `regions` sky region (or a list of them: their union).

        Circles are tested exactly on the sphere; other shapes in a local
        tangent-plane WCS centred on the region (or the given ``wcs``).

        Parameters
        ----------
        region : `regions.SkyRegion` or list of them
            The region(s).
        wcs : `~astropy.wcs.WCS`, optional
            WCS used for non-circular regions.

        Returns
        -------
        EventList
            The events inside.

        Raises
        ------
        `~gwidgets.errors.GwidgetsError`
            If ``regions`` cannot test the region.
        """
        regions = region if isinstance(region, (list, tuple)) else [region]
        mask = np.zeros(len(self), dtype=bool)
        coords = self.radec
        for reg in regions:
            mask |= region_contains(reg, coords, wcs)
        return self.select_mask(mask)

    # ----------------------------------------------------------------- display
    def __repr__(self):
        n = len(self)
        text = f"EventList({n} events"
        if n:
            e = self.energy
            text += f", energy {e.min().to_value('TeV'):.3g}–{e.max().to_value('TeV'):.3g} TeV"
        obs = self.meta.get("OBS_ID")
        return text + (f", OBS_ID {obs})" if obs is not None else ")")

    def _repr_html_(self):
        return f"<p>{self!r}</p>" + self.table[:10]._repr_html_()


def region_contains(region, coords: SkyCoord, wcs=None) -> np.ndarray:
    """Boolean mask of ``coords`` inside a `regions` sky region.

    Circles are tested exactly on the sphere; other shapes in ``wcs`` or, if
    None, a local TAN projection centred on the region (0.01 deg pixels).

    Parameters
    ----------
    region : `regions.SkyRegion`
        The region.
    coords : `~astropy.coordinates.SkyCoord`
        Positions to test.
    wcs : `~astropy.wcs.WCS`, optional
        Projection for non-circular regions.

    Returns
    -------
    numpy.ndarray
        Boolean array, True inside, of the shape of ``coords``.

    Raises
    ------
    `~gwidgets.errors.GwidgetsError`
        If ``regions`` cannot test the region.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.coordinates import SkyCoord
    >>> from regions import CircleSkyRegion
    >>> circle = CircleSkyRegion(SkyCoord(83.6, 22.0, unit="deg"), 0.2 * u.deg)
    >>> region_contains(circle, SkyCoord([83.6, 84.6], [22.1, 22.0], unit="deg")).tolist()
    [True, False]
    """
    from regions import CircleSkyRegion

    if isinstance(region, CircleSkyRegion):
        center = region.center.transform_to(coords.frame) if hasattr(region.center, "transform_to") else region.center
        return coords.separation(center) < region.radius
    if wcs is None:
        from astropy.wcs import WCS

        center = getattr(region, "center", None)
        if center is None:
            center = SkyCoord(np.mean(region.vertices.ra), np.mean(region.vertices.dec))
        center = center.icrs
        wcs = WCS(naxis=2)
        wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
        wcs.wcs.crval = [center.ra.deg, center.dec.deg]
        wcs.wcs.crpix = [0, 0]
        wcs.wcs.cdelt = [-0.01, 0.01]
    try:
        return np.asarray(region.contains(coords, wcs), dtype=bool)
    except Exception as exc:  # regions raises many types for odd shapes
        raise GwidgetsError(f"Cannot test which events are inside region {region!r}: {exc}") from exc


class GTI:
    """Good time intervals: ``start``/``stop`` Quantities in MET seconds, with a reference time.

    Parameters
    ----------
    start, stop : `~astropy.units.Quantity` or array-like
        Interval bounds in seconds since the MET reference (numbers are taken as s).
    meta : dict, optional
        Header keywords, with the time reference (MJDREFI/MJDREFF or MJDREF, TIMESYS).

    Examples
    --------
    >>> gti = GTI([0, 100], [50, 200], {"MJDREFI": 51910, "MJDREFF": 0.00074287})
    >>> gti.time_sum
    <Quantity 150. s>
    >>> gti.select_time(25, 150).time_sum
    <Quantity 75. s>
    """

    def __init__(self, start, stop, meta=None):
        self.start = u.Quantity(start, u.s)
        self.stop = u.Quantity(stop, u.s)
        self.meta = dict(meta or {})

    @classmethod
    def from_hdu(cls, hdu) -> GTI:
        """Read a GTI HDU; an interval with STOP before START (or not finite) is a `~gwidgets.errors.DataFileError`.

        Parameters
        ----------
        hdu : `~gwidgets.core.io.fits_hdu.TableHDU`
            The GTI HDU (START and STOP columns, s when without unit).

        Returns
        -------
        GTI
            The intervals, with the header as ``meta``.

        Raises
        ------
        `~gwidgets.errors.DataFileError`
            If an interval ends before it starts or is not finite.
        """
        gti = cls(hdu.quantity("START", "s", default_unit="s"), hdu.quantity("STOP", "s", default_unit="s"), hdu.header)
        gti.meta["FILENAME"] = hdu.filename
        bad = np.flatnonzero(~(np.asarray(gti.stop.value) >= np.asarray(gti.start.value)))
        if bad.size:
            i = int(bad[0])
            raise DataFileError(f"{hdu.filename}, HDU {hdu.name}: row {i} has START {gti.start[i].value!r} s and "
                                f"STOP {gti.stop[i].value!r} s: a good time interval must end after it starts "
                                f"({bad.size} bad row{'s' if bad.size > 1 else ''})", hdu.filename)
        return gti

    def __len__(self):
        return len(self.start)

    @property
    def time_ref(self) -> Time:
        """MET reference time of the header (see `~gwidgets.core.data.obs_table.time_reference`)."""
        return time_reference(self.meta, self.meta.get("FILENAME", "the GTI HDU"))

    @property
    def time_start(self) -> Time:
        """Interval starts as `~astropy.time.Time`."""
        return self.time_ref + self.start

    @property
    def time_stop(self) -> Time:
        """Interval stops as `~astropy.time.Time`."""
        return self.time_ref + self.stop

    @property
    def time_range(self) -> tuple[Time, Time]:
        """``(first start, last stop)`` as Times: the span an observation covers."""
        return self.time_start.min(), self.time_stop.max()

    @property
    def time_sum(self) -> u.Quantity:
        """Total good time."""
        return (self.stop - self.start).sum().to(u.s)

    def select_time(self, start, stop) -> GTI:
        """Intervals clipped to ``[start, stop]`` (MET Quantities or Time); empty ones dropped.

        Parameters
        ----------
        start, stop : `~astropy.time.Time` or `~astropy.units.Quantity`
            Bounds, absolute or in seconds since the MET reference.

        Returns
        -------
        GTI
            The clipped intervals.

        Raises
        ------
        `~gwidgets.errors.EmptySelectionError`
            If no good time is left.
        """
        if isinstance(start, Time):
            start = (start - self.time_ref).to(u.s)
        if isinstance(stop, Time):
            stop = (stop - self.time_ref).to(u.s)
        s = np.maximum(self.start, u.Quantity(start, u.s))
        e = np.minimum(self.stop, u.Quantity(stop, u.s))
        keep = e > s
        if not keep.any():
            raise EmptySelectionError(f"No good time between {start} and {stop}")
        return GTI(s[keep], e[keep], self.meta)

    def to_table(self) -> Table:
        """The intervals as a table.

        Returns
        -------
        `~astropy.table.Table`
            START and STOP columns (s), the header as meta.
        """
        return Table({"START": self.start, "STOP": self.stop}, meta=self.meta)

    def __repr__(self):
        return f"GTI({len(self)} intervals, {self.time_sum.to_value('s'):.1f} s)"
