"""The hand-written FITS header parser (gwidgets.core.io.fits) reads every header as astropy does.

Reference: ``astropy.io.fits.Header.fromstring`` on the same bytes (the first value
of a repeated keyword, commentary cards kept apart).
"""
from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from astropy.io import fits

from gwidgets.core.io.fits import FitsFile, Header
from gw_testdata import DATA


def _astropy_values(header: fits.Header) -> dict:
    out = {}
    for card in header.cards:
        key = card.keyword
        if key in ("COMMENT", "HISTORY", "") or key in out:
            continue
        out[key] = None if card.value is fits.card.UNDEFINED else card.value  # astropy's header.items() does so
    return out


def _split_cards(text: str) -> list[str]:
    return [text[i : i + 80] for i in range(0, len(text), 80)]


def _assert_same(ours: dict, reference: dict, where: str):
    assert set(ours) == set(reference), f"{where}: keys differ: {set(ours) ^ set(reference)}"
    for key, value in reference.items():
        got = ours[key]
        assert type(got) is type(value) or (isinstance(value, float) and isinstance(got, float)), \
            f"{where} {key}: {got!r} vs astropy {value!r}"
        assert got == value or (isinstance(value, float) and np.isnan(value) and np.isnan(got)), \
            f"{where} {key}: {got!r} vs astropy {value!r}"


# Cards astropy accepts, including the edge cases of the FITS standard and its conventions.
EDGE_CARDS = [
    "STR1    = 'abc     '",                       # trailing blanks are not significant
    "STR2    = '  lead'",                          # leading blanks are
    "STR3    = 'it''s here' / comment with ' quote",
    "STR4    = ''",
    "STR5    = '    '",
    "STR6    = 'a/b' / a slash inside the string",
    "QEND    = 'x'''",
    "EMPTYQ  = '''' ",
    "LONG    = 'first part of the long string &'",  # long-string convention (CONTINUE)
    "CONTINUE  'second part&'",
    "CONTINUE  'third' / comm",
    "LONG2   = 'no ampersand'",                    # CONTINUE joins even without '&' (as astropy)
    "CONTINUE  ' joined'",
    "AMP     = 'no continuation &'",               # a lone '&' stays
    "NUM     = 1.5E3 / x",
    "INT     = -42",
    "ZEROS   = 007",
    "DBL     = 1.0D-3",
    "SPACED  = 1.5 E 3",
    "BOOL    =                    T",
    "BOOLF   = F / f",
    "CPLX    = (1.0, 2.0)",
    "HIERARCH ESO DET CHIP = 'x' / y",
    "HIERARCH long.key.name = 12",
    "COMMENT this is = not a value",
    "COMMENT = 'x'",                               # still a comment
    "HISTORY  also 'not' a value",
    "        blank keyword text",
    "NOVAL   =",
    "NOVAL2  = / only a comment",
    "KEY= 7",                                      # value indicator before column 9
    "DUP     = 1",
    "DUP     = 2",                                 # repeated: the first value counts
    "lower   = 'x'",                               # keywords are upper case
]


def test_edge_cards_match_astropy():
    text = "".join(c.ljust(80) for c in EDGE_CARDS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = fits.Header.fromstring(text + "END".ljust(80))
        values = _astropy_values(reference)
    header = Header(_split_cards(text))
    _assert_same(header, values, "edge cards")
    assert header["LONG"] == "first part of the long string second partthird"
    assert header["STR3"] == "it's here"
    assert header["ESO DET CHIP"] == "x"
    assert header.commentary["COMMENT"] == ["this is = not a value", "= 'x'"]
    assert header.commentary["HISTORY"] == [reference["HISTORY"][0]]


def test_long_file_names_written_by_astropy(tmp_path):
    """An OGIP-like header with names longer than a card, written by astropy, read back through a file."""
    long_name = "pha_obs" + "x" * 90 + "_bkg.fits"
    hdu = fits.BinTableHDU.from_columns([fits.Column("COUNTS", "J", array=np.arange(3))], name="SPECTRUM")
    hdu.header["BACKFILE"] = long_name
    hdu.header["QUOTED"] = "it's a 'long' value " * 6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(tmp_path / "long.fits")
    raw = (tmp_path / "long.fits").read_bytes()
    assert b"CONTINUE" in raw
    ours = FitsFile(tmp_path / "long.fits")["SPECTRUM"].header
    reference = fits.open(io.BytesIO(raw))["SPECTRUM"].header
    _assert_same(ours, _astropy_values(reference), "long.fits")
    assert ours["BACKFILE"] == long_name
    assert ours.to_astropy()["QUOTED"] == reference["QUOTED"]


def _shared_fits_files():
    if not DATA.exists():
        return []
    files = sorted(p for p in DATA.rglob("*.fits*") if p.suffix in (".fits", ".gz"))
    # one file per folder keeps the test fast; all OGIP spectra (long keywords, QUALITY, ...) in full
    seen, out = set(), []
    for p in files:
        if p.parent not in seen or "spectra" in p.parts:
            seen.add(p.parent)
            out.append(p)
    return out


@pytest.mark.skipif(not DATA.exists(), reason="shared data not available")
def test_every_shared_header_matches_astropy():
    files = _shared_fits_files()
    assert len(files) > 20
    n_hdus = 0
    for path in files:
        ours = FitsFile(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with fits.open(path) as ref:
                assert len(ref) == len(ours.hdus), path
                for hdu_ref, hdu in zip(ref, ours.hdus):
                    _assert_same(hdu.header, _astropy_values(hdu_ref.header), f"{path.name}[{hdu.name}]")
                    n_hdus += 1
    assert n_hdus > 60


def test_random_headers_written_by_astropy_read_back_the_same():
    """500 cards astropy writes itself (long strings with quotes and '&', HIERARCH, numbers, comments)."""
    rng = np.random.default_rng(12)
    alphabet = np.array(list("abcXYZ 019_-/&'.:=()"))
    header = fits.Header()
    for i in range(500):
        kind = i % 6
        if kind == 0:
            text = "".join(rng.choice(alphabet, size=int(rng.integers(0, 200))))
            header[f"STR{i}"] = text.rstrip()  # astropy itself drops trailing blanks on reading
        elif kind == 1:
            header[f"INT{i}"] = int(rng.integers(-2**62, 2**62))
        elif kind == 2:
            header[f"FLT{i}"] = float(rng.normal() * 10.0 ** rng.integers(-300, 300))
        elif kind == 3:
            header[f"BOOL{i}"] = bool(rng.integers(2))
        elif kind == 4:
            header[f"HIERARCH GW KEY NUMBER {i}"] = "".join(rng.choice(alphabet, size=int(rng.integers(0, 30)))).rstrip()
        else:
            header["COMMENT"] = "".join(rng.choice(alphabet, size=int(rng.integers(0, 100))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = header.tostring()
        reference = fits.Header.fromstring(text)
    assert "CONTINUE" in text
    ours = Header(_split_cards(text)[:-1] if text.rstrip().endswith("END") else _split_cards(text))
    ours.pop("END", None)
    _assert_same(ours, _astropy_values(reference), "random header")
    assert len(ours.commentary["COMMENT"]) == len(reference["COMMENT"])
