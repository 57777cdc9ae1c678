"""Integral flux of a spectral model over fixed true-energy bins, fast.

A fit integrates the same model over the same bins thousands of times, so the
nodes are laid out once: every bin is cut into sub-intervals of at most
``MAX_SUB_DECADES`` (0.05 decade) in log E with a 3-point Gauss-Legendre rule
in log E on each. One evaluation is then one vectorised ``dnde`` call, one
multiply and one reduction. For the smooth models of gamma-ray astronomy
(power laws, log-parabolas, exponential cut-offs) the relative error is
below 1e-9 for bins up to 0.05 decade (3-point GL is exact to the 6th order
in log E). Models with kinks or narrow features (templates, broken power
laws, Gaussian lines, compound models) — anything not known to be smooth —
use the model's own ``integral_values`` (analytic or adaptive) instead. A
model class can opt in or out with a ``quadrature_safe`` class attribute.

Fast kernels: for `PowerLaw` and `LogParabola` — the models of nearly every
fit — the weighted node values are computed in log space from precomputed
``ln(E / E_ref)`` (``exp(ln w + ln A − Γ L)``, ``exp(ln w + ln A − α L − β L²)``,
the exponent being one product of a 4-vector of coefficients with a fixed
basis matrix), reading the parameter values directly instead of building the
model's canonical parameter dict; this is 4–5× faster than the generic call. A kernel is only
used after checking, when the integrator is bound to a model, that it
reproduces the model's own ``dnde_values`` at every node to 1e-10; any other
model (or a failed check) uses the generic path.

`union_grid` merges the true-energy grids of several datasets so that one
model evaluation serves them all.
"""
from __future__ import annotations

import math

import astropy.units as u
import numpy as np

__all__ = ["BinIntegrator", "quadrature_ok", "union_grid", "MAX_SUB_DECADES", "SMOOTH_MODELS"]

#: widest log10-interval handled by one 3-point Gauss-Legendre rule
MAX_SUB_DECADES = 0.05
#: spectral model classes (by name) that are smooth enough for the fixed-node quadrature
SMOOTH_MODELS = frozenset({"PowerLaw", "LogParabola", "ExpCutoffPowerLaw", "PowerLaw2", "PowerLawNorm",
                           "ConstantSpectral"})

_X, _W = np.polynomial.legendre.leggauss(3)
_X = 0.5 * (_X + 1.0)
_W = 0.5 * _W


def quadrature_ok(model) -> bool:
    """Whether ``model`` may be integrated with the fixed-node quadrature.

    A ``quadrature_safe`` class attribute decides when the model class has one;
    otherwise the class name must be in `SMOOTH_MODELS`.

    Parameters
    ----------
    model : spectral model
        The model to integrate.

    Returns
    -------
    bool
        True for a smooth model (fixed-node quadrature), False for one that needs
        its own ``integral_values``.

    Examples
    --------
    >>> from gwidgets.core.models import PowerLaw
    >>> quadrature_ok(PowerLaw())
    True
    """
    flag = getattr(type(model), "quadrature_safe", None)
    if flag is not None:
        return bool(flag)
    return type(model).__name__ in SMOOTH_MODELS


class _Kernel:
    """Weighted dN/dE at the nodes of one integrator for one model, computed in log space.

    The log of the weighted value at every node is a polynomial in
    ``L = ln(E / E_ref)``: ``ln w + ln A − c₁ L − c₂ L²``. The basis rows
    ``[1, ln w, −L, −L²]`` are stored once (re-made only when the reference
    energy changes), so one evaluation is one small matrix-vector product
    (``coef @ basis``), one ``exp`` in place — no temporaries. The amplitude
    enters the exponent as ``ln A`` when positive; otherwise it is returned
    as a separate ``scale``.
    """

    names: tuple = ()
    units: tuple = ()

    def __init__(self, model, ln_nodes, ln_weights):
        self.model = model
        self.params = [model.parameters[n] for n in self.names]
        self.param_units = [p.unit for p in self.params]
        self.factors = [float(p.unit.to(unit)) if p.unit != unit else 1.0
                        for p, unit in zip(self.params, self.units)]
        self.ln_nodes, self.ln_weights = ln_nodes, ln_weights
        self._ref = None
        self._basis = np.empty((4, len(ln_nodes)))
        self._basis[0] = 1.0
        self._basis[1] = ln_weights
        self._coef = np.zeros(4)
        self._coef[1] = 1.0
        self._t = np.empty_like(ln_nodes)
        self._checks = tuple(zip(self.params, self.param_units))

    def valid(self) -> bool:
        for p, unit in self._checks:
            if p.unit is not unit:
                return False
        return True

    def _set_reference(self, ref):
        if ref != self._ref:
            L = self.ln_nodes - math.log(ref)
            self._basis[2] = -L
            self._basis[3] = -L * L
            self._ref = ref

    def _evaluate(self, amplitude, c1, c2):
        coef = self._coef
        if amplitude > 0:
            coef[0], scale = math.log(amplitude), 1.0
        else:
            coef[0], scale = 0.0, amplitude
        coef[2], coef[3] = c1, c2
        t = self._t
        np.dot(coef, self._basis, out=t)
        np.exp(t, out=t)
        return t, scale


class _PowerLawKernel(_Kernel):
    names = ("index", "amplitude", "reference")
    units = (u.one, u.Unit("cm-2 s-1 TeV-1"), u.TeV)

    def __call__(self):
        (p_i, p_a, p_r), (f_i, f_a, f_r) = self.params, self.factors
        self._set_reference(p_r.value * f_r)
        return self._evaluate(p_a.value * f_a, p_i.value * f_i, 0.0)


class _LogParabolaKernel(_Kernel):
    names = ("amplitude", "reference", "alpha", "beta")
    units = (u.Unit("cm-2 s-1 TeV-1"), u.TeV, u.one, u.one)

    def __init__(self, model, ln_nodes, ln_weights):
        super().__init__(model, ln_nodes, ln_weights)
        self._beta_factor = 1.0 / 2.302585092994046 if model.log_base == "10" else 1.0

    def __call__(self):
        (p_a, p_r, p_al, p_b), (f_a, f_r, f_al, f_b) = self.params, self.factors
        self._set_reference(p_r.value * f_r)
        return self._evaluate(p_a.value * f_a, p_al.value * f_al, p_b.value * f_b * self._beta_factor)

    def valid(self) -> bool:
        if (self.model.log_base == "10") != (self._beta_factor != 1.0):
            return False
        return super().valid()


_KERNELS = {"PowerLaw": _PowerLawKernel, "LogParabola": _LogParabolaKernel}


class BinIntegrator:
    """∫ dN/dE dE over bins ``[lo_i, hi_i]`` (floats, TeV), in cm⁻² s⁻¹.

    ``integrator(model)`` works for any model; ``integrator.bind(model)``
    returns a function of no argument, faster, for repeated evaluation of
    one model (the fit).

    Parameters
    ----------
    lo, hi : array-like
        Lower and upper bin edges in TeV (same shape, positive, ``hi > lo``).

    Raises
    ------
    ValueError
        If the shapes differ or a bin is not positive with ``hi > lo``.

    Examples
    --------
    >>> import numpy as np
    >>> from gwidgets.core.models import PowerLaw
    >>> edges = np.geomspace(1, 10, 11)
    >>> flux = BinIntegrator(edges[:-1], edges[1:])(PowerLaw(index=2, amplitude=1e-12))
    >>> bool(np.isclose(flux.sum(), 0.9e-12, rtol=1e-12))
    True
    """

    def __init__(self, lo, hi):
        self.lo = np.ascontiguousarray(lo, dtype=float)
        self.hi = np.ascontiguousarray(hi, dtype=float)
        if self.lo.shape != self.hi.shape or np.any(self.hi <= self.lo) or np.any(self.lo <= 0):
            raise ValueError("BinIntegrator needs positive bins with hi > lo")
        log_lo, log_hi = np.log(self.lo), np.log(self.hi)
        n_sub = np.maximum(1, np.ceil(np.log10(self.hi / self.lo) / MAX_SUB_DECADES - 1e-9)).astype(int)
        step = (log_hi - log_lo) / n_sub
        sub_bin = np.repeat(np.arange(len(self.lo)), n_sub)
        sub_k = np.arange(len(sub_bin)) - np.repeat(np.cumsum(n_sub) - n_sub, n_sub)
        sub_lo = log_lo[sub_bin] + sub_k * step[sub_bin]
        self.ln_nodes = (sub_lo[:, None] + step[sub_bin][:, None] * _X[None, :]).ravel()
        self.nodes = np.exp(self.ln_nodes)
        self.weights = (self.nodes.reshape(-1, 3) * (step[sub_bin][:, None] * _W[None, :])).ravel()
        self.ln_weights = np.log(self.weights)
        self.k = 3 * int(n_sub[0]) if np.all(n_sub == n_sub[0]) else None
        self.starts = 3 * (np.cumsum(n_sub) - n_sub)
        self._buf = np.empty_like(self.nodes)
        self._ones = np.ones(self.k or 1)

    def __len__(self):
        return len(self.lo)

    def _reduce(self, weighted):
        if self.k is not None:  # a matrix-vector product is the fastest small-row sum
            return np.dot(weighted.reshape(-1, self.k), self._ones)
        return np.add.reduceat(weighted, self.starts)

    def quadrature(self, model) -> np.ndarray:
        """Integral flux per bin by the fixed-node Gauss-Legendre rule (generic path).

        Parameters
        ----------
        model : spectral model
            A model with ``dnde_values(energy in TeV)`` in cm⁻² s⁻¹ TeV⁻¹.

        Returns
        -------
        numpy.ndarray
            Integral flux per bin in cm⁻² s⁻¹.
        """
        v = model.dnde_values(self.nodes)
        np.multiply(v, self.weights, out=self._buf)
        return self._reduce(self._buf)

    def exact(self, model) -> np.ndarray:
        """Integral flux per bin from the model's own ``integral_values`` (analytic or adaptive).

        Parameters
        ----------
        model : spectral model
            A model with ``integral_values(lo, hi)`` (TeV in, cm⁻² s⁻¹ out).

        Returns
        -------
        numpy.ndarray
            Integral flux per bin in cm⁻² s⁻¹.
        """
        return np.asarray(model.integral_values(self.lo, self.hi), dtype=float)

    def __call__(self, model) -> np.ndarray:
        """Integral flux per bin: `quadrature` for a smooth model (`quadrature_ok`), else `exact`.

        Parameters
        ----------
        model : spectral model
            The model to integrate.

        Returns
        -------
        numpy.ndarray
            Integral flux per bin in cm⁻² s⁻¹.
        """
        return self.quadrature(model) if quadrature_ok(model) else self.exact(model)

    def bind(self, model, reuse_buffer: bool = False):
        """A function of no argument returning ``self(model)`` for the model's current parameters.

        With ``reuse_buffer`` the fast path writes into one array owned by the
        integrator (valid until the next call): for a caller that consumes the
        result at once (the fit's evaluator). After each call, the function's
        ``positive`` attribute is True when every returned value is known to be
        positive without looking (a fast kernel with a positive amplitude).

        Parameters
        ----------
        model : spectral model
            The model, read at each call (its parameters may change between calls).
        reuse_buffer : bool, optional
            Whether the fast path writes into one buffer owned by the integrator.

        Returns
        -------
        callable
            A function of no argument returning the integral flux per bin (numpy.ndarray, cm⁻² s⁻¹).
        """
        if not quadrature_ok(model):
            return lambda: self.exact(model)
        kernel_cls = _KERNELS.get(type(model).__name__)
        if kernel_cls is not None:
            kernel = self._checked_kernel(kernel_cls, model)
            if kernel is not None:
                k, ones = self.k, self._ones
                out = np.empty(len(self.lo)) if reuse_buffer else None

                def fast():
                    if not kernel.valid():  # a parameter changed unit: fall back
                        fast.positive = False
                        return self.quadrature(model)
                    values, scale = kernel()
                    if k is not None:
                        flux = np.dot(values.reshape(-1, k), ones, out=out)
                    else:
                        flux = np.add.reduceat(values, self.starts)
                    if scale != 1.0:
                        flux *= scale
                    fast.positive = scale == 1.0  # amplitude > 0: every value is exp(...) > 0
                    return flux

                fast.positive = False  # (known only after a call)
                return fast
        return lambda: self.quadrature(model)

    def _checked_kernel(self, kernel_cls, model):
        try:
            kernel = kernel_cls(model, self.ln_nodes, self.ln_weights)
            values, scale = kernel()
            got = values * scale
            ref = model.dnde_values(self.nodes) * self.weights
        except Exception:  # any surprise: use the generic path
            return None
        with np.errstate(invalid="ignore", divide="ignore"):
            ok = np.all(np.isfinite(got)) and np.allclose(got, ref, rtol=1e-10, atol=1e-300)
        return kernel if ok else None


def union_grid(edge_arrays, rtol: float = 1e-9):
    """Merge several edge arrays into one sorted grid.

    Every input bin is the run of union intervals ``maps[j][i] .. maps[j][i+1]``.

    Parameters
    ----------
    edge_arrays : list of array-like
        The edge arrays (same unit, e.g. TeV).
    rtol : float, optional
        Relative tolerance: values closer than ``rtol`` are one edge.

    Returns
    -------
    union : numpy.ndarray
        The merged, sorted edges.
    maps : list of numpy.ndarray
        For each input, the index in ``union`` of each of its edges.

    Examples
    --------
    >>> union, maps = union_grid([[1, 2, 4], [1, 3, 4]])
    >>> union
    array([1., 2., 3., 4.])
    >>> [m.tolist() for m in maps]
    [[0, 1, 3], [0, 2, 3]]
    """
    allv = np.sort(np.concatenate([np.asarray(e, float) for e in edge_arrays]))
    keep = np.ones(len(allv), bool)
    keep[1:] = np.diff(allv) > rtol * allv[1:]
    union = allv[keep]
    maps = []
    for e in edge_arrays:
        idx = np.searchsorted(union, np.asarray(e, float) * (1 - 2 * rtol), side="left")
        maps.append(np.clip(idx, 0, len(union) - 1))
    return union, maps
