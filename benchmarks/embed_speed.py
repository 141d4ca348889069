"""The embedding step alone: documents/s of each embedding runtime on the passages of one file.

    .venv/bin/python benchmarks/embed_speed.py [--path FILE] [--rounds 3] [--limit 300]

Reads and chunks ``--path`` as ingest does (the same readers and chunker), then times
``embed_documents`` on all of its passages for each runtime (OpenVINO bf16 and fp32,
sentence-transformers bf16), alternating runtimes round by round so that a busy machine slows
each alike, and reports the median documents/s and its ratio to sentence-transformers bf16.
``--limit`` keeps the first N documents only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from base.settings import EmbeddingSettings, Settings  # noqa: E402
from corpus import read_many  # noqa: E402
from rag.index.chunking import Chunker  # noqa: E402
from rag.index.embed.embedder import Embedder  # noqa: E402

RUNTIMES = {
    "openvino bf16": EmbeddingSettings(runtime="openvino", dtype="bfloat16"),
    "openvino fp32": EmbeddingSettings(runtime="openvino", dtype="float32"),
    "torch bf16": EmbeddingSettings(runtime="torch", dtype="bfloat16"),
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--path", type=Path, default=ROOT.parent / "shared/corpus/pubmedqa/pqal_contexts.jsonl"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0, help="first N documents only")
    parser.add_argument("--runtimes", nargs="+", choices=list(RUNTIMES), default=list(RUNTIMES))
    args = parser.parse_args()
    settings = Settings()
    docs, _ = read_many([args.path], settings.corpus)
    docs = docs[: args.limit or None]
    embedders = {name: Embedder(RUNTIMES[name]) for name in args.runtimes}
    first = next(iter(embedders.values()))
    chunker = Chunker(settings.chunking, first.count_tokens)
    texts = [c.embed_text for c in chunker.chunk(docs)]
    print(f"{len(docs)} documents, {len(texts)} passages from {args.path}; "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    speeds: dict[str, list[float]] = {name: [] for name in embedders}
    for n in range(args.rounds):
        for name, embedder in embedders.items():
            start = time.perf_counter()
            embedder.embed_documents(texts)
            speeds[name].append(len(docs) / (time.perf_counter() - start))
            print(f"round {n + 1} {name}: {speeds[name][-1]:.1f} docs/s", flush=True)
    base = statistics.median(speeds["torch bf16"]) if "torch bf16" in speeds else None
    for name, values in speeds.items():
        ratio = f", {statistics.median(values) / base:.2f}x torch bf16" if base else ""
        print(f"{name}: median {statistics.median(values):.1f} docs/s{ratio}")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
