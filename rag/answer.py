"""The records an answer is made of: sources, citations, sentences, timings, the answer itself.

These are the seam between ``rag`` (which makes them) and ``ui``/``eval`` (which show and score
them). ``Answer.to_json`` is the JSON interface of ``rag ask --json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# paper-qa's CANNOT_ANSWER_PHRASE idea: one named phrase that tests and the UI can look for.
CANNOT_ANSWER = "cannot answer from the indexed literature"

AnswerMode = Literal["generate", "extractive"]


@dataclass(frozen=True, slots=True)
class Source:
    """A retrieved passage with its document's metadata, as numbered for the prompt."""

    n: int
    doc_id: str
    title: str
    section: str
    passage: str
    score: float
    pmid: str | None = None
    pmcid: str | None = None
    doi: str | None = None
    journal: str | None = None
    year: int | None = None

    @property
    def url(self) -> str | None:
        """PubMed page of the paper, else its DOI link, else None."""
        if self.pmid:
            return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"
        if self.doi:
            return f"https://doi.org/{self.doi}"
        return None

    def to_json(self) -> dict[str, Any]:
        """The source as a JSON object."""
        return {
            "n": self.n,
            "doc_id": self.doc_id,
            "pmid": self.pmid,
            "pmcid": self.pmcid,
            "doi": self.doi,
            "title": self.title,
            "journal": self.journal,
            "year": self.year,
            "section": self.section,
            "passage": self.passage,
            "score": round(self.score, 6),
            "url": self.url,
        }


@dataclass(frozen=True, slots=True)
class Citation:
    """A source the answer cites, numbered in order of first use, with its support check.

    ``evidence`` is the passage sentence that best supports the citing sentences and
    ``evidence_start``/``evidence_end`` its character offsets in ``source.passage``.
    """

    n: int
    source: Source
    supported: bool
    support: float  # the best support score over the sentences that cite it (0..1)
    evidence: str = ""
    evidence_start: int = 0
    evidence_end: int = 0

    def to_json(self) -> dict[str, Any]:
        """The interface fields first, then the extras the UI and eval use."""
        s = self.source
        return {
            "n": self.n,
            "doc_id": s.doc_id,
            "pmid": s.pmid,
            "doi": s.doi,
            "title": s.title,
            "section": s.section,
            "passage": s.passage,
            "supported": self.supported,
            "pmcid": s.pmcid,
            "journal": s.journal,
            "year": s.year,
            "url": s.url,
            "support": round(self.support, 4),
            "evidence": self.evidence,
            "evidence_start": self.evidence_start,
            "evidence_end": self.evidence_end,
        }


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of the answer, the citation numbers it carries and whether they support it."""

    text: str
    citations: tuple[int, ...]
    supported: bool


@dataclass(frozen=True, slots=True)
class Timings:
    """Where the time of one answer went, in milliseconds (tokens_per_s for generation)."""

    retrieve_ms: float = 0.0
    first_token_ms: float | None = None
    total_ms: float = 0.0
    tokens_per_s: float | None = None
    check_ms: float = 0.0
    tokens: int = 0

    def to_json(self) -> dict[str, Any]:
        """Rounded figures."""

        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 1)

        return {
            "retrieve_ms": r(self.retrieve_ms),
            "first_token_ms": r(self.first_token_ms),
            "total_ms": r(self.total_ms),
            "tokens_per_s": r(self.tokens_per_s),
            "check_ms": r(self.check_ms),
            "tokens": self.tokens,
        }


@dataclass(frozen=True, slots=True)
class Answer:
    """A checked answer: text with ``[n]`` markers, the citations behind them, the sources seen."""

    question: str
    answer: str
    abstained: bool
    mode: AnswerMode
    citations: tuple[Citation, ...] = ()
    sentences: tuple[Sentence, ...] = ()
    sources: tuple[Source, ...] = ()  # every retrieved passage (the closest ones on refusal)
    standalone_question: str = ""  # the follow-up rewritten with the conversation
    model: str = ""
    timings: Timings = field(default_factory=Timings)
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The ``rag ask --json`` object: the interface keys first, extras after."""
        return {
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [c.to_json() for c in self.citations],
            "timings": self.timings.to_json(),
            "question": self.question,
            "standalone_question": self.standalone_question or self.question,
            "mode": self.mode,
            "model": self.model,
            "sentences": [
                {"text": s.text, "citations": list(s.citations), "supported": s.supported}
                for s in self.sentences
            ],
            "sources": [s.to_json() for s in self.sources],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class Turn:
    """One earlier exchange of a conversation."""

    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class Delta:
    """A piece of streamed answer text (the draft, before citations are checked)."""

    text: str
