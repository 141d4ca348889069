"""Question -> checked answer: rewrite with the conversation, retrieve, refuse or answer, check.

:meth:`Pipeline.stream` yields :class:`Delta` pieces of the LLM's draft as they come, then one
final :class:`Answer` whose sentences and citations have been checked against the passages.
:meth:`Pipeline.ask` returns only that final answer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from rag.answer import CANNOT_ANSWER, Answer, AnswerMode, Delta, Source, Timings, Turn
from rag.citations import Claim, SupportChecker, close_loop, content_stems, parse_answer
from rag.errors import ConfigError, QuestionError
from rag.generation import DEFAULT_LLM_NAME, GenerationError, LocalModel, load_backend
from rag.prompts import answer_messages, rewrite_messages
from rag.retrieval import Filters, Hit, Retriever
from rag.search import open_retriever
from rag.settings import Settings

_FOLLOW_UP = re.compile(
    r"^\s*(and|or|but|also|what about|how about|what of|then|in|for|with)\b", re.I
)
_ANAPHORA = re.compile(r"\b(it|its|they|them|their|this|that|these|those|such)\b", re.I)


def to_source(n: int, hit: Hit) -> Source:
    """Hit number ``n`` as a numbered source."""
    c = hit.chunk
    return Source(
        n=n, doc_id=c.doc_id, title=c.title, section=c.section, passage=c.text,
        score=hit.score, pmid=c.pmid, pmcid=c.pmcid, doi=c.doi, journal=c.journal, year=c.year,
    )  # fmt: skip


def evidence_strength(hits: Sequence[Hit]) -> float:
    """The best dense cosine between the question and a retrieved passage (-1 if none)."""
    return max((h.dense_score for h in hits if h.dense_score is not None), default=-1.0)


class Pipeline:
    """Answers questions over one index; the LLM backend is loaded on first use."""

    def __init__(self, retriever: Retriever, settings: Settings) -> None:
        self.retriever = retriever
        self.settings = settings
        self.checker = SupportChecker(retriever.embedder, settings.answer)

    @classmethod
    def open(cls, folder: Path, settings: Settings) -> Pipeline:
        """A pipeline over the index in ``folder``."""
        return cls(open_retriever(folder, settings), settings)

    @property
    def model_name(self) -> str:
        """The LLM's name as configured (without loading it)."""
        g = self.settings.generation
        return g.endpoint_model or g.endpoint or g.model or DEFAULT_LLM_NAME

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
    ) -> Iterator[Delta | Answer]:
        """Draft pieces as the LLM writes them, then the checked :class:`Answer`.

        Raises :class:`QuestionError` for an empty question. A failing LLM does not raise: the
        answer falls back to extractive mode and says why in ``warnings``.
        """
        start = time.perf_counter()
        q, warnings = self._clean(question)
        mode = mode or self.settings.answer.mode
        standalone = self.standalone(q, history) if history else q
        hits = self.retriever.search(standalone, k or self.settings.answer.sources, filters)
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
        if mode == "generate":
            try:
                yield from self._generate(base, start)
                return
            except (GenerationError, ConfigError) as exc:
                base = _warn(base, f"the LLM failed ({exc}); showing an extractive answer instead")
        yield self._extractive(base, start)

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
        """``question`` made standalone with the conversation (unchanged when it already is).

        An LLM rewrite is used when it keeps the follow-up's words and adds the conversation's
        topic; otherwise the last question is prepended, which serves retrieval well enough.
        """
        own = content_stems(question)
        follow_up = _FOLLOW_UP.match(question) or _ANAPHORA.search(question) or len(own) <= 5
        if not history or not follow_up:
            return question
        previous = history[-1].question
        fallback = f"{previous} {question}"
        if self.settings.answer.mode == "extractive" and not self.settings.generation.endpoint:
            return fallback
        try:
            reply = "".join(load_backend(self.settings.generation).stream(
                rewrite_messages(question, history), 60))  # fmt: skip
        except (GenerationError, ConfigError):
            return fallback
        rewrite = reply.strip().splitlines()[0].strip(' "') if reply.strip() else ""
        stems = content_stems(rewrite)
        topic = content_stems(previous) - own
        if rewrite and own <= stems and stems & topic and len(rewrite) < 4 * len(fallback):
            return rewrite
        return fallback

    def _generate(self, base: Answer, start: float) -> Iterator[Delta | Answer]:
        backend = load_backend(self.settings.generation)
        excerpts = self.excerpts(base.standalone_question, base.sources)
        messages = answer_messages(base.standalone_question, excerpts)
        pieces: list[str] = []
        first: float | None = None
        gen_start = time.perf_counter()
        for piece in backend.stream(messages, self.settings.generation.max_new_tokens):
            first = first or time.perf_counter()
            pieces.append(piece)
            yield Delta(piece)
        text = "".join(pieces).strip()
        gen_end = time.perf_counter()
        if isinstance(backend, LocalModel):
            tokens = len(backend.tokenizer(text, add_special_tokens=False)["input_ids"])
        else:
            tokens = len(pieces)  # one server-sent event per token on vLLM, llama.cpp, Ollama
        timings = Timings(
            retrieve_ms=base.timings.retrieve_ms,
            first_token_ms=(first - start) * 1000 if first else None,
            tokens=tokens,
            tokens_per_s=tokens / (gen_end - gen_start) if gen_end > gen_start else None,
        )
        base = replace(base, timings=timings, model=backend.name)
        if not text:
            raise GenerationError(f"{backend.name} returned an empty answer")
        if CANNOT_ANSWER in text.lower():
            yield _finish(base, start)
            return
        check_start = time.perf_counter()
        claims = parse_answer(text, len(base.sources))
        answer, sentences, citations = close_loop(claims, base.sources, self.checker)
        if not sentences:
            raise GenerationError("no sentence of the generated answer was supported")
        timings = replace(timings, check_ms=(time.perf_counter() - check_start) * 1000)
        done = replace(
            base, answer=answer, abstained=False, sentences=sentences, citations=citations,
            timings=timings,
        )  # fmt: skip
        yield _finish(done, start)

    def excerpts(self, question: str, sources: Sequence[Source]) -> list[Source]:
        """``sources`` cut to their sentences closest to the question (in passage order).

        A short, focused prompt helps small models stay on the evidence and shortens the time to
        the first token; the citation check still reads the whole passage.
        """
        keep = self.settings.answer.excerpt_sentences
        if not keep:
            return list(sources)
        query = self.retriever.embedder.embed_query(question)[0]
        out = []
        for source, (spans, vectors) in zip(
            sources, self.checker.sentence_vectors([s.passage for s in sources]), strict=True
        ):
            best = sorted(np.argsort(-(vectors @ query))[:keep])
            text = " ".join(source.passage[spans[i][0] : spans[i][1]].strip() for i in best)
            out.append(replace(source, passage=text))
        return out

    def _extractive(self, base: Answer, start: float) -> Answer:
        """The best evidence sentences for the question, each citing its passage."""
        sources = base.sources
        per_source = self.checker.sentence_vectors([s.passage for s in sources])
        query = self.retriever.embedder.embed_query(base.standalone_question)[0]
        candidates = []
        for j, (spans, vectors) in enumerate(per_source):
            for (a, b), v in zip(spans, vectors, strict=True):
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
        claims = [Claim(text, (j + 1,)) for _, j, text, _ in chosen]
        check_start = time.perf_counter()
        answer, sentences, citations = close_loop(claims, sources, self.checker)
        check_ms = (time.perf_counter() - check_start) * 1000
        timings = Timings(retrieve_ms=base.timings.retrieve_ms, check_ms=check_ms)
        done = replace(
            base, answer=answer, abstained=not sentences, mode="extractive", model="",
            sentences=sentences, citations=citations, timings=timings,
        )  # fmt: skip
        return _finish(done if sentences else replace(base, mode="extractive"), start)


def _finish(answer: Answer, start: float) -> Answer:
    """``answer`` with its total time set."""
    timings = replace(answer.timings, total_ms=(time.perf_counter() - start) * 1000)
    return replace(answer, timings=timings)


def _warn(answer: Answer, warning: str) -> Answer:
    return replace(answer, warnings=(*answer.warnings, warning))
