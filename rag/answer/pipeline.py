"""Question -> checked answer: rewrite with the conversation, retrieve, refuse or answer, check.

:meth:`Pipeline.stream` yields, in generate mode, the best evidence sentences as soon as
retrieval is done (:class:`Evidence`), then :class:`Delta` pieces of the LLM's draft as they
come, each draft sentence's verdict as soon as the sentence is complete (:class:`Checked`), and
last one :class:`Answer` whose sentences and citations have been checked against the passages.
:meth:`Pipeline.ask` returns only that final answer.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from base.errors import ConfigError, GenerationError, QuestionError
from base.settings import EmbeddingSettings, Settings
from rag.answer import followup
from rag.answer.citations import Claim, close_loop, parse_answer
from rag.answer.engines import load_backend
from rag.answer.engines.base import model_title
from rag.answer.engines.packaged import packaged
from rag.answer.prompts import answer_messages, rewrite_messages
from rag.answer.records import (
    CANNOT_ANSWER,
    Answer,
    AnswerMode,
    Checked,
    Delta,
    Event,
    Evidence,
    Source,
    Timings,
    Turn,
)
from rag.answer.verify import Verifier, judge_from, load_cross_encoder, load_weights
from rag.index.embed.embedder import Embedder, load_embedder
from rag.index.embed.llamacpp import RUNTIME as LLAMA_CPP
from rag.retrieve.hybrid import Filters, Hit, Retrieval, Retriever, open_retriever


def to_source(n: int, hit: Hit) -> Source:
    """Hit number ``n`` as a numbered source, with its chunk's offsets and pages."""
    c = hit.chunk
    return Source(
        n=n, doc_id=c.doc_id, title=c.title, section=c.section, passage=c.text,
        score=hit.score, pmid=c.pmid, pmcid=c.pmcid, doi=c.doi, journal=c.journal, year=c.year,
        start=c.start, end=c.end, pages=page_range(c.page_start, c.page_end),
    )  # fmt: skip


def page_range(first: int | None, last: int | None) -> tuple[int, ...]:
    """``(4, 5, 6)`` for pages 4 to 6; ``()`` for a chunk without pages."""
    if first is None:
        return ()
    return tuple(range(first, max(first, last or first) + 1))


def evidence_strength(hits: Sequence[Hit]) -> float:
    """The best dense cosine between the question and a retrieved passage (-1 if none)."""
    return max((h.dense_score for h in hits if h.dense_score is not None), default=-1.0)


class Pipeline:
    """Answers questions over one index; the LLM backend is loaded on first use."""

    def __init__(self, retriever: Retriever, settings: Settings) -> None:
        self.retriever = retriever
        self.settings = settings
        self.verifier = make_verifier(retriever.embedder, settings)
        # The evidence shown before the LLM writes is checked without the LLM judge (a judge on
        # an endpoint costs a request per pair); the answer given in its place is judged.
        self.quick_verifier = copy.copy(self.verifier)
        self.quick_verifier.judge = None

    @classmethod
    def open(cls, uri: str | Path, settings: Settings) -> Pipeline:
        """A pipeline over the index ``uri`` names (a directory or a Milvus URI)."""
        return cls(open_retriever(str(uri), settings), settings)

    @property
    def model_name(self) -> str:
        """The LLM's name as configured (without loading it)."""
        return model_title(self.settings.generation)

    def ask(
        self,
        question: str,
        history: Sequence[Turn] = (),
        mode: AnswerMode | None = None,
        k: int | None = None,
        filters: Filters | None = None,
    ) -> Answer:
        """The checked answer to ``question`` (see :meth:`stream`)."""
        final: Answer | None = None
        for event in self.stream(question, history, mode, k, filters):
            if isinstance(event, Answer):
                final = event
        if final is None:  # stream always ends with an Answer; this guards refactors
            raise QuestionError(f"no answer was produced for {question!r}")
        return final

    def stream(
        self,
        question: str,
        history: Sequence[Turn] = (),
        mode: AnswerMode | None = None,
        k: int | None = None,
        filters: Filters | None = None,
    ) -> Iterator[Event]:
        """The evidence, draft pieces as the LLM writes them with each sentence's verdict, then
        the checked :class:`Answer`.

        Raises :class:`QuestionError` for an empty question. A failing LLM does not raise: the
        answer falls back to extractive mode and says why in ``warnings``.
        """
        start = time.perf_counter()
        q, warnings = self._clean(question)
        mode = mode or self.settings.answer.mode
        standalone = self.standalone(q, history) if history else q
        retrieval = self.retriever.retrieve(standalone, k or self.settings.answer.sources, filters)
        hits = retrieval.hits
        sources = tuple(to_source(i, h) for i, h in enumerate(hits, start=1))
        retrieve_ms = (time.perf_counter() - start) * 1000
        base = Answer(
            question=q, answer=CANNOT_ANSWER, abstained=True, mode=mode, sources=sources,
            standalone_question=standalone, model="" if mode == "extractive" else self.model_name,
            warnings=tuple(warnings), timings=Timings(retrieve_ms=retrieve_ms),
        )  # fmt: skip
        if evidence_strength(hits) < self.settings.answer.min_evidence:
            yield _finish(base, start)
            return
        query = self.query_vector(retrieval)
        if mode == "generate":
            evidence = self._extractive(base, start, query, self.quick_verifier)
            yield Evidence(evidence)
            try:
                yield from self._generate(base, start, query, evidence)
                return
            except (GenerationError, ConfigError) as exc:
                note = f"the LLM failed ({exc}); showing an extractive answer instead"
                yield self._fallback(_warn(base, note), evidence, start, query)
                return
        yield self._extractive(base, start, query)

    def query_vector(self, retrieval: Retrieval) -> np.ndarray:
        """The question's vector as retrieval made it (embedded here only if it made none)."""
        if retrieval.query_vector is not None and self.verifier.embedder is self.retriever.embedder:
            return retrieval.query_vector
        # The verifier's own embedder (a GGUF retriever has no token vectors): its space.
        vector: np.ndarray = self.verifier.embedder.embed_query(retrieval.query)[0]
        return vector

    def _clean(self, question: str) -> tuple[str, list[str]]:
        q = " ".join(question.split())
        if not q:
            raise QuestionError("the question is empty: type a question about the literature")
        limit = self.settings.answer.max_question_chars
        if len(q) > limit:
            note = f"the question was {len(q):,} characters; only the first {limit:,} were used"
            return q[:limit], [note]
        return q, []

    def standalone(self, question: str, history: Sequence[Turn]) -> str:
        """``question`` made standalone with the conversation (see :mod:`rag.answer.followup`)."""
        local_extractive = (
            self.settings.answer.mode == "extractive" and not self.settings.generation.endpoint
        )
        return followup.standalone(question, history, None if local_extractive else self._rewrite)

    def _rewrite(self, question: str, history: Sequence[Turn]) -> str:
        """The LLM's reply to the rewrite prompt ("" when the LLM fails)."""
        try:
            backend = load_backend(self.settings.generation)
            return "".join(backend.stream(rewrite_messages(question, history), 60))
        except (GenerationError, ConfigError):
            return ""

    def _generate(
        self, base: Answer, start: float, query: np.ndarray, evidence: Answer
    ) -> Iterator[Delta | Checked | Answer]:
        backend = load_backend(self.settings.generation)
        excerpts = self.excerpts(query, base.sources)
        messages = answer_messages(base.standalone_question, excerpts)
        pieces: list[str] = []
        first: float | None = None
        checked = 0  # draft sentences checked so far
        live = self.verifier.judge is None
        gen_start = time.perf_counter()
        for piece in backend.stream(messages, self.settings.generation.max_new_tokens):
            first = first or time.perf_counter()
            pieces.append(piece)
            yield Delta(piece)
            # A sentence may have ended: check the finished ones. Not with an LLM judge: it would
            # wait for the engine this reply is still using; those are checked when it ends.
            if live and _SENTENCE_END.search(piece):
                claims = parse_answer("".join(pieces), len(base.sources))[:-1]
                yield from (self._check(c, base) for c in claims[checked:])
                checked = max(checked, len(claims))
        text = "".join(pieces).strip()
        gen_end = time.perf_counter()
        counted = backend.count_tokens(text)
        # An endpoint cannot count: one server-sent event per token on vLLM, llama.cpp, Ollama.
        tokens = len(pieces) if counted is None else counted
        # The decode rate: tokens after the first over the time after it (the prompt's
        # evaluation, which the first token waits for, is first_token_ms).
        decode_s = gen_end - (first or gen_start)
        timings = Timings(
            retrieve_ms=base.timings.retrieve_ms,
            first_token_ms=(first - start) * 1000 if first else None,
            tokens=tokens,
            tokens_per_s=(tokens - 1) / decode_s if tokens > 1 and decode_s > 0 else None,
        )
        base = replace(base, timings=timings, model=backend.name)
        if not text:
            raise GenerationError(f"{backend.name} returned an empty answer")
        if CANNOT_ANSWER in text.lower():
            yield _finish(base, start)
            return
        check_start = time.perf_counter()
        claims = parse_answer(text, len(base.sources))
        yield from (self._check(c, base) for c in claims[checked:])
        answer, sentences, citations, removed = close_loop(
            claims, base.sources, self.verifier, base.standalone_question
        )
        timings = replace(timings, check_ms=(time.perf_counter() - check_start) * 1000)
        base = replace(base, timings=timings, removed=removed)
        if not sentences:
            note = "no sentence of the generated answer is supported by its sources"
            yield self._fallback(_warn(base, f"{note}; showing an extractive answer instead"),
                                 evidence, start, query)  # fmt: skip
            return
        done = replace(
            base, answer=answer, abstained=False, sentences=sentences, citations=citations
        )
        yield _finish(done, start)

    def _check(self, claim: Claim, base: Answer) -> Checked:
        """One finished draft sentence checked against the passages it cites."""
        _, sentences, citations, removed = close_loop(
            [claim], base.sources, self.verifier, base.standalone_question
        )
        supported = bool(sentences) and sentences[0].supported
        support = max((c.support for c in citations), default=0.0)
        return Checked(
            claim.text, claim.cited, supported, removed[0].support if removed else support
        )

    def excerpts(self, query: np.ndarray, sources: Sequence[Source]) -> list[Source]:
        """``sources`` cut to their sentences closest to the question (in passage order).

        ``query`` is the question's vector, as :meth:`Retriever.retrieve` returned it.

        A short, focused prompt helps small models stay on the evidence and shortens the time to
        the first token; the citation check still reads the whole passage.
        """
        keep = self.settings.answer.excerpt_sentences
        if not keep:
            return list(sources)
        out = []
        for source, view in zip(
            sources, self.verifier.passage_views([s.passage for s in sources]), strict=True
        ):
            best = sorted(np.argsort(-(view.vectors @ query))[:keep])
            text = " ".join(
                source.passage[view.spans[i][0] : view.spans[i][1]].strip() for i in best
            )
            out.append(replace(source, passage=text))
        return out

    def _fallback(self, base: Answer, evidence: Answer, start: float, query: np.ndarray) -> Answer:
        """The extractive answer given instead of a generated one: the evidence already shown,
        with ``base``'s warnings, removals and timings (checked again where a judge is on)."""
        if self.verifier.judge is not None:
            return self._extractive(base, start, query)
        timings = replace(base.timings, check_ms=base.timings.check_ms + evidence.timings.check_ms)
        if evidence.abstained:
            return _finish(replace(base, mode="extractive", timings=timings), start)
        return _finish(replace(evidence, warnings=base.warnings, timings=timings,
                               removed=base.removed, model=""), start)  # fmt: skip

    def _extractive(
        self, base: Answer, start: float, query: np.ndarray, verifier: Verifier | None = None
    ) -> Answer:
        """The passage sentences closest to ``query`` (the question's vector), each cited."""
        verifier = verifier or self.verifier
        sources = base.sources
        per_source = verifier.passage_views([s.passage for s in sources])
        candidates = []
        for j, view in enumerate(per_source):
            for (a, b), v in zip(view.spans, view.vectors, strict=True):
                if b - a >= 40:  # skip fragments such as "BACKGROUND:" or "Results."
                    candidates.append((float(v @ query), j, sources[j].passage[a:b].strip(), v))
        candidates.sort(key=lambda c: -c[0])
        chosen: list[tuple[float, int, str, np.ndarray]] = []
        for cand in candidates:
            if len(chosen) == self.settings.answer.extractive_sentences:
                break
            if any(float(cand[3] @ c[3]) > 0.9 for c in chosen):
                continue  # near-duplicate of a chosen sentence (overlapping chunks)
            chosen.append(cand)
        claims = [Claim(without_label(text), (j + 1,)) for _, j, text, _ in chosen]
        check_start = time.perf_counter()
        answer, sentences, citations, _ = close_loop(claims, sources, verifier)
        check_ms = (time.perf_counter() - check_start) * 1000
        timings = replace(base.timings, check_ms=base.timings.check_ms + check_ms)
        done = replace(
            base, answer=answer, abstained=not sentences, mode="extractive", model="",
            sentences=sentences, citations=citations, timings=timings,
        )  # fmt: skip
        return _finish(done if sentences else replace(base, mode="extractive"), start)


# A structured abstract's part label at a sentence start ("OBJECTIVE: ...", "MATERIALS AND
# METHODS: ..."): PubMed and the readers keep them as "LABEL: text" (corpus/pubmed.py).
_LABEL = re.compile(r"^[A-Z][A-Z ,/&()-]{2,60}:\s+(?=\S)")


def without_label(sentence: str) -> str:
    """``sentence`` without a leading structured-abstract label such as ``"OBJECTIVE: "``."""
    return _LABEL.sub("", sentence, count=1)


def make_verifier(embedder: Embedder, settings: Settings) -> Verifier:
    """The citation verifier ``settings`` ask for, with its optional LLM judge and cross-encoder.

    It embeds with ``embedder`` unless that is a GGUF model under llama.cpp (no token vectors):
    then with the packaged sentence-transformers embedder.

    ``answer.judge = "auto"`` asks the user's own model or endpoint when the fitted weights have
    a mix for it, and a packaged model only where its table entry says its judgements earn their
    cost (none does: see docs/benchmarks.md); an endpoint answers with its logprobs where it
    returns them. The LLM is loaded at the first judgement, not here.
    """
    a, g = settings.answer, settings.generation
    if embedder.runtime == LLAMA_CPP:
        # The verifier reads token vectors, which llama.cpp pools away, and its weights were
        # fitted on the packaged sentence-transformers embedder's: that one checks citations.
        embedder = load_embedder(EmbeddingSettings(threads=settings.embedding.threads))
    weights = load_weights()
    known = None if g.endpoint else packaged(g.model)
    earns = known.judge if known is not None else True
    wanted = a.judge == "on" or (
        a.judge == "auto" and earns and any("judge" in k for k in weights.extras)
    )

    def judge(claim: str, passage: str) -> float:
        return judge_from(load_backend(g))(claim, passage)

    cross_encoder = load_cross_encoder(a.cross_encoder) if a.cross_encoder else None
    return Verifier(embedder, a, judge if wanted else None, cross_encoder, weights)


_SENTENCE_END = re.compile(r"[.!?\]\n]")


def _finish(answer: Answer, start: float) -> Answer:
    """``answer`` with its total time set."""
    timings = replace(answer.timings, total_ms=(time.perf_counter() - start) * 1000)
    return replace(answer, timings=timings)


def _warn(answer: Answer, warning: str) -> Answer:
    return replace(answer, warnings=(*answer.warnings, warning))
