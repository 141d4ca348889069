"""``rag tune embedder|reranker``: gold questions + an index -> a self-describing model folder.

The steps: read the gold sets, hold out whole questions (:func:`tune.data.split`), mine positives
and hard negatives from the index, train within the time budget, measure the model and its
starting point on held-out questions, and save into a temporary folder beside ``out`` that is
renamed to ``out`` only when everything is written (an interrupted run leaves no half model).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from base.errors import ConfigError
from base.settings import Settings
from rag.index.embed.embedder import DEFAULT_MODEL_NAME, default_model_path
from rag.retrieve.hybrid import open_retriever
from tune import embedder, reranker
from tune.card import Card, check_no_pickles
from tune.data import SEED, is_validation, load_questions, mine, split, write_validation
from tune.dev import DEV_QUESTIONS
from tune.loop import TrainOptions

Kind = Literal["embedder", "reranker"]
Phase = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass(frozen=True, slots=True)
class TuneRequest:
    """What ``rag tune`` was asked to do."""

    kind: Kind
    gold: tuple[Path, ...]
    index: str
    out: Path
    validation_fraction: float = 0.2
    options: TrainOptions = field(default_factory=TrainOptions)
    per_question: int = 4  # gold passages per question
    depth: int = 30  # hits mined from each retriever


def tune(request: TuneRequest, settings: Settings, phase: Phase | None = None) -> Card:
    """Train, measure and save the model; its card."""
    out = request.out
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"--out {out} is not empty; give a new folder")
    if not 0 <= request.validation_fraction < 1:
        raise ConfigError("--validation-fraction must be in [0, 1)")
    questions = load_questions(request.gold)
    training, validation = split(questions, request.validation_fraction)
    retriever = open_retriever(request.index, settings)
    wanted = [*training, *validation[:DEV_QUESTIONS]]
    mined = mine(wanted, retriever, request.depth, request.per_question, _bound(phase, "mining"))
    held = [m for m in mined if is_validation(m.question.id, request.validation_fraction)]
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        card = _train(request, settings, mined, held, work, phase)
        card = Card(**{**card.__dict__, "questions": len(questions),
                       "training_questions": len(training),
                       "validation_questions": len(validation)})  # fmt: skip
        write_validation(validation, work / "validation.jsonl")
        card.write(work)
        check_no_pickles(work)
        work.chmod(0o755)  # mkdtemp makes it private
        if out.exists():
            out.rmdir()
        work.rename(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return card


def _train(
    request: TuneRequest,
    settings: Settings,
    mined: Sequence,  # type: ignore[type-arg]
    held: Sequence,  # type: ignore[type-arg]
    folder: Path,
    phase: Phase | None,
) -> Card:
    options, fraction = request.options, request.validation_fraction
    base = settings.embedding.model or str(default_model_path())
    start = embedder.load(base)
    before = embedder.dev(start, held) if held else {}
    if request.kind == "embedder":
        rows = embedder.training_rows(mined, fraction)
        loop = embedder.fit(start, rows, options, _bound(phase, "training"))
        after = embedder.dev(start, held) if held else {}
        embedder.save(start, folder)
        loss, base_name, pairs = (
            embedder.LOSS,
            settings.embedding.model or DEFAULT_MODEL_NAME,
            len(rows),
        )
    else:
        del start
        model = reranker.load(str(default_model_path()), options.max_tokens)
        groups = reranker.groups(mined, fraction)
        loop = reranker.fit(model, groups, options, _bound(phase, "training"))
        after = reranker.dev(model, held) if held else {}
        reranker.save(model, folder)
        loss, base_name, pairs = reranker.LOSS, DEFAULT_MODEL_NAME, len(groups)
    return Card(
        kind=request.kind, base_model=base_name, loss=loss,
        gold=tuple(str(p) for p in request.gold), index=request.index, questions=0,
        training_questions=0, validation_questions=0, validation_fraction=fraction, seed=SEED,
        pairs=pairs, options=options, loop=loop, dev_before=before, dev_after=after,
    )  # fmt: skip


def _bound(phase: Phase | None, name: str) -> Callable[[int, int], None] | None:
    if phase is None:
        return None
    return lambda done, total: phase(name, done, total)
