"""Citation lookup: a PMID, PMCID, DOI, title or claim -> the papers and supporting passages.

Identifiers are resolved in the store. Other text is first compared with the titles of the
documents retrieval finds; when none matches closely it is treated as a claim, and each retrieved
passage is checked for support with the same check answers get.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import Any, Literal

from base.errors import QuestionError
from base.text import content_stems
from corpus.model import (
    Document,
    document_json,
    normalize_doi,
    normalize_pmcid,
    normalize_pmid,
)
from rag.answer.citations import citation_for
from rag.answer.pipeline import Pipeline, to_source
from rag.answer.records import Citation
from rag.retrieve.hybrid import Hit

Kind = Literal["id", "pmid", "pmcid", "doi", "title", "claim"]
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


def identifier(query: str) -> tuple[Kind, str] | None:
    """``("pmid", "123")``, ``("pmcid", "PMC1")`` or ``("doi", "10.1/x")`` when ``query`` is one.

    A document id as litrag writes it (``hash:…``, ``pmid:…``, ``pmcid:…``, ``doi:…``, no space
    after the colon: what the UI and ``rag search`` show) is ``("id", <the id normalised>)``.
    """
    q = query.strip()
    prefix, _, rest = q.partition(":")
    prefix = prefix.lower()
    if rest and not any(c.isspace() for c in rest):
        value = {
            "hash": rest.lower() if re.fullmatch(r"[0-9a-fA-F]{16}", rest) else None,
            "pmid": normalize_pmid(rest),
            "pmcid": normalize_pmcid(rest),
            "doi": normalize_doi(rest),
        }.get(prefix)
        if value:
            return "id", f"{prefix}:{value}"
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
        doc = store.document(key) if kind == "id" else None
        docs = [doc] if doc else [d for i in store.resolve(key) if (d := store.document(i))]
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
    verdicts = pipeline.verifier.verify([claim], [s.passage for s in sources])[0]
    checked = [(citation_for(s, s.n, [v]), v) for s, v in zip(sources, verdicts, strict=True)]
    checked.sort(key=lambda p: (not p[1].supported, -p[1].support))
    passages = tuple(c for c, _ in checked)
    store = pipeline.retriever.index.store
    docs = [d for i in dict.fromkeys(c.source.doc_id for c in passages) if (d := store.document(i))]
    return Lookup(claim, "claim", tuple(docs), passages)


@dataclass(frozen=True, slots=True)
class Verification:
    """Whether one indexed paper supports a claim: the verdict on its best passage."""

    claim: str
    citation: Citation  # the paper's passage that supports the claim best, with the verdict

    def to_json(self) -> dict[str, Any]:
        """The ``rag verify --json`` object (a citation's keys, as in ``rag ask --json``)."""
        c = self.citation.to_json()
        keys = ("doc_id", "pmid", "title", "section", "supported", "support", "evidence",
                "evidence_start", "evidence_end")  # fmt: skip
        extra = {k: v for k, v in c.items() if k not in keys and k != "n"}
        return {"claim": self.claim, **{k: c[k] for k in keys}, **extra}


# Where a sentence joins a second assertion to its first: "X is at risk due to Y", "X, such as Y".
_CLAUSE = re.compile(
    r",?\s+\b(?:due to|because(?: of)?|owing to|as a result of|caused by|leading to|"
    r"resulting in|which (?:leads?|results?|causes?) (?:to|in)?|such as)\b\s+",
    re.IGNORECASE,
)


def clauses(claim: str) -> list[str]:
    """The parts of ``claim`` that assert something on their own (3+ content words each)."""
    parts = [p.strip(" ,.;") for p in _CLAUSE.split(claim)]
    return [p for p in parts if len(content_stems(p)) >= 3]


def verify_claim(pipeline: Pipeline, claim: str, paper: str) -> Verification:
    """Judge whether the indexed ``paper`` (a doc id, PMID, PMCID or DOI) supports ``claim``.

    Every passage of the paper is verified against the whole claim and against each of its
    clauses ("X is at risk due to Y" asserts X and Y): the paper supports the claim when every
    clause is supported by some passage, so a true statement cannot carry an invented reason.
    The reported passage and ``evidence`` are the best for the whole claim; ``support`` is the
    lowest of the parts' best supports.
    """
    c = " ".join(claim.split())
    if not c:
        raise QuestionError("the claim is empty: give the sentence to check")
    store = pipeline.retriever.index.store
    ids = store.resolve(paper)
    if not ids:
        raise QuestionError(f"no indexed paper has the id {paper!r} (a doc id, PMID, PMCID or DOI)")
    chunks = store.document_chunks(ids[0])
    hits = [Hit(rank=i, score=0.0, chunk=ch) for i, ch in enumerate(chunks, start=1)]
    sources = [to_source(h.rank, h) for h in hits]
    parts = [c, *(p for p in clauses(c) if p != c.strip(" ,.;"))]
    table = pipeline.verifier.verify(parts, [s.passage for s in sources])
    whole = table[0]
    best = max(range(len(sources)), key=lambda j: whole[j].support)
    weakest = min((max(row, key=lambda v: v.support) for row in table), key=lambda v: v.support)
    verdict = replace(whole[best], support=weakest.support, supported=weakest.supported)
    return Verification(c, citation_for(sources[best], 1, [verdict]))
