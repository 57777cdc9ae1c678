"""Results of a fit: `OptimizeResult` (best fit), `CovarianceResult` (HESSE), `FitResult` (both).

`Covariance` is a small named matrix: a NumPy array (``np.asarray(cov)``)
whose rows and columns carry the free parameters' names.
"""
from __future__ import annotations

import html
import math

import numpy as np
from astropy.table import Table

__all__ = ["Covariance", "OptimizeResult", "CovarianceResult", "FitResult"]


class Covariance:
    """Covariance matrix (in the parameters' units) with the parameter names of its rows/columns.

    Index by names (``cov["alpha", "beta"]``) or positions; ``np.asarray(cov)`` is the matrix.

    Parameters
    ----------
    matrix : array-like
        The n × n matrix.
    names : list of str
        Parameter names of the rows and columns.

    Raises
    ------
    ValueError
        If the matrix is not n × n over the names.

    Examples
    --------
    >>> cov = Covariance([[4.0, 1.0], [1.0, 9.0]], ["alpha", "beta"])
    >>> cov["alpha", "beta"], cov.errors["beta"]
    (1.0, 3.0)
    >>> np.asarray(cov).shape
    (2, 2)
    """

    def __init__(self, matrix, names):
        self.matrix = np.array(matrix, dtype=float)
        self.names = list(names)
        if self.matrix.shape != (len(self.names), len(self.names)):
            raise ValueError(f"Covariance: matrix shape {self.matrix.shape} does not match {len(self.names)} names")

    def __array__(self, dtype=None, copy=None):
        return self.matrix if dtype is None else self.matrix.astype(dtype)

    @property
    def shape(self):
        """Shape of the matrix."""
        return self.matrix.shape

    def _index(self, key):
        if isinstance(key, (int, np.integer)):
            return int(key)
        try:
            return self.names.index(key)
        except ValueError:
            raise KeyError(f"No parameter '{key}' in the covariance (have: {', '.join(self.names)})") from None

    def __getitem__(self, key):
        if isinstance(key, tuple) and len(key) == 2:
            return float(self.matrix[self._index(key[0]), self._index(key[1])])
        return self.matrix[self._index(key)]

    @property
    def errors(self) -> dict:
        """Parameter name → 1σ error (square root of the diagonal; NaN where not finite)."""
        return {n: math.sqrt(max(v, 0.0)) if np.isfinite(v) else np.nan
                for n, v in zip(self.names, np.diag(self.matrix))}

    @property
    def correlation(self) -> np.ndarray:
        """Correlation matrix (NaN or inf where an error is 0)."""
        err = np.sqrt(np.clip(np.diag(self.matrix), 0, None))
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.matrix / np.outer(err, err)

    def to_table(self) -> Table:
        """The matrix as a table.

        Returns
        -------
        astropy.table.Table
            A ``name`` column, then one column per parameter.
        """
        t = Table(self.matrix, names=self.names)
        t.add_column(self.names, name="name", index=0)
        return t

    def __repr__(self):
        return f"Covariance({len(self.names)} parameters: {', '.join(self.names)})"


def _param_rows(parameters):
    rows = []
    for p in parameters:
        rows.append((p.name, p.value, p.error, str(p.unit), p.min, p.max, p.frozen))
    return rows


class OptimizeResult:
    """Outcome of the minimisation (no errors).

    Attributes: ``success``, ``message``, ``nfev`` (statistic evaluations),
    ``total_stat`` (at the returned parameters), ``parameters`` (a copy),
    ``models`` (a copy of the fitted model(s)), ``backend``, ``method``,
    ``trace`` (astropy Table when the fit stored one), ``cancelled``.

    Parameters
    ----------
    success : bool
        Whether the minimisation converged.
    message : str
        What happened.
    nfev : int
        Number of statistic evaluations.
    total_stat : float
        Statistic at the returned parameters (NaN if None).
    parameters : `~gwidgets.core.models.parameters.Parameters`
        Copy of the parameters.
    models : object, optional
        Copy of the fitted model(s).
    backend, method : str, optional
        ``"minuit"``, ``"migrad"``.
    trace : astropy.table.Table, optional
        Every evaluation, when stored.
    cancelled : bool, optional
        Whether the fit was cancelled.
    edm : float, optional
        MINUIT's estimated distance to the minimum.
    """

    def __init__(self, success, message, nfev, total_stat, parameters, models=None, backend="minuit",
                 method="migrad", trace=None, cancelled=False, edm=np.nan):
        self.success = bool(success)
        self.message = str(message)
        self.nfev = int(nfev)
        self.total_stat = float(total_stat) if total_stat is not None else np.nan
        self.parameters = parameters
        self.models = models
        self.backend = backend
        self.method = method
        self.trace = trace
        self.cancelled = bool(cancelled)
        self.edm = float(edm)

    def _lines(self):
        return [f"  backend    : {self.backend}", f"  method     : {self.method}",
                f"  success    : {self.success}", f"  message    : {self.message}",
                f"  nfev       : {self.nfev}", f"  total stat : {self.total_stat:.4f}"]

    def __repr__(self):
        return "\n".join([f"{type(self).__name__}", "", *self._lines(), ""])

    def parameters_table(self) -> Table:
        """The parameters as a table.

        Returns
        -------
        astropy.table.Table
            name, value, error, unit, min, max, frozen (empty without parameters).
        """
        names = ["name", "value", "error", "unit", "min", "max", "frozen"]
        rows = _param_rows(self.parameters) if self.parameters is not None else []
        if not rows:
            return Table(names=names, dtype=[str, float, float, str, float, float, bool])
        t = Table(rows=rows, names=names)
        t["value"].format = t["error"].format = ".4g"
        return t

    def _repr_html_(self):
        status = "✔" if self.success else "✘"
        head = "".join(f"<tr><th style='text-align:left'>{html.escape(k.strip())}</th><td style='text-align:left'>"
                       f"{html.escape(v.strip())}</td></tr>"
                       for k, v in (line.split(":", 1) for line in self._lines()))
        return (f"<p><b>{type(self).__name__}</b> {status}</p><table>{head}</table>"
                + self.parameters_table()._repr_html_())


class CovarianceResult:
    """Outcome of HESSE: ``success``, ``message``, ``matrix`` (a `Covariance`).

    Parameters
    ----------
    success : bool
        Whether HESSE worked.
    message : str
        What happened.
    matrix : Covariance or None
        The covariance of the free parameters.
    backend, method : str, optional
        ``"minuit"``, ``"hesse"``.
    nfev : int, optional
        Number of statistic evaluations.
    """

    def __init__(self, success, message, matrix: Covariance | None, backend="minuit", method="hesse", nfev=0):
        self.success = bool(success)
        self.message = str(message)
        self.matrix = matrix
        self.backend = backend
        self.method = method
        self.nfev = int(nfev)

    def __repr__(self):
        return f"CovarianceResult(success={self.success}, message='{self.message}')"


class FitResult(OptimizeResult):
    """Minimisation plus HESSE errors.

    ``success`` is True when both worked; ``covariance`` is a `Covariance` of
    the free parameters (None if HESSE did not run), ``parameters`` carries the errors.

    Parameters
    ----------
    optimize_result : OptimizeResult
        The minimisation.
    covariance_result : CovarianceResult, optional
        HESSE (None if it did not run).
    """

    def __init__(self, optimize_result: OptimizeResult, covariance_result: CovarianceResult | None = None):
        o = optimize_result
        ok = o.success and (covariance_result is None or covariance_result.success)
        message = o.message
        if o.success and covariance_result is not None and not covariance_result.success:
            message = f"{o.message} {covariance_result.message}"
        super().__init__(ok, message, o.nfev, o.total_stat, o.parameters, o.models, o.backend, o.method, o.trace,
                         o.cancelled, o.edm)
        self.optimize_result = o
        self.covariance_result = covariance_result

    @property
    def covariance(self) -> Covariance | None:
        """The `Covariance` of the free parameters (None if HESSE did not run)."""
        return self.covariance_result.matrix if self.covariance_result is not None else None

    def _lines(self):
        lines = super()._lines()
        if self.covariance_result is not None:
            lines.append(f"  covariance : {self.covariance_result.message}")
        return lines
