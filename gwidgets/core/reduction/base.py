"""The reduction protocol: every maker has one ``run`` method whose signature depends only on its kind.

Two kinds (as gammapy's makers, where each step is an object with one ``run``):

* `ObservationMaker` — ``run(observation) -> product`` reduces ONE DL3 observation (None when the
  observation gives nothing, the reason kept by the maker), and ``run_many(observations, executor=...,
  progress=..., token=...) -> list`` streams a batch through an executor (serial, processes, Dask).
  `SpectrumDatasetMaker` (1D ON/OFF datasets), `MapDatasetMaker` (3D datasets) and `MapMaker` (bare cubes)
  are observation makers.
* `DatasetMaker` — ``run(dataset) -> dataset`` refines a reduced dataset: `RingBackgroundMaker`,
  `FoVBackgroundMaker`.

A reduction chain is then a list of steps; the 1D and 3D pipelines are built from one settings object
(`~gwidgets.core.reduction.settings`).

Examples
--------
>>> from gwidgets.core.reduction.base import ObservationMaker
>>> class CountEvents(ObservationMaker):
...     '''Number of events of an observation.'''
...     def run(self, observation):
...         return len(observation.events)
>>> class Obs:
...     obs_id, events = 1, [0.5, 1.2, 3.0]
>>> CountEvents().run_many([Obs(), Obs()])
[3, 3]
"""
from __future__ import annotations

from abc import ABC, abstractmethod

__all__ = ["Maker", "ObservationMaker", "DatasetMaker"]


class Maker(ABC):
    """A reduction step with one ``run`` method (see the module docs for the kinds and their signatures).

    Attributes
    ----------
    kind : str
        ``"observation"`` or ``"dataset"``: what ``run`` takes.
    """

    kind: str = ""

    @abstractmethod
    def run(self, *args, **kwargs):
        """Run the step (signature fixed by the kind).

        Parameters
        ----------
        *args, **kwargs
            What the kind takes: one observation (`ObservationMaker`) or one dataset (`DatasetMaker`).

        Returns
        -------
        object
            The step's product.
        """


class ObservationMaker(Maker):
    """A maker reducing one DL3 observation: ``run(observation) -> product`` (None: nothing usable)."""

    kind = "observation"

    @abstractmethod
    def run(self, observation):
        """Reduce one observation.

        Parameters
        ----------
        observation : Observation
            One DL3 observation.

        Returns
        -------
        object
            The reduced product (a dataset, cubes ...), or None when the observation gives nothing.
        """

    def run_many(self, observations, executor="serial", progress=None, token=None) -> list:
        """`run` on every observation through an executor, input order kept.

        Parameters
        ----------
        observations : iterable of Observation
            The observations.
        executor : str or Executor
            ``"serial"``, ``"processes"``, ``"dask"``, a dask Client or an `~gwidgets.core.executor.Executor`.
        progress : callable, optional
            Progress callback.
        token : CancelToken, optional
            Cancels between observations.

        Returns
        -------
        list
            One product (or None) per observation.
        """
        from ..executor import get_executor

        observations = list(observations)
        labels = [f"OBS_ID {getattr(o, 'obs_id', i)}" for i, o in enumerate(observations)]
        return get_executor(executor).map(self.run, observations, progress=progress, token=token, labels=labels)


class DatasetMaker(Maker):
    """A maker refining a reduced dataset: ``run(dataset) -> dataset`` (or a product made from it)."""

    kind = "dataset"

    @abstractmethod
    def run(self, dataset):
        """Refine one dataset.

        Parameters
        ----------
        dataset : MapDataset or SpectrumDataset
            A reduced dataset.

        Returns
        -------
        object
            The refined dataset (or the product built from it, e.g. ring OFF maps).
        """
