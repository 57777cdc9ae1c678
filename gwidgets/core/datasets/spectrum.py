"""`SpectrumDataset`: a 1D counts spectrum with a known background, fitted with the Cash statistic.

Data are plain float arrays in canonical units — energies in TeV (bin edges),
exposure in cm² s per true-energy bin, livetime in s — and the constructor
accepts Quantities (converted) or floats (taken in those units). The arrays
are read-only: assign a new array to change one (this is how the fast
evaluators notice changes).

Predictions are forward-folded: ``npred_signal = flux(true bins) @ (exposure × edisp)``
with ``edisp`` the ``(n_true, n_reco)`` migration matrix (the overlap of the
true and reco bins when None, as gammapy's diagonal response).

Examples
--------
>>> import numpy as np
>>> from gwidgets.core.datasets import SpectrumDataset
>>> from gwidgets.core.models import PowerLaw
>>> edges = np.geomspace(1, 10, 5)
>>> ds = SpectrumDataset(counts=[12, 8, 5, 2], exposure=np.full(4, 1e13), energy_edges=edges,
...                      background=np.ones(4), name="toy")
>>> ds.models = PowerLaw(index=2.0, amplitude="1e-12 cm-2 s-1 TeV-1")
>>> np.round(ds.npred_signal(), 3)
array([4.377, 2.461, 1.384, 0.778])
>>> round(ds.stat_sum(), 4)
-45.2252
"""
from __future__ import annotations

import uuid

import astropy.units as u
import numpy as np
from astropy.table import Table

from ..stats import cash, cash_sqrt_ts
from .base import (
    ArrayAttribute,
    DatasetError,
    bump_epoch,
    diagonal_response,
    energy_mask,
    model_components,
    to_edges,
    to_float,
)
from .integrate import BinIntegrator
from .spectrum_io import SpectrumDatasetIO

__all__ = ["SpectrumDataset"]


class SpectrumDataset(SpectrumDatasetIO):
    """Counts, background, exposure and energy dispersion of one spectrum (Cash statistic).

    Parameters
    ----------
    counts : array (n_reco,)
    exposure : Quantity or array (n_true,), cm² s
    energy_edges : Quantity, MapAxis or array (n_reco + 1,), TeV
        Reconstructed-energy bin edges.
    energy_edges_true : same, optional
        True-energy bin edges (default: ``energy_edges``).
    edisp : array (n_true, n_reco), optional
        Probability that an event of a true bin lands in a reco bin.
    background : array (n_reco,), optional
        Expected background counts.
    mask_safe, mask_fit : bool array (n_reco,), optional
        Bins used by the statistic: ``mask_safe & mask_fit`` (``mask_safe``
        defaults to all True, ``mask_fit`` to None = no restriction).
    livetime : Quantity or float (s), optional
    name : str, optional
    models : spectral model, sky model, list or Models, optional
    """

    stat_type = "cash"
    tag = "SpectrumDataset"

    counts = ArrayAttribute("reco", optional=False, doc="Counts per reco-energy bin.")
    exposure = ArrayAttribute("true", unit="cm2 s", optional=False, doc="Exposure (cm² s) per true-energy bin.")
    edisp = ArrayAttribute("matrix", doc="Energy dispersion (n_true, n_reco); None = diagonal response.")
    background = ArrayAttribute("reco", doc="Expected background counts per reco bin.")
    mask_safe = ArrayAttribute("reco", kind="bool", scalar_ok=True, doc="Safe energy range mask.")
    mask_fit = ArrayAttribute("reco", kind="bool", scalar_ok=True, doc="Fit mask (None: no restriction).")

    def __init__(self, counts, exposure, energy_edges, energy_edges_true=None, edisp=None, background=None,
                 mask_safe=None, mask_fit=None, livetime=None, name=None, models=None, meta=None):
        self.name = str(name) if name is not None else uuid.uuid4().hex[:8]
        self._energy_edges = to_edges(energy_edges, f"Dataset '{self.name}': energy_edges")
        self._energy_edges_true = (self._energy_edges.copy() if energy_edges_true is None
                                   else to_edges(energy_edges_true, f"Dataset '{self.name}': energy_edges_true"))
        self._energy_edges.setflags(write=False)
        self._energy_edges_true.setflags(write=False)
        self.counts = counts
        self.exposure = exposure
        self.edisp = edisp
        self.background = background
        self.mask_safe = True if mask_safe is None else mask_safe
        self.mask_fit = mask_fit
        self.livetime = float(to_float(livetime, u.s, "livetime")) if livetime is not None else np.nan
        self.meta = dict(meta or {})
        self._models = None
        self._models_from_collection = False
        self._ev = None
        self._cache = {}
        self.models = models

    # ----------------------------------------------------------- energies
    @property
    def energy_edges(self) -> np.ndarray:
        """Reconstructed-energy bin edges in TeV."""
        return self._energy_edges

    @property
    def energy_edges_true(self) -> np.ndarray:
        """True-energy bin edges in TeV."""
        return self._energy_edges_true

    @property
    def energy_axis(self):
        """Reconstructed-energy axis (`~gwidgets.core.geom.MapAxis` named ``"energy"``, TeV, log interpolation)."""
        from ..geom import MapAxis

        return MapAxis(self._energy_edges * u.TeV, name="energy", interp="log")

    @property
    def energy_axis_true(self):
        """True-energy axis (`~gwidgets.core.geom.MapAxis` named ``"energy_true"``, TeV, log interpolation)."""
        from ..geom import MapAxis

        return MapAxis(self._energy_edges_true * u.TeV, name="energy_true", interp="log")

    @property
    def energy_center(self) -> np.ndarray:
        """Geometric centres of the reconstructed-energy bins in TeV."""
        e = self._energy_edges
        return np.sqrt(e[:-1] * e[1:])

    # --------------------------------------------------------------- masks
    @property
    def mask(self) -> np.ndarray:
        """Bins entering the statistic: ``mask_safe & mask_fit``."""
        if self.mask_fit is None:
            return self.mask_safe
        return self.mask_safe & self.mask_fit

    def set_fit_range(self, e_min=None, e_max=None):
        """``mask_fit`` = reco bins lying entirely inside [e_min, e_max] (TeV floats or Quantities).

        Parameters
        ----------
        e_min, e_max : `~astropy.units.Quantity`, str or float, optional
            Energy bounds (floats in TeV); None means no bound on that side.

        Raises
        ------
        DatasetError
            If a bound's unit is not an energy.
        """
        self.mask_fit = energy_mask(self._energy_edges, e_min, e_max)

    @property
    def energy_range(self):
        """(min, max) energy in TeV of the bins in ``mask`` (NaN if none)."""
        idx = np.flatnonzero(self.mask)
        if idx.size == 0:
            return np.nan, np.nan
        return float(self._energy_edges[idx[0]]), float(self._energy_edges[idx[-1] + 1])

    # -------------------------------------------------------------- models
    @property
    def models(self):
        """The model(s) predicting the signal: a spectral model, sky model, list or Models (or None)."""
        return self._models

    @models.setter
    def models(self, models):
        self._set_models(models, from_collection=False)

    def _set_models(self, models, from_collection):
        model_components(models)  # validate now, not in the middle of a fit
        self._models = models
        self._models_from_collection = from_collection and models is not None
        bump_epoch()

    # ------------------------------------------------------------ response
    def _cached(self, key, deps, make):
        entry = self._cache.get(key)
        if entry is not None and len(entry[0]) == len(deps) and all(a is b for a, b in zip(entry[0], deps)):
            return entry[1]
        value = make()
        self._cache[key] = (deps, value)
        return value

    @property
    def response(self) -> np.ndarray:
        """``exposure[:, None] × edisp``: expected counts per reco bin for a unit flux per true bin."""
        def make():
            edisp = self.edisp if self.edisp is not None else diagonal_response(self._energy_edges_true,
                                                                                self._energy_edges)
            r = self.exposure[:, None] * edisp
            r.setflags(write=False)
            return r

        return self._cached("response", (self.exposure, self.edisp), make)

    def _integrator(self):
        e = self._energy_edges_true
        return self._cached("integrator", (e,), lambda: BinIntegrator(e[:-1], e[1:]))

    def _evaluator(self):
        from .evaluator import JointEvaluator

        ev = self._ev
        if ev is None or not ev.is_current():
            ev = self._ev = JointEvaluator([self])
        return ev

    # ---------------------------------------------------------- predictions
    def _components(self, background=False):
        return [c for c in model_components(self._models) if c.background == background and c.applies_to(self.name)]

    def npred_signal(self) -> np.ndarray:
        """Predicted signal counts per reco bin (all bins).

        Returns
        -------
        numpy.ndarray
            One value per reco bin (zeros without a signal model).
        """
        comps = self._components()
        if not comps:
            return np.zeros(len(self.counts))
        integ = self._integrator()
        flux = sum(integ(c.spectral) for c in comps)
        return flux @ self.response

    def npred_background(self) -> np.ndarray:
        """Background counts per reco bin (times the background-norm models, if any).

        Returns
        -------
        numpy.ndarray
            One value per reco bin (zeros without a background).
        """
        if self.background is None:
            return np.zeros(len(self.counts))
        bkg = self.background.copy()
        for c in self._components(background=True):
            bkg = bkg * c.spectral.dnde_values(self.energy_center)
        return bkg

    def npred(self) -> np.ndarray:
        """Total predicted counts (negative values set to 0, as gammapy).

        Returns
        -------
        numpy.ndarray
            One value per reco bin, ≥ 0.
        """
        return np.clip(self.npred_signal() + self.npred_background(), 0, None)

    @property
    def excess(self) -> np.ndarray:
        """Counts minus background."""
        return self.counts - (self.background if self.background is not None else 0.0)

    @property
    def excess_error(self) -> np.ndarray:
        """1σ error of `excess` per bin: ``sqrt(counts)`` (the background is known).

        Returns
        -------
        numpy.ndarray
            One error per reco bin.

        Examples
        --------
        >>> import numpy as np
        >>> d = SpectrumDataset(counts=[4.0, 9.0], exposure=[1.0, 1.0], energy_edges=[1.0, 2.0, 4.0])
        >>> d.excess_error
        array([2., 3.])
        """
        return np.sqrt(self.counts)

    @property
    def sqrt_ts(self) -> np.ndarray:
        """Signed significance of the excess per bin (Cash, background known)."""
        return cash_sqrt_ts(self.counts, self.npred_background())

    # ----------------------------------------------------------- statistic
    def stat_array(self) -> np.ndarray:
        """Statistic per reco bin (all bins; see ``mask`` for the ones that count).

        Returns
        -------
        numpy.ndarray
            Cash statistic per reco bin.
        """
        return cash(self.counts, self.npred())

    def stat_sum(self) -> float:
        """Statistic summed over ``mask`` (fast path, cached for unchanged parameters).

        Returns
        -------
        float
            The summed statistic (Cash here, WStat for `SpectrumDatasetOnOff`).
        """
        return self._evaluator().stat_sum()

    def residuals(self, method: str = "diff") -> np.ndarray:
        """``counts − npred`` ("diff"), divided by npred ("diff/model") or sqrt(npred) ("diff/sqrt(model)").

        NaN outside ``mask``.

        Parameters
        ----------
        method : {"diff", "diff/model", "diff/sqrt(model)"}, optional
            Residual definition.

        Returns
        -------
        numpy.ndarray
            One value per reco bin.

        Raises
        ------
        DatasetError
            For an unknown ``method``.
        """
        npred = self.npred()
        with np.errstate(invalid="ignore", divide="ignore"):
            if method == "diff":
                res = self.counts - npred
            elif method == "diff/model":
                res = (self.counts - npred) / npred
            elif method == "diff/sqrt(model)":
                res = (self.counts - npred) / np.sqrt(npred)
            else:
                raise DatasetError(f"Unknown residuals method '{method}' (use 'diff', 'diff/model' or "
                                   "'diff/sqrt(model)')")
        return np.where(self.mask, res, np.nan)

    # ---------------------------------------------------------------- info
    def _summed_significance(self, mask):
        bkg = self.npred_background()[mask].sum()
        return float(cash_sqrt_ts(self.counts[mask].sum(), bkg)), float(self.background[mask].sum())

    def info_dict(self, in_safe_data_range: bool = True) -> dict:
        """Summary numbers (gammapy's ``info_dict`` keys), summed over the safe range by default.

        Parameters
        ----------
        in_safe_data_range : bool, optional
            Whether to sum over ``mask_safe`` only (else over all bins).

        Returns
        -------
        dict
            ``name``, ``counts``, ``excess``, ``sqrt_ts``, ``background``, ``npred``, ``npred_background``,
            ``npred_signal`` (NaN where not defined), ``exposure_min`` / ``exposure_max`` (Quantities in cm² s),
            ``livetime`` (Quantity in s), ``counts_rate``, ``background_rate``, ``excess_rate`` (in s⁻¹),
            ``n_bins``, ``n_fit_bins``, ``stat_type``, ``stat_sum`` (NaN without models).
        """
        mask = self.mask_safe if in_safe_data_range else slice(None)
        info = {"name": self.name, "counts": int(round(float(self.counts[mask].sum())))}
        excess = sqrt_ts = background = np.nan
        if self.background is not None:
            sqrt_ts, background = self._summed_significance(mask)
            excess = float(self.counts[mask].sum() - background)
        info.update(excess=excess, sqrt_ts=sqrt_ts, background=background)
        has_models = self._models is not None
        info["npred"] = float(self.npred()[mask].sum()) if has_models or self.background is not None else np.nan
        info["npred_background"] = float(self.npred_background()[mask].sum()) if self.background is not None else np.nan
        info["npred_signal"] = float(self.npred_signal()[mask].sum()) if self._components() else np.nan
        good = self.exposure > 0
        expo = self.exposure[good] if good.any() else self.exposure
        info["exposure_min"] = float(expo.min()) * u.Unit("cm2 s")
        info["exposure_max"] = float(expo.max()) * u.Unit("cm2 s")
        info["livetime"] = self.livetime * u.s
        for key in ("counts", "background", "excess"):
            info[f"{key}_rate"] = info[key] / info["livetime"]
        info["n_bins"] = int(len(self.counts))
        info["n_fit_bins"] = int(np.sum(self.mask))
        info["stat_type"] = self.stat_type
        info["stat_sum"] = float(self.stat_sum()) if has_models else np.nan
        return info

    def info_table(self, in_safe_data_range: bool = True) -> Table:
        """`info_dict` as a one-row astropy Table.

        Parameters
        ----------
        in_safe_data_range : bool, optional
            Whether to sum over ``mask_safe`` only (else over all bins).

        Returns
        -------
        astropy.table.Table
            One row.
        """
        return Table([self.info_dict(in_safe_data_range)])

    # -------------------------------------------------------------- copies
    def _init_kwargs(self) -> dict:
        return dict(counts=self.counts, exposure=self.exposure, energy_edges=self._energy_edges,
                    energy_edges_true=self._energy_edges_true, edisp=self.edisp, background=self.background,
                    mask_safe=self.mask_safe, mask_fit=self.mask_fit, livetime=self.livetime, meta=self.meta)

    def copy(self, name=None):
        """A copy (arrays are shared: they are read-only); the models are not copied, not assigned.

        Parameters
        ----------
        name : str, optional
            Name of the copy (default: the same name).

        Returns
        -------
        SpectrumDataset
            A dataset of the same class.
        """
        return type(self)(name=name if name is not None else self.name, **self._init_kwargs())

    def _check_stackable(self, other):
        if type(other) is not type(self):
            raise DatasetError(f"Cannot stack {type(other).__name__} '{other.name}' onto "
                               f"{type(self).__name__} '{self.name}'")
        for attr in ("_energy_edges", "_energy_edges_true"):
            a, b = getattr(self, attr), getattr(other, attr)
            if len(a) != len(b) or not np.allclose(a, b, rtol=1e-6, atol=0):
                raise DatasetError(f"Cannot stack '{other.name}' onto '{self.name}': different "
                                   f"{'true ' if attr.endswith('true') else ''}energy grids")

    def _stack_common(self, other):
        """Stack counts, exposure, edisp, livetime and masks (gammapy's ``MapDataset.stack``).

        ``other`` is masked by its mask_safe.
        """
        safe = other.mask_safe
        any_safe = bool(safe.any())
        self.counts = self.counts + other.counts * safe
        e_self, e_other = self.exposure, other.exposure * any_safe
        total = e_self + e_other
        r_self = self.response
        r_other = other.response * safe[None, :] * any_safe
        with np.errstate(invalid="ignore", divide="ignore"):
            edisp = np.nan_to_num((r_self + r_other) / total[:, None])
        self.exposure = total
        self.edisp = edisp
        if any_safe and np.isfinite(other.livetime):
            self.livetime = (self.livetime if np.isfinite(self.livetime) else 0.0) + other.livetime
        self.mask_safe = self.mask_safe | other.mask_safe
        if self.mask_fit is not None and other.mask_fit is not None:
            self.mask_fit = self.mask_fit | other.mask_fit
        elif other.mask_fit is not None:
            self.mask_fit = other.mask_fit

    def stack(self, other):
        """Stack ``other`` into this dataset in place (``other`` restricted to its safe mask, as gammapy).

        Parameters
        ----------
        other : SpectrumDataset
            A dataset of the same class on the same reco and true energy grids.

        Raises
        ------
        DatasetError
            If ``other`` is of another class or has other energy grids.
        """
        self._check_stackable(other)
        if self.background is not None and other.background is not None:
            background = self.npred_background() + other.npred_background() * other.mask_safe
        else:
            background = None
        self._stack_common(other)
        self.background = background

    def to_masked(self, name=None):
        """Copy with the data outside ``mask_safe`` removed (what ``Datasets.stack_reduce`` starts from).

        Parameters
        ----------
        name : str, optional
            Name of the copy (default: the same name).

        Returns
        -------
        SpectrumDataset
            A dataset of the same class, zero outside the safe mask (no models).
        """
        empty = self._empty(name if name is not None else self.name)
        empty.stack(self)
        return empty

    def _empty(self, name):
        n_reco, n_true = len(self._energy_edges) - 1, len(self._energy_edges_true) - 1
        return SpectrumDataset(counts=np.zeros(n_reco), exposure=np.zeros(n_true), energy_edges=self._energy_edges,
                               energy_edges_true=self._energy_edges_true, edisp=np.zeros((n_true, n_reco)),
                               background=np.zeros(n_reco) if self.background is not None else None,
                               mask_safe=False, livetime=0.0, name=name)

    # -------------------------------------------------------------- display
    def __repr__(self):
        e_lo, e_hi = self.energy_range
        return (f"{type(self).__name__}(name='{self.name}', counts={int(round(float(self.counts.sum())))}, "
                f"n_bins={len(self.counts)}, fit bins={int(np.sum(self.mask))} [{e_lo:.3g}, {e_hi:.3g}] TeV, "
                f"livetime={self.livetime:.4g} s, "
                f"models={type(self._models).__name__ if self._models is not None else None})")

    def _repr_html_(self):
        return f"<p><b>{type(self).__name__}</b> '{self.name}'</p>" + self.info_table()._repr_html_()

