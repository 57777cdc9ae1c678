"""Spectral model base class and the power law every analysis starts with.

Canonical units: energy in TeV, differential flux in cm-2 s-1 TeV-1, integral
flux in cm-2 s-1.

Examples
--------
>>> import astropy.units as u
>>> from gwidgets.core.models.spectral_base import PowerLaw
>>> pl = PowerLaw(index=2.0, amplitude="1e-12 cm-2 s-1 TeV-1", reference="1 TeV")
>>> pl(2 * u.TeV)
<Quantity 2.5e-13 1 / (TeV s cm2)>
>>> pl.integral(1 * u.TeV, 10 * u.TeV)
<Quantity 9.e-13 1 / (s cm2)>
"""
from __future__ import annotations

from typing import ClassVar

import astropy.units as u
import numpy as np

from .core import Model, ParameterDef, register
from .spectral_errors import covariance_matrix, propagate

__all__ = ["SpectralModel", "PowerLaw", "integrate_loglog", "pl_integral", "SED_POWERS"]

_E = u.TeV
_DNDE = u.Unit("cm-2 s-1 TeV-1")

# Gauss-Legendre nodes on [0, 1] for numerical integration in log(E)
_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)
_GL_X = 0.5 * (_GL_X + 1)
_GL_W = 0.5 * _GL_W

#: SED types drawn from dN/dE at one energy: the power of E that multiplies dN/dE
SED_POWERS = {"dnde": 0, "e2dnde": 2}


def integrate_loglog(func, e_min, e_max, n_sub: int | None = None, breakpoints=()):
    """∫ func(E) dE between float energies (TeV), Gauss-Legendre in log E.

    ``func`` takes an array of energies (TeV, floats) and returns dN/dE.
    Each interval is split into ``n_sub`` log-sub-intervals × 16 nodes
    (default: 4, or one per half decade for wider intervals, at most 24):
    exact to ~1e-10 for the smooth spectra used in gamma-ray astronomy.
    ``breakpoints`` (energies of kinks, e.g. template nodes) split the
    intervals further, so piecewise-smooth spectra integrate as accurately.

    Parameters
    ----------
    func : callable
        ``func(energy)`` → dN/dE, on float arrays (TeV).
    e_min, e_max : array-like
        Integration bounds in TeV (they broadcast).
    n_sub : int, optional
        Number of log sub-intervals per interval.
    breakpoints : array-like, optional
        Energies (TeV) of kinks of ``func``.

    Returns
    -------
    numpy.ndarray
        The integrals, of the broadcast shape of the bounds (units of ``func`` × TeV).

    Examples
    --------
    >>> float(integrate_loglog(lambda e: e ** -2.0, 1.0, 10.0))
    0.9
    """
    e_min = np.asarray(e_min, dtype=float)
    e_max = np.asarray(e_max, dtype=float)
    bps = np.asarray(breakpoints, dtype=float).ravel()
    if bps.size:
        # edges (..., K+2): e_min, breakpoints clipped into [e_min, e_max], e_max
        emn, emx = np.broadcast_arrays(e_min, e_max)
        inner = np.clip(bps, emn[..., None], emx[..., None])
        edges = np.sort(np.concatenate([emn[..., None], inner, emx[..., None]], axis=-1), axis=-1)
        parts = integrate_loglog(func, edges[..., :-1], edges[..., 1:], n_sub)
        return np.sum(parts, axis=-1)
    lmin, lmax = np.log(e_min), np.log(e_max)
    if n_sub is None:
        width = float(np.max(np.abs(lmax - lmin), initial=0.0)) if np.size(lmin) else 0.0
        n_sub = int(min(24, max(4, np.ceil(width / (0.5 * np.log(10))))))
    step = (lmax - lmin) / n_sub
    # nodes: shape (..., n_sub, 16)
    k = np.arange(n_sub)[:, None]
    t = (k + _GL_X[None, :])  # in units of step
    log_e = lmin[..., None, None] + step[..., None, None] * t
    energy = np.exp(log_e)
    values = func(energy) * energy  # dE = E dlogE
    return np.sum(values * _GL_W, axis=(-2, -1)) * step


def pl_integral(x_min, x_max, gamma, scale):
    """``scale · ∫ x^-gamma dx`` over [x_min, x_max] (the log form for gamma = 1).

    Parameters
    ----------
    x_min, x_max : array-like
        Integration bounds (dimensionless: energies divided by a reference).
    gamma : array-like
        Power-law index.
    scale : array-like
        Factor in front.

    Returns
    -------
    numpy.ndarray
        The integrals, broadcast over the arguments.

    Examples
    --------
    >>> float(pl_integral(1.0, 10.0, 2.0, 1.0))
    0.9
    """
    g = 1.0 - np.asarray(gamma, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pl = (np.power(x_max, g) - np.power(x_min, g)) / g
        log = np.log(np.asarray(x_max, dtype=float) / x_min)
    return scale * np.where(np.abs(g) < 1e-10, log, pl)


def _tev_columns(energy_min, energy_max):
    """Energy bounds as float arrays in TeV with a trailing axis (for the parameter draws)."""
    return tuple(np.asarray(u.Quantity(e, _E).to_value(_E), float)[..., None] for e in (energy_min, energy_max))


class SpectralModel(Model):
    """dN/dE as a function of energy.

    Subclasses define ``parameter_defs`` and a static ``evaluate(energy, ...)``;
    if they have an analytic integral they define static
    ``evaluate_integral(e_min, e_max, ...)`` (and optionally
    ``evaluate_energy_flux``), else it is integrated numerically.

    Models combine with operators: ``pl * absorption``, ``pl1 + pl2`` give a
    `~gwidgets.core.models.spectral_compound.CompoundSpectral`.
    "Norm" models (dimensionless, e.g. `~gwidgets.core.models.spectral.PowerLawNorm`, absorption) have
    ``is_norm_spectral_model = True`` and ``value_unit`` dimensionless.
    """

    kind: ClassVar[str] = "spectral"
    #: unit of ``evaluate`` for this class (canonical dN/dE, or 1 for norm models)
    _value_unit: ClassVar[u.UnitBase] = _DNDE

    @property
    def is_norm_spectral_model(self) -> bool:
        """True for dimensionless (norm) models, whose values multiply another spectrum."""
        return self.value_unit == u.one

    @property
    def value_unit(self) -> u.UnitBase:
        """Unit of the values returned by ``evaluate`` / ``dnde_values``."""
        return self._value_unit

    def __call__(self, energy):
        """dN/dE at ``energy``.

        Parameters
        ----------
        energy : `~astropy.units.Quantity`
            Energies (numbers are TeV).

        Returns
        -------
        astropy.units.Quantity
            dN/dE in cm-2 s-1 TeV-1 (dimensionless for norm models).
        """
        energy = u.Quantity(energy, _E)
        return u.Quantity(self.dnde_values(energy.to_value(_E)), self.value_unit)

    # float fast path: energies in TeV, results in canonical units
    def dnde_values(self, energy_tev):
        """dN/dE on floats: energies in TeV, result in ``value_unit``.

        Parameters
        ----------
        energy_tev : array-like
            Energies in TeV.

        Returns
        -------
        numpy.ndarray
            dN/dE in cm-2 s-1 TeV-1 (dimensionless for norm models).
        """
        return self.evaluate(np.asarray(energy_tev, dtype=float), **self.canonical_values())

    def breakpoints(self) -> np.ndarray:
        """Energies (TeV) where dN/dE has a kink; numerical integration splits there.

        Returns
        -------
        numpy.ndarray
            The energies in TeV (empty for smooth models).
        """
        return np.empty(0)

    def _numeric(self, func, e_min_tev, e_max_tev):
        return integrate_loglog(func, e_min_tev, e_max_tev, breakpoints=self.breakpoints())

    def _moment(self, power, analytic_name, e_min_tev, e_max_tev):
        """∫ E^power dN/dE over the bounds: the class's analytic ``analytic_name`` if it has one, else numerical."""
        params = self.canonical_values()
        analytic = getattr(self, analytic_name, None)
        if analytic is not None:
            return analytic(np.asarray(e_min_tev, float), np.asarray(e_max_tev, float), **params)
        return self._numeric(lambda e: e**power * self.evaluate(e, **params), e_min_tev, e_max_tev)

    def integral_values(self, e_min_tev, e_max_tev):
        """∫ dN/dE over [e_min, e_max] (floats in TeV) in cm-2 s-1.

        Analytic where the class has ``evaluate_integral``, else numerical (`integrate_loglog`).

        Parameters
        ----------
        e_min_tev, e_max_tev : array-like
            Energy bounds in TeV.

        Returns
        -------
        numpy.ndarray
            Integral flux in cm-2 s-1 (TeV for norm models).
        """
        return self._moment(0, "evaluate_integral", e_min_tev, e_max_tev)

    def energy_flux_values(self, e_min_tev, e_max_tev):
        """∫ E dN/dE over [e_min, e_max] (floats in TeV) in TeV cm-2 s-1.

        Parameters
        ----------
        e_min_tev, e_max_tev : array-like
            Energy bounds in TeV.

        Returns
        -------
        numpy.ndarray
            Energy flux in TeV cm-2 s-1 (TeV2 for norm models).
        """
        return self._moment(1, "evaluate_energy_flux", e_min_tev, e_max_tev)

    # Quantity API
    def integral(self, e_min, e_max):
        """Integral flux between two energies (Quantities), in cm-2 s-1 (TeV for norm models).

        Parameters
        ----------
        e_min, e_max : `~astropy.units.Quantity`
            Energy bounds (numbers are TeV).

        Returns
        -------
        astropy.units.Quantity
            Integral flux, in cm-2 s-1 (TeV for norm models).
        """
        values = self.integral_values(u.Quantity(e_min, _E).to_value(_E), u.Quantity(e_max, _E).to_value(_E))
        return u.Quantity(values, self.value_unit * _E)

    def energy_flux(self, e_min, e_max):
        """Energy flux between two energies, in erg cm-2 s-1.

        Parameters
        ----------
        e_min, e_max : `~astropy.units.Quantity`
            Energy bounds (numbers are TeV).

        Returns
        -------
        astropy.units.Quantity
            Energy flux in erg cm-2 s-1 (TeV2 for norm models).
        """
        values = self.energy_flux_values(u.Quantity(e_min, _E).to_value(_E), u.Quantity(e_max, _E).to_value(_E))
        q = u.Quantity(values, self.value_unit * _E**2)
        return q.to("erg cm-2 s-1") if q.unit.is_equivalent("erg cm-2 s-1") else q

    def e2dnde(self, energy):
        """E² dN/dE at ``energy``.

        Parameters
        ----------
        energy : `~astropy.units.Quantity`
            Energies (numbers are TeV).

        Returns
        -------
        astropy.units.Quantity
            In erg cm-2 s-1 (TeV2 for norm models).
        """
        energy = u.Quantity(energy, _E)
        q = energy**2 * self(energy)
        return q.to("erg cm-2 s-1") if q.unit.is_equivalent("erg cm-2 s-1") else q

    # ---------------------------------------------------------- uncertainties
    @property
    def covariance(self):
        """Covariance over ``parameters`` (n × n array in the parameters' units), or None.

        Set by `~gwidgets.core.fit.fit.Fit` after HESSE; may be set by hand to an n × n array or to a
        named covariance (``FitResult.covariance``), which also sets the errors.
        """
        return self.parameters.covariance

    @covariance.setter
    def covariance(self, covariance):
        if covariance is None:
            self.parameters.covariance = None
            return
        self.parameters.set_covariance_errors(covariance_matrix(self, covariance))

    def _errors(self, fn, unit, method, covariance, options):
        out = propagate(self, fn, method=method, covariance=covariance, **options)
        return u.Quantity(out, unit)

    def evaluate_error(self, energy, n_samples=3500, random_state=42, method="sample", epsilon=1e-4,
                       covariance=None, n_sigma=1.0, samples=None):
        """dN/dE and its errors from the covariance: Quantity ``(3, *energy.shape)`` = value, errn, errp.

        ``method="sample"`` is gammapy 2.1's ``evaluate_error`` (median and
        percentiles of ``n_samples × n_parameters`` draws, seed ``random_state``);
        ``method="linear"`` the first-order propagation (value at the best fit).
        ``samples`` (n × n_parameters, parameters' units) replaces the draws.
        See `gwidgets.core.models.spectral_errors`.

        >>> pl = PowerLaw(index=2, amplitude="1e-12 cm-2 s-1 TeV-1")
        >>> pl.covariance = np.diag([0.01, 1e-26, 0.0])
        >>> pl.evaluate_error([1, 10] * u.TeV).shape
        (3, 2)

        Parameters
        ----------
        energy : `~astropy.units.Quantity`
            Energies (numbers are TeV).
        n_samples : int, optional
            Number of draws for ``method="sample"``.
        random_state : int, optional
            Seed of the draws.
        method : {"sample", "linear"}, optional
            Sampling (gammapy 2.1) or first-order propagation.
        epsilon : float, optional
            Relative step of the numerical derivatives for ``method="linear"``.
        covariance : array-like, optional
            Covariance to use instead of the model's.
        n_sigma : float, optional
            Width of the band in σ.
        samples : numpy.ndarray, optional
            Parameter draws ``(n, n_parameters)`` in the parameters' units, replacing the random ones.

        Returns
        -------
        astropy.units.Quantity
            Shape ``(3, *energy.shape)``: value, negative and positive error, in ``value_unit``
            (cm-2 s-1 TeV-1, dimensionless for norm models).
        """
        e = u.Quantity(energy, _E).to_value(_E)
        return self._errors(lambda m: m.dnde_values(np.asarray(e, float)[..., None]), self.value_unit, method,
                            covariance, dict(n_samples=n_samples, random_state=random_state, epsilon=epsilon,
                                             n_sigma=n_sigma, samples=samples))

    def integral_error(self, energy_min, energy_max, n_samples=3500, random_state=42, method="sample",
                       epsilon=1e-4, covariance=None, n_sigma=1.0, samples=None):
        """Integral flux and its errors (value, errn, errp), as `evaluate_error`; cm-2 s-1.

        Parameters
        ----------
        energy_min, energy_max : `~astropy.units.Quantity`
            Energy bounds (numbers are TeV).
        n_samples, random_state, method, epsilon, covariance, n_sigma, samples : optional
            How the errors are computed, as in `evaluate_error`.

        Returns
        -------
        astropy.units.Quantity
            Shape ``(3, *bounds shape)``: value, negative and positive error, in cm-2 s-1.
        """
        lo, hi = _tev_columns(energy_min, energy_max)
        return self._errors(lambda m: m.integral_values(lo, hi), self.value_unit * _E, method, covariance,
                            dict(n_samples=n_samples, random_state=random_state, epsilon=epsilon, n_sigma=n_sigma,
                                 samples=samples))

    def energy_flux_error(self, energy_min, energy_max, n_samples=3500, random_state=42, method="sample",
                          epsilon=1e-4, covariance=None, n_sigma=1.0, samples=None):
        """Energy flux and its errors (value, errn, errp), as `evaluate_error`; erg cm-2 s-1.

        Parameters
        ----------
        energy_min, energy_max : `~astropy.units.Quantity`
            Energy bounds (numbers are TeV).
        n_samples, random_state, method, epsilon, covariance, n_sigma, samples : optional
            How the errors are computed, as in `evaluate_error`.

        Returns
        -------
        astropy.units.Quantity
            Shape ``(3, *bounds shape)``: value, negative and positive error, in erg cm-2 s-1.
        """
        lo, hi = _tev_columns(energy_min, energy_max)
        q = self._errors(lambda m: m.energy_flux_values(lo, hi), self.value_unit * _E**2, method, covariance,
                         dict(n_samples=n_samples, random_state=random_state, epsilon=epsilon, n_sigma=n_sigma,
                              samples=samples))
        return q.to("erg cm-2 s-1") if q.unit.is_equivalent("erg cm-2 s-1") else q

    def sed_error(self, energy, sed_type="e2dnde", **kwargs):
        """``E^k dN/dE`` and its errors (value, errn, errp) for ``sed_type`` in `SED_POWERS`.

        The band to draw is ``value - errn`` … ``value + errp`` (what the SED
        view, ``gwidgets run``'s spectrum.png and `gwidgets.plotting` show).
        Keyword arguments go to `evaluate_error`. Units: dN/dE's, times TeV^k.

        >>> pl = PowerLaw(index=2, amplitude="1e-12 cm-2 s-1 TeV-1")
        >>> pl.covariance = np.diag([0.01, 1e-26, 0.0])
        >>> pl.sed_error([1, 10] * u.TeV, method="linear")[0]
        <Quantity [1.e-12, 1.e-12] TeV / (s cm2)>

        Parameters
        ----------
        energy : `~astropy.units.Quantity`
            Energies (numbers are TeV).
        sed_type : {"dnde", "e2dnde"}, optional
            Quantity of the band.
        **kwargs
            Options of `evaluate_error`.

        Returns
        -------
        astropy.units.Quantity
            Shape ``(3, *energy.shape)``: value, errn, errp.

        Raises
        ------
        ParameterError
            For an unknown ``sed_type``.
        """
        if sed_type not in SED_POWERS:
            from .parameter import ParameterError

            raise ParameterError(f"Unknown sed_type '{sed_type}' for a model band (known: {', '.join(SED_POWERS)})")
        energy = u.Quantity(energy, _E)
        return self.evaluate_error(energy, **kwargs) * energy.to(_E) ** SED_POWERS[sed_type]

    # ------------------------------------------------------------ arithmetic
    def _compound(self, other, op, reverse=False):
        from .spectral_compound import CompoundSpectral

        if not isinstance(other, SpectralModel):
            return NotImplemented
        return CompoundSpectral(other, self, op) if reverse else CompoundSpectral(self, other, op)

    def __add__(self, other):
        return self._compound(other, "add")

    def __sub__(self, other):
        return self._compound(other, "sub")

    def __mul__(self, other):
        return self._compound(other, "mul")

    def __truediv__(self, other):
        return self._compound(other, "truediv")


@register
class PowerLaw(SpectralModel):
    r"""Power law: :math:`\phi(E) = \phi_0 (E / E_0)^{-\Gamma}`.

    Parameters
    ----------
    index : float, str or `~astropy.units.Quantity`, optional
        Spectral index Γ. Default 2.
    amplitude : float, str or `~astropy.units.Quantity`, optional
        Differential flux at ``reference``. Default 1e-12 cm-2 s-1 TeV-1.
    reference : float, str or `~astropy.units.Quantity`, optional
        Reference energy. Default 1 TeV, frozen.
    """

    tag = ("PowerLawSpectralModel", "PowerLaw", "pl")
    parameter_defs = (
        ParameterDef("index", 2.0, "", description="spectral index Γ"),
        ParameterDef("amplitude", 1e-12, "cm-2 s-1 TeV-1", is_norm=True, interp="log"),
        ParameterDef("reference", 1.0, "TeV", frozen=True),
    )

    @staticmethod
    def evaluate(energy, index, amplitude, reference):
        """dN/dE at ``energy``, on floats in the canonical units.

        Parameters
        ----------
        energy : numpy.ndarray
            Energies in TeV.
        index : float
            Spectral index Γ.
        amplitude : float
            Differential flux at ``reference``. In cm-2 s-1 TeV-1.
        reference : float
            Reference energy. In TeV.

        Returns
        -------
        numpy.ndarray
            dN/dE in cm-2 s-1 TeV-1.
        """
        return amplitude * (energy / reference) ** (-index)

    @staticmethod
    def evaluate_integral(e_min, e_max, index, amplitude, reference):
        """Analytic ∫ dN/dE dE over [e_min, e_max], on floats in the canonical units.

        Parameters
        ----------
        e_min, e_max : numpy.ndarray
            Energy bounds in TeV.
        index, amplitude, reference : float
            As in `evaluate`.

        Returns
        -------
        numpy.ndarray
            Integral flux in cm-2 s-1.
        """
        return pl_integral(e_min / reference, e_max / reference, index, amplitude * reference)

    @staticmethod
    def evaluate_energy_flux(e_min, e_max, index, amplitude, reference):
        """Analytic ∫ E dN/dE dE over [e_min, e_max], on floats in the canonical units.

        Parameters
        ----------
        e_min, e_max : numpy.ndarray
            Energy bounds in TeV.
        index, amplitude, reference : float
            As in `evaluate`.

        Returns
        -------
        numpy.ndarray
            Energy flux in TeV cm-2 s-1.
        """
        return pl_integral(e_min / reference, e_max / reference, index - 1.0, amplitude * reference**2)
