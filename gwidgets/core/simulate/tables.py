"""Tabulate the analytic instrument (:mod:`.instrument`) into GADF 0.3 IRF HDUs.

Each IRF is one ``BinTableHDU`` with a single row of array cells, laid out as
in the H.E.S.S. DL3 DR1 files (``ENERG_LO/HI``, ``THETA_LO/HI``, … then the
data column with its ``TDIM``) and the ``HDUCLAS1..4`` keywords. Values are
the analytic functions at the bin centres (where gammapy and gwidgets put the
interpolation nodes), rounded to 12 significant bits (relative precision
1.2e-4) so the gzipped files stay small.

:func:`irf_hdus` returns the HDUs; :func:`read_tables` reads them back into
`IRFTable` objects that evaluate them as gammapy does, so the event sampling
uses exactly the values written to the files (and does not depend on the
gwidgets IRF layer).

Examples
--------
>>> hdus = irf_hdus()
>>> [h.name for h in hdus]
['AEFF', 'EDISP', 'PSF', 'BKG']
>>> irfs = read_tables(hdus)
>>> sorted(irfs)
['aeff', 'bkg', 'edisp', 'psf']
>>> round(float(irfs["aeff"].evaluate(energy_true=1.0, offset=0.5)) / 1e5, 3)
0.997
"""
from __future__ import annotations

import io

import numpy as np
from astropy.io import fits

from . import instrument

__all__ = ["AXES", "irf_hdus", "read_tables", "IRFTable", "quantize", "axis_centers", "GADF_KEYWORDS", "LO_THRES",
           "HI_THRES"]

#: common GADF keywords of every HDU written by the simulation
GADF_KEYWORDS = {
    "HDUCLASS": "GADF",
    "HDUDOC": "https://github.com/open-gamma-ray-astro/gamma-astro-data-formats",
    "HDUVERS": "0.3",
    "TELESCOP": "GWSIM",
    "INSTRUME": "gwidgets analytic",
    "ORIGIN": "gwidgets simulation",
}

#: bin edges of the IRF tables (energies in TeV, angles in deg)
AXES = {
    "energy_true": np.logspace(-1.5, 2.5, 33),  # 8 bins per decade, 0.03-316 TeV (EDISP, PSF)
    "energy_true_aeff": np.logspace(-1.5, 2.5, 97),  # 24 per decade: the steep rise at threshold
    "energy": np.logspace(-1.25, 2.25, 43),  # 12 per decade, 0.056-178 TeV: 0.1-100 TeV within the bin centres
    "offset_aeff": np.linspace(0.0, 4.0, 17),
    "offset": np.linspace(0.0, 4.0, 5),
    "migra": np.linspace(0.2, 3.0, 141),
    # fine near the core (linear extrapolation to r = 0 from the first two centres), coarse in the tail
    "rad": np.concatenate([np.linspace(0.0, 0.04, 17), np.linspace(0.05, 0.3, 26), np.linspace(0.35, 1.0, 14)]),
    "fov": np.linspace(-4.0, 4.0, 41),
}

#: safe energy range written to the AEFF header (TeV): the threshold at 0.5° offset (the wobble offset)
LO_THRES = float(np.round(instrument.energy_threshold(0.5), 3))
HI_THRES = 100.0

_BITS = 12


def quantize(values, bits: int = _BITS) -> np.ndarray:
    """Round to float32 with ``bits`` significant mantissa bits (trailing bits zero: compresses well).

    Parameters
    ----------
    values : array-like
        Values.
    bits : int, optional
        Mantissa bits kept (of 23), rounded to nearest.

    Returns
    -------
    numpy.ndarray
        float32 values.
    """
    a = np.ascontiguousarray(values, dtype=np.float32)
    i = a.view(np.uint32).copy()
    drop = 23 - bits
    i = (i + np.uint32(1 << (drop - 1))) & np.uint32(~((1 << drop) - 1) & 0xFFFFFFFF)
    return i.view(np.float32)


def axis_centers(edges, log=False) -> np.ndarray:
    """Bin centres as gammapy/gwidgets place the interpolation nodes (geometric for energy).

    Parameters
    ----------
    edges : array-like
        Bin edges.
    log : bool, optional
        Geometric centres (energy axes).

    Returns
    -------
    numpy.ndarray
        One centre per bin.

    Examples
    --------
    >>> axis_centers([1.0, 100.0], log=True).tolist(), axis_centers([0.0, 2.0]).tolist()
    ([10.0], [1.0])
    """
    e = np.asarray(edges, dtype=float)
    return np.sqrt(e[1:] * e[:-1]) if log else 0.5 * (e[1:] + e[:-1])


def _column(name, values, unit=None, dim=None):
    values = np.asarray(values, dtype=np.float32)
    return fits.Column(name=name, format=f"{values.size}E", unit=unit, dim=dim, array=values.reshape(1, -1))


def _axis_columns(stem, edges, unit):
    edges = np.asarray(edges, dtype=float)
    return [_column(f"{stem}_LO", edges[:-1], unit), _column(f"{stem}_HI", edges[1:], unit)]


def _table_hdu(name, axes, data, unit, hduclas2, hduclas4, extra=None):
    """One GADF response HDU: ``axes`` is a list of (stem, edges, unit) in FITS order (fastest first)."""
    cols = []
    for stem, edges, ax_unit in axes:
        cols += _axis_columns(stem, edges, ax_unit)
    data = np.asarray(data, dtype=np.float32)  # numpy order = reversed FITS order
    dim = "(" + ",".join(str(n) for n in data.shape[::-1]) + ")"
    cols.append(_column(name_of_data(hduclas4), data, unit, dim))
    hdu = fits.BinTableHDU.from_columns(cols, name=name)
    h = hdu.header
    h.update(GADF_KEYWORDS)
    h["HDUCLAS1"] = "RESPONSE"
    h["HDUCLAS2"] = hduclas2
    h["HDUCLAS3"] = "FULL-ENCLOSURE"
    h["HDUCLAS4"] = hduclas4
    h[f"CREF{len(cols)}"] = "(" + ",".join(f"{s}_LO:{s}_HI" for s, _, _ in axes) + ")"
    for key, value in (extra or {}).items():
        h[key] = value
    return hdu


def name_of_data(hduclas4):
    """GADF data column of an IRF class.

    Parameters
    ----------
    hduclas4 : {"AEFF_2D", "EDISP_2D", "PSF_TABLE", "BKG_3D"}
        The class.

    Returns
    -------
    str
        ``EFFAREA``, ``MATRIX``, ``RPSF`` or ``BKG``.
    """
    return {"AEFF_2D": "EFFAREA", "EDISP_2D": "MATRIX", "PSF_TABLE": "RPSF", "BKG_3D": "BKG"}[hduclas4]


def irf_hdus() -> list[fits.BinTableHDU]:
    """AEFF (aeff_2d), EDISP (edisp_2d), PSF (psf_table) and BKG (bkg_3d) HDUs of the analytic instrument.

    Values are rounded to 12 mantissa bits (`quantize`).

    Returns
    -------
    list of astropy.io.fits.BinTableHDU
        The four HDUs.
    """
    et = AXES["energy_true"]
    ec = axis_centers(et, log=True)
    et_a = AXES["energy_true_aeff"]
    ec_a = axis_centers(et_a, log=True)
    off_a = AXES["offset_aeff"]
    off = AXES["offset"]
    oc_a, oc = axis_centers(off_a), axis_centers(off)
    mc = axis_centers(AXES["migra"])
    rc = axis_centers(AXES["rad"])
    er = AXES["energy"]
    erc = axis_centers(er, log=True)
    fov = AXES["fov"]
    fc = axis_centers(fov)

    aeff = instrument.aeff(ec_a[None, :], oc_a[:, None])  # (theta, E)
    h_aeff = _table_hdu("AEFF", [("ENERG", et_a, "TeV"), ("THETA", off_a, "deg")], quantize(aeff), "m2",
                        "EFF_AREA", "AEFF_2D", {"LO_THRES": (LO_THRES, "[TeV]"), "HI_THRES": (HI_THRES, "[TeV]")})

    pdf = instrument.edisp_pdf(mc[None, :, None], ec[None, None, :], oc[:, None, None])  # (theta, migra, E)
    pdf = np.where(pdf < 1e-6, 0.0, pdf)  # far tails: zero (as small as gammapy's kernel threshold)
    h_edisp = _table_hdu("EDISP", [("ENERG", et, "TeV"), ("MIGRA", AXES["migra"], None), ("THETA", off, "deg")],
                         quantize(pdf), None, "EDISP", "EDISP_2D")

    rpsf = instrument.psf_profile(rc[:, None, None], ec[None, None, :], oc[None, :, None])  # (rad, theta, E)
    h_psf = _table_hdu("PSF", [("ENERG", et, "TeV"), ("THETA", off, "deg"), ("RAD", AXES["rad"], "deg")],
                       quantize(rpsf), "sr-1", "RPSF", "PSF_TABLE")

    bkg = instrument.bkg_rate(erc[None, None, :], fc[None, :, None], fc[:, None, None])  # (lat, lon, E)
    h_bkg = _table_hdu("BKG", [("ENERG", er, "TeV"), ("DETX", fov, "deg"), ("DETY", fov, "deg")],
                       quantize(bkg), "s-1 MeV-1 sr-1", "BKG", "BKG_3D", {"FOVALIGN": "RADEC"})
    return [h_aeff, h_edisp, h_psf, h_bkg]


class IRFTable:
    """A tabulated IRF read back from its HDU, evaluated with gammapy's interpolation scheme.

    Multilinear interpolation on the bin centres (log energy), linear
    extrapolation up to the axis edges, values clipped at 0 and 0 outside the
    edges; ``log_values`` interpolates the logarithm (as gammapy does for BKG).
    ``data`` is ordered as ``names`` (the FITS order reversed is undone).

    Parameters
    ----------
    hdu : astropy.io.fits.BinTableHDU
        The IRF HDU.
    stems : sequence of str
        Column stems of the axes (``ENERG``, ``THETA``, ...), in FITS order.
    names : sequence of str
        Axis names, in the same order.
    log_values : bool, optional
        Interpolate the logarithm of the values.
    """

    def __init__(self, hdu, stems, names, log_values=False):
        self.names = tuple(names)
        self.edges, self.nodes = {}, {}
        for stem, name in zip(stems, names):
            lo = np.asarray(hdu.data[f"{stem}_LO"][0], dtype=float)
            hi = np.asarray(hdu.data[f"{stem}_HI"][0], dtype=float)
            edges = np.append(lo, hi[-1])
            self.edges[name] = edges
            centers = axis_centers(edges, log=name.startswith("energy"))
            self.nodes[name] = np.log(centers) if name.startswith("energy") else centers
        column = hdu.columns.names[2 * len(stems)]
        raw = np.asarray(hdu.data[column][0])  # numpy order = FITS order reversed
        self.data = np.ascontiguousarray(raw.T).astype(float)  # file values (float32) as float64
        self.log_values = log_values
        self._values = np.log(np.clip(self.data, np.finfo(np.float32).tiny, None)) if log_values else self.data

    def center(self, name):
        """Bin centres of axis ``name`` (TeV for energies, deg for angles, migra).

        Parameters
        ----------
        name : str
            Axis name.

        Returns
        -------
        numpy.ndarray
            The centres.
        """
        n = self.nodes[name]
        return np.exp(n) if name.startswith("energy") else n

    def evaluate(self, **coords) -> np.ndarray:
        """Values at broadcast coordinates (energies in TeV, angles in deg).

        Parameters
        ----------
        **coords : array-like
            One coordinate per axis name.

        Returns
        -------
        numpy.ndarray
            Values in the unit of the table.
        """
        arrays = np.broadcast_arrays(*[np.asarray(coords[n], dtype=float) for n in self.names])
        outside = np.zeros(arrays[0].shape, dtype=bool)
        index = []
        for name, x in zip(self.names, arrays):
            edges, nodes = self.edges[name], self.nodes[name]
            outside |= (x < edges[0]) | (x > edges[-1])
            t = np.log(x) if name.startswith("energy") else x
            k = np.clip(np.searchsorted(nodes, t) - 1, 0, len(nodes) - 2)
            w = (t - nodes[k]) / (nodes[k + 1] - nodes[k])
            index.append((k, w))
        out = 0.0
        for corner in np.ndindex(*(2,) * len(self.names)):
            weight = 1.0
            idx = []
            for (k, w), c in zip(index, corner):
                weight = weight * (w if c else 1 - w)
                idx.append(k + c)
            out = out + weight * self._values[tuple(idx)]
        if self.log_values:
            out = np.exp(out)
        return np.where(outside, 0.0, np.clip(out, 0.0, None))


def read_tables(hdus) -> dict:
    """``{"aeff", "edisp", "psf", "bkg"}`` → `IRFTable`, read back from the serialised HDUs.

    These are exactly the float32 values that go into the files.

    Parameters
    ----------
    hdus : list of astropy.io.fits.BinTableHDU
        The AEFF, EDISP, PSF and BKG HDUs (`irf_hdus`).

    Returns
    -------
    dict
        Name → `IRFTable`.
    """
    buf = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), *[h.copy() for h in hdus]]).writeto(buf)
    buf.seek(0)
    spec = {
        "AEFF": ("aeff", ("ENERG", "THETA"), ("energy_true", "offset"), False),
        "EDISP": ("edisp", ("ENERG", "MIGRA", "THETA"), ("energy_true", "migra", "offset"), False),
        "PSF": ("psf", ("ENERG", "THETA", "RAD"), ("energy_true", "offset", "rad"), False),
        "BKG": ("bkg", ("ENERG", "DETX", "DETY"), ("energy", "fov_lon", "fov_lat"), True),
    }
    out = {}
    with fits.open(buf) as hdul:
        for h in hdul[1:]:
            key, stems, names, log_values = spec[h.name]
            out[key] = IRFTable(h, stems, names, log_values)
    return out
