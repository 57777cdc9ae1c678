"""Step ``observations``: open the data store(s) and select observations.

Without ``data.groups`` there is one group (named after the data store
folder) using the ``data`` section; with groups (a joint analysis, e.g. one
per instrument) each group takes its own keys and inherits the others from
``data``. A group with ``spectra`` (a folder of reduced OGIP / gadf spectra,
e.g. the Fermi-LAT spectrum of joint-crab) has no observations: the datasets
step reads its files. Result: ``analysis.observations`` = ``{group name: Observations}``.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.time import Time

from ....errors import EmptySelectionError, FileNotFoundGwError, GwidgetsError
from ...config import ConfigError, expand_path
from ...datapaths import MissingDataError, data_path, data_root

__all__ = ["groups", "open_store", "select_ids"]

_INHERITED = ("datastore", "obs_ids", "required_irf", "obs_cone", "obs_time", "obs_object", "zenith_max")


def groups(config) -> list[dict]:
    """The observation groups of ``config``: each a dict with ``name``, ``key`` (config path) and the selection.

    Parameters
    ----------
    config : `~gwidgets.core.config.AnalysisConfig` or dict
        The analysis config.

    Returns
    -------
    list of dict
        One per group (one named after the data store folder without ``data.groups``); keys not set
        in a group are inherited from ``data``.

    Raises
    ------
    `~gwidgets.core.config.ConfigError`
        If a group has no data store (nor ``spectra``), has both, or two groups share a name.
    """
    data = config.get("data", {})
    base = {k: data[k] for k in _INHERITED if k in data}
    if not data.get("groups"):
        if "datastore" not in data:
            raise ConfigError("'data.datastore' is not set: give the DL3 data store directory")
        name = Path(str(data["datastore"])).name or "data"
        return [dict(base, name=name, key="data")]
    out, seen = [], set()
    for i, g in enumerate(data["groups"]):
        group = dict(base)
        if "obs_ids" in group and any(k in g for k in ("datastore",)):
            group.pop("obs_ids")  # ids of another store make no sense for this group's store
        group.update(g)
        group["key"] = f"data.groups[{i}]"
        if "spectra" in g:  # already reduced 1D spectra (OGIP / gadf files): no data store, no selection
            if "datastore" in g:
                raise ConfigError(f"'{group['key']}': give either 'datastore' (DL3) or 'spectra' (reduced OGIP "
                                  "spectra), not both")
            group.pop("datastore", None)
            group.setdefault("name", Path(str(group["spectra"])).name or f"group{i}")
        elif "datastore" not in group:
            raise ConfigError(f"'{group['key']}.datastore' is not set (and there is no 'data.datastore'); "
                              "a group of reduced spectra gives 'spectra' instead")
        else:
            group.setdefault("name", Path(str(group["datastore"])).name or f"group{i}")
        if group["name"] in seen:
            raise ConfigError(f"'{group['key']}.name' = {group['name']!r} is used by two groups; names must be unique")
        seen.add(group["name"])
        out.append(group)
    return out


def resolve_path(text, key: str, base_dir=None) -> Path:
    """A config path with ``$VARS`` expanded; relative paths are tried against the config file's folder.

    Parameters
    ----------
    text : str or `~pathlib.Path`
        The path as written in the config.
    key : str
        Its config key (named in the errors).
    base_dir : str or `~pathlib.Path`, optional
        The config file's folder.

    Returns
    -------
    `~pathlib.Path`
        The path (it may not exist).

    Raises
    ------
    `~gwidgets.core.config.ConfigError`
        If the path is a missing data set of the data root (the message says how to fetch it), or a
        ``$VAR`` is not set.
    """
    path = Path(expand_path(str(text), key))
    if not path.is_absolute() and base_dir is not None and (Path(base_dir) / path).exists():
        path = Path(base_dir) / path
    root = data_root()
    if not path.exists() and path.is_relative_to(root):  # a data set of the data root: say how to fetch it
        try:
            data_path(path.relative_to(root))
        except MissingDataError as exc:
            raise ConfigError(f"'{key}': {exc}") from None
    return path


def open_store(group: dict, base_dir=None):
    """Open the data store of a group.

    Parameters
    ----------
    group : dict
        One of `groups` (its ``datastore`` and ``key``).
    base_dir : str or `~pathlib.Path`, optional
        The config file's folder.

    Returns
    -------
    `~gwidgets.core.data.DataStore`
        The data store.

    Raises
    ------
    `~gwidgets.core.config.ConfigError`
        If the folder does not exist or is not a data store (the message names ``<key>.datastore``).
    """
    from ...data import DataStore

    path = resolve_path(group["datastore"], f"{group['key']}.datastore", base_dir)
    try:
        return DataStore.from_dir(path)
    except FileNotFoundGwError:
        raise ConfigError(f"'{group['key']}.datastore': data store directory '{path}' does not exist") from None
    except GwidgetsError as exc:
        raise ConfigError(f"'{group['key']}.datastore': {exc}") from None


def select_ids(store, group: dict) -> list[int]:
    """Observation ids of ``store`` selected by the group's keys (explicit ``obs_ids`` keep their order).

    Parameters
    ----------
    store : `~gwidgets.core.data.DataStore`
        The group's data store.
    group : dict
        One of `groups`: ``obs_ids``, or the ``obs_cone``, ``obs_time``, ``obs_object``, ``zenith_max`` selections.

    Returns
    -------
    list of int
        Observation ids.

    Raises
    ------
    `~gwidgets.core.config.ConfigError`
        If an explicit id is not in the store, or ``obs_time`` is not a valid time.
    `~gwidgets.errors.EmptySelectionError`
        If the selection keeps no observation.
    """
    key = group["key"]
    if group.get("obs_ids"):
        known = set(store.obs_ids)
        missing = [i for i in group["obs_ids"] if i not in known]
        if missing:
            raise ConfigError(f"'{key}.obs_ids': observation {missing[0]} is not in data store '{store.name}'")
        return [int(i) for i in group["obs_ids"]]
    table = store.obs_table
    if "obs_cone" in group:
        cone = group["obs_cone"]
        center = SkyCoord(cone["lon"], cone["lat"], frame=cone.get("frame", "icrs"))
        table = table.select_sky_cone(center, cone["radius"])
    if "obs_time" in group:
        t = group["obs_time"]
        try:
            start, stop = Time(t.get("start", "1990-01-01")), Time(t.get("stop", "2100-01-01"))
        except ValueError as exc:
            raise ConfigError(f"'{key}.obs_time': {exc}") from None
        table = table.select_time(start, stop)
    if "obs_object" in group:
        table = table.select_object(group["obs_object"])
    if "zenith_max" in group:
        table = table.select_zenith(max=group["zenith_max"])
    ids = [int(i) for i in np.asarray(table["OBS_ID"])]
    if not ids:
        raise EmptySelectionError(f"'{key}': the selection keeps no observation of data store '{store.name}'")
    return ids


def run(analysis, progress=None):
    """Open each group's data store and select its observations (unreadable ones skipped with a note).

    Parameters
    ----------
    analysis : `~gwidgets.core.analysis.Analysis`
        The analysis.
    progress : callable, optional
        Unused.

    Returns
    -------
    dict
        Group name → `~gwidgets.core.data.Observations`, also stored as ``analysis.observations``.

    Raises
    ------
    `~gwidgets.core.config.ConfigError`
        If a data store or selection key is wrong.
    `~gwidgets.errors.EmptySelectionError`
        If a selection keeps no observation.
    """
    out = {}
    for group in groups(analysis.config):
        if "spectra" in group:  # reduced spectra: read by the datasets step
            continue
        store = open_store(group, analysis.base_dir)
        ids = select_ids(store, group)
        required = group.get("required_irf", "full-enclosure")
        try:
            # as the library's batch reduction: an unreadable observation (or one without the required IRFs)
            # is skipped with its reason, reported once per cause, and the rest is analysed
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                observations = store.get_observations(ids, required_irf=required, skip_missing=True)
        except GwidgetsError as exc:
            raise ConfigError(f"'{group['key']}': {exc}") from None
        skipped = getattr(observations, "skipped", {}) or {}
        if skipped:
            from ...reduction.notes import BatchNotes, reason_cause

            notes = BatchNotes()
            for oid, reason in skipped.items():
                notes.add(f"skipped: {reason_cause(reason, oid)}", oid)
            for line in notes.lines():
                analysis.note(f"group '{group['name']}': {line}")
            notes.warn(prefix=f"Analysis: group '{group['name']}': ", stacklevel=2)
        out[group["name"]] = observations
    analysis.observations = out
    analysis.log("observations: " + ", ".join(f"{k}: {len(v)}" for k, v in out.items()))
    return out


def time_ranges(observations) -> tuple[Time, Time]:
    """(start, stop) `Time` arrays of ``observations`` (MET + the store's time reference).

    Parameters
    ----------
    observations : iterable of `~gwidgets.core.data.Observation`
        The observations.

    Returns
    -------
    start, stop : `~astropy.time.Time`
        Arrays (MJD) of the observations' TSTART / TSTOP.

    Raises
    ------
    `~gwidgets.errors.GwidgetsError`
        If an observation has no time reference (MJDREF) in its metadata.
    """
    from ...data.obs_table import time_reference

    starts, stops = [], []
    for o in observations:
        meta = o.meta if ("MJDREFI" in o.meta or "MJDREF" in o.meta) else o.events.meta
        ref = time_reference(meta, f"observation {o.obs_id}")
        starts.append((ref + o.tstart.to(u.s)).mjd)
        stops.append((ref + o.tstop.to(u.s)).mjd)
    return Time(starts, format="mjd"), Time(stops, format="mjd")
