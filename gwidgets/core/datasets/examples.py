"""Small datasets reduced from the simulated example store, for examples and quick looks.

`example_spectrum_datasets` gives one ON/OFF spectrum per run (ON circle of 0.15° on the
store's bright source "bright", reflected OFF regions); `example_map_dataset` the runs binned
in a 2° × 2° cube around that source and stacked, and `example_exclusion_mask` a mask of
that cube's sky without the source (for ring and field-of-view backgrounds). The two datasets
are reduced from ``gw.example_store()`` (made on first use, a few seconds) with the settings
written out below, every call afresh: the result is the caller's to change (models, masks).

Examples
--------
>>> from gwidgets.core.datasets import example_map_dataset, example_spectrum_datasets
>>> example_spectrum_datasets([1001, 1002]).names
['1001', '1002']
>>> example_map_dataset().counts.geom.data_shape
(4, 50, 50)
"""
from __future__ import annotations

import astropy.units as u
from astropy.coordinates import SkyCoord

__all__ = ["EXAMPLE_SOURCE_POSITION", "example_spectrum_datasets", "example_map_dataset", "example_exclusion_mask"]

#: position of the example store's bright point source "bright" (the Crab's, ICRS)
EXAMPLE_SOURCE_POSITION = SkyCoord(83.63, 22.01, unit="deg")


def _example_observations(obs_ids):
    from ..simulate.example import example_store

    return example_store().get_observations(list(obs_ids))


def example_spectrum_datasets(obs_ids=(1001, 1002, 1003, 1004)):
    """ON/OFF spectra of runs of the simulated example store, ON circle on its bright source.

    Reduces the runs with `~gwidgets.core.reduction.make_spectrum_datasets` (default safe mask
    and containment correction): ON circle of 0.15° radius at `EXAMPLE_SOURCE_POSITION`,
    15 reco-energy bins from 0.3 to 100 TeV, 25 true-energy bins from 0.1 to 200 TeV.

    Parameters
    ----------
    obs_ids : sequence of int, optional
        Observation ids of the example store (1001 to 1020).

    Returns
    -------
    `~gwidgets.core.reduction.spectrum_maker.SpectrumDatasets`
        One `~gwidgets.core.datasets.SpectrumDatasetOnOff` per run, named by its id, without models.

    Examples
    --------
    >>> datasets = example_spectrum_datasets([1001, 1002])
    >>> datasets.names, datasets[0].counts.shape
    (['1001', '1002'], (15,))
    """
    from regions import CircleSkyRegion

    from ..geom import MapAxis
    from ..reduction import make_spectrum_datasets

    observations = _example_observations(obs_ids)
    on_region = CircleSkyRegion(EXAMPLE_SOURCE_POSITION, 0.15 * u.deg)
    energy_axis = MapAxis.from_energy_bounds(0.3 * u.TeV, 100 * u.TeV, 15)
    energy_axis_true = MapAxis.from_energy_bounds(0.1 * u.TeV, 200 * u.TeV, 25, name="energy_true")
    return make_spectrum_datasets(observations, on_region, energy_axis, energy_axis_true)


def example_map_dataset(obs_ids=(1001, 1002)):
    """Runs of the simulated example store binned around its bright source and stacked (a `MapDataset`).

    Reduces the runs with the `~gwidgets.core.reduction.MapDatasetMaker` of a
    `~gwidgets.core.reduction.map_settings.MapReductionSettings` (safe mask: offset below
    2.5°) on a 2° × 2° cube of 0.04° pixels centred on `EXAMPLE_SOURCE_POSITION`, with 4
    reco-energy bins from 1 to 10 TeV and 8 true-energy bins from 0.5 to 20 TeV, and stacks them.

    Parameters
    ----------
    obs_ids : sequence of int, optional
        The runs to stack (the example store has ids 1001 to 1020).

    Returns
    -------
    `~gwidgets.core.datasets.MapDataset`
        The stacked dataset, named ``"stacked"``, without models.

    Examples
    --------
    >>> example_map_dataset([1001, 1002])
    MapDataset(name='stacked', shape=(4, 50, 50), n_true=8, counts=..., psf=yes, edisp=yes, models=0)
    """
    from ..geom import MapAxis
    from ..reduction.map_settings import MapReductionSettings

    observations = _example_observations(obs_ids)
    settings = MapReductionSettings(energy_axis=MapAxis.from_energy_bounds(1 * u.TeV, 10 * u.TeV, 4),
                                    energy_axis_true=MapAxis.from_energy_bounds(0.5 * u.TeV, 20 * u.TeV, 8,
                                                                                name="energy_true"),
                                    binsz=0.04 * u.deg, width=2 * u.deg, offset_max=2.5 * u.deg)
    return settings.maker(EXAMPLE_SOURCE_POSITION).run_stacked(observations)


def example_exclusion_mask(geom, radius=0.3 * u.deg):
    """Exclusion mask of ``geom``'s sky without the example store's bright source (True = source-free).

    Parameters
    ----------
    geom : `~gwidgets.core.geom.WcsGeom`
        The geometry (its image is used), e.g. ``example_map_dataset().counts.geom``.
    radius : `~astropy.units.Quantity`, optional
        Radius of the excluded circle around `EXAMPLE_SOURCE_POSITION`.

    Returns
    -------
    `~gwidgets.core.geom.Map`
        Boolean image: False inside the circle, True outside.

    Examples
    --------
    >>> from gwidgets.core.geom import WcsGeom
    >>> mask = example_exclusion_mask(WcsGeom.create(EXAMPLE_SOURCE_POSITION, binsz=0.04, width=2 * u.deg))
    >>> mask.data.shape, int((~mask.data).sum())     # pixel centres within 0.3 deg: ~ pi (0.3 / 0.04)^2 = 177
    ((50, 50), 172)
    """
    from regions import CircleSkyRegion

    from ..geom import Map

    image = geom.to_image()
    return Map(image, image.region_mask([CircleSkyRegion(EXAMPLE_SOURCE_POSITION, radius)], inside=False))
