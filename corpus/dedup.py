"""One document per paper: records of the same paper (same PMID, PMCID or DOI) are merged.

Records with none of those identifiers are the same paper when their ids are equal: the id is
then a hash of title and text, so two copies of one file under different names become one
document that lists the second path in ``other_sources``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from corpus.model import Document


def merge_duplicates(docs: Iterable[Document]) -> list[Document]:
    """The documents with each paper's records merged (see :func:`merge`), in first-seen order.

    Two records with different PMIDs are never merged, even when they share a DOI
    (errata and their articles can).
    """
    kept: dict[int, Document] = {}  # slot -> document; a dict keeps first-seen order
    where: dict[str, int] = {}  # "pmid:123" / "doi:10..." -> slot
    for n, doc in enumerate(docs):
        slots = sorted({where[k] for k in _keys(doc) if k in where})
        slots = [i for i in slots if _compatible(kept[i], doc)]
        combined = doc
        for i in slots:
            combined = merge(kept.pop(i), combined)
        slot = slots[0] if slots else n
        kept[slot] = combined
        for key in _keys(combined):
            where[key] = slot
    return [kept[i] for i in sorted(kept)]


def merge(a: Document, b: Document) -> Document:
    """One document from two records of a paper: the fuller text and the union of metadata."""
    full, other = (a, b) if a.chars >= b.chars else (b, a)
    pmid, pmcid, doi = full.pmid or other.pmid, full.pmcid or other.pmcid, full.doi or other.doi
    title = full.title or other.title
    return dataclasses.replace(
        full,
        id=Document.make_id(pmid, pmcid, doi, title, full.text),
        title=title,
        pmid=pmid,
        pmcid=pmcid,
        doi=doi,
        authors=full.authors or other.authors,
        journal=full.journal or other.journal,
        year=full.year or other.year,
        mesh_terms=_union(full.mesh_terms, other.mesh_terms),
        publication_types=_union(full.publication_types, other.publication_types),
        keywords=_union(full.keywords, other.keywords),
        references=max(full.references, other.references, key=len),
        other_sources=tuple(
            p
            for p in _union(full.other_sources, (other.source_path, *other.other_sources))
            if p != full.source_path  # the same file read twice is not another source
        ),
    )


def _keys(doc: Document) -> list[str]:
    pairs = (("pmid", doc.pmid), ("pmcid", doc.pmcid), ("doi", doc.doi))
    return list(dict.fromkeys([f"{kind}:{value}" for kind, value in pairs if value] + [doc.id]))


def _compatible(kept: Document, doc: Document) -> bool:
    return not (kept.pmid and doc.pmid and kept.pmid != doc.pmid)


def _union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*a, *b)))
