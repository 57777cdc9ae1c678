"""Step ``datasets``: reduce the observations to datasets (``datasets.type``: 1d now; 3d when `MapDataset` exists).

Both pipelines are built from one settings object read from the ``datasets`` section
(`SpectrumReductionSettings.from_config` / `MapReductionSettings.from_config`): a key the config
leaves out takes the settings' default, the same default the session and the exported script use.

1D (reflected regions): per group, the ON region is ``datasets.on_region``
with the group's ``on_radius``; the observations are reduced by `reduce_spectra`
(the one 1D pipeline: extraction, `SpectrumDatasetOnOff`, the safe mask of the
group: ``safe_mask``, else ``datasets.safe_mask``);
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
from ...reduction.map_settings import MapReductionSettings
from ...reduction.notes import BatchNotes
from ...reduction.settings import ReductionSettingsError, SpectrumReductionSettings
from ...registry import Registry
from .observations import groups, resolve_path, time_ranges

__all__ = ["REDUCERS", "energy_axis", "on_region", "exclusion_mask", "read_spectra_group", "spectrum_settings",
           "map_settings"]

#: datasets.type -> reducer(analysis, progress) -> (datasets, datasets_per_obs)
REDUCERS = Registry("dataset reducer")


def energy_axis(spec: dict | None, name: str = "energy", key: str = ""):
    """A `MapAxis` from a config energy-axis section (`gwidgets.core.reduction.settings.energy_axis`).

    Parameters
    ----------
    spec : dict or None
        ``edges``, or ``min`` / ``max`` / ``nbins`` [/ ``per_decade``]; keys left out take the reduction
        settings' defaults.
    name : str
        ``"energy"`` or ``"energy_true"``.
    key : str
        The config key, named in errors.

    Returns
    -------
    MapAxis
        The axis.

    Raises
    ------
    ConfigError
        A bad axis, naming ``key``.
    """
    from ...reduction.settings import energy_axis as settings_axis

    try:
        return settings_axis(spec, name, key)
    except ReductionSettingsError as exc:
        raise ConfigError(str(exc)) from None


def spectrum_settings(config, group: dict | None = None) -> SpectrumReductionSettings:
    """The 1D reduction settings of ``config`` (and of one ``group``: its ``safe_mask`` and ``stack``).

    Parameters
    ----------
    config : AnalysisConfig or dict
        The config.
    group : dict, optional
        One observation group (``data.groups[i]``, with its ``key``).

    Returns
    -------
    SpectrumReductionSettings
        Keys the config leaves out take the settings' defaults.

    Raises
    ------
    ConfigError
        A value that cannot be used, naming its key.
    """
    ds_cfg = dict(config.get("datasets", {}))
    if group is not None:
        for k in ("safe_mask", "stack"):
            if k in group:
                ds_cfg[k] = group[k]
    try:
        return SpectrumReductionSettings.from_config(ds_cfg)
    except ReductionSettingsError as exc:
        msg = str(exc)
        if group is not None and "safe_mask" in group and msg.startswith("'datasets.safe_mask'"):
            msg = f"'{group['key']}.safe_mask'" + msg[len("'datasets.safe_mask'"):]
        raise ConfigError(msg) from None


def map_settings(config) -> MapReductionSettings:
    """The 3D reduction settings of ``config``.

    Parameters
    ----------
    config : AnalysisConfig or dict
        The config.

    Returns
    -------
    MapReductionSettings
        Keys the config leaves out take the settings' defaults.
    """
    try:
        return MapReductionSettings.from_config(config.get("datasets", {}))
    except ReductionSettingsError as exc:
        raise ConfigError(str(exc)) from None


def on_region(config, radius=None):
    """The ON region of a 1D config: a circle at ``datasets.on_region`` of ``radius`` (a group's ``on_radius``).

    Parameters
    ----------
    config : AnalysisConfig or dict
        The config.
    radius : Angle, optional
        Overrides ``datasets.on_region.radius``.

    Returns
    -------
    regions.CircleSkyRegion

    Raises
    ------
    ConfigError
        No position or no radius.
    """
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
    """None, a mask `Map` read from a FITS file, or one made from circles ``[{lon, lat, radius}, ...]``.

    Circles are rasterised on ``datasets.geom`` (skydir, binsize, width, frame, projection) when
    given, else on 0.02° pixels over 8° about ``center``.

    Parameters
    ----------
    config : `~gwidgets.core.config.AnalysisConfig` or dict
        The analysis config (``datasets.background.exclusion``).
    center : `~astropy.coordinates.SkyCoord`
        Centre of the mask when ``datasets.geom.skydir`` is not set (the ON region's).
    base_dir : str or `~pathlib.Path`, optional
        The config file's folder (relative mask paths).

    Returns
    -------
    `~gwidgets.core.geom.Map` or None
        Boolean mask, True = usable sky (outside the circles); None without ``exclusion``.

    Raises
    ------
    `~gwidgets.core.config.ConfigError`
        If the file does not exist, or a circle is not ``{lon, lat, radius[, frame]}`` with angle units.
    """
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


def _safe_key(group) -> str:
    return f"{group['key']}.safe_mask" if "safe_mask" in group else "datasets.safe_mask"


def _time_range(obs, start, stop) -> dict:
    """``time_start``/``time_stop`` (astropy Time) for the light curve: the GTIs' span, else TSTART/TSTOP."""
    try:
        gti = obs.gti
        return {"time_start": Time(gti.time_start.min()), "time_stop": Time(gti.time_stop.max())}
    except Exception:  # no GTI HDU: the observation's TSTART/TSTOP
        return {"time_start": start, "time_stop": stop}


def _config_executor(cfg):
    """The executor of ``general.executor`` (and ``n_jobs``); a use as context manager closes what it started."""
    from ...executor import executor_from_config

    general = cfg.get("general", {})
    try:
        return executor_from_config(general.get("executor", "serial"), general.get("n_jobs"))
    except GwidgetsError as exc:  # e.g. no scheduler at general.executor.address
        raise ConfigError(f"'general.executor': {exc}") from None


def _reduce_1d(analysis, progress=None):
    """1D: `reduce_spectra` per group (the one 1D pipeline), stacked per group with ``stack``."""
    with _config_executor(analysis.config) as executor:
        return _reduce_1d_with(analysis, executor, progress)


def _reduce_1d_with(analysis, executor, progress=None):
    from ...datasets import Datasets
    from ...reduction.safe_mask import SafeMaskError
    from ...reduction.spectrum_maker import reduce_spectra, stack_spectra

    cfg = analysis.config
    fitted, per_obs = [], []
    all_groups = groups(cfg)
    for group in all_groups:
        if "spectra" in group:
            fitted.extend(read_spectra_group(group, analysis))
            continue
        settings = spectrum_settings(cfg, group)
        safe_key = _safe_key(group)
        observations = analysis.observations[group["name"]]
        region = on_region(cfg, group.get("on_radius"))
        mask = exclusion_mask(cfg, region.center, analysis.base_dir)
        notes = BatchNotes()
        try:
            reduced = reduce_spectra(observations, region, settings, exclusion_mask=mask, executor=executor,
                                     progress=progress, notes=notes, release_memory=False)
        except (ConfigError, Cancelled):
            raise
        except SafeMaskError as exc:
            raise ConfigError(f"'{safe_key}': {exc}") from None
        except GwidgetsError as exc:  # e.g. an ON radius not matching RAD_MAX: name the group
            raise ConfigError(f"'{group['key']}': {exc}") from None
        by_id = {int(o.obs_id): o for o in observations}
        group_sets = []
        for ds in reduced:
            obs = by_id[int(ds.meta["OBS_ID"])]
            (t0,), (t1,) = time_ranges([obs])  # only usable observations: an unreadable one has no times
            if len(all_groups) > 1:
                ds = ds.copy(name=f"{group['name']}_{obs.obs_id}")
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
        if settings.stack:
            stacked = stack_spectra(group_sets, name=group["name"])
            stacked.meta.update(GROUP=group["name"])
            fitted.append(stacked)
        else:
            fitted.extend(group_sets)
    return Datasets(fitted), Datasets(per_obs)


def read_spectra_group(group: dict, analysis) -> list:
    """The reduced spectra of a ``spectra`` group (OGIP / gadf files, their QUALITY as safe mask).

    They are named ``<group>_<name>`` (the group's name alone for one file) and stacked with ``stack: true``.

    Parameters
    ----------
    group : dict
        The group (``spectra``, ``name``, ``key``, ``stack``).
    analysis : Analysis
        For the config's folder and the log.

    Returns
    -------
    list
        The datasets.
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


def _map_skydir(config) -> SkyCoord:
    ds_cfg = config.get("datasets", {})
    sky = ds_cfg.get("geom", {}).get("skydir")
    if not sky or "lon" not in sky or "lat" not in sky:
        on = ds_cfg.get("on_region")
        if not on or "lon" not in on:
            raise ConfigError("'datasets.geom.skydir' (lon, lat) is needed for a 3d analysis")
        sky = on
    return SkyCoord(sky["lon"], sky["lat"], frame=sky.get("frame", "icrs"))


def _reduce_3d(analysis, progress=None):
    """3D: the settings' `MapDatasetMaker` per observation (or stacked per group); safe mask ``offset_max``."""
    with _config_executor(analysis.config) as executor:
        return _reduce_3d_with(analysis, executor, progress)


def _reduce_3d_with(analysis, executor, progress=None):
    from ...datasets import Datasets

    cfg = analysis.config
    settings, skydir = map_settings(cfg), _map_skydir(cfg)
    fitted, per_obs = [], []
    for group in groups(cfg):
        if "spectra" in group:  # reduced 1D spectra fitted jointly with the cubes
            fitted.extend(read_spectra_group(group, analysis))
            continue
        observations = analysis.observations[group["name"]]
        offset_max = group.get("safe_mask", {}).get("offset_max", settings.offset_max)
        maker = settings.replace(offset_max=offset_max).maker(skydir) if offset_max is not None else \
            settings.maker(skydir)
        try:
            if group.get("stack", settings.stack):
                fitted.append(maker.run_stacked(observations, name=group["name"], progress=progress,
                                                executor=executor))
            else:
                sets = [maker.run(o, name=f"{group['name']}_{o.obs_id}") for o in observations]
                fitted.extend(sets)
                per_obs.extend(sets)
        except (ConfigError, Cancelled):
            raise
        except GwidgetsError as exc:
            raise ConfigError(f"'{group['key']}': {exc}") from None
    return Datasets(fitted), Datasets(per_obs)


REDUCERS.add("1d", _reduce_1d)
REDUCERS.add("3d", _reduce_3d)


def run(analysis, progress=None):
    """Reduce the observations with the reducer of ``datasets.type`` (`REDUCERS`: ``"1d"``, ``"3d"``).

    Parameters
    ----------
    analysis : `~gwidgets.core.analysis.Analysis`
        The analysis (observations selected).
    progress : callable, optional
        ``progress(done, total, message)``.

    Returns
    -------
    `~gwidgets.core.datasets.datasets.Datasets`
        The datasets that are fitted, also stored as ``analysis.datasets``
        (``analysis.datasets_per_obs`` gets one dataset per observation).

    Raises
    ------
    `~gwidgets.core.registry.RegistryError`
        For an unknown ``datasets.type``.
    `~gwidgets.core.config.ConfigError`
        If a ``datasets`` key is invalid or no observation gives a dataset.
    """
    kind = analysis.config.get("datasets", {}).get("type", "1d")
    fitted, per_obs = REDUCERS[kind](analysis, progress)
    analysis.datasets, analysis.datasets_per_obs = fitted, per_obs
    analysis.log(f"datasets: {len(fitted)} fitted ({len(per_obs)} observations)")
    return fitted
