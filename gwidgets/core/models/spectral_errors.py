"""Uncertainties of spectral-model quantities propagated from the fit covariance.

The covariance of a model is the matrix over **all** its parameters (in the
parameters' units, zero rows for frozen ones) that `~gwidgets.core.fit.fit.Fit` attaches to every
model it fitted (`attach_covariance`), read back as ``model.covariance``.

Two propagation methods, in a registry (`PROPAGATIONS`):

* ``"sample"`` (default, as gammapy 2.1's ``SpectralModel.evaluate_error``):
  ``n_samples × n_parameters`` parameter vectors drawn from the multivariate
  normal (seed ``random_state``), the quantity evaluated for each; the result
  is the **median** and the distances from it to the 15.87 % and 84.13 %
  percentiles (``errn``, ``errp``, so asymmetric bands come out right). Given
  the same ``samples`` the numbers equal gammapy's; our own draws are made in
  standardised units (`draw_parameters`), which keeps the spread of a
  1e-12-sized amplitude right where gammapy's raw-unit draws lose it.
* ``"linear"``: first-order propagation ``σ² = J C Jᵀ`` with a central
  numerical derivative (step ``epsilon × σ_i`` per parameter); the value is the
  model at the best fit and ``errn = errp = σ``.

Both return an array ``(3, ...)``: value, errn, errp.

>>> import astropy.units as u
>>> from gwidgets.core.models import PowerLaw
>>> pl = PowerLaw(index=2.0, amplitude="1e-12 cm-2 s-1 TeV-1", reference="1 TeV")
>>> pl.covariance = [[0.01, 0, 0], [0, 1e-26, 0], [0, 0, 0]]      # index, amplitude, reference
>>> dnde, errn, errp = pl.evaluate_error(1 * u.TeV, method="linear")
>>> round(float(errp / dnde), 6)                                  # = σ(amplitude) / amplitude at E0
0.1
"""
from __future__ import annotations

import math

import numpy as np

from ..registry import Registry
from .parameter import ParameterError

__all__ = ["PROPAGATIONS", "register_propagation", "covariance_matrix", "attach_covariance", "propagate",
           "model_components", "draw_parameters", "evaluate_with_values"]

#: method name -> function(model, fn, cov, **options) -> array (3, ...)
PROPAGATIONS = Registry("error propagation method")

#: attributes holding sub-models (sky model components, compound / scaled spectral models)
CHILD_ATTRIBUTES = ("spectral_model", "spatial_model", "temporal_model", "model1", "model2", "model")


def register_propagation(name):
    """Decorator: register an error-propagation method under ``name``.

    Parameters
    ----------
    name : str
        Method name (the ``method`` argument of `propagate`).

    Returns
    -------
    callable
        A decorator that stores the function in `PROPAGATIONS` and returns it unchanged.
    """

    def deco(func):
        PROPAGATIONS.add(name, func)
        return func

    return deco


def covariance_matrix(model, covariance=None) -> np.ndarray | None:
    """The covariance over ``model.parameters`` (n × n, parameters' units), or None.

    ``covariance`` may be None (the model's attached covariance), an n × n
    array over ``model.parameters``, or a named covariance (an object with
    ``names`` and an array value, e.g. ``FitResult.covariance``) whose names
    are matched to the model's parameter names (unmatched parameters get zero).

    Parameters
    ----------
    model : `~gwidgets.core.models.core.Model`
        The model.
    covariance : array-like or named covariance, optional
        See above.

    Returns
    -------
    numpy.ndarray or None
        The n × n matrix; None if no covariance is given or attached.

    Raises
    ------
    ParameterError
        If the names match none of the parameters, or the shape is not n × n.
    """
    params = list(model.parameters)
    n = len(params)
    if covariance is None:
        covariance = model.parameters.covariance
        if covariance is None:
            return None
    names = getattr(covariance, "names", None)
    matrix = np.array(covariance, dtype=float)
    if names is not None:
        full = np.zeros((n, n))
        pos = {name: i for i, name in enumerate(names)}
        idx = [(i, pos[p.name]) for i, p in enumerate(params) if p.name in pos]
        if not idx:
            raise ParameterError(f"Covariance names ({', '.join(names)}) match none of the parameters of "
                                 f"{type(model).__name__} ({', '.join(p.name for p in params)})")
        mine, theirs = zip(*idx)
        full[np.ix_(mine, mine)] = matrix[np.ix_(theirs, theirs)]
        return full
    if matrix.shape != (n, n):
        raise ParameterError(f"Covariance of {type(model).__name__} must be {n} × {n} over its parameters "
                             f"({', '.join(p.name for p in params)}), got shape {matrix.shape}")
    return matrix


def model_components(root):
    """Every model object reachable from ``root`` (a model, a `~gwidgets.core.models.models.Models`, a list), each once.

    Sub-models are followed through the attributes in ``CHILD_ATTRIBUTES``.

    Parameters
    ----------
    root : model, `~gwidgets.core.models.Models` or list
        Where to start.

    Yields
    ------
    object
        Each object with ``parameters`` (models at every level), once.
    """
    seen, stack = set(), [root]
    while stack:
        obj = stack.pop()
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, (list, tuple)) or (not hasattr(obj, "evaluate") and hasattr(obj, "__iter__")
                                              and not isinstance(obj, (str, bytes))):
            stack.extend(list(obj))
            continue
        if hasattr(obj, "parameters"):
            yield obj
        stack.extend(getattr(obj, attr, None) for attr in CHILD_ATTRIBUTES)


def attach_covariance(roots, parameters, matrix):
    """Give every model reachable from ``roots`` the block of ``matrix`` over its own parameters.

    ``parameters``: the fitted parameters (rows of ``matrix``, by identity).
    Models none of whose parameters were fitted are left alone. Called by `~gwidgets.core.fit.fit.Fit`
    after HESSE, so ``model.covariance`` / ``model.evaluate_error`` work on any
    fitted component (a sky model's spectral model, a compound model's parts).

    Parameters
    ----------
    roots : model, `~gwidgets.core.models.Models` or list
        The fitted models.
    parameters : list of `~gwidgets.core.models.parameter.Parameter`
        The parameters of the rows and columns of ``matrix``.
    matrix : array-like
        Covariance, in the parameters' units.
    """
    matrix = np.asarray(matrix, dtype=float)
    rows = {id(p): i for i, p in enumerate(parameters)}
    for model in model_components(roots):
        own = model.parameters
        hit = [(p, rows[id(p)]) for p in own if id(p) in rows]
        if not hit:
            continue
        plist, idx = zip(*hit)
        own.set_covariance_errors(matrix[np.ix_(idx, idx)], list(plist))


# ----------------------------------------------------------------- propagation
def _sigma_probability(n_sigma):
    """Normal CDF at ``n_sigma`` (``scipy.stats.norm.cdf``), without scipy."""
    return 0.5 * (1.0 + math.erf(n_sigma / math.sqrt(2.0)))


def evaluate_with_values(model, columns, fn):
    """``fn(copy)`` with the copy's parameters set to the arrays ``columns`` (one per parameter).

    Vectorised when the model broadcasts (results have the samples on the last
    axis); otherwise one evaluation per sample. The model itself is not touched.

    Parameters
    ----------
    model : `~gwidgets.core.models.core.Model`
        The model (copied).
    columns : list of array-like
        One array of sample values per parameter, in the parameters' units.
    fn : callable
        ``fn(model)`` → array whose last axis runs over the samples.

    Returns
    -------
    numpy.ndarray
        ``fn`` values with the samples on the last axis.

    Raises
    ------
    ParameterError
        If there is not one column per parameter.
    """
    n_samples = len(columns[0])
    copy = model.copy()
    params = list(copy.parameters)
    if len(params) != len(columns):
        raise ParameterError(f"{type(model).__name__}: {len(columns)} parameter columns for "
                             f"{len(params)} parameters")
    try:
        for p, col in zip(params, columns):
            p.set_value_unchecked(np.asarray(col, dtype=float))
        with np.errstate(all="ignore"):
            out = np.asarray(fn(copy), dtype=float)
        if out.ndim and out.shape[-1] == n_samples:
            return out
    except (ValueError, TypeError, IndexError):
        pass
    values = []
    for k in range(n_samples):
        for p, col in zip(params, columns):
            p.set_value_unchecked(float(col[k]))
        with np.errstate(all="ignore"):
            values.append(np.asarray(fn(copy), dtype=float)[..., 0])
    return np.moveaxis(np.array(values), 0, -1)


def draw_parameters(values, cov, n, random_state=42) -> np.ndarray:
    """``n`` parameter vectors (n × n_par) from the multivariate normal around ``values``.

    Drawn in standardised units (the correlation matrix, then scaled by the
    errors): numpy's SVD of a raw covariance mixing 1e-24 (amplitudes in
    cm-2 s-1 TeV-1) with 1e-3 (indices) loses the small block, e.g. a 9 % too
    small amplitude spread for a log-parabola. Frozen parameters stay exact.

    Parameters
    ----------
    values : array-like
        Central values, one per parameter.
    cov : numpy.ndarray
        Covariance over the parameters.
    n : int
        Number of draws.
    random_state : int or `numpy.random.RandomState`, optional
        Seed, or a generator with ``multivariate_normal``.

    Returns
    -------
    numpy.ndarray
        Draws of shape ``(n, n_parameters)``.

    Examples
    --------
    >>> draws = draw_parameters([2.0, 1e-12], np.diag([0.01, 1e-26]), 20000)
    >>> np.round(draws.std(axis=0) / [0.1, 1e-13], 1).tolist()
    [1.0, 1.0]
    """
    rng = random_state if hasattr(random_state, "multivariate_normal") else np.random.RandomState(random_state)
    values = np.asarray(values, dtype=float)
    sigma = np.sqrt(np.clip(np.diag(cov), 0, None))
    free = sigma > 0
    scale = np.where(free, sigma, 1.0)
    z = rng.multivariate_normal(np.zeros(len(values)), cov / np.outer(scale, scale), int(n))
    return values + np.where(free, z * scale, 0.0)


@register_propagation("sample")
def propagate_sample(model, fn, cov, n_samples=3500, random_state=42, n_sigma=1.0, samples=None, **_):
    """Median and percentile errors over parameter vectors drawn from the covariance (as gammapy 2.1).

    ``n_samples × n_parameters`` draws (`draw_parameters`), or the given
    ``samples`` (array n × n_parameters, parameters' units, as gammapy's ``samples``).

    Parameters
    ----------
    model : `~gwidgets.core.models.core.Model`
        The model.
    fn : callable
        ``fn(model)`` → array whose last axis runs over parameter samples.
    cov : numpy.ndarray
        Covariance over ``model.parameters``.
    n_samples : int, optional
        Draws per parameter.
    random_state : int, optional
        Seed of the draws.
    n_sigma : float, optional
        Width of the band in σ (percentiles of the normal distribution).
    samples : numpy.ndarray, optional
        Draws to use instead.
    **_
        Options of other methods, ignored.

    Returns
    -------
    numpy.ndarray
        ``(3, ...)``: median, errn, errp.

    Raises
    ------
    ParameterError
        If ``samples`` is not ``(n, n_parameters)``.
    """
    values = np.array([p.value for p in model.parameters], dtype=float)
    if samples is None:
        samples = draw_parameters(values, cov, int(n_samples) * len(values), random_state)
    samples = np.asarray(samples, dtype=float)
    if samples.ndim != 2 or samples.shape[1] != len(values):
        raise ParameterError(f"samples must be an array (n, {len(values)}) over the parameters of "
                             f"{type(model).__name__}, got shape {samples.shape}")
    out = evaluate_with_values(model, list(samples.T), fn)
    q = [50.0, 100 * _sigma_probability(-n_sigma), 100 * _sigma_probability(n_sigma)]
    finite = np.isfinite(out)
    if finite.all():  # the same numbers as nanpercentile, one sort instead of a loop over rows
        median, lo, hi = np.percentile(out, q, axis=-1)
    else:
        median, lo, hi = np.nanpercentile(np.where(finite, out, np.nan), q, axis=-1)
    return np.array([median, median - lo, hi - median])


@register_propagation("linear")
def propagate_linear(model, fn, cov, epsilon=1e-4, n_sigma=1.0, **_):
    """Best-fit value and ``n_sigma × sqrt(J C Jᵀ)`` (central derivative, step ``epsilon × σ``).

    Parameters
    ----------
    model : `~gwidgets.core.models.core.Model`
        The model.
    fn : callable
        ``fn(model)`` → array whose last axis runs over parameter samples.
    cov : numpy.ndarray
        Covariance over ``model.parameters``.
    epsilon : float, optional
        Relative step of the derivatives (in units of each σ).
    n_sigma : float, optional
        Width of the band in σ.
    **_
        Options of other methods, ignored.

    Returns
    -------
    numpy.ndarray
        ``(3, ...)``: value, err, err.
    """
    params = list(model.parameters)
    value = np.asarray(fn(model), dtype=float)[..., 0]  # fn puts the samples on a last axis (here: 1)
    sigma = np.sqrt(np.clip(np.diag(cov), 0, None))
    free = [i for i in range(len(params)) if sigma[i] > 0]
    if not free:
        return np.array([value, np.zeros_like(value), np.zeros_like(value)])
    base = np.array([p.value for p in params], dtype=float)
    columns = []
    for i in free:
        h = epsilon * sigma[i]
        for sign in (1.0, -1.0):
            col = base.copy()
            col[i] += sign * h
            columns.append(col)
    out = evaluate_with_values(model, list(np.array(columns).T), fn)  # (..., 2 × n_free)
    jac = np.stack([(out[..., 2 * k] - out[..., 2 * k + 1]) / (2 * epsilon * sigma[i])
                    for k, i in enumerate(free)], axis=0)
    c = cov[np.ix_(free, free)]
    var = np.einsum("i...,ij,j...->...", jac, c, jac)
    err = n_sigma * np.sqrt(np.clip(var, 0, None))
    return np.array([value, err, err])


def propagate(model, fn, method="sample", covariance=None, **options) -> np.ndarray:
    """``(value, errn, errp)`` of ``fn(model)`` from the covariance.

    ``fn(model)`` returns an array whose last axis runs over parameter samples
    (evaluate at ``energy[..., None]``): length 1 at the model's own values.

    Parameters
    ----------
    model : `~gwidgets.core.models.core.Model`
        The model.
    fn : callable
        The quantity, a function of a model.
    method : str, optional
        A key of `PROPAGATIONS` (``"sample"`` or ``"linear"``).
    covariance : array-like or named covariance, optional
        See `covariance_matrix`; default the model's.
    **options
        Options of the method.

    Returns
    -------
    numpy.ndarray
        ``(3, ...)``: value, errn, errp.

    Raises
    ------
    ParameterError
        When the model has no covariance (fit it first, or pass ``covariance``)
        or when ``method`` is unknown.
    """
    if method not in PROPAGATIONS:
        raise ParameterError(f"Unknown error propagation method '{method}' (known: {', '.join(PROPAGATIONS)})")
    cov = covariance_matrix(model, covariance)
    if cov is None:
        raise ParameterError(f"{type(model).__name__} has no covariance: fit it first (gw.Fit().run) "
                             "or pass covariance=")
    return PROPAGATIONS[method](model, fn, cov, **options)
