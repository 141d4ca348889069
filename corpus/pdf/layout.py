"""PDFium's text of each page as lines with their place and size on the page.

PDFium (through pypdfium2) reads the page's text in the order its content stream draws it,
which for publishers' two-column layouts is reading order, and it puts spaces where glyphs
are far apart, which pypdf lost on some typesetting ("deadlycancersofchildhood"). Each line
keeps the box around it and the height of its first glyph, which later steps use to find the
title (the largest text on page 1), running headers and footers (lines repeated at the page
edges) and paragraph ends (lines that stop short of their column's right edge).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

# PDFium is not thread-safe (pypdfium2's documentation); ingest may read in a worker thread.
LOCK = threading.RLock()
# PDFium marks a line-end hyphen that it joined to the next line with U+FFFE (and drops the
# line break); corpus.pdf.paragraphs decides whether the hyphen stays.
HYPHEN_MARK = "\ufffe"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u00ad]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Ligatures, full-width forms and mathematical italic letters ("𝑝 < 0.05") read as the plain
# letters they stand for; superscript digits are left alone so that "cells¹" stays apart.
_COMPAT = re.compile(r"[\ufb00-\ufb4f\uff01-\uff5e\U0001d400-\U0001d7ff]")
# Private-use characters, the replacement character, C1 controls, Latin-1 symbols and spacing
# modifier letters: what unmapped glyph codes read as.
_ODD = re.compile(r"[\ue000-\uf8ff\ufffd\u0080-\u00bf\u02b0-\u02ff]")
# A line or page whose glyphs are more often unmapped than not is unreadable; so is one where
# more than _ODD_SHARE of them are odd characters.
UNMAPPED_SHARE = 0.5
_ODD_SHARE = 0.2
_MIN_GLYPHS = 4


@dataclass(frozen=True, slots=True)
class Line:
    """One line of text as PDFium laid it out; lengths in points, ``top`` from the page top."""

    page: int
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float  # height of the first glyph's box: a stand-in for the font size
    ends_paragraph: bool = False  # set by corpus.pdf.paragraphs.mark_paragraph_ends


@dataclass(frozen=True, slots=True)
class Page:
    """The lines of one page, its size, and whether its glyphs could be read as text."""

    number: int
    width: float
    height: float
    lines: tuple[Line, ...]
    unmapped: bool  # most glyphs have no Unicode mapping (or are private-use characters)
    garbled_lines: int = 0  # lines left out because their glyphs were unreadable


def read_page(page: pdfium.PdfPage, number: int) -> Page:
    """The lines of ``page`` (1-based ``number``); call it holding :data:`LOCK`.

    Lines whose glyphs are mostly unreadable (see :func:`garbled`) are left out; the page is
    ``unmapped`` when most of its glyphs are.
    """
    width, height = page.get_size()
    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        units = _units(textpage, count)
        errors = [bool(pdfium_c.FPDFText_HasUnicodeMapError(textpage, i)) for i in range(count)]
        lines = []
        dropped = start = 0
        for raw in units.split("\r\n"):
            end = start + len(raw)
            if garbled(raw, sum(errors[start:end])):
                dropped += 1
            else:
                line = _line(textpage, number, height, raw, start)
                lines += [line] if line is not None else []
            start = end + 2
    finally:
        textpage.close()
    return Page(number, width, height, tuple(lines), garbled(units, sum(errors)), dropped)


def garbled(text: str, errors: int) -> bool:
    """Whether ``text`` (with ``errors`` glyphs PDFium could not map) is unreadable.

    Either most glyphs have no Unicode mapping or are private-use characters, or a fifth are
    the symbols and modifier letters that a font's raw codes turn into when its map is wrong
    ("ʸʷʷʷ»É»·È¹¾"): text in any language has few of those.
    """
    visible = sum(not c.isspace() for c in text)
    if visible < _MIN_GLYPHS:
        return False  # "°C", "µg", "±": a unit or sign alone on its line
    odd = len(_ODD.findall(text))
    return errors + odd > UNMAPPED_SHARE * visible or odd > _ODD_SHARE * visible


def _units(textpage: pdfium.PdfTextPage, count: int) -> str:
    """The page's text with one character per PDFium character index.

    Read one index at a time: ``FPDFText_GetText`` drops some characters (an unmapped
    glyph) and so loses the alignment with the character boxes. A line-end hyphen that PDFium
    joined to the next line reads as U+0002 here; ``FPDFText_IsHyphen`` tells it apart.
    """
    chars = [chr(pdfium_c.FPDFText_GetUnicode(textpage, i)) for i in range(count)]
    for i, char in enumerate(chars):
        if char == "\x02" and pdfium_c.FPDFText_IsHyphen(textpage, i):
            chars[i] = HYPHEN_MARK
    return "".join(chars)


def _line(
    textpage: pdfium.PdfTextPage, number: int, height: float, raw: str, start: int
) -> Line | None:
    """The :class:`Line` for PDFium's characters ``start .. start+len(raw)``; None if blank."""
    first = next((i for i, c in enumerate(raw) if not c.isspace() and c >= " "), None)
    if first is None:
        return None
    last = next(i for i in range(len(raw) - 1, -1, -1) if not raw[i].isspace())
    left, bottom, _, top = textpage.get_charbox(start + first, loose=True)
    _, _, right, _ = textpage.get_charbox(start + last)
    return Line(number, clean(raw), left, right, height - top, height - bottom, top - bottom)


def clean(raw: str) -> str:
    """Line text with surrogate pairs joined, control characters dropped, spaces squashed."""
    text = raw
    if _SURROGATE.search(text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    text = _CONTROL.sub("", text)
    text = _COMPAT.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    return " ".join(text.split())
