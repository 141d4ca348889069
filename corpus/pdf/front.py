"""What a PDF says about itself: title, DOI, year and authors, from its pages and metadata.

The document information dictionary is a poor witness: /Title often holds a typesetter's
file name ("pone.0115884 1..14", "8752821.dvi") and /CreationDate the day the file was made,
not the year of publication. The first page is read first.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from base.text import DOI
from corpus.model import first_year, normalize_doi, squash
from corpus.pdf.layout import Line, Page

# Producers fill /Title with the source file's name or a placeholder more often than not.
_NOT_A_TITLE = re.compile(
    r"\.(?:docx?|rtf|odt|tex|dvi|pdf|indd|qxd|ps|txt)$|^microsoft word\b|^untitled\b"
    r"|\d+\.\.\d+$|^[\w.-]*\d{4,}[\w.-]*(?:\s+[\d.]+)?$",
    re.IGNORECASE,
)
# Article-type labels set above the title, sometimes letter-spaced ("R E S E A R C H").
_LABEL = re.compile(
    r"(?:research|original|review|clinical|case|short|brief|focused|technical|editorial"
    r"|study|open|access|article|report|reports|protocol|communication|letter|paper|note"
    r"|commentary|perspective|opinion|methodology|software|data|debate|hypothesis|minireview"
    r"|mini|and|\s)+",
    re.IGNORECASE,
)
# A DOI cut by a line break right after "." or "/" or "-" ("doi:10.1371/journal.pone." + "0115884").
_DOI_CUT = re.compile(r"\b10\.\d{4,9}/[^\s\"<>]*[./-]\n[^\s\"<>]+")
# "© 2016 Yang et al.", "Copyright: 2014", "© The Author(s) 2019".
_COPYRIGHT = re.compile(
    r"(?:©|\(c\)|\bcopyright\b)[^\n\d]{0,40}?\b((?:19|20)\d\d)\b", re.IGNORECASE
)
_PUBLISHED = re.compile(r"\bpublished\b:?[^\n]{0,30}?\b((?:19|20)\d\d)\b", re.IGNORECASE)
_XMP = re.compile(rb"<x:xmpmeta.*?</x:xmpmeta>", re.DOTALL)
_XMP_DOI = re.compile(
    rb"<prism:doi>(.*?)</prism:doi>|<dc:identifier>(.*?)</dc:identifier>", re.DOTALL
)
# A trailing "[v2; ref status: indexed, http://...]" is a version note, not the title's.
_TITLE_NOTE = re.compile(r"\s*\[[^\]]*(?:https?://|ref status|v\d)[^\]]*\]$", re.IGNORECASE)
_PDF_DATE = re.compile(r"(?:D:)?\s*(\d{4})")
# The title is set in a font at least this much larger than the text under it.
_LARGER = 1.15


@dataclass(frozen=True, slots=True)
class Title:
    """The title as set on the first page."""

    text: str
    stands_out: bool  # set in type clearly larger than the page's body text
    top: float  # where the title block starts on the page


def page_title(page: Page, running: Collection[str] = ()) -> Title | None:
    """The title set in the largest type on the first page, and whether that type stands out.

    Lines in the largest size (on the upper part of the page) start the candidate block; a
    block that is an article-type label ("Research Article"), has fewer than three words, or
    is the journal's name (its words are in one of the ``running`` header lines) is passed over
    for the next size down.
    """
    lines = page.lines
    upper = [line for line in lines if line.top < 0.6 * page.height]
    body = Counter(round(line.size) for line in lines).most_common(1)
    body_size = body[0][0] if body else 0.0
    tried: list[float] = []
    for line in sorted(upper, key=lambda line: -line.size):
        if any(_same_size(line.size, size) for size in tried):
            continue
        tried.append(line.size)
        block = _block(upper, line.size)
        text = _TITLE_NOTE.sub("", squash(" ".join(line.text for line in block)))
        name = " ".join(_words(text))
        if len(text.split()) < 3 or _LABEL.fullmatch(text):
            continue
        # A journal's name is short; a running header may also repeat the paper's own title.
        journal = len(name.split()) <= 6 and any(name in " ".join(_words(h)) for h in running)
        if not journal:
            return Title(text, line.size >= _LARGER * body_size, block[0].top)
    return None


def _same_size(a: float, b: float) -> bool:
    """Whether two glyph heights are the same type size (italics and accents vary a little)."""
    return abs(a - b) <= 0.06 * max(a, b)


def _block(lines: Sequence[Line], size: float) -> list[Line]:
    """The first run of consecutive lines in ``size``, label lines before it dropped."""
    block: list[Line] = []
    for line in lines:
        if _same_size(line.size, size):
            if block and line.top - block[-1].bottom > 1.5 * line.size:
                break
            if block or not _LABEL.fullmatch(line.text):
                block.append(line)
        elif block:
            break
    return block


def metadata_title(raw: str | None) -> str | None:
    """The /Title of the PDF if it looks like a paper's title rather than a file name."""
    title = squash(raw)
    if len(title.split()) < 2 or _NOT_A_TITLE.search(title):
        return None
    return title


def choose_title(on_page: Title | None, meta: str | None, first: str) -> str:
    """The title: the page's when its type stands out, the metadata's when it looks like a
    title, else the first line of the first page."""
    if meta and on_page and _words(meta) == _words(on_page.text):
        return meta  # the same words, without the page's line-break hyphens and spacing
    if on_page and on_page.stands_out:
        return on_page.text
    return meta or first


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.lower())


def find_doi(texts: Sequence[str]) -> str | None:
    """The DOI printed most often in ``texts`` (first pages and running headers/footers)."""
    found: Counter[str] = Counter()
    for text in texts:
        for m in _DOI_CUT.finditer(text):
            found[m.group().replace("\n", "")] += 1
        for m in DOI.finditer(text):
            found[m.group()] += 1
    counts: Counter[str] = Counter()
    for raw, n in found.items():
        doi = normalize_doi(raw)
        if doi:
            counts[doi] += n
    # "10.1371/journal.pone" is what is left of a DOI cut at a line break: prefer the whole.
    for doi in list(counts):
        longer = [other for other in counts if other != doi and other.startswith(doi)]
        if longer:
            counts[longer[0]] += counts.pop(doi)
    return counts.most_common(1)[0][0] if counts else None


def xmp_doi(data: bytes) -> str | None:
    """The DOI in the file's XMP metadata (``prism:doi`` or a ``dc:identifier``), if any.

    Publishers that print no DOI on the page often record it there; the packet is plain text
    in the file, so a pattern finds it without parsing XML.
    """
    for packet in _XMP.finditer(data):
        for m in _XMP_DOI.finditer(packet.group()):
            value = (m.group(1) or m.group(2) or b"").decode("utf-8", "replace")
            doi = next((normalize_doi(d) for d in DOI.findall(value)), None)
            if doi:
                return doi
    return None


def find_year(texts: Sequence[str], created: str | None) -> int | None:
    """The copyright year, else the year after "Published", else the file's creation year."""
    for pattern in (_COPYRIGHT, _PUBLISHED):
        for text in texts:
            m = pattern.search(text)
            if m:
                return int(m.group(1))
    m = _PDF_DATE.match(created or "")
    return first_year(m.group(1)) if m else None


def authors(raw: str | None) -> tuple[str, ...]:
    """Names from /Author: "A; B", "John Smith, Jane Doe and Al Li" or "Smith, J., Doe, A."."""
    text = squash(raw)
    if not text:
        return ()
    if ";" in text:
        names = text.split(";")
    else:
        names = re.split(r"\s*,\s*(?:and\s+|&\s*)?|\s+(?:and|&)\s+", text)
        # "Smith, J., Doe, A." lists surname, given name pairs: one word before each comma.
        if len(names) % 2 == 0 and all(" " not in name for name in names[::2]):
            names = [
                f"{last}, {given}" for last, given in zip(names[::2], names[1::2], strict=True)
            ]
    return tuple(name.strip() for name in names if name.strip())
