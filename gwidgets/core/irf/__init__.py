"""Instrument response functions (GADF DL3): read, evaluate as gammapy 2.1 does, write.

=====================  ====================  ==========================================
GADF HDU class         class                 axes (unit of the values)
=====================  ====================  ==========================================
``aeff_2d``            `EffectiveArea2D`     energy_true, offset (m2)
``edisp_2d``           `EnergyDispersion2D`  energy_true, migra, offset (1)
``psf_table``          `PSFTable`            energy_true, offset, rad (sr-1)
``psf_3gauss``         `PSF3Gauss`           energy_true, offset → analytic in rad (sr-1)
``psf_king``           `PSFKing`             energy_true, offset → analytic in rad (sr-1)
``bkg_3d``             `Background3D`        energy, fov_lon, fov_lat (s-1 MeV-1 sr-1)
``bkg_2d``             `Background2D`        energy, offset (s-1 MeV-1 sr-1)
``rad_max_2d``         `RadMax2D`            energy, offset (deg)
=====================  ====================  ==========================================

`load_irf(hdu)` picks the class from the HDU class (argument, or the HDU's
HDUCLAS2/HDUCLAS4 keywords) through `IRF_REGISTRY`; every class has
``from_hdu``, ``to_hdu`` and a vectorised ``evaluate`` taking Quantities.

A run file of the simulated example store, whose IRFs tabulate an analytic instrument:

>>> from gwidgets.core.io.fits import FitsFile
>>> from gwidgets.core.simulate import example_store_path, instrument
>>> path = example_store_path() / "data" / "gwsim_obs_001001.fits.gz"
>>> aeff = load_irf(FitsFile(path)["AEFF"])
>>> type(aeff).__name__
'EffectiveArea2D'
>>> area = aeff.evaluate(energy_true=[1, 10] * u.TeV, offset=0.5 * u.deg)
>>> bool(np.allclose(area.to_value("m2"), instrument.aeff([1, 10], 0.5), rtol=0.01))
True
"""
from __future__ import annotations

from .aeff import EffectiveArea2D
from .axes import IRFAxis
from .background import Background2D, Background3D
from .core import IRF
from .edisp import EnergyDispersion2D
from .psf_parametric import ParametricPSF, PSF3Gauss, PSFKing
from .psf_table import PSFTable
from .rad_max import RadMax2D, fixed_rad_max
from .registry import IRF_REGISTRY, hdu_class_from_header, load_irf

__all__ = [
    "IRF", "IRFAxis", "IRF_REGISTRY", "load_irf", "hdu_class_from_header", "EffectiveArea2D",
    "EnergyDispersion2D", "PSFTable", "ParametricPSF", "PSF3Gauss", "PSFKing", "Background3D",
    "Background2D", "RadMax2D", "fixed_rad_max",
]
