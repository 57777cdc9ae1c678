"""The estimator protocol: ``Estimator.run(datasets) -> product``, one signature for every estimator.

An estimator takes reduced (and, for flux points and light curves, fitted) datasets and returns a
science product: `FluxPointsEstimator` → `FluxPoints`, `LightCurveEstimator` → `LightCurve`,
`ExcessMapEstimator` and `TSMapEstimator` → a dict of maps. ``datasets`` is always a `Datasets`, a list
of datasets or one dataset; the map estimators work on one dataset (`one_dataset`).

Examples
--------
>>> from gwidgets.core.estimators.base import Estimator
>>> class TotalCounts(Estimator):
...     '''Total counts of the datasets.'''
...     def run(self, datasets):
...         return sum(sum(d.counts) for d in datasets)
>>> class D:
...     counts = [1, 2, 3]
>>> TotalCounts().run([D(), D()])
12
"""
from __future__ import annotations

from abc import ABC, abstractmethod

__all__ = ["Estimator", "one_dataset"]


class Estimator(ABC):
    """A science product from datasets: ``run(datasets) -> product``."""

    @abstractmethod
    def run(self, datasets):
        """Estimate the product.

        Parameters
        ----------
        datasets : Datasets, list of datasets, or one dataset
            The (fitted) datasets.

        Returns
        -------
        object
            The product (`FluxPoints`, `LightCurve`, a dict of maps ...).
        """


def one_dataset(datasets, estimator: str):
    """The single dataset of ``datasets`` (a dataset itself, or a `Datasets` / list of one).

    Parameters
    ----------
    datasets : dataset, Datasets or list
        What was passed to ``run``.
    estimator : str
        The estimator's name, for the error.

    Returns
    -------
    object
        The dataset.

    Raises
    ------
    EstimatorError
        Not exactly one dataset (stack them first).

    Examples
    --------
    >>> one_dataset([3], "TSMapEstimator")
    3
    >>> one_dataset([1, 2], "TSMapEstimator")
    Traceback (most recent call last):
    ...
    gwidgets.core.estimators.norm_fit.EstimatorError: TSMapEstimator works on one dataset, got 2: stack them first \
(Datasets.stack_reduce)
    """
    from .norm_fit import EstimatorError

    if hasattr(datasets, "counts"):
        return datasets
    items = list(datasets)
    if len(items) != 1:
        raise EstimatorError(f"{estimator} works on one dataset, got {len(items)}: stack them first "
                             "(Datasets.stack_reduce)")
    return items[0]
