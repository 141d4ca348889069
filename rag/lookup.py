"""Citation lookup: a PMID, PMCID, DOI, title or claim -> the papers and supporting passages.

Identifiers are resolved in the store. Other text is first compared with the titles of the
documents retrieval finds; when none matches closely it is treated as a claim, and each retrieved
passage is checked for support with the same check answers get.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, Literal

from corpus.model import Document, normalize_doi, normalize_pmcid
from rag.answer import Citation
from rag.citations import citation_for
from rag.errors import QuestionError
from rag.pipeline import Pipeline, to_source

Kind = Literal["pmid", "pmcid", "doi", "title", "claim"]
_PMID = re.compile(r"^(?:pmid\s*:?\s*)?(\d{1,9})$", re.IGNORECASE)
_PMCID = re.compile(r"^(?:pmcid\s*:?\s*)?(PMC\d+)$", re.IGNORECASE)
_DOI = re.compile(r"^(?:doi\s*:?\s*|https?://(?:dx\.)?doi\.org/)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
TITLE_MATCH = 0.9  # SequenceMatcher ratio of normalised titles that counts as the same title


@dataclass(frozen=True, slots=True)
class Lookup:
    """What a lookup found: documents, and for a claim the passages checked against it."""

    query: str
    kind: Kind
    documents: tuple[Document, ...] = ()
    passages: tuple[Citation, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The ``rag lookup --json`` object."""
        return {
            "query": self.query,
            "kind": self.kind,
            "documents": [document_json(d) for d in self.documents],
            "passages": [c.to_json() for c in self.passages],
        }


def document_json(doc: Document) -> dict[str, Any]:
    """A document's bibliographic record (no text)."""
    return {
        "doc_id": doc.id,
        "pmid": doc.pmid,
        "pmcid": doc.pmcid,
        "doi": doc.doi,
        "title": doc.title,
        "authors": list(doc.authors),
        "journal": doc.journal,
        "year": doc.year,
        "url": f"https://pubmed.ncbi.nlm.nih.gov/{doc.pmid}/" if doc.pmid else None,
    }


def identifier(query: str) -> tuple[Kind, str] | None:
    """``("pmid", "123")``, ``("pmcid", "PMC1")`` or ``("doi", "10.1/x")`` when ``query`` is one."""
    q = query.strip()
    if m := _PMID.match(q):
        return "pmid", m.group(1)
    if m := _PMCID.match(q):
        return "pmcid", normalize_pmcid(m.group(1)) or m.group(1)
    if m := _DOI.match(q):
        return "doi", normalize_doi(m.group(1)) or m.group(1)
    return None


def _norm_title(title: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", title.lower()))


def lookup(pipeline: Pipeline, query: str, k: int = 5) -> Lookup:
    """Find the papers ``query`` names or, for a claim, the passages that support it."""
    q = " ".join(query.split())
    if not q:
        raise QuestionError("the lookup query is empty: give a PMID, PMCID, DOI, title or claim")
    store = pipeline.retriever.index.store
    if found := identifier(q):
        kind, key = found
        docs = [d for i in store.resolve(key) if (d := store.document(i))]
        return Lookup(q, kind, tuple(docs))
    hits = pipeline.retriever.search(q, max(k, 10))
    wanted = _norm_title(q)
    titles = [
        h for h in hits if SequenceMatcher(None, wanted, _norm_title(h.chunk.title)).ratio()
        >= TITLE_MATCH
    ]  # fmt: skip
    if titles:
        docs = [d for i in dict.fromkeys(h.doc_id for h in titles) if (d := store.document(i))]
        return Lookup(q, "title", tuple(docs))
    return claim_lookup(pipeline, q, k)


def claim_lookup(pipeline: Pipeline, claim: str, k: int) -> Lookup:
    """Passages checked for support of ``claim``, supported ones first, with their documents."""
    sources = [to_source(i, h) for i, h in enumerate(pipeline.retriever.search(claim, k), 1)]
    table = pipeline.checker.check([claim], [s.passage for s in sources])
    checked = [(citation_for(s, s.n, [t]), t) for s, t in zip(sources, table[0], strict=True)]
    checked.sort(key=lambda p: (not p[1].supported, -p[1].embedding))
    passages = tuple(c for c, _ in checked)
    store = pipeline.retriever.index.store
    docs = [d for i in dict.fromkeys(c.source.doc_id for c in passages) if (d := store.document(i))]
    return Lookup(claim, "claim", tuple(docs), passages)
