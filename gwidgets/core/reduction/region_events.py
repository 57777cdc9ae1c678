"""Which events fall in which ON/OFF regions: vectorised tests on the sphere.

Circles are tested with unit vectors (one matrix product for all regions and
events, in float64 since DL3 coordinates are float32); point regions use an
energy- and offset-dependent RAD_MAX cut. Used by
`~gwidgets.core.reduction.spectrum.SpectrumExtractor`.
"""
from __future__ import annotations

import itertools

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord

__all__ = ["radec_vectors", "unit_vectors", "center_vectors", "events_in_regions", "events_in_rad_max",
           "rad_max_overlap"]


def radec_vectors(ra, dec) -> np.ndarray:
    """Cartesian unit vectors from right ascension and declination in radians.

    Parameters
    ----------
    ra, dec : numpy.ndarray
        Angles in radians (same shape).

    Returns
    -------
    numpy.ndarray
        Shape ``ra.shape + (3,)``.

    Examples
    --------
    >>> radec_vectors(np.array([0.0]), np.array([np.pi / 2])).round(12).tolist()
    [[0.0, 0.0, 1.0]]
    """
    return np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=-1)


def unit_vectors(coords: SkyCoord) -> np.ndarray:
    """Cartesian unit vectors of sky positions (ICRS), in float64.

    Parameters
    ----------
    coords : `~astropy.coordinates.SkyCoord`
        Positions (any frame; event coordinates are float32 in DL3 files and
        cos(0.1°) needs double precision).

    Returns
    -------
    numpy.ndarray
        Shape ``coords.shape + (3,)``.

    Examples
    --------
    >>> unit_vectors(SkyCoord([0, 90], [0, 0], unit="deg")).round(12).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    c = coords.icrs
    return radec_vectors(np.asarray(c.ra.rad, dtype=np.float64), np.asarray(c.dec.rad, dtype=np.float64))


def center_vectors(regions) -> np.ndarray:
    """Unit vectors of the region centres (ICRS).

    A plain loop over the regions: building one SkyCoord from a list is ~10× slower.

    Parameters
    ----------
    regions : list of sky regions with a ``center``
        The regions.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(regions), 3)``.
    """
    lonlat = []
    for r in regions:
        c = r.center if r.center.frame.name == "icrs" else r.center.icrs
        lonlat.append((c.ra.rad, c.dec.rad))
    ra, dec = np.array(lonlat, dtype=np.float64).T
    return radec_vectors(ra, dec)


def events_in_regions(events, regions, off_centers=None) -> np.ndarray:
    """Membership of each event in each region; circles vectorised on the sphere.

    Parameters
    ----------
    events : `~gwidgets.core.data.events.EventList`
        The events (their ``radec``).
    regions : list of sky regions
        ON region first, then the OFF regions.
    off_centers : `~astropy.coordinates.SkyCoord`, optional
        The centres of ``regions[1:]`` as one array, if known (faster).

    Returns
    -------
    numpy.ndarray
        Boolean, shape ``(n_regions, n_events)``.
    """
    from regions import CircleSkyRegion

    from ..data.events import region_contains

    if not regions:
        return np.zeros((0, len(events)), dtype=bool)
    coords = events.radec
    if all(isinstance(r, CircleSkyRegion) for r in regions):
        ev = unit_vectors(coords)
        if off_centers is not None and len(off_centers) == len(regions) - 1:
            centers = np.concatenate([center_vectors(regions[:1]), unit_vectors(off_centers)])
        else:
            centers = center_vectors(regions)
        cos_r = np.cos(np.array([r.radius.to_value("rad") for r in regions]))
        return (centers @ ev.T) > cos_r[:, None]
    return np.array([region_contains(r, coords) for r in regions])


def events_in_rad_max(events, regions, rad_max, pointing) -> np.ndarray:
    """Events within RAD_MAX(E_reco, offset of the region centre) of each region centre.

    Parameters
    ----------
    events : `~gwidgets.core.data.events.EventList`
        The events (``radec`` and reconstructed ``energy``).
    regions : list of sky regions
        Point regions (only their centres are used).
    rad_max : `~gwidgets.core.irf.rad_max.RadMax2D`
        The RAD_MAX table, evaluated at the nearest node.
    pointing : `~astropy.coordinates.SkyCoord`
        The pointing position (the offset of each centre).

    Returns
    -------
    numpy.ndarray
        Boolean, shape ``(n_regions, n_events)``.
    """
    ev = unit_vectors(events.radec)
    out = np.zeros((len(regions), len(ev)), dtype=bool)
    for k, region in enumerate(regions):
        offset = region.center.separation(pointing)
        radius = rad_max.evaluate(method="nearest", energy=events.energy, offset=offset).to_value("rad")
        cos_sep = (center_vectors([region]) @ ev.T)[0]
        out[k] = cos_sep >= np.cos(np.ravel(radius))
    return out


def rad_max_overlap(regions, rad_max, offset, energy_axis) -> bool:
    """Whether two region centres are closer than 2 × RAD_MAX (gammapy's check).

    Only RAD_MAX bins that overlap the energy range of ``energy_axis`` count.

    Parameters
    ----------
    regions : list of sky regions
        The ON and OFF regions.
    rad_max : `~gwidgets.core.irf.rad_max.RadMax2D`
        The RAD_MAX table.
    offset : `~astropy.coordinates.Angle`
        Offset of the regions from the pointing.
    energy_axis : `~gwidgets.core.geom.MapAxis`
        The reconstructed-energy axis of the extraction.

    Returns
    -------
    bool
        True if some pair of regions overlaps at some used energy.
    """
    centers = [r.center for r in regions]
    sep = np.array([a.separation(b).deg for a, b in itertools.combinations(centers, 2)])
    edges = rad_max.axes["energy"].edges_in(u.TeV)
    centres = np.sqrt(edges[:-1] * edges[1:])
    radius = np.ravel(rad_max.evaluate(energy=centres * u.TeV, offset=offset).to_value("deg"))
    e_min, e_max = energy_axis.edges[0].to_value("TeV"), energy_axis.edges[-1].to_value("TeV")
    used = (edges[1:] >= e_min) & (edges[:-1] <= e_max)
    return bool(np.any(sep[None, :] < 2 * radius[used][:, None]))
