"""Step ``datasets``: reduce the observations to datasets (``datasets.type``: 1d now; 3d when `MapDataset` exists).

1D (reflected regions): per group, the ON region is ``datasets.on_region``
with the group's ``on_radius``; each observation is extracted with
`SpectrumExtractor`, turned into a `SpectrumDatasetOnOff` and given the
safe mask of the group (``safe_mask``, else ``datasets.safe_mask``);
``datasets.containment_correction`` (``auto``, the default, ``true`` or
``false``) scales the exposure by the PSF containment of the ON circle: ``auto``
does it where the IRFs are full-enclosure, never for point-like IRFs (see
`gwidgets.core.reduction.containment`). A group
with ``stack: true`` (else ``datasets.stack``, true by default) becomes one stacked dataset.
Results: ``analysis.datasets`` (what is fitted) and
``analysis.datasets_per_obs`` (one per observation, for light curves).

3D (``type: 3d``): `MapDataset` s on ``datasets.geom`` (skydir, binsize,
width, projection, energy axes) from `MapDatasetMaker`, one per observation
or one per group with ``stack``; safe mask ``safe_mask.offset_max``.
"""
from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.time import Time

from ....errors import GwidgetsError
from ...config import ConfigError
from ...progress import Cancelled
from ...reduction.notes import BatchNotes, reason_cause
from .base import require
from .observations import groups, resolve_path, time_ranges

__all__ = ["REDUCERS", "energy_axis", "on_region", "exclusion_mask", "read_spectra_group"]

#: datasets.type -> reducer(analysis, progress) -> (datasets, datasets_per_obs)
REDUCERS = {}

DEFAULT_ENERGY = {"min": 0.01 * u.TeV, "max": 100 * u.TeV, "nbins": 80}


def energy_axis(spec: dict | None, name: str = "energy", key: str = ""):
    """A `MapAxis` from a config energy axis section (``edges``, or ``min``/``max``/``nbins``[/``per_decade``])."""
    from ...geom import MapAxis

    spec = dict(DEFAULT_ENERGY, **(spec or {}))
    if spec.get("edges") is not None:
        edges = u.Quantity(spec["edges"]).to("TeV")
        if len(edges) < 2 or np.any(np.diff(edges.value) <= 0):
            raise ConfigError(f"'{key}.edges' must be at least two increasing energies")
        return MapAxis.from_energy_edges(edges, name=name)
    if not spec["max"] > spec["min"]:
        raise ConfigError(f"'{key}': max ({spec['max']}) must be larger than min ({spec['min']})")
    if spec["nbins"] < 1:
        raise ConfigError(f"'{key}.nbins' must be at least 1")
    return MapAxis.from_energy_bounds(spec["min"], spec["max"], spec["nbins"], per_decade=spec.get("per_decade", False),
                                      name=name)


def on_region(config, radius=None):
    from regions import CircleSkyRegion

    spec = config.get("datasets", {}).get("on_region")
    if not spec or "lon" not in spec or "lat" not in spec:
        raise ConfigError("'datasets.on_region' needs lon and lat (and radius) for a 1d analysis")
    radius = radius if radius is not None else spec.get("radius")
    if radius is None:
        raise ConfigError("'datasets.on_region.radius' is not set (nor the group's 'on_radius')")
    center = SkyCoord(spec["lon"], spec["lat"], frame=spec.get("frame", "icrs"))
    return CircleSkyRegion(center, radius)


def _region_from_dict(d: dict, key: str):
    from regions import CircleSkyRegion

    try:
        center = SkyCoord(u.Quantity(d["lon"]), u.Quantity(d["lat"]), frame=d.get("frame", "icrs"))
        return CircleSkyRegion(center, u.Quantity(d["radius"]).to("deg"))
    except (KeyError, TypeError, ValueError, u.UnitsError) as exc:
        raise ConfigError(f"'{key}' must be a circle {{lon, lat, radius[, frame]}} with angle units ({exc})") from None


def exclusion_mask(config, center: SkyCoord, base_dir=None):
    """None, a mask `Map` read from a FITS file, or one made from circles ``[{lon, lat, radius}, ...]``."""
    from ...geom import Map, WcsGeom

    spec = config.get("datasets", {}).get("background", {}).get("exclusion")
    key = "datasets.background.exclusion"
    if spec is None:
        return None
    if isinstance(spec, str):
        path = resolve_path(spec, key, base_dir)
        if not path.exists():
            raise ConfigError(f"'{key}': exclusion mask file '{path}' does not exist")
        mask = Map.read(path)
        mask.data = np.asarray(mask.data).astype(bool)
        return mask
    if isinstance(spec, dict):
        spec = [spec]
    if not isinstance(spec, list):
        raise ConfigError(f"'{key}' must be a mask FITS file or a list of circles, got {spec!r}")
    regions = [_region_from_dict(d, f"{key}[{i}]") for i, d in enumerate(spec)]
    # mask pixels: datasets.geom (skydir, binsize, width, frame) when given, else 0.02° over 8° about the ON region
    g = config.get("datasets", {}).get("geom", {})
    sky = g.get("skydir")
    frame = (sky or {}).get("frame", "icrs")
    if sky and "lon" in sky and "lat" in sky:
        center = SkyCoord(sky["lon"], sky["lat"], frame=frame)
    geom = WcsGeom.create(center.transform_to(frame), binsz=g.get("binsize", 0.02 * u.deg).to_value("deg"),
                          width=g.get("width", 8 * u.deg), frame=frame, proj=g.get("projection", "CAR"))
    return Map(geom, geom.region_mask(regions, inside=False))


def safe_mask_maker(spec: dict, key: str):
    from ...reduction.safe_mask import SafeMaskError, SafeMaskMaker

    kwargs = {k: spec[k] for k in ("aeff_percent", "bias_percent", "e_min", "e_max") if k in spec}
    try:
        return SafeMaskMaker(methods=tuple(spec.get("methods", ["aeff-default"])), **kwargs)
    except SafeMaskError as exc:
        raise ConfigError(f"'{key}': {exc}") from None


def _group_settings(config, group):
    ds_cfg = config.get("datasets", {})
    safe = group.get("safe_mask", ds_cfg.get("safe_mask", {"methods": ["aeff-default"]}))
    safe_key = f"{group['key']}.safe_mask" if "safe_mask" in group else "datasets.safe_mask"
    # stacked by default (as gammapy's Analysis): a joint WStat fit of many low-count runs biases the
    # curvature by ~1 sigma (closure benchmark: beta pull +1.1 per-run vs 0.0 stacked, 20 seeds)
    stack = group.get("stack", ds_cfg.get("stack", True))
    return safe, safe_key, stack


def _time_range(obs, start, stop) -> dict:
    """``time_start``/``time_stop`` (astropy Time) for the light curve: the GTIs' span, else TSTART/TSTOP."""
    try:
        gti = obs.gti
        return {"time_start": Time(gti.time_start.min()), "time_stop": Time(gti.time_stop.max())}
    except Exception:  # no GTI HDU: the observation's TSTART/TSTOP
        return {"time_start": start, "time_stop": stop}


def _reduce_1d(analysis, progress=None):
    from ...datasets import Datasets, SpectrumDatasetOnOff
    from ...reduction.reflected import ReflectedRegionsFinder
    from ...reduction.safe_mask import SafeMaskError
    from ...reduction.spectrum import SpectrumExtractor

    cfg = analysis.config
    ds_cfg = cfg.get("datasets", {})
    axes = ds_cfg.get("geom", {}).get("axes", {})
    e_reco = energy_axis(axes.get("energy"), "energy", "datasets.geom.axes.energy")
    e_true = energy_axis(axes.get("energy_true"), "energy_true", "datasets.geom.axes.energy_true")
    bkg = ds_cfg.get("background", {})
    if bkg.get("method", "reflected") != "reflected":
        raise ConfigError(f"'datasets.background.method' = {bkg['method']!r} is not available for a 1d analysis; "
                          "use 'reflected'")
    finder_kw = {}
    if "max_regions" in bkg:
        finder_kw["max_region_number"] = bkg["max_regions"]
    if "min_regions" in bkg:
        finder_kw["min_region_number"] = bkg["min_regions"]
    executor = cfg.get("general", {}).get("executor", "serial")
    if executor == "processes" and cfg.get("general", {}).get("n_jobs"):
        from ...executor import ProcessExecutor

        executor = ProcessExecutor(cfg["general"]["n_jobs"])
    fitted, per_obs = [], []
    all_groups = groups(cfg)
    for group in all_groups:
        if "spectra" in group:
            fitted.extend(read_spectra_group(group, analysis))
            continue
        observations = analysis.observations[group["name"]]
        region = on_region(cfg, group.get("on_radius"))
        mask = exclusion_mask(cfg, region.center, analysis.base_dir)
        extractor = SpectrumExtractor(region, e_reco, e_true, finder=ReflectedRegionsFinder(**finder_kw),
                                      exclusion_mask=mask,
                                      containment_correction=ds_cfg.get("containment_correction", "auto"))
        notes = BatchNotes()
        try:
            extractions = extractor.run_many(observations, executor=executor, progress=progress, notes=notes)
        except (ConfigError, Cancelled):
            raise
        except GwidgetsError as exc:  # e.g. an ON radius not matching RAD_MAX: name the group
            raise ConfigError(f"'{group['key']}': {exc}") from None
        safe, safe_key, stack = _group_settings(cfg, group)
        maker = safe_mask_maker(safe, safe_key)
        group_sets = []
        for obs, ex in zip(observations, extractions):
            if not ex.ok:
                notes.add(f"not used: {reason_cause(ex.reason, ex.obs_id)}", ex.obs_id)
                continue
            (t0,), (t1,) = time_ranges([obs])  # only usable observations: an unreadable one has no times
            name = str(ex.obs_id) if len(all_groups) == 1 else f"{group['name']}_{ex.obs_id}"
            ds = SpectrumDatasetOnOff.from_extraction(ex, name=name)
            try:
                ds.mask_safe, _ = maker.run(ex, obs)
            except SafeMaskError as exc:
                raise ConfigError(f"'{safe_key}': {exc}") from None
            ds.meta.update(GROUP=group["name"], OBS_ID=obs.obs_id, **_time_range(obs, t0, t1))
            group_sets.append(ds)
        for line in notes.lines():  # one line per cause, with the count and the ids
            analysis.note(f"group '{group['name']}': {line}")
        notes.warn(prefix=f"Analysis: group '{group['name']}': ", stacklevel=2)
        if not group_sets:
            raise ConfigError(f"'{group['key']}': no observation could be reduced (see the reasons above)")
        if not any(d.mask_safe.any() for d in group_sets):
            raise ConfigError(f"'{safe_key}': the safe energy range leaves no data in group '{group['name']}'")
        per_obs.extend(group_sets)
        if stack:
            stacked = Datasets(group_sets).stack_reduce(name=group["name"])
            stacked.meta.update(GROUP=group["name"])
            fitted.append(stacked)
        else:
            fitted.extend(group_sets)
    return Datasets(fitted), Datasets(per_obs)


def read_spectra_group(group: dict, analysis) -> list:
    """The reduced spectra of a ``spectra`` group (OGIP / gadf files, their QUALITY as safe mask), named
    ``<group>_<name>`` (the group's name alone for one file) and stacked with ``stack: true``.
    """
    from ...datasets import Datasets

    key = f"{group['key']}.spectra"
    path = resolve_path(group["spectra"], key, analysis.base_dir)
    if not path.exists():
        raise ConfigError(f"'{key}': '{path}' does not exist")
    try:
        sets = Datasets.read(path)
    except GwidgetsError as exc:
        raise ConfigError(f"'{key}': {exc}") from None
    out = []
    for d in sets:
        d = d.copy(name=group["name"] if len(sets) == 1 else f"{group['name']}_{d.name}")
        d.meta = dict(d.meta or {}, GROUP=group["name"])
        out.append(d)
    if group.get("stack") and len(out) > 1:
        stacked = Datasets(out).stack_reduce(name=group["name"])
        stacked.meta = dict(stacked.meta or {}, GROUP=group["name"])
        out = [stacked]
    analysis.log(f"group '{group['name']}': {len(out)} reduced spectra read from '{path}'")
    return out


def _map_geom(config):
    from ...geom import WcsGeom

    ds_cfg = config.get("datasets", {})
    g = ds_cfg.get("geom", {})
    sky = g.get("skydir")
    if not sky or "lon" not in sky or "lat" not in sky:
        on = ds_cfg.get("on_region")
        if not on or "lon" not in on:
            raise ConfigError("'datasets.geom.skydir' (lon, lat) is needed for a 3d analysis")
        sky = on
    frame = sky.get("frame", "icrs")
    axes = g.get("axes", {})
    e_reco = energy_axis(axes.get("energy"), "energy", "datasets.geom.axes.energy")
    e_true = energy_axis(axes.get("energy_true"), "energy_true", "datasets.geom.axes.energy_true")
    geom = WcsGeom.create(SkyCoord(sky["lon"], sky["lat"], frame=frame), binsz=g.get("binsize", 0.02 * u.deg).to_value("deg"),
                          width=g.get("width", 5 * u.deg), frame=frame, proj=g.get("projection", "CAR"), axes=[e_reco])
    return geom, e_true


def _reduce_3d(analysis, progress=None):
    """3D: `MapDatasetMaker` per observation (or stacked per group); safe mask ``safe_mask.offset_max``."""
    from ...datasets import Datasets

    (maker_cls,) = require("gwidgets.core.datasets.map_reduce", ["MapDatasetMaker"], "datasets (type 3d)")
    cfg = analysis.config
    geom, e_true = _map_geom(cfg)
    fitted, per_obs = [], []
    for group in groups(cfg):
        if "spectra" in group:  # reduced 1D spectra fitted jointly with the cubes
            fitted.extend(read_spectra_group(group, analysis))
            continue
        observations = analysis.observations[group["name"]]
        safe, safe_key, stack = _group_settings(cfg, group)
        maker = maker_cls(geom, e_true, offset_max=safe.get("offset_max"))
        try:
            if stack:
                fitted.append(maker.run_stacked(observations, name=group["name"], progress=progress))
            else:
                sets = [maker.run(o, name=f"{group['name']}_{o.obs_id}") for o in observations]
                fitted.extend(sets)
                per_obs.extend(sets)
        except (ConfigError, Cancelled):
            raise
        except GwidgetsError as exc:
            raise ConfigError(f"'{group['key']}': {exc}") from None
    return Datasets(fitted), Datasets(per_obs)


REDUCERS["1d"] = _reduce_1d
REDUCERS["3d"] = _reduce_3d


def run(analysis, progress=None):
    kind = analysis.config.get("datasets", {}).get("type", "1d")
    fitted, per_obs = REDUCERS[kind](analysis, progress)
    analysis.datasets, analysis.datasets_per_obs = fitted, per_obs
    analysis.log(f"datasets: {len(fitted)} fitted ({len(per_obs)} observations)")
    return fitted
