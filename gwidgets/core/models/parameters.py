"""`Parameters`: an ordered collection of model parameters with lookup by name and covariance.

A parameter is one `~gwidgets.core.models.parameter.Parameter`; a model, a
`~gwidgets.core.models.models.Models` list and a fit hold their parameters in
a `Parameters`, which also carries the covariance matrix and gives the free
parameters, snapshots to restore, correlations and a table.
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np
from astropy.table import Table

from .parameter import Parameter, ParameterError

__all__ = ["Parameters"]


class Parameters:
    """An ordered collection of parameters with lookup by name and covariance.

    Parameters appear once even if several names point to the same object;
    a linked parameter is kept (its value follows the parameter it links to)
    but is not counted among the free parameters.

    Parameters
    ----------
    parameters : iterable of Parameter, optional
        The parameters (duplicates of the same object are dropped).
    covariance : numpy.ndarray, optional
        Covariance matrix over the parameters, in their units.

    Examples
    --------
    >>> pars = Parameters([Parameter("index", 2.3), Parameter("amplitude", "1e-12 cm-2 s-1 TeV-1")])
    >>> pars["index"].value
    2.3
    >>> [p.name for p in pars.free_parameters]
    ['index', 'amplitude']
    """

    def __init__(self, parameters=(), covariance=None):
        seen, plist = set(), []
        for p in parameters:
            if id(p) not in seen:
                seen.add(id(p))
                plist.append(p)
        self._parameters = plist
        self.covariance = covariance

    # ---------------------------------------------------------------- access
    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, item):
        if isinstance(item, str):
            return any(p.name == item for p in self._parameters)
        return any(p is item for p in self._parameters)

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            return self._parameters[key]
        if isinstance(key, slice):
            return Parameters(self._parameters[key])
        if isinstance(key, Parameter):
            return key
        matches = [p for p in self._parameters if p.name == key]
        if not matches:
            raise ParameterError(f"No parameter named '{key}' (have: {', '.join(self.names)})")
        if len(matches) > 1:
            raise ParameterError(f"Parameter name '{key}' is ambiguous here ({len(matches)} parameters); "
                                 "index by position or model")
        return matches[0]

    def index(self, key) -> int:
        """Position of a parameter.

        Parameters
        ----------
        key : str, int or Parameter
            Name, position or the parameter itself.

        Returns
        -------
        int
            Its index.

        Raises
        ------
        ParameterError
            If there is no such parameter or the name is ambiguous.
        """
        p = self[key]
        return next(i for i, q in enumerate(self._parameters) if q is p)

    @property
    def names(self) -> list[str]:
        """Parameter names, in order."""
        return [p.name for p in self._parameters]

    @property
    def free_parameters(self) -> Parameters:
        """The parameters that are neither frozen nor linked."""
        return Parameters([p for p in self._parameters if not p.frozen and p.linked_to is None])

    @property
    def values(self) -> np.ndarray:
        """Values as an array, in order; set all at once (one value each)."""
        return np.array([p.value for p in self._parameters], dtype=float)

    @values.setter
    def values(self, values):
        values = np.asarray(values, dtype=float)
        if values.shape != (len(self),):
            raise ParameterError(f"Expected {len(self)} values, got shape {values.shape}")
        for p, v in zip(self._parameters, values):
            p.value = v

    @property
    def errors(self) -> np.ndarray:
        """Errors as an array, in order."""
        return np.array([p.error for p in self._parameters], dtype=float)

    # -------------------------------------------------------------- snapshots
    def snapshot(self) -> list[tuple]:
        """State to restore later with :meth:`restore` (values, errors, frozen flags).

        Returns
        -------
        list of tuple
            ``(parameter, value, error, frozen)`` per parameter.
        """
        return [(p, p._value, p._error, p._frozen) for p in self._parameters]

    @staticmethod
    def restore(snapshot):
        """Restore values (of unlinked parameters), errors and frozen flags from a `snapshot`.

        Parameters
        ----------
        snapshot : list of tuple
            What `snapshot` returned.
        """
        for p, value, error, frozen in snapshot:
            if p.linked_to is None:
                p.set_value_unchecked(value)
            p.error = error
            p.frozen = frozen

    @contextmanager
    def restoring(self):
        """Context in which the parameters may change: their `snapshot` is restored on exit, even on an error.

        Yields
        ------
        gwidgets.core.models.Parameters
            This collection.

        Examples
        --------
        >>> from gwidgets.core.models import PowerLaw
        >>> pars = PowerLaw(index=2).parameters
        >>> with pars.restoring():
        ...     pars["index"].value, pars["index"].frozen = 3.0, True
        >>> pars["index"].value, pars["index"].frozen
        (2.0, False)
        """
        snapshot = self.snapshot()
        try:
            yield self
        finally:
            self.restore(snapshot)

    def freeze_all(self):
        """Freeze every parameter."""
        for p in self._parameters:
            p.frozen = True

    def unfreeze_all(self):
        """Unfreeze every parameter."""
        for p in self._parameters:
            p.frozen = False

    def check_bounds(self):
        """Check every parameter's value against its bounds.

        Raises
        ------
        ParameterError
            For the first parameter outside its bounds.
        """
        for p in self._parameters:
            p.check_bounds()

    def set_covariance_errors(self, covariance, parameters=None):
        """Attach a covariance (matrix over ``parameters``, default: all) and set errors.

        Parameters
        ----------
        covariance : array-like
            Matrix over ``parameters``, in their units; other rows and columns are 0.
        parameters : list of Parameter, optional
            The parameters it is over (default all, in order).
        """
        parameters = list(parameters or self._parameters)
        covariance = np.asarray(covariance, dtype=float)
        full = np.zeros((len(self), len(self)))
        idx = [self.index(p) for p in parameters]
        full[np.ix_(idx, idx)] = covariance
        self.covariance = full
        for i, p in zip(idx, parameters):
            p.error = math.sqrt(max(full[i, i], 0.0))

    def correlation(self) -> np.ndarray | None:
        """Correlation matrix from the covariance.

        Returns
        -------
        numpy.ndarray or None
            ``cov / outer(σ, σ)`` (NaN or inf where an error is 0); None without covariance.
        """
        if self.covariance is None:
            return None
        err = np.sqrt(np.diag(self.covariance))
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.covariance / np.outer(err, err)

    # ---------------------------------------------------------------- display
    def to_table(self) -> Table:
        """Name, value, unit, error, min, max, frozen, linked_to, as an astropy Table.

        Returns
        -------
        astropy.table.Table
            One row per parameter (column ``link``: name of the linked parameter or ``""``).
        """
        rows = [
            (p.name, p.value, p.unit.to_string(), p.error, p.min, p.max, p.frozen,
             p.linked_to.name if p.linked_to is not None else "")
            for p in self._parameters
        ]
        names = ["name", "value", "unit", "error", "min", "max", "frozen", "link"]
        if not rows:
            return Table(names=names, dtype=[str, float, str, float, float, float, bool, str])
        t = Table(rows=rows, names=names)
        t["value"].format = t["error"].format = ".4g"
        return t

    def copy(self) -> Parameters:
        """Copies of the parameters (and of the covariance, if any).

        Returns
        -------
        `Parameters`
            Unlinked copies of the parameters.
        """
        cov = None if self.covariance is None else np.array(self.covariance, dtype=float)
        return Parameters([p.copy() for p in self._parameters], covariance=cov)

    def __repr__(self):
        return f"Parameters({len(self)}: {', '.join(self.names)})"

    def _repr_html_(self):
        return self.to_table()._repr_html_()
