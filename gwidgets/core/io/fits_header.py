"""FITS header cards: keyword, value and comment parsing, and the `Header` they fill.

A header is a list of 80-character card images; values are parsed as astropy
reads them (quoted strings with ``''`` escapes, long strings continued with
``CONTINUE`` cards, ``D`` exponents, logicals, complex numbers), and COMMENT /
HISTORY cards are kept apart. `~gwidgets.core.io.fits.FitsFile` builds one
`Header` per HDU from the raw blocks.
"""
from __future__ import annotations

import re

__all__ = ["Header", "CARD"]

#: Length of a FITS header card image
CARD = 80

# A FITS string value as astropy reads it: the closing quote is followed by the end,
# a space or a '/'; '' inside is an escaped quote.
_STRING = re.compile(r"'(?P<strg>([ -~]+?|''|) *?)'(?=$|/| )")
# A string piece of a long-string (CONTINUE) card, with an optional comment.
_STRING_COMMENT = re.compile(r"(" + _STRING.pattern + r")? *(?P<comm_field>/ *(?P<comm>(.|\n)*))?$")
# A whole string value field: the closing quote is the one after which only blanks and a comment follow.
_STRING_FIELD = re.compile(_STRING.pattern + r" *(?P<comm_field>/ *(?P<comm>(.|\n)*))?$")
_COMPLEX = re.compile(r"^\(\s*([^,()]+?)\s*,\s*([^,()]+?)\s*\)$")
_COMMENTARY = ("COMMENT", "HISTORY", "")


def _number(text: str):
    """Int or float of a FITS number (``D`` exponents, blanks inside as astropy allows); None if not one."""
    text = text.replace(" ", "")
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text.replace("D", "E").replace("d", "e"))
    except ValueError:
        return None


def _parse_value(text: str):
    """Value of a FITS card's value field (the part after ``= ``), as astropy reads it.

    >>> _parse_value("'it''s here' / a comment"), _parse_value("1.0D-3"), _parse_value("T")
    ("it's here", 0.001, True)
    """
    text = text.strip()
    if not text or text[0] == "/":
        return None
    if text[0] == "'":
        m = _STRING_FIELD.match(text) or _STRING.match(text)
        if m is not None:
            return m.group("strg").replace("''", "'").rstrip()
        # unterminated string (astropy refuses it): everything after the quote
        return text[1:].replace("''", "'").rstrip()
    value = text.split("/", 1)[0].strip()
    if value == "T":
        return True
    if value == "F":
        return False
    number = _number(value)
    if number is not None:
        return number
    m = _COMPLEX.match(value)
    if m is not None:
        re_, im = _number(m.group(1)), _number(m.group(2))
        if re_ is not None and im is not None:
            return complex(re_, im)
    return value


def _long_string(image: str):
    """Value of a card followed by CONTINUE cards (joined 80-character images), as astropy joins them.

    Each piece loses its trailing blanks and one trailing ``&``; the pieces are
    joined and the result is read again as one quoted value (so ``''`` is
    unescaped once, and -- as in astropy -- an escaped quote followed by ``/``
    ends the string).  Returns None when a piece is not a string (astropy
    refuses such cards; the first card's own value is used then).
    """
    pieces, comments = [], []
    for i in range(0, len(image), CARD):
        sub = image[i : i + CARD]
        text = sub[8:].strip() if i else sub.split("=", 1)[1].strip()
        m = _STRING_COMMENT.match(text)
        if m is None:
            return None
        piece = (m.group("strg") or "").rstrip()
        pieces.append(piece[:-1] if piece.endswith("&") else piece)
        if m.group("comm"):
            comments.append(m.group("comm").rstrip())
    return _parse_value(f"'{''.join(pieces)}' / {' '.join(comments)}")


def _card_keyword(image: str):
    """(keyword, value text or None) of one card image, with astropy's rules.

    Commentary cards (COMMENT, HISTORY, blank keyword) and cards without a value
    indicator give a None value text; HIERARCH keywords keep their case.
    """
    if image[8:10] == "= " and image[:8] not in ("COMMENT ", "HISTORY ", "        ", "HIERARCH"):
        return image[:8].rstrip().upper(), image[10:]  # the standard layout (most cards)
    key = image[:8].strip().upper()
    if key in _COMMENTARY:
        return key, None
    if key == "HIERARCH" and image[8:9] == " " and "=" in image:
        k, v = image[9:].split("=", 1)
        return k.strip(), v
    idx = image.find("= ")
    if 0 <= idx <= 8:
        return image[:idx].strip().upper(), image[idx + 2 :]
    return key, None


class Header(dict):
    """FITS header as a plain dict of keyword → value, read as astropy reads it.

    * long strings (a string card followed by ``CONTINUE`` cards) are joined;
    * ``''`` inside a string is a quote, trailing blanks of strings are dropped;
    * ``HIERARCH`` keywords are keys without the ``HIERARCH`` prefix;
    * a repeated keyword keeps its first value (as ``astropy``'s ``header[key]``);
    * COMMENT, HISTORY and blank-keyword cards are not values: their texts are in
      ``header.commentary[keyword]`` (a list).

    ``header.cards`` keeps the raw card images (a long-string card with its
    CONTINUE cards as one string) for a faithful conversion with :meth:`to_astropy`.

    Parameters
    ----------
    cards : list of str
        The 80-character card images of the header, without the ``END`` card.

    Examples
    --------
    >>> h = Header(["LONG    = 'first &'".ljust(80), "CONTINUE  'second'".ljust(80)])
    >>> h["LONG"]
    'first second'
    """

    def __init__(self, cards: list[str]):
        super().__init__()
        grouped = []
        for card in cards:
            if card.startswith("CONTINUE") and grouped:
                grouped[-1] += card  # as astropy: CONTINUE cards join the card before them
            else:
                grouped.append(card)
        self.cards = [c for c in grouped if c.strip()]
        self.commentary: dict[str, list[str]] = {}
        for card in self.cards:
            key, text = _card_keyword(card[:CARD])
            if text is None:
                if key in _COMMENTARY:
                    self.commentary.setdefault(key, []).append(card[8:CARD].rstrip())
                continue
            if key in self:
                continue
            value = _long_string(card) if len(card) > CARD else None
            self[key] = _parse_value(text) if value is None else value

    def to_astropy(self):
        """Convert to an `astropy.io.fits.Header` built from the raw card images.

        Returns
        -------
        astropy.io.fits.Header
            The same cards, parsed by astropy.

        Examples
        --------
        >>> Header(["EXPOSURE=                 10.0 / s".ljust(80)]).to_astropy()["EXPOSURE"]
        10.0
        """
        from astropy.io import fits

        return fits.Header.fromstring("".join(self.cards))
