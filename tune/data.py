"""Gold questions -> training examples: a split by question, positives, and mined hard negatives.

Held-out rules (issue 16), kept here where they are applied:

* Training reads only the gold files it is given (``--gold``); nothing in litrag names a held-out
  set. The shared sets meant for tuning are ``../shared/gold/bioasq`` (7B-10B) and
  ``../shared/gold/pubmedqa/pqal_dev.json``.
* The validation split is by **question**, never by snippet or pair: a question is in it when a
  seeded hash of its id falls below the fraction (:func:`is_validation`), so every passage of a
  validation question stays out of training and the split is the same on every run and machine.
* Validation questions are mined too, but only to measure (their candidate pools give the dev
  figures); :func:`training_examples` drops them before any pair is made.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np

from base.errors import GoldError
from eval.gold import GoldQuestion, load_gold
from rag.index.embed.embedder import Embedder
from rag.retrieve.hybrid import Hit, Retriever
from rag.retrieve.rerank import passage_text as rerank_text

SEED = 16  # the split's seed; changing it changes which questions are held out
HARD_NEGATIVE_FROM = 3  # BioASQ gold lists are incomplete: the top 2 non-gold hits are often
# relevant, so hard negatives start at the 3rd non-gold hit of each retriever.

POOL = 30  # first-stage candidates kept per question for the dev figures (the rerank depth)

Progress = Callable[[int, int], None]


def gold_kind_of(path: Path) -> str:
    """The gold kind of ``path``: ``jsonl`` by suffix, ``bioasq`` for a folder or a file with a
    ``questions`` list, ``pubmedqa`` for a JSON object keyed by PMID."""
    if path.suffix == ".jsonl":
        return "jsonl"
    if path.is_dir():
        return "bioasq"
    if not path.is_file():
        raise GoldError(f"{path}: no such file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GoldError(f"{path}: not a JSON gold file ({exc})") from exc
    return "bioasq" if isinstance(data, dict) and "questions" in data else "pubmedqa"


def load_questions(paths: Sequence[Path]) -> list[GoldQuestion]:
    """Every question of the gold files, each id once (the first file's copy wins)."""
    found: dict[str, GoldQuestion] = {}
    for path in paths:
        for q in load_gold(gold_kind_of(path), path):
            if q.gold_ids:
                found.setdefault(q.id, q)
    if not found:
        raise GoldError(f"no question with gold documents in {', '.join(map(str, paths))}")
    return list(found.values())


def is_validation(question_id: str, fraction: float, seed: int = SEED) -> bool:
    """Whether the question is held out: a seeded SHA-256 of its id, read as a number in [0, 1)."""
    digest = hashlib.sha256(f"{seed}:{question_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def split(
    questions: Sequence[GoldQuestion], fraction: float, seed: int = SEED
) -> tuple[list[GoldQuestion], list[GoldQuestion]]:
    """(training, validation) questions; whole questions, by :func:`is_validation`."""
    held = [is_validation(q.id, fraction, seed) for q in questions]
    return [q for q, h in zip(questions, held, strict=True) if not h], [
        q for q, h in zip(questions, held, strict=True) if h
    ]


def write_validation(questions: Iterable[GoldQuestion], path: Path) -> None:
    """The held-out questions in the ``jsonl`` gold kind, for ``rag eval jsonl --gold path``."""
    with path.open("w", encoding="utf-8") as out:
        for q in questions:
            line = {"question": q.question, "gold_ids": list(q.gold_ids), "answer": q.ideal_answer,
                    "type": q.type, "id": q.id, "label": q.label}  # fmt: skip
            out.write(json.dumps(line, ensure_ascii=False) + "\n")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A passage the first stage found for a question, as the embedder and BM25 see it."""

    doc_id: str
    text: str
    gold: bool


@dataclass(frozen=True, slots=True)
class Mined:
    """One question with its positives (gold passages) and its first-stage candidate pool."""

    question: GoldQuestion
    positives: tuple[str, ...]
    negatives: tuple[str, ...]  # non-gold BM25 and dense hits, interleaved, hardest first
    pool: tuple[Candidate, ...]  # every first-stage candidate (gold or not), for dev figures


def passage_text(hit: Hit) -> str:
    """What the index embedded for the hit's chunk: title, heading, passage (see chunking.py)."""
    return rerank_text(hit.chunk.title, hit.chunk.section, hit.chunk.text)


def mine(
    questions: Sequence[GoldQuestion],
    retriever: Retriever,
    depth: int = 30,
    per_question: int = 4,
    progress: Progress | None = None,
) -> list[Mined]:
    """Positives and hard negatives for each question from the index's BM25 and dense hits.

    Positives are the gold documents' passages the first stage found (the index's own text), at
    most ``per_question``. BioASQ snippets are not used: they lack the title and section lines
    every indexed passage and every negative has, so a model could learn that form instead of
    relevance. A reranker trained with them (40 min, 30% of an epoch, 2026-11-22) scored the
    validation questions' recall@10 0.519 alone against the fused first stage's 0.815.
    """
    mined = []
    cached = _QueryCache(retriever.embedder, [q.question for q in questions])
    retriever = Retriever(retriever.index, cast("Embedder", cached), retriever.settings)
    for n, q in enumerate(questions):
        gold = set(q.gold_ids)
        sparse = retriever.search(q.question, depth, mode="sparse")
        dense = retriever.search(q.question, depth, mode="dense")
        found = [passage_text(h) for h in _interleave(sparse, dense) if h.doc_id in gold]
        positives = tuple(dict.fromkeys(found))[:per_question]
        negatives = _interleave(
            [h for h in sparse if h.doc_id not in gold][HARD_NEGATIVE_FROM - 1 :],
            [h for h in dense if h.doc_id not in gold][HARD_NEGATIVE_FROM - 1 :],
        )
        pool = {h.doc_id: Candidate(h.doc_id, passage_text(h), h.doc_id in gold)
                for h in _interleave(sparse, dense)}  # fmt: skip
        pool_list = tuple(pool.values())[:POOL]
        if positives:
            negs = tuple(dict.fromkeys(passage_text(h) for h in negatives))
            mined.append(Mined(q, positives, negs, pool_list))
        if progress:
            progress(n + 1, len(questions))
    return mined


class _QueryCache:
    """The retriever's embedder with every question embedded up front, 64 to a batch.

    One question at a time cost 0.24-0.65 s each on the loaded 2-core machine (2026-11-22,
    load 8), mostly per-call overhead; batches make mining 2,000 questions minutes shorter.
    """

    def __init__(self, embedder: Embedder, questions: Sequence[str]) -> None:
        self.inner = embedder
        self.dimension = embedder.dimension
        texts = list(dict.fromkeys(questions))
        vectors = embedder.embed_queries(texts) if texts else np.zeros((0, self.dimension))
        self.vectors: dict[str, np.ndarray] = dict(zip(texts, vectors, strict=True))

    def embed_query(self, text: str) -> np.ndarray:
        vector = self.vectors.get(text)
        return vector[None] if vector is not None else self.inner.embed_query(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def _interleave(a: Sequence[Hit], b: Sequence[Hit]) -> list[Hit]:
    out: list[Hit] = []
    for i in range(max(len(a), len(b))):
        out += [x[i] for x in (a, b) if i < len(x)]
    return out


def training_examples(
    mined: Sequence[Mined], fraction: float, seed: int = SEED
) -> list[tuple[str, str, str, str]]:
    """(question id, question, positive, hard negative) for the training questions only.

    Each positive gets its own negative (cycled through the question's list); a validation
    question contributes nothing.
    """
    rows = []
    for m in mined:
        if is_validation(m.question.id, fraction, seed) or not m.negatives:
            continue
        for i, positive in enumerate(m.positives):
            negative = m.negatives[i % len(m.negatives)]
            rows.append((m.question.id, m.question.question, positive, negative))
    return rows


def batches_without_repeats(
    rows: Sequence[tuple[str, str, str, str]], size: int, seed: int = SEED
) -> list[list[tuple[str, str, str, str]]]:
    """``rows`` shuffled into batches in which a question appears at most once when it can.

    In-batch negatives take every other row's positive as a negative; a second row of the same
    question would teach the model to push its own gold passage away.
    """
    import random

    rng = random.Random(seed)  # noqa: S311 -- a shuffle, not a secret
    by_question: dict[str, list[tuple[str, str, str, str]]] = {}
    for row in rows:
        by_question.setdefault(row[0], []).append(row)
    rounds: list[list[tuple[str, str, str, str]]] = []
    for group in by_question.values():
        rng.shuffle(group)
        for i, row in enumerate(group):
            if i == len(rounds):
                rounds.append([])
            rounds[i].append(row)
    pending: list[tuple[str, str, str, str]] = []
    for r in rounds:
        rng.shuffle(r)
        pending += r
    batches = []
    while pending:  # fill each batch in order, deferring a question already in it
        batch: list[tuple[str, str, str, str]] = []
        seen: set[str] = set()
        rest: list[tuple[str, str, str, str]] = []
        for row in pending:
            if len(batch) < size and row[0] not in seen:
                batch.append(row)
                seen.add(row[0])
            else:
                rest.append(row)
        batches.append(batch)
        pending = rest
    return batches
