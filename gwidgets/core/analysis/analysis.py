"""`Analysis`: a whole analysis driven by an `AnalysisConfig`, step by step or all at once.

Examples
--------
A config (a YAML file, its text or a dict) on four runs of the simulated example store,
whose bright source is a log-parabola with alpha = 2.4, beta = 0.1 at (83.63°, 22.01°):

>>> from gwidgets.core.analysis import Analysis
>>> from gwidgets.core.simulate import example_store_path
>>> config = {
...     "data": {"datastore": str(example_store_path()), "obs_ids": [1001, 1002, 1003, 1004]},
...     "datasets": {"type": "1d", "on_region": {"lon": "83.63 deg", "lat": "22.01 deg", "radius": "0.15 deg"}},
...     "models": [{"name": "bright", "type": "SkyModel",
...                 "spectral": {"type": "PowerLawSpectralModel", "parameters": [{"name": "index", "value": 2.5}]}}],
...     "fit": {"e_min": "0.5 TeV", "e_max": "30 TeV"},
... }
>>> analysis = Analysis(config)
>>> analysis.get_observations()
{'example-dl3-v1': Observations(4 observations, livetime 1.70 h, ids [1001, 1002, 1003, 1004])}
>>> analysis.get_datasets()
Datasets(1:
  SpectrumDatasetOnOff(name='example-dl3-v1', counts=..., models=None, counts_off=...)
)
>>> analysis.read_models().names
['bright']
>>> result = analysis.run_fit()
>>> result.success, 2.2 < result.parameters["index"].value < 3.0
(True, True)
>>> analysis.write("results").name
'results'

or all steps and the output folder in one call (what ``gwidgets run`` does)::

    Analysis("config.yaml").run(progress=tqdm_progress("analysis"))
"""
from __future__ import annotations

from pathlib import Path

from ..config import AnalysisConfig, ConfigError
from ..outdir import check_outdir
from ..progress import make_progress
from .steps import STEPS
from .writers import outdir_guard, write_products

__all__ = ["Analysis"]


def _as_config(config) -> tuple[AnalysisConfig, Path | None]:
    if isinstance(config, AnalysisConfig):
        path = getattr(config, "path", None)
        return config, (Path(path).parent if path else None)
    if isinstance(config, dict):
        return AnalysisConfig.from_dict(config), None
    if isinstance(config, (str, Path)):
        text = str(config)
        if isinstance(config, str) and ("\n" in text or ":" in text and not Path(text).exists()):
            return AnalysisConfig.from_yaml(text), None
        cfg = AnalysisConfig.read(config)
        return cfg, Path(config).absolute().parent
    raise ConfigError(f"Analysis needs an AnalysisConfig, a dict or a YAML file path, got {type(config).__name__}")


class Analysis:
    """Run the steps of a config: observations → datasets → models → fit → flux points / light curve → outputs.

    Parameters
    ----------
    config : `AnalysisConfig`, dict, YAML file path or YAML text
        Relative paths in the config (data store, models, exclusion mask) are
        tried against the config file's folder; ``$VARS`` are expanded.

    Every step can be called alone; a step first runs the steps it needs that
    did not run yet. Products are attributes: ``observations`` (group →
    `Observations`), ``datasets`` (what is fitted), ``datasets_per_obs``,
    ``models``, ``fit_result``, ``flux_points``, ``light_curve``.

    Raises
    ------
    `~gwidgets.core.config.ConfigError`
        If ``config`` is of another type or is not a valid analysis config.
    `~gwidgets.errors.FileNotFoundGwError`
        If ``config`` names a YAML file that does not exist.
    """

    def __init__(self, config):
        self.config, self.base_dir = _as_config(config)
        self.observations = None
        self.datasets = None
        self.datasets_per_obs = None
        self.models = None
        self.fit_result = None
        self.flux_points = None
        self.light_curve = None
        self.messages: list[str] = []
        #: what the user should know about the run (skipped observations, adjusted settings): one line per cause
        self.notes: list[str] = []

    # ------------------------------------------------------------ helpers
    def log(self, message: str):
        """Append ``message`` to the run's log (`messages`).

        Parameters
        ----------
        message : str
            One line.
        """
        self.messages.append(message)

    def note(self, message: str):
        """Log ``message`` and keep it for the run's summary (`notes`).

        Parameters
        ----------
        message : str
            One line.
        """
        self.notes.append(message)
        self.log(message)

    def run_step(self, name: str, progress=None):
        """Run the step ``name`` of `STEPS`, after the steps it needs whose product is still missing.

        Parameters
        ----------
        name : str
            A registered step (``"fit"``, ``"flux_points"`` ...).
        progress : callable, optional
            ``progress(done, total, message)``, passed to the step.

        Returns
        -------
        object
            The step's product (also stored on the analysis, e.g. ``fit_result``).

        Raises
        ------
        RegistryError
            If no step is registered under ``name`` (the message lists the known steps).
        """
        step = STEPS[name]
        for need in step.needs:
            if getattr(self, STEPS[need].product, None) is None:
                self.run_step(need)
        return step.run(self, progress)

    # --------------------------------------------------------------- steps
    def get_observations(self):
        """Open the data store(s) and select the observations (``data`` section).

        Returns
        -------
        dict
            Group name → `~gwidgets.core.data.Observations` (groups of reduced spectra have none).

        Raises
        ------
        `~gwidgets.core.config.ConfigError`
            If a data store or selection key is wrong (the message names the key).
        `~gwidgets.errors.EmptySelectionError`
            If a group's selection keeps no observation.
        """
        return self.run_step("observations")

    def get_datasets(self, progress=None):
        """Reduce the observations to datasets (``datasets`` section).

        Parameters
        ----------
        progress : callable, optional
            ``progress(done, total, message)``.

        Returns
        -------
        `~gwidgets.core.datasets.datasets.Datasets`
            The datasets that are fitted (stacked or joint, as the config says).
        """
        return self.run_step("datasets", progress)

    def read_models(self):
        """Read the models of the ``models`` key (path or inline) and use them.

        Returns
        -------
        `~gwidgets.core.models.Models` or None
            The models (None when the config has no ``models``).

        Raises
        ------
        `~gwidgets.core.config.ConfigError`
            If the model file does not exist or cannot be read.
        """
        return self.run_step("models")

    def set_models(self, models):
        """Use ``models`` (a `Models`, a list of models, a YAML path or ``{"components": [...]}``).

        Parameters
        ----------
        models : `~gwidgets.core.models.Models`, model, list, str, `~pathlib.Path` or dict
            The models, a YAML path (relative paths tried against the config's folder) or a
            ``{"components": [...]}`` dict; None unsets them.

        Returns
        -------
        `~gwidgets.core.models.Models` or None
            The models now used (also given to the datasets, if reduced).

        Raises
        ------
        `~gwidgets.core.config.ConfigError`
            If a model file does not exist or cannot be read.
        """
        from ..models import Models
        from .steps.models import read_models

        if isinstance(models, (str, Path, dict)):
            models = read_models(str(models) if isinstance(models, Path) else models, self.base_dir)
        elif models is not None and not isinstance(models, Models):
            models = Models(models if isinstance(models, (list, tuple)) else [models])
        self.models = models
        if self.datasets is not None and models is not None:
            self.datasets.models = models
        return models

    def run_fit(self):
        """Fit the datasets with the models (``fit`` section).

        Returns
        -------
        `~gwidgets.core.fit.result.FitResult`
            The fit result (also ``fit_result``).

        Raises
        ------
        `~gwidgets.core.config.ConfigError`
            If no model is set, or the fit range leaves no bin in any dataset.
        """
        return self.run_step("fit")

    def get_flux_points(self):
        """Flux points of the fitted source (``flux_points`` section).

        Returns
        -------
        `~gwidgets.core.estimators.sed_table.FluxPoints`
            The flux points (also ``flux_points``).
        """
        return self.run_step("flux_points")

    def get_light_curve(self):
        """Light curve of the source (``light_curve`` section).

        Returns
        -------
        `~gwidgets.core.estimators.light_curve.LightCurve`
            The light curve (also ``light_curve``).

        Raises
        ------
        `~gwidgets.core.config.ConfigError`
            If a time interval is empty or contains no observation.
        """
        return self.run_step("light_curve")

    def write(self, outdir=None, overwrite=None) -> Path:
        """Write every product into ``outdir`` (default ``general.outdir``), atomically.

        Parameters
        ----------
        outdir : str or `~pathlib.Path`, optional
            Output folder (``$VARS`` expanded).
        overwrite : bool, optional
            Whether an existing folder is replaced (default ``general.overwrite``).

        Returns
        -------
        `~pathlib.Path`
            The folder written.
        """
        outdir, overwrite = self._outdir(outdir, overwrite)
        path = write_products(self, outdir, overwrite)
        self.log(f"products written to {path}")
        return path

    def _outdir(self, outdir, overwrite):
        from ..config import expand_path

        general = self.config.get("general", {})
        outdir = Path(expand_path(str(outdir if outdir is not None else general.get("outdir", "gwidgets-results")),
                                  "general.outdir"))
        overwrite = general.get("overwrite", False) if overwrite is None else overwrite
        return outdir, overwrite

    # ----------------------------------------------------------------- run
    def planned_steps(self) -> list[str]:
        """The steps `run` calls for this config, in order (``write`` last): those of `STEPS` planned for it.

        Returns
        -------
        list of str
            Step names.
        """
        return [name for name, step in STEPS.items() if step.planned(self)] + ["write"]

    def run(self, progress=None, outdir=None, overwrite=None, token=None) -> Path:
        """Run every step and write the output folder; on error nothing is written and the error is raised.

        ``progress(done, total, message)`` is called before each step (see `gwidgets.core.progress`).

        Parameters
        ----------
        progress : callable, optional
            ``progress(done, total, message)``.
        outdir : str or `~pathlib.Path`, optional
            Output folder (default ``general.outdir``).
        overwrite : bool, optional
            Whether an existing folder is replaced (default ``general.overwrite``).
        token : `~gwidgets.core.progress.CancelToken`, optional
            Cancels between steps.

        Returns
        -------
        `~pathlib.Path`
            The folder written.
        """
        outdir, overwrite = self._outdir(outdir, overwrite)
        check_outdir(outdir, overwrite, *outdir_guard(self))  # fail before any work
        steps = self.planned_steps()
        report = make_progress(progress, token)
        for i, name in enumerate(steps):
            report(i, len(steps), name)
            if name == "write":
                path = self.write(outdir, overwrite)
            else:
                self.run_step(name)
        report(len(steps), len(steps), "done")
        return path

    def __repr__(self):
        done = [name for name, step in STEPS.items() if getattr(self, step.product, None) is not None]
        return f"Analysis(steps done: {', '.join(done) or 'none'}; planned: {', '.join(self.planned_steps())})"
