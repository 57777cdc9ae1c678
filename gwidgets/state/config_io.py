"""Save a session as an analysis config / a plain Python script, and load a config back.

`ConfigMixin` gives `AnalysisSession`:

* `export_config` → an `~gwidgets.core.config.AnalysisConfig` (selection,
  ON / exclusion regions, models, energy binning, fit range), through
  `gwidgets.core.analysis.export.session_to_config`;
* `export_script` → the plain Python script re-creating the same fit without widgets;
* `load_config` → restores the state a config describes (data store, selection,
  regions, models, binning, fit range). It is all-or-nothing: on any error the
  session is put back exactly as it was and the error is raised (views show it).

A session on four runs of the simulated example store, saved and loaded into another one:

>>> from regions import CircleSkyRegion
>>> from gwidgets.core.models import LogParabola, SkyModel
>>> from gwidgets.state import AnalysisSession
>>> store = gw.example_store()
>>> session = AnalysisSession(store, background=False)
>>> session.select(store.obs_ids[:4])
>>> session.set_on_region(CircleSkyRegion(SkyCoord(83.63, 22.01, unit="deg"), 0.15 * u.deg))
>>> session.set_models([SkyModel(LogParabola(amplitude="3e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.4, beta=0.1),
...                              name="bright")])
>>> session.export_config().write("analysis.yaml", overwrite=True)
>>> other = AnalysisSession(store, background=False)
>>> other = other.load_config("analysis.yaml")          # all or nothing
>>> other.selection, other.models.names
([1001, 1002, 1003, 1004], ['bright'])
"""
from __future__ import annotations

from pathlib import Path

import astropy.units as u
from traitlets import HasTraits

from ..errors import GwidgetsError, ObservationNotFoundError

__all__ = ["ConfigMixin"]

#: the user-intent traits a config load may change (restored together on failure)
_INTENT = ("required_irf", "selection", "on_region", "exclusion_regions", "models", "map_settings")
#: graph inputs without a trait, also restored on failure
_GRAPH_INTENT = ("spectrum_settings", "fit_range", "dataset_mode")


def _same_dir(a, b) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


class ConfigMixin(HasTraits):
    """Config / script export and config loading for `AnalysisSession` (see the module docs)."""

    # ------------------------------------------------------------ read-outs
    @property
    def spectrum_settings(self) -> dict:
        """The 1D energy binning (TeV): e_min, e_max, nbin, e_true_min, e_true_max, nbin_true, containment_correction.

        A flat view of `reduction_settings`.
        """
        return self.reduction_settings.binning()

    @property
    def reduction_settings(self):
        """The `~gwidgets.core.reduction.settings.SpectrumReductionSettings` of the session's 1D reduction."""
        return self.graph.peek("spectrum_settings")

    @property
    def fit_settings(self) -> dict:
        """The fit energy range as ``{"e_min": Quantity, "e_max": Quantity}`` (empty: the safe range)."""
        fit_range = self.graph.peek("fit_range") if "fit_range" in self.graph else None
        if not fit_range:
            return {}
        return {k: u.Quantity(v, u.TeV) for k, v in zip(("e_min", "e_max"), fit_range) if v is not None}

    def set_spectrum_settings(self, **settings):
        """Change 1D reduction settings (keys of `spectrum_settings`, or fields of `reduction_settings`).

        The spectra are reduced again.
        """
        self.graph.set("spectrum_settings", self.reduction_settings.replace(**settings))
        if self.background:
            self.refresh()

    def set_store(self, store):
        """Use another data store (the selection is cleared)."""
        with self.hold_trait_notifications():
            self.selection = []
            self.store = store
            self.graph.set("store", store)

    # --------------------------------------------------------------- export
    def export_config(self, outdir=None):
        """The session as an `AnalysisConfig` (what `gwidgets run` and `Analysis` take)."""
        from ..core.analysis.export import session_to_config

        if self.store is None:
            raise GwidgetsError("This session was made from datasets, without a data store: it cannot be "
                                "exported as a config (a config re-creates the datasets from DL3)")
        return session_to_config(self, outdir=outdir)

    def export_script(self, name: str = "analysis.py") -> str:
        """A plain Python script that re-creates this session's fit without the widgets."""
        from ..core.analysis.export import config_to_script

        return config_to_script(self.export_config(), name=name)

    # ----------------------------------------------------------------- load
    def load_config(self, config):
        """Restore the state a config (a path, YAML dict or `AnalysisConfig`) describes; all or nothing."""
        from ..core.analysis.export import config_to_state
        from ..core.config import AnalysisConfig

        if isinstance(config, (str, Path)):
            config = AnalysisConfig.read(config)
        return self.load_state(config_to_state(config))

    def load_state(self, state):
        """Apply a `~gwidgets.core.analysis.export.SessionState`; on error the session is left unchanged."""
        from ..core.analysis.export import apply_state, store_dir

        if "datasets" in self.graph and self.graph.is_input("datasets"):
            raise GwidgetsError("This session was made from datasets: a config cannot be loaded into it "
                                "(make a session over the config's data store)")
        store = self.store
        if store is None or not _same_dir(store_dir(store), state.datastore):
            from ..core.data import DataStore

            store = DataStore.from_dir(state.datastore)  # raises before anything changed
        known = set(store.obs_ids)
        unknown = [int(i) for i in state.obs_ids if int(i) not in known]
        if unknown:
            raise ObservationNotFoundError(unknown[0], f"data store '{state.datastore}'")
        saved = {n: getattr(self, n) for n in _INTENT}
        saved_graph = {n: self.graph.peek(n) for n in _GRAPH_INTENT}
        saved_store = self.store
        try:
            with self.hold_trait_notifications():
                if store is not self.store:
                    self.set_store(store)
                self.graph.set("spectrum_settings", self.reduction_settings.replace(**state.spectrum))
                fit = state.fit or {}
                fit_range = None
                if fit:
                    fit_range = tuple(None if fit.get(k) is None else u.Quantity(fit[k], u.TeV).to_value(u.TeV)
                                      for k in ("e_min", "e_max"))
                self.graph.set("fit_range", fit_range)
                self.graph.set("dataset_mode", "stacked" if state.stack else "joint")
                apply_state(self, state)
        except Exception:
            with self.hold_trait_notifications():
                if self.store is not saved_store:
                    self.store = saved_store
                    self.graph.set("store", saved_store)
                for n, v in saved_graph.items():
                    self.graph.set(n, v)
                for n, v in saved.items():
                    setattr(self, n, v)
            raise
        self.error = ""
        return self
