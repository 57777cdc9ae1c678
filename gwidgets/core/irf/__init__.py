"""Instrument response functions (GADF): read, evaluate (gammapy-compatible interpolation), write.

`load_irf(hdu)` picks the class from the HDU class (argument or HDUCLAS keywords)
through `IRF_REGISTRY`; a new IRF format is one class + one registry line.
"""
from __future__ import annotations

from ...errors import UnsupportedFormatError
from .components import (
    Background2D,
    Background3D,
    EffectiveArea2D,
    EnergyDispersion2D,
    PSF3Gauss,
    PSFKing,
    PSFTable,
    RadMax2D,
)
from .core import IRF

__all__ = [
    "IRF", "IRF_REGISTRY", "load_irf", "EffectiveArea2D", "EnergyDispersion2D", "PSFTable", "PSF3Gauss",
    "PSFKing", "Background3D", "Background2D", "RadMax2D",
]

IRF_REGISTRY = {cls.tag: cls for cls in (EffectiveArea2D, EnergyDispersion2D, PSFTable, PSF3Gauss, PSFKing,
                                         Background3D, Background2D, RadMax2D)}

_FROM_HEADER = {
    ("EFF_AREA", ""): "aeff_2d", ("EDISP", ""): "edisp_2d", ("PSF", ""): "psf_table",
    ("BKG", ""): "bkg_3d", ("RAD_MAX", ""): "rad_max_2d",
}


def load_irf(hdu, hdu_class: str | None = None):
    """Read an IRF HDU into the matching class (e.g. ``hdu_class="aeff_2d"``)."""
    if not hdu_class:
        c4 = str(hdu.header.get("HDUCLAS4", "")).strip().lower()
        c2 = str(hdu.header.get("HDUCLAS2", "")).strip().upper()
        hdu_class = c4 if c4 else _FROM_HEADER.get((c2, ""), c2.lower() or None)
    cls = IRF_REGISTRY.get(str(hdu_class or "").lower())
    if cls is None:
        raise UnsupportedFormatError(
            f"HDU '{hdu.name}' of file '{hdu.filename}' has IRF class '{hdu_class}', which gwidgets cannot read "
            f"(supported: {', '.join(sorted(IRF_REGISTRY))})",
            hdu.filename,
        )
    return cls.from_hdu(hdu)
