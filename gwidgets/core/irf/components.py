"""The GADF IRF components: effective area, energy dispersion, PSF, background, RAD_MAX."""
from __future__ import annotations

import numpy as np
import astropy.units as u
from astropy.coordinates import Angle

from ..geom import MapAxis
from .core import IRF

__all__ = [
    "EffectiveArea2D", "EnergyDispersion2D", "PSFTable", "PSF3Gauss", "PSFKing",
    "Background3D", "Background2D", "RadMax2D",
]


class EffectiveArea2D(IRF):
    """Effective area vs true energy and offset (``aeff_2d``).

    >>> aeff.evaluate(energy_true=[1, 10] * u.TeV, offset=0.5 * u.deg)   # doctest: +SKIP
    """

    tag = "aeff_2d"
    required_axes = ("energy_true", "offset")
    column = "EFFAREA"
    default_unit = u.m**2

    @property
    def lo_threshold(self):
        v = self.meta.get("LO_THRES")
        return None if v is None else u.Quantity(float(v), "TeV")

    @property
    def hi_threshold(self):
        v = self.meta.get("HI_THRES")
        return None if v is None else u.Quantity(float(v), "TeV")

    @property
    def offset_max(self) -> Angle:
        return Angle(self.axes["offset"].edges[-1])


class EnergyDispersion2D(IRF):
    """Migration (E_reco / E_true) probability density vs true energy and offset (``edisp_2d``)."""

    tag = "edisp_2d"
    required_axes = ("energy_true", "migra", "offset")
    column = "MATRIX"
    default_unit = u.one

    @staticmethod
    def _mask_out_bounds(invalid):
        # as gammapy: outside in energy AND migra, or outside in offset
        return (invalid["energy_true"] & invalid["migra"]) | invalid["offset"]

    def pdf_matrix(self, energy_true_edges, energy_reco_edges, offset, threshold: float = 1e-8) -> np.ndarray:
        """P(reco bin | true bin) at ``offset``: shape (n_true, n_reco).

        As gammapy's ``to_edisp_kernel``: the migration pdf at each true-energy
        bin centre is integrated over the migra range of each reco bin (cumulative
        trapezoid on the IRF's migra nodes, linearly interpolated).
        """
        e_true = MapAxis(u.Quantity(energy_true_edges), name="energy_true").center
        e_reco = u.Quantity(energy_reco_edges).to_value(e_true.unit)
        migra_axis = self.axes["migra"]
        migra = migra_axis.center.value
        # pdf on the migra nodes for each true energy: (n_true, n_migra)
        pdf = self._values(energy_true=e_true[:, None], migra=migra[None, :], offset=u.Quantity(offset, "deg"))
        # cumulative integral over migra (0 at the first edge), normalised to end at 1 (as gammapy)
        dm = np.diff(migra_axis.edges.value)
        cdf = np.concatenate([np.zeros((len(e_true), 1)), np.cumsum(pdf * dm, axis=1)], axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            cdf = np.nan_to_num(cdf / cdf.max(axis=1, keepdims=True))
        m_edges = migra_axis.edges.value
        # migra of each reco edge for each true energy; the cdf is flat outside the migra range
        m = e_reco[None, :] / e_true.value[:, None]
        out = np.empty((len(e_true), len(e_reco)))
        for i in range(len(e_true)):
            out[i] = np.interp(m[i], m_edges, cdf[i])
        result = np.clip(np.diff(out, axis=1), 0, np.inf)
        result[result < threshold] = 0
        return result


class PSFTable(IRF):
    """PSF radial profile vs true energy, offset and radius (``psf_table``), in sr-1."""

    tag = "psf_table"
    required_axes = ("energy_true", "offset", "rad")
    column = "RPSF"
    default_unit = u.sr**-1

    def containment(self, rad, energy_true, offset):
        """Fraction of the PSF within ``rad`` (numerical integration of the profile)."""
        rad = Angle(rad).to_value("rad")
        grid = np.linspace(0, rad.max() if np.ndim(rad) else rad, 400)
        prof = self._values(energy_true=u.Quantity(energy_true)[..., None], offset=u.Quantity(offset)[..., None],
                            rad=(grid * u.rad).to(u.deg))
        integrand = 2 * np.pi * grid * prof
        cum = np.concatenate([np.zeros(integrand.shape[:-1] + (1,)), np.cumsum(0.5 * (integrand[..., 1:] + integrand[..., :-1]) * np.diff(grid), axis=-1)], axis=-1)
        return np.interp(rad, grid, cum[..., :].reshape(-1, len(grid))[0]) if cum.ndim == 1 or cum.shape[0] == 1 else cum


class _ParametricPSF(IRF):
    """PSF whose parameters are tabulated vs (energy_true, offset) and evaluated analytically."""

    required_axes = ("energy_true", "offset")
    parameters: tuple = ()
    default_unit = u.sr**-1

    def __init__(self, axes, params: dict, units: dict, meta=None, is_pointlike=False):
        self.axes = {ax.name: ax for ax in axes}
        self.params = {k: np.asarray(v, float) for k, v in params.items()}
        self.param_units = {k: u.Unit(v) for k, v in units.items()}
        self.unit = self.default_unit
        self.meta = dict(meta or {})
        self.is_pointlike = is_pointlike
        self._interps = {}

    @classmethod
    def from_hdu(cls, hdu):
        from .core import axis_from_hdu

        axes = [axis_from_hdu(hdu, n) for n in cls.required_axes]
        params, units = {}, {}
        for name in cls.parameters:
            col = name.upper()
            params[name] = np.asarray(hdu.column(col)[0], float).T
            if name.startswith("sigma"):
                # some files (CTA 1DC) write unused Gaussian widths as 0: use 1 deg (weight 0), as gammapy
                params[name] = np.where(params[name] == 0, 1.0, params[name])
            units[name] = hdu.unit(col) or ("deg" if name.startswith("sigma") else "")
        return cls(axes, params, units, dict(hdu.header), False)

    def evaluate_parameters(self, energy_true, offset) -> dict:
        out = {}
        for name in self.parameters:
            irf = IRF.__new__(IRF)
            irf.required_axes = self.required_axes
            irf.axes = self.axes
            irf.data = self.params[name]
            irf.values_scale = "lin"
            irf.fill_value = None
            irf._interp, irf._keep = self._interps.get(name, (None, None))
            v = irf._values(energy_true=energy_true, offset=offset)
            self._interps[name] = (irf._interp, irf._keep)
            unit = self.param_units[name]
            out[name] = u.Quantity(v, unit) if unit != u.one else v
        return out

    def evaluate(self, energy_true, offset, rad) -> u.Quantity:
        pars = self.evaluate_parameters(energy_true, offset)
        return self.evaluate_direct(Angle(rad), **pars).to("sr-1")

    def to_hdu(self, name=None):  # pragma: no cover - not needed for parametric PSFs yet
        raise NotImplementedError("Writing parametric PSFs is not supported; convert to a PSF table")


class PSF3Gauss(_ParametricPSF):
    """Triple-Gaussian PSF (``psf_3gauss``), as in CTA prod3 IRFs."""

    tag = "psf_3gauss"
    parameters = ("sigma_1", "sigma_2", "sigma_3", "scale", "ampl_2", "ampl_3")

    @staticmethod
    def evaluate_direct(rad, sigma_1, sigma_2, sigma_3, scale, ampl_2, ampl_3):
        sigmas = [sigma_1, sigma_2, sigma_3]
        amps = [np.ones(np.shape(scale)), ampl_2, ampl_3]
        norms = [2 * scale * a * s**2 for a, s in zip(amps, sigmas)]
        total = sum(norms)
        rad_deg = Angle(rad).to_value("deg")
        value = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            for n, s in zip(norms, sigmas):
                ratio = n / total
                frac = np.nan_to_num(ratio.to_value(u.one) if hasattr(ratio, "unit") else ratio)
                s_deg = u.Quantity(s, "deg").value
                gauss = np.exp(-0.5 * (rad_deg / s_deg) ** 2) / (2 * np.pi * s_deg**2)
                value = value + np.where(frac > 0, frac * np.nan_to_num(gauss), 0.0)
        return u.Quantity(value, "deg-2")


class PSFKing(_ParametricPSF):
    """King-function PSF (``psf_king``)."""

    tag = "psf_king"
    parameters = ("gamma", "sigma")

    @staticmethod
    def evaluate_direct(rad, gamma, sigma):
        with np.errstate(divide="ignore"):
            term1 = 1 / (2 * np.pi * sigma**2)  # noqa: E501
            term2 = 1 - 1 / gamma
            term3 = (1 + rad**2 / (2 * gamma * sigma**2)) ** (-gamma)
        return term1 * term2 * term3


class Background3D(IRF):
    """Background rate vs reco energy and field-of-view coordinates (``bkg_3d``)."""

    tag = "bkg_3d"
    required_axes = ("energy", "fov_lon", "fov_lat")
    column = "BKG"
    column_aliases = ("BGD",)  # CTA 1DC
    default_unit = u.Unit("s-1 MeV-1 sr-1")
    values_scale = "log"


class Background2D(IRF):
    """Background rate vs reco energy and offset (``bkg_2d``)."""

    tag = "bkg_2d"
    required_axes = ("energy", "offset")
    column = "BKG"
    column_aliases = ("BGD",)
    default_unit = u.Unit("s-1 MeV-1 sr-1")
    values_scale = "log"


class RadMax2D(IRF):
    """Point-like ON radius vs reco energy and offset (``rad_max_2d``), interpolated as gammapy does."""

    tag = "rad_max_2d"
    required_axes = ("energy", "offset")
    column = "RAD_MAX"
    default_unit = u.deg

    fixed_value = None

    @classmethod
    def from_fixed(cls, value, aeff) -> "RadMax2D":
        """A constant RAD_MAX (the AEFF header keyword) over the effective area's axes."""
        e = aeff.axes["energy_true"]
        axes = [MapAxis(e.bounds, name="energy"), MapAxis(aeff.axes["offset"].bounds, name="offset")]
        rm = cls(axes, np.full((1, 1), float(value)), u.deg, {"RAD_MAX": float(value)}, True)
        rm.fixed_value = Angle(float(value), "deg")
        return rm
