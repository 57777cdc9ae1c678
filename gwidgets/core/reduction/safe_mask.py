"""Safe energy ranges: which reconstructed-energy bins of a dataset can be trusted.

Methods (names as gammapy's ``SafeMaskMaker``):

- ``"aeff-default"``: the IRF's own LO_THRES/HI_THRES; an instrument without
  them (FACT) needs ``e_min``/``e_max`` given by the user — otherwise a clear error.
- ``"aeff-max"``: lower threshold where the effective area (at the ON region
  offset) first exceeds ``aeff_percent`` % of its maximum.
- ``"edisp-bias"``: lower threshold where the energy bias falls below
  ``bias_percent`` % (above the peak-bias energy).
- ``"bkg-peak"``: lower threshold at the bin where the background peaks.
- ``"user"``: ``e_min``/``e_max`` only.

A bin is safe only if it lies entirely inside every range, as in gammapy.
"""
from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np

from ...errors import GwidgetsError

__all__ = ["SafeMaskMaker", "energy_mask", "SafeMaskError"]

METHODS = ("aeff-default", "aeff-max", "edisp-bias", "bkg-peak", "user")


class SafeMaskError(GwidgetsError, ValueError):
    """A safe-mask method cannot be applied (names the observation and the method)."""


def energy_mask(edges, e_min=None, e_max=None) -> np.ndarray:
    """Bins of ``edges`` lying entirely inside ``[e_min, e_max]``.

    Parameters
    ----------
    edges : `~astropy.units.Quantity`
        Bin edges (an energy).
    e_min, e_max : `~astropy.units.Quantity`, optional
        Bounds; None means no bound on that side.

    Returns
    -------
    numpy.ndarray
        Boolean array with one entry per bin.

    Examples
    --------
    >>> import astropy.units as u
    >>> energy_mask([0.1, 1, 10, 100] * u.TeV, e_min=500 * u.GeV)
    array([False,  True,  True])
    """
    edges = u.Quantity(edges)
    lo, hi = edges[:-1], edges[1:]
    mask = np.ones(len(lo), dtype=bool)
    if e_min is not None:
        mask &= lo >= u.Quantity(e_min)
    if e_max is not None:
        mask &= hi <= u.Quantity(e_max)
    return mask


def _loglog_root(x, y, target):
    """First x (log-log interpolation of y(x)) where y crosses ``target`` going down; NaN if none."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    for i in range(len(x) - 1):
        y0, y1 = y[i], y[i + 1]
        if (y0 - target) * (y1 - target) <= 0 and y0 != y1:
            if y0 > 0 and y1 > 0 and target > 0:
                t = (np.log(target) - np.log(y0)) / (np.log(y1) - np.log(y0))
            else:
                t = (target - y0) / (y1 - y0)
            return float(np.exp(np.log(x[i]) + t * (np.log(x[i + 1]) - np.log(x[i]))))
    return float("nan")


@dataclass
class SafeMaskMaker:
    """Compute ``mask_safe`` for a 1D extraction (and its observation).

    Parameters
    ----------
    methods : tuple of str or str, optional
        Methods combined (see the module doc): ``"aeff-default"``, ``"aeff-max"``, ``"edisp-bias"``,
        ``"bkg-peak"``, ``"user"``.
    aeff_percent : float, optional
        Percentage of the maximum effective area for ``"aeff-max"``.
    bias_percent : float, optional
        Largest energy bias in percent for ``"edisp-bias"``.
    e_min, e_max : `~astropy.units.Quantity`, optional
        User bounds, applied with every method.

    Raises
    ------
    SafeMaskError
        For an unknown method.

    Examples
    --------
    >>> from regions import CircleSkyRegion
    >>> from gwidgets.core.geom import MapAxis
    >>> from gwidgets.core.reduction.spectrum import SpectrumExtractor
    >>> observation = gw.example_store().get_observations([1001])[0]
    >>> extraction = SpectrumExtractor(
    ...     CircleSkyRegion(SkyCoord(83.63, 22.01, unit="deg"), 0.15 * u.deg),
    ...     energy_axis=MapAxis.from_energy_bounds(0.3 * u.TeV, 100 * u.TeV, 15),
    ...     energy_axis_true=MapAxis.from_energy_bounds(0.1 * u.TeV, 200 * u.TeV, 25, name="energy_true"),
    ... ).run(observation)
    >>> maker = SafeMaskMaker(methods=["aeff-max", "edisp-bias"], aeff_percent=10, bias_percent=10)
    >>> mask, (e_lo, e_hi) = maker.run(extraction, observation)
    >>> mask.shape, bool(mask[-1]), e_lo.unit
    ((15,), True, Unit("TeV"))
    """

    methods: tuple = ("aeff-default",)
    aeff_percent: float = 10.0
    bias_percent: float = 10.0
    e_min: u.Quantity | None = None
    e_max: u.Quantity | None = None

    def __post_init__(self):
        if isinstance(self.methods, str):
            self.methods = (self.methods,)
        bad = [m for m in self.methods if m not in METHODS]
        if bad:
            raise SafeMaskError(f"Unknown safe-mask method(s) {bad}; choose from {list(METHODS)}")

    def thresholds(self, extraction, observation=None) -> tuple:
        """(e_min, e_max) combining all methods (None where unbounded).

        Parameters
        ----------
        extraction : `~gwidgets.core.reduction.spectrum.SpectrumExtraction`
            The ON/OFF extraction of one observation.
        observation : `~gwidgets.core.data.Observation`, optional
            Its observation (``"aeff-max"`` needs its effective area).

        Returns
        -------
        e_min, e_max : `~astropy.units.Quantity` or None
            The highest lower bound and the lowest upper bound.

        Raises
        ------
        SafeMaskError
            If a method cannot be applied: ``"aeff-default"`` without LO_THRES and ``e_min``, ``"aeff-max"``
            without the observation's effective area, ``"bkg-peak"`` without a background, ``"user"`` without
            ``e_min`` / ``e_max``.
        """
        lo, hi = [], []
        if self.e_min is not None:
            lo.append(u.Quantity(self.e_min))
        if self.e_max is not None:
            hi.append(u.Quantity(self.e_max))
        for method in self.methods:
            a, b = getattr(self, "_" + method.replace("-", "_"))(extraction, observation)
            if a is not None:
                lo.append(a)
            if b is not None:
                hi.append(b)
        e_min = max(lo, key=lambda q: q.to_value("TeV")) if lo else None
        e_max = min(hi, key=lambda q: q.to_value("TeV")) if hi else None
        return e_min, e_max

    def run(self, extraction, observation=None):
        """(mask over reco-energy bins, (e_min, e_max)).

        Parameters
        ----------
        extraction : `~gwidgets.core.reduction.spectrum.SpectrumExtraction`
            The ON/OFF extraction of one observation.
        observation : `~gwidgets.core.data.Observation`, optional
            Its observation (``"aeff-max"`` needs its effective area).

        Returns
        -------
        mask : numpy.ndarray
            Boolean mask over the reco-energy bins.
        thresholds : tuple
            ``(e_min, e_max)`` as returned by `thresholds`.

        Raises
        ------
        SafeMaskError
            If a method cannot be applied (see `thresholds`).
        """
        e_min, e_max = self.thresholds(extraction, observation)
        return energy_mask(extraction.energy_axis.edges, e_min, e_max), (e_min, e_max)

    # ---------------------------------------------------------------- methods
    def _user(self, extraction, observation):
        if self.e_min is None and self.e_max is None:
            raise SafeMaskError("Safe-mask method 'user' needs e_min and/or e_max")
        return None, None

    def _aeff_default(self, extraction, observation):
        lo, hi = extraction.energy_thresholds
        if lo is None and self.e_min is None:
            raise SafeMaskError(
                f"Observation {extraction.obs_id} has no default safe energy threshold (LO_THRES) in its "
                "effective area; give e_min (e.g. SafeMaskMaker(methods=['aeff-default'], e_min=0.4 * u.TeV))"
            )
        return lo, hi

    def _aeff_max(self, extraction, observation):
        if observation is None or observation.aeff is None:
            raise SafeMaskError("Safe-mask method 'aeff-max' needs the observation's effective area "
                                f"(obs {extraction.obs_id})")
        aeff = observation.aeff
        edges = aeff.axes["energy_true"].edges if hasattr(aeff, "axes") else extraction.energy_axis_true.edges
        values = aeff.evaluate(energy_true=edges, offset=extraction.offset).value
        valid = edges[values > self.aeff_percent * np.max(values) / 100]
        return (np.min(valid) if len(valid) else None), None

    def _edisp_bias(self, extraction, observation):
        pdf = np.asarray(extraction.edisp)
        e_true = extraction.energy_axis_true.center.to_value("TeV")
        e_reco = extraction.energy_axis.center.to_value("TeV")
        norm = pdf.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.nan_to_num((pdf * e_reco).sum(axis=1) / norm)
        bias = (mean - e_true) / e_true
        start = int(np.nanargmax(bias))
        root = _loglog_root(e_true[start:], bias[start:], self.bias_percent / 100)
        if not np.isfinite(root):
            root = e_true[start]
        return root * (1 + self.bias_percent / 100) * u.TeV, None

    def _bkg_peak(self, extraction, observation):
        bkg = getattr(extraction, "background", None)
        if bkg is None:
            bkg = extraction.counts_off
        if bkg is None:
            raise SafeMaskError(f"Safe-mask method 'bkg-peak' needs a background (obs {extraction.obs_id})")
        idx = int(np.argmax(np.asarray(bkg)))
        return extraction.energy_axis.edges[idx], None
