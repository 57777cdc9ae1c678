"""The fit's hot path: the summed statistic of many 1D datasets for the current parameter values.

Everything that does not depend on the parameters is computed once, when the
evaluator is built:

* the *active* bins of every dataset (``mask_safe & mask_fit``; for ON/OFF
  datasets also ``alpha > 0``: gammapy's WStat gives such bins 0), laid out
  in one global vector — WStat datasets first, then Cash datasets;
* for every spectral model, the response matrix ``R = exposure × edisp``
  restricted to the active reco columns of all datasets it applies to, on the
  union of their true-energy grids, with the true-energy rows that feed no
  active bin dropped; the model is integrated once on those rows
  (`~gwidgets.core.datasets.integrate.BinIntegrator`) and
  ``npred_signal = flux @ R`` gives the predicted signal of every active bin
  of every dataset in one matrix product (dense BLAS, or CSR when sparse and large);
* the data-only terms of WStat and Cash.

WStat is then evaluated in the form
``2 [Σ (x + b) − Σ n_on log x − Σ n_off log b] + gof`` with
``b`` the profiled OFF background and ``x = μ_sig + α b`` (algebraically
gammapy's ``wstat``). With ``u = (1 + α) μ_sig`` (the response columns of
WStat bins are pre-scaled by ``1 + α``, so the fold gives ``u`` directly),
``C = α (n_on + n_off) − u`` and ``D = sqrt(C² + 4 α n_off u)``:
``b = (C + D) / (2α(1 + α))`` and ``x = (2α(n_on + n_off) − C + D) / (2(1 + α))``,
so, moving the per-bin constants ``log 2α(1 + α)`` and ``log 2(1 + α)`` into
the data-only term, the statistic is
``2 [Σ μ_sig + Σ P / 2α − Σ n_on log Q − Σ n_off log P] + const`` with
``P = C + D`` and ``Q = 2α(n_on + n_off) − C + D``: eleven vector operations,
one of them a single ``log`` over a ``[P | Q]`` buffer (the bin categories are
laid out so that the bins needing a log are contiguous). Bins without ON
counts have the profiled background ``n_off / (1 + α)`` whatever the signal:
they add ``2 μ_sig`` (the sum column) and a constant, nothing else. Non-finite results
(negative predictions, pathological bins) fall back to the exact per-bin
formulas with gammapy's ``nan_to_num`` semantics.

`JointEvaluator.stat_sum` caches the last parameter values and result:
evaluating again with unchanged parameters costs one tuple comparison.
"""
from __future__ import annotations

import math

import numpy as np

from ..stats import TRUNCATION_VALUE, cash, get_wstat_gof_terms, wstat
from .base import EPOCH, DatasetError, model_components, model_structure
from .integrate import BinIntegrator, union_grid
from .spectrum import SpectrumDataset

__all__ = ["JointEvaluator"]

#: use CSR for the response of one model when it has fewer non-zeros than this fraction and is large
SPARSE_DENSITY = 0.3
SPARSE_MIN_SIZE = 60_000


class _Response:
    """One spectral model's contribution: bound integrator on its true bins and the folded response."""

    def __init__(self, spectral, lo, hi, matrix, cols, n_columns):
        self.spectral = spectral
        self.integrator = BinIntegrator(lo, hi)
        self.flux = self.integrator.bind(spectral, reuse_buffer=True)
        self.cols = cols  # global columns this response writes (index array)
        self.full = len(cols) == n_columns and bool(np.all(cols == np.arange(n_columns)))
        self.csr = None
        nnz = np.count_nonzero(matrix)
        if matrix.size >= SPARSE_MIN_SIZE and nnz < SPARSE_DENSITY * matrix.size:
            import scipy.sparse as sp

            self.csr = sp.csr_matrix(np.ascontiguousarray(matrix.T))
        self.matrix = np.ascontiguousarray(matrix)

    #: set by the evaluator when a negative flux must be noticed (bins kept out of the fast form need μ ≥ 0)
    check_sign = False
    negative = False

    def fold(self, out=None):
        """Predicted counts in this response's columns (written into ``out`` if given)."""
        f = self.flux()
        if self.check_sign:
            self.negative = not getattr(self.flux, "positive", False) and bool(f.min() < 0.0)
        if self.csr is not None:
            res = self.csr @ f
            if out is not None:
                out[...] = res
                return out
            return res
        if out is not None:
            return np.dot(f, self.matrix, out=out)
        return f @ self.matrix


class JointEvaluator:
    """Summed fit statistic (and active-bin predictions) of a list of datasets.

    The 1D spectrum datasets (`SpectrumDataset`, `SpectrumDatasetOnOff`) go
    through the precomputed fast path below; any other dataset (anything with
    ``stat_sum()``, ``models``, ``name`` and ``stat_type``, e.g. a 3D
    ``MapDataset``) adds its own ``stat_sum()``.

    Global layout of the predicted-signal vector ``s``: WStat bins with
    ``n_on > 0, n_off = 0`` (A), ``n_on > 0, n_off > 0`` (B); then the Cash
    bins; then one extra entry, the sum of the prediction over *all* active
    WStat bins. WStat bins with ``n_on = 0`` contribute ``2 μ_sig`` plus a
    constant (their profiled background ``n_off / (1 + α)`` does not depend on
    ``μ_sig`` ≥ 0), so they appear only in that sum; a negative flux sends the
    evaluation to the exact per-bin formulas.

    Parameters
    ----------
    datasets : iterable of datasets
        The datasets; their models, masks and data are read at construction (rebuild when
        `is_current` is False).

    Raises
    ------
    DatasetError
        If a WStat dataset has no ``counts_off``, or a model is not usable (see
        `~gwidgets.core.datasets.base.model_components`).
    """

    def __init__(self, datasets):
        datasets = list(datasets)
        #: the 1D spectrum datasets, evaluated by the fast path
        self.datasets = [d for d in datasets if isinstance(d, SpectrumDataset)]
        #: any other dataset (a `MapDataset`, a user's class with ``stat_sum()``): added via its own ``stat_sum()``
        self.others = [d for d in datasets if not isinstance(d, SpectrumDataset)]
        self.epoch = EPOCH.value
        distinct = {}
        for d in datasets:
            if d.models is not None:
                distinct[id(d.models)] = d.models
        self._distinct = [(m, model_structure(m)) for m in distinct.values()]
        self._layout()
        self._build_models()
        self._key = None
        self._stat = None

    # ------------------------------------------------------------------ build
    def is_current(self) -> bool:
        """Still valid: no dataset changed since the build and the models hold the same spectral models.

        Returns
        -------
        bool
            False once any dataset's data, masks or models changed (the epoch moved) or a model's
            spectral components were replaced.
        """
        if self.epoch != EPOCH.value:
            return False
        for m, structure in self._distinct:
            if model_structure(m) != structure:
                return False
        return True

    def _layout(self):
        per_set = []  # (dataset, active idx, category per active bin)
        for d in self.datasets:
            act = d.mask.copy() if d.mask is not None else np.ones(len(d.counts), bool)
            if d.stat_type == "wstat":
                if d.counts_off is None:
                    if act.any():
                        raise DatasetError(f"Dataset '{d.name}' has no counts_off: WStat needs OFF counts")
                    act[:] = False
                else:
                    a = d.alpha
                    act &= np.isfinite(a) & (a > 0)
                idx = np.flatnonzero(act)
                on, off = d.counts[idx] > 0, d.counts_off[idx] > 0 if len(idx) else np.zeros(0, bool)
                cat = np.where(on & ~off, 0, np.where(on & off, 1, np.where(off, 2, 3)))
            else:
                idx = np.flatnonzero(act)
                cat = np.full(len(idx), 4)
            per_set.append((d, idx, cat))
        # global positions: WStat A (0), B (1), then Cash (4). WStat C (2) and D (3) → only the sum entry:
        # without ON counts the profiled background is n_off / (1 + a) whatever mu_sig, so such a bin adds
        # 2 mu_sig plus a constant. The order A, B makes the bins needing a log contiguous (see _wstat).
        self.position = {id(d): np.full(len(idx), -1) for d, idx, _ in per_set}
        start = 0
        counts = {}
        for category in (0, 1, 4):
            for d, _, cat in per_set:
                sel = np.flatnonzero(cat == category)
                if len(sel):
                    self.position[id(d)][sel] = np.arange(start, start + len(sel))
                    start += len(sel)
            counts[category] = start
        self.active = {id(d): idx for d, idx, _ in per_set}
        self.is_wstat = {id(d): d.stat_type == "wstat" for d, _, _ in per_set}
        self.n_a, self.nw = counts[0], counts[1]
        self.n_total = start
        self.n_columns = start + 1  # + the sum over all active WStat bins

        def gather(getter, wstat_block, length):
            out = np.zeros(length)
            offset = 0 if wstat_block else self.nw
            for d, idx, _ in per_set:
                if (d.stat_type == "wstat") != wstat_block or not len(idx):
                    continue
                pos = self.position[id(d)]
                sel = pos >= 0
                out[pos[sel] - offset] = getter(d)[idx[sel]]
            return out

        nw = self.nw
        n_on = gather(lambda d: d.counts, True, nw)
        n_off = gather(lambda d: d.counts_off, True, nw)
        a = gather(lambda d: d.alpha, True, nw)
        self.w_n_on, self.w_n_off, self.w_alpha = n_on, n_off, a
        n_a = self.n_a
        self.has_no_on_bins = any(np.any(cat >= 2) for d, idx, cat in per_set if d.stat_type == "wstat")
        self.w_k1 = a * (n_on + n_off)                      # C = k1 - u
        self.w_k3 = 4.0 * a * n_off                         # D² = C² + k3 u
        self.w_2k1 = 2.0 * self.w_k1                        # Q = 2 k1 - C + D
        with np.errstate(divide="ignore"):
            self.w_k5 = 0.5 / a                             # (1 + a) b = P / 2a
        self.w_weights = np.concatenate([np.zeros(n_a), n_off[n_a:], n_on])
        gof = 0.0
        for d, idx, cat in per_set:
            if d.stat_type == "wstat" and len(idx):
                gof += float(np.sum(get_wstat_gof_terms(d.counts[idx], d.counts_off[idx])))
                # bins with n_on = 0 < n_off: b = n_off / (1 + a), 2 [(1 + a) b - n_off log b] is a constant
                c_bins = idx[cat == 2]
                if len(c_bins):
                    n_c, a_c = d.counts_off[c_bins], d.alpha[c_bins]
                    gof += 2.0 * float(np.sum(n_c - n_c * np.log(n_c / (1.0 + a_c))))
        # log b = log P - log 2a(1 + a), log x = log Q - log 2(1 + a): the constants go here
        gof += 2.0 * float(n_off[n_a:] @ np.log(2.0 * a[n_a:] * (1.0 + a[n_a:])))
        gof += 2.0 * float(n_on @ np.log(2.0 * (1.0 + a)))
        self.w_const = gof
        self.w_buf = np.empty(2 * nw)
        self.w_c = np.empty(nw)
        self.w_d = np.empty(nw)
        self.w_t = np.empty(nw)
        # columns of WStat bins are folded pre-scaled by 1 + a (the fold then gives u directly)
        self.colscale = np.ones(self.n_columns)
        self.colscale[:nw] = 1.0 + a
        # the exact fallback needs every active WStat bin, D included
        w_sets = [(d, idx) for d, idx, _ in per_set if d.stat_type == "wstat" and len(idx)]
        self.x_n_on = np.concatenate([d.counts[i] for d, i in w_sets]) if w_sets else np.zeros(0)
        self.x_n_off = np.concatenate([d.counts_off[i] for d, i in w_sets]) if w_sets else np.zeros(0)
        self.x_alpha = np.concatenate([d.alpha[i] for d, i in w_sets]) if w_sets else np.zeros(0)
        self.x_sets = w_sets
        # Cash constants
        n_cash = self.n_total - nw
        self.c_n = gather(lambda d: d.counts, False, n_cash)
        self.c_bkg0 = gather(lambda d: d.background if d.background is not None else np.zeros(len(d.counts)),
                             False, n_cash)
        self.c_logmask = self.c_n > 0
        self.c_buf = np.empty(n_cash)
        self.u = np.zeros(self.n_columns)

    def _build_models(self):
        groups = {}  # id(spectral) -> [spectral, {id(dataset): (dataset, multiplicity)}]
        self.background_terms = []  # (spectral, positions in the Cash block, reco centres)
        params = {}
        for d in self.datasets:
            comps = [c for c in model_components(d.models) if c.applies_to(d.name)]
            for c in comps:
                for p in c.parameters:
                    params[id(p)] = p
            idx = self.active[id(d)]
            for c in comps:
                if c.background:
                    if not self.is_wstat[id(d)] and len(idx):
                        e = d.energy_edges
                        centres = np.sqrt(e[:-1] * e[1:])[idx]
                        self.background_terms.append((c.spectral, self.position[id(d)] - self.nw, centres))
                    continue
                entry = groups.setdefault(id(c.spectral), [c.spectral, {}])
                entry[1][id(d)] = (d, entry[1].get(id(d), (d, 0))[1] + 1)
        self.params = list(params.values())
        self.responses = []
        for spectral, members in groups.values():
            members = [m for m in members.values() if len(self.active[id(m[0])])]
            if members:
                self.responses.append(self._response(spectral, members))
        self._single = self.responses[0] if len(self.responses) == 1 and self.responses[0].full else None
        # WStat bins without ON counts are reduced to "2 μ_sig + constant", true for μ_sig >= 0 only: a negative
        # flux (or a response with negative entries) sends the evaluation to the exact per-bin formulas
        self._always_exact = False
        if self.has_no_on_bins:
            for r in self.responses:
                r.check_sign = True
                if np.any(r.matrix < 0):
                    self._always_exact = True

    def _response(self, spectral, members):
        union, maps = union_grid([d.energy_edges_true for d, _ in members])
        n_u = len(union) - 1
        matrix = np.zeros((n_u, self.n_columns))
        for (d, weight), m in zip(members, maps):
            idx, pos = self.active[id(d)], self.position[id(d)]
            r = d.response[:, idx] * weight
            # union interval u belongs to dataset true bin i when m[i] <= u < m[i+1]
            owner = np.full(n_u, -1)
            owner[m[0]:m[-1]] = np.repeat(np.arange(len(m) - 1), np.diff(m))
            inside = owner >= 0
            rows = r[owner[inside]]
            kept = pos >= 0
            matrix[np.ix_(inside, pos[kept])] = rows[:, kept]
            if self.is_wstat[id(d)]:
                matrix[inside, -1] += rows.sum(axis=1)
        rows = np.flatnonzero(np.any(matrix != 0, axis=1))
        if rows.size == 0:
            rows = np.arange(min(1, n_u))
        cols = np.flatnonzero(np.any(matrix[rows] != 0, axis=0))
        if len(cols) > 0.8 * self.n_columns:
            cols = np.arange(self.n_columns)
        matrix = matrix[np.ix_(rows, cols)] * self.colscale[cols]
        return _Response(spectral, union[:-1][rows], union[1:][rows], matrix, cols, self.n_columns)

    # --------------------------------------------------------------- evaluate
    def _fold(self) -> np.ndarray:
        """The scaled prediction ``u`` (WStat columns × (1 + α)) in the global layout (a reused buffer)."""
        u = self.u
        if self._single is not None:
            return self._single.fold(out=u)
        u[:] = 0.0
        for r in self.responses:
            u[r.cols] += r.fold()
        return u

    def npred_signal(self) -> np.ndarray:
        """Predicted signal in the global layout (see class doc); the last entry is the WStat sum.

        Returns
        -------
        numpy.ndarray
            Predicted signal counts in the global layout: the WStat bins with counts, the Cash
            bins, then the sum over all active WStat bins.
        """
        return self._fold() / self.colscale

    def _background(self):
        bkg = self.c_bkg0
        if self.background_terms:
            bkg = bkg.copy()
            for spectral, pos, centres in self.background_terms:
                bkg[pos] *= spectral.dnde_values(centres)
        return bkg

    def _wstat(self, u) -> float:
        nw = self.nw
        if not nw:
            return 2.0 * u[-1] + self.w_const
        c, d, t, buf = self.w_c, self.w_d, self.w_t, self.w_buf
        uw = u[:nw]
        np.subtract(self.w_k1, uw, out=c)          # C = a (n_on + n_off) - (1 + a) mu_sig
        np.multiply(c, c, out=d)
        np.multiply(self.w_k3, uw, out=t)
        d += t
        np.sqrt(d, out=d)                          # D
        p = buf[:nw]
        np.add(c, d, out=p)                        # P = C + D = 2a(1 + a) mu_b
        linear = u[-1] + self.w_k5 @ p             # sum of mu_sig + (1 + a) mu_b
        q = buf[nw:]
        np.subtract(d, c, out=q)
        q += self.w_2k1                            # Q = 2(1 + a)(mu_sig + a mu_b)
        logs = buf[self.n_a:]
        np.log(logs, out=logs)                     # log P (n_off > 0) and log Q, one call
        return 2.0 * (linear - self.w_weights @ buf) + self.w_const

    def _cash(self, s) -> float:
        if not len(self.c_n):
            return 0.0
        mu = self.c_buf
        np.add(s[self.nw:self.n_total], self._background(), out=mu)
        np.maximum(mu, TRUNCATION_VALUE, out=mu)
        total = mu.sum()
        np.log(mu, out=mu, where=self.c_logmask)
        return 2.0 * (total - self.c_n @ mu)

    def _exact(self) -> float:
        """Gammapy's per-bin formulas with nan_to_num (used when the fast form is not finite).

        A prediction that is not finite (a model overflowing at trial parameters, e.g. a
        log-parabola with alpha = 200) has likelihood zero: +inf, never the 0 that
        nan_to_num would make of its NaN (the minimiser went there as to a perfect fit).
        """
        total = 0.0
        if self.x_sets:
            mu_sig = np.concatenate([self._dataset_signal(d, idx) for d, idx in self.x_sets])
            if not np.all(np.isfinite(mu_sig)):
                return math.inf
            total += float(np.sum(np.nan_to_num(wstat(self.x_n_on, self.x_n_off, self.x_alpha, mu_sig))))
        if len(self.c_n):
            u = self._fold()  # Cash columns are not scaled
            mu = np.maximum(u[self.nw:self.n_total] + self._background(), 0.0)
            if not np.all(np.isfinite(mu)):
                return math.inf
            total += float(np.sum(cash(self.c_n, mu)))
        return total

    def _negative(self) -> bool:
        if self._always_exact:
            return True
        for r in self.responses:
            if r.negative:
                return True
        return False

    def _dataset_signal(self, d, idx):
        return d.npred_signal()[idx]

    def stat_sum(self) -> float:
        """Total statistic of all datasets at the current parameter values.

        The 1D part is cached on the parameter values; other datasets add their own ``stat_sum()``.

        Returns
        -------
        float
            Sum of the Cash / WStat statistics (``-2 log L`` up to a constant); +inf when the
            prediction is not finite.
        """
        if self.others:  # their data / caches are theirs: no caching here
            total = self._stat_1d() if self.datasets else 0.0
            for d in self.others:
                total += float(d.stat_sum())
            return total
        return self._stat_1d()

    def _stat_1d(self) -> float:
        key = tuple([p.value for p in self.params])
        if key == self._key:
            return self._stat
        u = self._fold()
        stat = float(self._wstat(u) + self._cash(u))  # (np.errstate costs µs: warnings only on the fallback)
        if not math.isfinite(stat) or (self.has_no_on_bins and self._negative()):
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                stat = float(self._exact())
        self._key, self._stat = key, stat
        return stat
