"""DL3 observations → `Datasets` of 1D ON/OFF spectra, in one call.

:func:`make_spectrum_datasets` (or the reusable :class:`SpectrumDatasetMaker`)
runs, for each observation, the reflected-region extraction
(`~gwidgets.core.reduction.spectrum.SpectrumExtractor`), the safe energy mask
(`~gwidgets.core.reduction.safe_mask.SafeMaskMaker`) and builds a
`~gwidgets.core.datasets.SpectrumDatasetOnOff` named after the observation.

* **Streaming**: observations are reduced one at a time; after each one its
  events and IRFs are dropped from the observation's cache
  (``release_memory=True``), so a batch never holds the events of all runs.
* **Back-ends**: ``executor="serial"``, ``"processes"``, ``"dask"``, a
  ``dask.distributed.Client`` or any `~gwidgets.core.executor.Executor`; the
  datasets are identical whatever the back-end.
* **Explicit empty results**: an observation that cannot give an ON/OFF
  spectrum (target at the pointing position, ON region outside the field of
  view, zero livetime, missing IRF, unreadable file, all OFF positions
  excluded) is left out of the datasets and listed in ``datasets.skipped``
  (obs_id → reason); the rest of the batch is still reduced. Configuration
  errors (ON radius ≠ RAD_MAX, a safe-mask method that cannot apply, an empty
  exclusion mask) are raised, naming the observation.

Examples
--------
Two runs of the simulated example store, ON region on its bright source:

>>> from regions import CircleSkyRegion
>>> from gwidgets.core.geom import MapAxis
>>> obs = gw.example_store().get_observations([1001, 1002])
>>> on = CircleSkyRegion(SkyCoord(83.63, 22.01, unit="deg"), 0.15 * u.deg)
>>> ea = MapAxis.from_energy_bounds(0.3 * u.TeV, 100 * u.TeV, 15)
>>> eat = MapAxis.from_energy_bounds(0.1 * u.TeV, 200 * u.TeV, 25, name="energy_true")
>>> datasets = make_spectrum_datasets(obs, on, energy_axis=ea, energy_axis_true=eat)
>>> datasets.names, datasets.skipped
(['1001', '1002'], {})
>>> make_spectrum_datasets(obs, on, ea, eat, stack=True)[0]       # executor="processes": the same, in parallel
SpectrumDatasetOnOff(name='stacked', counts=..., n_bins=15, fit bins=... TeV, livetime=3019 s,
models=None, counts_off=...)
"""
from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.table import Table

from ...errors import EmptySelectionError, GwidgetsError
from ..datasets import Datasets, SpectrumDatasetOnOff
from ..executor import get_executor
from ..geom import MapAxis
from .base import ObservationMaker
from .containment import ContainmentCorrectionError
from .notes import BatchNotes, reason_cause
from .safe_mask import SafeMaskError, SafeMaskMaker
from .spectrum import RadMaxMismatchError, SpectrumExtractor

__all__ = ["SpectrumDatasetMaker", "SpectrumDatasets", "ObservationRecord", "make_spectrum_datasets", "reduce_spectra",
           "stack_spectra"]

#: errors that are the caller's configuration, not one observation's data: raised, never collected
CONFIG_ERRORS = (RadMaxMismatchError, SafeMaskError, ContainmentCorrectionError)

#: cache entries of an `Observation` dropped after its reduction
_RELEASED = ("events", "gti", "aeff", "edisp", "psf", "bkg", "rad_max")



@dataclass
class ObservationRecord:
    """What happened to one observation of a batch (one row of `SpectrumDatasets.table`).

    ``n_on`` / ``n_off`` are filled whenever events were read, also for an
    observation that gave no dataset (e.g. target at the pointing position:
    ON counts but no OFF region).

    Parameters
    ----------
    obs_id : int
        Observation id.
    object : str, optional
        Target name.
    reason : str, optional
        Why the observation gave no dataset (empty when it did).
    n_on, n_off : int, optional
        Total ON and OFF counts.
    n_off_regions : int, optional
        Number of OFF regions.
    offset_deg : float, optional
        Offset of the ON-region centre from the pointing in deg.
    livetime_s : float, optional
        Live time in s.
    containment_correction : bool, optional
        Whether the exposure was scaled by the PSF containment.
    notes : tuple of str, optional
        Causes worth a warning (no observation id in them).
    """

    obs_id: int
    object: str = ""
    reason: str = ""
    n_on: int = 0
    n_off: int = 0
    n_off_regions: int = 0
    offset_deg: float = float("nan")
    livetime_s: float = 0.0
    containment_correction: bool = False
    notes: tuple = ()

    @property
    def ok(self) -> bool:
        """True when the observation gave a dataset (``reason`` empty)."""
        return not self.reason


class SpectrumDatasets(Datasets):
    """`Datasets` of the reduced observations, with the record of the whole batch.

    Parameters
    ----------
    datasets : iterable of datasets, optional
        The reduced datasets.
    models : optional
        Model shared by the datasets (see `~gwidgets.core.datasets.datasets.Datasets`).
    records : iterable of ObservationRecord, optional
        One per input observation.

    Attributes
    ----------
    records : list of ObservationRecord
        One per input observation, in input order.
    skipped : dict
        obs_id → reason, for the observations that gave no dataset.
    """

    def __init__(self, datasets=(), models=None, records=()):
        super().__init__(datasets, models=models)
        self.records = list(records)

    @property
    def skipped(self) -> dict:
        """obs_id → reason, for the observations that gave no dataset."""
        return {r.obs_id: r.reason for r in self.records if not r.ok}

    @property
    def notes(self) -> BatchNotes:
        """The batch's notes, one line per distinct cause (``.lines()``).

        What was noted, and why observations were left out.
        """
        notes = BatchNotes()
        for r in self.records:
            notes.extend(r.notes, r.obs_id)
        for r in self.records:
            if not r.ok:
                notes.add(f"not used: {reason_cause(r.reason, r.obs_id)}", r.obs_id)
        return notes

    def table(self) -> Table:
        """One row per input observation.

        Columns: obs_id, object, n_on, n_off, n_off_regions, offset, livetime, containment_correction, reason.

        Returns
        -------
        astropy.table.Table
            One row per record (an empty table with these columns without records).
        """
        cols = ["obs_id", "object", "n_on", "n_off", "n_off_regions", "offset_deg", "livetime_s",
                "containment_correction", "reason"]
        rows = [[getattr(r, c) for c in cols] for r in self.records]
        if not rows:
            return Table(names=cols)
        return Table(rows=rows, names=cols)

    def __repr__(self):
        base = super().__repr__()
        if not self.records:
            return base
        skipped = self.skipped
        lines = [base, f"  reduced {len(self.records) - len(skipped)} of {len(self.records)} observations"]
        lines += [f"  skipped {k}: {v}" for k, v in skipped.items()]
        lines += [f"  note: {line}" for line in self.notes.lines()]
        return "\n".join(lines)


def _as_safe_mask(safe_mask):
    if safe_mask is None or isinstance(safe_mask, SafeMaskMaker):
        return safe_mask
    if isinstance(safe_mask, (str, list, tuple)):
        return SafeMaskMaker(methods=tuple([safe_mask] if isinstance(safe_mask, str) else safe_mask))
    raise GwidgetsError(f"safe_mask must be a SafeMaskMaker, a method name, a list of names or None, "
                        f"not {type(safe_mask).__name__}")


def _as_axis(axis, name):
    if isinstance(axis, MapAxis):
        if axis.name != name:
            axis = axis.copy(name=name)
        return axis
    if isinstance(axis, u.Quantity):
        return MapAxis(axis, name=name)
    raise GwidgetsError(f"{'energy_axis_true' if name == 'energy_true' else 'energy_axis'} must be a MapAxis or a "
                        f"Quantity of edges, not {type(axis).__name__}")


def _check_exclusion_mask(mask):
    if mask is None:
        return None
    data = getattr(mask, "data", None)
    if data is None or not hasattr(mask, "geom"):
        raise GwidgetsError(f"exclusion_mask must be a boolean Map (True = usable sky), not {type(mask).__name__}")
    if np.asarray(data).size == 0:
        raise GwidgetsError("The exclusion mask is empty (it has no pixels); pass exclusion_mask=None for no exclusion")
    return mask


def _release(obs):
    cache = getattr(obs, "_cache", None)
    if isinstance(cache, dict):
        for key in _RELEASED:
            cache.pop(key, None)


class SpectrumDatasetMaker(ObservationMaker):
    """Reduce observations to `SpectrumDatasetOnOff` (one per observation), reflected-region background.

    The one 1D reduction of gwidgets: the session, the config-driven `Analysis` and the exported
    script all get theirs from `SpectrumReductionSettings.maker` (through `reduce_spectra`).

    Parameters
    ----------
    on_region : regions.SkyRegion
        ON region (a circle whose radius equals RAD_MAX for point-like IRFs).
    energy_axis, energy_axis_true : MapAxis or Quantity (edges)
        Reconstructed and true energy binning.
    safe_mask : SafeMaskMaker, str, list of str or None
        Safe energy range per observation (default: the IRF's LO/HI_THRES,
        ``"aeff-default"``); None: every bin is safe.
    exclusion_mask : Map or None
        Boolean map, True = usable sky for OFF regions.
    finder : ReflectedRegionsFinder or None
        OFF-region finder (default: gammapy's defaults).
    rad_max_rtol : float
        Relative tolerance between the ON radius and a fixed RAD_MAX.
    release_memory : bool
        Drop each observation's events and IRFs from its cache once reduced.
    containment_correction : "auto", True or False
        Scale the exposure by the PSF containment of the ON circle. ``"auto"``
        (default): where the IRFs need it (full-enclosure IRFs with a PSF and a
        circular ON region), never for point-like IRFs; ``True`` insists
        (point-like IRFs raise `ContainmentCorrectionError`). Each dataset
        records what was done in ``meta["CONTAINMENT_CORRECTION"]``.

    Examples
    --------
    >>> from regions import CircleSkyRegion
    >>> from gwidgets.core.geom import MapAxis
    >>> observations = gw.example_store().get_observations([1001, 1002])
    >>> on = CircleSkyRegion(SkyCoord(83.63, 22.01, unit="deg"), 0.15 * u.deg)
    >>> ea = MapAxis.from_energy_bounds(0.3 * u.TeV, 100 * u.TeV, 15)
    >>> eat = MapAxis.from_energy_bounds(0.1 * u.TeV, 200 * u.TeV, 25, name="energy_true")
    >>> safe_mask = SafeMaskMaker(["aeff-default"], e_min=0.4 * u.TeV)
    >>> maker = SpectrumDatasetMaker(on, ea, eat, safe_mask=safe_mask)
    >>> dataset = maker.run(observations[0])
    >>> dataset.name, dataset.meta["CONTAINMENT_CORRECTION"]
    ('1001', ...)
    >>> maker.run_many(observations, stack=True).names    # executor="processes", "dask" or a Client: the same
    ['stacked']
    """

    def __init__(self, on_region, energy_axis, energy_axis_true, safe_mask="aeff-default", exclusion_mask=None,
                 finder=None, rad_max_rtol: float = 0.01, release_memory: bool = True,
                 containment_correction="auto"):
        if not hasattr(on_region, "to_pixel"):
            raise GwidgetsError(f"on_region must be a regions SkyRegion, not {type(on_region).__name__}")
        self.extractor = SpectrumExtractor(on_region, _as_axis(energy_axis, "energy"),
                                           _as_axis(energy_axis_true, "energy_true"), finder=finder,
                                           exclusion_mask=_check_exclusion_mask(exclusion_mask),
                                           rad_max_rtol=rad_max_rtol,
                                           containment_correction=containment_correction)
        self.safe_mask = _as_safe_mask(safe_mask)
        self.release_memory = release_memory
        self._n_done = 0

    on_region = property(lambda self: self.extractor.on_region)
    energy_axis = property(lambda self: self.extractor.energy_axis)
    energy_axis_true = property(lambda self: self.extractor.energy_axis_true)

    def __repr__(self):
        ea, eat = self.energy_axis, self.energy_axis_true
        methods = list(self.safe_mask.methods) if self.safe_mask is not None else None
        return (f"SpectrumDatasetMaker(on_region={type(self.on_region).__name__}, energy: {ea.nbin} bins, "
                f"energy_true: {eat.nbin} bins, safe_mask={methods}, "
                f"exclusion_mask={'yes' if self.extractor.exclusion_mask is not None else None})")

    # ------------------------------------------------------------------ one
    def run(self, observation):
        """Reduce one observation (its notes are warned; why it gave nothing is in `reduce`'s record).

        Parameters
        ----------
        observation : Observation
            One DL3 observation.

        Returns
        -------
        SpectrumDatasetOnOff or None
            The dataset named by OBS_ID with its safe mask; None when the observation gives no ON/OFF
            spectrum.
        """
        dataset, record = self.reduce(observation)
        notes = BatchNotes()
        notes.extend(record.notes, record.obs_id)
        notes.warn(stacklevel=3)
        return dataset

    def reduce(self, observation):
        """As `run`, without warning, with the record of what happened.

        Parameters
        ----------
        observation : Observation
            One DL3 observation.

        Returns
        -------
        tuple
            ``(SpectrumDatasetOnOff or None, ObservationRecord)``; the notes stay in ``record.notes``.
        """
        obs_id = int(getattr(observation, "obs_id", -1))
        record = ObservationRecord(obs_id, object=str(getattr(observation, "target_name", "") or ""))
        try:
            return self._run(observation, record)
        except CONFIG_ERRORS:
            raise
        except GwidgetsError as exc:  # bad data of this observation: explicit empty result
            record.reason = str(exc) if str(obs_id) in str(exc) else f"observation {obs_id}: {exc}"
            return None, record
        finally:
            if self.release_memory:
                _release(observation)
                self._n_done += 1

    def _run(self, observation, record):
        ex = self.extractor.extract(observation)
        record.notes = tuple(ex.notes)
        record.containment_correction = bool(ex.meta.get("CONTAINMENT_CORRECTION", False))
        record.n_on, record.n_off, record.n_off_regions = ex.n_on, ex.n_off, len(ex.off_regions)
        record.offset_deg = float(ex.offset.deg) if ex.offset is not None else float("nan")
        record.livetime_s = float(u.Quantity(ex.livetime).to_value("s"))
        if not ex.ok:
            record.reason = ex.reason
            return None, record
        dataset = SpectrumDatasetOnOff.from_extraction(ex, name=str(ex.obs_id))
        if self.safe_mask is not None:
            mask, _ = self.safe_mask.run(ex, observation)
        else:
            mask = np.ones(self.energy_axis.nbin, dtype=bool)
        dataset.mask_safe = mask
        return dataset, record

    # ----------------------------------------------------------------- many
    def run_many(self, observations, executor="serial", progress=None, token=None, stack: bool = False,
                 name: str = "stacked", notes: BatchNotes | None = None) -> SpectrumDatasets:
        """Reduce every observation (input order kept); ``stack=True`` gives one stacked dataset.

        Parameters
        ----------
        observations : iterable of Observation
            The observations.
        executor, progress, token
            As `ObservationMaker.run_many`.
        stack : bool
            One dataset stacked from the usable ones (`stack_spectra`), named ``name``.
        name : str
            The stacked dataset's name.
        notes : BatchNotes, optional
            Collect the batch's notes (one per cause, and why observations were left out) here instead of
            warning them.

        Returns
        -------
        SpectrumDatasets
            The datasets, with ``records`` / ``skipped`` / ``notes`` of the batch.

        Raises
        ------
        EmptySelectionError
            No observations.
        """
        observations = list(observations)
        if not observations:
            raise EmptySelectionError("No observations to reduce: the list of observations is empty")
        labels = [f"OBS_ID {getattr(o, 'obs_id', i)}" for i, o in enumerate(observations)]
        results = get_executor(executor).map(self.reduce, observations, progress=progress, token=token,
                                             labels=labels)
        datasets = [d for d, _ in results if d is not None]
        records = [r for _, r in results]
        if stack and datasets:
            datasets = [stack_spectra(datasets, name=name)]
        out = SpectrumDatasets(datasets, records=records)
        if notes is None:
            out.notes.warn(stacklevel=3)
        else:
            for cause, ids in out.notes.items():
                for obs_id in ids:
                    notes.add(cause, obs_id)
        return out


def stack_spectra(datasets, name: str = "stacked"):
    """Stack 1D datasets into one (each restricted to its safe range, as gammapy's ``stack_reduce``).

    Parameters
    ----------
    datasets : list of SpectrumDatasetOnOff or Datasets
        Datasets of one reduction (same binning).
    name : str
        The stacked dataset's name.

    Returns
    -------
    SpectrumDatasetOnOff
        With ``meta["OBS_IDS"]`` (the stacked observations) and ``meta["CONTAINMENT_CORRECTION"]`` (True,
        False, or ``"mixed"``).
    """
    datasets = list(datasets)
    applied = {bool((d.meta or {}).get("CONTAINMENT_CORRECTION", False)) for d in datasets}
    stacked = Datasets(datasets).stack_reduce(name=name)
    obs_ids = [(d.meta or {}).get("OBS_ID", d.name) for d in datasets]
    stacked.meta = dict(stacked.meta or {}, OBS_IDS=obs_ids,
                        CONTAINMENT_CORRECTION=applied.pop() if len(applied) == 1 else "mixed")
    return stacked


def reduce_spectra(observations, on_region, settings=None, exclusion_mask=None, executor="serial", progress=None,
                   token=None, notes: BatchNotes | None = None, release_memory: bool = True) -> SpectrumDatasets:
    """The 1D reduction pipeline: DL3 observations → one `SpectrumDatasetOnOff` per observation.

    The session, the config-driven `Analysis` and the exported script all reduce through this function,
    with a `SpectrumReductionSettings` (energy axes, safe mask, OFF regions, containment correction).
    Stacking for the fit (``settings.stack``) is left to the caller, who keeps the per-observation
    datasets for light curves (`stack_spectra`).

    Parameters
    ----------
    observations : iterable of Observation
        The observations.
    on_region : regions.SkyRegion
        The ON region.
    settings : SpectrumReductionSettings, optional
        Default: ``SpectrumReductionSettings()`` (the defaults of every front door).
    exclusion_mask : Map, optional
        True = usable sky for OFF regions.
    executor, progress, token
        As `ObservationMaker.run_many`.
    notes : BatchNotes, optional
        Collect the batch's notes here instead of warning them.
    release_memory : bool
        Drop each observation's events and IRFs from its cache once reduced.

    Returns
    -------
    SpectrumDatasets
        The datasets (named by OBS_ID, safe mask set), with the batch's records.

    Examples
    --------
    >>> from regions import CircleSkyRegion
    >>> from gwidgets.core.reduction.settings import SpectrumReductionSettings
    >>> observations = gw.example_store().get_observations([1001, 1002])
    >>> on_region = CircleSkyRegion(SkyCoord(83.63, 22.01, unit="deg"), 0.15 * u.deg)
    >>> datasets = reduce_spectra(observations, on_region, SpectrumReductionSettings(stack=False))
    >>> datasets.names
    ['1001', '1002']
    """
    from .settings import SpectrumReductionSettings

    settings = SpectrumReductionSettings() if settings is None else settings
    maker = settings.maker(on_region, exclusion_mask=exclusion_mask, release_memory=release_memory)
    return maker.run_many(observations, executor=executor, progress=progress, token=token, notes=notes)


def make_spectrum_datasets(observations, on_region, energy_axis, energy_axis_true, safe_mask="aeff-default",
                           exclusion_mask=None, executor="serial", progress=None, token=None, stack: bool = False,
                           name: str = "stacked", finder=None, release_memory: bool = True,
                           containment_correction="auto") -> SpectrumDatasets:
    """Reduce DL3 observations to 1D ON/OFF spectra (reflected regions); see the module docstring.

    Returns a `SpectrumDatasets` (a `Datasets`): one `SpectrumDatasetOnOff`
    per usable observation (named by OBS_ID), or one stacked dataset
    (``stack=True``, each observation restricted to its safe range, as
    gammapy's ``stack_reduce``); ``.skipped`` lists the observations left out
    and why, ``.table()`` summarises the batch, ``.notes`` has one line per
    distinct cause of a warning (warned once each).

    ``containment_correction="auto"`` (default) scales the exposure by the PSF
    containment of the ON circle where the IRFs are full-enclosure, as a
    physically right analysis must; see `SpectrumDatasetMaker`.

    Parameters
    ----------
    observations : iterable of `~gwidgets.core.data.Observation`
        The observations.
    on_region : `~regions.SkyRegion`
        ON region (a circle whose radius equals RAD_MAX for point-like IRFs).
    energy_axis, energy_axis_true : `~gwidgets.core.geom.MapAxis` or `~astropy.units.Quantity`
        Reconstructed and true energy binning (axes or edges).
    safe_mask : SafeMaskMaker, str, list of str or None, optional
        Safe energy range per observation; None: every bin is safe.
    exclusion_mask : `~gwidgets.core.geom.Map`, optional
        Boolean map, True = usable sky for OFF regions.
    executor : str or `~gwidgets.core.executor.Executor`, optional
        ``"serial"``, ``"processes"``, ``"dask"``, a dask Client or an executor.
    progress : callable, optional
        Progress callback.
    token : `~gwidgets.core.progress.CancelToken`, optional
        Cancels between observations.
    stack : bool, optional
        Whether to return one stacked dataset.
    name : str, optional
        Name of the stacked dataset.
    finder : `~gwidgets.core.reduction.reflected.ReflectedRegionsFinder`, optional
        OFF-region finder (default: gammapy's defaults).
    release_memory : bool, optional
        Drop each observation's events and IRFs from its cache once reduced.
    containment_correction : {"auto", True, False}, optional
        PSF containment correction of the exposure (see `SpectrumDatasetMaker`).

    Returns
    -------
    SpectrumDatasets
        The datasets, with ``records``, ``skipped``, ``table()`` and ``notes`` of the batch.

    Raises
    ------
    RadMaxMismatchError
        If the ON region does not fit the point-like IRFs' RAD_MAX.
    SafeMaskError
        If a safe-mask method cannot be applied.
    ContainmentCorrectionError
        If the containment correction is asked for where it cannot apply.
    """
    maker = SpectrumDatasetMaker(on_region, energy_axis, energy_axis_true, safe_mask=safe_mask,
                                 exclusion_mask=exclusion_mask, finder=finder, release_memory=release_memory,
                                 containment_correction=containment_correction)
    return maker.run_many(observations, executor=executor, progress=progress, token=token, stack=stack, name=name)
