"""Parametric PSFs: analytic profiles whose parameters are tabulated vs true energy and offset.

As gammapy's ``ParametricPSF``: each parameter is interpolated linearly on
the (log energy, offset) node grid, extrapolated beyond it and clipped at 0
(no fill value), then the profile is evaluated analytically.

- `PSF3Gauss` (GADF ``psf_3gauss``, e.g. CTA prod3): three 2D Gaussians;
- `PSFKing` (GADF ``psf_king``): the King function.
"""
from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.coordinates import Angle

from .core import IRF, is_pointlike_header
from .gadf import column_names, find_column, header_meta, read_array, read_axis, read_unit
from .interp import GridInterpolator
from .psf_table import check_fraction

__all__ = ["ParametricPSF", "PSF3Gauss", "PSFKing"]

_PER_DEG2_TO_PER_SR = (180.0 / np.pi) ** 2


class ParametricPSF(IRF):
    """Base class: ``parameters`` maps parameter names to GADF columns; profiles work in deg.

    Parameters
    ----------
    axes : list of `~gwidgets.core.irf.axes.IRFAxis`
        ``energy_true`` and ``offset``.
    data : dict or structured array
        Parameter name → array of shape (n_energy, n_offset).
    unit : dict, optional
        Parameter name → unit (widths default to deg, the rest to dimensionless).
    meta : dict, optional
        Header keywords.
    is_pointlike : bool, optional
        Point-like or full-enclosure IRF.

    Raises
    ------
    ValueError
        If a parameter is missing or its shape does not match the axes.
    """

    required_axes = ("energy_true", "offset")
    #: parameter name → GADF column
    parameters: dict = {}
    default_unit = u.sr**-1
    fill_value = None
    hduclas2 = "RPSF"

    def __init__(self, axes, data: dict, unit: dict | None = None, meta=None, is_pointlike: bool = False):
        super().__init__(axes, np.zeros(tuple(ax.nbin for ax in axes)), u.sr**-1, meta, is_pointlike)
        if isinstance(data, np.ndarray) and data.dtype.names:  # a structured array, as gammapy's
            data = {name: data[name] for name in data.dtype.names}
        missing = set(self.parameters) - set(data)
        if missing:
            raise ValueError(f"{type(self).__name__} needs parameters {sorted(self.parameters)}; "
                             f"missing {sorted(missing)}")
        shape = self.data.shape
        params = {}
        for name in self.parameters:
            values = np.asarray(data[name])
            if values.shape != shape:
                raise ValueError(f"{type(self).__name__}: parameter '{name}' has shape {values.shape}, axes {shape}")
            params[name] = values if values.dtype.kind == "f" else values.astype(float)
        units = {name: self._parameter_unit(name) for name in self.parameters}
        units.update({k: u.Unit(v) for k, v in (unit or {}).items()})
        self._set_parameters(params, units)

    @staticmethod
    def _parameter_unit(name: str) -> u.UnitBase:
        return u.deg if name.startswith("sigma") else u.one

    def _set_parameters(self, params: dict, units: dict):
        self.data = params
        self.param_units = units
        self.unit = u.sr**-1
        self._interps = {}
        return self

    @property
    def quantity(self) -> dict:
        """Parameter name → Quantity."""
        return {k: u.Quantity(v, self.param_units[k], copy=None) for k, v in self.data.items()}

    @property
    def params(self) -> dict:
        """Parameter name → array (n_energy, n_offset)."""
        return self.data

    @classmethod
    def from_hdu(cls, hdu) -> ParametricPSF:
        """Read from a GADF table HDU with one column per parameter.

        Widths must be in angle units (deg if without unit); unused Gaussian widths
        written as 0 (CTA 1DC) become 1 deg, as in gammapy.

        Parameters
        ----------
        hdu : `~gwidgets.core.io.fits_hdu.TableHDU`
            The PSF HDU.

        Returns
        -------
        ParametricPSF
            An instance of the class called.

        Raises
        ------
        `~gwidgets.errors.MissingColumnError`
            If an axis or parameter column is missing.
        `~gwidgets.errors.UnitError`
            If a width is not in angle units.
        `~gwidgets.errors.UnsupportedFormatError`
            If a cell does not match the axes.
        """
        names = column_names(hdu)
        axes = [read_axis(hdu, name, names) for name in cls.required_axes]
        shape = tuple(ax.nbin for ax in axes)
        params, units = {}, {}
        for name, column in cls.parameters.items():
            column = find_column(hdu, names, column)
            # widths must be angles; the other parameters are ratios (any unit cancels out)
            expected = cls._parameter_unit(name) if name.startswith("sigma") else None
            unit, _ = read_unit(hdu, column, expected, default=cls._parameter_unit(name))
            values = read_array(hdu, column, shape)
            if name.startswith("sigma"):
                # unused Gaussian widths are written as 0 (CTA 1DC): 1 deg instead, as gammapy
                values = np.where(values == 0, values.dtype.type(1), values)
            params[name], units[name] = values, unit
        irf = cls.__new__(cls)._setup(axes, None, u.sr**-1, header_meta(hdu), is_pointlike_header(hdu.header))
        return irf._set_parameters(params, units)

    def _hdu_columns(self) -> dict:
        return {column: (self.data[name], self.param_units[name]) for name, column in self.parameters.items()}

    # ------------------------------------------------------------- evaluate
    def _interpolator(self, name) -> GridInterpolator:
        interp = self._interps.get(name)
        if interp is None:
            points = [self.axes[n].scaled_centers for n in self.required_axes]
            interp = self._interps[name] = GridInterpolator(points, self.data[name])
        return interp

    def _parameter_values(self, energy_true, offset) -> dict:
        """Interpolated parameters as floats (widths in deg), broadcast shape of the coordinates."""
        arrays = self._coordinates({"energy_true": energy_true, "offset": offset})
        shape = np.broadcast_shapes(*(np.shape(x) for x in arrays))
        scaled = self._scaled(arrays)
        out = {}
        with np.errstate(invalid="ignore"):
            for name in self.parameters:
                values = self._interpolator(name)(scaled, clip=True)
                unit = self.param_units[name]
                if name.startswith("sigma") and unit != u.deg:
                    values = values * unit.to(u.deg)
                out[name] = np.broadcast_to(values, shape)
        return out

    def evaluate_parameters(self, energy_true, offset) -> dict:
        """Interpolated parameters as Quantities (widths in deg).

        Parameters
        ----------
        energy_true : `~astropy.units.Quantity`
            True energy (numbers are TeV).
        offset : `~astropy.units.Quantity`
            Field-of-view offset (numbers are deg).

        Returns
        -------
        dict
            Parameter name → Quantity, of the broadcast shape of the coordinates.

        Examples
        --------
        >>> import numpy as np, astropy.units as u
        >>> from gwidgets.core.irf import IRFAxis, PSFKing
        >>> axes = [IRFAxis([0.1, 1, 10], "energy_true", unit="TeV"), IRFAxis([0, 1, 2], "offset", unit="deg")]
        >>> psf = PSFKing(axes, {"gamma": np.full((2, 2), 2.0), "sigma": np.full((2, 2), 0.1)})
        >>> psf.evaluate_parameters(1 * u.TeV, 0.5 * u.deg)
        {'gamma': <Quantity 2.>, 'sigma': <Quantity 0.1 deg>}
        """
        values = self._parameter_values(energy_true, offset)
        return {k: u.Quantity(v, u.deg if k.startswith("sigma") else self.param_units[k]) for k, v in values.items()}

    @staticmethod
    def _rad_deg(rad) -> np.ndarray:
        return np.asarray(Angle(rad).to_value(u.deg) if isinstance(rad, (u.Quantity, str)) else rad, dtype=float)

    def evaluate(self, rad=None, energy_true=None, offset=None, **kwargs) -> u.Quantity:
        """PSF value dP/dΩ (sr-1) at ``rad`` from the source, for (energy_true, offset); arrays broadcast.

        Where an extrapolated width is clipped to 0 the profile is undefined
        (gammapy returns NaN there); it is 0 here.

        Parameters
        ----------
        rad : `~astropy.units.Quantity` or array-like
            Angular distance from the source (numbers are deg).
        energy_true : `~astropy.units.Quantity`
            True energy (numbers are TeV).
        offset : `~astropy.units.Quantity`
            Field-of-view offset (numbers are deg).
        **kwargs
            Not accepted (a ``TypeError``), for the signature of `IRF.evaluate`.

        Returns
        -------
        astropy.units.Quantity
            dP/dΩ in sr-1, of the broadcast shape of the arguments.

        Raises
        ------
        TypeError
            If an argument is missing or another one is given.
        """
        if rad is None or energy_true is None or offset is None or kwargs:
            raise TypeError(f"{type(self).__name__}.evaluate needs rad, energy_true and offset")
        pars = self._parameter_values(energy_true, offset)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            value = self.profile_deg2(self._rad_deg(rad), **pars) * _PER_DEG2_TO_PER_SR
        value = np.where(np.isfinite(value), value, 0.0)
        return u.Quantity(value, u.sr**-1, copy=None)

    def containment(self, rad, energy_true, offset) -> np.ndarray:
        """Fraction of the PSF within ``rad`` (arrays broadcast).

        Parameters
        ----------
        rad : `~astropy.units.Quantity` or array-like
            Radius (numbers are deg).
        energy_true : `~astropy.units.Quantity`
            True energy (numbers are TeV).
        offset : `~astropy.units.Quantity`
            Field-of-view offset (numbers are deg).

        Returns
        -------
        numpy.ndarray
            Fractions in [0, 1] (0 where the profile is undefined).
        """
        pars = self._parameter_values(energy_true, offset)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            value = self.containment_direct(self._rad_deg(rad), **pars)
        return np.where(np.isfinite(value), value, 0.0)

    def containment_radius(self, fraction, energy_true, offset) -> Angle:
        """Radius containing ``fraction`` of the PSF (arrays broadcast), an Angle in deg.

        Parameters
        ----------
        fraction : float or array-like
            Containment fraction(s) in [0, 1].
        energy_true : `~astropy.units.Quantity`
            True energy (numbers are TeV).
        offset : `~astropy.units.Quantity`
            Field-of-view offset (numbers are deg).

        Returns
        -------
        astropy.coordinates.Angle
            The radii in deg.

        Raises
        ------
        ValueError
            If a fraction is outside [0, 1].

        Examples
        --------
        >>> import numpy as np, astropy.units as u
        >>> from gwidgets.core.irf import IRFAxis, PSFKing
        >>> axes = [IRFAxis([0.1, 1, 10], "energy_true", unit="TeV"), IRFAxis([0, 1, 2], "offset", unit="deg")]
        >>> psf = PSFKing(axes, {"gamma": np.full((2, 2), 2.0), "sigma": np.full((2, 2), 0.1)})
        >>> r = psf.containment_radius(0.68, 1 * u.TeV, 0.5 * u.deg)
        >>> round(float(psf.containment(r, 1 * u.TeV, 0.5 * u.deg)), 6)
        0.68
        """
        fraction = check_fraction(fraction)
        pars = self._parameter_values(energy_true, offset)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            radius = self.radius_direct(fraction, **pars)
        return Angle(radius, u.deg)

    def _axes_summary(self) -> str:
        return super()._axes_summary() + f"; parameters {list(self.parameters)}"

    def __getstate__(self):
        state = super().__getstate__()
        state["_interps"] = {}
        return state


def _normalised_norms(sigma_1, sigma_2, sigma_3, scale, ampl_2, ampl_3):
    """Gaussian widths and weights (summing to 1) of the three components, as gammapy's MultiGauss2D."""
    sigmas = (sigma_1, sigma_2, sigma_3)
    norms = [2 * scale * a * s**2 for a, s in zip((np.ones(np.shape(scale)), ampl_2, ampl_3), sigmas)]
    total = norms[0] + norms[1] + norms[2]
    return sigmas, [np.nan_to_num(n / total) for n in norms]


class PSF3Gauss(ParametricPSF):
    """Sum of three 2D Gaussians (GADF ``psf_3gauss``): widths SIGMA_i, relative amplitudes AMPL_2/3, SCALE.

    Parameters
    ----------
    axes : list of `~gwidgets.core.irf.axes.IRFAxis`
        ``energy_true`` and ``offset``.
    data : dict or structured array
        Parameter name (``sigma_1``, ``sigma_2``, ``sigma_3``, ``scale``, ``ampl_2``, ``ampl_3``)
        → array of shape (n_energy, n_offset).
    unit : dict, optional
        Parameter name → unit (widths default to deg, the rest to dimensionless).
    meta : dict, optional
        Header keywords.
    is_pointlike : bool, optional
        Point-like or full-enclosure IRF.
    """

    tag = "psf_3gauss"
    parameters = {"sigma_1": "SIGMA_1", "sigma_2": "SIGMA_2", "sigma_3": "SIGMA_3",
                  "scale": "SCALE", "ampl_2": "AMPL_2", "ampl_3": "AMPL_3"}
    extname = "PSF_2D_GAUSS"

    @staticmethod
    def profile_deg2(rad, **pars):
        """dP/dΩ in deg-2 at ``rad`` (deg).

        Parameters
        ----------
        rad : numpy.ndarray
            Angular distance from the source in deg.
        **pars : numpy.ndarray
            ``sigma_1``, ``sigma_2``, ``sigma_3`` (deg), ``scale``, ``ampl_2``, ``ampl_3``.

        Returns
        -------
        numpy.ndarray
            dP/dΩ in deg-2 (the three Gaussians normalised to a total of 1).
        """
        sigmas, norms = _normalised_norms(**pars)
        terms = [n * (1 / (2 * np.pi * s * s)) * np.exp(-0.5 * (rad * rad) / (s * s)) for n, s in zip(norms, sigmas)]
        return terms[0] + terms[1] + terms[2]

    @staticmethod
    def containment_direct(rad, **pars):
        """Fraction of the PSF within ``rad`` (deg), analytically.

        Parameters
        ----------
        rad : numpy.ndarray
            Radius in deg.
        **pars : numpy.ndarray
            ``sigma_1``, ``sigma_2``, ``sigma_3`` (deg), ``scale``, ``ampl_2``, ``ampl_3``.

        Returns
        -------
        numpy.ndarray
            Fractions in [0, 1].
        """
        sigmas, norms = _normalised_norms(**pars)
        terms = [n * (1 - np.exp(-0.5 * rad**2 / (s * s))) for n, s in zip(norms, sigmas)]
        return terms[0] + terms[1] + terms[2]

    @classmethod
    def radius_direct(cls, fraction, **pars):
        """Containment radius (deg) by bisection between the components' own radii.

        Parameters
        ----------
        fraction : numpy.ndarray
            Containment fraction(s) in [0, 1].
        **pars : numpy.ndarray
            ``sigma_1``, ``sigma_2``, ``sigma_3`` (deg), ``scale``, ``ampl_2``, ``ampl_3``.

        Returns
        -------
        numpy.ndarray
            Radii in deg (inf for a fraction of 1, NaN where all weights are 0).
        """
        sigmas, norms = _normalised_norms(**pars)
        shape = np.broadcast_shapes(np.shape(fraction), *(np.shape(s) for s in sigmas))
        f = np.broadcast_to(fraction, shape)
        k = np.sqrt(-2 * np.log1p(-np.minimum(f, 1 - 1e-16)))
        used = [np.where(n > 0, s, np.nan) for n, s in zip(norms, sigmas)]
        lo = np.nan_to_num(np.fmin(np.fmin(used[0], used[1]), used[2]) * k)
        hi = np.nan_to_num(np.fmax(np.fmax(used[0], used[1]), used[2]) * k)
        lo, hi = np.broadcast_to(lo, shape).copy(), np.broadcast_to(hi, shape).copy()
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            below = cls.containment_direct(mid, **pars) < f
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        radius = 0.5 * (lo + hi)
        total = norms[0] + norms[1] + norms[2]
        radius = np.where(f >= 1, np.inf, radius)
        return np.where(np.broadcast_to(total, shape) > 0, radius, np.nan)


class PSFKing(ParametricPSF):
    """King-function PSF (GADF ``psf_king``): width SIGMA and tail index GAMMA.

    Parameters
    ----------
    axes : list of `~gwidgets.core.irf.axes.IRFAxis`
        ``energy_true`` and ``offset``.
    data : dict or structured array
        Parameter name (``gamma``, ``sigma``) → array of shape (n_energy, n_offset).
    unit : dict, optional
        Parameter name → unit (widths default to deg, the rest to dimensionless).
    meta : dict, optional
        Header keywords.
    is_pointlike : bool, optional
        Point-like or full-enclosure IRF.
    """

    tag = "psf_king"
    parameters = {"gamma": "GAMMA", "sigma": "SIGMA"}
    extname = "PSF_2D_KING"

    @staticmethod
    def profile_deg2(rad, gamma, sigma):
        """dP/dΩ in deg-2 of the King function at ``rad`` (deg).

        Parameters
        ----------
        rad : numpy.ndarray
            Angular distance from the source in deg.
        gamma : numpy.ndarray
            Tail index (> 1).
        sigma : numpy.ndarray
            Width in deg.

        Returns
        -------
        numpy.ndarray
            ``(1 - 1/γ) / (2πσ²) · (1 + r² / (2γσ²))^(-γ)``.
        """
        term1 = 1 / (2 * np.pi * sigma**2)
        term2 = 1 - 1 / gamma
        term3 = (1 + rad**2 / (2 * gamma * sigma**2)) ** (-gamma)
        return term1 * term2 * term3

    @staticmethod
    def containment_direct(rad, gamma, sigma):
        """Fraction of the King PSF within ``rad`` (deg): ``1 - (1 + r² / (2γσ²))^(1-γ)``.

        Parameters
        ----------
        rad : numpy.ndarray
            Radius in deg.
        gamma : numpy.ndarray
            Tail index (> 1).
        sigma : numpy.ndarray
            Width in deg.

        Returns
        -------
        numpy.ndarray
            Fractions in [0, 1].
        """
        return 1 - (1 + rad**2 / (2 * gamma * sigma**2)) ** (1 - gamma)

    @staticmethod
    def radius_direct(fraction, gamma, sigma):
        """Analytic inverse of the containment: σ·sqrt(2γ((1 − f)^(1/(1−γ)) − 1)).

        Parameters
        ----------
        fraction : numpy.ndarray
            Containment fraction(s) in [0, 1].
        gamma : numpy.ndarray
            Tail index (> 1).
        sigma : numpy.ndarray
            Width in deg.

        Returns
        -------
        numpy.ndarray
            Radii in deg.
        """
        return sigma * np.sqrt(2 * gamma * ((1 - fraction) ** (1 / (1 - gamma)) - 1))
