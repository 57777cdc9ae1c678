"""One observation (run) and lists of them.

An :class:`Observation` knows where its HDUs are and loads each one on first
access (events, GTI, IRFs), then keeps it. IRF HDUs shared by several
observations (one IRF file for a whole data set, as in CTA 1DC or FACT) are
parsed once per data store.
"""
from __future__ import annotations

import html
from typing import TYPE_CHECKING

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table

from ...errors import GwidgetsError, MissingIRFError, ObservationNotFoundError
from .events import GTI, EventList

if TYPE_CHECKING:  # pragma: no cover
    from .datastore import DataStore

__all__ = ["Observation", "Observations", "REQUIRED_IRF"]

#: Named sets of required IRF components.
REQUIRED_IRF = {
    "full-enclosure": ("aeff", "edisp", "psf", "bkg"),
    "point-like": ("aeff", "edisp"),
    "all-optional": (),
}

IRF_TYPES = ("aeff", "edisp", "psf", "bkg", "rad_max")


class Observation:
    """A DL3 observation: events, GTI, pointing and IRFs (lazy-loaded, cached).

    Get one from `~gwidgets.core.data.DataStore.obs` or
    `~gwidgets.core.data.DataStore.get_observations`.

    Parameters
    ----------
    obs_id : int
        Observation id.
    store : `~gwidgets.core.data.DataStore`
        The data store that knows where its HDUs are.
    meta : dict, optional
        The observation's row of the observation table.

    Attributes
    ----------
    obs_id : int
        Observation id.
    meta : dict
        The observation's row of the observation table.

    Examples
    --------
    >>> import astropy.units as u
    >>> import gwidgets as gw
    >>> obs = gw.example_store().obs(1001)
    >>> obs.obs_id, obs.target_name, sorted(obs.available_hdus)
    (1001, 'GWSIM field', ['aeff', 'bkg', 'edisp', 'events', 'gti', 'psf'])
    >>> bool(obs.livetime <= obs.ontime)
    True
    """

    def __init__(self, obs_id: int, store: DataStore, meta: dict | None = None):
        self.obs_id = int(obs_id)
        self._store = store
        self.meta = dict(meta or {})
        self._cache: dict = {}

    # --------------------------------------------------------------- loading
    @property
    def available_hdus(self) -> set[str]:
        """HDU types present in the index for this observation."""
        return self._store.hdu_index.hdu_types(self.obs_id)

    def _load(self, hdu_type: str):
        if hdu_type in self._cache:
            return self._cache[hdu_type]
        loc = self._store.hdu_index.location(self.obs_id, hdu_type)
        if loc is None:
            value = self._fallback(hdu_type)
        else:
            value = self._store._read_hdu(loc)
        self._cache[hdu_type] = value
        return value

    def _fallback(self, hdu_type):
        if hdu_type == "rad_max":
            # point-like IRFs may give a fixed RAD_MAX in the AEFF header
            if "aeff" in self.available_hdus:
                return self._store._fixed_rad_max(self.obs_id, self.aeff)
            return None
        if hdu_type in ("events", "gti"):
            raise MissingIRFError(self.obs_id, hdu_type, self.available_hdus)
        return None

    def load_all(self) -> Observation:
        """Load events, GTI and every available IRF now (returns self).

        Returns
        -------
        Observation
            This observation.
        """
        for t in ("events", "gti", *IRF_TYPES):
            self._load(t)
        return self

    @property
    def events(self) -> EventList:
        """The `EventList`; raises `~gwidgets.errors.MissingIRFError` if there is none."""
        return self._load("events")

    @property
    def gti(self) -> GTI:
        """The good time intervals (`GTI`); raises `~gwidgets.errors.MissingIRFError` if there are none."""
        return self._load("gti")

    @property
    def aeff(self):
        """Effective area (or None if the observation has none)."""
        return self._load("aeff")

    @property
    def edisp(self):
        """Energy dispersion (or None if the observation has none)."""
        return self._load("edisp")

    @property
    def psf(self):
        """Point spread function (or None if the observation has none)."""
        return self._load("psf")

    @property
    def bkg(self):
        """Background model (or None if the observation has none)."""
        return self._load("bkg")

    @property
    def rad_max(self):
        """RAD_MAX of point-like IRFs: the RAD_MAX HDU, or the fixed AEFF header value; else None."""
        return self._load("rad_max")

    def has_irf(self, name: str) -> bool:
        """Whether the observation has IRF component ``name``.

        Parameters
        ----------
        name : str
            ``"aeff"``, ``"edisp"``, ``"psf"``, ``"bkg"`` or ``"rad_max"`` (which
            may also come from a fixed RAD_MAX in the AEFF header).

        Returns
        -------
        bool
            True if present.
        """
        if name == "rad_max":
            return self.rad_max is not None
        return name in self.available_hdus

    @property
    def is_pointlike(self) -> bool:
        """Whether the IRFs are point-like (from the effective area's header)."""
        aeff = self.aeff
        return bool(getattr(aeff, "is_pointlike", False))

    # ------------------------------------------------------------- metadata
    def _meta_q(self, key, unit):
        """A keyword from the EVENTS header (the file's own statement), else the obs-index row."""
        value = self.events.meta.get(key)
        if value is None:
            value = self.meta.get(key)
        if value is None:
            return None
        return u.Quantity(value, unit)

    @property
    def pointing_radec(self) -> SkyCoord:
        """Pointing position (ICRS), from the observation table, else the EVENTS header."""
        ra, dec = self.meta.get("RA_PNT"), self.meta.get("DEC_PNT")
        if ra is None or dec is None:
            ra, dec = self.events.meta["RA_PNT"], self.events.meta["DEC_PNT"]
        return SkyCoord(u.Quantity(ra, u.deg), u.Quantity(dec, u.deg), frame="icrs")

    @property
    def target_radec(self) -> SkyCoord | None:
        """Target position (ICRS) from RA_OBJ / DEC_OBJ; None if not given."""
        ra = self.meta.get("RA_OBJ")
        dec = self.meta.get("DEC_OBJ")
        if ra is None or dec is None:
            return None
        return SkyCoord(u.Quantity(ra, u.deg), u.Quantity(dec, u.deg), frame="icrs")

    @property
    def livetime(self) -> u.Quantity:
        """Livetime (s): LIVETIME of the EVENTS header or table, else GTI sum × DEADC."""
        lt = self._meta_q("LIVETIME", u.s)
        if lt is None:
            lt = self.gti.time_sum * float(self.meta.get("DEADC", 1.0))
        return lt

    @property
    def deadc(self) -> float:
        """Dead-time correction factor (live time / on time); 1 if not given."""
        value = self.events.meta.get("DEADC", self.meta.get("DEADC"))
        if value is None:
            lt, on = self.events.meta.get("LIVETIME"), self.events.meta.get("ONTIME")
            return float(lt) / float(on) if lt and on else 1.0
        return float(value)

    @property
    def ontime(self) -> u.Quantity:
        """On time (s): ONTIME of the EVENTS header or table, else the GTI sum."""
        t = self._meta_q("ONTIME", u.s)
        return self.gti.time_sum if t is None else t

    @property
    def tstart(self) -> u.Quantity:
        """Start (TSTART, s since the MET reference); None if not given."""
        return self._meta_q("TSTART", u.s)

    @property
    def tstop(self) -> u.Quantity:
        """Stop (TSTOP, s since the MET reference); None if not given."""
        return self._meta_q("TSTOP", u.s)

    @property
    def target_name(self) -> str:
        """Target name (OBJECT, else TARGET_NAME; ``''`` if neither)."""
        return str(self.meta.get("OBJECT", self.meta.get("TARGET_NAME", "")) or "").strip()

    def check(self, required_irf="full-enclosure"):
        """Raise `~gwidgets.errors.MissingIRFError` if a required IRF component is missing.

        Parameters
        ----------
        required_irf : str or list of str, optional
            ``"full-enclosure"``, ``"point-like"``, ``"all-optional"`` or a list of
            components (see `required_irfs`).

        Raises
        ------
        `~gwidgets.errors.MissingIRFError`
            Naming the observation and the missing component.
        `~gwidgets.errors.GwidgetsError`
            For an unknown ``required_irf``.
        """
        for name in required_irfs(required_irf):
            if name == "rad_max":
                if self.rad_max is None:
                    raise MissingIRFError(self.obs_id, name, self.available_hdus)
            elif name not in self.available_hdus:
                raise MissingIRFError(self.obs_id, name, self.available_hdus)

    # -------------------------------------------------------------- pickling
    def __getstate__(self):
        # keep loaded parts; the store travels as a store of this observation's rows only (DataStore.subset):
        # ~10 kB whatever the size of the store, instead of the whole index
        state = dict(self.__dict__)
        state["_store"] = self._store.subset([self.obs_id])
        return state

    def __repr__(self):
        pnt = self.pointing_radec
        return (
            f"Observation(obs_id={self.obs_id}, target='{self.target_name}', "
            f"pointing=({pnt.ra.deg:.3f}°, {pnt.dec.deg:.3f}°), "
            f"livetime={self.livetime.to_value('min'):.1f} min, "
            f"hdus={sorted(self.available_hdus)})"
        )

    def _repr_html_(self):
        return f"<pre>{html.escape(repr(self))}</pre>"


def required_irfs(required_irf):
    """The IRF names an observation must have, from "full-enclosure", "point-like", "all-optional" or a list.

    Parameters
    ----------
    required_irf : str, list of str or None
        A name of `REQUIRED_IRF` or a list of components from ``"aeff"``,
        ``"edisp"``, ``"psf"``, ``"bkg"``, ``"rad_max"``; None for none.

    Returns
    -------
    tuple of str
        The components.

    Raises
    ------
    `~gwidgets.errors.GwidgetsError`
        For an unknown name or component.

    Examples
    --------
    >>> required_irfs("point-like")
    ('aeff', 'edisp')
    """
    if required_irf is None:
        return ()
    if isinstance(required_irf, str):
        if required_irf not in REQUIRED_IRF:
            raise GwidgetsError(
                f"Unknown required_irf '{required_irf}'; use one of {list(REQUIRED_IRF)} or a list of {list(IRF_TYPES)}"
            )
        return REQUIRED_IRF[required_irf]
    names = tuple(required_irf)
    bad = [n for n in names if n not in IRF_TYPES]
    if bad:
        raise GwidgetsError(f"Unknown IRF component(s) {bad} in required_irf; choose from {list(IRF_TYPES)}")
    return names


class Observations(list):
    """A list of `Observation` with lookup by id and a summary table.

    Parameters
    ----------
    observations : iterable of Observation, optional
        The observations.
    skipped : dict, optional
        obs_id → reason, for observations left out.

    Attributes
    ----------
    skipped : dict
        obs_id → reason, for observations left out with ``skip_missing=True``.
    """

    def __init__(self, observations=(), skipped=None):
        super().__init__(observations)
        self.skipped = dict(skipped or {})

    @property
    def ids(self) -> list[int]:
        """Observation ids, in list order."""
        return [o.obs_id for o in self]

    def by_id(self, obs_id) -> Observation:
        """The observation with id ``obs_id``.

        Parameters
        ----------
        obs_id : int
            Observation id.

        Returns
        -------
        Observation
            The first observation with that id.

        Raises
        ------
        `~gwidgets.errors.ObservationNotFoundError`
            If none has that id.
        """
        for o in self:
            if o.obs_id == int(obs_id):
                return o
        raise ObservationNotFoundError(obs_id, "this Observations list")

    def __getitem__(self, item):
        result = super().__getitem__(item)
        if isinstance(item, slice):
            return Observations(result)
        return result

    @property
    def livetime(self) -> u.Quantity:
        """Total livetime (s)."""
        return sum((o.livetime for o in self), 0 * u.s)

    def load_all(self, n_threads: int = 2) -> Observations:
        """Load events, GTI and all IRFs of every observation now, ``n_threads`` files at a time.

        Decompression and parsing release the GIL for most of their time, so
        two threads on two cores nearly halve the time.

        Parameters
        ----------
        n_threads : int, optional
            Number of threads; 1 or less loads one observation after the other.

        Returns
        -------
        Observations
            This list.
        """
        if n_threads <= 1:
            for o in self:
                o.load_all()
            return self
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(n_threads) as pool:
            list(pool.map(Observation.load_all, self))
        return self

    def to_table(self) -> Table:
        """One row per observation: OBS_ID, OBJECT, RA_PNT, DEC_PNT (deg), LIVETIME (s), HDUS.

        Returns
        -------
        `~astropy.table.Table`
            The summary (an empty table for an empty list).
        """
        rows = []
        for o in self:
            pnt = o.pointing_radec
            rows.append((o.obs_id, o.target_name, pnt.ra.deg, pnt.dec.deg, o.livetime.to_value("s"),
                         ",".join(sorted(o.available_hdus))))
        t = Table(rows=rows, names=["OBS_ID", "OBJECT", "RA_PNT", "DEC_PNT", "LIVETIME", "HDUS"],
                  dtype=[np.int64, str, float, float, float, str]) if rows else Table()
        if rows:
            t["RA_PNT"].unit = t["DEC_PNT"].unit = u.deg
            t["LIVETIME"].unit = u.s
        return t

    def __repr__(self):
        text = f"Observations({len(self)} observations"
        if len(self):
            text += f", livetime {self.livetime.to_value('h'):.2f} h, ids {self.ids[:5]}{' …' if len(self) > 5 else ''}"
        if self.skipped:
            text += f", {len(self.skipped)} skipped"
        return text + ")"

    def _repr_html_(self):
        return f"<p>{html.escape(repr(self))}</p>" + self.to_table()._repr_html_()
