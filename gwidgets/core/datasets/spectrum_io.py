"""Reading and writing spectrum datasets: the `SpectrumDatasetIO` mixin.

`~gwidgets.core.datasets.spectrum.SpectrumDataset` (and, overriding some of
them, `~gwidgets.core.datasets.onoff.SpectrumDatasetOnOff`) get ``from_ogip``,
``read``, ``to_ogip`` and ``write`` from here. Every file format goes through
the `~gwidgets.core.io.ogip.OGIPSpectrum` container and the format registries
of `gwidgets.core.io.spectrum_formats`.
"""
from __future__ import annotations

import numpy as np

from ..io.ogip import OGIPSpectrum
from ..io.spectrum_formats import read_spectrum, write_spectrum
from .base import DatasetError, diagonal_response

__all__ = ["SpectrumDatasetIO"]


class SpectrumDatasetIO:
    """Mixin: conversion to and from `~gwidgets.core.io.ogip.OGIPSpectrum` and spectrum files.

    The class using it takes the `~gwidgets.core.datasets.spectrum.SpectrumDataset`
    constructor arguments and has its ``energy_edges``, ``energy_edges_true``,
    ``counts``, ``exposure``, ``edisp``, ``background``, masks, ``livetime`` and ``name``.
    """

    @classmethod
    def from_ogip(cls, spec, name=None):
        """From an `~gwidgets.core.io.ogip.OGIPSpectrum` (the container of every spectrum reader).

        Parameters
        ----------
        spec : `~gwidgets.core.io.ogip.OGIPSpectrum`
            The spectrum read.
        name : str, optional
            Dataset name (default: the spectrum's).

        Returns
        -------
        SpectrumDataset
            The dataset; ``meta["filenames"]`` lists the files it came from.
        """
        return cls(counts=spec.counts, exposure=spec.exposure, energy_edges=spec.energy_edges,
                   energy_edges_true=spec.energy_edges_true, edisp=spec.edisp, background=spec.background,
                   mask_safe=spec.mask_safe, mask_fit=spec.mask_fit,
                   livetime=spec.livetime if np.isfinite(spec.livetime) else None,
                   name=name if name is not None else spec.name, meta=dict(spec.meta, filenames=spec.filenames))

    @classmethod
    def read(cls, filename, name=None, format=None):
        """Read a spectrum file: gammapy's ``"gadf"`` dataset file or OGIP (``format=None``: recognised).

        Parameters
        ----------
        filename : str or `~pathlib.Path`
            The spectrum file.
        name : str, optional
            Dataset name (default: the one in the file).
        format : {"ogip", "gadf"}, optional
            File format; None recognises it.

        Returns
        -------
        SpectrumDataset
            The dataset read.

        Raises
        ------
        `~gwidgets.errors.UnsupportedFormatError`
            If the file is a BKG, ARF or RMF file, or no spectrum at all.
        `~gwidgets.errors.DataFileError`
            For an unknown format.

        Examples
        --------
        >>> import numpy as np
        >>> from gwidgets.core.io.gadf_spectrum import write_gadf_spectrum
        >>> from gwidgets.core.io.ogip import OGIPSpectrum
        >>> spec = OGIPSpectrum(name="demo", counts=np.array([5., 3.]), energy_edges=np.array([1., 2., 4.]),
        ...                     energy_edges_true=np.array([1., 2., 4.]), exposure=np.array([1e9, 2e9]),
        ...                     livetime=1800., mask_safe=np.array([True, True]), acceptance=np.ones(2))
        >>> path = write_gadf_spectrum(spec, "demo.fits")          # the format of gammapy's SpectrumDataset.write
        >>> from gwidgets.core.datasets import SpectrumDataset
        >>> ds = SpectrumDataset.read("demo.fits")
        >>> ds.name, ds.counts.tolist()
        ('demo', [5.0, 3.0])
        """
        return cls.from_ogip(read_spectrum(filename, name=name, format=format), name=name)

    def to_ogip(self) -> OGIPSpectrum:
        """The dataset as an `~gwidgets.core.io.ogip.OGIPSpectrum` (what `write` writes).

        Returns
        -------
        `~gwidgets.core.io.ogip.OGIPSpectrum`
            Counts, exposure (cm² s), edisp (the diagonal response when None), background and masks.
        """
        return OGIPSpectrum(name=self.name, counts=self.counts, energy_edges=self.energy_edges,
                            energy_edges_true=self.energy_edges_true, exposure=self.exposure,
                            livetime=self.livetime, mask_safe=np.broadcast_to(self.mask_safe, self.counts.shape),
                            acceptance=np.ones(len(self.counts)),
                            edisp=self.edisp if self.edisp is not None else diagonal_response(
                                self.energy_edges_true, self.energy_edges),
                            background=self.background, mask_fit=self.mask_fit)

    def write(self, filename, overwrite: bool = False, format: str = "gadf"):
        """Write the dataset in gammapy's ``"gadf"`` format (OGIP cannot hold a known background).

        Parameters
        ----------
        filename : str or `~pathlib.Path`
            Output file.
        overwrite : bool, optional
            Whether an existing file is replaced.
        format : {"gadf"}, optional
            File format (only ``"gadf"``).

        Returns
        -------
        `~pathlib.Path`
            The written file.

        Raises
        ------
        DatasetError
            For a ``format`` other than ``"gadf"``.
        """
        if format != "gadf":
            raise DatasetError(f"SpectrumDataset '{self.name}' can only be written as 'gadf' (got '{format}'): "
                               "OGIP files hold OFF counts, not a known background")
        return write_spectrum(self.to_ogip(), filename, format=format, overwrite=overwrite)
