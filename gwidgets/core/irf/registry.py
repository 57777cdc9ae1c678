"""Which class reads which GADF IRF HDU: `IRF_REGISTRY` and `load_irf`.

A new IRF format is one class (with ``tag`` and ``from_hdu``) and one line in
`IRF_REGISTRY` (see docs/extending.md).  The class comes from the caller (the HDU index's
``HDU_CLASS``) or from the HDU's ``HDUCLAS2``/``HDUCLAS4`` keywords, old
spellings included (CTA 1DC writes ``HDUCLAS4 = '2D'``, ``'3GAUSS'``, ``'3D'``).
"""
from __future__ import annotations

from ...errors import UnsupportedFormatError
from ..registry import Registry
from .aeff import EffectiveArea2D
from .background import Background2D, Background3D
from .edisp import EnergyDispersion2D
from .psf_parametric import PSF3Gauss, PSFKing
from .psf_table import PSFTable
from .rad_max import RadMax2D

__all__ = ["IRF_REGISTRY", "load_irf", "hdu_class_from_header"]

#: GADF HDU class → IRF class (a new IRF class is one file plus one line here)
IRF_REGISTRY = Registry("IRF class")
IRF_REGISTRY.add("aeff_2d", EffectiveArea2D)
IRF_REGISTRY.add("edisp_2d", EnergyDispersion2D)
IRF_REGISTRY.add("psf_table", PSFTable)
IRF_REGISTRY.add("psf_3gauss", PSF3Gauss)
IRF_REGISTRY.add("psf_king", PSFKing)
IRF_REGISTRY.add("bkg_2d", Background2D)
IRF_REGISTRY.add("bkg_3d", Background3D)
IRF_REGISTRY.add("rad_max_2d", RadMax2D)

_PSF = {"PSF_TABLE": "psf_table", "TABLE": "psf_table", "PSF_3GAUSS": "psf_3gauss", "3GAUSS": "psf_3gauss",
        "PSF_KING": "psf_king", "KING": "psf_king"}
#: HDUCLAS2 → {HDUCLAS4 → HDU class}
_BY_HEADER = {
    "EFF_AREA": {"AEFF_2D": "aeff_2d", "2D": "aeff_2d"},
    "EDISP": {"EDISP_2D": "edisp_2d", "2D": "edisp_2d"},
    "PSF": _PSF,
    "RPSF": _PSF,
    "BKG": {"BKG_2D": "bkg_2d", "2D": "bkg_2d", "BKG_3D": "bkg_3d", "3D": "bkg_3d"},
    "RAD_MAX": {"RAD_MAX_2D": "rad_max_2d", "2D": "rad_max_2d"},
}


def _from_columns(hdu, hduclas2: str) -> str | None:
    """HDU class of an IRF HDU without HDUCLAS4, from its columns."""
    if hduclas2 in ("PSF", "RPSF"):
        for column, tag in (("RPSF", "psf_table"), ("SIGMA_1", "psf_3gauss"), ("GAMMA", "psf_king")):
            if hdu.has_column(column):
                return tag
        return None
    if hduclas2 == "BKG":
        return "bkg_3d" if hdu.has_column("DETX_LO") else "bkg_2d"
    values = set(_BY_HEADER.get(hduclas2, {}).values())
    return values.pop() if len(values) == 1 else None


def hdu_class_from_header(hdu) -> str | None:
    """The GADF HDU class (e.g. ``"aeff_2d"``) from the HDUCLAS2/HDUCLAS4 keywords.

    Returns the lower-case HDUCLAS4 (or HDUCLAS2) when the combination is not
    known, and None when the HDU has neither keyword.

    Parameters
    ----------
    hdu : `~gwidgets.core.io.fits_hdu.TableHDU`
        The IRF HDU (its columns decide when HDUCLAS4 is missing).

    Returns
    -------
    str or None
        The lower-case HDU class.
    """
    c2 = str(hdu.header.get("HDUCLAS2", "") or "").strip().upper()
    c4 = str(hdu.header.get("HDUCLAS4", "") or "").strip().upper()
    if c4.lower() in IRF_REGISTRY:
        return c4.lower()
    if c2 in _BY_HEADER:
        if c4:
            return _BY_HEADER[c2].get(c4, c4.lower())
        return _from_columns(hdu, c2) or c2.lower()
    return (c4 or c2).lower() or None


def load_irf(hdu, hdu_class: str | None = None):
    """Read an IRF HDU (`gwidgets.core.io.fits_hdu.TableHDU`) into the class for ``hdu_class``.

    ``hdu_class`` (e.g. ``"aeff_2d"``, as the HDU index's ``HDU_CLASS``)
    defaults to the one the HDU's keywords give.

    Parameters
    ----------
    hdu : `~gwidgets.core.io.fits_hdu.TableHDU`
        The IRF HDU.
    hdu_class : str, optional
        GADF HDU class, a key of `IRF_REGISTRY`.

    Returns
    -------
    `~gwidgets.core.irf.IRF`
        An instance of the registered class.

    Raises
    ------
    `~gwidgets.errors.UnsupportedFormatError`
        Naming file and HDU for a class not in `IRF_REGISTRY`; and the errors
        of the class' ``from_hdu``.

    Examples
    --------
    >>> import io, numpy as np
    >>> from astropy.io import fits
    >>> from gwidgets.core.io.fits import FitsFile
    >>> from gwidgets.core.irf import EffectiveArea2D, IRFAxis
    >>> axes = [IRFAxis([0.1, 1, 10], "energy_true", unit="TeV"), IRFAxis([0, 1, 2], "offset", unit="deg")]
    >>> buf = io.BytesIO()
    >>> fits.HDUList([fits.PrimaryHDU(), EffectiveArea2D(axes, np.ones((2, 2))).to_hdu()]).writeto(buf)
    >>> load_irf(FitsFile("aeff.fits", data=buf.getvalue())["EFFECTIVE AREA"])
    EffectiveArea2D(energy_true: 2 bins 0.1–10 TeV, offset: 2 bins 0–2 deg; unit m2; full-enclosure)
    """
    tag = str(hdu_class).strip().lower() if hdu_class else hdu_class_from_header(hdu)
    if tag not in IRF_REGISTRY:
        what = f"IRF class '{tag}'" if tag else "no IRF class (no HDUCLAS2/HDUCLAS4 keywords)"
        raise UnsupportedFormatError(
            f"HDU '{hdu.name}' of file '{hdu.filename}' has {what}, which gwidgets cannot read "
            f"(supported: {', '.join(IRF_REGISTRY)})",
            hdu.filename,
        )
    return IRF_REGISTRY[tag].from_hdu(hdu)
