"""Time the citation verifier on one answer's worth of work: 5 claims x 5 passages.

The passages are Citation-Integrity documents (five segments, ~200 tokens each), the claims their
citing sentences. "cold": the verifier has not read the passages (a new answer); "warm": it has
(the same answer's citation list). The optional judges are left out.

    .venv/bin/python benchmarks/verify_latency.py [--repeats 10] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from base.settings import AnswerSettings, EmbeddingSettings
from benchmarks.verifier_data import citint
from rag.answer.citations import split_sentences
from rag.answer.verify import Verifier
from rag.index.embed.embedder import load_embedder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    embedder = load_embedder(EmbeddingSettings())
    pairs = citint("dev")
    tokens = [embedder.count_tokens(p.passage) for p in pairs[:25]]
    print(f"passages: {statistics.mean(tokens):.0f} tokens on average; embedder {embedder.dtype}")
    Verifier(embedder, AnswerSettings()).verify(["Warm-up."], ["Warm up the model."])
    # The bare embedding of the same texts (claims + passage sentences), interleaved: the
    # machine is shared, so the ratio says more than either figure alone.
    cold, warm, bare = [], [], []
    for r in range(args.repeats):
        batch = pairs[5 * r : 5 * r + 5]
        claims, passages = [p.claim for p in batch], [p.passage for p in batch]
        verifier = Verifier(embedder, AnswerSettings())
        start = time.perf_counter()
        verifier.verify(claims, passages)
        cold.append(time.perf_counter() - start)
        start = time.perf_counter()
        verifier.verify(claims, passages)
        warm.append(time.perf_counter() - start)
        texts = claims + [p[a:b] for p in passages for a, b in split_sentences(p)]
        start = time.perf_counter()
        embedder.embed_documents(texts)
        bare.append(time.perf_counter() - start)
    for name, values in (("cold", cold), ("warm", warm), ("bare embedding", bare)):
        print(f"{name}: median {statistics.median(values) * 1000:.0f} ms per answer (5 x 5)")


if __name__ == "__main__":
    main()
