"""Binned axes of tabulated IRFs (energy, offset, migra, rad, field-of-view coordinates).

`IRFAxis` is a small, fast axis: IRF files are read by the hundred, so an axis
is built from two float arrays without Quantity arithmetic.  It offers the
attributes of `gwidgets.core.geom.MapAxis` that IRF users need (``edges``,
``center``, ``nbin``, ``bounds``, ``edges_min``/``edges_max``, ``unit``,
``name``, ``interp``) and converts to one with `IRFAxis.to_map_axis`.

Like gammapy's, an axis is defined either by its bin edges, or — when a GADF
file gives equal ``_LO`` and ``_HI`` columns — by nodes (bin centres): then
the edges lie half-way between nodes (in log for energy axes) and half a
spacing beyond the outer ones.

Examples
--------
>>> import numpy as np
>>> ax = IRFAxis(np.geomspace(0.1, 100, 4), "energy_true", unit="TeV")
>>> ax
IRFAxis('energy_true', 3 bins, 0.1–100 TeV, log)
>>> ax.center.to_value("TeV").round(4).tolist()
[0.3162, 3.1623, 31.6228]
>>> IRFAxis.from_nodes([0.0, 0.5, 1.0], "offset", unit="deg").edges
<Quantity [-0.25,  0.25,  0.75,  1.25] deg>
"""
from __future__ import annotations

import astropy.units as u
import numpy as np

__all__ = ["IRFAxis", "AXIS_UNITS", "AXIS_INTERP"]

#: canonical unit of each axis name (values are stored in it)
AXIS_UNITS = {
    "energy_true": u.TeV, "energy": u.TeV, "offset": u.deg, "migra": u.one,
    "rad": u.deg, "fov_lon": u.deg, "fov_lat": u.deg,
}
#: interpolation scale of each axis name (as gammapy's IRF_DL3_AXES_SPECIFICATION)
AXIS_INTERP = {"energy_true": "log", "energy": "log"}


class IRFAxis:
    """A binned IRF axis.

    Parameters
    ----------
    edges : array or Quantity
        Increasing bin edges.
    name : str
        Axis name: ``energy_true``, ``energy``, ``offset``, ``migra``, ``rad``,
        ``fov_lon`` or ``fov_lat`` (any other name is accepted).
    interp : {"log", "lin"}, optional
        Scale of bin centres and of the interpolation; default ``log`` for
        energy axes, ``lin`` otherwise.
    unit : str or Unit, optional
        Unit of ``edges`` when it is not a Quantity.
    """

    def __init__(self, edges, name: str, interp: str | None = None, unit=None):
        values, unit = _values_unit(edges, unit)
        if values.ndim != 1 or len(values) < 2:
            raise ValueError(f"IRF axis '{name}' needs at least two edges, got shape {values.shape}")
        if not np.all(np.diff(values) > 0):
            raise ValueError(f"IRF axis '{name}': edges must increase strictly")
        interp = interp or AXIS_INTERP.get(name, "lin")
        if interp == "log" and values[0] <= 0:
            raise ValueError(f"IRF axis '{name}': a log axis needs positive edges")
        self._init(values, unit, name, interp, None)

    def _init(self, edges, unit, name, interp, nodes):
        self._edges = edges
        self._nodes = nodes
        self.unit = unit
        self.name = name
        self.interp = interp
        return self

    @classmethod
    def _fast(cls, edges, unit, name, interp, nodes=None) -> IRFAxis:
        """Build without validation (for readers that have checked the values)."""
        return cls.__new__(cls)._init(edges, unit, name, interp, nodes)

    @classmethod
    def from_nodes(cls, nodes, name: str, interp: str | None = None, unit=None) -> IRFAxis:
        """Axis defined by its bin centres (GADF columns with ``_LO == _HI``).

        The edges lie half-way between nodes (in the axis scale) and half a
        spacing beyond the outer ones (see `edges_from_nodes`).

        Parameters
        ----------
        nodes : array-like or `~astropy.units.Quantity`
            Increasing bin centres.
        name : str
            Axis name.
        interp : {"log", "lin"}, optional
            Axis scale; default ``log`` for energy axes, ``lin`` otherwise.
        unit : str or `~astropy.units.Unit`, optional
            Unit of ``nodes`` when it is not a Quantity.

        Returns
        -------
        IRFAxis
            The axis (``node_type == "center"``).

        Raises
        ------
        ValueError
            If the nodes do not increase, or a log axis has a node <= 0.
        """
        x, unit = _values_unit(nodes, unit)
        x = np.atleast_1d(x)
        interp = interp or AXIS_INTERP.get(name, "lin")
        if len(x) > 1 and not np.all(np.diff(x) > 0):
            raise ValueError(f"IRF axis '{name}': nodes must increase strictly")
        if interp == "log" and x[0] <= 0:
            raise ValueError(f"IRF axis '{name}': a log axis needs positive nodes")
        return cls._fast(edges_from_nodes(x, interp), unit, name, interp, x)

    @classmethod
    def coerce(cls, axis) -> IRFAxis:
        """An `IRFAxis` from an `IRFAxis` or an axis like `~gwidgets.core.geom.axes.MapAxis` (``edges``, ``name``).

        Parameters
        ----------
        axis : IRFAxis or `~gwidgets.core.geom.MapAxis`
            The axis; an `IRFAxis` is returned as is.

        Returns
        -------
        IRFAxis
            The axis (defined by nodes if ``axis`` is).
        """
        if isinstance(axis, IRFAxis):
            return axis
        nodes = getattr(axis, "_nodes", None)
        if nodes is not None:
            return cls.from_nodes(u.Quantity(nodes, axis.unit), axis.name, axis.interp)
        return cls(axis.edges, axis.name, getattr(axis, "interp", None))

    # ----------------------------------------------------------- properties
    @property
    def node_type(self) -> str:
        """``"edges"`` or ``"center"`` (axis defined by nodes)."""
        return "edges" if self._nodes is None else "center"

    @property
    def nbin(self) -> int:
        """Number of bins."""
        return len(self._edges) - 1

    def __len__(self):
        return self.nbin

    @property
    def edges(self) -> u.Quantity:
        """Bin edges, shape ``(nbin + 1,)``, in ``unit``."""
        return u.Quantity(self._edges, self.unit, copy=None)

    @property
    def edges_min(self) -> u.Quantity:
        """Lower bin edges, in ``unit``."""
        return self.edges[:-1]

    @property
    def edges_max(self) -> u.Quantity:
        """Upper bin edges, in ``unit``."""
        return self.edges[1:]

    @property
    def bounds(self) -> u.Quantity:
        """First and last edge, in ``unit``."""
        return self.edges[[0, -1]]

    @property
    def bin_width(self) -> u.Quantity:
        """Bin widths, in ``unit``."""
        return u.Quantity(np.diff(self._edges), self.unit, copy=None)

    @property
    def center_values(self) -> np.ndarray:
        """Bin centres as floats in ``unit`` (geometric means for log axes; the nodes if defined by nodes)."""
        if self._nodes is not None:
            return self._nodes
        return np.exp(self.scaled_centers) if self.interp == "log" else self.scaled_centers

    @property
    def scaled_centers(self) -> np.ndarray:
        """Bin centres in interpolation scale (log of the centre for log axes): the interpolation nodes."""
        if self._nodes is not None:
            return np.log(self._nodes) if self.interp == "log" else self._nodes
        e = np.log(self._edges) if self.interp == "log" else self._edges
        return e[:-1] + 0.5 * (e[1:] - e[:-1])

    @property
    def center(self) -> u.Quantity:
        """Bin centres in ``unit`` (see `center_values`)."""
        return u.Quantity(self.center_values, self.unit, copy=None)

    def edges_in(self, unit) -> np.ndarray:
        """Edges as floats in ``unit``.

        Parameters
        ----------
        unit : str or `~astropy.units.Unit`
            Target unit, equivalent to ``unit``.

        Returns
        -------
        numpy.ndarray
            The edges, shape ``(nbin + 1,)``.
        """
        return self.edges.to_value(unit)

    # ------------------------------------------------------------- methods
    def coord_to_idx(self, coord, clip: bool = False) -> np.ndarray:
        """Bin index of each coordinate; -1 outside (the upper edge belongs to the last bin).

        Parameters
        ----------
        coord : `~astropy.units.Quantity` or array-like
            Coordinates (plain numbers are in the axis unit).
        clip : bool, optional
            Give the nearest bin (0 or ``nbin - 1``) instead of -1 outside the axis.

        Returns
        -------
        numpy.ndarray
            Integer bin indices, of the shape of ``coord``; -1 outside (and for NaN) unless ``clip``.

        Examples
        --------
        >>> import astropy.units as u
        >>> IRFAxis([0.1, 1, 10, 100], "energy_true", unit="TeV").coord_to_idx([0.05, 0.1, 5, 100] * u.TeV)
        array([-1,  0,  1,  2])
        """
        x = np.asarray(u.Quantity(coord, self.unit).to_value(self.unit), dtype=float)
        idx = np.searchsorted(self._edges, x, side="right") - 1
        idx = np.where(x == self._edges[-1], self.nbin - 1, idx)
        if clip:
            return np.clip(idx, 0, self.nbin - 1)
        return np.where((idx < 0) | (idx >= self.nbin) | ~np.isfinite(x), -1, idx)

    def copy(self, name: str | None = None) -> IRFAxis:
        """A copy, renamed if ``name`` is given.

        Parameters
        ----------
        name : str, optional
            New axis name (the scale is kept, whatever the name).

        Returns
        -------
        IRFAxis
            The copy (sharing the edge array, which is never modified).
        """
        return IRFAxis._fast(self._edges, self.unit, name or self.name, self.interp, self._nodes)

    def squash(self) -> IRFAxis:
        """One bin spanning the whole axis.

        Returns
        -------
        IRFAxis
            An axis with the edges ``[first, last]``.
        """
        return IRFAxis._fast(self._edges[[0, -1]], self.unit, self.name, self.interp)

    def to_map_axis(self):
        """The same axis as a `gwidgets.core.geom.MapAxis`.

        Returns
        -------
        `~gwidgets.core.geom.MapAxis`
            Same name, edges (or nodes) and scale.
        """
        from ..geom import MapAxis

        if self._nodes is not None:
            return MapAxis.from_nodes(self.center, name=self.name, interp=self.interp)
        return MapAxis(self.edges, name=self.name, interp=self.interp)

    def is_allclose(self, other, rtol: float = 1e-6) -> bool:
        """Whether ``other`` has the same bins (to ``rtol``) in an equivalent unit; names are not compared.

        Parameters
        ----------
        other : IRFAxis or `~gwidgets.core.geom.MapAxis`
            The axis to compare; anything that is not an axis gives False.
        rtol : float, optional
            Relative tolerance on the edges.

        Returns
        -------
        bool
            True if the axes have the same number of bins and edges.
        """
        try:
            other = IRFAxis.coerce(other)
        except (AttributeError, ValueError, TypeError):
            return False
        return (
            self.nbin == other.nbin
            and self.unit.is_equivalent(other.unit)
            and np.allclose(self._edges, other.edges.to_value(self.unit), rtol=rtol, atol=0)
        )

    def __eq__(self, other):
        return isinstance(other, IRFAxis) and self.name == other.name and self.is_allclose(other)

    def __hash__(self):
        return hash((self.name, self.nbin, float(self._edges[0]), float(self._edges[-1])))

    def __repr__(self):
        unit = f" {self.unit}" if self.unit != u.one else ""
        nodes = ", nodes" if self._nodes is not None else ""
        return (f"IRFAxis('{self.name}', {self.nbin} bins, {self._edges[0]:.4g}–{self._edges[-1]:.4g}{unit}, "
                f"{self.interp}{nodes})")


def edges_from_nodes(nodes: np.ndarray, interp: str) -> np.ndarray:
    """Edges half-way between nodes (in the axis scale), the outer ones half a spacing out (as gammapy).

    A single node ``x`` gives the edges ``[x/2, 3x/2]`` (log) or ``[x - 0.5, x + 0.5]`` (lin).

    Parameters
    ----------
    nodes : numpy.ndarray
        Increasing bin centres.
    interp : {"log", "lin"}
        Axis scale.

    Returns
    -------
    numpy.ndarray
        The edges, one more than the nodes.

    Examples
    --------
    >>> edges_from_nodes(np.array([1.0, 10.0, 100.0]), "log").round(3).tolist()
    [0.316, 3.162, 31.623, 316.228]
    """
    x = np.asarray(nodes, dtype=float)
    log = interp == "log"
    if len(x) == 1:
        return np.array([x[0] * 0.5, x[0] * 1.5]) if log else np.array([x[0] - 0.5, x[0] + 0.5])
    t = np.log(x) if log else x
    edges = np.empty(len(t) + 1)
    step = t[1:] - t[:-1]
    edges[1:-1] = t[:-1] + 0.5 * step
    edges[0] = t[0] - 0.5 * step[0]
    edges[-1] = t[-1] + 0.5 * step[-1]
    return np.exp(edges, out=edges) if log else edges


def _values_unit(values, unit):
    if isinstance(values, u.Quantity):
        if unit is not None:
            values = values.to(unit)
        return np.asarray(values.value, dtype=float), values.unit
    return np.asarray(values, dtype=float), u.Unit(unit) if unit is not None else u.one
