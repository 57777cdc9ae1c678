"""Science products of a session: flux points, light curves and likelihood profiles.

`ProductsMixin` gives `AnalysisSession` three methods that run the core
estimators in the session's worker thread (never on the widget thread) on a
*snapshot* of the session's datasets and models — copies taken when the job
starts, so a slider moved meanwhile neither disturbs the computation nor is
disturbed by it — and publish the result as an observable trait:

* `flux_points` → ``flux_points_result`` (a `~gwidgets.core.estimators.FluxPoints`)
* `light_curve` → ``light_curve_result`` (a `~gwidgets.core.estimators.LightCurve`)
* `stat_profile` → ``profile_result`` (a dict: ``parameter``, ``values``, ``stat_scan``, ``delta_stat``)

Errors go to ``session.error`` (the previous result and the user's model stay);
with ``background=False`` (scripts, tests) everything runs synchronously.

Examples
--------
A session on four runs of the simulated example store:

>>> from regions import CircleSkyRegion
>>> from gwidgets.core.models import LogParabola, SkyModel
>>> from gwidgets.state import AnalysisSession
>>> store = gw.example_store()
>>> session = AnalysisSession(store, background=False)
>>> session.select(store.obs_ids[:4])
>>> session.set_on_region(CircleSkyRegion(SkyCoord(83.63, 22.01, unit="deg"), 0.15 * u.deg))
>>> session.set_models([SkyModel(LogParabola(amplitude="3e-11 cm-2 s-1 TeV-1", reference="1 TeV", alpha=2.4, beta=0.1),
...                              name="bright")])
>>> session.fit(wait=True).success
True
>>> fp = session.flux_points([0.5, 2, 8, 30] * u.TeV, wait=True)
>>> session.flux_points_result is fp
True
"""
from __future__ import annotations

import astropy.units as u
import numpy as np
from traitlets import Any, HasTraits, Unicode

from ..core.registry import Registry
from ..errors import GwidgetsError

__all__ = ["ProductsMixin", "PRODUCTS"]

#: job kind → (result trait, human name)
PRODUCTS = Registry("session product")
PRODUCTS.add("flux_points", ("flux_points_result", "flux points"))
PRODUCTS.add("light_curve", ("light_curve_result", "light curve"))
PRODUCTS.add("profile", ("profile_result", "likelihood profile"))


def _free_index(models, parameter) -> int:
    """Index of ``parameter`` (a name or a Parameter of ``models``) in ``models.parameters``."""
    params = list(models.parameters)
    if not isinstance(parameter, str):
        for i, p in enumerate(params):
            if p is parameter:
                return i
        raise GwidgetsError(f"Parameter {getattr(parameter, 'name', parameter)!r} is not a parameter "
                            "of the session's models")
    matches = [i for i, p in enumerate(params) if p.name == parameter]
    if not matches:
        raise GwidgetsError(f"No parameter named '{parameter}' in the session's models "
                            f"(have: {', '.join(p.name for p in params)})")
    if len(matches) > 1:
        raise GwidgetsError(f"Several parameters are named '{parameter}': pass the Parameter object itself")
    return matches[0]


class ProductsMixin(HasTraits):
    """Flux points, light curve and profile computed in the worker and published as traits."""

    flux_points_result = Any(None, allow_none=True, help="the last FluxPoints of `flux_points`")
    light_curve_result = Any(None, allow_none=True, help="the last LightCurve of `light_curve`")
    profile_result = Any(None, allow_none=True, help="the last likelihood profile of `stat_profile` (a dict)")
    computing = Unicode("", help="the product being computed ('' when idle)")

    # ------------------------------------------------------------ snapshot
    def _require_models(self):
        """The session's models, or the error every product gives without them."""
        if self.models is None or len(self.models) == 0:
            raise GwidgetsError("No model: add a model component first (and fit it)")
        return self.models

    def _snapshot(self, token=None, per_observation: bool = False):
        """Copies of the session's datasets with a copy of its models (checked: both present).

        ``per_observation``: one dataset per observation even when the fit stacks them (light curves):
        the reduction's per-observation datasets, with the session's fit range.
        """
        datasets = self.graph.get("datasets", token)
        # (a session made from ready datasets has them as an input: they are what it has)
        if (per_observation and not self.graph.is_input("datasets")
                and self.graph.peek("dataset_mode") != "joint"):
            from ..core.datasets import Datasets

            datasets = Datasets([d.copy() for d in self.graph.get("reduced", token)])
            fit_range = self.graph.peek("fit_range")
            if fit_range is not None and len(datasets):
                datasets.set_fit_range(*fit_range)
        if datasets is None or len(datasets) == 0:
            raise GwidgetsError("No datasets: select observations and place an ON region first")
        models = self._require_models()
        copy = datasets.copy()
        copy.models = models.copy()
        return copy

    def _source(self, source):
        return source if source is not None else self._require_models()[0].name

    def _add_time_meta(self, datasets, token=None):
        """Observation time ranges for datasets made from the data store (light curves need them)."""
        from ..core.estimators import add_time_meta

        if all(d.meta.get("time_start") is not None for d in datasets) or self.store is None:
            return datasets
        observations = {str(o.obs_id): o for o in self.graph.get("observations", token)}
        for d in datasets:
            if d.meta.get("time_start") is None and d.name in observations:
                add_time_meta(d, observations[d.name])
        return datasets

    # -------------------------------------------------------------- running
    def _run_product(self, kind, func, token):
        from ..core.progress import Cancelled

        trait, what = PRODUCTS[kind]
        self.computing = kind
        self.busy = True
        self.status = f"computing {what}…"
        try:
            value = func(token)
            token.raise_if_cancelled(f"after computing the {what}")
            setattr(self, trait, value)
            self.status = f"{what} done"
            return value
        except Cancelled:
            self.status = f"{what} cancelled"
            raise
        except GwidgetsError as exc:
            self.error = str(exc)
            self.status = f"{what} failed"
        except Exception as exc:  # shown in the page, never lost in a thread
            self.error = f"Computing the {what} failed: {type(exc).__name__}: {exc}"
            self.status = f"{what} failed"
        finally:
            self.busy = False
            self.computing = ""
        return None

    def _submit_product(self, kind, func, wait):
        from ..core.progress import Cancelled, CancelToken

        trait = PRODUCTS[kind][0]
        job = lambda token: self._run_product(kind, func, token)  # noqa: E731
        if self.background:
            self.worker.submit(kind, job)
            if wait:
                self.wait()
                return getattr(self, trait)
            return None
        try:
            return job(CancelToken())
        except Cancelled:
            return None

    def cancel_products(self):
        """Cancel the running flux point / light curve / profile jobs (their results are dropped)."""
        for kind in PRODUCTS:
            self.worker.cancel(kind)

    # ------------------------------------------------------------ products
    def flux_points(self, energy_edges, source=None, selection_optional=("errn-errp", "ul"), wait: bool = False,
                    **kwargs):
        """Flux points of ``source`` (default: the first model component) in ``energy_edges``.

        Runs `~gwidgets.core.estimators.FluxPointsEstimator` on the session's
        datasets at the current (fitted) parameters; the result goes to
        ``flux_points_result``. ``kwargs`` go to the estimator (``n_sigma_ul`` …).
        Returns the result when synchronous (``background=False`` or ``wait=True``).
        """
        from ..core.estimators import FluxPointsEstimator

        estimator = FluxPointsEstimator(energy_edges=energy_edges, source=self._source(source),
                                        selection_optional=list(selection_optional or []) or None, **kwargs)
        return self._submit_product("flux_points", lambda token: estimator.run(self._snapshot(token)), wait)

    def light_curve(self, time_intervals=None, energy_edges=(1, 100) * u.TeV, source=None,
                    selection_optional=("ul",), wait: bool = False, **kwargs):
        """Light curve of ``source`` (one bin per observation unless ``time_intervals``) → ``light_curve_result``.

        Datasets reduced from the session's data store get their observation's
        time range automatically; ready-made datasets need ``meta["time_start"/"time_stop"]``.
        """
        from ..core.estimators import LightCurveEstimator

        estimator = LightCurveEstimator(time_intervals=time_intervals, energy_edges=energy_edges,
                                        source=self._source(source),
                                        selection_optional=list(selection_optional or []) or None, **kwargs)

        def run(token):
            return estimator.run(self._add_time_meta(self._snapshot(token, per_observation=True), token))

        return self._submit_product("light_curve", run, wait)

    def stat_profile(self, parameter, n: int = 21, n_sigma: float = 3.0, values=None, reoptimize: bool = False,
                     wait: bool = False):
        """Fit statistic along ``parameter`` (a name or a Parameter of ``session.models``) → ``profile_result``.

        Uses ``Fit().stat_profile`` on a copy of the datasets and models: the
        session's parameters never move. ``profile_result`` holds ``parameter``
        (its name), ``unit``, ``values``, ``stat_scan``, ``delta_stat`` (minus the
        scan's minimum) and ``best`` (the value at the start).
        """
        from ..core.fit import Fit

        index = _free_index(self._require_models(), parameter)

        def run(token):
            datasets = self._snapshot(token)
            par = list(datasets.models.parameters)[index]
            best = par.value
            profile = Fit().stat_profile(datasets, par, values=values, n=n, n_sigma=n_sigma, reoptimize=reoptimize)
            stat = np.asarray(profile["stat_scan"], float)
            return {"parameter": par.name, "unit": str(par.unit), "values": np.asarray(profile["values"], float),
                    "stat_scan": stat, "delta_stat": stat - np.nanmin(stat), "best": best}

        return self._submit_product("profile", run, wait)
