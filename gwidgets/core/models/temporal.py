"""Temporal models: a dimensionless flux norm as a function of time.

``evaluate(time, **params)`` is pure and static on floats: times in MJD
(days, in the model's time ``scale``, default UTC) and ``t_ref`` in MJD.
`TemporalModel.integral` follows gammapy's convention: for intervals
``[t_min_i, t_max_i]`` it returns ``∫ f dt`` over each interval divided by
the *summed* duration of all intervals (so a constant model gives the
fraction of the exposure time in each interval). Integrals here are exact
(analytic, or Gauss-Legendre for smooth profiles), where gammapy uses a
100-point rectangle sum.

Examples
--------
>>> from astropy.time import Time
>>> from gwidgets.core.models import ExpDecayTemporalModel
>>> m = ExpDecayTemporalModel(t0="2 d", t_ref=Time("2020-01-01").mjd)
>>> round(float(m(Time("2020-01-03"))), 6)
0.367879
"""
from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import astropy.units as u
import numpy as np
from astropy.time import Time

from ...errors import FileNotFoundGwError, UnsupportedFormatError
from .core import Model, ParameterDef, register
from .parameter import ParameterError

__all__ = ["TemporalModel", "ConstantTemporalModel", "LinearTemporalModel", "ExpDecayTemporalModel",
           "GaussianTemporalModel", "LightCurveTemplateTemporalModel"]

#: gammapy's default reference time, 2000-01-01 (UTC) in MJD
T_REF_DEFAULT = 51544.0
_GL_X, _GL_W = np.polynomial.legendre.leggauss(32)


def _as_mjd(t, scale) -> float:
    if isinstance(t, Time):
        return float(Time(t, scale=scale).mjd)
    if isinstance(t, u.Quantity):
        return float(t.to_value(u.d))
    return float(t)


def _t_ref(frozen=True):
    return ParameterDef("t_ref", T_REF_DEFAULT, "d", frozen=frozen)


class TemporalModel(Model):
    """Base class: ``scale`` (time scale of the MJD values) + parameters.

    Parameters
    ----------
    scale : str, optional
        Time scale of the MJD values (an `astropy.time.Time` scale, default "utc").
    **kwargs
        Parameter values by name.

    Raises
    ------
    ParameterError
        For an unknown time scale or parameter.
    """

    kind: ClassVar[str] = "temporal"

    def __init__(self, scale="utc", **kwargs):
        if scale not in Time.SCALES:
            raise ParameterError(f"{scale!r} is not a valid time scale; choose from {Time.SCALES}")
        super().__init__(**kwargs)
        self.__dict__["scale"] = scale

    def _mjd(self, time) -> np.ndarray:
        if isinstance(time, Time):
            return np.asarray(Time(time, scale=self.scale).mjd, dtype=float)
        if isinstance(time, u.Quantity):
            return np.asarray(time.to_value(u.d), dtype=float)
        return np.asarray(time, dtype=float)

    @property
    def reference_time(self) -> Time:
        """``t_ref`` as a `~astropy.time.Time` (in ``scale``); settable."""
        return Time(self.t_ref.quantity.to_value(u.d), format="mjd", scale=self.scale)

    @reference_time.setter
    def reference_time(self, t_ref):
        self.t_ref.value = Time(t_ref, scale=self.scale).mjd

    def values(self, mjd):
        """Norm at times given as MJD floats.

        Parameters
        ----------
        mjd : array-like
            Times in MJD, in ``scale``.

        Returns
        -------
        numpy.ndarray
            The dimensionless norm.
        """
        return self.evaluate(np.asarray(mjd, dtype=float), **self.canonical_values())

    def __call__(self, time):
        """Norm at ``time`` (`~astropy.time.Time`, or MJD as float / Quantity).

        Parameters
        ----------
        time : `~astropy.time.Time`, `~astropy.units.Quantity` or array-like
            Times (Quantities and numbers are MJD, in ``scale``).

        Returns
        -------
        numpy.ndarray
            The dimensionless norm.
        """
        return self.values(self._mjd(time))

    def _integral_mjd(self, t0, t1):
        """∫ f dt (days) over [t0, t1]; Gauss-Legendre unless a subclass is exact."""
        t0, t1 = np.asarray(t0, float), np.asarray(t1, float)
        half = 0.5 * (t1 - t0)
        nodes = (0.5 * (t1 + t0))[..., None] + half[..., None] * _GL_X
        return np.sum(self.values(nodes) * _GL_W, axis=-1) * half

    def integral(self, t_min, t_max):
        """∫ f dt over each interval / summed duration of all intervals (gammapy's convention).

        Parameters
        ----------
        t_min, t_max : `~astropy.time.Time`, `~astropy.units.Quantity` or array-like
            Interval bounds (Quantities and numbers are MJD).

        Returns
        -------
        numpy.ndarray
            One value per interval, dimensionless.

        Examples
        --------
        >>> from gwidgets.core.models import ConstantTemporalModel
        >>> ConstantTemporalModel().integral([0.0, 1.0], [1.0, 4.0]).tolist()
        [0.25, 0.75]
        """
        t0, t1 = self._mjd(t_min), self._mjd(t_max)
        return self._integral_mjd(t0, t1) / np.sum(t1 - t0)

    def _extra_to_dict(self):
        return {"scale": self.scale}

    @classmethod
    def _kwargs_from_dict(cls, data):
        return {"scale": data["scale"]} if "scale" in data else {}


@register
class ConstantTemporalModel(TemporalModel):
    """Constant norm 1.

    Parameters
    ----------
    scale : str, optional
        Time scale of the MJD values (default "utc").
    """

    tag = ("ConstantTemporalModel", "const")

    @staticmethod
    def evaluate(time):
        """Norm at ``time``, on floats in MJD.

        Parameters
        ----------
        time : numpy.ndarray
            Times in MJD, in the model's time scale.

        Returns
        -------
        numpy.ndarray
            The dimensionless norm.
        """
        return np.ones(np.shape(time))

    def _integral_mjd(self, t0, t1):
        return np.asarray(t1, float) - np.asarray(t0, float)


@register
class LinearTemporalModel(TemporalModel):
    """``alpha + beta (t − t_ref)``.

    Parameters
    ----------
    alpha : float, str or `~astropy.units.Quantity`, optional
        Norm at ``t_ref``. Default 1.
    beta : float, str or `~astropy.units.Quantity`, optional
        Slope of the norm. Default 0 d-1.
    t_ref : float, str or `~astropy.units.Quantity`, optional
        Reference time (MJD, in the model's time scale). Default 51544 d, frozen.
    scale : str, optional
        Time scale of the MJD values (an `astropy.time.Time` scale, default "utc").
    """

    tag = ("LinearTemporalModel", "linear")
    parameter_defs = (ParameterDef("alpha", 1.0, ""), ParameterDef("beta", 0.0, "d-1"), _t_ref())

    @staticmethod
    def evaluate(time, alpha, beta, t_ref):
        """Norm at ``time``, on floats in MJD.

        Parameters
        ----------
        time : numpy.ndarray
            Times in MJD, in the model's time scale.
        alpha : float
            Norm at ``t_ref``.
        beta : float
            Slope of the norm. In d-1.
        t_ref : float
            Reference time (MJD, in the model's time scale). In d.

        Returns
        -------
        numpy.ndarray
            The dimensionless norm.
        """
        return alpha + beta * (time - t_ref)

    def _integral_mjd(self, t0, t1):
        p = self.canonical_values()
        return p["alpha"] * (t1 - t0) + p["beta"] / 2 * ((t1 - p["t_ref"]) ** 2 - (t0 - p["t_ref"]) ** 2)


@register
class ExpDecayTemporalModel(TemporalModel):
    """``exp(−(t − t_ref) / t0)``.

    Parameters
    ----------
    t0 : float, str or `~astropy.units.Quantity`, optional
        Decay time. Default 1 d.
    t_ref : float, str or `~astropy.units.Quantity`, optional
        Reference time (MJD, in the model's time scale). Default 51544 d, frozen.
    scale : str, optional
        Time scale of the MJD values (an `astropy.time.Time` scale, default "utc").
    """

    tag = ("ExpDecayTemporalModel", "exp-decay")
    parameter_defs = (ParameterDef("t0", 1.0, "d"), _t_ref())

    @staticmethod
    def evaluate(time, t0, t_ref):
        """Norm at ``time``, on floats in MJD.

        Parameters
        ----------
        time : numpy.ndarray
            Times in MJD, in the model's time scale.
        t0 : float
            Decay time. In d.
        t_ref : float
            Reference time (MJD, in the model's time scale). In d.

        Returns
        -------
        numpy.ndarray
            The dimensionless norm.
        """
        return np.exp(-(time - t_ref) / t0)

    def _integral_mjd(self, t0, t1):
        p = self.canonical_values()
        return -p["t0"] * (self.evaluate(t1, **p) - self.evaluate(t0, **p))


@register
class GaussianTemporalModel(TemporalModel):
    """``exp(−(t − t_ref)² / 2σ²)`` (peak 1 at ``t_ref``).

    Parameters
    ----------
    t_ref : float, str or `~astropy.units.Quantity`, optional
        Time of the peak (MJD, in the model's time scale). Default 51544 d.
    sigma : float, str or `~astropy.units.Quantity`, optional
        Width σ. Default 1 d.
    scale : str, optional
        Time scale of the MJD values (an `astropy.time.Time` scale, default "utc").
    """

    tag = ("GaussianTemporalModel", "gauss")
    parameter_defs = (_t_ref(frozen=False), ParameterDef("sigma", 1.0, "d"))

    @staticmethod
    def evaluate(time, t_ref, sigma):
        """Norm at ``time``, on floats in MJD.

        Parameters
        ----------
        time : numpy.ndarray
            Times in MJD, in the model's time scale.
        t_ref : float
            Time of the peak (MJD, in the model's time scale). In d.
        sigma : float
            Width σ. In d.

        Returns
        -------
        numpy.ndarray
            The dimensionless norm.
        """
        return np.exp(-((time - t_ref) ** 2) / (2 * sigma**2))

    def _integral_mjd(self, t0, t1):
        from scipy.special import erf  # here: scipy.special costs ~16 MiB at import

        p = self.canonical_values()
        s = np.sqrt(2) * p["sigma"]
        return np.sqrt(np.pi / 2) * p["sigma"] * (erf((t1 - p["t_ref"]) / s) - erf((t0 - p["t_ref"]) / s))


@register
class LightCurveTemplateTemporalModel(TemporalModel):
    """Tabulated light curve: norms at times, linear interpolation, 0 outside the table.

    Parameters
    ----------
    time : `~astropy.time.Time` or Quantity
        Node times: absolute, or offsets from ``t_ref``.
    values : array
        Norms at the nodes.
    t_ref : `~astropy.time.Time` or float (MJD), optional
        Reference time; default: the first node for absolute times, else 2000-01-01.
    scale : str, optional
        Time scale of the MJD values (default "utc").
    filename : str, optional
        FITS table (TIME, NORM + MJDREFI/MJDREFF/TIMESYS), written in YAML.

    Raises
    ------
    ParameterError
        If the times do not increase or do not match the values in length.
    """

    tag = ("LightCurveTemplateTemporalModel", "template")
    parameter_defs = (_t_ref(),)

    def __init__(self, time, values, t_ref=None, scale="utc", filename=None):
        values = np.asarray(u.Quantity(values).to_value(u.one), dtype=float)
        if isinstance(time, Time):
            mjd = np.atleast_1d(np.asarray(Time(time, scale=scale).mjd, dtype=float))
            ref = mjd[0] if t_ref is None else _as_mjd(t_ref, scale)
            offsets = mjd - ref
        else:
            offsets = np.asarray(u.Quantity(time, u.d).to_value(u.d), dtype=float)
            ref = T_REF_DEFAULT if t_ref is None else _as_mjd(t_ref, scale)
        super().__init__(scale=scale, t_ref=ref)
        offsets = np.atleast_1d(offsets)
        if offsets.shape != values.shape or np.any(np.diff(offsets) <= 0):
            raise ParameterError("LightCurveTemplateTemporalModel: times must increase and match the values in length")
        self.__dict__.update(_offsets=offsets, _norms=values, filename=filename)

    @property
    def time_nodes(self) -> Time:
        """Node times as `~astropy.time.Time` (``t_ref`` + offsets)."""
        return Time(self.t_ref.quantity.to_value(u.d) + self._offsets, format="mjd", scale=self.scale)

    @property
    def norms(self) -> np.ndarray:
        """Norms at the nodes."""
        return self._norms

    def evaluate(self, time, t_ref):
        """Norm at ``time``: linear interpolation, 0 outside the nodes, clipped at 0.

        Parameters
        ----------
        time : array-like
            Times in MJD, in ``scale``.
        t_ref : float
            Reference time in MJD.

        Returns
        -------
        numpy.ndarray
            The dimensionless norm.
        """
        t = np.asarray(time, float) - t_ref
        return np.clip(np.interp(t, self._offsets, self._norms, left=0.0, right=0.0), 0, None)

    def _integral_mjd(self, t0, t1):
        x, f = self._offsets, np.clip(self._norms, 0, None)
        cum = np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(x))])
        ref = self.canonical_values()["t_ref"]

        def primitive(t):
            t = np.clip(np.asarray(t, float) - ref, x[0], x[-1])
            k = np.clip(np.searchsorted(x, t, side="right") - 1, 0, max(len(x) - 2, 0))
            if len(x) == 1:
                return np.zeros_like(t)
            dt = t - x[k]
            slope = (f[k + 1] - f[k]) / (x[k + 1] - x[k])
            return cum[k] + f[k] * dt + 0.5 * slope * dt**2

        return primitive(t1) - primitive(t0)

    def copy(self):
        """A copy with copied parameters (the node arrays are shared, never modified).

        Returns
        -------
        LightCurveTemplateTemporalModel
            The copy.
        """
        new = LightCurveTemplateTemporalModel.__new__(LightCurveTemplateTemporalModel)
        new.__dict__.update(self.__dict__)
        new.__dict__["parameters"] = self.parameters.copy()
        return new

    # ------------------------------------------------------------------ I/O
    @classmethod
    def read(cls, filename, scale="utc"):
        """Read a light-curve table (gammapy's "table" format).

        Parameters
        ----------
        filename : str or Path
            FITS table with TIME (offsets from MJDREFI/MJDREFF, in days unless a
            unit says otherwise) and NORM columns.
        scale : str, optional
            Time scale of the model.

        Returns
        -------
        LightCurveTemplateTemporalModel
            The model (``filename`` set).

        Raises
        ------
        `~gwidgets.errors.FileNotFoundGwError`
            If the file does not exist.
        `~gwidgets.errors.UnsupportedFormatError`
            Without TIME and NORM columns, or for an energy-dependent NORM.
        """
        from astropy.table import Table

        if not Path(filename).exists():
            raise FileNotFoundGwError(filename, referenced_by="LightCurveTemplateTemporalModel")
        table = Table.read(filename)
        names = {c.upper(): c for c in table.colnames}
        if "TIME" not in names or "NORM" not in names:
            raise UnsupportedFormatError(f"'{filename}': a light-curve template needs TIME and NORM columns", filename)
        col = table[names["TIME"]]
        has_time_unit = col.unit is not None and u.Unit(col.unit).is_equivalent(u.d)
        unit = col.unit if has_time_unit else u.Unit(table.meta.get("TIMEUNIT", "d"))
        meta = table.meta
        if "MJDREFI" in meta:
            t_ref = Time(float(meta["MJDREFI"]), float(meta.get("MJDREFF", 0.0)), format="mjd",
                         scale=str(meta.get("TIMESYS", "utc")).lower())
        else:
            t_ref = None
        norm = np.asarray(table[names["NORM"]], float)
        if norm.size != len(col):
            raise UnsupportedFormatError(f"'{filename}': energy-dependent light-curve templates are not supported "
                                         f"(NORM shape {norm.shape})", filename)
        return cls(u.Quantity(np.asarray(col, float), unit), norm.ravel(), t_ref=t_ref, scale=scale,
                   filename=str(filename))

    def write(self, filename=None, overwrite=False):
        """Write as a FITS table TIME [d], NORM with the reference time in MJDREFI/MJDREFF/TIMESYS.

        Parameters
        ----------
        filename : str or Path, optional
            Output file (it becomes the model's ``filename``); default the model's.
        overwrite : bool, optional
            Replace an existing file.

        Raises
        ------
        ParameterError
            If there is no file name.
        """
        from astropy.table import Table

        if filename is not None:
            self.__dict__["filename"] = str(filename)
        if self.filename is None:
            raise ParameterError("LightCurveTemplateTemporalModel.write: no filename given")
        mjd = self.t_ref.quantity.to_value(u.d)
        i = int(np.floor(mjd))
        table = Table({"TIME": u.Quantity(self._offsets, u.d), "NORM": self._norms},
                      meta={"MJDREFI": i, "MJDREFF": mjd - i, "TIMESYS": self.scale})
        table.write(self.filename, overwrite=overwrite)

    def _extra_to_dict(self):
        out = {"scale": self.scale}
        if self.filename is not None:
            out.update(filename=str(self.filename), format="table", unit="")
        else:  # gwidgets extension: the table inline (gammapy needs a file)
            out.update(time={"data": [float(t) for t in self._offsets], "unit": "d"},
                       values=[float(v) for v in self._norms])
        return out

    @classmethod
    def from_dict(cls, data):
        """Build from a YAML entry: a ``filename`` (gammapy's "table" format) or our inline ``time`` + ``values``.

        ``data``: the model entry, as in `Model.from_dict`.

        Returns
        -------
        LightCurveTemplateTemporalModel
            The model.

        Raises
        ------
        `~gwidgets.errors.UnsupportedFormatError`
            For a file format other than "table".
        ParameterError
            Without ``filename`` or ``time`` + ``values``.
        """
        data = cls.unwrap_entry(data)
        scale = data.get("scale", "utc")
        pars = cls._parameters_from_dict(data)
        if "filename" in data:
            if data.get("format", "table") != "table":
                raise UnsupportedFormatError(f"Light-curve template format '{data['format']}' is not supported",
                                             data["filename"])
            return cls.read(data["filename"], scale=scale)
        if "time" not in data or "values" not in data:
            raise ParameterError("LightCurveTemplateTemporalModel: YAML entry needs 'filename' or 'time' + 'values'")
        t = data["time"]
        time = u.Quantity(t["data"], t.get("unit", "d")) if isinstance(t, dict) else u.Quantity(t, u.d)
        t_ref = pars["t_ref"].quantity.to_value(u.d) if "t_ref" in pars else None
        return cls(time, data["values"], t_ref=t_ref, scale=scale)
