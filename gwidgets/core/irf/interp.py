"""Multilinear interpolation on an IRF's node grid, with gammapy 2.1's conventions.

gammapy interpolates IRFs with ``ScaledRegularGridInterpolator``: scipy's
``RegularGridInterpolator`` (linear, ``fill_value=None``: linear extrapolation
beyond the outer nodes) on the axis centres in each axis' scale (log energy),
values optionally in log (zeros clipped to the data type's ``tiny``),
dimensions with a single node dropped, and the result clipped at 0.

`GridInterpolator` does the same arithmetic (same cell search, same weights,
same order of the corner sum, so values agree to rounding) with plain NumPy,
and one difference that matters for speed: each axis' cell index and weight
are computed on that axis' own, un-broadcast coordinates.  Evaluating an IRF
on an outer grid (``energy[:, None, None]`` × sky pixels) thus costs one cell
search per axis value and a few gathers, not a search per grid point.

>>> import numpy as np
>>> gi = GridInterpolator([np.array([0.0, 1.0])], np.array([1.0, 3.0]))
>>> gi([np.array([0.5, 2.0])])
array([2., 5.])
"""
from __future__ import annotations

from itertools import product

import numpy as np

__all__ = ["GridInterpolator", "scale_coordinate", "log_values", "exp_values"]

_TINY64 = np.finfo(np.float64).tiny


def scale_coordinate(x, interp: str) -> np.ndarray:
    """A coordinate in its axis' interpolation scale (log clips at ``tiny`` first, as gammapy).

    Parameters
    ----------
    x : array-like
        Coordinates, in the axis unit.
    interp : {"log", "lin"}
        Axis scale.

    Returns
    -------
    numpy.ndarray
        ``log(max(x, tiny))`` for log axes, ``x`` as floats otherwise.
    """
    x = np.asarray(x, dtype=float)
    if interp == "log":
        with np.errstate(invalid="ignore"):
            return np.log(np.maximum(x, _TINY64))
    return x


def log_values(values: np.ndarray) -> np.ndarray:
    """Log of IRF values in their own precision, zeros clipped to that type's ``tiny`` (gammapy's LogScale).

    Parameters
    ----------
    values : numpy.ndarray
        Values >= 0 (non-float values use the float32 ``tiny``).

    Returns
    -------
    numpy.ndarray
        Their logarithm, in their float precision.
    """
    values = np.asarray(values)
    tiny = np.finfo(values.dtype).tiny if values.dtype.kind == "f" else np.finfo(np.float32).tiny
    return np.log(np.clip(values, tiny, np.inf))


def exp_values(values: np.ndarray) -> np.ndarray:
    """Inverse of `log_values`: values within ``tiny`` of 0 become exactly 0.

    Parameters
    ----------
    values : numpy.ndarray
        Logarithms of values.

    Returns
    -------
    numpy.ndarray
        ``exp(values)`` as float64, with values below twice the float64 ``tiny`` set to 0.

    Examples
    --------
    >>> exp_values(log_values(np.array([0.0, 2.0])))
    array([0., 2.])
    """
    with np.errstate(over="ignore"):
        out = np.exp(np.asarray(values, dtype=float))
    return np.where(np.abs(out) - _TINY64 <= _TINY64, 0.0, out)


class GridInterpolator:
    """Linear (or nearest-node) interpolation and extrapolation on a regular grid of nodes.

    Dimensions with a single node are ignored: their coordinate is not used.

    Parameters
    ----------
    points : list of 1D arrays
        Node coordinates of each dimension, already in interpolation scale
        (e.g. log energy), increasing.
    values : ndarray
        Values on the grid, shape ``tuple(len(p) for p in points)``, already in
        the values scale (e.g. log).  Kept in their dtype (float32 from files),
        and not copied when C- or Fortran-contiguous (IRF data from FITS files
        are Fortran-ordered views): `values` is then the array given (reshaped
        without its single-node dimensions).
    method : {"linear", "nearest"}
        Multilinear interpolation, or the value of the nearest node.

    Raises
    ------
    ValueError
        For an unknown method, or values whose shape does not match the grid.
    """

    def __init__(self, points, values, method: str = "linear"):
        if method not in ("linear", "nearest"):
            raise ValueError(f"Interpolation method must be 'linear' or 'nearest', got '{method}'")
        self.method = method
        self.keep = [len(p) > 1 for p in points]
        self.grids = [np.asarray(p, dtype=float) for p, k in zip(points, self.keep) if k]
        self._inner = [g[1:-1] for g in self.grids]
        values = np.asarray(values)
        if values.shape != tuple(len(p) for p in points):
            raise ValueError(f"values shape {values.shape} does not match the grid {[len(p) for p in points]}")
        if any(self.keep):
            values = values.reshape([len(g) for g in self.grids])
        # an IRF's data is the transposed view of its FITS cell (Fortran order): used as it is, not copied
        # (a C-ordered copy doubled every IRF in memory); other layouts are copied to C order
        if not (values.flags.c_contiguous or values.flags.f_contiguous):
            values = np.ascontiguousarray(values)
        self.values = values
        self._flat = values.reshape(-1) if values.flags.c_contiguous else values.ravel(order="F")
        self._strides = [s // values.itemsize for s in values.strides]  # element offsets in _flat

    def cells(self, coords):
        """Per kept dimension: (lower node index, weight of the upper node), on un-broadcast coordinates.

        Parameters
        ----------
        coords : list of numpy.ndarray
            One coordinate array per dimension, in interpolation scale (those of
            single-node dimensions are ignored).

        Returns
        -------
        list of tuple
            Per kept dimension, ``(i, w)``: index of the lower node of the cell
            (the outer cells beyond the grid) and weight of its upper node (outside
            [0, 1] when extrapolating), each of the coordinate's own shape.
        """
        out = []
        for grid, inner, x in zip(self.grids, self._inner, (c for c, k in zip(coords, self.keep) if k)):
            # number of interior nodes <= x: the cell index, already within [0, n - 2] (extrapolation)
            i = np.searchsorted(inner, x, side="right")
            lo = grid[i]
            with np.errstate(invalid="ignore"):
                w = (x - lo) / (grid[i + 1] - lo)
            out.append((i, w))
        return out

    def __call__(self, coords, clip: bool = False) -> np.ndarray:
        """Values at ``coords`` (one array per dimension, in interpolation scale; they broadcast).

        The result has the broadcast shape of the coordinates of the kept
        dimensions (a scalar grid gives a 0-d array).  ``clip`` clips at 0.

        Parameters
        ----------
        coords : list of numpy.ndarray
            One coordinate array per dimension, in interpolation scale.
        clip : bool, optional
            Clip the values at 0.

        Returns
        -------
        numpy.ndarray
            The interpolated (or extrapolated) values, as float64.
        """
        if not self.grids:
            return np.asarray(self.values.reshape(()), dtype=float)
        cells = self.cells(coords)
        if self.method == "nearest":
            index = 0
            for (i, w), stride in zip(cells, self._strides):
                index = index + np.where(w <= 0.5, i, i + 1) * stride
            values = self._flat[index].astype(float)
        else:
            values = self._linear(cells)
        if clip:
            values = np.maximum(values, 0.0)
        return values

    def _linear(self, cells):
        base = 0
        for (i, _), stride in zip(cells, self._strides):
            base = base + i * stride
        weights = [(1.0 - w, w) for _, w in cells]
        value = 0.0
        # corner order and products as scipy's RegularGridInterpolator (itertools.product over dims)
        for corner in product((0, 1), repeat=len(cells)):
            offset = sum(c * s for c, s in zip(corner, self._strides))
            weight = 1.0
            for c, (w0, w1) in zip(corner, weights):
                weight = weight * (w1 if c else w0)
            value = value + self._flat[base + offset] * weight
        return np.asarray(value, dtype=float)
