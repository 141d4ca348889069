"""Reader for PDF papers: PDFium's text per page, cleaned of page furniture, in sections.

PDF text comes without structure. PDFium (pypdfium2) gives the text of each page in reading
order with the place and size of every line; from those this reader finds the title (the
largest type on page 1), drops running headers, footers and page numbers, rebuilds
paragraphs, repairs words hyphenated at line ends, splits sections at common headings and the
reference list off. Pages whose glyphs have no Unicode mapping are left out with a warning
naming them. Every section records where each page starts inside its text, so a passage can
be cited with its page number.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pypdfium2 as pdfium

from base.errors import ReadError
from base.text import PMCID
from corpus.model import Document, Section, build_document
from corpus.pdf.front import (
    Title,
    authors,
    choose_title,
    find_doi,
    find_year,
    metadata_title,
    page_title,
    xmp_doi,
)
from corpus.pdf.furniture import find_furniture
from corpus.pdf.layout import LOCK, Line, Page, read_page
from corpus.pdf.paragraphs import (
    REFERENCE_HEADINGS,
    Hyphens,
    entries,
    join,
    mark_paragraph_ends,
    split_at_headings,
    split_section,
)

__all__ = ["read_pdf"]

_authors = authors  # the name the tests of the /Author parser use
log = logging.getLogger(__name__)
_PMID = re.compile(r"PMID:?\s*(\d{1,9})")
# Lines above the title in this upper share of page 1 are the masthead, not the paper's text.
_MASTHEAD = 0.3
# An abstract without its heading is a paragraph of at least this many words.
_ABSTRACT_WORDS = 40


@dataclass(frozen=True)
class _Info:
    """What the PDF's document information dictionary says about itself."""

    title: str | None
    author: str | None
    created: str | None


def read_pdf(path: Path) -> Iterator[Document]:
    """Yield the one :class:`Document` in the PDF at ``path``.

    Raises :class:`ReadError` when PDFium cannot parse the file, when it is encrypted with a
    password, or when no page has readable text (a scan, or fonts without a Unicode map).
    Pages whose glyphs have no Unicode mapping are left out and named in a warning.
    """
    data = _bytes(path)
    pages, info = _load(path, data)
    readable = _readable(path, pages)
    furniture, title = _furniture_and_title(readable)
    lines: list[Line] = []
    for page in readable:
        lines += mark_paragraph_ends(page, _kept(page, furniture))
    log.debug("%s: %d pages, %d header/footer lines left out", path, len(pages), len(furniture))
    hyphens = Hyphens(line.text for line in lines)
    sections, references = _sections(lines, hyphens)
    edges = [_text_at(readable, at) for at in sorted(furniture)]  # footers carry the DOI
    front = [_page_text(page) for page in readable[:2]]
    ids = "\n".join(front + edges)
    yield build_document(
        title=choose_title(title, metadata_title(info.title), lines[0].text if lines else "")[:300],
        sections=sections,
        source_path=str(path),
        format="pdf",
        pmid=_first(_PMID, ids, group=1),
        pmcid=_first(PMCID, ids),
        doi=xmp_doi(data) or find_doi([*front, *edges]),
        authors=authors(info.author),
        year=find_year([*front, _page_text(readable[-1])], info.created),
        references=tuple(references),
    )


def _furniture_and_title(pages: Sequence[Page]) -> tuple[set[tuple[int, int]], Title | None]:
    """The page furniture (headers, footers, the masthead) and the title on the first page."""
    furniture = find_furniture(pages)
    first = pages[0]
    running = {_text_at(pages, at) for at in furniture if at[0] != first.number}
    title = page_title(replace(first, lines=tuple(_kept(first, furniture))), running)
    return furniture | _masthead(first, title), title


def _kept(page: Page, furniture: set[tuple[int, int]]) -> list[Line]:
    """The lines of ``page`` that are not furniture."""
    return [line for i, line in enumerate(page.lines) if (page.number, i) not in furniture]


def _text_at(pages: Sequence[Page], at: tuple[int, int]) -> str:
    """The text of line ``at`` = ``(page number, line index)`` among ``pages``."""
    page = next(page for page in pages if page.number == at[0])
    return page.lines[at[1]].text


def _masthead(page: Page, title: Title | None) -> set[tuple[int, int]]:
    """Lines above a title set in large type on ``page``: journal name, article type, DOI."""
    if title is None or not title.stands_out:
        return set()
    return {
        (page.number, i)
        for i, line in enumerate(page.lines)
        if line.bottom <= title.top and line.top < _MASTHEAD * page.height
    }


def _readable(path: Path, pages: Sequence[Page]) -> list[Page]:
    """The pages whose text can be read; warns about (or refuses) pages of unmapped glyphs."""
    bad = [page.number for page in pages if page.unmapped]
    readable = [page for page in pages if not page.unmapped and page.lines]
    if bad and readable:
        log.warning(
            "%s: left out page%s %s of %d: most glyphs have no Unicode mapping (a font "
            "without a ToUnicode map), so the text would be garbage",
            path, "s" if len(bad) > 1 else "", _numbers(bad), len(pages),
        )  # fmt: skip
    garbled = [page.number for page in readable if page.garbled_lines]
    lines = sum(page.garbled_lines for page in readable)
    if garbled:  # often the bracket pieces of a typeset equation: a note, not a warning
        log.info(
            "%s: left out %d line%s of unreadable glyphs (a font without a usable Unicode map) "
            "on page%s %s",
            path, lines, "s" if lines > 1 else "", "s" if len(garbled) > 1 else "",
            _numbers(garbled),
        )  # fmt: skip
    if not readable:
        if bad:
            raise ReadError(
                path,
                f"no readable text: most glyphs on page{'s' if len(bad) > 1 else ''} "
                f"{_numbers(bad)} have no Unicode mapping (fonts without a ToUnicode map); "
                "run OCR on the file first",
            )
        raise ReadError(path, "the PDF has no extractable text (scanned images? run OCR first)")
    return readable


def _numbers(numbers: Sequence[int]) -> str:
    """Page numbers as runs: [1, 2, 3, 7] -> "1-3, 7"."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def _page_text(page: Page) -> str:
    return "\n".join(line.text for line in page.lines)


def _sections(lines: Sequence[Line], hyphens: Hyphens) -> tuple[list[Section], list[str]]:
    """The sections of the paper and the entries of its reference list."""
    sections: list[Section] = []
    references: list[str] = []
    for heading, part in split_at_headings(lines):
        if heading.lower() in REFERENCE_HEADINGS:
            references += entries(part, hyphens)
        elif part:
            text, pages = join(part, hyphens)
            sections.append(Section(heading, text, pages))
    return _abstract_from_front(sections), references


def _abstract_from_front(sections: list[Section]) -> list[Section]:
    """Sections with an unlabelled abstract split off the front matter.

    Some layouts print no "Abstract" heading; the abstract is then the run of paragraphs of
    at least ``_ABSTRACT_WORDS`` words that ends the front matter (a "Keywords" line aside).
    """
    if len(sections) < 2 or sections[0].heading != "Body":
        return sections
    if any(s.heading == "Abstract" for s in sections):
        return sections
    front = sections[0]
    paragraphs = front.text.split("\n")
    last = len(paragraphs)
    while last and paragraphs[last - 1].lower().startswith("key"):
        last -= 1
    first = last
    while first and len(paragraphs[first - 1].split()) >= _ABSTRACT_WORDS:
        first -= 1
    if first == last:
        return sections
    start = sum(len(p) + 1 for p in paragraphs[:first])
    end = sum(len(p) + 1 for p in paragraphs[:last]) - 1
    head, rest = split_section(front, start, "Abstract")
    abstract, keywords = split_section(rest, end - start, "Body")
    return [s for s in (head, abstract, keywords) if s.text.strip()] + sections[1:]


def _bytes(path: Path) -> bytes:
    """The file's bytes (the corpus layer has checked its size against corpus.max_file_mb)."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ReadError(path, f"cannot read the file: {exc.strerror or exc}") from exc


def _load(path: Path, data: bytes) -> tuple[list[Page], _Info]:
    """The lines of every page of the PDF ``data`` read from ``path``, and its information."""
    with LOCK:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise _open_error(path, exc) from exc
        try:
            meta = pdf.get_metadata_dict(skip_empty=True)
            pages = []
            for i in range(len(pdf)):
                page = pdf[i]
                try:
                    pages.append(read_page(page, i + 1))
                finally:
                    page.close()
        finally:
            pdf.close()
    return pages, _Info(meta.get("Title"), meta.get("Author"), meta.get("CreationDate"))


def _open_error(path: Path, exc: pdfium.PdfiumError) -> ReadError:
    """The :class:`ReadError` for a file PDFium refused to open."""
    if "password" in str(exc).lower():
        return ReadError(path, "the PDF is encrypted")
    hint = " (no %%EOF at the end: is the file cut short?)" if _cut_short(path) else ""
    return ReadError(path, f"not a readable PDF: {exc}{hint}")


def _cut_short(path: Path) -> bool:
    """Whether ``path`` starts as a PDF but lacks the ``%%EOF`` that ends every complete one."""
    try:
        with path.open("rb") as fh:
            head = fh.read(5)
            fh.seek(max(path.stat().st_size - 1024, 0))
            return head == b"%PDF-" and b"%%EOF" not in fh.read()
    except OSError:
        return False


def _first(pattern: re.Pattern[str], text: str, group: int = 0) -> str | None:
    """The first match of ``pattern`` in ``text`` (or its ``group``), or None."""
    m = pattern.search(text)
    return m.group(group) if m else None
