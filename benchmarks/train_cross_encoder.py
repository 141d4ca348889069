"""Train a (passage, claim) -> support CrossEncoder on Citation-Integrity, from all-MiniLM-L6-v2.

It measures what a cross-encoder adds to the verifier (``answer.cross_encoder``). The model is
trained on the first ``--train-share`` of the train claims (shuffled with a fixed seed); the rest
is held out so that ``fit_verifier.py --cross-encoder`` can fit the weight that mixes its score
into the cheap one on claims it has not seen. It prints dev AUC and balanced accuracy and writes
the model (safetensors) to ``--out`` — outside the repository.

    .venv/bin/python benchmarks/train_cross_encoder.py --out /tmp/citint-ce
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sentence_transformers import CrossEncoder

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.verifier_data import Pair, citint
from rag.index.embed.embedder import default_model_path


def split_train(pairs: list[Pair], share: float, seed: int = 0) -> tuple[list[Pair], list[Pair]]:
    """The train pairs the cross-encoder learns from and the ones held out from it."""
    order = list(range(len(pairs)))
    random.Random(seed).shuffle(order)
    cut = int(len(order) * share)
    return [pairs[i] for i in order[:cut]], [pairs[i] for i in order[cut:]]


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (rank form, ties averaged)."""
    from scipy.stats import rankdata

    ranks = rankdata(scores)
    pos = labels.sum()
    neg = len(labels) - pos
    return float((ranks[labels == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--max-length", type=int, default=320)
    parser.add_argument("--train-share", type=float, default=0.8)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    learn, _ = split_train(citint("train"), args.train_share)
    dev = citint("dev")
    model = CrossEncoder(
        str(default_model_path()), num_labels=1, max_length=args.max_length, device="cpu"
    )
    net = model.transformers_model
    optimizer = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.01)
    steps = args.epochs * ((len(learn) + args.batch - 1) // args.batch)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, 1 - s / steps)
    )
    loss_fn = torch.nn.BCEWithLogitsLoss()
    rng = random.Random(0)
    start = time.perf_counter()
    step = 0
    for epoch in range(args.epochs):
        order = list(range(len(learn)))
        rng.shuffle(order)
        net.train()
        for b in range(0, len(order), args.batch):
            batch = [learn[i] for i in order[b : b + args.batch]]
            inputs = model.tokenizer(
                [p.passage for p in batch],
                [p.claim for p in batch],
                truncation="only_first",
                max_length=args.max_length,
                padding=True,
                return_tensors="pt",
            )
            logits = net(**inputs).logits.squeeze(-1)
            loss = loss_fn(logits, torch.tensor([float(p.label) for p in batch]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            if step % 20 == 0:
                elapsed = time.perf_counter() - start
                print(f"epoch {epoch} step {step}/{steps} loss {loss.item():.3f} {elapsed:.0f}s")
    train_s = time.perf_counter() - start
    net.eval()
    model.save_pretrained(str(args.out), safe_serialization=True)
    scores = model.predict([(p.passage, p.claim) for p in dev], batch_size=32)
    labels = np.array([p.label for p in dev])
    print(f"trained on {len(learn)} pairs in {train_s:.0f}s; saved to {args.out}")
    print(f"dev AUC {auc(labels, np.asarray(scores)):.3f}")


if __name__ == "__main__":
    main()
