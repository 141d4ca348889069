"""Plain text and Markdown, including pages scraped from literature databases.

Scraped pages (``../shared/corpus/seeds``) carry the paper's metadata as loose lines: a title, an
author line, a citation line (``J Biomed Sci ; 31(1): 17, 2024 Jan 29.``), ``ID: mdl-38281981``,
and ``- DOI`` / ``- 10.1016/...`` pairs under "Identifiers". They also carry page chrome that is
not the paper's text ("Related Publications" lists *other* papers' abstracts). This reader keeps
the paper's own sections, turns the labelled lines into metadata and drops the chrome.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from base.errors import ReadError
from base.text import DOI, PMCID
from corpus.model import Document, Section, build_document, first_year, normalize_doi, squash

# Headings whose content is page chrome or metadata, not the paper's text (lower case).
_CHROME = {
    "affiliation",
    "affiliations",
    "affiliated institutions",
    "related publications",
    "related articles",
    "similar articles",
    "publication info",
    "external links",
    "social impact",
    "citation metrics",
    "cite this",
    "identifiers",
    "subject(s)",
    "subjects",
    "key words",
    "keywords",
    "mesh terms",
    "references",
    "bibliography",
    "cited by",
    "full text links",
    "comment in",
    "publication types",
    "grants and funding",
}
# Headings of the paper's own text that scraped pages print as bare lines (lower case).
_CONTENT = {
    "abstract",
    "background",
    "introduction",
    "objective",
    "objectives",
    "aims",
    "methods",
    "materials and methods",
    "patients and methods",
    "results",
    "findings",
    "discussion",
    "conclusion",
    "conclusions",
    "summary",
    "interpretation",
    "limitations",
    "case report",
}
_BOILERPLATE = re.compile(
    r"^(your browser doesn't support javascript\.?|loading\.*|\.\.\.|full text: \d.*|"
    r"social media, news, blog, policy document mentions)$",
    re.IGNORECASE,
)
_LABELLED = re.compile(
    r"^\s*(?:[-*•]\s*)?(title|authors?|journal|year|pmid|pmcid|doi|pubmed id)\s*[:=]\s*(.+)$",
    re.IGNORECASE,
)
_MDL_ID = re.compile(r"\bID:\s*mdl-(\d{1,9})\b|\bPMID:?\s*(\d{1,9})\b")
_CITATION = re.compile(
    r"^(?P<journal>[A-Z][^;:]{1,120}?)\s*(?:;|\.\s*(?:19|20)\d\d)\s*.*\b(?:19|20)\d\d\b"
)
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


@dataclass
class _Page:
    """What the reader has gathered so far from one file."""

    title: str = ""
    header: list[str] = field(default_factory=list)
    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    chrome: dict[str, list[str]] = field(default_factory=dict)


def read_text(path: Path) -> Iterator[Document]:
    """Yield the one :class:`Document` a text or Markdown file holds."""
    lines = decode_text(path, path.read_bytes()).splitlines()
    page = _parse(lines)
    _header_metadata(page)
    _chrome_metadata(page)
    sections = [Section(h, "\n".join(body)) for h, body in page.sections if body]
    if not sections and not page.title:
        raise ReadError(path, "the text holds no paper text (only page chrome or metadata)")
    meta = page.meta
    yield build_document(
        title=page.title,
        sections=sections,
        source_path=str(path),
        format="text",
        pmid=meta.get("pmid"),
        pmcid=meta.get("pmcid"),
        doi=meta.get("doi"),
        authors=_split_authors(meta.get("authors", "")),
        journal=meta.get("journal"),
        year=first_year(meta.get("year")),
        publication_types=tuple(filter(None, [meta.get("type", "")])),
        keywords=_split_terms(page.chrome.get("keywords", []) + page.chrome.get("key words", [])),
        mesh_terms=_split_terms(page.chrome.get("mesh terms", [])),
        references=tuple(page.chrome.get("references", [])),
    )


def decode_text(path: Path, data: bytes) -> str:
    """``data`` as UTF-8 text, or a :class:`ReadError` saying it is empty, binary or not UTF-8."""
    if not data.strip():
        raise ReadError(path, "the file is empty")
    sample = data[:8192]
    controls = sum(b < 9 or 13 < b < 32 for b in sample)
    if b"\x00" in sample or controls > len(sample) // 20:
        raise ReadError(path, "binary data, not text (is the file extension wrong?)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError(
            path,
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "convert it first, e.g. iconv -f latin1 -t utf-8",
        ) from exc


def _parse(lines: list[str]) -> _Page:
    """Sort lines into header, content sections and chrome sections."""
    page = _Page()
    current: list[str] | None = None  # the body being filled; None = still in the header
    stack: list[tuple[int, str]] = []  # Markdown heading levels, for "A > B" paths
    for raw in lines:
        line = squash(raw)
        if not line or _BOILERPLATE.match(line):
            continue
        md = _MD_HEADING.match(line)
        name = md.group(2) if md else line.rstrip(":")
        key = name.lower()
        if current is not None and _leaves_bullets(current, page, line):
            current = page.sections[-1][1] if page.sections else None
        if md and len(md.group(1)) == 1 and not page.title and not page.sections:
            page.title = name
        elif key in _CHROME:
            current = page.chrome.setdefault(key, [])
        elif md:
            level = len(md.group(1))
            stack = [(lvl, h) for lvl, h in stack if lvl < level] + [(level, name)]
            current = _open(page, " > ".join(h for _, h in stack))
        elif key in _CONTENT and len(line) < 40:
            current = _open(page, name if not name.isupper() else name.title())
        elif current is None:
            page.header.append(line)
        else:
            current.append(line)
    return page


def _leaves_bullets(current: list[str], page: _Page, line: str) -> bool:
    """True when a non-bullet line ends an affiliation list (scraped pages list one per "•")."""
    bullets = [page.chrome.get(k) for k in ("affiliation", "affiliations")]
    return any(current is b for b in bullets) and not line.startswith(("•", "-", "*"))


def _open(page: _Page, heading: str) -> list[str]:
    page.sections.append((heading, []))
    return page.sections[-1][1]


def _header_metadata(page: _Page) -> None:
    """Title, authors, journal, year and ids from the lines before the first heading."""
    meta, rest = page.meta, []
    for line in page.header:
        if _take_labelled(line, meta):
            continue
        ids = _MDL_ID.search(line)
        if ids:
            meta.setdefault("pmid", ids.group(1) or ids.group(2))
        citation = _CITATION.match(line)
        if citation and "journal" not in meta and len(line) < 200:
            meta["journal"] = citation.group("journal").strip(" .")
            meta.setdefault("year", line)
        elif not ids and "authors" not in meta and _looks_like_authors(line):
            meta["authors"] = line
        elif not ids:
            rest.append(line)
    _take_ids(" ".join(page.header), meta)
    labelled = page.title or meta.pop("title", "")
    page.title = labelled or _title_from(rest, page)
    # The body is what is left of the header once a title was taken from its first line.
    body = rest if labelled or not page.title else rest[1:]
    if body and not page.sections:
        page.sections.append(("Body", body))


def _title_from(lines: list[str], page: _Page) -> str:
    """The first header line, when it is title-sized and some text follows it."""
    first = lines[0] if lines else ""
    followed = len(lines) > 1 or bool(page.sections)
    return first if 10 <= len(first) <= 300 and followed else ""


def _chrome_metadata(page: _Page) -> None:
    """Ids and facts from chrome sections: "Identifiers", "Publication Info" and the like."""
    for name, lines in page.chrome.items():
        if name in ("references", "related publications", "related articles", "similar articles"):
            continue  # other papers' identifiers, not this one's
        pairs = [line.lstrip("-•* ").strip() for line in lines]
        for key, value in itertools.pairwise(pairs):  # "- DOI" then "- 10.1016/..."
            _take_labelled(f"{key}: {value}", page.meta)
            if key.lower() == "type":
                page.meta.setdefault("type", value)
        for line in lines:
            _take_labelled(line, page.meta)
        _take_ids(" ".join(lines), page.meta)


def _take_labelled(line: str, meta: dict[str, str]) -> bool:
    m = _LABELLED.match(line)
    if not m:
        return False
    key = m.group(1).lower()
    key = {"pubmed id": "pmid", "author": "authors"}.get(key, key)
    value = m.group(2).strip()
    valid: dict[str, Callable[[str], object]] = {
        "doi": normalize_doi,
        "pmid": str.isdigit,
        "pmcid": PMCID.search,
    }
    check = valid.get(key)
    if check is None or check(value):
        meta.setdefault(key, value)
        return True
    return False


def _take_ids(text: str, meta: dict[str, str]) -> None:
    if "doi" not in meta and (doi := DOI.search(text)):
        meta["doi"] = doi.group(0)
    if "pmcid" not in meta and (pmc := PMCID.search(text)):
        meta["pmcid"] = pmc.group(0)


def _looks_like_authors(line: str) -> bool:
    """``Sun, Dantong; Qian, Haili.`` or ``Sun D, Qian H, Li J.``: names, no digits."""
    if any(c.isdigit() for c in line) or len(line) > 2000:
        return False
    names = re.split(r"[;]|,\s(?=[A-Z][a-z]+\s[A-Z]{1,3}\b)", line.rstrip("."))
    return len(names) >= 2 and all(0 < len(n.split()) <= 5 for n in names)


def _split_authors(line: str) -> tuple[str, ...]:
    parts = line.rstrip(".").split(";") if ";" in line else line.rstrip(".").split(", ")
    return tuple(p.strip() for p in parts if p.strip())


def _split_terms(lines: list[str]) -> tuple[str, ...]:
    terms = [t.strip(" -•*") for line in lines for t in re.split(r"[;,]", line)]
    return tuple(dict.fromkeys(t for t in terms if t))
