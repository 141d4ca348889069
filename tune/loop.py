"""One small training loop for both models: AdamW, warm-up then linear decay, a time budget.

A hand-written loop rather than the sentence-transformers Trainer: the Trainer writes
checkpoints with pickled optimizer state (``optimizer.pt``, ``rng_state.pth``) into its output
folder, and litrag never writes a pickle. Here nothing is written until the caller saves the
final model with safetensors.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import torch

from tune.data import Progress

Batch = TypeVar("Batch")


@dataclass(frozen=True, slots=True)
class TrainOptions:
    """How long and how hard to train."""

    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 2e-5
    max_tokens: int = 128  # per text (per question+passage pair for the reranker: twice this)
    max_minutes: float | None = None  # stop cleanly after this long; the model is still saved
    warmup: float = 0.1  # share of the steps spent warming up the learning rate
    threads: int = 2
    seed: int = 16
    bf16: bool = False  # autocast the forward pass to bfloat16 (weights and optimizer stay fp32)


@dataclass(frozen=True, slots=True)
class LoopReport:
    """What a training run did."""

    steps: int
    planned_steps: int
    seconds: float
    stopped_by_time: bool
    mean_loss_last_50: float


def train(
    batches: Sequence[Batch],
    loss_of: Callable[[Batch], torch.Tensor],
    parameters: Iterable[torch.nn.Parameter],
    options: TrainOptions,
    progress: Progress | None = None,
) -> LoopReport:
    """Run ``options.epochs`` passes over ``batches``; stop early when the time budget is spent.

    With a budget, the schedule's length is re-estimated from the first steps' pace so that the
    learning rate still decays to zero by the end of the budget.
    """
    torch.set_num_threads(options.threads)
    torch.manual_seed(options.seed)
    params = [p for p in parameters if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=options.learning_rate, weight_decay=0.01)
    planned = options.epochs * len(batches)
    total = [max(planned, 1)]  # a list, so that the schedule sees a shortened run

    def factor(step: int) -> float:
        warm = max(1.0, options.warmup * total[0])
        return min(1.0, (step + 1) / warm) * max(0.0, 1 - step / total[0])

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    budget = options.max_minutes * 60 if options.max_minutes else None
    start, step, losses, stopped = time.perf_counter(), 0, [], False
    for _ in range(options.epochs):
        for batch in batches:
            elapsed = time.perf_counter() - start
            if budget is not None and elapsed >= budget:
                stopped = True
                break
            if budget is not None and step == 5:
                total[0] = max(step + 1, min(planned, int(budget / (elapsed / step))))
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=options.bf16):
                loss = loss_of(batch)
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            losses.append(float(loss.detach()))
            step += 1
            if progress:
                progress(step, total[0])
        if stopped:
            break
    tail = losses[-50:]
    return LoopReport(step, planned, round(time.perf_counter() - start, 1), stopped,
                      round(sum(tail) / len(tail), 4) if tail else 0.0)  # fmt: skip
