"""Table spectral models: a tabulated spectrum and a tabulated absorption.

`TemplateSpectral` interpolates a table of (energy, dN/dE) linearly in
log-log (extrapolating the end segments, as gammapy) and scales it by a
``norm`` parameter; its integrals are exact (piecewise power laws).

`EBLAbsorption` is the absorption hook: a table of transmissions
``exp(-tau(E))`` — optionally on a grid of redshifts — raised to the power
``alpha_norm``. Multiply a spectrum by it (``pl * absorption``) to get an
absorbed spectrum. No EBL data are bundled; give your own table, build one
from optical depths with `EBLAbsorption.from_tau`, or read an XSPEC-format
table (the format of the EBL files distributed with gammapy) with
`EBLAbsorption.read`.

Examples
--------
>>> import numpy as np, astropy.units as u
>>> from gwidgets.core.models import PowerLaw, EBLAbsorption
>>> absorption = EBLAbsorption.from_tau([0.1, 1, 10] * u.TeV, tau=[0.01, 0.5, 4.0])
>>> absorbed = PowerLaw() * absorption
>>> round(float(absorbed.dnde_values(1.0) / PowerLaw().dnde_values(1.0)), 4)
0.6065
"""
from __future__ import annotations

import astropy.units as u
import numpy as np

from ...errors import UnsupportedFormatError
from ._interp import exp_values, interp1d_extrap, interp2d_extrap, log_values
from .core import ParameterDef, register
from .parameter import ParameterError
from .spectral_base import SpectralModel

__all__ = ["TemplateSpectral", "EBLAbsorption"]

_DNDE = u.Unit("cm-2 s-1 TeV-1")


def _quantity_dict(q) -> dict:
    q = u.Quantity(q)
    return {"data": [float(v) for v in np.ravel(q.value)] if q.ndim <= 1 else q.value.tolist(),
            "unit": q.unit.to_string() if q.unit != u.one else ""}


def _quantity_from(d, what) -> u.Quantity:
    if not isinstance(d, dict) or "data" not in d:
        raise ParameterError(f"Template model: '{what}' must be a mapping with 'data' and 'unit'")
    return u.Quantity(np.asarray(d["data"], dtype=float), d.get("unit", "") or "")


@register
class TemplateSpectral(SpectralModel):
    """Tabulated spectrum × ``norm``; log-log interpolation, linear extrapolation in log-log.

    Parameters
    ----------
    energy : Quantity
        Node energies (strictly increasing).
    values : Quantity
        dN/dE at the nodes (or dimensionless values: the model is then a norm model).
    norm : float
        Scale factor (a gwidgets parameter; gammapy's template has none).
    meta : dict, optional
        Metadata kept with the model.

    Raises
    ------
    ParameterError
        If the arrays are not 1D of equal length, the energies do not increase,
        or the values are neither dN/dE nor dimensionless.
    """

    tag = ("TemplateSpectralModel", "template")
    parameter_defs = (ParameterDef("norm", 1.0, "", is_norm=True, interp="log"),)

    def __init__(self, energy, values, norm=None, meta=None):
        super().__init__(norm=norm)
        energy = u.Quantity(energy)
        values = u.Quantity(values)
        if energy.ndim != 1 or energy.shape != values.shape or len(energy) < 1:
            raise ParameterError(f"TemplateSpectral: energy {energy.shape} and values {values.shape} "
                                 "must be 1D of equal length")
        e_tev = energy.to_value("TeV")
        if np.any(np.diff(e_tev) <= 0):
            raise ParameterError("TemplateSpectral: energies must be strictly increasing")
        unit = u.one if values.unit.is_equivalent(u.one) else _DNDE
        try:
            v = values.to_value(unit)
        except u.UnitConversionError:
            raise ParameterError(f"TemplateSpectral: values unit '{values.unit}' is neither dN/dE "
                                 "nor dimensionless") from None
        self.energy, self.values, self.meta = energy, values, dict(meta or {})
        self._value_unit = unit
        self._log_e = np.log(e_tev)
        self._log_v = log_values(v)

    def evaluate(self, energy, norm):
        """``norm`` × the table interpolated linearly in log-log at ``energy`` (clipped at 0).

        Parameters
        ----------
        energy : array-like
            Energies in TeV.
        norm : float
            Scale factor.

        Returns
        -------
        numpy.ndarray
            dN/dE in cm-2 s-1 TeV-1 (dimensionless for a norm template).
        """
        log_e = np.log(np.asarray(energy, dtype=float))
        return norm * np.clip(exp_values(interp1d_extrap(log_e, self._log_e, self._log_v)), 0, None)

    def breakpoints(self):
        """The node energies, where numerical integration splits.

        Returns
        -------
        numpy.ndarray
            Energies in TeV.
        """
        return np.exp(self._log_e)

    def _piecewise(self, e_min, e_max, power, norm):
        """∫ E^power · f(E) dE exactly, f a piecewise power law (log-log linear)."""
        e_min = np.asarray(e_min, dtype=float)[..., None]
        e_max = np.asarray(e_max, dtype=float)[..., None]
        lx, ly = self._log_e, self._log_v
        if len(lx) == 1:
            a, b = e_min[..., 0], e_max[..., 0]
            return norm * np.exp(ly[0]) * (b ** (power + 1) - a ** (power + 1)) / (power + 1)
        slope = np.diff(ly) / np.diff(lx)
        x = np.exp(lx[:-1])
        lo = np.concatenate([[0.0], np.exp(lx[1:-1])])
        hi = np.concatenate([np.exp(lx[1:-1]), [np.inf]])
        a = np.clip(e_min, lo, hi)
        b = np.clip(e_max, lo, hi)
        g = slope + power + 1.0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ta, tb = a / x, b / x
            pl = (tb**g - ta**g) / g
            log = np.log(tb / ta)
            seg = np.where(np.abs(g) < 1e-10, log, pl)
            seg = np.where(b > a, seg, 0.0)
        return norm * np.sum(np.exp(ly[:-1]) * x ** (power + 1) * seg, axis=-1)

    def evaluate_integral(self, e_min, e_max, norm):
        """Exact ∫ dN/dE over [e_min, e_max] (piecewise power laws between the nodes).

        Parameters
        ----------
        e_min, e_max : array-like
            Energy bounds in TeV.
        norm : float
            Scale factor.

        Returns
        -------
        numpy.ndarray
            Integral flux in cm-2 s-1 (TeV for a norm template).
        """
        return self._piecewise(e_min, e_max, 0.0, norm)

    def evaluate_energy_flux(self, e_min, e_max, norm):
        """Exact ∫ E dN/dE over [e_min, e_max] (piecewise power laws between the nodes).

        Parameters
        ----------
        e_min, e_max : array-like
            Energy bounds in TeV.
        norm : float
            Scale factor.

        Returns
        -------
        numpy.ndarray
            Energy flux in TeV cm-2 s-1.
        """
        return self._piecewise(e_min, e_max, 1.0, norm)

    def copy(self):
        """A copy with a copied ``norm`` (the tables are shared, never modified).

        Returns
        -------
        TemplateSpectral
            The copy.
        """
        return TemplateSpectral(self.energy, self.values, norm=self.parameters["norm"].copy(), meta=self.meta)

    def _extra_to_dict(self):
        return {"energy": _quantity_dict(self.energy), "values": _quantity_dict(self.values)}

    @classmethod
    def _kwargs_from_dict(cls, data):
        return {"energy": _quantity_from(data.get("energy"), "energy"),
                "values": _quantity_from(data.get("values"), "values")}


@register
class EBLAbsorption(SpectralModel):
    """Absorption ``exp(-tau(E, z)) ** alpha_norm`` from a table (a multiplicative norm model).

    Parameters
    ----------
    energy : Quantity
        Energy nodes.
    param : array or None
        Redshift nodes; None for a single transmission curve (``data`` 1D).
    data : array
        Transmissions ``exp(-tau)``, shape ``(len(param), len(energy))`` (or ``(len(energy),)``).
    redshift, alpha_norm : float
        Parameters (both frozen by default), as gammapy's ``EBLAbsorptionNormSpectralModel``.
    filename : str, optional
        The table file, written to YAML instead of the table.

    Raises
    ------
    ParameterError
        If ``data`` does not have the shape ``(len(param), len(energy))``.
    """

    tag = ("EBLAbsorptionNormSpectralModel", "ebl-norm")
    _value_unit = u.one
    parameter_defs = (
        ParameterDef("redshift", 0.1, "", frozen=True),
        ParameterDef("alpha_norm", 1.0, "", frozen=True),
    )

    def __init__(self, energy, param=None, data=None, redshift=None, alpha_norm=None, filename=None):
        super().__init__(redshift=redshift, alpha_norm=alpha_norm)
        energy = u.Quantity(energy)
        data = np.asarray(u.Quantity(data).to_value(u.one), dtype=float)
        if param is None:
            param_v = np.zeros(1)
            data = data.reshape(1, -1)
        else:
            param_v = np.atleast_1d(np.asarray(u.Quantity(param).to_value(u.one), dtype=float))
        if data.shape != (len(param_v), len(energy)):
            raise ParameterError(f"EBLAbsorption: data shape {data.shape} does not match "
                                 f"(len(param), len(energy)) = ({len(param_v)}, {len(energy)})")
        self.energy, self.param, self.data, self.filename = energy, param, data, filename
        self._param = param_v
        self._log_e = np.log(energy.to_value("TeV"))
        self._log_v = log_values(data)

    @classmethod
    def from_tau(cls, energy, tau, redshift_nodes=None, **kwargs):
        """From optical depths ``tau``: 1D over energy, or 2D over (``redshift_nodes``, energy).

        ``kwargs`` (``redshift``, ``alpha_norm``) set the parameters.

        Parameters
        ----------
        energy : `~astropy.units.Quantity`
            Energy nodes.
        tau : array-like
            Optical depths, shape ``(len(energy),)`` or ``(len(redshift_nodes), len(energy))``.
        redshift_nodes : array-like, optional
            Redshifts of the rows of a 2D ``tau``.
        **kwargs
            ``redshift``, ``alpha_norm``.

        Returns
        -------
        EBLAbsorption
            The model (transmission ``exp(-tau)``).

        Raises
        ------
        ParameterError
            For a 2D ``tau`` without ``redshift_nodes``.
        """
        tau = np.asarray(tau, dtype=float)
        if tau.ndim == 2 and redshift_nodes is None:
            raise ParameterError("EBLAbsorption.from_tau: a 2D tau table needs the redshift nodes")
        return cls(energy, None if tau.ndim == 1 else redshift_nodes, np.exp(-tau), **kwargs)

    @classmethod
    def read(cls, filename, redshift=0.1, alpha_norm=1.0):
        """Read an XSPEC-format table model (HDUs PARAMETERS, ENERGIES [keV], SPECTRA).

        Parameters
        ----------
        filename : str or Path
            The table model file (e.g. one of gammapy's EBL files).
        redshift : float, optional
            Source redshift.
        alpha_norm : float, optional
            Exponent of the transmission.

        Returns
        -------
        EBLAbsorption
            The model, with energy nodes at the geometric bin centres (TeV).

        Raises
        ------
        `~gwidgets.errors.UnsupportedFormatError`
            If the file is not an XSPEC table model.
        """
        from astropy.table import Table

        try:
            table_param = Table.read(filename, hdu="PARAMETERS")
            table_energy = Table.read(filename, hdu="ENERGIES")
            table_spectra = Table.read(filename, hdu="SPECTRA")
        except (KeyError, OSError, ValueError) as exc:
            raise UnsupportedFormatError(f"'{filename}' is not an XSPEC table model: {exc}", filename) from None
        param, idx = np.unique(np.asarray(table_param[0]["VALUE"]), return_index=True)
        e_lo = u.Quantity(table_energy["ENERG_LO"], "keV")
        e_hi = u.Quantity(table_energy["ENERG_HI"], "keV")
        data = np.asarray(table_spectra["INTPSPEC"])[idx, :]
        return cls(np.sqrt(e_lo * e_hi).to("TeV"), param, data, redshift=redshift,
                   alpha_norm=alpha_norm, filename=str(filename))

    def evaluate(self, energy, redshift, alpha_norm):
        """Transmission ``exp(-tau(E, z)) ** alpha_norm``, interpolated in log energy and redshift.

        Parameters
        ----------
        energy : array-like
            Energies in TeV.
        redshift : float
            Source redshift.
        alpha_norm : float
            Exponent of the transmission.

        Returns
        -------
        numpy.ndarray
            Dimensionless transmission in [0, 1].
        """
        log_e = np.log(np.asarray(energy, dtype=float))
        t = exp_values(interp2d_extrap(redshift, log_e, self._param, self._log_e, self._log_v))
        return np.power(np.clip(t, 0, 1), alpha_norm)

    def breakpoints(self):
        """The node energies, where numerical integration splits.

        Returns
        -------
        numpy.ndarray
            Energies in TeV.
        """
        return np.exp(self._log_e)

    def copy(self):
        """A copy with copied parameters (the tables are shared, never modified).

        Returns
        -------
        EBLAbsorption
            The copy.
        """
        return EBLAbsorption(self.energy, self.param, self.data, redshift=self.parameters["redshift"].copy(),
                             alpha_norm=self.parameters["alpha_norm"].copy(), filename=self.filename)

    def _extra_to_dict(self):
        if self.filename is not None:
            return {"filename": str(self.filename)}
        param = np.zeros(1) if self.param is None else self._param
        return {"energy": _quantity_dict(self.energy), "param": _quantity_dict(param),
                "values": {"data": self.data.tolist(), "unit": ""}}

    @classmethod
    def from_dict(cls, data):
        """Build from a YAML entry: a ``filename`` (XSPEC table), or the inline ``energy``, ``param`` and ``values``.

        ``data``: the model entry, as in `Model.from_dict`.

        Returns
        -------
        EBLAbsorption
            The model.

        Raises
        ------
        ParameterError
            For missing or invalid inline tables.
        `~gwidgets.errors.UnsupportedFormatError`
            If the file is not an XSPEC table model.
        """
        data = cls.unwrap_entry(data)
        pars = cls._parameters_from_dict(data)
        if "filename" in data:
            model = cls.read(data["filename"])
            for name, p in pars.items():
                model.parameters[name].value = p.value
                model.parameters[name].frozen = p.frozen
            return model
        param = _quantity_from(data.get("param"), "param").value
        values = np.asarray(data.get("values", {}).get("data"), dtype=float)
        energy = _quantity_from(data.get("energy"), "energy")
        if len(param) == 1 and values.ndim == 2:
            param, values = None, values[0]
        return cls(energy, param, values, **pars)
