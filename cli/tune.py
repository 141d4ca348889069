"""``rag tune embedder|reranker``: adapt retrieval to the literature from gold questions."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.common import ConfigOption, err, settings_from


class Precision(StrEnum):
    auto = "auto"
    bf16 = "bf16"
    fp32 = "fp32"


tune_app = typer.Typer(
    help="Train a model on gold data: the retrieval embedder or reranker (gold questions), or "
    "the citation verifier's cross-encoder (Citation-Integrity claims)."
)

GoldOption = Annotated[
    list[Path],
    typer.Option("--gold", help="A gold file or folder (BioASQ, PubMedQA or jsonl); repeatable."),
]
TuneIndexOption = Annotated[
    str, typer.Option("--index", help="The index to mine hard negatives from.")
]
OutOption = Annotated[Path, typer.Option("--out", help="A new folder for the model.")]
MinutesOption = Annotated[
    float | None,
    typer.Option("--max-minutes", min=0.1, help="Stop training after this long (still saves)."),
]
FractionOption = Annotated[
    float,
    typer.Option(
        "--validation-fraction", min=0.0, max=0.95,
        help="Share of questions held out (by a seeded hash of the id) into validation.jsonl.",
    ),
]  # fmt: skip
EpochsOption = Annotated[int, typer.Option(min=1, help="Passes over the training pairs.")]
BatchOption = Annotated[int, typer.Option(min=2, help="Pairs per step.")]
TokensOption = Annotated[int | None, typer.Option(min=16, help="Tokens per text (pair).")]
PrecisionOption = Annotated[
    Precision,
    typer.Option(
        help="Forward pass in bfloat16 autocast (weights stay float32) or float32; "
        "auto: bf16 where the CPU does bfloat16 natively (AVX512-BF16 or AMX).",
    ),
]


def _run(kind: str, gold: list[Path], index: str, out: Path, max_minutes: float | None,
         fraction: float, epochs: int, batch: int, tokens: int | None, precision: Precision,
         config: Path | None) -> None:  # fmt: skip
    from rag.index.embed.embedder import cpu_has_bf16
    from tune.loop import TrainOptions
    from tune.run import TuneRequest, tune

    settings = settings_from(config)
    bf16 = precision == Precision.bf16 or (precision == Precision.auto and cpu_has_bf16())
    options = TrainOptions(epochs=epochs, batch_size=batch, max_minutes=max_minutes, bf16=bf16,
                           max_tokens=tokens or (128 if kind == "embedder" else 256))  # fmt: skip
    request = TuneRequest(kind, tuple(gold), index, out, fraction, options)  # type: ignore[arg-type]
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err) as bar:  # fmt: skip
        task = bar.add_task("tune", total=None)

        def phase(name: str, done: int, total: int) -> None:
            bar.update(task, description=name, completed=done, total=total)

        card = tune(request, settings, phase)
    summary = {k: v for k, v in asdict(card).items() if k not in ("options",)}
    print(json.dumps(summary))
    err.print(f"wrote {out} (validation questions in {out / 'validation.jsonl'})")


def _command(kind: str, doc: str) -> Callable[..., None]:
    """The ``rag tune KIND`` command: both kinds take the same options."""

    def command(
        gold: GoldOption,
        index: TuneIndexOption,
        out: OutOption,
        max_minutes: MinutesOption = None,
        validation_fraction: FractionOption = 0.2,
        epochs: EpochsOption = 1,
        batch: BatchOption = 32,
        max_tokens: TokensOption = None,
        precision: PrecisionOption = Precision.auto,
        config: ConfigOption = None,
    ) -> None:
        _run(kind, gold, index, out, max_minutes, validation_fraction, epochs, batch,
             max_tokens, precision, config)  # fmt: skip

    command.__doc__ = doc
    command.__name__ = f"{kind}_command"
    return command


_EMBEDDER = "Fine-tune the embedder (MultipleNegativesRankingLoss, mined hard negatives)."
_RERANKER = (
    "Train a CrossEncoder reranker from the packaged MiniLM (set retrieval.reranker to use it)."
)
embedder_command = tune_app.command("embedder")(_command("embedder", _EMBEDDER))
reranker_command = tune_app.command("reranker")(_command("reranker", _RERANKER))


@tune_app.command("verifier")
def verifier_command(
    gold: Annotated[
        Path,
        typer.Option(
            "--gold", help="A Citation-Integrity folder (claims_train.jsonl, corpus.jsonl)."
        ),
    ],
    out: OutOption,
    base: Annotated[
        str,
        typer.Option(
            help="A sentence-transformers model folder to start from (default: the "
            "packaged MiniLM; e.g. all-mpnet-base-v2)."
        ),
    ] = "",
    max_minutes: MinutesOption = None,
    validation_fraction: FractionOption = 0.2,
    epochs: EpochsOption = 1,
    batch: BatchOption = 16,
    max_tokens: TokensOption = None,
    precision: PrecisionOption = Precision.auto,
    config: ConfigOption = None,
) -> None:
    """Train a (passage, claim) support CrossEncoder for answer.cross_encoder, with its mix."""
    from rag.index.embed.embedder import cpu_has_bf16
    from tune.loop import TrainOptions
    from tune.verifier import VerifierRequest, tune_verifier

    settings = settings_from(config)
    bf16 = precision == Precision.bf16 or (precision == Precision.auto and cpu_has_bf16())
    options = TrainOptions(epochs=epochs, batch_size=batch, max_minutes=max_minutes, bf16=bf16,
                           max_tokens=max_tokens or 256)  # fmt: skip
    request = VerifierRequest(gold, out, base, validation_fraction, options)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err) as bar:  # fmt: skip
        task = bar.add_task("tune", total=None)

        def phase(name: str, done: int, total: int) -> None:
            bar.update(task, description=name, completed=done, total=total)

        card = tune_verifier(request, settings, phase)
    summary = {k: v for k, v in asdict(card).items() if k not in ("options",)}
    print(json.dumps(summary))
    err.print(f"wrote {out}; set answer.cross_encoder = {out} to use it")
