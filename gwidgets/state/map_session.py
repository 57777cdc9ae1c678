"""The 3D session: a `MapDataset` (stacked or one per observation), its models, live residual maps and a fit.

One observable object the 3D views (`~gwidgets.widgets.map_view.MapView`, the
`~gwidgets.widgets.model_editor.ModelEditor`) look at, as `AnalysisSession` is
for 1D. User intent comes in through methods (`move`, `set_size`,
`set_region`, `show`, `fit`, `stop_fit`) or by setting parameter values; derived
results are computed on demand and cached by ``model_version``:

* `images` — counts, npred and residual significance images of the dataset
  shown (`~gwidgets.core.datasets.map_residuals.ResidualMaps`: each source on its
  cut-out, one cached evaluator per model, a few ms per parameter change);
* `spectrum` — counts, npred and residuals per energy in the circle ``region``.

A fit runs in the background `Worker`. With per-observation datasets it fits
them all jointly (as gammapy's ``Fit().run(datasets)``; `fit_dataset_names`)
while the map keeps showing the dataset chosen with `show`; every
``fit_throttle`` seconds its callback puts the current images of that dataset
into ``fit_progress`` (computed in the fit's thread), so the maps follow the
fit; `stop_fit` keeps the best point. **The
user's edit wins**, as in `AnalysisSession`: a parameter moved (a drag, a
slider) while a fit runs stops it, the user's value is re-applied after the
fit returns, and the result is kept but marked stale (``fit_stale``).

Every trait notification runs in the kernel's thread (`UIThread`).

Examples
--------
Two runs of the simulated example store binned around its bright source, with a model of it:

>>> from gwidgets.state.map_session import MapSession
>>> from gwidgets.core.geom import MapAxis, WcsGeom
>>> from gwidgets.core.models import FoVBackgroundModel, PointSpatialModel, PowerLaw, SkyModel
>>> from gwidgets.core.reduction import MapDatasetMaker
>>> observations = gw.example_store().get_observations([1001, 1002])
>>> geom = WcsGeom.create(SkyCoord(83.63, 22.01, unit="deg"), binsz=0.04, width=2 * u.deg,
...                       axes=[MapAxis.from_energy_bounds(1 * u.TeV, 10 * u.TeV, 4)])
>>> energy_axis_true = MapAxis.from_energy_bounds(0.5 * u.TeV, 20 * u.TeV, 8, name="energy_true")
>>> dataset = MapDatasetMaker(geom, energy_axis_true, offset_max="2.5 deg").run_stacked(observations)
>>> dataset.models = [SkyModel(PowerLaw(index=2.6, amplitude="3e-11 cm-2 s-1 TeV-1"),
...                            PointSpatialModel(lon_0="83.63 deg", lat_0="22.01 deg"), name="crab"),
...                   FoVBackgroundModel(dataset.name)]
>>> session = MapSession(dataset, background=False)
>>> session.move("crab", 83.7, 22.0)
>>> session.images()["significance"].shape
(50, 50)
"""
from __future__ import annotations

import threading
import time

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from traitlets import Any, Bool, Dict, Float, HasTraits, Int, List, Unicode, observe

from ..core.registry import Registry
from ..errors import EmptySelectionError, GwidgetsError
from .fit_control import FitControl, FitPlan
from .session_graph import mean_pointing
from .ui_thread import KernelThreadNotifications, UIThread, kernel_loop
from .worker import Worker

__all__ = ["MapSession", "MAP3D_SETTINGS", "SIZE_PARAMETERS", "make_map_datasets", "size_parameter"]

#: the 3D binning of `make_map_datasets`: 150 × 150 pixels of 0.02°, 10 reco bins, 20 true bins, offset-max safe mask
MAP3D_SETTINGS = {"binsz": 0.02, "width": 3.0, "e_min": 0.3, "e_max": 100.0, "nbin": 10, "e_true_min": 0.1,
                  "e_true_max": 300.0, "nbin_true": 20, "offset_max": 2.5}

#: spatial model class name -> the parameter a size handle changes
SIZE_PARAMETERS = Registry("size parameter")
SIZE_PARAMETERS.add("GaussianSpatialModel", "sigma")
SIZE_PARAMETERS.add("DiskSpatialModel", "r_0")
SIZE_PARAMETERS.add("ShellSpatialModel", "radius")


def size_parameter(spatial_model):
    """The `Parameter` a size handle changes for ``spatial_model`` (None for a point source or no model).

    >>> from gwidgets.core.models import GaussianSpatialModel, PointSpatialModel
    >>> size_parameter(GaussianSpatialModel()).name, size_parameter(PointSpatialModel())
    ('sigma', None)
    """
    name = SIZE_PARAMETERS.get(type(spatial_model).__name__) if spatial_model is not None else None
    return None if name is None else spatial_model.parameters[name]


def make_map_datasets(observations, center: SkyCoord, settings: dict | None = None, per_observation: bool = False,
                      token=None) -> dict:
    """Reduce ``observations`` to `MapDataset` s on a square map around ``center`` (see `MAP3D_SETTINGS`).

    Parameters
    ----------
    observations : list of Observation
    center : SkyCoord
        Map centre (also where the PSF and EDISP are evaluated).
    settings : dict, optional
        Keys of `MAP3D_SETTINGS` to override.
    per_observation : bool
        Also keep each observation's dataset (named ``obs-<OBS_ID>``) next to the stacked one.
    token : CancelToken, optional

    Returns
    -------
    dict
        name -> MapDataset; ``"stacked"`` first.
    """
    from ..core.geom import MapAxis
    from ..core.reduction.map_settings import MapReductionSettings

    s = dict(MAP3D_SETTINGS, **(settings or {}))
    unknown = set(s) - set(MAP3D_SETTINGS)
    if unknown:
        raise GwidgetsError(f"Unknown 3D map setting(s) {sorted(unknown)}; known: {sorted(MAP3D_SETTINGS)}")
    observations = list(observations)
    if not observations:
        raise EmptySelectionError("No observations to reduce to a 3D dataset")
    e_reco = MapAxis.from_energy_bounds(s["e_min"] * u.TeV, s["e_max"] * u.TeV, int(s["nbin"]))
    e_true = MapAxis.from_energy_bounds(s["e_true_min"] * u.TeV, s["e_true_max"] * u.TeV, int(s["nbin_true"]),
                                        name="energy_true")
    # the 3D pipeline's settings object (its other defaults: PSF, EDISP, background integration, projection)
    reduction = MapReductionSettings(energy_axis=e_reco, energy_axis_true=e_true, binsz=s["binsz"] * u.deg,
                                     width=s["width"] * u.deg, offset_max=s["offset_max"] * u.deg,
                                     frame="galactic" if center.frame.name == "galactic" else "icrs")
    maker = reduction.maker(center, position=center)
    if not per_observation:
        return {"stacked": maker.run_stacked(observations, token=token)}
    singles = {}
    for obs in observations:
        if token is not None:
            token.raise_if_cancelled(f"while reducing OBS_ID {obs.obs_id}")
        singles[f"obs-{obs.obs_id}"] = maker.run(obs)
    stacked = None
    for ds in singles.values():
        stacked = ds.to_masked(name="stacked") if stacked is None else stacked.stack(ds)
    return {"stacked": stacked, **singles}


def _default_sky_model(center: SkyCoord):
    from ..core.models import LogParabola, PointSpatialModel, SkyModel

    spectral = LogParabola(amplitude="3.5e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.5, beta=0.1)
    return SkyModel(spectral, PointSpatialModel.from_position(center.icrs), name="source")


class MapSession(KernelThreadNotifications, HasTraits):
    """Observable 3D session (see the module doc).

    Parameters
    ----------
    datasets : MapDataset, list or dict of them, optional
        The datasets (shown one at a time; the first is shown); `build` makes them from a data store.
    models : Models or list, optional
        The sky models; a `FoVBackgroundModel` is added for each dataset that has none.
        Default: the datasets' own models, else a log-parabola point source at the map centre.
    background : bool
        Run fits and reductions in a background thread (False: synchronously, for scripts and tests).
    smooth_radius : float
        Gaussian smoothing [deg] of the counts and npred images before the significance (gammapy's
        ``plot_residuals_spatial`` default: 0.1°).
    """

    datasets = Dict(help="name -> MapDataset")
    dataset_name = Unicode("", help="the dataset shown (the fit uses `fit_dataset_names`)")
    models = Any(None, allow_none=True, help="sky models + background models (gwidgets.core.models.Models)")
    #: increases on every parameter change made outside a running fit
    model_version = Int(0)
    region = Dict(help="circle of the spectrum: lon, lat, radius [deg] in the map frame")
    smooth_radius = Float(0.1)
    status = Unicode("")
    error = Unicode("")
    busy = Bool(False)
    fitting = Bool(False)
    fit_progress = Dict(help="latest fit callback: nfev, stat, values, images, final (throttled)")
    fit_result = Any(None, allow_none=True)
    fit_stale = Bool(False)
    selection = List(help="observation ids reduced by `build`")
    #: minimum seconds between two live map updates during a fit
    fit_throttle = 0.1
    #: seconds to pause after each progress update (slow motion for demos and browser tests)
    fit_step_delay = 0.0
    #: what a new model component is placed on, for the `ModelEditor` (no ON region in 3D: the map centre)
    on_region = None

    def __init__(self, datasets=None, models=None, background: bool = True, smooth_radius: float = 0.1,
                 store=None, **kwargs):
        self.store = store
        #: the `AnalysisSession` whose selection `build_selected` reduces (`from_analysis`)
        self.source = None
        self.background = background
        self._lock = threading.RLock()
        self._residuals: dict = {}
        self._cache: dict = {}
        self.ui = UIThread(kernel_loop())
        self.worker = Worker(on_error=self._on_error)
        #: runs the fits: worker job, Stop, the user's edit wins, live progress (shared with `AnalysisSession`)
        self.fit_control = FitControl(self)
        super().__init__(smooth_radius=float(smooth_radius), **kwargs)
        if datasets is not None:
            self.set_datasets(datasets, models)

    # ------------------------------------------------------------- datasets
    @property
    def dataset(self):
        """The `MapDataset` shown (None before any)."""
        return self.datasets.get(self.dataset_name)

    @property
    def counts_map(self):
        """The counts of the dataset shown (where the model editor places a new component: the map centre)."""
        ds = self.dataset
        return None if ds is None else ds.counts

    @property
    def geom(self):
        ds = self.dataset
        return None if ds is None else ds.counts.geom

    def set_datasets(self, datasets, models=None):
        """Use ``datasets`` (a MapDataset, a list or a name -> dataset dict) with ``models`` (see the class doc)."""
        if hasattr(datasets, "counts"):
            datasets = [datasets]
        if not isinstance(datasets, dict):
            datasets = {d.name: d for d in datasets}
        if not datasets:
            raise GwidgetsError("No 3D datasets given")
        first = next(iter(datasets.values()))
        if models is None:
            models = first.models
        with self._lock:
            self._residuals, self._cache = {}, {}
        with self.hold_trait_notifications():
            self.datasets = dict(datasets)
            self.dataset_name = next(iter(datasets))
            self.set_models(models)
            geom = first.counts.geom
            if not self.region:
                c = geom.center_skydir.spherical
                self.region = {"lon": float(c.lon.deg), "lat": float(c.lat.deg), "radius": 0.2}

    @classmethod
    def from_analysis(cls, session, **kwargs) -> MapSession:
        """A 3D session over the data store of an `AnalysisSession` (``session``).

        `build_selected` reduces its selected runs, centred on its ON region, starting from its sky models.

        >>> from regions import CircleSkyRegion
        >>> from gwidgets.state import AnalysisSession
        >>> analysis_session = AnalysisSession(gw.example_store(), background=False)
        >>> analysis_session.select([1001, 1002])
        >>> analysis_session.set_on_region(CircleSkyRegion(SkyCoord(83.63, 22.01, unit="deg"), 0.15 * u.deg))
        >>> maps = MapSession.from_analysis(analysis_session)
        >>> maps.build_selected(wait=True)
        {'stacked': MapDataset(name='stacked', shape=(10, 150, 150), n_true=20, counts=..., psf=yes, edisp=yes,
        models=2)}
        """
        out = cls(store=session.store, background=session.background, **kwargs)
        out.source = session
        return out

    def build_selected(self, per_observation: bool = False, wait: bool = False):
        """`build` from the selection of the `AnalysisSession` this session follows (`from_analysis`)."""
        src = getattr(self, "source", None)
        if src is None:
            raise GwidgetsError("This 3D session follows no analysis session: use build(store, obs_ids)")
        on = src.on_region
        center = on.center.icrs if on is not None and hasattr(on, "center") else None
        start = None
        if src.models is not None:
            start = [m.copy() for m in src.models if type(m).__name__ == "SkyModel" and m.spatial_model is not None]
        return self.build(src.store, src.selection, center=center, per_observation=per_observation, wait=wait,
                          start_models=start or None)

    def show(self, name: str):
        """Show the dataset ``name`` (the fit still uses all of `fit_dataset_names`)."""
        if name not in self.datasets:
            raise GwidgetsError(f"No 3D dataset '{name}' (have: {', '.join(self.datasets) or 'none'})")
        self.dataset_name = name

    def build(self, store, obs_ids, center: SkyCoord | None = None, settings: dict | None = None,
              per_observation: bool = False, wait: bool = False, start_models=None):
        """Reduce the observations ``obs_ids`` of ``store`` (worker thread if ``background``) and show them.

        ``center`` defaults to the mean pointing. The current sky models are kept (moved onto the new datasets);
        without any, ``start_models`` (else a point source at the centre).
        """
        ids = [int(i) for i in np.atleast_1d(obs_ids)] if obs_ids is not None else []
        if not ids:
            raise EmptySelectionError("No observations selected: select runs to build the 3D dataset")
        self.store = store
        self.selection = ids

        def job(token=None):
            self.busy = True
            self.status = f"reducing {len(ids)} observation(s) to a 3D dataset…"
            try:
                observations = store.get_observations(ids, required_irf="full-enclosure", skip_missing=True)
                if not observations:
                    raise EmptySelectionError("None of the selected observations has the IRFs a 3D analysis needs")
                where = center if center is not None else mean_pointing(observations)
                t0 = time.perf_counter()
                sets = make_map_datasets(observations, where, settings, per_observation, token=token)
                sky = [m for m in (self.models or []) if type(m).__name__ == "SkyModel"]
                sky = ([m for m in sky if m.spatial_model is not None] or list(start_models or [])
                       or [_default_sky_model(where)])
                self.set_datasets(sets, sky)
                self.status = (f"3D dataset of {len(observations)} observation(s) built in "
                               f"{time.perf_counter() - t0:.1f} s")
                return sets
            finally:
                self.busy = False

        self.error = ""
        if self.background:
            self.worker.submit("build", job)
            if wait:
                self.wait()
            return None
        try:
            return job()
        except GwidgetsError as exc:
            self.error = str(exc)
            raise

    # --------------------------------------------------------------- models
    def set_models(self, models):
        """Use ``models`` (Models, list, YAML path); a `FoVBackgroundModel` is added per dataset that has none."""
        from pathlib import Path

        from ..core.models import FoVBackgroundModel, Models

        if isinstance(models, (str, Path)):
            models = Models.read(models)
        elif models is None:
            models = Models([])
        elif not isinstance(models, Models):
            models = Models(list(models) if isinstance(models, (list, tuple)) else [models])
        have = {n for m in models if type(m).__name__ == "FoVBackgroundModel" for n in m.datasets_names}
        extra = [FoVBackgroundModel(name) for name, ds in self.datasets.items()
                 if name not in have and ds.background is not None]
        if extra:
            models = Models([*models, *extra])
        for ds in self.datasets.values():
            ds.models = models
        self.models = models

    @observe("models")
    def _models_changed(self, change):
        # the models now, not change["new"]: a change made in the worker (build) is delivered later in the kernel's
        # thread, possibly after a newer set_models, whose parameters must stay the ones watched
        self.fit_control.models_replaced(self.models)  # watches the parameters: a user's edit stops a fit

    def sky_model(self, name: str):
        """The sky model ``name`` (a named error if there is none)."""
        names = [m.name for m in (self.models or []) if type(m).__name__ == "SkyModel"]
        if name not in names:
            raise GwidgetsError(f"No sky model named '{name}' (have: {', '.join(names) or 'none'})")
        return self.models[name]

    def move(self, name: str, lon: float, lat: float):
        """Put the spatial model of sky model ``name`` at (``lon``, ``lat``) [deg, the model's frame]."""
        sm = self.sky_model(name).spatial_model
        if sm is None or "lon_0" not in sm.parameters:
            raise GwidgetsError(f"Sky model '{name}' has no position to move")
        sm.lon_0.value = float(lon)
        sm.lat_0.value = float(lat)

    def set_size(self, name: str, value: float):
        """Set the size parameter (`SIZE_PARAMETERS`) of sky model ``name`` to ``value`` [deg]."""
        param = size_parameter(self.sky_model(name).spatial_model)
        if param is None:
            raise GwidgetsError(f"Sky model '{name}' has no size parameter (a point source)")
        param.value = float(value)

    def set_region(self, lon: float, lat: float, radius: float):
        """The circle (map frame, degrees) whose spectrum `spectrum` extracts."""
        if not (np.isfinite(radius) and radius > 0):
            raise GwidgetsError(f"Region radius must be positive, got {radius}")
        self.region = {"lon": float(lon), "lat": float(lat), "radius": float(radius)}

    # ------------------------------------------------------------ results
    def _maps(self):
        from ..core.datasets.map_residuals import ResidualMaps

        key = (self.dataset_name, self.smooth_radius)
        rm = self._residuals.get(key)
        if rm is None or rm.dataset is not self.dataset:
            if self.dataset is None:
                raise GwidgetsError("No 3D dataset yet: build it from the selected observations")
            rm = self._residuals[key] = ResidualMaps(self.dataset, smooth_radius=self.smooth_radius)
        return rm

    def images(self) -> dict:
        """``{"counts", "npred", "significance"}`` images (ny, nx) of the dataset shown, current parameters.

        Cached until a parameter, the dataset or the smoothing changes.
        """
        with self._lock:
            key = ("images", self.dataset_name, self.model_version, self.smooth_radius, id(self.dataset))
            hit = self._cache.get("images")
            if hit is not None and hit[0] == key:
                return hit[1]
            value = self._maps().images()
            self._cache["images"] = (key, value)
            return value

    def spectrum(self) -> dict:
        """Counts, npred, residuals per reco-energy bin in ``region`` (see `~gwidgets.core.datasets.map_residuals`)."""
        with self._lock:
            r = self.region
            key = ("spectrum", self.dataset_name, self.model_version, id(self.dataset), tuple(sorted(r.items())))
            hit = self._cache.get("spectrum")
            if hit is not None and hit[0] == key:
                return hit[1]
            value = self._maps().region_spectrum((r["lon"], r["lat"]), r["radius"])
            self._cache["spectrum"] = (key, value)
            return value

    # ------------------------------------------------------------- fitting
    @property
    def fit_dataset_names(self) -> list:
        """The names of the datasets a fit uses, jointly.

        Every dataset but ``"stacked"`` when there are others (the per-observation datasets), else all of them;
        the map shows `dataset_name` whichever are fitted.

        >>> MapSession(background=False).fit_dataset_names
        []
        """
        names = list(self.datasets)
        singles = [n for n in names if n != "stacked"]
        return singles if singles else names

    def fit(self, fit=None, wait: bool = False, datasets=None):
        """Fit the datasets `fit_dataset_names` jointly (worker thread if ``background``).

        ``datasets`` (names) overrides which datasets are fitted. ``fit_progress`` carries live images of the
        dataset shown; models that apply to none of the fitted datasets (e.g. the stacked cube's background
        model in a joint per-observation fit) are held fixed.
        """
        from ..core.fit import Fit

        names = list(datasets) if datasets is not None else None
        unknown = [n for n in (names or []) if n not in self.datasets]
        if unknown:
            raise GwidgetsError(f"No 3D dataset '{unknown[0]}' to fit (have: {', '.join(self.datasets) or 'none'})")
        fit = fit if fit is not None else Fit()
        self.error = ""
        result = self.fit_control.start(fit, lambda token: self._fit_plan(names), wait=wait)
        return self.fit_result if self.background and wait else result

    def stop_fit(self):
        """Cancel a running fit; the parameters stay at the best point found so far."""
        self.fit_control.stop()

    def _fit_plan(self, names=None) -> FitPlan:
        """The datasets fitted (``names``, default `fit_dataset_names`), held models, live images of the one shown."""
        from ..core.datasets import Datasets

        names = list(names) if names is not None else self.fit_dataset_names
        if self.dataset is None or not names:
            raise GwidgetsError("No 3D dataset to fit: build it from the selected observations first")
        if not [m for m in (self.models or []) if type(m).__name__ == "SkyModel"]:
            raise GwidgetsError("No sky model to fit: add a model component first")
        # the models of no fitted dataset (the stacked cube's background in a joint fit) stay where they are
        used = {id(m) for n in names for m in self.models.select(n)}
        held = [p for m in self.models if id(m) not in used for p in m.parameters if not p.frozen]
        maps = self._maps()

        def live():
            with self._lock:
                return {"images": maps.images()}

        return FitPlan(Datasets([self.datasets[n] for n in names]), self.models, names, live=live,
                       final=lambda: {"images": self.images()}, held=held)

    # -------------------------------------------------------------- misc
    def _on_error(self, kind, exc, tb):
        self.error = str(exc) if isinstance(exc, GwidgetsError) else f"{type(exc).__name__}: {exc}"
        self.status = "error"

    def wait(self, timeout: float | None = 120):
        """Block until background work is done (scripts and tests)."""
        self.worker.wait(timeout)

    def close(self):
        self.fit_control.unwatch()
        self.worker.shutdown()

    def __repr__(self):
        return (f"MapSession(datasets={list(self.datasets)}, shown='{self.dataset_name}', "
                f"models={list(self.models.names) if self.models is not None else []}, "
                f"version={self.model_version})")
