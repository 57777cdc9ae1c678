"""Session export: the dashboard's state ⇄ an `AnalysisConfig`, and a plain Python script.

The state is a plain `SessionState` (data store path, selected observation
ids, ON region, exclusion regions, models, energy binning, fit range); it
comes from an `AnalysisSession` through `session_to_state`, which only reads
the session's public attributes (no widget import: this module is core).

>>> from regions import CircleSkyRegion
>>> from gwidgets.core.models import Models, PowerLaw, SkyModel
>>> state = SessionState(datastore="/data/hess", obs_ids=[23523, 23526],
...                      on_region=CircleSkyRegion(SkyCoord(83.63, 22.01, unit="deg"), 0.11 * u.deg),
...                      models=Models([SkyModel(PowerLaw(), name="crab")]))
>>> config = state_to_config(state)
>>> config["data"]
{'required_irf': 'full-enclosure', 'datastore': '/data/hess', 'obs_ids': [23523, 23526]}
>>> config_to_state(config) == state
True
>>> script = config_to_script(config)
>>> code = compile(script, "analysis.py", "exec")      # a plain Python script, every setting written out
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import astropy.units as u
from astropy.coordinates import SkyCoord

from ...errors import GwidgetsError
from ..config import AnalysisConfig, ConfigError, to_plain
from ..reduction.map_settings import MapReductionSettings
from ..reduction.settings import SpectrumReductionSettings

__all__ = ["SessionState", "session_to_state", "state_to_config", "config_to_state", "session_to_config",
           "apply_state", "config_to_script"]

#: the session's flat view of the default 1D settings (energies in TeV): binning and the PSF containment
#: correction, read from `SpectrumReductionSettings` (the one definition of every 1D default)
DEFAULT_SPECTRUM = SpectrumReductionSettings().binning()
#: the sky binning (pixels of the exclusion mask; degrees), from `MapReductionSettings`'s defaults
DEFAULT_MAP = {"binsz": float(MapReductionSettings.binsz.to_value("deg")),
               "width": float(MapReductionSettings.width.to_value("deg")), "frame": MapReductionSettings.frame}


@dataclass
class SessionState:
    """What a user built in the dashboard, as plain data.

    ``on_region`` and ``exclusion_regions`` are regions ``CircleSkyRegion``;
    ``models`` a `Models` (or None); ``spectrum`` the energy binning in TeV
    (keys as `DEFAULT_SPECTRUM`); ``map`` the sky binning (``binsz``,
    ``width`` in degrees, ``frame``) that pixelises the exclusion mask;
    ``fit`` an optional ``{"e_min": Quantity, "e_max": Quantity}``; ``stack``: one stacked dataset
    for the fit (default: `SpectrumReductionSettings`'s).

    Parameters
    ----------
    datastore : str
        Data store directory.
    obs_ids : list of int, optional
        Selected observations.
    required_irf : str or list, optional
        IRFs an observation must have (``"full-enclosure"``, ``"point-like"`` ...).
    on_region : `~regions.CircleSkyRegion`, optional
        ON region.
    exclusion_regions : list of `~regions.CircleSkyRegion`, optional
        Exclusion regions.
    models : `~gwidgets.core.models.Models`, optional
        The models.
    spectrum : dict, optional
        Energy binning in TeV (keys of `DEFAULT_SPECTRUM`).
    map : dict, optional
        Sky binning (``binsz``, ``width`` in deg, ``frame``).
    fit : dict, optional
        Fit range ``{"e_min", "e_max"}``.
    stack : bool, optional
        Whether one stacked dataset is fitted.
    """

    datastore: str
    obs_ids: list = field(default_factory=list)
    required_irf: object = "full-enclosure"
    on_region: object = None
    exclusion_regions: list = field(default_factory=list)
    models: object = None
    spectrum: dict = field(default_factory=lambda: dict(DEFAULT_SPECTRUM))
    map: dict = field(default_factory=lambda: dict(DEFAULT_MAP))
    fit: dict = field(default_factory=dict)
    stack: bool = SpectrumReductionSettings.stack

    def __eq__(self, other):
        if not isinstance(other, SessionState):
            return NotImplemented
        return _state_dict(self) == _state_dict(other)


def _circle(region, what) -> dict:
    from regions import CircleSkyRegion

    if not isinstance(region, CircleSkyRegion):
        raise GwidgetsError(f"Only circular {what} can be exported to a config, got {type(region).__name__}")
    c = region.center
    frame = "galactic" if c.frame.name == "galactic" else "icrs"
    c = c.transform_to(frame)
    lon, lat = (c.l, c.b) if frame == "galactic" else (c.ra, c.dec)
    return {"frame": frame, "lon": lon.to(u.deg), "lat": lat.to(u.deg), "radius": u.Quantity(region.radius).to(u.deg)}


def _region(d: dict):
    from regions import CircleSkyRegion

    return CircleSkyRegion(SkyCoord(d["lon"], d["lat"], frame=d.get("frame", "icrs")), u.Quantity(d["radius"]))


def _state_dict(state: SessionState) -> dict:
    return state_to_config(state)


def store_dir(store) -> str:
    """The absolute directory of a `DataStore` (CTA index layout handled).

    Parameters
    ----------
    store : `~gwidgets.core.data.DataStore`
        The data store.

    Returns
    -------
    str
        Its directory (for a CTA layout ``<store>/index/<name>/hdu-index.fits.gz``, ``<store>``).

    Raises
    ------
    `~gwidgets.errors.GwidgetsError`
        If the store has no directory (neither ``path`` nor an HDU index file).
    """
    path = getattr(store, "path", None)
    if path is None:
        index = Path(getattr(store.hdu_index, "filename", ""))
        if not index.name:
            raise GwidgetsError("The session's data store has no directory; it cannot be exported")
        path = index.parent
        if path.parent.name == "index":  # CTA layout: <store>/index/<name>/hdu-index.fits.gz
            path = path.parent.parent
    return str(Path(path).absolute())


def session_to_state(session, fit=None) -> SessionState:
    """The `SessionState` of an `AnalysisSession` (only its public attributes are read).

    Parameters
    ----------
    session : `~gwidgets.state.AnalysisSession`
        The session.
    fit : dict, optional
        Fit range ``{"e_min", "e_max"}`` (default: the session's fit settings).

    Returns
    -------
    SessionState
        The session's data store, selection, regions, models, binning, fit range and dataset mode.

    Raises
    ------
    `~gwidgets.errors.GwidgetsError`
        If the session's data store has no directory.
    """
    fit = fit if fit is not None else session.fit_settings
    return SessionState(
        datastore=store_dir(session.store),
        obs_ids=[int(i) for i in session.selection],
        required_irf=session.required_irf,
        on_region=session.on_region,
        exclusion_regions=list(session.exclusion_regions),
        models=session.models,
        spectrum=dict(session.spectrum_settings),
        map={k: v for k, v in dict(session.map_settings or DEFAULT_MAP).items() if k in DEFAULT_MAP},
        fit=dict(fit or {}),
        stack=session.dataset_mode == "stacked",
    )


def state_to_config(state: SessionState, outdir=None) -> AnalysisConfig:
    """An `AnalysisConfig` that re-creates the state's results (1D reflected-region analysis).

    Parameters
    ----------
    state : SessionState
        The state.
    outdir : str or `~pathlib.Path`, optional
        Written as ``general.outdir``.

    Returns
    -------
    `~gwidgets.core.config.AnalysisConfig`
        The config, every 1D reduction setting written out.

    Raises
    ------
    `~gwidgets.errors.GwidgetsError`
        If the ON or an exclusion region is not a circle.
    """
    settings = SpectrumReductionSettings().replace(**dict(state.spectrum), stack=bool(state.stack))
    mp = dict(DEFAULT_MAP, **state.map)
    data = {"datastore": str(state.datastore), "required_irf": state.required_irf}
    if state.obs_ids:
        data["obs_ids"] = [int(i) for i in state.obs_ids]
    datasets = settings.to_config()  # every 1D setting written out
    datasets["geom"].update(binsize=mp["binsz"] * u.deg, width=mp["width"] * u.deg)
    if state.on_region is not None:
        on = _circle(state.on_region, "ON regions")
        datasets["on_region"] = on
        datasets["geom"]["skydir"] = {"frame": mp["frame"], **_skypos(on, mp["frame"])}
    if state.exclusion_regions:
        datasets["background"]["exclusion"] = [_plain_circle(_circle(r, "exclusion regions"))
                                               for r in state.exclusion_regions]
    cfg = {"data": data, "datasets": datasets}
    if outdir is not None:
        cfg["general"] = {"outdir": str(outdir)}
    if state.models is not None:
        models = state.models
        cfg["models"] = models.to_dict() if hasattr(models, "to_dict") else models
    if state.fit:
        cfg["fit"] = {k: u.Quantity(v, u.TeV) for k, v in state.fit.items() if k in ("e_min", "e_max")}
    return AnalysisConfig.from_dict(json.loads(json.dumps(to_plain(cfg))))


def _skypos(on: dict, frame: str) -> dict:
    c = SkyCoord(on["lon"], on["lat"], frame=on["frame"]).transform_to(frame)
    lon, lat = (c.l, c.b) if frame == "galactic" else (c.ra, c.dec)
    return {"lon": lon.to(u.deg), "lat": lat.to(u.deg)}


def _plain_circle(d: dict) -> dict:
    return to_plain(d)


def config_to_state(config) -> SessionState:
    """The `SessionState` a config describes (single data store, 1D); the inverse of `state_to_config`.

    Parameters
    ----------
    config : `~gwidgets.core.config.AnalysisConfig` or dict
        The config.

    Returns
    -------
    SessionState
        The state.

    Raises
    ------
    `~gwidgets.core.config.ConfigError`
        If the config has several observation groups, no ``data.datastore``, an exclusion mask file
        instead of regions, or invalid keys.
    """
    from .steps.datasets import spectrum_settings
    from .steps.models import read_models

    if not isinstance(config, AnalysisConfig):
        config = AnalysisConfig.from_dict(config)
    data, ds = config.get("data", {}), config.get("datasets", {})
    if data.get("groups"):
        raise ConfigError("'data.groups': a config with several observation groups cannot be loaded into one session")
    if "datastore" not in data:
        raise ConfigError("'data.datastore' is not set")
    settings = spectrum_settings(config)
    geom = ds.get("geom", {})
    mp = dict(DEFAULT_MAP)
    if "binsize" in geom:
        mp["binsz"] = geom["binsize"].to_value("deg")
    if "width" in geom:
        mp["width"] = geom["width"].to_value("deg")
    if "skydir" in geom and "frame" in geom["skydir"]:
        mp["frame"] = geom["skydir"]["frame"]
    exclusion = ds.get("background", {}).get("exclusion") or []
    if isinstance(exclusion, str):
        raise ConfigError("'datasets.background.exclusion' is a mask file; a session needs exclusion regions")
    return SessionState(
        datastore=str(data["datastore"]),
        obs_ids=list(data.get("obs_ids", [])),
        required_irf=data.get("required_irf", "full-enclosure"),
        on_region=_region(ds["on_region"]) if ds.get("on_region") else None,
        exclusion_regions=[_region(d) for d in ([exclusion] if isinstance(exclusion, dict) else exclusion)],
        models=read_models(config.get("models")),
        spectrum=settings.binning(),
        map=mp,
        fit={k: v for k, v in config.get("fit", {}).items() if k in ("e_min", "e_max")},
        stack=settings.stack,
    )


def session_to_config(session, fit=None, outdir=None) -> AnalysisConfig:
    """Export an `AnalysisSession` as an `AnalysisConfig` (reads only public attributes).

    Parameters
    ----------
    session : `~gwidgets.state.AnalysisSession`
        The session.
    fit : dict, optional
        Fit range ``{"e_min", "e_max"}`` (default: the session's fit settings).
    outdir : str or `~pathlib.Path`, optional
        Written as ``general.outdir``.

    Returns
    -------
    `~gwidgets.core.config.AnalysisConfig`
        The config (see `state_to_config`).

    Raises
    ------
    `~gwidgets.errors.GwidgetsError`
        If the data store has no directory or a region is not a circle.
    """
    return state_to_config(session_to_state(session, fit=fit), outdir=outdir)


def apply_state(session, state: SessionState):
    """Restore ``state`` into a session through its public methods (selection, regions, models).

    Parameters
    ----------
    session : `~gwidgets.state.AnalysisSession`
        The session (changed in place, one notification batch).
    state : SessionState
        The state to restore.

    Returns
    -------
    `~gwidgets.state.AnalysisSession`
        The session.
    """
    with session.hold_trait_notifications():
        session.required_irf = state.required_irf
        session.select(state.obs_ids)
        session.set_on_region(state.on_region)
        session.exclusion_regions = list(state.exclusion_regions)
        session.set_models(state.models)
        session.update_map_settings(**state.map)
    return session


# --------------------------------------------------------------------------- script
_SCRIPT = '''"""Re-create the results of a gwidgets analysis without the widgets (generated by gwidgets).

Run with ``python {name}``; the fit result is printed. Equivalent to
``gwidgets run`` on the exported config: the same 1D pipeline (`reduce_spectra`), with every
reduction setting written out below.
"""
import astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

from gwidgets.core.data import DataStore
from gwidgets.core.datasets import Datasets
from gwidgets.core.fit import Fit
from gwidgets.core.geom import Map, MapAxis, WcsGeom
from gwidgets.core.models import Models
from gwidgets.core.reduction import SpectrumReductionSettings, reduce_spectra, stack_spectra

# --- data: store and observations
store = DataStore.from_dir({datastore!r})
observations = store.get_observations({obs_ids!r}, required_irf={required_irf!r})

# --- ON region, exclusion regions and mask
on_region = CircleSkyRegion(SkyCoord({on[lon]!r} * u.deg, {on[lat]!r} * u.deg, frame={on[frame]!r}),
                            {on[radius]!r} * u.deg)
exclusion_regions = [
{exclusion}]
exclusion_mask = None
if exclusion_regions:
    geom = WcsGeom.create(SkyCoord({sky[lon]!r} * u.deg, {sky[lat]!r} * u.deg, frame={sky[frame]!r}),
                          binsz={binsz!r}, width={width!r} * u.deg, frame={sky[frame]!r})
    exclusion_mask = Map(geom, geom.region_mask(exclusion_regions, inside=False))

# --- 1D reduction settings (containment_correction="auto": PSF containment of the ON circle for
# full-enclosure IRFs, none for point-like; safe_mask "aeff-default": the IRFs' LO/HI_THRES)
{settings}

# --- 1D reduction: reflected regions, safe mask; one dataset per observation, stacked for the fit
per_observation = reduce_spectra(observations, on_region, settings, exclusion_mask=exclusion_mask)
for obs_id, reason in per_observation.skipped.items():
    print(f"observation {{obs_id}} not used: {{reason}}")
datasets = Datasets([stack_spectra(per_observation)]) if settings.stack else Datasets(list(per_observation))

# --- models and fit
models = Models.from_yaml("""
{models_yaml}""")
datasets.models = models
{fit_range}result = Fit().run(datasets)
print(result)
print(result.parameters_table())
'''


def _unq(q, unit):
    return float(u.Quantity(q).to_value(unit))


def config_to_script(config, name: str = "analysis.py") -> str:
    """A plain Python script re-creating the results of ``config`` with the core API (1D, one data store).

    For a config with several observation groups the script runs `Analysis` on the config instead.

    Parameters
    ----------
    config : `~gwidgets.core.config.AnalysisConfig` or dict
        The config.
    name : str, optional
        File name of the script, quoted in its docstring.

    Returns
    -------
    str
        The script's source.

    Raises
    ------
    `~gwidgets.core.config.ConfigError`
        If a 1D single-store config has no ``datasets.on_region`` or no ``models``.
    """
    if not isinstance(config, AnalysisConfig):
        config = AnalysisConfig.from_dict(config)
    data, ds = config.get("data", {}), config.get("datasets", {})
    if data.get("groups") or ds.get("type", "1d") != "1d" or isinstance(ds.get("background", {}).get("exclusion"), str):
        return ('"""Run a gwidgets analysis from its config (generated by gwidgets)."""\n'
                "from gwidgets.core.analysis import Analysis\n\n"
                f"CONFIG = '''\n{config.to_yaml()}'''\n\n"
                "analysis = Analysis(CONFIG)\nanalysis.run()\nresult = analysis.fit_result\nprint(result)\n")
    state = config_to_state(config)
    if state.on_region is None:
        raise ConfigError("'datasets.on_region' is not set: nothing to re-create")
    if state.models is None:
        raise ConfigError("'models' is not set: nothing to fit")
    on = _circle(state.on_region, "ON regions")
    on = {"frame": on["frame"], "lon": _unq(on["lon"], "deg"), "lat": _unq(on["lat"], "deg"),
          "radius": _unq(on["radius"], "deg")}
    geom = ds.get("geom", {})
    sky = geom.get("skydir") or {"frame": "icrs", "lon": on["lon"] * u.deg, "lat": on["lat"] * u.deg}
    sky = {"frame": sky.get("frame", "icrs"), "lon": _unq(sky["lon"], "deg"), "lat": _unq(sky["lat"], "deg")}
    exclusion = ""
    for r in state.exclusion_regions:
        c = _circle(r, "exclusion regions")
        lon, lat = _unq(c["lon"], "deg"), _unq(c["lat"], "deg")
        exclusion += (f"    CircleSkyRegion(SkyCoord({lon!r} * u.deg, {lat!r} * u.deg, "
                      f"frame={c['frame']!r}), {_unq(c['radius'], 'deg')!r} * u.deg),\n")
    from .steps.datasets import spectrum_settings

    settings = spectrum_settings(config)
    fit = config.get("fit", {})
    fit_range = ""
    if fit.get("e_min") is not None or fit.get("e_max") is not None:
        lo = f"{_unq(fit['e_min'], 'TeV')!r} * u.TeV" if fit.get("e_min") is not None else "None"
        hi = f"{_unq(fit['e_max'], 'TeV')!r} * u.TeV" if fit.get("e_max") is not None else "None"
        fit_range = f"datasets.set_fit_range({lo}, {hi})\n"
    return _SCRIPT.format(
        name=name, datastore=str(state.datastore), obs_ids=[int(i) for i in state.obs_ids] or None,
        required_irf=state.required_irf, on=on, sky=sky, exclusion=exclusion,
        binsz=_unq(geom.get("binsize", 0.02 * u.deg), "deg"), width=_unq(geom.get("width", 8 * u.deg), "deg"),
        settings=settings.to_python("settings"), models_yaml=state.models.to_yaml().replace('"""', "'''"),
        fit_range=fit_range,
    )
