"""Binned axes (energy, true energy, offset, migration, …) with units.

Examples
--------
>>> import astropy.units as u
>>> from gwidgets.core.geom import MapAxis
>>> e = MapAxis.from_energy_bounds(0.1 * u.TeV, 100 * u.TeV, nbin=5, per_decade=True)
>>> e.nbin, e.name
(15, 'energy')
>>> MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=2, name="energy_true").center
<Quantity [1.77827941, 5.62341325] TeV>
"""
from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.table import Table

from ...errors import GwidgetsError

__all__ = ["MapAxis"]


class MapAxis:
    """A binned axis: edges with a unit, a name and an interpolation scale.

    Parameters
    ----------
    edges : Quantity or array
        Bin edges, increasing.
    name : str
        ``"energy"`` (reconstructed), ``"energy_true"``, ``"offset"``,
        ``"migra"``, ``"rad"``, … — names follow gammapy's.
    interp : {"log", "lin"}
        Scale of centres and interpolation (``"log"``: geometric centres);
        default ``"log"`` for names starting with ``energy``, else ``"lin"``.
    unit : str or `~astropy.units.Unit`, optional
        Unit of ``edges`` (converted to it if ``edges`` is a Quantity).

    Raises
    ------
    `~gwidgets.errors.GwidgetsError`
        For fewer than two edges, edges that do not increase strictly, an
        unknown ``interp``, or a log axis with an edge <= 0.
    """

    def __init__(self, edges, name: str = "energy", interp: str | None = None, unit=None):
        q = u.Quantity(edges, unit) if unit is not None else u.Quantity(edges)
        values = np.asarray(q.value, dtype=float)
        if values.ndim != 1 or len(values) < 2:
            raise GwidgetsError(f"Axis '{name}' needs at least two edges, got {values.shape}")
        if not np.all(np.diff(values) > 0):
            raise GwidgetsError(f"Axis '{name}': edges must increase strictly")
        self._edges = values
        self.unit = q.unit
        self.name = name
        if interp is None:
            interp = "log" if name.startswith("energy") else "lin"
        if interp not in ("log", "lin"):
            raise GwidgetsError(f"Axis '{name}': interp must be 'log' or 'lin', got '{interp}'")
        if interp == "log" and values[0] <= 0:
            raise GwidgetsError(f"Axis '{name}': a log axis needs positive edges")
        self.interp = interp
        self._nodes = None  # set for axes defined by their bin centres (from_nodes)

    # ------------------------------------------------------------ factories
    @classmethod
    def from_nodes(cls, nodes, name: str = "offset", interp: str | None = None, unit=None):
        """Axis defined by bin centres (as GADF IRF axes with equal _LO/_HI columns).

        Edges are half-way between nodes (in log for log axes), the outer ones
        extrapolated by half a spacing; ``center`` returns the nodes exactly.

        Parameters
        ----------
        nodes : `~astropy.units.Quantity` or array-like
            Increasing bin centres.
        name : str, optional
            Axis name.
        interp : {"log", "lin"}, optional
            Axis scale (default as for the constructor).
        unit : str or `~astropy.units.Unit`, optional
            Unit of ``nodes``.

        Returns
        -------
        MapAxis
            The axis.

        Examples
        --------
        >>> MapAxis.from_nodes([0.0, 0.5, 1.0], unit="deg").edges
        <Quantity [-0.25,  0.25,  0.75,  1.25] deg>
        """
        q = u.Quantity(nodes, unit) if unit is not None else u.Quantity(nodes)
        x = np.asarray(q.value, dtype=float)
        if interp is None:
            interp = "log" if name.startswith("energy") else "lin"
        if len(x) == 1:
            edges = np.array([x[0] * 0.5, x[0] * 1.5]) if interp == "log" else np.array([x[0] - 0.5, x[0] + 0.5])
        else:
            t = np.log(x) if interp == "log" else x
            inner = 0.5 * (t[1:] + t[:-1])
            edges = np.concatenate([[t[0] - (inner[0] - t[0])], inner, [t[-1] + (t[-1] - inner[-1])]])
            edges = np.exp(edges) if interp == "log" else edges
        axis = cls(edges * q.unit, name=name, interp=interp)
        axis._nodes = x
        return axis
    @classmethod
    def from_energy_bounds(cls, e_min, e_max, nbin: int, unit=None, per_decade: bool = False, name: str = "energy"):
        """Log-spaced energy axis; ``nbin`` bins in total, or per decade.

        Parameters
        ----------
        e_min, e_max : `~astropy.units.Quantity` or str
            Energy range (``"1 TeV"`` strings are accepted).
        nbin : int
            Number of bins, or of bins per decade with ``per_decade`` (rounded up).
        unit : str or `~astropy.units.Unit`, optional
            Unit of the axis; default that of ``e_min``.
        per_decade : bool, optional
            Read ``nbin`` per decade.
        name : str, optional
            Axis name (``"energy"`` or ``"energy_true"``).

        Returns
        -------
        MapAxis
            A log axis.

        Raises
        ------
        `~gwidgets.errors.GwidgetsError`
            Unless ``0 < e_min < e_max``.
        """
        e_min = u.Quantity(e_min, unit)
        e_max = u.Quantity(e_max, unit)
        unit = unit or e_min.unit
        lo, hi = e_min.to_value(unit), e_max.to_value(unit)
        if not (0 < lo < hi):
            raise GwidgetsError(f"Energy axis '{name}': need 0 < e_min < e_max, got {e_min}, {e_max}")
        n = int(np.ceil(np.log10(hi / lo) * nbin)) if per_decade else int(nbin)
        return cls(np.geomspace(lo, hi, n + 1) * u.Unit(unit), name=name, interp="log")

    @classmethod
    def from_energy_edges(cls, edges, unit=None, name: str = "energy"):
        """Log-scale energy axis with the given edges.

        Parameters
        ----------
        edges : `~astropy.units.Quantity` or array-like
            Increasing, positive edges.
        unit : str or `~astropy.units.Unit`, optional
            Unit of ``edges``.
        name : str, optional
            Axis name.

        Returns
        -------
        MapAxis
            The axis.
        """
        return cls(u.Quantity(edges, unit), name=name, interp="log")

    @classmethod
    def from_bounds(cls, lo, hi, nbin: int, unit="", name: str = "offset", interp: str = "lin"):
        """Axis of ``nbin`` equal bins (in its scale) between ``lo`` and ``hi``.

        Parameters
        ----------
        lo, hi : `~astropy.units.Quantity` or float
            Range of the axis.
        nbin : int
            Number of bins.
        unit : str or `~astropy.units.Unit`, optional
            Unit of the axis, dimensionless by default: give it also for Quantity bounds (converted to it),
            whose values are otherwise taken as dimensionless.
        name : str, optional
            Axis name.
        interp : {"lin", "log"}, optional
            Spacing of the edges.

        Returns
        -------
        MapAxis
            The axis.

        Examples
        --------
        >>> MapAxis.from_bounds(0, 2, nbin=4, unit="deg").center
        <Quantity [0.25, 0.75, 1.25, 1.75] deg>
        """
        lo = u.Quantity(lo, unit).value if not isinstance(lo, u.Quantity) else lo.to_value(unit or lo.unit)
        hi = u.Quantity(hi, unit).value if not isinstance(hi, u.Quantity) else hi.to_value(unit or hi.unit)
        edges = np.geomspace(lo, hi, nbin + 1) if interp == "log" else np.linspace(lo, hi, nbin + 1)
        return cls(edges * u.Unit(unit), name=name, interp=interp)

    # ----------------------------------------------------------- properties
    @property
    def edges(self) -> u.Quantity:
        """Bin edges, shape ``(nbin + 1,)``."""
        return u.Quantity(self._edges, self.unit)

    @property
    def edges_min(self) -> u.Quantity:
        """Lower bin edges."""
        return self.edges[:-1]

    @property
    def edges_max(self) -> u.Quantity:
        """Upper bin edges."""
        return self.edges[1:]

    @property
    def center(self) -> u.Quantity:
        """Bin centres: the nodes of an axis built from nodes, else geometric (log) or arithmetic (lin) means."""
        if self._nodes is not None:
            return u.Quantity(self._nodes, self.unit)
        e = self._edges
        c = np.sqrt(e[:-1] * e[1:]) if self.interp == "log" else 0.5 * (e[:-1] + e[1:])
        return u.Quantity(c, self.unit)

    @property
    def bin_width(self) -> u.Quantity:
        """Bin widths."""
        return u.Quantity(np.diff(self._edges), self.unit)

    @property
    def nbin(self) -> int:
        """Number of bins."""
        return len(self._edges) - 1

    def __len__(self):
        return self.nbin

    @property
    def bounds(self) -> u.Quantity:
        """First and last edge."""
        return self.edges[[0, -1]]

    def edges_in(self, unit) -> np.ndarray:
        """Edges as floats in ``unit`` (the fast path).

        Parameters
        ----------
        unit : str or `~astropy.units.Unit`
            Target unit.

        Returns
        -------
        numpy.ndarray
            The edges, shape ``(nbin + 1,)``.
        """
        return self.edges.to_value(unit)

    # ------------------------------------------------------------ indexing
    def coord_to_idx(self, coord, clip: bool = False) -> np.ndarray:
        """Bin index of each coordinate (-1 outside the axis unless ``clip``).

        The last edge belongs to the last bin.

        Parameters
        ----------
        coord : `~astropy.units.Quantity` or array-like
            Coordinates (numbers are in the axis unit).
        clip : bool, optional
            Give the nearest bin instead of -1 outside.

        Returns
        -------
        numpy.ndarray
            Integer bin indices, of the shape of ``coord``.
        """
        x = u.Quantity(coord, self.unit).to_value(self.unit)
        idx = np.searchsorted(self._edges, x, side="right") - 1
        # the last edge belongs to the last bin
        idx = np.where(x == self._edges[-1], self.nbin - 1, idx)
        if clip:
            return np.clip(idx, 0, self.nbin - 1)
        return np.where((idx < 0) | (idx >= self.nbin), -1, idx)

    def slice(self, sl: slice) -> MapAxis:
        """The axis restricted to the bins ``sl`` selects (step ignored).

        Parameters
        ----------
        sl : slice
            Bin range.

        Returns
        -------
        MapAxis
            The sub-axis.
        """
        start, stop, _ = sl.indices(self.nbin)
        return MapAxis(self.edges[start : stop + 1], name=self.name, interp=self.interp)

    def squash(self) -> MapAxis:
        """One bin covering the whole axis.

        Returns
        -------
        MapAxis
            One bin from the first to the last edge.
        """
        return MapAxis(self.bounds, name=self.name, interp=self.interp)

    def copy(self, **kwargs) -> MapAxis:
        """A copy, with the constructor arguments in ``kwargs`` replaced.

        Parameters
        ----------
        **kwargs
            ``edges``, ``name``, ``interp`` or ``unit``.

        Returns
        -------
        MapAxis
            The new axis.
        """
        kw = dict(edges=self.edges, name=self.name, interp=self.interp)
        kw.update(kwargs)
        return MapAxis(**kw)

    def is_allclose(self, other: MapAxis, rtol: float = 1e-6) -> bool:
        """Whether ``other`` has the same bins (to ``rtol``) in an equivalent unit; names are not compared.

        Parameters
        ----------
        other : MapAxis
            The axis to compare (anything else gives False).
        rtol : float, optional
            Relative tolerance on the edges.

        Returns
        -------
        bool
            True if the edges agree.
        """
        return (
            isinstance(other, MapAxis)
            and self.nbin == other.nbin
            and self.unit.is_equivalent(other.unit)
            and np.allclose(self._edges, other.edges.to_value(self.unit), rtol=rtol, atol=0)
        )

    def __eq__(self, other):
        return self.is_allclose(other) and self.name == other.name

    def __hash__(self):
        return hash((self.name, self.nbin, float(self._edges[0]), float(self._edges[-1])))

    # ------------------------------------------------------------------ I/O
    def _colnames(self):
        if self.name == "energy":
            return "ENERGY", "E_MIN", "E_MAX"
        n = self.name.upper()
        return n, n + "_MIN", n + "_MAX"

    def to_bands_columns(self, table: Table, idx: np.ndarray):
        """Add this axis' columns (gammapy's "gadf" BANDS layout) for bin indices ``idx``.

        Parameters
        ----------
        table : `~astropy.table.Table`
            Table to add the centre, min and max columns to (``ENERGY``, ``E_MIN``,
            ``E_MAX`` for ``energy``, else ``<NAME>``, ``<NAME>_MIN``, ``<NAME>_MAX``).
        idx : numpy.ndarray
            Bin index of each row.
        """
        c, lo, hi = self._colnames()
        table[c] = self.center[idx]
        table[lo] = self.edges_min[idx]
        table[hi] = self.edges_max[idx]

    @classmethod
    def from_bands_columns(cls, table, colnames: list[str], interp: str) -> MapAxis:
        """Axis from the min / max columns of a "gadf" BANDS table.

        Parameters
        ----------
        table : `~astropy.table.Table`
            The BANDS table.
        colnames : list of str
            Names of the min and max columns (e.g. ``["E_MIN", "E_MAX"]``).
        interp : {"log", "lin"}
            Axis scale.

        Returns
        -------
        MapAxis
            The axis (named ``energy`` for ``E_MIN``, else after the column stem, lower case).
        """
        lo, hi = colnames
        lo_v = np.unique(u.Quantity(table[lo]))
        hi_v = np.unique(u.Quantity(table[hi]))
        edges = np.unique(np.concatenate([lo_v.value, hi_v.to_value(lo_v.unit)])) * lo_v.unit
        name = "energy" if lo == "E_MIN" else lo[: -len("_MIN")].lower()
        return cls(edges, name=name, interp=interp)

    def __repr__(self):
        e = self._edges
        return (f"MapAxis(name='{self.name}', nbin={self.nbin}, {e[0]:.4g}–{e[-1]:.4g} {self.unit}, "
                f"interp='{self.interp}')")
