"""Reader for PDF papers: text per page through pypdf, split into sections at common headings.

PDF text comes without structure: pypdf gives lines, not paragraphs, and (as of pypdf 7.1)
no blank line where a paragraph ends. Paragraphs are therefore rebuilt by heuristics: a line
clearly shorter than the usual line ends its paragraph, and a word hyphenated across a line
break is joined again. Every section records where each page starts inside its text, so a
passage can be cited with its page number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pypdf import PasswordType, PdfReader

from base.errors import ReadError
from corpus.model import Document, Section, build_document, first_year, squash

_HEADING = re.compile(
    # optional numbering: "2.", "2 ", "2.Methods", "IV."
    r"(?:(?:\d{1,2}|[IVX]{1,5})(?:\.\s*|\s+))?"
    r"(?P<name>abstract|background|introduction"
    r"|(?:(?:materials?|patients|subjects)\s+and\s+)?methods|methodology"
    r"|results(?:\s+and\s+discussion)?|discussion|conclusions?"
    r"|acknowledge?ments?|references|bibliography|literature\s+cited)"
    r"\s*:?",
    re.IGNORECASE,
)
_REFERENCE_HEADINGS = {"references", "bibliography", "literature cited"}
_ENTRY_START = re.compile(r"(?:\[\d{1,4}\]|\d{1,4}\.)\s")
_HYPHENS = ("-", "\u00ad", "\u2010")  # hyphen-minus, soft hyphen, hyphen
_DOI = re.compile(r"10\.\d{4,9}/[^\s\"<>]+")
_PMID = re.compile(r"PMID:?\s*(\d{1,9})")
_PMCID = re.compile(r"\bPMC\d+")
_PDF_DATE = re.compile(r"(?:D:)?\s*(\d{4})")
# Producers fill /Title with the source file's name or a placeholder more often than not.
_NOT_A_TITLE = re.compile(
    r"\.(?:docx?|rtf|odt|tex|dvi|pdf|indd|qxd|ps|txt)$|^microsoft word\b|^untitled\b",
    re.IGNORECASE,
)
# A line shorter than this share of the usual line length ends its paragraph.
_SHORT_LINE = 0.7

Line = tuple[int, str]  # (1-based page number, text of one line; "" for a blank line)


@dataclass(frozen=True)
class _Info:
    """What the PDF's document information dictionary says about itself."""

    title: str | None
    author: str | None
    created: str | None


def read_pdf(path: Path) -> Iterator[Document]:
    """Yield the one :class:`Document` in the PDF at ``path``.

    Raises :class:`ReadError` when pypdf cannot parse the file, when it is encrypted with a
    password, or when it has no text layer (a scan).
    """
    texts, info = _load(path)
    lines = [
        (n, " ".join(line.split())) for n, text in enumerate(texts, 1) for line in text.split("\n")
    ]
    if not any(text for _, text in lines):
        raise ReadError(path, "the PDF has no extractable text (scanned images? run OCR first)")
    width = _usual_width(lines)
    sections: list[Section] = []
    references: list[str] = []
    front: list[str] = []  # body lines of pages 1-2, where the paper's own ids are printed
    for heading, part in _split_at_headings(lines):
        if heading.lower() in _REFERENCE_HEADINGS:
            references += _entries(part, width)
            continue
        text, pages = _join(part, width)
        sections.append(Section(heading, text, pages))
        front += [line for page, line in part if page <= 2]
    ids = "\n".join(front)
    title = _title(info.title) or next(text for _, text in lines if text)[:300]
    yield build_document(
        title=title,
        sections=sections,
        source_path=str(path),
        format="pdf",
        pmid=_first(_PMID, ids, group=1),
        pmcid=_first(_PMCID, ids),
        doi=_first(_DOI, ids),
        authors=_authors(info.author),
        year=_year(info.created) or first_year(texts[0]),
        references=tuple(references),
    )


def _load(path: Path) -> tuple[list[str], _Info]:
    """The text of every page of ``path`` and its document information."""
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            _decrypt(reader, path)
        texts = [page.extract_text() for page in reader.pages]
        meta = reader.metadata
        info = _Info(None, None, None)
        if meta is not None:
            created = meta.get("/CreationDate")
            info = _Info(meta.title, meta.author, str(created) if created else None)
    except ReadError:
        raise
    except Exception as exc:
        # pypdf reports a damaged file with whatever fails first: PdfReadError, PdfStreamError,
        # but also ValueError, KeyError, TypeError, struct.error or RecursionError from deep
        # inside (pypdf 7.1, on random bytes and truncated files). None of them is a bug of
        # ours, so all of them mean "this file cannot be read".
        hint = " (no %%EOF at the end: is the file cut short?)" if _cut_short(path) else ""
        raise ReadError(path, f"not a readable PDF: {exc}{hint}") from exc
    return texts, info


def _cut_short(path: Path) -> bool:
    """Whether ``path`` starts as a PDF but lacks the ``%%EOF`` that ends every complete one.

    pypdf 7.1 says only "Stream has ended unexpectedly" about a truncated file.
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(5)
            fh.seek(max(path.stat().st_size - 1024, 0))
            return head == b"%PDF-" and b"%%EOF" not in fh.read()
    except OSError:
        return False


def _decrypt(reader: PdfReader, path: Path) -> None:
    """Open an encrypted PDF that has an empty user password (as many publishers' PDFs do)."""
    try:
        result = reader.decrypt("")
    except Exception as exc:  # e.g. pypdf's DependencyError: AES needs the cryptography package
        raise ReadError(path, f"the PDF is encrypted ({exc})") from exc
    if result == PasswordType.NOT_DECRYPTED:
        raise ReadError(path, "the PDF is encrypted")


def _split_at_headings(lines: list[Line]) -> list[tuple[str, list[Line]]]:
    """The lines cut into ``(heading, lines)`` parts at heading lines; "Body" comes first."""
    parts: list[tuple[str, list[Line]]] = [("Body", [])]
    for page, text in lines:
        heading = _heading(text)
        if heading:
            parts.append((heading, []))
        else:
            parts[-1][1].append((page, text))
    return parts


def _heading(text: str) -> str | None:
    """The section name if ``text`` is a heading line such as "2. Materials and Methods"."""
    m = _HEADING.fullmatch(text)
    # A lower-case "results" alone on a line is the end of a wrapped sentence, not a heading.
    if not m or not m.group("name")[0].isupper():
        return None
    name = squash(m.group("name"))
    return name.capitalize() if name.isupper() else name


def _usual_width(lines: list[Line]) -> int:
    """The length of a full line: the 90th percentile of line lengths, in characters."""
    lengths = sorted(len(text) for _, text in lines if text)
    return lengths[(len(lengths) - 1) * 9 // 10]


def _join(
    lines: list[Line], width: int, numbered: bool = False
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Lines joined into paragraphs separated by "\\n", and where each page starts in them.

    With ``numbered``, paragraphs break only before lines that start "[n]" or "n." (the
    entries of a numbered reference list) and the line-length heuristic is not used.
    """
    parts: list[str] = []
    pages: list[tuple[int, int]] = []  # (offset in the text, page number)
    length = 0
    items = [(page, text, i > 0 and not lines[i - 1][1]) for i, (page, text) in enumerate(lines)]
    items = [item for item in items if item[1]]
    for i, (page, text, _) in enumerate(items):
        if not pages or pages[-1][1] != page:
            pages.append((length, page))
        sep = ""
        if i + 1 < len(items):
            after, blank_before = items[i + 1][1], items[i + 1][2]
            if _hyphenated(text, after):
                text = text[:-1]
            elif numbered:
                sep = "\n" if _ENTRY_START.match(after) else " "
            else:
                short = len(text) < _SHORT_LINE * width and not after[0].islower()
                sep = "\n" if blank_before or short else " "
        parts.append(text + sep)
        length += len(text) + len(sep)
    return "".join(parts), tuple(pages)


def _hyphenated(text: str, after: str) -> bool:
    """Whether ``text`` ends in a word broken by a hyphen that ``after`` finishes ("treat-")."""
    return len(text) > 1 and text.endswith(_HYPHENS) and text[-2].isalpha() and after[0].islower()


def _entries(lines: list[Line], width: int) -> list[str]:
    """The entries of a reference list: numbered ("[1]", "1.") if any are, else paragraphs."""
    numbered = any(_ENTRY_START.match(text) for _, text in lines)
    text, _ = _join(lines, width, numbered=numbered)
    return [entry for entry in text.split("\n") if entry]


def _title(raw: str | None) -> str | None:
    """The /Title of the PDF if it looks like a paper's title rather than a file name."""
    title = squash(raw)
    if " " not in title or _NOT_A_TITLE.search(title):
        return None
    return title


def _authors(raw: str | None) -> tuple[str, ...]:
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


def _year(created: str | None) -> int | None:
    """The year of a PDF date such as "D:20190501000000Z"."""
    m = _PDF_DATE.match(created or "")
    return first_year(m.group(1)) if m else None


def _first(pattern: re.Pattern[str], text: str, group: int = 0) -> str | None:
    """The first match of ``pattern`` in ``text`` (or its ``group``), or None."""
    m = pattern.search(text)
    return m.group(group) if m else None
