"""PubMed XML: the current ``PubmedArticleSet`` and the older ``MedlineCitationSet``, plain or gzip.

Streamed with ``lxml.etree.iterparse``: each record is cleared once read, so a 1 GB baseline file
is read in bounded memory. Records read before a truncation are kept; the truncation is then
raised as a :class:`ReadError`.
"""

from __future__ import annotations

from collections.abc import Iterator
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
)

_RECORD_TAGS = ("PubmedArticle", "MedlineCitation", "PubmedBookArticle")
ROOT_TAGS = ("PubmedArticleSet", "MedlineCitationSet")


def read_pubmed(path: Path) -> Iterator[Document]:
    """Yield one :class:`Document` per PubMed/MEDLINE record in ``path``."""
    with open_bytes(path) as head_stream:
        refuse_entity_declarations(path, head_stream.read(65536))
    records = 0
    with open_bytes(path) as stream:
        # Same safety options as corpus.xmlsafe.safe_parser: no entities, no DTD, no network.
        events = etree.iterparse(
            stream,
            events=("end",),
            tag=_RECORD_TAGS,
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            huge_tree=False,
        )
        try:
            for _, elem in events:
                if elem.tag == "MedlineCitation" and _parent_tag(elem) == "PubmedArticle":
                    continue  # read with its PubmedArticle, which carries the article ids
                doc = _record(elem, path)
                _release(elem)
                if doc is not None:
                    records += 1
                    yield doc
        except etree.XMLSyntaxError as exc:
            raise ReadError(path, _partial(describe_syntax_error(exc), records)) from exc
        except GZIP_ERRORS as exc:  # gzip data cut short or corrupt
            raise ReadError(path, _partial(f"{GZIP_DAMAGED}: {exc}", records)) from exc
        root = events.root
    if root is None or etree.QName(root).localname not in ROOT_TAGS:
        found = etree.QName(root).localname if root is not None else "nothing"
        raise ReadError(path, f"XML root <{found}> is not one of {', '.join(ROOT_TAGS)}")


def _partial(reason: str, records: int) -> str:
    return f"{reason} ({records} complete records before it were read)" if records else reason


def _parent_tag(elem: etree._Element) -> str | None:
    parent = elem.getparent()
    return parent.tag if parent is not None else None  # type: ignore[return-value]


def _release(elem: etree._Element) -> None:
    """Free a finished record and its already-read siblings: keeps memory bounded."""
    elem.clear(keep_tail=False)
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


_INLINE = ("sub", "sup")


def _text(elem: etree._Element | None) -> str:
    """The element's text with whitespace squashed.

    Pretty-printed files put a newline and tabs before inline ``<sub>``/``<sup>`` (PMID 29768149:
    "β\n\t\t<sub>2</sub>-agonist"); that layout whitespace is dropped so it reads "β2-agonist".

    A comment or processing instruction contributes its tail only, and an entity reference its
    literal ``&name;``, as ``itertext`` gives them deeper down: entities are never expanded, and
    lxml 6.1 raises ValueError for ``itertext`` on such a node itself (found by fuzzing: a file
    with an external DTD and an undefined ``&xxe;`` inside an AbstractText).
    """
    if elem is None:
        return ""
    parts = [elem.text or ""]
    for child in elem:
        if child.tag in _INLINE and "\n" in parts[-1][-40:]:
            parts[-1] = parts[-1].rstrip()
        if isinstance(child.tag, str):
            parts.append("".join(child.itertext()))
        elif isinstance(child, etree._Entity):
            parts.append(child.text or "")
        parts.append(child.tail or "")
    return squash("".join(parts))


def _record(elem: etree._Element, path: Path) -> Document | None:
    citation = elem if elem.tag == "MedlineCitation" else elem.find("MedlineCitation")
    if elem.tag == "PubmedBookArticle":
        citation = elem.find("BookDocument")
    if citation is None:
        return None
    article = citation.find("Article")
    if article is None:
        article = citation  # book documents keep title and abstract at this level
    ids = _article_ids(elem, article)
    title = _text(article.find("ArticleTitle")) or _text(article.find("VernacularTitle"))
    if not title:
        title = _text(citation.find("Book/BookTitle"))
    abstract = _abstract(article.find("Abstract"))
    pmid = _text(citation.find("PMID"))
    if not (title or abstract or pmid):
        return None
    return build_document(
        title=title,
        sections=[Section("Abstract", abstract)] if abstract else [],
        source_path=str(path),
        format="pubmed",
        pmid=pmid,
        pmcid=ids["pmc"],
        doi=ids["doi"],
        authors=_authors(article),
        journal=_text(article.find("Journal/Title"))
        or _text(citation.find("Book/Publisher/PublisherName"))
        or None,
        year=_year(article, citation),
        mesh_terms=tuple(
            _text(d) for d in citation.iterfind("MeshHeadingList/MeshHeading/DescriptorName")
        ),
        publication_types=tuple(
            _text(p) for p in article.iterfind("PublicationTypeList/PublicationType")
        ),
        keywords=tuple(_text(k) for k in citation.iterfind("KeywordList/Keyword")),
        references=tuple(
            _text(c) for c in elem.iterfind("PubmedData/ReferenceList/Reference/Citation")
        ),
    )


def _article_ids(record: etree._Element, article: etree._Element) -> dict[str, str | None]:
    """DOI and PMCID from ``PubmedData/ArticleIdList`` (current DTD) or ``ELocationID``."""
    ids: dict[str, str | None] = {"doi": None, "pmc": None}
    for aid in record.iterfind("PubmedData/ArticleIdList/ArticleId"):
        kind = aid.get("IdType")
        if kind in ids and not ids[kind]:
            ids[kind] = _text(aid)
    for loc in article.iterfind("ELocationID"):
        if loc.get("EIdType") == "doi" and not ids["doi"]:
            ids["doi"] = _text(loc)
    return ids


def _abstract(abstract: etree._Element | None) -> str:
    """The abstract as one text; labelled parts become ``LABEL: text`` paragraphs."""
    if abstract is None:
        return ""
    parts = []
    for part in abstract.iterfind("AbstractText"):
        text = _text(part)
        label = part.get("Label")
        if text:
            parts.append(f"{label}: {text}" if label else text)
    return "\n".join(parts)


def _authors(article: etree._Element) -> tuple[str, ...]:
    names = []
    for author in article.iterfind("AuthorList/Author"):
        last, fore = _text(author.find("LastName")), _text(author.find("ForeName"))
        fore = fore or _text(author.find("Initials"))
        name = f"{last}, {fore}" if last and fore else last or _text(author.find("CollectiveName"))
        if name:
            names.append(name)
    return tuple(names)


def _year(article: etree._Element, citation: etree._Element) -> int | None:
    pub = article.find("Journal/JournalIssue/PubDate")
    if pub is not None:
        year = first_year(_text(pub.find("Year")) or _text(pub.find("MedlineDate")))
        if year:
            return year
    for where in ("ArticleDate/Year", "PubDate/Year", "DateCompleted/Year", "DateCreated/Year"):
        node = article.find(where)
        if node is None:
            node = citation.find(where)
        if node is not None and first_year(_text(node)):
            return first_year(_text(node))
    return None
