"""1D spectrum extraction: ON counts, reflected OFF counts, exposure and energy dispersion.

One observation → one :class:`SpectrumExtraction` (plain arrays with units),
which the dataset classes turn into a `SpectrumDatasetOnOff`. Extraction of
many observations streams them one by one through an executor (serial,
processes or Dask) so that memory stays flat.

Examples
--------
>>> extractor = SpectrumExtractor(CircleSkyRegion(crab, 0.11 * u.deg),
...                               energy_axis=MapAxis.from_energy_bounds(0.01 * u.TeV, 100 * u.TeV, 80),
...                               energy_axis_true=MapAxis.from_energy_bounds(0.01 * u.TeV, 100 * u.TeV, 80, name="energy_true"))  # doctest: +SKIP
>>> results = extractor.run_many(observations, executor="processes")    # doctest: +SKIP
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import astropy.units as u
from astropy.coordinates import Angle, SkyCoord

from ...errors import GwidgetsError, MissingIRFError
from ..executor import get_executor
from ..geom import MapAxis
from .reflected import ReflectedRegionsFinder

__all__ = ["SpectrumExtraction", "SpectrumExtractor", "RadMaxMismatchError"]


class RadMaxMismatchError(GwidgetsError, ValueError):
    """The ON region radius differs from the point-like IRF's RAD_MAX."""


@dataclass
class SpectrumExtraction:
    """What one observation contributes to a 1D ON/OFF spectrum.

    Arrays: ``counts``, ``counts_off``, ``acceptance``, ``acceptance_off`` per
    reco-energy bin; ``exposure`` (cm² s) per true-energy bin; ``edisp``
    (n_true × n_reco migration probabilities). ``reason`` is set (and the
    arrays are empty) when the observation could not be used.
    """

    obs_id: int
    energy_axis: MapAxis
    energy_axis_true: MapAxis
    counts: np.ndarray | None = None
    counts_off: np.ndarray | None = None
    acceptance: np.ndarray | None = None
    acceptance_off: np.ndarray | None = None
    exposure: u.Quantity | None = None
    edisp: np.ndarray | None = None
    livetime: u.Quantity = 0 * u.s
    offset: Angle | None = None
    on_region: object = None
    off_regions: list = field(default_factory=list)
    energy_thresholds: tuple = (None, None)
    reason: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when ON and OFF spectra were both extracted (``reason`` empty)."""
        return not self.reason

    @property
    def alpha(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.acceptance / self.acceptance_off

    @property
    def n_on(self) -> int:
        return int(self.counts.sum()) if self.counts is not None else 0

    @property
    def n_off(self) -> int:
        return int(self.counts_off.sum()) if self.counts_off is not None else 0

    def __repr__(self):
        if not self.ok:
            return f"SpectrumExtraction(obs_id={self.obs_id}, n_on={self.n_on}, unusable: {self.reason})"
        return (
            f"SpectrumExtraction(obs_id={self.obs_id}, n_on={self.n_on}, n_off={self.n_off}, "
            f"n_off_regions={len(self.off_regions)}, livetime={self.livetime.to_value('s'):.0f} s, "
            f"offset={self.offset.deg:.3f}°)"
        )


def _unit_vectors(coords: SkyCoord) -> np.ndarray:
    c = coords.icrs
    # float64: event coordinates are float32 in DL3 files, and cos(0.1 deg) needs double precision
    ra, dec = np.asarray(c.ra.rad, dtype=np.float64), np.asarray(c.dec.rad, dtype=np.float64)
    return np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=-1)


def _center_vectors(regions) -> np.ndarray:
    """Unit vectors of the region centres (a plain loop: building one SkyCoord from a list is ~10x slower)."""
    lonlat = []
    for r in regions:
        c = r.center if r.center.frame.name == "icrs" else r.center.icrs
        lonlat.append((c.ra.rad, c.dec.rad))
    ra, dec = np.array(lonlat, dtype=np.float64).T
    return np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=-1)


def _in_regions(events, regions, off_centers=None) -> np.ndarray:
    """(n_regions, n_events) membership; circles vectorised on the sphere.

    ``off_centers``: the centres of ``regions[1:]`` as one SkyCoord array, if known (faster).
    """
    from regions import CircleSkyRegion

    from ..data.events import region_contains

    if not regions:
        return np.zeros((0, len(events)), dtype=bool)
    coords = events.radec
    if all(isinstance(r, CircleSkyRegion) for r in regions):
        ev = _unit_vectors(coords)
        if off_centers is not None and len(off_centers) == len(regions) - 1:
            centers = np.concatenate([_center_vectors(regions[:1]), _unit_vectors(off_centers)])
        else:
            centers = _center_vectors(regions)
        cos_r = np.cos(np.array([r.radius.to_value("rad") for r in regions]))
        return (centers @ ev.T) > cos_r[:, None]
    return np.array([region_contains(r, coords) for r in regions])


class SpectrumExtractor:
    """Extract ON/OFF spectra for one ON region from observations.

    Parameters
    ----------
    on_region : regions.SkyRegion
        The ON region (circle for point-like IRFs).
    energy_axis, energy_axis_true : MapAxis
        Reconstructed and true energy binning.
    finder : ReflectedRegionsFinder
        OFF-region finder (default: gammapy's defaults).
    exclusion_mask : Map or None
        Boolean map, True = usable sky.
    rad_max_rtol : float
        For point-like IRFs with a fixed RAD_MAX: an ON radius within this
        relative tolerance is accepted (RAD_MAX is used, with a warning when
        they differ); anything else is an error.
    """

    def __init__(self, on_region, energy_axis: MapAxis, energy_axis_true: MapAxis, finder=None,
                 exclusion_mask=None, rad_max_rtol: float = 0.01):
        self.on_region = on_region
        self.energy_axis = energy_axis
        self.energy_axis_true = energy_axis_true
        self.finder = finder or ReflectedRegionsFinder()
        self.exclusion_mask = exclusion_mask
        self.rad_max_rtol = rad_max_rtol

    # ------------------------------------------------------------------ run
    def run(self, obs) -> SpectrumExtraction:
        """Extract one observation; a missing IRF or unusable geometry gives an empty result with a reason."""
        result = SpectrumExtraction(obs.obs_id, self.energy_axis, self.energy_axis_true)
        try:
            return self._run(obs, result)
        except MissingIRFError as exc:
            result.reason = str(exc)
            return result

    def _run(self, obs, result: SpectrumExtraction) -> SpectrumExtraction:
        on_region = self._check_rad_max(obs)
        result.on_region = on_region
        pointing = obs.pointing_radec
        center = on_region.center if hasattr(on_region, "center") else None
        result.offset = center.separation(pointing) if center is not None else Angle(0, "deg")
        livetime = obs.livetime
        result.livetime = livetime
        if livetime <= 0 * u.s:
            result.reason = f"observation {obs.obs_id} has zero livetime"
            return result
        aeff, edisp = obs.aeff, obs.edisp
        if aeff is None:
            raise MissingIRFError(obs.obs_id, "aeff", obs.available_hdus)
        if edisp is None:
            raise MissingIRFError(obs.obs_id, "edisp", obs.available_hdus)
        offset_max = getattr(aeff, "offset_max", None)
        if offset_max is not None and result.offset > offset_max:
            result.reason = (
                f"ON region centre is {result.offset.deg:.2f}° from the pointing of observation {obs.obs_id}, "
                f"outside the field of view of its IRFs ({offset_max.to_value('deg'):.2f}°)"
            )
            return result

        found = self.finder.run(on_region, pointing, exclusion_mask=self.exclusion_mask)
        result.off_regions = found.regions

        events = obs.events
        e_idx = self.energy_axis.coord_to_idx(events.energy)
        n_reco = self.energy_axis.nbin
        inside = _in_regions(events, [on_region, *found.regions], getattr(found, "centers", None))
        ok = e_idx >= 0
        result.counts = np.bincount(e_idx[ok & inside[0]], minlength=n_reco).astype(float)
        off_mask = inside[1:].any(axis=0) & ok
        result.counts_off = np.bincount(e_idx[off_mask], minlength=n_reco).astype(float)
        result.acceptance = np.ones(n_reco)
        result.acceptance_off = np.full(n_reco, float(len(found.regions)))
        if not found.regions:
            # ON counts and IRFs are still extracted; the result says why there is no background
            result.reason = f"observation {obs.obs_id}: {found.reason}"

        e_true = self.energy_axis_true.center
        area = aeff.evaluate(energy_true=e_true, offset=result.offset)
        result.exposure = (area * livetime).to("cm2 s")
        result.edisp = np.asarray(
            edisp.pdf_matrix(self.energy_axis_true.edges, self.energy_axis.edges, result.offset)
        )
        lo, hi = getattr(aeff, "lo_threshold", None), getattr(aeff, "hi_threshold", None)
        result.energy_thresholds = (lo, hi)
        result.meta = {"OBS_ID": obs.obs_id, "OBJECT": obs.target_name}
        return result

    def _check_rad_max(self, obs):
        """For point-like IRFs: the ON radius must match a fixed RAD_MAX (within rtol)."""
        from regions import CircleSkyRegion

        rad_max = obs.rad_max if obs.is_pointlike else None
        if rad_max is None or not isinstance(self.on_region, CircleSkyRegion):
            return self.on_region
        fixed = getattr(rad_max, "fixed_value", None)
        if fixed is None:
            values = np.unique(np.asarray(rad_max.data))
            if len(values) != 1:
                return self.on_region  # energy-dependent RAD_MAX: handled per energy bin elsewhere
            fixed = values[0] * u.Unit(rad_max.unit)
        fixed = Angle(fixed)
        radius = self.on_region.radius
        if np.isclose(radius.to_value("deg"), fixed.deg, rtol=self.rad_max_rtol, atol=0):
            if radius.to_value("deg") != fixed.deg:
                warnings.warn(
                    f"ON radius {radius.to_value('deg'):.4f}° differs slightly from RAD_MAX {fixed.deg:.4f}° "
                    f"of observation {obs.obs_id}; using RAD_MAX",
                    stacklevel=3,
                )
            return CircleSkyRegion(self.on_region.center, fixed)
        raise RadMaxMismatchError(
            f"ON region radius {radius.to_value('deg'):.4f}° does not match RAD_MAX = {fixed.deg:.4f}° of the "
            f"point-like IRFs of observation {obs.obs_id}: point-like IRFs are only valid for that radius"
        )

    def run_many(self, observations, executor="serial", progress=None, token=None) -> list[SpectrumExtraction]:
        """Extract every observation (streaming); failures are returned as empty results with reasons."""
        ex = get_executor(executor)
        return ex.map(self.run, list(observations), progress=progress, token=token,
                      labels=[f"OBS_ID {o.obs_id}" for o in observations])
