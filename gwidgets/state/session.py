"""The analysis session: one observable object that every widget views.

User intent goes in through methods (``select``, ``set_on_region``,
``add_exclusion`` …) or by assigning the traits; derived results
(observations, sky maps, datasets, fits) are nodes of a `Graph`, recomputed
only when what they depend on changed, heavy ones in a background `Worker`
with cancellation. Views observe the result traits (``counts_map``, …) and
``error``/``status``; they never talk to each other.

A failed computation sets ``error`` (a readable message naming the culprit)
and leaves the user's selection, regions and models exactly as they were.

**The user's edit wins.** A change made by the user while a fit runs (a
parameter value, bounds or freeze, ``set_models``, the selection, the ON or
exclusion regions, the settings) stops the fit at once; the parameters the user
touched keep the user's values (the fit's best point never overwrites them),
and the fit's result is kept but marked stale (``fit_stale``) — it does not
belong to what is now on screen. Every `FitResult` names what it belongs to:
``result.model_version`` and ``result.dataset_names``. Any later edit also
marks the last result stale; a new fit clears the flag.

Examples
--------
>>> import gwidgets as gw
>>> from gwidgets.state import AnalysisSession
>>> session = AnalysisSession(gw.example_store(), background=False)   # False: computed synchronously
>>> session.select(session.store.obs_ids[:4])
>>> session.compute("counts_map")
Map(shape=(250, 250), unit='', geom=WcsGeom(npix=(250, 250), binsz=0.02°, ...))
"""
from __future__ import annotations

import contextlib
import threading

import numpy as np
from traitlets import Any, Bool, Dict, HasTraits, Int, List, Unicode, observe

from ..core.analysis.export import DEFAULT_MAP
from ..core.data import DataStore
from ..core.reduction.settings import SpectrumReductionSettings
from ..errors import GwidgetsError, ObservationNotFoundError
from .config_io import ConfigMixin
from .estimator_jobs import ProductsMixin
from .fit_control import FitControl, FitPlan
from .graph import Graph
from .reduction import assign_models, build_datasets, predictions
from .session_graph import (
    counts_map,
    exclusion_mask,
    off_regions,
    reduced_spectra,
    reduction_records,
    select_observations,
    sky_geom,
)
from .ui_thread import KernelThreadNotifications, UIThread, kernel_loop
from .worker import Worker

__all__ = ["AnalysisSession", "DEFAULT_MAP_SETTINGS"]

#: the sky map's binning (binsz, width in degrees, frame: the reduction settings' defaults) and energy range (TeV)
DEFAULT_MAP_SETTINGS = {**DEFAULT_MAP, "e_min": 0.3, "e_max": 100.0}


class AnalysisSession(KernelThreadNotifications, ProductsMixin, ConfigMixin, HasTraits):
    """Holds the data store, the selection, regions, models and derived results.

    Parameters
    ----------
    store : `~gwidgets.core.data.DataStore`
    selection : list of int
        Initially selected observation ids (default: none).
    background : bool
        Run heavy work in a background thread (True in the dashboard; False
        makes every computation synchronous, handy in scripts and tests).
    **kwargs
        Initial values of traits (``required_irf="point-like"``, ``map_settings=…``, ``models=…``).

    Flux points, light curves and likelihood profiles: see `~gwidgets.state.estimator_jobs.ProductsMixin`;
    config / script export and config loading: see `~gwidgets.state.config_io.ConfigMixin`.
    """

    # ---- user intent (inputs)
    selection = List(Int(), help="selected observation ids")
    on_region = Any(None, allow_none=True, help="ON region (a regions SkyRegion)")
    exclusion_regions = List(help="exclusion regions (regions SkyRegions)")
    map_settings = Dict(help="binsz [deg], width [deg], e_min/e_max [TeV], frame")
    required_irf = Any("full-enclosure")
    models = Any(None, allow_none=True, help="the sky models (gwidgets.core.models.Models)")
    #: increases on every parameter change of ``models`` (cheap for views to observe)
    model_version = Int(0)

    # ---- results and status (outputs, observed by the views)
    counts_map = Any(None, allow_none=True)
    off_regions = Dict(help="obs_id -> reflected OFF regions result for the ON region")
    spectra = List(help="per-observation records of the 1D reduction (ObservationRecord: obs_id, ok, n_on, "
                        "n_off, containment_correction, notes, reason)")
    datasets = Any(None, allow_none=True, help="the spectrum datasets (gwidgets.core.datasets.Datasets)")
    status = Unicode("")
    error = Unicode("")
    busy = Bool(False)
    # ---- fitting (see `fit`)
    fitting = Bool(False, help="a fit is running")
    fit_progress = Dict(help="latest fit callback: nfev, stat, values, predictions, final (throttled)")
    fit_result = Any(None, allow_none=True, help="the last FitResult (also a stopped fit's)")
    fit_stale = Bool(False, help="the last fit result no longer belongs to the models / data shown (an edit since)")
    #: minimum seconds between two ``fit_progress`` updates (~30 Hz)
    fit_throttle = 1 / 30
    #: seconds to pause after each progress update (slow motion for demos and browser tests; 0 = off)
    fit_step_delay = 0.0

    def __init__(self, store: DataStore | None, selection=None, background: bool = True, **kwargs):
        # the graph and the worker exist before any trait passed in ``kwargs`` is set (and observed)
        self.store = store
        self.background = background
        self._lock = threading.RLock()
        self.graph = Graph()
        self.graph.add_input("store", store)
        self.graph.add_input("selection", ())
        self.graph.add_input("on_region", None)
        self.graph.add_input("exclusion_regions", ())
        self.graph.add_input("map_settings", dict(DEFAULT_MAP_SETTINGS))
        self.graph.add_input("required_irf", self.required_irf)
        self.graph.add_input("models", None)
        # runs the fits: worker job, Stop, the user's edit wins, live progress (shared with `MapSession`); a
        # parameter change touches "models" only (fit steps too): predictions recompute, datasets are not rebuilt
        self.fit_control = FitControl(self, on_change=lambda: self.graph.touch("models"))
        # every trait notification runs in the kernel's thread (views are never called from the worker)
        self.ui = UIThread(kernel_loop())
        self.graph.add_derived("observations", ["store", "selection", "required_irf"], select_observations)
        self.graph.add_derived("sky_geom", ["observations", "on_region", "map_settings"], sky_geom)
        self.graph.add_derived("exclusion_mask", ["sky_geom", "exclusion_regions"], exclusion_mask)
        self.graph.add_input("spectrum_settings", SpectrumReductionSettings())
        self.graph.add_derived("off_regions", ["observations", "on_region", "exclusion_mask", "spectrum_settings"],
                               off_regions)
        self.graph.add_derived("counts_map", ["observations", "sky_geom", "map_settings"], counts_map, heavy=True,
                               pass_token=True)
        # the one 1D pipeline (`reduce_spectra`), built from the settings object the Analysis and the script use
        self.graph.add_derived("reduced", ["observations", "on_region", "exclusion_mask", "spectrum_settings"],
                               reduced_spectra, heavy=True, pass_token=True)
        self.graph.add_derived("spectra", ["reduced"], reduction_records)
        # the fit stacks the runs by default, as the Analysis config does (one default: the settings' stack):
        # a joint WStat fit of many low-count runs biases curvature (closure test, +1.1 sigma on beta)
        self.graph.add_input("dataset_mode", "stacked" if SpectrumReductionSettings().stack else "joint")
        self.graph.add_input("fit_range", None)
        self.graph.add_derived("datasets", ["reduced", "dataset_mode", "fit_range"], build_datasets)
        # a parameter change touches "models" only: predictions recompute, datasets are not rebuilt
        self.graph.add_derived("predictions", ["datasets", "models"], predictions)
        self._outputs = {"counts_map": "counts_map", "off_regions": "off_regions", "spectra": "spectra",
                         "datasets": "datasets"}
        self.worker = Worker(on_done=self._on_done, on_error=self._on_error)
        super().__init__(**kwargs)
        if not self.map_settings:
            self.map_settings = dict(DEFAULT_MAP_SETTINGS)
        if selection is not None:
            self.select(selection)

    @classmethod
    def from_datasets(cls, datasets, models=None, background: bool = True) -> AnalysisSession:
        """A session over ready datasets (e.g. OGIP spectra), without a data store.

        >>> from gwidgets.core.datasets import Datasets
        >>> hess_spectra = gw.data_path("joint-crab/results/spectra/hess")                   # doctest: +SKIP
        >>> s = AnalysisSession.from_datasets(Datasets.read(hess_spectra))                  # doctest: +SKIP
        >>> from regions import CircleSkyRegion
        >>> from gwidgets.core.geom import MapAxis
        >>> from gwidgets.core.reduction import make_spectrum_datasets
        >>> observations = gw.example_store().get_observations([1001, 1002])
        >>> on_region = CircleSkyRegion(SkyCoord(83.63, 22.01, unit="deg"), 0.15 * u.deg)
        >>> energy_axis = MapAxis.from_energy_bounds(0.3 * u.TeV, 100 * u.TeV, 15)
        >>> energy_axis_true = MapAxis.from_energy_bounds(0.1 * u.TeV, 200 * u.TeV, 25, name="energy_true")
        >>> spectra = make_spectrum_datasets(observations, on_region, energy_axis, energy_axis_true)
        >>> AnalysisSession.from_datasets(spectra, background=False).datasets.names
        ['1001', '1002']
        """
        from ..core.fit import as_datasets

        datasets = as_datasets(datasets)
        session = cls(None, background=background)
        session.graph.add_input("datasets", datasets)  # replaces the derived node: nothing to reduce
        session._outputs = {"datasets": "datasets"}
        session.datasets = datasets
        models = models if models is not None else datasets.models
        if models is not None:
            session.set_models(models)
        return session

    # ------------------------------------------------------------ intent API
    def select(self, obs_ids):
        """Select observations by id; unknown ids raise and leave the selection unchanged."""
        if self.store is None:
            raise GwidgetsError("This session has no data store (made from datasets): nothing to select")
        ids = [int(i) for i in np.atleast_1d(obs_ids)] if obs_ids is not None else []
        known = set(self.store.obs_ids)
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ObservationNotFoundError(unknown[0], f"data store '{self.store.name}'")
        self.selection = ids

    def set_on_region(self, region):
        self.on_region = region

    def add_exclusion(self, region):
        self.exclusion_regions = [*self.exclusion_regions, region]

    def remove_exclusion(self, index: int):
        regs = list(self.exclusion_regions)
        del regs[index]
        self.exclusion_regions = regs

    def save_regions(self, path, overwrite: bool = True):
        """Write the ON and exclusion regions as a DS9 region file (ON region first, tagged)."""
        from regions import Regions

        regs = []
        if self.on_region is not None:
            on = self.on_region.copy()
            on.meta["text"] = "ON"
            regs.append(on)
        for r in self.exclusion_regions:
            ex = r.copy()
            ex.meta["text"] = "EXCLUDE"
            regs.append(ex)
        if not regs:
            raise GwidgetsError("There are no regions to save")
        Regions(regs).write(str(path), format="ds9", overwrite=overwrite)

    def load_regions(self, path):
        """Read a DS9 region file: the region tagged ON (or the first) becomes the ON region, the rest exclusions."""
        from regions import Regions

        try:
            regs = list(Regions.read(str(path), format="ds9"))
        except FileNotFoundError:
            from ..errors import FileNotFoundGwError

            raise FileNotFoundGwError(path) from None
        except Exception as exc:
            raise GwidgetsError(f"Cannot read DS9 region file '{path}': {exc}") from None
        regs = [r for r in regs if hasattr(r, "to_pixel") and not hasattr(r, "to_sky")]
        if not regs:
            raise GwidgetsError(f"No sky regions in '{path}'")
        on = next((r for r in regs if r.meta.get("text") == "ON"), regs[0])
        with self.hold_trait_notifications():
            self.on_region = on
            self.exclusion_regions = [r for r in regs if r is not on]

    @property
    def dataset_mode(self) -> str:
        """``"joint"`` (one dataset per observation in the fit) or ``"stacked"`` (see `set_dataset_mode`)."""
        return self.graph.peek("dataset_mode")

    def set_dataset_mode(self, mode: str = "joint", fit_range=None):
        """``"joint"`` (one dataset per observation) or ``"stacked"``; ``fit_range`` (e_min, e_max) in TeV."""
        from .reduction import DATASET_MODES

        if mode not in DATASET_MODES:
            raise GwidgetsError(f"Unknown dataset mode '{mode}' (known: {', '.join(DATASET_MODES)})")
        self.graph.set("dataset_mode", mode)
        self.graph.set("fit_range", None if fit_range is None else tuple(fit_range))
        if self.background:
            self.refresh()

    def update_map_settings(self, **settings):
        unknown = set(settings) - set(DEFAULT_MAP_SETTINGS)
        if unknown:
            raise GwidgetsError(f"Unknown map setting(s) {sorted(unknown)}; known: {sorted(DEFAULT_MAP_SETTINGS)}")
        self.map_settings = {**self.map_settings, **settings}

    # --------------------------------------------------------------- models
    def set_models(self, models):
        """Use ``models`` (a `Models`, a list of SkyModels, a YAML path); parameters are watched."""
        from pathlib import Path

        from ..core.models import Models

        if isinstance(models, (str, Path)):
            models = Models.read(models)
        elif models is not None and not isinstance(models, Models):
            models = Models(list(models) if isinstance(models, (list, tuple)) else [models])
        self.models = models

    # ---------------------------------------------------- the kernel's thread
    def use_ui_loop(self, loop):
        """Deliver notifications on ``loop`` (run in its thread); the kernel's loop is found by itself."""
        self.ui = UIThread(loop)

    # ------------------------------------------------- the user's edit wins (see `FitControl`)
    @observe("models")
    def _models_changed(self, change):
        # the models now, not change["new"]: a change set from another thread is delivered later in the kernel's
        # thread (`KernelThreadNotifications`), possibly after a newer one, which must stay the one used
        self.graph.set("models", self.models)
        self.fit_control.models_replaced(self.models)  # watches the parameters: a user's edit stops a fit

    # trait changes → graph inputs
    @observe("selection", "on_region", "exclusion_regions", "map_settings", "required_irf")
    def _input_changed(self, change):
        value = getattr(self, change["name"])  # the value now (see _models_changed)
        if isinstance(value, list):
            value = tuple(value)
        self.graph.set(change["name"], value)
        self.error = ""
        if not self.fit_control.in_fit():
            self.fit_control.user_edit(f"the {change['name'].replace('_', ' ')} changed")
        if self.background:
            self.refresh()

    # ------------------------------------------------------------ computing
    def compute(self, name: str):
        """Compute ``name`` now in this thread (raises on error; also sets ``error``)."""
        try:
            value = self.graph.get(name)
        except GwidgetsError as exc:
            self.error = str(exc)
            raise
        if name in self._outputs:
            setattr(self, self._outputs[name], value)
        return value

    def refresh(self):
        """Recompute the stale outputs, heavy ones in the background worker (nothing without a selection)."""
        if not self.selection or self.store is None:
            return
        for name in self._outputs:
            if not self.graph.is_stale(name):
                continue
            if self.background:
                self.worker.submit(name, lambda token, n=name: self._compute_in_worker(n, token))
            else:
                with contextlib.suppress(GwidgetsError):
                    self.compute(name)

    # ----------------------------------------------------- spectra and fits
    def containment_status(self) -> str:
        """What the 1D extraction did about the PSF containment of the ON region, in one line ("" before any).

        With the default (``spectrum_settings["containment_correction"] == "auto"``)
        full-enclosure IRFs are corrected, point-like IRFs never.
        """
        usable = [e for e in (self.spectra or []) if getattr(e, "ok", False)]
        if not usable:
            return ""
        applied = [bool(e.containment_correction) for e in usable]
        if all(applied):
            return "PSF containment correction applied (full-enclosure IRFs)"
        notes = sorted({n for e in usable for n in getattr(e, "notes", ()) if "containment" in n})
        if any(applied):
            return f"PSF containment correction applied to {sum(applied)} of {len(applied)} observations"
        if notes:
            return f"no PSF containment correction: {notes[0]}"
        mode = self.spectrum_settings["containment_correction"]
        why = "point-like IRFs, cut at RAD_MAX" if mode == "auto" else "containment_correction=False"
        return f"no PSF containment correction ({why})"

    def predictions(self) -> dict:
        """Name → `~gwidgets.state.reduction.SpectrumPrediction` for the current parameters.

        Cached until a parameter (or the datasets) change; a parameter change
        never re-reduces (only the ``predictions`` node is stale).
        """
        value = self.graph.get("predictions")
        datasets = self.graph.peek("datasets")
        if datasets is not self.datasets:
            self.datasets = datasets
        return value

    def predictions_ready(self) -> bool:
        """True when `predictions` needs no data reduction (the datasets are up to date): cheap enough for a redraw."""
        return "predictions" in self.graph and not self.graph.is_stale("datasets")

    def npred(self) -> dict:
        """Name → predicted counts per reco bin (current parameters)."""
        return {k: p.npred for k, p in self.predictions().items()}

    def residuals(self) -> dict:
        """Name → ``counts − npred`` (NaN outside the fit mask)."""
        return {k: p.residuals for k, p in self.predictions().items()}

    def fit(self, fit=None, wait: bool = False):
        """Fit the session's datasets with its models, in the worker thread (``background``).

        ``fit_progress`` is updated from the fit callback at most every
        ``fit_throttle`` seconds (with fresh predictions); ``fit_result`` holds the
        result. `stop_fit` cancels and keeps the best point so far. Errors go to
        ``error``; models and regions stay as they were.
        """
        from ..core.fit import Fit

        fit = fit if fit is not None else Fit()
        self.fit_control.start(fit, self._fit_plan, wait=wait)
        return self.fit_result if (wait or not self.background) else None

    def stop_fit(self):
        """Cancel a running fit; the parameters stay at the best point found so far."""
        self.fit_control.stop()

    def _fit_plan(self, token) -> FitPlan:
        """The session's datasets with its models; spatial / temporal parameters held (1D does not constrain them)."""
        datasets = self.graph.get("datasets", token)
        if datasets is None or len(datasets) == 0:
            raise GwidgetsError("No datasets to fit: select observations and place an ON region")
        if self.models is None or len(self.models) == 0:
            raise GwidgetsError("No model to fit: add a model component first")
        models = self.models
        assign_models(datasets, models)
        held = [p for m in models for part in ("spatial_model", "temporal_model")
                for p in (getattr(getattr(m, part, None), "parameters", None) or []) if not p.frozen]
        return FitPlan(datasets, models, list(datasets.names), live=lambda: {"predictions": predictions(datasets)},
                       held=held)

    def _compute_in_worker(self, name, token):
        self.busy = True
        self.status = f"computing {name.replace('_', ' ')}…"
        try:
            return name, self.graph.get(name, token)
        finally:
            self.busy = False

    def _on_done(self, kind, result):
        if kind not in self._outputs:  # fits and products (flux points, …) set their own traits
            return
        name, value = result
        setattr(self, self._outputs[name], value)
        self.status = f"{name.replace('_', ' ')} updated"

    def _on_error(self, kind, exc, tb):
        self.error = str(exc) if isinstance(exc, GwidgetsError) else f"{type(exc).__name__}: {exc}"
        self.status = "error"

    def wait(self, timeout: float | None = 60):
        """Block until background work is done (scripts and tests)."""
        self.worker.wait(timeout)

    @contextlib.contextmanager
    def capture_errors(self):
        """Run a UI action: a `GwidgetsError` is shown in ``error`` instead of raised."""
        try:
            yield
        except GwidgetsError as exc:
            self.error = str(exc)

    def close(self):
        self.worker.shutdown()

    def __repr__(self):
        store = self.store.name if self.store is not None else None
        return (
            f"AnalysisSession(store='{store}', selected={len(self.selection)}, "
            f"on_region={'set' if self.on_region is not None else 'none'}, "
            f"exclusions={len(self.exclusion_regions)}, stale={self.graph.stale_nodes()})"
        )
