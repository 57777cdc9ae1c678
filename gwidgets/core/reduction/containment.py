"""When a 1D extraction scales the exposure by the PSF containment of the ON region.

``containment_correction`` takes three values:

* ``"auto"`` (the default everywhere: API, `SpectrumDatasetMaker`, the
  session, the `Analysis` config and the exported script): apply it for an
  observation with **full-enclosure** IRFs (no RAD_MAX, a PSF HDU) and a
  **circular** ON region; never for point-like IRFs, whose events are already
  cut at RAD_MAX. A full-enclosure observation with a non-circular ON region,
  or without a PSF, is reduced without it and a note says why (its flux will be
  low by the PSF leakage out of the region).
* ``True``: always apply it (an error for point-like IRFs or a non-circular ON
  region).
* ``False``: never apply it (for checks against codes run without it).

Why: with full-enclosure IRFs the effective area counts every detected
photon, wherever the PSF put it; an ON circle of 0.11° holds only 60–90 % of
them. Without the correction the fitted amplitude is low by that fraction and
the index is biased (the PSF narrows with energy).

>>> resolve_mode("auto"), resolve_mode(True), resolve_mode("false")
('auto', True, False)
"""
from __future__ import annotations

import numpy as np

from ...errors import GwidgetsError

__all__ = ["ContainmentCorrectionError", "resolve_mode", "decide", "MODES"]

#: the accepted values (strings as a config or widget gives them)
MODES = ("auto", True, False)


class ContainmentCorrectionError(GwidgetsError, ValueError):
    """PSF containment correction asked for where it cannot apply (point-like IRFs, non-circular ON region)."""


def resolve_mode(value):
    """``"auto"``, True or False from a bool or one of the strings auto/true/false (any case).

    ``"yes"`` and ``"no"`` are also accepted.

    Parameters
    ----------
    value : bool or str
        The ``containment_correction`` setting.

    Returns
    -------
    str or bool
        ``"auto"``, True or False.

    Raises
    ------
    ContainmentCorrectionError
        For any other value.

    Examples
    --------
    >>> resolve_mode("AUTO")
    'auto'
    >>> resolve_mode("sometimes")
    Traceback (most recent call last):
    ...
    gwidgets.core.reduction.containment.ContainmentCorrectionError: containment_correction must be 'auto',
    True or False, not 'sometimes'
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        table = {"auto": "auto", "true": True, "false": False, "yes": True, "no": False}
        if text in table:
            return table[text]
    raise ContainmentCorrectionError(f"containment_correction must be 'auto', True or False, not {value!r}")


def check_region(mode, on_region) -> None:
    """``True`` with a non-circular ON region is an error (raised where the region enters).

    Parameters
    ----------
    mode : str or bool
        What `resolve_mode` returns.
    on_region : `~regions.SkyRegion`
        The ON region.

    Raises
    ------
    ContainmentCorrectionError
        If ``mode`` is True and ``on_region`` is not a `~regions.CircleSkyRegion`.
    """
    from regions import CircleSkyRegion

    if mode is True and not isinstance(on_region, CircleSkyRegion):
        raise ContainmentCorrectionError(
            f"PSF containment correction needs a circular ON region, not {type(on_region).__name__}")


def decide(mode, obs, on_region) -> tuple[bool, str]:
    """Whether to apply the containment correction to one observation, and why not where it matters.

    Parameters
    ----------
    mode : str or bool
        What `resolve_mode` returns.
    obs : `~gwidgets.core.data.Observation`
        The observation (``is_pointlike`` and ``available_hdus`` are read).
    on_region : `~regions.SkyRegion`
        The ON region.

    Returns
    -------
    apply : bool
        Whether to scale the exposure by the PSF containment.
    note : str
        Why it is not applied in ``"auto"`` mode for a full-enclosure observation (non-circular ON
        region, no PSF); empty otherwise. It holds no observation id.

    Raises
    ------
    ContainmentCorrectionError
        If ``mode`` is True and the observation has point-like IRFs (the message names it).
    """
    from regions import CircleSkyRegion

    if mode is False:
        return False, ""
    pointlike = obs.is_pointlike
    if mode is True:
        if pointlike:
            raise ContainmentCorrectionError(
                f"Observation {obs.obs_id} has point-like IRFs (events already cut at RAD_MAX): PSF containment "
                "correction only applies to full-enclosure IRFs; use containment_correction='auto' or False")
        return True, ""
    # auto
    if pointlike:
        return False, ""
    if not isinstance(on_region, CircleSkyRegion):
        return False, (f"full-enclosure IRFs with a {type(on_region).__name__} ON region: the PSF containment "
                       "correction does not apply to it, so fluxes are low by the PSF leakage out of the region; "
                       "use a CircleSkyRegion")
    if "psf" not in obs.available_hdus:
        return False, ("full-enclosure IRFs without a PSF: no PSF containment correction is possible, so fluxes "
                       "are low by the PSF leakage out of the ON region")
    return True, ""
