"""Reranking latency: a CrossEncoder re-scoring 30 hybrid candidates per question, per runtime.

    .venv/bin/python benchmarks/rerank_latency.py --index /tmp/shared_index --reranker DIR
    .venv/bin/python benchmarks/rerank_latency.py --index /tmp/shared_index   # untrained head

Takes the first ``--questions`` BioASQ questions, retrieves each one's ``--candidates`` fused
hybrid hits from ``--index`` once, then times :meth:`Reranker.scores` over them (one call per
question, the model loaded and warmed) for each runtime and max length asked, and reports p50 and
p95 per question. It also reports how far each configuration's order agrees with torch float32 at
256 tokens (the reference): the share of questions with the same top 10 set, and the mean Spearman
rank correlation. Without ``--reranker`` a CrossEncoder is made from the packaged MiniLM with an
untrained head, which costs the same (latency does not depend on the weights' values); agreement
is only meaningful with a trained model. The load average is printed beside the timings.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from base.settings import load_settings  # noqa: E402
from eval.gold import load_bioasq  # noqa: E402
from rag.index.embed.embedder import default_model_path  # noqa: E402
from rag.retrieve.hybrid import open_retriever  # noqa: E402
from rag.retrieve.rerank import Reranker, passage_text  # noqa: E402

GOLD = ROOT.parent / "shared/gold/bioasq"


def untrained(folder: Path) -> str:
    """A CrossEncoder with one output on the packaged MiniLM, saved in ``folder``."""
    from sentence_transformers import CrossEncoder

    model = CrossEncoder(str(default_model_path()), num_labels=1, device="cpu")
    model.save_pretrained(str(folder), safe_serialization=True)
    return str(folder)


def spearman(a: list[float], b: list[float]) -> float:
    """Spearman's rank correlation of two score lists."""
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", required=True, help="a directory or a Milvus URI")
    parser.add_argument("--reranker", default="", help="a CrossEncoder directory")
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--candidates", type=int, default=30)
    parser.add_argument("--runtimes", default="torch-fp32,torch,openvino")
    parser.add_argument("--max-tokens", default="256,192,128")
    args = parser.parse_args()
    settings = load_settings()
    retriever = open_retriever(args.index, settings)
    questions = [q.question for q in load_bioasq(GOLD)][: args.questions]
    pools = []
    for q in questions:
        hits = retriever.search(q, k=args.candidates, rerank=False)
        pools.append(
            (q, [passage_text(h.chunk.title, h.chunk.section, h.chunk.text) for h in hits])
        )
    print(
        f"{len(pools)} questions, {statistics.mean(len(p) for _, p in pools):.1f} candidates each"
    )
    with tempfile.TemporaryDirectory() as tmp:
        location = args.reranker or untrained(Path(tmp) / "ce")
        reference: list[list[float]] = []
        configs = [("torch-fp32", 256)] + [
            (r, int(m))
            for r in args.runtimes.split(",")
            for m in args.max_tokens.split(",")
            if (r, int(m)) != ("torch-fp32", 256)
        ]
        for runtime, max_tokens in configs:
            fp32 = runtime.endswith("-fp32")
            model = Reranker(location, runtime=runtime.removesuffix("-fp32"),
                             max_tokens=max_tokens, bf16=False if fp32 else None)  # fmt: skip
            model.scores(*pools[0])  # warm up (and compile)
            times, scores = [], []
            for q, passages in pools:
                start = time.perf_counter()
                scores.append(model.scores(q, passages))
                times.append(time.perf_counter() - start)
            if not reference:
                reference = scores
            same_top = np.mean([set(np.argsort(s)[-10:]) == set(np.argsort(r)[-10:])
                                for s, r in zip(scores, reference, strict=True)])  # fmt: skip
            rho = np.mean([spearman(s, r) for s, r in zip(scores, reference, strict=True)])
            times.sort()
            print(f"{runtime:10s} ({model.runtime}) {max_tokens:3d} tokens: p50 "
                  f"{1000 * times[len(times) // 2]:.0f} ms, p95 "
                  f"{1000 * times[int(len(times) * 0.95)]:.0f} ms per question; same top-10 "
                  f"{same_top:.2f}, Spearman {rho:.3f}; load {os.getloadavg()[0]:.1f}",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
