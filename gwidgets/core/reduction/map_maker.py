"""DL3 → sky cubes: counts, exposure and IRF background on a `WcsGeom` (as gammapy's MapDatasetMaker).

- counts: events binned in (reco energy, lat, lon);
- exposure: AEFF(E_true, offset of each pixel) × livetime, in m² s;
- background: the BKG IRF in field-of-view coordinates of each pixel
  (gammapy's RADEC-aligned FoV frame), integrated over each reco-energy bin,
  × pixel solid angle × observation time (GTI sum: GADF defines the rate per
  observation time). ``bkg_integration="exact"`` (default) integrates the
  power law between every pair of energies among the bin edges and the IRF's
  energy nodes inside the bin — exact for the IRF's log-log interpolation;
  ``"edges"`` uses the bin edges only, as gammapy 2.1 does, which misses the
  curvature of the rate inside wide bins (near threshold, 4 bins per decade
  give a background 2–5 % low per bin).

Each observation is reduced on its own (streaming); `stack_cubes` sums them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import astropy.units as u
import numpy as np

from ...errors import GwidgetsError, MissingIRFError
from ..geom import Map, MapAxis, WcsGeom
from .base import ObservationMaker
from .map_irf_eval import aeff_on_pixels, bkg_rate_limited, fov_lonlat, integrate_loglog, unit_vectors

__all__ = ["MapCubes", "MapMaker", "integrate_loglog_edges", "stack_cubes", "BKG_ENERGY_GRIDS"]


def _edges_and_nodes(edges_mev, bkg) -> np.ndarray:
    """The bin edges and the IRF's energy nodes strictly inside them (MeV)."""
    nodes = bkg.axes["energy"].center.to_value("MeV")
    inside = nodes[(nodes > edges_mev[0]) & (nodes < edges_mev[-1])]
    return np.union1d(edges_mev, inside)


#: ``bkg_integration`` → the energies (MeV) at which the BKG rate is evaluated for the log-log integration
BKG_ENERGY_GRIDS = {
    "exact": _edges_and_nodes,
    "edges": lambda edges_mev, bkg: edges_mev,
}


def integrate_loglog_edges(values, edges, axis=0):
    """∫ over each bin of a function known at the bin edges, power law between edges (gammapy's trapz_loglog).

    Parameters
    ----------
    values : array-like
        Function values at the edges.
    edges : array-like
        Bin edges (positive), same shape as ``values``.
    axis : int, optional
        Axis along which the edges run.

    Returns
    -------
    numpy.ndarray
        One integral per bin (see `~gwidgets.core.reduction.map_irf_eval.integrate_loglog`).

    Examples
    --------
    >>> import numpy as np
    >>> energy = np.array([1.0, 2.0, 4.0])
    >>> integrate_loglog_edges(3 * energy ** -2, energy)
    array([1.5 , 0.75])
    """
    return integrate_loglog(values, edges, axis=axis)


@dataclass
class MapCubes:
    """Counts / exposure / background cubes of one observation (or a stack).

    Parameters
    ----------
    counts : `~gwidgets.core.geom.Map`
        Counts cube on the reco-energy geometry.
    exposure : `~gwidgets.core.geom.Map`
        Exposure cube in m² s with an ``energy_true`` axis.
    background : `~gwidgets.core.geom.Map` or None
        Predicted background counts on the reco-energy geometry.
    livetime : `~astropy.units.Quantity`
        Live time (s).
    obs_ids : list, optional
        Observation ids in the cubes.
    """

    counts: Map
    exposure: Map
    background: Map | None
    livetime: u.Quantity
    obs_ids: list = field(default_factory=list)

    def __repr__(self):
        bkg = f"{self.background.data.sum():.1f}" if self.background is not None else "none"
        return (f"MapCubes(obs={self.obs_ids}, counts={self.counts.data.sum():.0f}, background={bkg}, "
                f"shape={self.counts.data.shape})")


class MapMaker(ObservationMaker):
    """Reduce observations onto ``geom`` (reco energy) with ``energy_axis_true`` for the exposure.

    Parameters
    ----------
    geom : WcsGeom
        Spatial geometry with an ``energy`` axis.
    energy_axis_true : MapAxis
        True-energy axis of the exposure cube.
    offset_max : Angle or None
        If given, pixels farther from the pointing get zero exposure and background
        (gammapy does this in its offset-max safe mask, not in the maker).
    background : bool
        Whether to make the background cube (it needs a BKG IRF).
    bkg_integration : {"exact", "edges"}
        Energy integration of the background rate over each bin (module doc):
        ``"edges"`` reproduces gammapy 2.1.

    Raises
    ------
    `~gwidgets.errors.GwidgetsError`
        For an unknown ``bkg_integration``.
    """

    def __init__(self, geom: WcsGeom, energy_axis_true: MapAxis, offset_max=None, background: bool = True,
                 bkg_integration: str = "exact"):
        geom.axis("energy")
        if bkg_integration not in BKG_ENERGY_GRIDS:
            raise GwidgetsError(f"bkg_integration must be one of {sorted(BKG_ENERGY_GRIDS)}, not {bkg_integration!r}")
        self.bkg_integration = bkg_integration
        self.geom = geom
        self.energy_axis_true = energy_axis_true
        self.offset_max = None if offset_max is None else u.Quantity(offset_max, "deg")
        self.background = background
        self._pixels = geom.pixel_centers()
        self._xyz = unit_vectors(self._pixels)
        self._solid_angle = geom.solid_angle().to_value("sr")

    def offset_image(self, obs) -> np.ndarray:
        """Separation (deg) of each pixel centre from the pointing of ``obs``, shape (ny, nx).

        Parameters
        ----------
        obs : `~gwidgets.core.data.Observation`
            The observation.

        Returns
        -------
        numpy.ndarray
            Offsets in deg.
        """
        return self._pixels.separation(obs.pointing_radec).deg

    def run(self, obs) -> MapCubes:
        """Counts, exposure and background cubes of one observation.

        Parameters
        ----------
        obs : Observation
            One DL3 observation.

        Returns
        -------
        MapCubes
            Counts, exposure (m² s) and background (counts) cubes, zero beyond ``offset_max``.

        Raises
        ------
        `~gwidgets.errors.MissingIRFError`
            If the observation has no AEFF (or no BKG while ``background`` is True).
        """
        if obs.aeff is None:
            raise MissingIRFError(obs.obs_id, "aeff", obs.available_hdus)
        pointing = obs.pointing_radec
        offset = self.offset_image(obs)
        outside = (offset > self.offset_max.to_value("deg") if self.offset_max is not None
                   else np.zeros(offset.shape, bool))
        counts = Map.from_geom(self.geom).fill_events(obs.events)
        e_true = self.energy_axis_true.center
        exposure = aeff_on_pixels(obs.aeff, e_true, offset) * obs.livetime.to_value("s")
        exposure[:, outside] = 0
        exp_map = Map(self.geom.to_cube([self.energy_axis_true]), exposure, "m2 s")
        bkg_map = None
        if self.background:
            if obs.bkg is None:
                raise MissingIRFError(obs.obs_id, "bkg", obs.available_hdus)
            bkg_map = Map(self.geom, self._background(obs, pointing, offset), "")
            bkg_map.data[:, outside] = 0
        return MapCubes(counts, exp_map, bkg_map, obs.livetime, [obs.obs_id])

    def _background(self, obs, pointing, offset):
        bin_edges = self.geom.axis("energy").edges.to_value("MeV")
        bkg = obs.bkg
        edges = BKG_ENERGY_GRIDS[self.bkg_integration](bin_edges, bkg)
        if "offset" in bkg.required_axes:
            rate = bkg.evaluate(energy=edges[:, None, None] * u.MeV, offset=offset[None] * u.deg,
                                limit_extrapolation=True).to_value("s-1 MeV-1 sr-1")
        else:
            lon, lat = fov_lonlat(self._xyz, pointing)
            rate = bkg_rate_limited(bkg, edges, lon, lat)
        integral = integrate_loglog(rate, edges[:, None, None], axis=0)
        if len(edges) != len(bin_edges):  # sum the sub-intervals of each bin
            integral = np.add.reduceat(integral, np.searchsorted(edges, bin_edges[:-1]), axis=0)
        return integral * self._solid_angle[None] * obs.gti.time_sum.to_value("s")



def stack_cubes(cubes) -> MapCubes:
    """Sum cubes of several observations (same geometry).

    Parameters
    ----------
    cubes : iterable of MapCubes or None
        The cubes (Nones are skipped).

    Returns
    -------
    MapCubes
        Summed counts, exposure and background (None if the first has none), summed live time
        and the observation ids of all.

    Raises
    ------
    `~gwidgets.errors.GwidgetsError`
        If there is no cube to stack.
    """
    cubes = [c for c in cubes if c is not None]
    if not cubes:
        raise GwidgetsError("Nothing to stack: no map cubes")
    first = cubes[0]
    counts = first.counts.copy()
    exposure = first.exposure.copy()
    bkg = first.background.copy() if first.background is not None else None
    ids = list(first.obs_ids)
    for c in cubes[1:]:
        counts.data += c.counts.data
        exposure.data += c.exposure.data
        if bkg is not None:
            bkg.data += c.background.data
        ids += c.obs_ids
    return MapCubes(counts, exposure, bkg, sum((c.livetime for c in cubes), 0 * u.s), ids)
