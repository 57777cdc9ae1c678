"""Small interpolation helpers for table models (no scipy objects kept in models).

Values are interpolated linearly in log (with the same ``tiny`` clipping as
gammapy, so zeros stay zeros) and extrapolated linearly beyond the nodes.
"""
from __future__ import annotations

import numpy as np

__all__ = ["log_values", "exp_values", "interp1d_extrap", "interp2d_extrap"]

_TINY = np.finfo(np.float64).tiny


def log_values(values):
    """Natural log of ``values`` clipped below at a tiny positive number (zeros stay finite).

    Parameters
    ----------
    values : array_like
        Non-negative values (e.g. a table of fluxes).

    Returns
    -------
    numpy.ndarray
        ``log(max(values, tiny))``; `exp_values` inverts it, giving 0 back for the clipped zeros.

    Examples
    --------
    >>> exp_values(log_values([0.0, 2.0])).tolist()
    [0.0, 2.0]
    """
    return np.log(np.clip(np.asarray(values, dtype=float), _TINY, np.inf))


def exp_values(log_v):
    """Inverse of `log_values`: ``exp(log_v)``, with values at the clipping floor returned as exactly 0.

    Parameters
    ----------
    log_v : array_like
        Natural logs, as made by `log_values` (or interpolated between them).

    Returns
    -------
    numpy.ndarray
        The values.
    """
    out = np.exp(log_v)
    return np.where(np.abs(out) - _TINY <= _TINY, 0.0, out)


def _segment(x, xp):
    """Index of the left node of the segment used for ``x`` (ends extrapolate)."""
    idx = np.searchsorted(xp, x, side="right") - 1
    return np.clip(idx, 0, len(xp) - 2)


def interp1d_extrap(x, xp, fp):
    """Piecewise-linear interpolation, linear extrapolation beyond the end nodes.

    A single node gives a constant.
    """
    x = np.asarray(x, dtype=float)
    xp = np.asarray(xp, dtype=float)
    fp = np.asarray(fp, dtype=float)
    if len(xp) == 1:
        return np.broadcast_to(fp[0], x.shape).copy()
    i = _segment(x, xp)
    x0, x1 = xp[i], xp[i + 1]
    f0, f1 = fp[i], fp[i + 1]
    return f0 + (f1 - f0) * (x - x0) / (x1 - x0)


def interp2d_extrap(y, x, yp, xp, fp):
    """Bilinear interpolation of ``fp[len(yp), len(xp)]`` at (y, x) with extrapolation.

    ``y`` is typically a scalar parameter (redshift), ``x`` an array of energies.
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    yp, xp, fp = np.asarray(yp, float), np.asarray(xp, float), np.asarray(fp, float)
    if len(yp) == 1:
        return interp1d_extrap(x, xp, fp[0])
    j = _segment(y, yp)
    ty = (y - yp[j]) / (yp[j + 1] - yp[j])
    row0 = interp1d_extrap(x, xp, fp[j]) if np.ndim(j) == 0 else None
    if row0 is not None:
        row1 = interp1d_extrap(x, xp, fp[j + 1])
        return row0 + (row1 - row0) * ty
    # array y: broadcast rows
    rows0 = np.array([interp1d_extrap(x, xp, fp[k]) for k in np.ravel(j)])
    rows1 = np.array([interp1d_extrap(x, xp, fp[k + 1]) for k in np.ravel(j)])
    return (rows0 + (rows1 - rows0) * np.ravel(ty)[:, None]).reshape(np.shape(j) + x.shape)
