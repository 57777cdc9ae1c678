"""The sky map of a `~gwidgets.widgets.map_view.MapView` as a figure: matplotlib in the kernel, as the page shows it.

`render_map` draws a `~gwidgets.widgets.sky_canvas.SkyCanvas` (its colour indices,
palette, handles and region: the very arrays the page paints) on WCS axes
labelled in degrees, with a colorbar of the values the colours stand for, the
model markers and the region circle. Colours come from `palette_rgba`, the
Python twin of the page's palettes (``lut`` in ``sky_canvas.ESM``), so a map
pixel has the same RGB in the saved file as on the screen.

The map sits at a fixed place in the figure: map pixel (x, y) is drawn at
``(MARGIN["left"] + (x + 0.5) * scale, MARGIN["top"] + (ny - 0.5 - y) * scale)``
image pixels from the top-left corner of the PNG (the page's own formula, shifted
by the margins); the PNG also carries it as text: ``gwidgets:map-box`` = "left top
width height" in image pixels.

>>> from gwidgets.widgets.sky_canvas import SkyCanvas
>>> canvas = SkyCanvas(shape=(2, 2))
>>> canvas.set_image(np.array([[0.0, 1.0], [0.5, -1.0]]), -1.0, 1.0)
>>> palette_rgba("diverging")[[0, 127, 254, 255]].tolist()
[[40, 90, 200, 255], [255, 255, 255, 255], [220, 50, 40, 255], [230, 230, 230, 255]]
>>> from gwidgets.core.geom import WcsGeom
>>> from astropy.coordinates import SkyCoord
>>> geom = WcsGeom.create(SkyCoord(83.63, 22.01, unit="deg"), binsz=0.5, width=1.0)
>>> svg = map_svg(canvas, geom.wcs, -1.0, 1.0, label="significance")
>>> "RA [deg]" in svg and "significance" in svg
True
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from .save_image import DPI, FORMATS

__all__ = ["MARGIN", "PALETTES", "palette_rgba", "render_map", "map_png", "map_svg", "save_map", "map_box"]

#: the palettes the page knows (``sky_canvas.ESM``)
PALETTES = ("diverging", "sequential")
#: image pixels around the map in a saved figure (axes labels, colorbar)
MARGIN = {"left": 78, "right": 100, "top": 16, "bottom": 52}
#: one CSS px in points at `DPI`
_PT = 72.0 / DPI


def palette_rgba(name: str) -> np.ndarray:
    """The page's colour table ``name``: (256, 4) uint8, index 255 is the no-data grey.

    The same formula as ``lut`` in the canvas's JavaScript, rounded as a ``Uint8ClampedArray``
    rounds (to nearest, ties to even).

    Parameters
    ----------
    name : {"diverging", "sequential"}
        Blue–white–red for significances, dark blue–yellow for counts.

    Returns
    -------
    ndarray of uint8, shape (256, 4)

    Raises
    ------
    ValueError
        For an unknown palette (the known ones named).

    Examples
    --------
    >>> palette_rgba("sequential")[254].tolist()
    [255, 255, 36, 255]
    """
    if name not in PALETTES:
        raise ValueError(f"unknown palette {name!r}; known: {', '.join(PALETTES)}")
    f = np.arange(255) / 254.0
    if name == "diverging":
        a = np.where(f < 0.5, f / 0.5, (f - 0.5) / 0.5)
        low = f < 0.5
        r = np.where(low, 40 + 215 * a, 255 - 35 * a)
        g = np.where(low, 90 + 165 * a, 255 - 205 * a)
        b = np.where(low, 200 + 55 * a, 255 - 215 * a)
    else:
        r = 255 * np.clip(1.6 * f - 0.3, 0.0, 1.0)
        g = 255 * f ** 0.8
        b = 255 * (0.35 + 0.3 * np.sin(np.pi * f)) * (1 - f * 0.6)
    out = np.empty((256, 4), np.uint8)
    out[:255, :3] = np.clip(np.rint(np.stack([r, g, b], 1)), 0, 255)
    out[:, 3] = 255
    out[255, :3] = 230
    return out


def map_box(canvas) -> tuple[int, int, int, int]:
    """Where the map is in a saved PNG.

    Parameters
    ----------
    canvas : SkyCanvas
        The canvas drawn (its ``shape`` and ``scale``).

    Returns
    -------
    tuple of int
        (left, top, width, height) in image pixels from the top-left corner.
    """
    ny, nx = canvas.shape
    return MARGIN["left"], MARGIN["top"], nx * canvas.scale, ny * canvas.scale


def _frame_labels(wcs) -> tuple[str, str]:
    ctype = wcs.wcs.ctype[0]
    return ("l [deg]", "b [deg]") if ctype.startswith("GLON") else ("RA [deg]", "Dec [deg]")


def render_map(canvas, wcs, lo: float, hi: float, stretch: str = "linear", label: str = ""):
    """A `matplotlib.figure.Figure` of ``canvas`` as the page shows it, on WCS axes.

    Parameters
    ----------
    canvas : SkyCanvas
        Its ``image`` (colour indices), ``shape``, ``palette``, ``scale``, ``handles`` and ``region``.
    wcs : astropy.wcs.WCS
        The celestial WCS of the map (pixel coordinates as the canvas's).
    lo, hi : float
        The values of the first and the last colour (for the colorbar).
    stretch : {"linear", "sqrt"}
        How values were mapped to colours (`~gwidgets.widgets.sky_canvas.to_indices`).
    label : str
        The colorbar's label.

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot. The map image has gid ``map``, the markers ``handle-<name>``, the
        region ``region``.

    Raises
    ------
    ValueError
        If the canvas holds no image of its shape.
    """
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, Normalize, PowerNorm
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle

    ny, nx = canvas.shape
    indices = np.frombuffer(bytes(canvas.image), np.uint8)
    if indices.size != nx * ny:
        raise ValueError(f"the map canvas holds {indices.size} pixels, not {ny} × {nx}: nothing drawn yet")
    lut = palette_rgba(canvas.palette)
    rgba = lut[indices.reshape(ny, nx)]
    left, top, width, height = map_box(canvas)
    fw, fh = left + width + MARGIN["right"], top + height + MARGIN["bottom"]
    fig = Figure(figsize=(fw / DPI, fh / DPI), dpi=DPI)
    ax = fig.add_axes((left / fw, MARGIN["bottom"] / fh, width / fw, height / fh), projection=wcs)
    ax.imshow(rgba, origin="lower", interpolation="nearest", gid="map")
    ax.set_xlim(-0.5, nx - 0.5)
    ax.set_ylim(-0.5, ny - 0.5)
    xlabel, ylabel = _frame_labels(wcs)
    for coord, text, size in zip(ax.coords, (xlabel, ylabel), (width, height)):
        coord.set_major_formatter("d.dd")
        coord.set_ticks(number=max(2, min(6, size // 90)))  # labels of ~50 px never collide
        coord.set_axislabel(text)
    lw = 2 * _PT
    for h in canvas.handles:
        gid, color = f"handle-{h['name']}", h.get("color", "#000")
        x, y, r = float(h["x"]), float(h["y"]), float(h.get("r") or 0.0)
        if r > 0:
            ax.add_patch(Circle((x, y), r, fill=False, ec=color, lw=lw, gid=gid))
            ax.plot([x + r], [y], ls="none", marker="s", ms=10 * _PT, color=color, gid=gid)
        ax.plot([x], [y], ls="none", marker="o", ms=14 * _PT, mfc="none", mec=color, mew=lw, gid=gid)
        ax.plot([x], [y], ls="none", marker="+", ms=22 * _PT, mec=color, mew=lw, gid=gid)
        ax.annotate(h["name"], (x, y), xytext=(10, 10), textcoords="offset pixels", color=color, fontsize=9,
                    gid=gid)
    reg = canvas.region
    if reg and reg.get("r"):
        ax.add_patch(Circle((float(reg["x"]), float(reg["y"])), float(reg["r"]), fill=False, ec="#111", lw=lw,
                            ls=(0, (6 * _PT / lw, 4 * _PT / lw)), gid="region"))
    norm = PowerNorm(0.5, lo, hi) if stretch == "sqrt" else Normalize(lo, hi)
    cax = fig.add_axes(((left + width + 14) / fw, MARGIN["bottom"] / fh, 14 / fw, height / fh))
    fig.colorbar(ScalarMappable(norm, ListedColormap(lut[:255, :3] / 255.0)), cax=cax, label=label)
    return fig


def _metadata(canvas, fmt: str) -> dict:
    if fmt != "png":
        return {}
    return {"gwidgets:map-box": " ".join(str(v) for v in map_box(canvas))}


def map_svg(canvas, wcs, lo: float, hi: float, stretch: str = "linear", label: str = "") -> str:
    """`render_map` as SVG text (labels kept as text, searchable; no date: the same map, the same text).

    Parameters are those of `render_map`.

    Returns
    -------
    str
    """
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "gwidgets"}):
        render_map(canvas, wcs, lo, hi, stretch, label).savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def map_png(canvas, wcs, lo: float, hi: float, stretch: str = "linear", label: str = "") -> bytes:
    """`render_map` as PNG bytes (the map at the canvas's scale, plus `MARGIN`; ``gwidgets:map-box`` text).

    Parameters are those of `render_map`.

    Returns
    -------
    bytes
    """
    buf = io.BytesIO()
    render_map(canvas, wcs, lo, hi, stretch, label).savefig(buf, format="png", dpi=DPI,
                                                            metadata=_metadata(canvas, "png"))
    return buf.getvalue()


def save_map(canvas, wcs, path, lo: float, hi: float, stretch: str = "linear", label: str = "") -> Path:
    """Write `render_map` to ``path``; the suffix (.png, .svg or .pdf) picks the format.

    Parameters
    ----------
    canvas, wcs, lo, hi, stretch, label
        As for `render_map`.
    path : str or Path
        Where to write.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        For a suffix not in `~gwidgets.widgets.save_image.FORMATS` (named with the path).
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"cannot save the map as {path}: the suffix must be one of "
                         f"{', '.join('.' + f for f in FORMATS)}")
    if fmt == "svg":
        path.write_text(map_svg(canvas, wcs, lo, hi, stretch, label), encoding="utf-8")
    elif fmt == "png":
        path.write_bytes(map_png(canvas, wcs, lo, hi, stretch, label))
    else:
        render_map(canvas, wcs, lo, hi, stretch, label).savefig(path, format=fmt, dpi=DPI)
    return path
