"""Reader for PMC full-text articles in JATS / NLM XML (``.nxml``).

One file holds one ``<article>``; it becomes one :class:`Document` whose sections are, in order:
the abstract(s), the body ``<sec>`` tree (headings joined with " > "), the back-matter
sections and acknowledgments, then one section per figure or table caption. Reference lists
go to ``Document.references``, never into the text, so a passage retrieved from the body
cannot be a bibliography entry.

Both the old NLM "archivearticle" DTD (v2.3) and JATS 1.x use the same element names for
everything read here, so one reader serves both.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from lxml import etree

from base.errors import ReadError
from corpus.model import Document, Section, build_document, first_year, squash
from corpus.xmlsafe import (
    GZIP_DAMAGED,
    GZIP_ERRORS,
    describe_syntax_error,
    open_bytes,
    refuse_entity_declarations,
    safe_parser,
)

_Element = etree._Element

# Elements whose content is never running text: floats are read separately as captions
# (a table's cells would flood the index with numbers), the rest is images and metadata.
_DROPPED = frozenset({
    "fig", "fig-group", "table-wrap", "table-wrap-group", "table",
    "graphic", "inline-graphic", "media", "alt-text", "long-desc", "object-id",
})  # fmt: skip
# Elements that end a word: without a space, "<title>Methods</title><p>We…" reads "MethodsWe".
_SPACED = frozenset({
    "p", "title", "label", "caption", "list-item", "def-item", "term", "def",
    "break", "fn", "attrib", "speaker", "disp-formula", "list", "sec",
})  # fmt: skip
# The children of a <sec> that carry its own text (nested <sec>s are sections of their own).
_BLOCKS = frozenset({
    "p", "list", "disp-quote", "boxed-text", "def-list", "statement", "speech",
    "disp-formula", "supplementary-material", "verse-group", "preformat",
})  # fmt: skip
# Blocks made of smaller blocks: each child becomes its own paragraph (one line per list item).
_CONTAINERS = frozenset(
    {"list", "def-list", "boxed-text", "disp-quote", "statement", "speech", "sec", "verse-group"}
)
_SECTIONS = frozenset({"sec", "app", "app-group"})
_CITATIONS = frozenset({"mixed-citation", "element-citation", "citation", "nlm-citation"})
_SENTENCE_END = frozenset(".?!;:,")
_TEX_DOCUMENT = re.compile(r"\\begin\{document\}(.*?)\\end\{document\}", re.DOTALL)


def read_jats(path: Path) -> Iterator[Document]:
    """Yield the one :class:`Document` in the JATS/NLM article file at ``path``.

    Raises :class:`ReadError` when the file is not well-formed XML, declares entities, is not
    an ``<article>``, or has neither a title nor any text.
    """
    root = _parse(path)
    front = root.find("front")
    meta = front.find("article-meta") if front is not None else None
    title = _inline(meta.find("title-group/article-title")) if meta is not None else ""
    sections = [
        *(_abstract_sections(meta) if meta is not None else []),
        *_body_sections(root.find("body")),
        *_back_sections(root.find("back")),
        *_caption_sections(root),
    ]
    article_type = root.get("article-type")
    doc = build_document(
        title=title,
        sections=_merge_adjacent(sections),
        source_path=str(path),
        format="jats",
        **(_ids(meta) if meta is not None else {}),
        authors=_authors(meta) if meta is not None else (),
        journal=_journal(front),
        year=_year(meta) if meta is not None else None,
        keywords=_keywords(meta) if meta is not None else (),
        publication_types=(article_type,) if article_type else (),
        references=_references(root.find("back")),
    )
    if not doc.title and not doc.sections:
        raise ReadError(path, "JATS article has neither a title nor any text")
    yield doc


def _parse(path: Path) -> _Element:
    """The ``<article>`` root of ``path``, parsed without expanding or loading anything."""
    try:
        with open_bytes(path) as handle:
            data = handle.read()
    except GZIP_ERRORS as exc:  # gzip.BadGzipFile is an OSError; a cut .gz raises EOFError
        plain = type(exc) is OSError
        raise ReadError(
            path, f"{'cannot read the file' if plain else GZIP_DAMAGED}: {exc}"
        ) from exc
    refuse_entity_declarations(path, data[:65536])
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise ReadError(path, describe_syntax_error(exc)) from exc
    name = _local(root)
    if name != "article":
        raise ReadError(path, f"XML root <{name}> is not a JATS <article>")
    namespace = etree.QName(root).namespace
    if namespace:
        # JATS elements have no namespace, but a few producers put the whole article in one;
        # dropping it lets the plain-name lookups below work. MathML keeps its own namespace.
        for el in root.iter(f"{{{namespace}}}*"):
            el.tag = etree.QName(el).localname
    return root


def _local(el: _Element) -> str:
    """The element name without namespace or prefix (``mml:math`` → ``math``)."""
    tag = el.tag
    if not isinstance(tag, str):  # comments and processing instructions
        return ""
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def _elements(el: _Element) -> Iterator[_Element]:
    """The element children of ``el`` (no comments, processing instructions or entities)."""
    return (child for child in el if isinstance(child.tag, str))


# --- inline text ---------------------------------------------------------------------------


def _inline(el: _Element | None) -> str:
    """The running text of ``el`` on one line: floats, images and MathML markup left out."""
    if el is None:
        return ""
    parts: list[str] = []
    _walk(el, parts)
    return squash("".join(parts))


def _walk(el: _Element, parts: list[str]) -> None:
    """Append the text inside ``el`` (not its tail) to ``parts``."""
    name = _local(el)
    if name in _DROPPED:
        return
    if name == "math":
        # MathML inner text is a run of glued tokens ("xi=1n"); its alttext, when given, is
        # the readable form.
        parts.append(f" {el.get('alttext') or ''} ")
        return
    if name in ("inline-formula", "disp-formula"):
        formula = _formula_text(el)
        if formula:
            parts.append(f" {formula} ")
            return
    spaced = " " if name in _SPACED else ""
    parts.append(spaced + (el.text or ""))
    for child in el:
        if isinstance(child, etree._Entity):
            # Left unexpanded by the safe parser when a DOCTYPE names an external DTD; the
            # HTML set covers the character entities (&nbsp;, &ndash;) real files use.
            parts.append(html.unescape(child.text or ""))
        elif isinstance(child.tag, str):
            _walk(child, parts)
        parts.append(child.tail or "")
    parts.append(spaced)


def _formula_text(formula: _Element) -> str:
    """A formula as TeX or alt-text when the file gives one, else "" (walk it instead)."""
    tex = formula.find(".//tex-math")
    if tex is not None and tex.text:
        # PMC wraps each formula in a whole LaTeX document; keep only what it typesets.
        body = _TEX_DOCUMENT.search(tex.text)
        return squash(body.group(1) if body else tex.text)
    alt = formula.find(".//alt-text")
    return squash("".join(alt.itertext())) if alt is not None else ""


def _has_loose_text(el: _Element) -> bool:
    """True when ``el`` has text of its own between its children (mixed content)."""
    if el.text and el.text.strip():
        return True
    return any(child.tail and child.tail.strip() for child in el)


def _paragraphs(block: _Element) -> Iterator[str]:
    """The paragraphs of one block: a container yields its children's, anything else one."""
    if _local(block) in _CONTAINERS and not _has_loose_text(block):
        for child in _elements(block):
            yield from _paragraphs(child)
        return
    text = _inline(block)
    if text:
        yield text


def _block_text(parent: _Element, skip: Iterable[str] = ()) -> str:
    """The paragraphs of ``parent``'s block children, one per line."""
    skipped = set(skip)
    lines = [
        para
        for child in _elements(parent)
        if _local(child) in _BLOCKS and _local(child) not in skipped
        for para in _paragraphs(child)
    ]
    return "\n".join(lines)


# --- sections ------------------------------------------------------------------------------


def _abstract_sections(meta: _Element) -> list[Section]:
    """The main abstract as "Abstract", then any other (author summary, …) under its title."""
    abstracts = meta.findall("abstract")
    if not abstracts:
        return []
    main = next((a for a in abstracts if a.get("abstract-type") is None), abstracts[0])
    sections = [Section("Abstract", _abstract_text(main))]
    for other in abstracts:
        if other is not main:
            heading = _inline(other.find("title")) or "Author summary"
            sections.append(Section(heading, _abstract_text(other)))
    return sections


def _abstract_text(abstract: _Element) -> str:
    """An abstract's paragraphs; a structured one as "TITLE: text" lines."""
    lines: list[str] = []
    for child in _elements(abstract):
        if _local(child) == "sec":
            # "Background:" (Br J Cancer, 6605965a.nxml) must not become "Background::".
            title = _inline(child.find("title")).rstrip(":")
            text = " ".join(
                para
                for part in _elements(child)
                if _local(part) != "title"
                for para in _paragraphs(part)
            )
            if text:
                lines.append(f"{title}: {text}" if title else text)
        elif _local(child) in _BLOCKS:
            lines.extend(_paragraphs(child))
    return "\n".join(lines)


def _body_sections(body: _Element | None) -> list[Section]:
    """Paragraphs outside any sec as "Body", then one section per sec, depth first."""
    if body is None:
        return []
    sections = [Section("Body", _block_text(body))]
    for child in _elements(body):
        if _local(child) in _SECTIONS:
            sections.extend(_sec_sections(child, ""))
    return sections


def _sec_sections(sec: _Element, parent_path: str) -> list[Section]:
    """``sec`` and its nested secs as sections headed by their title paths ("A > B")."""
    title = _inline(sec.find("title"))
    path = f"{parent_path} > {title}" if parent_path and title else title or parent_path
    sections = [Section(path or "Body", _block_text(sec))]
    for child in _elements(sec):
        if _local(child) in _SECTIONS:
            sections.extend(_sec_sections(child, path))
    return sections


def _back_sections(back: _Element | None) -> list[Section]:
    """Back-matter secs and appendices like body secs, plus "Acknowledgments"."""
    if back is None:
        return []
    sections: list[Section] = []
    for child in _elements(back):
        name = _local(child)
        if name in _SECTIONS:
            sections.extend(_sec_sections(child, ""))
        elif name == "ack":
            # An <ack> may hold its own <title> and even <sec>s; all of it is one section.
            text = "\n".join(
                para
                for part in _elements(child)
                if _local(part) in _BLOCKS | {"sec"}
                for para in _paragraphs(part)
            )
            sections.append(Section("Acknowledgments", text))
    return sections


def _caption_sections(root: _Element) -> list[Section]:
    """One section per figure or table, wherever it sits: label as heading, caption as text."""
    sections: list[Section] = []
    for float_ in root.iter("fig", "table-wrap"):
        kind = "Figure" if float_.tag == "fig" else "Table"
        # "Table 1." (Ann Oncol, mds526.nxml) and "Table 1" name the same thing.
        label = _inline(float_.find("label")).rstrip(".:")
        lines = [_inline(part) for part in _elements_of(float_.find("caption"))]
        lines += [_inline(part) for part in _elements_of(float_.find("table-wrap-foot"))]
        sections.append(Section(label or kind, "\n".join(line for line in lines if line)))
    return sections


def _elements_of(el: _Element | None) -> Iterator[_Element]:
    """The element children of ``el``, none when it is missing."""
    return _elements(el) if el is not None else iter(())


def _merge_adjacent(sections: list[Section]) -> list[Section]:
    """Sections with the heading of the one before joined to it (untitled secs, loose text)."""
    merged: list[Section] = []
    for section in sections:
        if merged and merged[-1].heading == section.heading and section.text.strip():
            previous = merged[-1]
            text = "\n".join(t for t in (previous.text, section.text) if t)
            merged[-1] = Section(previous.heading, text)
        else:
            merged.append(section)
    return merged


# --- metadata ------------------------------------------------------------------------------


def _ids(meta: _Element) -> dict[str, str]:
    """The raw pmid, pmcid and doi of the article (``build_document`` normalizes them)."""
    keys = {"pmid": "pmid", "pmc": "pmcid", "pmcid": "pmcid", "doi": "doi"}
    ids: dict[str, str] = {}
    for article_id in meta.findall("article-id"):
        key = keys.get(article_id.get("pub-id-type") or "")
        value = squash(article_id.text)
        if key and value and key not in ids:
            ids[key] = value
    return ids


def _authors(meta: _Element) -> tuple[str, ...]:
    """Authors as "Surname, Given-names" (or a group name), in order."""
    authors: list[str] = []
    for contrib in meta.iterfind("contrib-group/contrib[@contrib-type='author']"):
        name = contrib.find("name")
        if name is None:
            name = contrib.find("name-alternatives/name")
        if name is not None:
            surname, given = _inline(name.find("surname")), _inline(name.find("given-names"))
            author = f"{surname}, {given}" if surname and given else surname or given
        else:
            collab = contrib.find("collab")
            # Group members can be nested in <collab>; only the group's own name is wanted.
            author = squash(collab.text) if collab is not None else ""
        if author:
            authors.append(author)
    return tuple(authors)


def _journal(front: _Element | None) -> str | None:
    """The journal title from ``journal-meta``, in or out of ``journal-title-group``."""
    if front is None:
        return None
    title = front.find("journal-meta/journal-title-group/journal-title")
    if title is None:
        title = front.find("journal-meta/journal-title")
    return _inline(title) or None


def _year(meta: _Element) -> int | None:
    """The publication year: electronic first, then print, then any dated ``pub-date``."""
    rank = {"epub": 0, "ppub": 1}

    def kind(date: _Element) -> str:
        return date.get("pub-type") or date.get("date-type") or ""

    for date in sorted(meta.findall("pub-date"), key=lambda d: rank.get(kind(d), 2)):
        year = first_year(date.findtext("year")) or first_year(" ".join(date.itertext()))
        if year:
            return year
    return None


def _keywords(meta: _Element) -> tuple[str, ...]:
    """Author keywords from every ``kwd-group``, duplicates dropped."""
    words = (_inline(kwd) for kwd in meta.iterfind("kwd-group/kwd"))
    return tuple(dict.fromkeys(word for word in words if word))


def _references(back: _Element | None) -> tuple[str, ...]:
    """One line of text per ``<ref>`` in the back matter's reference list(s)."""
    if back is None:
        return ()
    refs = (_reference(ref) for ref in back.iter("ref"))
    return tuple(ref for ref in refs if ref)


def _reference(ref: _Element) -> str:
    """A reference's citation(s) as text; the label ("1") is left out."""
    citations = [_citation_text(c) for c in _elements(ref) if _local(c) in _CITATIONS]
    return squash(" ".join(citations)) if citations else _inline(ref)


def _citation_text(citation: _Element) -> str:
    """A citation as one line, with a space wherever two of its parts would run together."""
    # Neither <element-citation> nor PLOS's <mixed-citation> puts anything between some parts
    # ("<surname>Rich</surname><given-names>KM</given-names>", "<volume>83</volume>" after
    # the journal, "?" or "." before the journal), so a space goes at every element boundary
    # that would otherwise glue two words together.
    joined = ""
    for piece in citation.itertext():
        if (joined[-1:].isalnum() or joined[-1:] in _SENTENCE_END) and piece[:1].isalnum():
            joined += " "
        joined += piece
    return squash(joined)
