"""The model directory's self-description: a README card and ``litrag-tuning.json``, and the
check that nothing pickled was written."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from base.errors import RagError
from tune.loop import LoopReport, TrainOptions

PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".pkl", ".pickle", ".ckpt")


@dataclass(frozen=True)
class Card:
    """What a tuned model was trained from and on, how, and how it did on held-out questions."""

    kind: str  # "embedder", "reranker" or "verifier"
    base_model: str
    loss: str
    gold: tuple[str, ...]
    index: str
    questions: int
    training_questions: int
    validation_questions: int
    validation_fraction: float
    seed: int
    pairs: int
    options: TrainOptions
    loop: LoopReport
    dev_before: dict[str, float] = field(default_factory=dict)
    dev_after: dict[str, float] = field(default_factory=dict)

    def write(self, folder: Path) -> None:
        """``litrag-tuning.json`` and ``README.md`` (the card) in ``folder``."""
        data = asdict(self)
        (folder / "litrag-tuning.json").write_text(json.dumps(data, indent=2) + "\n")
        (folder / "README.md").write_text(self.markdown())

    def _data_lines(self) -> list[str]:
        return _verifier_data(self) if self.kind == "verifier" else _retrieval_data(self)

    def markdown(self) -> str:
        """The card as markdown."""
        o, loop = self.options, self.loop
        stop = " (stopped by --max-minutes)" if loop.stopped_by_time else ""
        lines = [
            f"# litrag tuned {self.kind}",
            "",
            f"Fine-tuned from `{self.base_model}` by `rag tune {self.kind}`.",
            "",
            "## Data",
            *self._data_lines(),
            "",
            "## Training",
            f"- loss: {self.loss}",
            f"- steps: {loop.steps} of {loop.planned_steps}{stop}, {loop.seconds} s, "
            f"batch {o.batch_size}, learning rate {o.learning_rate}, max {o.max_tokens} tokens, "
            f"{'bfloat16 autocast' if o.bf16 else 'float32'}, {o.threads} threads; "
            f"mean loss of the last 50 steps {loop.mean_loss_last_50}",
            "",
            "## Dev figures (held-out claims: the packaged verifier before, mixed with this model "
            "after)"
            if self.kind == "verifier"
            else "## Dev figures (held-out questions, gold documents within the first-stage pool)",
            "| model | " + " | ".join(self.dev_after) + " |",
            "| --- | " + " | ".join("---" for _ in self.dev_after) + " |",
            "| before | " + " | ".join(str(v) for v in self.dev_before.values()) + " |",
            "| after | " + " | ".join(str(v) for v in self.dev_after.values()) + " |",
            "",
        ]
        return "\n".join(lines)


def _retrieval_data(card: Card) -> list[str]:
    return [
        f"- gold: {', '.join(card.gold)}",
        f"- index (hard negatives from its BM25 and dense hits): {card.index}",
        f"- questions: {card.questions} ({card.training_questions} trained on, "
        f"{card.validation_questions} held out by a seeded hash of the question id, "
        f"fraction {card.validation_fraction}, seed {card.seed}; see validation.jsonl)",
        f"- training pairs: {card.pairs}",
    ]


def _verifier_data(card: Card) -> list[str]:
    return [
        f"- gold: {', '.join(card.gold)} (claims_train.jsonl against corpus.jsonl)",
        f"- claims: {card.questions} ({card.training_questions} trained on, "
        f"{card.validation_questions} held out by a seeded hash of the claim id, "
        f"fraction {card.validation_fraction}, seed {card.seed}; the mix is fitted on them)",
        f"- training pairs (with the false copies): {card.pairs}",
    ]


def check_no_pickles(folder: Path) -> None:
    """Raise when a file that may hold a pickle was written into ``folder``."""
    bad = [p.name for p in folder.rglob("*") if p.suffix in PICKLE_SUFFIXES]
    if bad:
        raise RagError(f"{folder}: tuning wrote files that may be pickles: {', '.join(bad)}")
