"""Ingest throughput, litrag against LangChain's standard pipeline, side by side in one run.

    .venv/bin/pip install -e '.[bench]'          # the peer's packages
    .venv/bin/python benchmarks/ingest_vs_langchain.py [--path FILE] [--rounds 2]
    .venv/bin/python benchmarks/ingest_vs_langchain.py --sides litrag embed ray   # no peer needed

Both sides load their embedding model before the clock starts, then time read -> chunk ->
embed -> index -> persist on the same file, into fresh temporary folders. Rounds alternate the
sides, so a busy machine slows all alike; the best round of each is compared.

``embed`` times litrag's embedding step alone on the same passages (read and cut beforehand),
in the batches ingest embeds: end-to-end ingest should reach >= 90% of its documents/s.
``ray`` is ``rag ingest --ray`` on a local 2-CPU Ray instance (started before the clock, as
the models are loaded; its actors load the model inside the timed run).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from base.settings import Settings  # noqa: E402
from corpus import read_many  # noqa: E402
from rag.index.chunking import Chunker  # noqa: E402
from rag.index.embed.embedder import load_embedder  # noqa: E402
from rag.index.ingest import pipeline as ingest_module  # noqa: E402
from rag.index.ingest.pipeline import embed_passages, ingest  # noqa: E402


def run_litrag(path: Path, settings: Settings) -> dict[str, float]:
    """litrag's whole ingest of ``path`` into a fresh index folder."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        report = ingest([path], Path(tmp) / "index", settings)
        seconds = time.perf_counter() - start
    return {"documents": report.documents, "chunks": report.chunks, "seconds": seconds,
            "docs_per_s": report.documents / seconds}  # fmt: skip


def run_embed(path: Path, settings: Settings) -> dict[str, float]:
    """litrag's embedding step alone, on the passages of ``path``, batch by batch as ingest."""
    embedder = load_embedder(settings.embedding)
    docs, _ = read_many([path], settings.corpus)
    chunker = Chunker(settings.chunking, embedder.count_tokens)
    size = ingest_module.BATCH_DOCUMENTS
    batches = [
        [c.embed_text for c in chunker.chunk(docs[i : i + size])] for i in range(0, len(docs), size)
    ]
    start = time.perf_counter()
    for texts in batches:
        embed_passages(embedder, texts)
    seconds = time.perf_counter() - start
    return {"documents": len(docs), "chunks": sum(map(len, batches)), "seconds": seconds,
            "docs_per_s": len(docs) / seconds}  # fmt: skip


def run_ray(path: Path, settings: Settings) -> dict[str, float]:
    """``rag ingest --ray`` of ``path`` into a fresh index folder, on the Ray already started."""
    from rag.index.ingest.distributed import ingest_ray

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        report = ingest_ray([path], Path(tmp) / "index", settings)
        seconds = time.perf_counter() - start
    return {"documents": report.documents, "chunks": report.chunks, "seconds": seconds,
            "docs_per_s": report.documents / seconds}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--path", type=Path, default=ROOT.parent / "shared/corpus/pubmedqa/pqal_contexts.jsonl"
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--sides", nargs="+", default=["langchain", "litrag", "embed"],
        choices=["langchain", "litrag", "embed", "ray"], help="what to time, in this order",
    )  # fmt: skip
    args = parser.parse_args()
    if "ray" in args.sides:
        from rag.index.ingest.distributed import start_ray

        start_ray(None)

    settings = Settings()
    embedder = load_embedder(settings.embedding)  # loaded before timing, as the peer's model is
    # The first batch embedded before timing too: the int8 copy of the embedder is made (once
    # per machine: ~11 s) and compiled here, not in the first timed round.
    docs, _ = read_many([args.path], settings.corpus)
    first = Chunker(settings.chunking, embedder.count_tokens).chunk(
        docs[: ingest_module.BATCH_DOCUMENTS]
    )
    embed_passages(embedder, [c.embed_text for c in first])
    load = os.getloadavg()[0]
    print(f"file {args.path}; litrag embeds passages in {embedder.index_precision}; "
          f"load average {load:.2f}")  # fmt: skip
    best: dict[str, dict[str, float]] = {}
    for n in range(args.rounds):
        for name in args.sides:
            with tempfile.TemporaryDirectory() as tmp:
                result = run_side(name, args.path, Path(tmp), settings)
            print(
                f"round {n + 1} {name}: {json.dumps({k: round(v, 2) for k, v in result.items()})}",
                flush=True,
            )
            if name not in best or result["docs_per_s"] > best[name]["docs_per_s"]:
                best[name] = result
    rate = {name: result["docs_per_s"] for name, result in best.items()}
    print("best docs/s: " + ", ".join(f"{name} {r:.1f}" for name, r in rate.items()))
    if "langchain" in rate and "litrag" in rate:
        print(f"litrag / LangChain: {rate['litrag'] / rate['langchain']:.2f}x")
    if "embed" in rate and "litrag" in rate:
        print(f"end-to-end ingest reaches {rate['litrag'] / rate['embed']:.0%} of embedding alone")
    if "ray" in rate and "litrag" in rate:
        print(f"Ray ingest overhead against plain ingest: {1 - rate['ray'] / rate['litrag']:.0%}")
    print(f"load average {os.getloadavg()[0]:.2f}")


def run_side(name: str, path: Path, tmp: Path, settings: Settings) -> dict[str, float]:
    if name == "langchain":
        from langchain_peer import run_peer  # the bench extra: `pip install -e '.[bench]'`

        return run_peer(path, tmp)
    runs = {"litrag": run_litrag, "embed": run_embed, "ray": run_ray}
    return runs[name](path, settings)


if __name__ == "__main__":
    main()
