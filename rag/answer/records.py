"""The records an answer is made of: sources, citations, sentences, timings, the answer itself.

These are the seam between ``rag`` (which makes them) and ``ui``/``eval`` (which show and score
them). ``Answer.to_json`` is the JSON interface of ``rag ask --json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from corpus.model import paper_url

# paper-qa's CANNOT_ANSWER_PHRASE idea: one named phrase that tests and the UI can look for.
CANNOT_ANSWER = "cannot answer from the indexed literature"

AnswerMode = Literal["generate", "extractive"]


@dataclass(frozen=True, slots=True)
class Source:
    """A retrieved passage with its document's metadata, as numbered for the prompt.

    ``start``/``end`` are the passage's character offsets in its section's text (None when
    not known) and ``pages`` the pages it lies on, in order (empty for formats without pages).
    """

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
    start: int | None = None
    end: int | None = None
    pages: tuple[int, ...] = ()

    @property
    def url(self) -> str | None:
        """PubMed page of the paper, else its DOI link, else None."""
        return paper_url(self.pmid, self.doi)

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
            "start": self.start,
            "end": self.end,
            "pages": list(self.pages),
        }


@dataclass(frozen=True, slots=True)
class Citation:
    """A source the answer cites, numbered in order of first use, with its support check.

    ``evidence`` is the passage sentence that best supports the citing sentences and
    ``evidence_start``/``evidence_end`` its character offsets in ``source.passage`` (whereas the
    JSON's ``start``/``end`` are the passage's own offsets in its section, as in :class:`Source`).
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
            "start": s.start,
            "end": s.end,
            "pages": list(s.pages),
        }


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of the answer, the citation numbers it carries and whether they support it.

    ``paragraph`` numbers the answer's paragraphs: consecutive sentences with the same number
    belong to one paragraph (the numbers grow but may skip where sentences were removed).
    """

    text: str
    citations: tuple[int, ...]
    supported: bool
    paragraph: int = 0

    def split_stop(self) -> tuple[str, str]:
        """The text without its final stop, and the stop ("" when none): markers go between.

        ``("MDM2 drives HPD", ".")`` for "MDM2 drives HPD.", shown cited as "MDM2 drives HPD [1]."
        """
        stop = self.text[-1:] if self.text.endswith((".", "!", "?")) else ""
        return self.text[: len(self.text) - len(stop)].rstrip(), stop

    def to_json(self) -> dict[str, Any]:
        """The sentence as a JSON object."""
        return {
            "text": self.text,
            "citations": list(self.citations),
            "supported": self.supported,
            "paragraph": self.paragraph,
        }


@dataclass(frozen=True, slots=True)
class Removed:
    """A sentence of the draft that no passage it cites supports, taken out of the answer.

    ``cited`` holds the numbers of the sources (``Answer.sources``) it cited or was matched to;
    ``support`` is the verifier's best probability for it among them.
    """

    text: str
    cited: tuple[int, ...]
    support: float
    paragraph: int = 0

    def to_json(self) -> dict[str, Any]:
        """The ``rag ask --json`` form: ``{"text", "cited", "support"}``."""
        return {"text": self.text, "cited": list(self.cited), "support": round(self.support, 4)}


@dataclass(frozen=True, slots=True)
class Timings:
    """Where the time of one answer went, in milliseconds (tokens_per_s: the decode rate after
    the first token)."""

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
    removed: tuple[Removed, ...] = ()  # draft sentences the verifier did not support

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
            "sentences": [s.to_json() for s in self.sentences],
            "sources": [s.to_json() for s in self.sources],
            "warnings": list(self.warnings),
            "removed": [r.to_json() for r in self.removed],
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


@dataclass(frozen=True, slots=True)
class Evidence:
    """The best evidence sentences, each cited and checked, as soon as retrieval is done: an
    extractive answer shown while the LLM writes (and kept when the LLM fails)."""

    answer: Answer

    def to_json(self) -> dict[str, Any]:
        """``{"evidence": <the extractive answer's rag ask --json object>}``."""
        return {"evidence": self.answer.to_json()}


@dataclass(frozen=True, slots=True)
class Checked:
    """A sentence of the draft, checked as soon as it was complete (before the draft ends).

    ``cited`` are the source numbers the draft gave it; ``support`` the best cited (or, for an
    uncited sentence, the best of all) passage's support. The final :class:`Answer` decides.
    """

    text: str
    cited: tuple[int, ...]
    supported: bool
    support: float

    def to_json(self) -> dict[str, Any]:
        """``{"checked": {"text", "cited", "supported", "support"}}``."""
        verdict = {"text": self.text, "cited": list(self.cited), "supported": self.supported,
                   "support": round(self.support, 4)}  # fmt: skip
        return {"checked": verdict}


Event = Delta | Evidence | Checked | Answer  # what Pipeline.stream yields
