"""The record every reader produces: one paper, identified, with its text in sections."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from urllib.parse import quote

FORMATS = ("pubmed", "medline", "jats", "pdf", "text", "jsonl")

_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)


def normalize_doi(raw: str | None) -> str | None:
    """A DOI in its canonical form (lower case, no resolver prefix), or None if it is not one."""
    if not raw:
        return None
    doi = _DOI_PREFIX.sub("", raw.strip()).rstrip(".,;)]").lower()
    return doi if re.match(r"^10\.\d{4,9}/\S+$", doi) else None


def normalize_pmcid(raw: str | None) -> str | None:
    """``PMC1234567`` from ``1234567``, ``pmc1234567`` or ``PMC1234567``; None if it is not one."""
    if not raw:
        return None
    m = re.fullmatch(r"(?:PMC)?(\d{1,9})", raw.strip(), re.IGNORECASE)
    return f"PMC{m.group(1)}" if m else None


def normalize_pmid(raw: str | None) -> str | None:
    """A PMID as a string of digits without leading zeros; None if it is not one."""
    if not raw:
        return None
    m = re.fullmatch(r"\s*0*(\d{1,9})\s*", raw)
    return m.group(1) if m and m.group(1) != "0" else None


@dataclass(frozen=True, slots=True)
class Section:
    """A run of text under one heading.

    ``pages`` marks where pages start inside ``text`` as ``(char_offset, page_number)`` pairs,
    in order; it is empty for formats without pages.
    """

    heading: str
    text: str
    pages: tuple[tuple[int, int], ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The page number of the character at ``offset``, or None for page-less formats."""
        page = None
        for start, number in self.pages:
            if start > offset:
                break
            page = number
        return page


@dataclass(frozen=True, slots=True)
class Document:
    """One paper as read from one or more files.

    ``id`` is stable across runs: ``pmid:…``, else ``pmcid:…``, else ``doi:…``, else
    ``hash:…`` of the title and text. Build it with :meth:`make_id`.
    """

    id: str
    title: str
    sections: tuple[Section, ...]
    source_path: str
    format: str
    authors: tuple[str, ...] = ()
    journal: str | None = None
    year: int | None = None
    pmid: str | None = None
    pmcid: str | None = None
    doi: str | None = None
    mesh_terms: tuple[str, ...] = ()
    publication_types: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    references: tuple[str, ...] = field(default=(), repr=False)
    other_sources: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The body text: every section's text, separated by blank lines."""
        return "\n\n".join(s.text for s in self.sections)

    @property
    def chars(self) -> int:
        """Length of :attr:`text`."""
        return sum(len(s.text) for s in self.sections) + 2 * max(len(self.sections) - 1, 0)

    @staticmethod
    def make_id(pmid: str | None, pmcid: str | None, doi: str | None, title: str, text: str) -> str:
        """The stable id for a paper with these identifiers (see the class docstring)."""
        if pmid:
            return f"pmid:{pmid}"
        if pmcid:
            return f"pmcid:{pmcid}"
        if doi:
            return f"doi:{doi}"
        digest = hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()[:16]
        return f"hash:{digest}"


def pubmed_url(pmid: str) -> str:
    """The PubMed page of a PMID (percent-encoded, so it cannot break out of a URL)."""
    return f"https://pubmed.ncbi.nlm.nih.gov/{quote(pmid, safe='')}/"


def doi_url(doi: str) -> str:
    """The doi.org resolver link of a DOI (percent-encoded, so it cannot break out of a URL)."""
    return f"https://doi.org/{quote(doi, safe='/:;()._-')}"


def pmc_url(pmcid: str) -> str:
    """The PubMed Central page of a PMCID."""
    return f"https://pmc.ncbi.nlm.nih.gov/articles/{quote(pmcid, safe='')}/"


def paper_url(pmid: str | None, doi: str | None) -> str | None:
    """The PubMed page of a paper, else its DOI resolver link, else None."""
    if pmid:
        return pubmed_url(pmid)
    return doi_url(doi) if doi else None


def build_document(
    *,
    title: str,
    sections: list[Section] | tuple[Section, ...],
    source_path: str,
    format: str,
    pmid: str | None = None,
    pmcid: str | None = None,
    doi: str | None = None,
    **metadata: object,
) -> Document:
    """A :class:`Document` with normalized identifiers, empty sections dropped and its id set."""
    pmid, pmcid, doi = normalize_pmid(pmid), normalize_pmcid(pmcid), normalize_doi(doi)
    kept = tuple(s for s in sections if s.text.strip())
    text = "\n\n".join(s.text for s in kept)
    doc_id = Document.make_id(pmid, pmcid, doi, title, text)
    return Document(
        id=doc_id,
        title=title,
        sections=kept,
        source_path=source_path,
        format=format,
        pmid=pmid,
        pmcid=pmcid,
        doi=doi,
        **metadata,  # type: ignore[arg-type]
    )


_SPACE = re.compile(r"\s+")


def squash(text: str | None) -> str:
    """Text with every run of whitespace (newlines included) made one space, ends stripped."""
    return _SPACE.sub(" ", text).strip() if text else ""


def first_year(text: str | None) -> int | None:
    """The first plausible publication year (1800–2099) in ``text``, e.g. ``1998 Dec-1999 Jan``."""
    m = re.search(r"\b(1[89]\d\d|20\d\d)\b", text or "")
    return int(m.group(1)) if m else None


def document_json(doc: Document) -> dict[str, object]:
    """The one JSON shape of a document's record (no text), for ``rag corpus inspect --json``,
    ``rag lookup --json`` and the web app.

    The id is under both ``id`` (what ``rag corpus inspect`` has always printed) and ``doc_id``
    (the name a hit, a citation and ``rag lookup`` use); ``sections`` counts sections and
    ``chars`` is the text's length.
    """
    return {
        "id": doc.id,
        "doc_id": doc.id,
        "pmid": doc.pmid,
        "pmcid": doc.pmcid,
        "doi": doc.doi,
        "title": doc.title,
        "authors": list(doc.authors),
        "journal": doc.journal,
        "year": doc.year,
        "url": pubmed_url(doc.pmid) if doc.pmid else None,
        "format": doc.format,
        "sections": len(doc.sections),
        "chars": doc.chars,
    }


def document_to_dict(doc: Document) -> dict[str, object]:
    """A JSON-ready dict of ``doc`` (sections as ``[heading, text, pages]`` lists)."""
    return {
        **{f: getattr(doc, f) for f in Document.__dataclass_fields__ if f != "sections"},
        "sections": [[s.heading, s.text, [list(p) for p in s.pages]] for s in doc.sections],
    }


def document_from_dict(data: dict[str, object]) -> Document:
    """The inverse of :func:`document_to_dict`."""
    values = dict(data)
    sections = values.pop("sections")
    assert isinstance(sections, list)  # written by document_to_dict, not user input
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return Document(
        sections=tuple(Section(h, t, tuple((o, n) for o, n in p)) for h, t, p in sections),
        **values,  # type: ignore[arg-type]
    )


def content_hash(doc: Document) -> str:
    """A hash of what the paper says and is (not where it was read from)."""
    data = document_to_dict(doc)
    for volatile in ("source_path", "other_sources", "format"):
        data.pop(volatile)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
