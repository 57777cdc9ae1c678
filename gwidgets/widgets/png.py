"""Images for the views without matplotlib or PIL: the magma colour map and a PNG encoder.

A dashboard kernel draws the counts map as a PNG on its first look; importing matplotlib for one
colour map costs ~15 MiB per kernel (a classroom runs one kernel per page), PIL 2 MiB more. The
colour map here is matplotlib's ``magma`` (256 colours, the same lookup as ``Colormap.__call__``:
values in [0, 1], NaN transparent) and the PNG is a plain 8-bit RGBA image (zlib, one filter byte per
row); tests/test_png.py compares both with matplotlib and PIL.

Examples
--------
>>> import numpy as np
>>> rgba = colormap_rgba(np.array([[0.0, 1.0, np.nan]]))
>>> rgba.tolist()
[[[0, 0, 3, 255], [251, 252, 191, 255], [0, 0, 0, 0]]]
>>> png_bytes(rgba)[1:4]
b'PNG'
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

__all__ = ["MAGMA", "colormap_rgba", "png_bytes"]

#: matplotlib's ``magma`` colour map as 256 RGB rows of uint8 (``(colormaps["magma"](i) * 255).astype(uint8)``)
MAGMA = np.frombuffer(bytes.fromhex(
    "00000300000400000601000701010901010b02020d02020f03031104031304041505041706051907051b08061d09071f"
    "0a07220b08240c09260d0a280e0a2a0f0b2c100c2f110c31120d33140d35150e38160e3a170f3c180f3f1a10411b1044"
    "1c10461e10491f114b20114d2211502311522511552611572811592a115c2b115e2d10602f1062301065321067341068"
    "350f6a370f6c390f6e3b0f6f3c0f713e0f72400f73420f74430f75450f76470f774810784a10794b10794d117a4f117b"
    "50127b52127c53137c55137d57147d58157e5a157e5b167e5d177e5e177f60187f61187f63197f651a80661a80681b80"
    "691c806b1c806c1d806e1e816f1e81711f81731f817420817621817721817922817a22817c23817e24817f2481812581"
    "8225818426818526818727818928818a28818c29808d29808f2a80912a80922b80942b80952c80972c7f992d7f9a2d7f"
    "9c2e7f9e2e7e9f2f7ea12f7ea3307ea4307da6317da7317da9327cab337cac337bae347bb0347bb1357ab3357ab53679"
    "b63679b83778b93778bb3877bd3977be3976c03a75c23a75c33b74c53c74c63c73c83d72ca3e72cb3e71cd3f70ce4070"
    "d0416fd1426ed3426dd4436dd6446cd7456bd9466ada4769dc4869dd4968de4a67e04b66e14c66e24d65e44e64e55063"
    "e65162e75262e85461ea5560eb5660ec585fed595fee5b5eee5d5def5e5df0605df1615cf2635cf3655cf3675bf4685b"
    "f56a5bf56c5bf66e5bf6705bf7715bf7735cf8755cf8775cf9795cf97b5df97d5dfa7f5efa805efa825ffb8460fb8660"
    "fb8861fb8a62fc8c63fc8e63fc9064fc9265fc9366fd9567fd9768fd9969fd9b6afd9d6bfd9f6cfda16efda26ffda470"
    "fea671fea873feaa74feac75feae76feaf78feb179feb37bfeb57cfeb77dfeb97ffebb80febc82febe83fec085fec286"
    "fec488fec689fec78bfec98dfecb8efdcd90fdcf92fdd193fdd295fdd497fdd698fdd89afdda9cfddc9dfddd9ffddfa1"
    "fde1a3fce3a5fce5a6fce6a8fce8aafceaacfcecaefceeb0fcf0b1fcf1b3fcf3b5fcf5b7fbf7b9fbf9bbfbfabdfbfcbf"
), dtype=np.uint8).reshape(256, 3)


def colormap_rgba(values, lut: np.ndarray = MAGMA) -> np.ndarray:
    """RGBA colours (uint8) of ``values`` in [0, 1] through the colour table ``lut``, as matplotlib maps them.

    Parameters
    ----------
    values : array-like
        Normalised values; below 0 take the first colour, above 1 the last, NaN is transparent black.
    lut : numpy.ndarray, optional
        ``(N, 3)`` uint8 colours (default `MAGMA`).

    Returns
    -------
    numpy.ndarray
        ``values.shape + (4,)`` uint8: value ``v`` takes colour ``min(int(v * N), N - 1)``.
    """
    x = np.asarray(values, dtype=float)
    n = len(lut)
    bad = np.isnan(x)
    with np.errstate(invalid="ignore"):
        index = np.clip(np.where(bad, 0.0, x) * n, 0, n - 1).astype(int)
    rgba = np.empty(x.shape + (4,), dtype=np.uint8)
    rgba[..., :3] = lut[index]
    rgba[..., 3] = 255
    rgba[bad] = 0
    return rgba


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(rgba: np.ndarray, level: int = 6) -> bytes:
    """An 8-bit RGBA PNG of ``rgba`` (rows from the top).

    Parameters
    ----------
    rgba : numpy.ndarray
        ``(height, width, 4)`` uint8.
    level : int, optional
        zlib compression level (0-9).

    Returns
    -------
    bytes
        The PNG file.

    Raises
    ------
    ValueError
        If ``rgba`` is not ``(height, width, 4)`` uint8.
    """
    rgba = np.asarray(rgba)
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        raise ValueError(f"png_bytes needs a (height, width, 4) uint8 array, got {rgba.shape} {rgba.dtype}")
    height, width = rgba.shape[:2]
    rows = np.zeros((height, 1 + 4 * width), dtype=np.uint8)  # filter byte 0 (none) before each row
    rows[:, 1:] = rgba.reshape(height, 4 * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits, RGBA, deflate, no interlace
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows.tobytes(), level)) + _chunk(b"IEND", b""))
