"""The llama.cpp embedding runtime's speed: passages/s by weight type, threads and batch size,
query latency, and Matryoshka truncation's index size and scan time.

    .venv/bin/python benchmarks/gguf_embed_speed.py [--limit 40] [--model nomic-embed-text-v1.5]

Chunks the first ``--limit`` PubMedQA abstracts as ingest does (passages of <= 200 tokens), then
embeds them with the packaged F16 GGUF and with a Q8_0 copy made once by llama.cpp's quantizer
(its vectors' cosine to F16's is printed: the copy is only worth keeping where they agree), for
each ``--threads`` x ``--batch`` pair. Then the p50 time of one question (``embed_query``) and,
for 768/512/256 dimensions, the float16 bytes a passage's vector takes in the store and the p50
time of an exact inner-product scan over ``--scan`` random unit vectors (faiss, one query).
The load average is printed beside every figure: the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import faiss  # noqa: E402

from base.settings import EmbeddingSettings, Settings  # noqa: E402
from corpus import read_many  # noqa: E402
from eval.gold import load_bioasq  # noqa: E402
from rag.index.chunking import Chunker  # noqa: E402
from rag.index.embed.llamacpp import LlamaEmbedder, model_file, quantized_copy  # noqa: E402


def load() -> str:
    """The 1-minute load average, for the figures' context."""
    return f"load {os.getloadavg()[0]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="nomic-embed-text-v1.5")
    parser.add_argument(
        "--path", type=Path, default=ROOT.parent / "shared/corpus/pubmedqa/pqal_contexts.jsonl"
    )
    parser.add_argument("--limit", type=int, default=40, help="first N documents")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch", type=int, nargs="+", default=[8, 64])
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--scan", type=int, default=100_000, help="vectors in the scan test")
    args = parser.parse_args()
    base = EmbeddingSettings(model=args.model)
    f16 = model_file(base)
    q8 = quantized_copy(f16, "q8_0")
    settings = Settings()
    docs, _ = read_many([args.path], settings.corpus)
    reference = LlamaEmbedder(base)
    chunker = Chunker(settings.chunking, reference.count_tokens)
    texts = [c.embed_text for c in chunker.chunk(docs[: args.limit])]
    tokens = sum(reference.count_tokens(t) for t in texts)
    print(f"{len(texts)} passages ({tokens / len(texts):.0f} tokens on average) from "
          f"{args.limit} documents of {args.path.name}; {load()}")  # fmt: skip
    truth = reference.embed_documents(texts)
    print("| weights | threads | batch | passages/s | min cosine to F16 | load |")
    print("| --- | --- | --- | --- | --- | --- |")
    for path in (f16, q8):
        for threads in args.threads:
            for batch in args.batch:
                update = {"model": str(path), "threads": threads, "batch_size": batch}
                embedder = LlamaEmbedder(base.model_copy(update=update))
                start = time.perf_counter()
                vectors = embedder.embed_documents(texts)
                rate = len(texts) / (time.perf_counter() - start)
                cosine = float(np.min((vectors * truth).sum(axis=1)))
                print(f"| {embedder.precision} | {threads} | {batch} | {rate:.2f} | "
                      f"{cosine:.4f} | {load()} |", flush=True)  # fmt: skip
                del embedder
    questions = [q.question for q in load_bioasq(ROOT.parent / "shared/gold/bioasq")]
    times = []
    for q in questions[: args.questions]:
        start = time.perf_counter()
        reference.embed_query(q)
        times.append((time.perf_counter() - start) * 1000)
    print(f"query embedding (F16, {reference._threads} threads): p50 "
          f"{statistics.median(times):.1f} ms over {len(times)} questions; {load()}")  # fmt: skip
    rng = np.random.default_rng(0)
    for dim in (768, 512, 256):
        matrix = rng.standard_normal((args.scan, dim), dtype=np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        flat = faiss.IndexFlatIP(dim)
        flat.add(matrix)
        query = matrix[:1]
        scans = []
        for _ in range(30):
            start = time.perf_counter()
            flat.search(query, 100)
            scans.append((time.perf_counter() - start) * 1000)
        size = dim * 2 * args.scan / 2**20
        scan = statistics.median(scans)
        print(f"{dim} dimensions: {dim * 2} bytes a vector in the store ({size:.0f} MiB at "
              f"{args.scan:,}), exact scan p50 {scan:.1f} ms; {load()}")  # fmt: skip


if __name__ == "__main__":
    main()
