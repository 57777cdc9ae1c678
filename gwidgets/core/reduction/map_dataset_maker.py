"""DL3 observations → `MapDataset` (cubes + PSF kernel + EDISP + offset-max safe mask), one at a time.

`MapDatasetMaker.run(obs)` reduces one observation: `MapMaker` cubes, the
safe mask ``offset < offset_max`` (gammapy's SafeMaskMaker "offset-max"), the
PSF kernel and EDISP matrix at ``position`` (default: the map centre) and the
exposure at that position per true-energy bin (the weights used when
stacking). `run_stacked` streams the observations and stacks them.

Examples
--------
>>> from gwidgets.core.geom import MapAxis, WcsGeom
>>> observations = gw.example_store().get_observations([1001, 1002])
>>> geom = WcsGeom.create(SkyCoord(83.63, 22.01, unit="deg"), binsz=0.04, width=2 * u.deg,
...                       axes=[MapAxis.from_energy_bounds(1 * u.TeV, 10 * u.TeV, 4)])
>>> energy_axis_true = MapAxis.from_energy_bounds(0.5 * u.TeV, 20 * u.TeV, 8, name="energy_true")
>>> maker = MapDatasetMaker(geom, energy_axis_true, offset_max="2.5 deg")
>>> one = maker.run(observations[0])
>>> stacked = maker.run_stacked(observations)
>>> one.name, stacked.name, bool(stacked.counts.data.sum() > one.counts.data.sum())
('obs-1001', 'stacked', True)
"""
from __future__ import annotations

import astropy.units as u
import numpy as np

from ..datasets.map import MapDataset
from ..datasets.map_irf import irf_at_position
from ..stacking import WithObsId, stack_stream
from .base import ObservationMaker
from .map_maker import MapMaker

__all__ = ["MapDatasetMaker"]


class MapDatasetMaker(ObservationMaker):
    """Make `MapDataset` s on ``geom`` (reco energy) with ``energy_axis_true``.

    The one 3D reduction: the `Analysis` (``datasets.type: 3d``) gets its maker from
    `MapReductionSettings.maker`.

    Parameters
    ----------
    geom : WcsGeom
        Pixels and the reco ``energy`` axis.
    energy_axis_true : MapAxis
        True-energy axis of the exposure, PSF and EDISP.
    offset_max : Angle, optional
        Safe-mask radius around each pointing (None: no mask).
    position : SkyCoord, optional
        Where the PSF and EDISP are evaluated (default: the map centre).
    psf, edisp : bool
        Whether to build the PSF kernel / EDISP matrix.
    max_radius : Angle, optional
        PSF kernel radius (default: 99.9 % containment, at most 1.5°).
    bkg_integration : {"exact", "edges"}
        Energy integration of the background IRF over each bin (`MapMaker`; ``"edges"`` as gammapy 2.1).
    """

    def __init__(self, geom, energy_axis_true, offset_max=None, position=None, psf=True, edisp=True, max_radius=None,
                 bkg_integration="exact"):
        self.geom = geom
        self.energy_axis_true = energy_axis_true
        self.offset_max = None if offset_max is None else u.Quantity(offset_max, u.deg)
        self.position = geom.center_skydir if position is None else position
        self.psf = psf
        self.edisp = edisp
        self.max_radius = max_radius
        self._maker = MapMaker(geom, energy_axis_true, bkg_integration=bkg_integration)

    def run(self, obs, name=None) -> MapDataset:
        """Reduce one observation.

        Parameters
        ----------
        obs : Observation
            One DL3 observation.
        name : str, optional
            The dataset's name (default ``obs-<OBS_ID>``).

        Returns
        -------
        MapDataset
            Cubes, PSF kernel, EDISP and the offset-max safe mask.
        """
        cubes = self._maker.run(obs)
        mask = None
        if self.offset_max is not None:
            offset = self._maker.offset_image(obs)
            mask = np.broadcast_to(offset < self.offset_max.to_value(u.deg), cubes.counts.data.shape)
        kernel, matrix, weights = irf_at_position(obs, self.position, self.energy_axis_true, self.geom.axis("energy"),
                                                  self.geom.binsz * u.deg, max_radius=self.max_radius,
                                                  with_psf=self.psf, with_edisp=self.edisp)
        if mask is not None:
            iy, ix = self.geom.coord_to_idx(self.position)
            if iy < 0 or not mask[0, iy, ix]:
                weights = np.zeros_like(weights)
        return MapDataset.from_cubes(cubes, psf=kernel, edisp=matrix, mask_safe=mask,
                                     name=name or f"obs-{obs.obs_id}", irf_weights=weights)

    def run_stacked(self, observations, name="stacked", executor="serial", progress=None, token=None) -> MapDataset:
        """Reduce and stack ``observations`` (each one reduced then added: memory of one observation at a time).

        Parameters
        ----------
        observations : iterable of `~gwidgets.core.data.Observation`
            The observations.
        name : str, optional
            Name of the stacked dataset.
        executor : str or `~gwidgets.core.executor.Executor`, optional
            ``"serial"``, ``"processes"``, ``"dask"``, a dask Client or an executor; on each, the
            results are stacked as they arrive (`~gwidgets.core.stacking.stack_stream`).
        progress : callable, optional
            Progress callback.
        token : `~gwidgets.core.progress.CancelToken`, optional
            Cancels between observations.

        Returns
        -------
        `~gwidgets.core.datasets.map.MapDataset` or None
            The stack (counts, background and exposure summed in each safe mask, PSF / EDISP
            exposure-weighted); None when no observation was given.
        """
        # streamed on every back-end: each result is stacked as it arrives, in input order
        return stack_stream(WithObsId(self.run), observations, executor, name=name, progress=progress,
                            token=token).dataset
