"""The computations behind the nodes of `~gwidgets.state.session.AnalysisSession`'s graph.

Each function is one derived node (see `~gwidgets.state.graph.Graph`): it gets
the values of the nodes it depends on and returns the node's value. They hold
no state and never touch traits, so they run in the background worker and
are cached by the graph.
"""
from __future__ import annotations

import astropy.units as u
from astropy.coordinates import SkyCoord

from ..core.geom import Map, WcsGeom
from ..errors import EmptySelectionError

__all__ = ["mean_pointing", "select_observations", "sky_geom", "exclusion_mask", "off_regions",
           "reduced_spectra", "reduction_records", "counts_map"]


def mean_pointing(observations) -> SkyCoord:
    """Mean pointing direction of observations (mean of the unit vectors, ICRS).

    Parameters
    ----------
    observations : iterable of `~gwidgets.core.data.observation.Observation`
        Observations with a ``pointing_radec``.

    Returns
    -------
    `~astropy.coordinates.SkyCoord`
        The mean direction.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> obs = [SimpleNamespace(pointing_radec=SkyCoord(ra, 0, unit="deg")) for ra in (359, 1)]
    >>> c = mean_pointing(obs)
    >>> round(float(c.ra.wrap_at("180d").deg), 9), round(float(c.dec.deg), 9)
    (0.0, 0.0)
    """
    pnt = SkyCoord([o.pointing_radec for o in observations])
    xyz = pnt.cartesian.xyz.value.mean(axis=1)
    mean = SkyCoord(*xyz, representation_type="cartesian", frame="icrs")
    return SkyCoord(mean.spherical.lon, mean.spherical.lat, frame="icrs")


def select_observations(store, selection, required_irf):
    """Node ``observations``: the selected observations (runs without the required IRFs skipped).

    Parameters
    ----------
    store : `~gwidgets.core.data.datastore.DataStore`
        The data store.
    selection : list of int
        The selected OBS_IDs.
    required_irf : list of str or str
        IRFs an observation must have.

    Returns
    -------
    `~gwidgets.core.data.observation.Observations`
        The observations.

    Raises
    ------
    `~gwidgets.errors.EmptySelectionError`
        If nothing is selected.
    """
    if not selection:
        raise EmptySelectionError("No observations selected")
    return store.get_observations(list(selection), required_irf=required_irf, skip_missing=True)


def sky_geom(observations, on_region, settings) -> WcsGeom:
    """Node ``sky_geom``: the sky map's geometry, centred on the ON region (else the mean pointing).

    Parameters
    ----------
    observations : `~gwidgets.core.data.observation.Observations`
        The selected observations.
    on_region : sky region or None
        The ON region.
    settings : dict
        ``binsz`` (deg), ``width`` (deg) and optionally ``frame``.

    Returns
    -------
    `~gwidgets.core.geom.WcsGeom`
        The geometry.
    """
    center = on_region.center if on_region is not None and hasattr(on_region, "center") else mean_pointing(observations)
    frame = settings.get("frame", "icrs")
    return WcsGeom.create(center.transform_to(frame), binsz=settings["binsz"], width=settings["width"] * u.deg,
                          frame=frame)


def exclusion_mask(geom, exclusion_regions):
    """Node ``exclusion_mask``: True where the sky is usable, None without exclusion regions.

    Parameters
    ----------
    geom : `~gwidgets.core.geom.WcsGeom`
        The sky geometry.
    exclusion_regions : list of sky regions
        The excluded regions.

    Returns
    -------
    `~gwidgets.core.geom.Map` or None
        The boolean mask.
    """
    if not exclusion_regions:
        return None
    return Map(geom, geom.region_mask(list(exclusion_regions), inside=False))


def off_regions(observations, on_region, mask, settings) -> dict:
    """Node ``off_regions``: obs_id -> OFF regions for the current ON region (empty dict without one).

    Parameters
    ----------
    observations : `~gwidgets.core.data.observation.Observations`
        The selected observations.
    on_region : sky region or None
        The ON region.
    mask : `~gwidgets.core.geom.Map` or None
        The exclusion mask (True = usable).
    settings : `~gwidgets.core.reduction.settings.SpectrumReductionSettings`
        Its ``finder()`` places the OFF regions.

    Returns
    -------
    dict
        `~gwidgets.core.reduction.reflected.ReflectedRegionsResult` by obs_id.
    """
    if on_region is None:
        return {}
    finder = settings.finder()
    return {o.obs_id: finder.run(on_region, o.pointing_radec, exclusion_mask=mask) for o in observations}


def reduced_spectra(observations, on_region, mask, settings, token=None):
    """Node ``reduced``: per-observation ON/OFF datasets (safe mask set) from the one 1D pipeline.

    The pipeline is `~gwidgets.core.reduction.spectrum_maker.reduce_spectra`, as in the Analysis and the script.

    Parameters
    ----------
    observations : `~gwidgets.core.data.observation.Observations`
        The selected observations (kept cached for the sky map: their events are not released).
    on_region : sky region or None
        The ON region; without one the result is empty.
    mask : `~gwidgets.core.geom.Map` or None
        The exclusion mask (True = usable).
    settings : `~gwidgets.core.reduction.settings.SpectrumReductionSettings`
        The 1D reduction settings.
    token : `~gwidgets.core.progress.CancelToken`, optional
        Cancels the reduction.

    Returns
    -------
    `~gwidgets.core.reduction.spectrum_maker.SpectrumDatasets`
        The datasets and the record of each observation.
    """
    from ..core.reduction.spectrum_maker import SpectrumDatasets, reduce_spectra

    if on_region is None:
        return SpectrumDatasets()
    return reduce_spectra(observations, on_region, settings, exclusion_mask=mask, token=token, release_memory=False)


def reduction_records(reduced) -> list:
    """Node ``spectra``: what happened to each observation (obs_id, ok, n_on, containment, notes).

    Parameters
    ----------
    reduced : `~gwidgets.core.reduction.spectrum_maker.SpectrumDatasets`
        The output of `reduced_spectra`.

    Returns
    -------
    list of `~gwidgets.core.reduction.spectrum_maker.ObservationRecord`
        One record per observation (empty if there are none).
    """
    return list(getattr(reduced, "records", []))


def counts_map(observations, geom, settings, token=None) -> Map:
    """Node ``counts_map``: the events of the observations in the energy range, binned on ``geom``.

    Parameters
    ----------
    observations : `~gwidgets.core.data.observation.Observations`
        The selected observations.
    geom : `~gwidgets.core.geom.WcsGeom`
        The sky geometry.
    settings : dict
        ``e_min`` and ``e_max`` in TeV.
    token : `~gwidgets.core.progress.CancelToken`, optional
        Checked before each observation.

    Returns
    -------
    `~gwidgets.core.geom.Map`
        The counts.
    """
    counts = Map.from_geom(geom)
    e_min, e_max = settings["e_min"] * u.TeV, settings["e_max"] * u.TeV
    for obs in observations:
        if token is not None:
            token.raise_if_cancelled(f"while filling OBS_ID {obs.obs_id}")
        counts.fill_events(obs.events.select_energy(e_min, e_max))
    return counts
