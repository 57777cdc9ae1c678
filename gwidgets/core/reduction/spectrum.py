"""1D spectrum extraction: ON counts, reflected OFF counts, exposure and energy dispersion.

One observation → one :class:`SpectrumExtraction` (plain arrays with units),
which the dataset classes turn into a `SpectrumDatasetOnOff`. Extraction of
many observations streams them one by one through an executor (serial,
processes or Dask) so that memory stays flat.

Examples
--------
>>> from regions import CircleSkyRegion
>>> from gwidgets.core.geom import MapAxis
>>> observations = gw.example_store().get_observations([1001, 1002])
>>> extractor = SpectrumExtractor(
...     CircleSkyRegion(SkyCoord(83.63, 22.01, unit="deg"), 0.15 * u.deg),
...     energy_axis=MapAxis.from_energy_bounds(0.3 * u.TeV, 100 * u.TeV, 15),
...     energy_axis_true=MapAxis.from_energy_bounds(0.1 * u.TeV, 200 * u.TeV, 25, name="energy_true"),
... )
>>> results = extractor.run_many(observations)          # or executor="processes", "dask"
>>> [(r.obs_id, r.ok, len(r.off_regions)) for r in results]
[(1001, True, 9), (1002, True, 9)]
"""
from __future__ import annotations

from dataclasses import dataclass, field

import astropy.units as u
import numpy as np
from astropy.coordinates import Angle, SkyCoord

from ...errors import DataFileError, GwidgetsError, MissingIRFError
from ..executor import get_executor
from ..geom import MapAxis
from . import containment
from .containment import ContainmentCorrectionError
from .notes import BatchNotes
from .reflected import ReflectedRegionsFinder, ReflectedRegionsResult
from .region_events import events_in_rad_max, events_in_regions, rad_max_overlap

__all__ = ["SpectrumExtraction", "SpectrumExtractor", "WobbleRegionsFinder", "RadMaxMismatchError",
           "ContainmentCorrectionError"]


#: an ON radius within this relative difference of a fixed RAD_MAX is taken as RAD_MAX without a note
RAD_MAX_QUIET_RTOL = 1e-3


class RadMaxMismatchError(GwidgetsError, ValueError):
    """The ON region radius differs from the point-like IRF's RAD_MAX."""


@dataclass
class SpectrumExtraction:
    """What one observation contributes to a 1D ON/OFF spectrum.

    Arrays: ``counts``, ``counts_off``, ``acceptance``, ``acceptance_off`` per
    reco-energy bin; ``exposure`` (cm² s) per true-energy bin; ``edisp``
    (n_true × n_reco migration probabilities). ``reason`` is set (and the
    arrays are empty) when the observation could not be used.

    Parameters
    ----------
    obs_id : int
        Observation id.
    energy_axis, energy_axis_true : `~gwidgets.core.geom.MapAxis`
        Reconstructed and true energy binning.
    counts, counts_off : numpy.ndarray, optional
        ON and OFF counts per reco-energy bin.
    acceptance, acceptance_off : numpy.ndarray, optional
        ON and OFF acceptances per reco-energy bin (``acceptance_off`` = number of OFF regions).
    exposure : `~astropy.units.Quantity`, optional
        Exposure per true-energy bin (cm² s), containment-corrected where that applies.
    edisp : numpy.ndarray, optional
        Migration probabilities (n_true, n_reco).
    livetime : `~astropy.units.Quantity`, optional
        Live time (s).
    offset : `~astropy.coordinates.Angle`, optional
        Offset of the ON-region centre from the pointing.
    on_region : `~regions.SkyRegion`, optional
        The ON region used (a circle of radius RAD_MAX for point-like IRFs with a fixed RAD_MAX).
    off_regions : list of `~regions.SkyRegion`, optional
        The OFF regions.
    energy_thresholds : tuple, optional
        The effective area's (LO_THRES, HI_THRES) as Quantities, or None.
    reason : str, optional
        Why the observation could not be used (empty when it could).
    meta : dict, optional
        ``OBS_ID``, ``OBJECT``, ``time_start`` / ``time_stop``, ``CONTAINMENT_CORRECTION`` ...
    notes : list of str, optional
        Causes worth a warning (no observation id in them).
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
    #: causes worth a warning (no observation id in them); a batch reports one line per cause
    notes: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when ON and OFF spectra were both extracted (``reason`` empty)."""
        return not self.reason

    @property
    def alpha(self) -> np.ndarray:
        """``acceptance / acceptance_off`` per reco-energy bin (NaN or inf where ``acceptance_off`` is 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.acceptance / self.acceptance_off

    @property
    def n_on(self) -> int:
        """Total ON counts (0 when not extracted)."""
        return int(self.counts.sum()) if self.counts is not None else 0

    @property
    def n_off(self) -> int:
        """Total OFF counts (0 when not extracted)."""
        return int(self.counts_off.sum()) if self.counts_off is not None else 0

    def __repr__(self):
        if not self.ok:
            return f"SpectrumExtraction(obs_id={self.obs_id}, n_on={self.n_on}, unusable: {self.reason})"
        return (
            f"SpectrumExtraction(obs_id={self.obs_id}, n_on={self.n_on}, n_off={self.n_off}, "
            f"n_off_regions={len(self.off_regions)}, livetime={self.livetime.to_value('s'):.0f} s, "
            f"offset={self.offset.deg:.3f}°)"
        )


def _time_meta(obs) -> dict:
    """``time_start`` / ``time_stop`` (astropy Time: first GTI start, last GTI stop), {} without a usable GTI."""
    try:
        gti = obs.gti
        if gti is None or len(gti) == 0:
            return {}
        start, stop = gti.time_range
        return {"time_start": start, "time_stop": stop}
    except GwidgetsError:
        return {}


class WobbleRegionsFinder:
    """OFF regions at the ``n_off_regions`` positions symmetric to the ON region about the pointing.

    The ON centre is rotated about the pointing on the sphere by
    ``i × 360° / (n_off_regions + 1)``, i = 1..n (gammapy's
    ``WobbleRegionsFinder``, which rotates in a tangent-plane pixel frame: the
    same positions). Works for `PointSkyRegion` (energy-dependent RAD_MAX) and
    `CircleSkyRegion`. With an exclusion mask (True = usable), a point whose
    pixel is excluded, or a circle touching an excluded pixel, is dropped.

    Parameters
    ----------
    n_off_regions : int, optional
        Number of OFF positions (≥ 1).

    Raises
    ------
    `~gwidgets.errors.GwidgetsError`
        If ``n_off_regions < 1``.

    Examples
    --------
    >>> from astropy.coordinates import SkyCoord
    >>> from regions import PointSkyRegion
    >>> pnt = SkyCoord(83.63, 22.41, unit="deg")
    >>> found = WobbleRegionsFinder(1).run(PointSkyRegion(SkyCoord(83.63, 22.01, unit="deg")), pnt)
    >>> round(float(found.regions[0].center.dec.deg), 3)
    22.81
    """

    def __init__(self, n_off_regions: int = 1):
        if int(n_off_regions) < 1:
            raise GwidgetsError(f"WobbleRegionsFinder needs n_off_regions >= 1, got {n_off_regions}")
        self.n_off_regions = int(n_off_regions)

    def __repr__(self):
        return f"WobbleRegionsFinder(n_off_regions={self.n_off_regions})"

    def run(self, region, center: SkyCoord, exclusion_mask=None) -> ReflectedRegionsResult:
        """OFF regions at the wobble positions of ``region`` about ``center``.

        Parameters
        ----------
        region : `~regions.PointSkyRegion` or `~regions.CircleSkyRegion`
            The ON region.
        center : `~astropy.coordinates.SkyCoord`
            The pointing position.
        exclusion_mask : `~gwidgets.core.geom.Map`, optional
            Boolean map, True = usable sky.

        Returns
        -------
        `~gwidgets.core.reduction.reflected.ReflectedRegionsResult`
            The OFF regions (ICRS centres); none, with a ``reason``, when the ON region is at the pointing
            or every position is excluded.
        """
        pos = region.center
        sep, pa = center.separation(pos), center.position_angle(pos)
        if sep.deg == 0:
            return ReflectedRegionsResult(reason="the ON region is at the pointing position: no wobble OFF position")
        step = Angle(360.0 / (self.n_off_regions + 1), "deg")
        regions = []
        for i in range(1, self.n_off_regions + 1):
            off = center.directional_offset_by(pa + i * step, sep)
            candidate = _moved(region, off)
            if exclusion_mask is None or not _excluded(candidate, exclusion_mask):
                regions.append(candidate)
        if not regions:
            return ReflectedRegionsResult(reason="all wobble OFF positions are in the exclusion mask")
        return ReflectedRegionsResult(regions=regions)


def _moved(region, center):
    import copy

    out = copy.copy(region)
    out.center = SkyCoord(center.icrs.ra, center.icrs.dec, frame="icrs")
    return out


def _excluded(region, mask) -> bool:
    from regions import PointSkyRegion

    data = np.asarray(mask.data, dtype=bool)
    data = data.reshape(data.shape[-2:]) if data.ndim > 2 else data
    if isinstance(region, PointSkyRegion):
        iy, ix = mask.geom.coord_to_idx(region.center)
        return bool(iy >= 0 and not data[iy, ix])
    inside = np.asarray(mask.geom.to_image().region_mask([region]), dtype=bool).reshape(data.shape)
    return bool((inside & ~data).any())


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
        relative tolerance is accepted (RAD_MAX is used, with a note when they
        differ by more than 0.1 %, one line for the whole batch); anything else
        is an error.
    containment_correction : "auto", True or False
        Multiply the exposure per true-energy bin by the fraction of the PSF
        (at the ON-region offset) contained in the ON circle, as gammapy's
        ``SpectrumDatasetMaker(containment_correction=True)``. ``"auto"`` (the
        default) applies it where the IRFs need it: full-enclosure IRFs with a
        PSF and a circular ON region, never point-like IRFs (see
        `gwidgets.core.reduction.containment`). ``True`` insists
        (`ContainmentCorrectionError` for point-like IRFs or a non-circular ON
        region; an observation without a PSF gives an empty result naming the
        missing IRF). Each extraction records ``meta["CONTAINMENT_CORRECTION"]``.

    Raises
    ------
    ContainmentCorrectionError
        For an unknown ``containment_correction``, or True with a non-circular ON region.
    `~gwidgets.errors.GwidgetsError`
        If a `~regions.PointSkyRegion` ON region is given a `ReflectedRegionsFinder`.
    """

    def __init__(self, on_region, energy_axis: MapAxis, energy_axis_true: MapAxis, finder=None,
                 exclusion_mask=None, rad_max_rtol: float = 0.01, containment_correction="auto"):
        from regions import PointSkyRegion

        mode = containment.resolve_mode(containment_correction)
        containment.check_region(mode, on_region)
        self.containment_correction = mode
        self.on_region = on_region
        self.energy_axis = energy_axis
        self.energy_axis_true = energy_axis_true
        if isinstance(on_region, PointSkyRegion) and isinstance(finder, ReflectedRegionsFinder):
            raise GwidgetsError("A PointSkyRegion ON region (energy-dependent RAD_MAX) has no area to reflect: use "
                                "WobbleRegionsFinder(n_off_regions) as finder")
        default = WobbleRegionsFinder(1) if isinstance(on_region, PointSkyRegion) else ReflectedRegionsFinder()
        self.finder = finder or default
        self.exclusion_mask = exclusion_mask
        self.rad_max_rtol = rad_max_rtol

    # ------------------------------------------------------------------ run
    def run(self, obs) -> SpectrumExtraction:
        """Extract one observation; a missing IRF or unusable geometry gives an empty result with a reason.

        Notes (e.g. an ON radius adjusted to RAD_MAX) are warned here; `run_many`
        warns once per cause for the whole batch instead.

        Parameters
        ----------
        obs : `~gwidgets.core.data.Observation`
            One DL3 observation.

        Returns
        -------
        SpectrumExtraction
            The spectra, or an empty result whose ``reason`` says why (missing IRF or data file, zero
            live time, ON region outside the IRFs' field of view, no OFF region ...).

        Raises
        ------
        RadMaxMismatchError
            If the ON region does not fit the point-like IRFs' RAD_MAX.
        ContainmentCorrectionError
            If ``containment_correction`` is True and the observation has point-like IRFs.
        """
        result = self.extract(obs)
        notes = BatchNotes()
        notes.extend(result.notes, obs.obs_id)
        notes.warn(stacklevel=3)
        return result

    def extract(self, obs) -> SpectrumExtraction:
        """As `run`, without warning: the notes stay in ``result.notes`` for the caller to report.

        Parameters
        ----------
        obs : `~gwidgets.core.data.Observation`
            One DL3 observation.

        Returns
        -------
        SpectrumExtraction
            As `run`.

        Raises
        ------
        RadMaxMismatchError
            If the ON region does not fit the point-like IRFs' RAD_MAX.
        ContainmentCorrectionError
            If ``containment_correction`` is True and the observation has point-like IRFs.
        """
        result = SpectrumExtraction(obs.obs_id, self.energy_axis, self.energy_axis_true)
        try:
            return self._run(obs, result)
        except (MissingIRFError, DataFileError) as exc:  # this observation's data: skipped with the reason
            result.reason = str(exc) if str(obs.obs_id) in str(exc) else f"observation {obs.obs_id}: {exc}"
            return result

    def _run(self, obs, result: SpectrumExtraction) -> SpectrumExtraction:
        on_region, rad_max_table = self._check_rad_max(obs, result.notes)
        apply_cc, note = containment.decide(self.containment_correction, obs, on_region)
        if note:
            result.notes.append(note)
        result.meta = {"OBS_ID": obs.obs_id, "OBJECT": obs.target_name, **_time_meta(obs),
                       "CONTAINMENT_CORRECTION": apply_cc}
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

        found = self._off_regions(on_region, pointing)
        if rad_max_table is not None and found.regions and rad_max_overlap(
                [on_region, *found.regions], rad_max_table, result.offset, self.energy_axis):
            found = ReflectedRegionsResult(reason=(
                f"the ON and OFF circles of radius RAD_MAX(E) overlap (RAD_MAX up to "
                f"{float(np.max(rad_max_table.data)):.3f}°): use fewer OFF regions"))
        result.off_regions = found.regions

        events = obs.events
        if len(events) == 0:
            # an empty event list with live time is not "zero counts": the data are missing
            result.reason = (f"observation {obs.obs_id}: its EVENTS table is empty while its live time is "
                             f"{livetime.to_value('s'):.0f} s (missing data, not zero counts)")
            return result
        if getattr(events, "n_nonfinite", 0):
            result.notes.append("events with a NaN ENERGY, RA, DEC or TIME were not used")
            result.meta["N_NONFINITE_EVENTS"] = events.n_nonfinite
        e_idx = self.energy_axis.coord_to_idx(events.energy)
        n_reco = self.energy_axis.nbin
        ok = e_idx >= 0
        if rad_max_table is None:
            inside = events_in_regions(events, [on_region, *found.regions], getattr(found, "centers", None))
            result.counts = np.bincount(e_idx[ok & inside[0]], minlength=n_reco).astype(float)
            off_mask = inside[1:].any(axis=0) & ok
            result.counts_off = np.bincount(e_idx[off_mask], minlength=n_reco).astype(float)
        else:
            inside = events_in_rad_max(events, [on_region, *found.regions], rad_max_table, pointing)
            result.counts = np.bincount(e_idx[ok & inside[0]], minlength=n_reco).astype(float)
            # as gammapy: an event in two OFF circles counts twice (they do not overlap once checked above)
            result.counts_off = sum((np.bincount(e_idx[ok & m], minlength=n_reco).astype(float) for m in inside[1:]),
                                    np.zeros(n_reco))
        result.acceptance = np.ones(n_reco)
        result.acceptance_off = np.full(n_reco, float(len(found.regions)))
        if not found.regions:
            # ON counts and IRFs are still extracted; the result says why there is no background
            result.reason = f"observation {obs.obs_id}: {found.reason}"

        e_true = self.energy_axis_true.center
        area = aeff.evaluate(energy_true=e_true, offset=result.offset)
        result.exposure = (area * livetime).to("cm2 s")
        if apply_cc:
            psf = obs.psf
            if psf is None:
                raise MissingIRFError(obs.obs_id, "psf", obs.available_hdus)
            fraction = psf.containment(rad=on_region.radius, energy_true=e_true, offset=result.offset)
            result.exposure = result.exposure * np.asarray(fraction, dtype=float).reshape(e_true.shape)
        result.edisp = np.asarray(
            edisp.pdf_matrix(self.energy_axis_true.edges, self.energy_axis.edges, result.offset)
        )
        lo, hi = getattr(aeff, "lo_threshold", None), getattr(aeff, "hi_threshold", None)
        result.energy_thresholds = (lo, hi)
        return result

    def _off_regions(self, on_region, pointing) -> ReflectedRegionsResult:
        """The finder's OFF regions, computed once per (ON region, pointing).

        Runs of one wobble position (e.g. 125 FACT runs at 2 pointings) share them. The finder and
        the exclusion mask are fixed.
        """
        if not hasattr(on_region, "center"):
            return self.finder.run(on_region, pointing, exclusion_mask=self.exclusion_mask)
        c, p = on_region.center.icrs, pointing.icrs
        radius = float(u.Quantity(getattr(on_region, "radius", 0 * u.deg)).to_value("deg"))
        key = (float(c.ra.deg), float(c.dec.deg), radius,
               type(on_region).__name__, float(p.ra.deg), float(p.dec.deg))
        cache = self.__dict__.setdefault("_off_cache", {})
        found = cache.get(key)
        if found is None:
            found = self.finder.run(on_region, pointing, exclusion_mask=self.exclusion_mask)
            if len(cache) < 1024:
                cache[key] = found
        return ReflectedRegionsResult(regions=list(found.regions), wcs=found.wcs, reason=found.reason,
                                      centers=found.centers)

    def _check_rad_max(self, obs, notes: list):
        """``(on_region, rad_max table or None)``.

        Point-like IRFs with a fixed RAD_MAX: the ON radius must match it
        (within rtol; a `PointSkyRegion` becomes a circle of radius RAD_MAX).
        Energy-dependent RAD_MAX: the ON region must be a `PointSkyRegion`; the
        table is returned and counts are selected per event energy.
        """
        from regions import CircleSkyRegion, PointSkyRegion

        rad_max = obs.rad_max if obs.is_pointlike else None
        if rad_max is None:
            if isinstance(self.on_region, PointSkyRegion):
                raise RadMaxMismatchError(
                    f"A PointSkyRegion ON region needs point-like IRFs with RAD_MAX; observation {obs.obs_id} "
                    "has none: use a CircleSkyRegion")
            return self.on_region, None
        fixed = getattr(rad_max, "fixed_value", None)
        if fixed is None:
            values = np.unique(np.asarray(rad_max.data))
            if len(values) != 1:
                if isinstance(self.on_region, PointSkyRegion):
                    return self.on_region, rad_max
                raise RadMaxMismatchError(
                    f"Observation {obs.obs_id} has an energy-dependent RAD_MAX ({values.min():.4f}°–"
                    f"{values.max():.4f}°): use a PointSkyRegion(center) as ON region, not "
                    f"{type(self.on_region).__name__}")
            fixed = values[0] * u.Unit(rad_max.unit)
        fixed = Angle(fixed)
        if isinstance(self.on_region, PointSkyRegion):
            return CircleSkyRegion(self.on_region.center, fixed), None
        if not isinstance(self.on_region, CircleSkyRegion):
            return self.on_region, None
        radius = self.on_region.radius
        if np.isclose(radius.to_value("deg"), fixed.deg, rtol=self.rad_max_rtol, atol=0):
            # a radius written to 4 digits (0.1732° for 0.173205°) is RAD_MAX: say nothing below 0.1 %
            if abs(radius.to_value("deg") / fixed.deg - 1) > RAD_MAX_QUIET_RTOL:
                notes.append(f"ON radius {radius.to_value('deg'):.6g}° differs from RAD_MAX {fixed.deg:.6g}° by "
                             f"{abs(radius.to_value('deg') / fixed.deg - 1):.2%}; using RAD_MAX")
            return CircleSkyRegion(self.on_region.center, fixed), None
        raise RadMaxMismatchError(
            f"ON region radius {radius.to_value('deg'):.4f}° does not match RAD_MAX = {fixed.deg:.4f}° of the "
            f"point-like IRFs of observation {obs.obs_id}: point-like IRFs are only valid for that radius"
        )

    def run_many(self, observations, executor="serial", progress=None, token=None,
                 notes: BatchNotes | None = None) -> list[SpectrumExtraction]:
        """Extract every observation (streaming); failures are returned as empty results with reasons.

        Notes are warned once per distinct cause, with the count and the
        observation ids; pass a `BatchNotes` as ``notes`` to collect them
        instead (the caller reports them).

        Parameters
        ----------
        observations : iterable of `~gwidgets.core.data.Observation`
            The observations.
        executor : str or `~gwidgets.core.executor.Executor`, optional
            ``"serial"``, ``"processes"``, ``"dask"``, a dask Client or an executor.
        progress : callable, optional
            Progress callback.
        token : `~gwidgets.core.progress.CancelToken`, optional
            Cancels between observations.
        notes : BatchNotes, optional
            Collects the notes instead of warning.

        Returns
        -------
        list of SpectrumExtraction
            One per observation, in input order.
        """
        ex = get_executor(executor)
        observations = list(observations)
        results = ex.map(self.extract, observations, progress=progress, token=token,
                         labels=[f"OBS_ID {o.obs_id}" for o in observations])
        collected = BatchNotes() if notes is None else notes
        for r in results:
            collected.extend(r.notes, r.obs_id)
        if notes is None:
            collected.warn(stacklevel=3)
        return results
