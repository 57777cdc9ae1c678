"""gammapy's default ("gadf") spectrum dataset files: one FITS file of region maps.

gammapy 2.1's ``SpectrumDataset(OnOff).write(filename)`` (``format="gadf"``, the
default) writes each array of the dataset as a *region map*: an HDU ``<NAME>``
with a ``DATA`` column (one row per bin of the last axis) and an HDU
``<NAME>_BANDS`` giving the axes (``AXCOLSn = 'E_MIN,E_MAX'`` for the reco
energy, ``'ENERGY_TRUE_MIN,ENERGY_TRUE_MAX'`` for the true energy); optional
``<NAME>_REGION`` HDUs hold the ON region (ignored here).  The arrays are
COUNTS, EXPOSURE, EDISP (a kernel, true × reco), MASK_SAFE, MASK_FIT,
BACKGROUND (``SpectrumDataset``) and COUNTS_OFF, ACCEPTANCE, ACCEPTANCE_OFF
(``SpectrumDatasetOnOff``); the primary header's ``NAME`` is the dataset name.

gammapy does not store the livetime in this format: a file it wrote reads with
``livetime = NaN``.  Files written here carry it as ``LIVETIME`` in the
EXPOSURE header (gammapy ignores the keyword).

`read_gadf_spectrum` returns the same `~gwidgets.core.io.ogip.OGIPSpectrum`
container as the OGIP reader; `write_gadf_spectrum` writes one that gammapy reads.

Examples
--------
A spectrum of a simulated run, written in this format and read back:

>>> from gwidgets.core.datasets import example_spectrum_datasets
>>> datasets = example_spectrum_datasets([1001, 1002])
>>> path = datasets[0].write("1001.fits", format="gadf")
>>> spec = read_gadf_spectrum(path)
>>> spec.name, bool(spec.counts.sum() == datasets[0].counts.sum()), spec.energy_edges[:2]
('1001', True, array([0.3       , 0.44188898]))
"""
from __future__ import annotations

from pathlib import Path

import astropy.units as u
import numpy as np

from ...errors import MissingHDUError, UnitError, UnsupportedFormatError
from ..geom.axes import MapAxis
from .fits import FitsFile, parse_unit
from .ogip import OGIPError, OGIPSpectrum

__all__ = ["is_gadf_spectrum", "read_gadf_spectrum", "write_gadf_spectrum"]

# array of the container -> (HDU name, canonical unit or None for dimensionless/bool)
_ARRAYS = {
    "counts": ("COUNTS", None), "exposure": ("EXPOSURE", "cm2 s"), "edisp": ("EDISP", None),
    "mask_safe": ("MASK_SAFE", None), "mask_fit": ("MASK_FIT", None), "background": ("BACKGROUND", None),
    "counts_off": ("COUNTS_OFF", None), "acceptance": ("ACCEPTANCE", None),
    "acceptance_off": ("ACCEPTANCE_OFF", None),
}


def is_gadf_spectrum(ff: FitsFile) -> bool:
    """Whether ``ff`` is a gadf spectrum dataset: a COUNTS *table* HDU with its COUNTS_BANDS.

    Parameters
    ----------
    ff : `~gwidgets.core.io.fits.FitsFile`
        An open FITS file.

    Returns
    -------
    bool
        True if the file has a binary-table COUNTS HDU and a COUNTS_BANDS HDU.
    """
    counts = ff.get("COUNTS")
    return counts is not None and hasattr(counts, "columns") and "COUNTS_BANDS" in ff


def _axes(ff: FitsFile, name: str) -> list[MapAxis]:
    hdu = ff[name]
    bands_name = f"{name}_BANDS"
    if bands_name not in ff:
        raise MissingHDUError(bands_name, ff.filename, ff.names)
    bands = ff[bands_name].to_table()
    axes, i = [], 1
    while f"AXCOLS{i}" in hdu.header:
        cols = [c.strip() for c in str(hdu.header[f"AXCOLS{i}"]).split(",")]
        interp = str(hdu.header.get(f"INTERP{i}", "log")).strip()
        for col in cols:
            if col not in bands.colnames:
                raise OGIPError(f"File '{ff.filename}': HDU '{bands_name}' has no column {col} "
                                f"(named by AXCOLS{i} of HDU '{name}')", ff.filename)
        axes.append(MapAxis.from_bands_columns(bands, cols, interp))
        i += 1
    if not axes:
        raise OGIPError(f"File '{ff.filename}': HDU '{name}' has no AXCOLS1 keyword (no axes)", ff.filename)
    return axes


def _region_map(ff: FitsFile, name: str, unit=None):
    """(data with shape = reversed axes, axes) of region map HDU ``name``."""
    hdu = ff[name]
    axes = _axes(ff, name)
    shape = tuple(a.nbin for a in reversed(axes))
    data = np.asarray(hdu.column("DATA"))
    if data.size != int(np.prod(shape)):
        raise UnsupportedFormatError(
            f"File '{ff.filename}': HDU '{name}' holds {data.size} values but its axes "
            f"({', '.join(f'{a.name}: {a.nbin}' for a in axes)}) give {int(np.prod(shape))}: "
            "only spectra (one spatial bin) are supported", ff.filename)
    data = data.reshape(shape)
    if unit is not None:
        text = hdu.unit("DATA")
        try:
            data = data * parse_unit(text or str(unit)).to(unit)
        except (ValueError, u.UnitConversionError):
            raise UnitError("DATA", text or "(none)", unit, name, ff.filename) from None
    return data, axes


def _edges(axis: MapAxis, ff, name) -> np.ndarray:
    try:
        return axis.edges.to_value(u.TeV)
    except u.UnitConversionError:
        raise UnitError(f"axis {axis.name}", str(axis.unit), "TeV", f"{name}_BANDS", ff.filename) from None


def read_gadf_spectrum(path, name=None) -> OGIPSpectrum:
    """Read a gammapy "gadf" spectrum dataset file (see module doc).

    Parameters
    ----------
    path : str or Path
        The file.
    name : str, optional
        Name of the spectrum; default the primary header's ``NAME``, else the
        file name up to its first dot.

    Returns
    -------
    `~gwidgets.core.io.ogip.OGIPSpectrum`
        Energies in TeV, exposure in cm² s, livetime in s (NaN when the file has
        no ``LIVETIME``, as in files written by gammapy).

    Raises
    ------
    `~gwidgets.errors.MissingHDUError`
        If there is no COUNTS, COUNTS_BANDS or EXPOSURE HDU.
    `~gwidgets.errors.UnsupportedFormatError`
        If an array is a map (several spatial bins) or EDISP is not an energy kernel.
    `~gwidgets.errors.UnitError`
        If EXPOSURE is not in area × time units or an energy axis not in energy units.
    `~gwidgets.core.io.ogip.OGIPError`
        If an HDU lacks its axes (``AXCOLSn``) or a column they name.
    """
    ff = FitsFile(path)
    if not is_gadf_spectrum(ff):
        raise MissingHDUError("COUNTS_BANDS" if "COUNTS" in ff else "COUNTS", ff.filename, ff.names)
    counts, (axis,) = _region_map(ff, "COUNTS")
    edges = _edges(axis, ff, "COUNTS")
    exposure, (axis_true,) = _region_map(ff, "EXPOSURE", unit="cm2 s")
    edges_true = _edges(axis_true, ff, "EXPOSURE")
    out = {"counts": counts.astype(float), "exposure": exposure.astype(float)}
    if "EDISP" in ff:
        edisp, axes = _region_map(ff, "EDISP")
        if [a.name for a in axes] != ["energy", "energy_true"]:
            raise UnsupportedFormatError(
                f"File '{ff.filename}': EDISP has axes {[a.name for a in axes]}; only an energy kernel "
                "(energy, energy_true) is supported for a spectrum", ff.filename)
        out["edisp"] = edisp.astype(float)  # (n_true, n_reco)
    for key in ("mask_safe", "mask_fit", "background", "counts_off", "acceptance", "acceptance_off"):
        hdu_name, unit = _ARRAYS[key]
        if hdu_name in ff:
            out[key] = _region_map(ff, hdu_name, unit)[0]
    livetime = ff["EXPOSURE"].header.get("LIVETIME")
    primary = ff[0].header
    meta = {k: v for k, v in primary.items() if k not in ("SIMPLE", "BITPIX", "NAXIS", "EXTEND")}
    mask_safe = out.get("mask_safe")
    return OGIPSpectrum(
        name=str(name if name is not None else primary.get("NAME") or Path(path).name.split(".")[0]),
        counts=out["counts"], energy_edges=edges, energy_edges_true=edges_true, exposure=out["exposure"],
        livetime=float(livetime) if livetime is not None else np.nan,
        mask_safe=np.ones(len(edges) - 1, bool) if mask_safe is None else np.asarray(mask_safe, bool),
        acceptance=out.get("acceptance", np.ones(len(edges) - 1)), edisp=out.get("edisp"),
        counts_off=out.get("counts_off"), acceptance_off=out.get("acceptance_off"),
        background=out.get("background"),
        mask_fit=None if out.get("mask_fit") is None else np.asarray(out["mask_fit"], bool),
        meta=meta, filenames={"gadf": str(path)},
    )


# --------------------------------------------------------------------------- writing
def _map_hdus(fits, hdu_name, data, axes, unit=""):
    """The ``<NAME>`` and ``<NAME>_BANDS`` HDUs of a region map (layout as gammapy writes it)."""
    from astropy.table import Table

    shape = tuple(a.nbin for a in reversed(axes))
    data = np.asarray(data).reshape(shape + (1, 1))
    cell = data.shape[1:]
    col = fits.Column("DATA", format=f"{int(np.prod(cell))}{'L' if data.dtype == bool else 'D'}",
                      unit=unit or None, dim="(" + ",".join(str(n) for n in reversed(cell)) + ")",
                      array=data if data.dtype == bool else data.astype(float))
    hdu = fits.BinTableHDU.from_columns([fits.Column("CHANNEL", "I", array=np.arange(len(data), dtype=np.int16)),
                                         col], name=hdu_name)
    bands = Table()
    nbins = tuple(a.nbin for a in axes)
    idx = np.unravel_index(np.arange(int(np.prod(nbins))), nbins, order="F")
    bands["CHANNEL"] = np.arange(int(np.prod(nbins)), dtype=np.int64)
    for axis, ii in zip(axes, idx):
        axis.to_bands_columns(bands, ii)
    bands_hdu = fits.table_to_hdu(bands)
    bands_hdu.name = f"{hdu_name}_BANDS"
    for i, axis in enumerate(axes, start=1):
        lo, hi = _bands_names(axis)
        for h in (hdu.header, bands_hdu.header):
            h[f"AXCOLS{i}"] = f"{lo},{hi}"
            h[f"INTERP{i}"] = axis.interp
    return [hdu, bands_hdu]


def _bands_names(axis: MapAxis):
    return ("E_MIN", "E_MAX") if axis.name == "energy" else (f"{axis.name.upper()}_MIN", f"{axis.name.upper()}_MAX")


def write_gadf_spectrum(spec: OGIPSpectrum, path, overwrite: bool = False) -> Path:
    """Write ``spec`` as one gadf spectrum dataset file that gammapy 2.1's ``SpectrumDatasetOnOff.read`` reads.

    An OFF spectrum (``counts_off``) makes a ``SpectrumDatasetOnOff`` file, else a
    ``SpectrumDataset`` one (with BACKGROUND when ``spec.background`` is set).
    A finite livetime is stored as ``LIVETIME`` (s) in the EXPOSURE header.

    Parameters
    ----------
    spec : `~gwidgets.core.io.ogip.OGIPSpectrum`
        The spectrum to write.
    path : str or Path
        The output file; missing parent folders are created.
    overwrite : bool, optional
        Replace an existing file.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    `~gwidgets.core.io.ogip.OGIPError`
        If the file exists and ``overwrite`` is False.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from gwidgets.core.io.ogip import OGIPSpectrum
    >>> spec = OGIPSpectrum(name="demo", counts=np.array([5., 3.]), energy_edges=np.array([1., 2., 4.]),
    ...                     energy_edges_true=np.array([1., 2., 4.]), exposure=np.array([1e9, 2e9]),
    ...                     livetime=1800., mask_safe=np.array([True, True]), acceptance=np.ones(2))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     back = read_gadf_spectrum(write_gadf_spectrum(spec, f"{tmp}/demo.fits"))
    >>> back.name, back.counts.tolist(), back.livetime
    ('demo', [5.0, 3.0], 1800.0)
    """
    from astropy.io import fits

    path = Path(path)
    if path.exists() and not overwrite:
        raise OGIPError(f"File exists already: '{path}' (use overwrite=True)", path)
    reco = MapAxis(spec.energy_edges, name="energy", unit="TeV")
    true = MapAxis(spec.energy_edges_true, name="energy_true", unit="TeV")
    primary = fits.PrimaryHDU()
    primary.header["NAME"] = str(spec.name)
    hdus = [primary]
    hdus += _map_hdus(fits, "COUNTS", spec.counts, [reco])
    hdus += _map_hdus(fits, "EXPOSURE", spec.exposure, [true], unit="cm2 s")
    if np.isfinite(spec.livetime):
        hdus[-2].header["LIVETIME"] = (float(spec.livetime), "[s] gwidgets: livetime of the dataset")
    if spec.edisp is not None:
        hdus += _map_hdus(fits, "EDISP", spec.edisp, [reco, true])
    hdus += _map_hdus(fits, "MASK_SAFE", np.asarray(spec.mask_safe, bool), [reco])
    if spec.mask_fit is not None:
        hdus += _map_hdus(fits, "MASK_FIT", np.asarray(spec.mask_fit, bool), [reco])
    n = len(spec.energy_edges) - 1
    if spec.counts_off is not None:
        hdus += _map_hdus(fits, "COUNTS_OFF", spec.counts_off, [reco])
        hdus += _map_hdus(fits, "ACCEPTANCE", np.broadcast_to(spec.acceptance, (n,)), [reco])
        hdus += _map_hdus(fits, "ACCEPTANCE_OFF", np.broadcast_to(spec.acceptance_off, (n,)), [reco])
    elif spec.background is not None:
        hdus += _map_hdus(fits, "BACKGROUND", spec.background, [reco])
    path.parent.mkdir(parents=True, exist_ok=True)
    fits.HDUList(hdus).writeto(path, overwrite=overwrite)
    return path
