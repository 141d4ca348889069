"""Ingest throughput, litrag against LangChain's standard pipeline, side by side in one run.

    .venv/bin/pip install -e '.[bench]'          # the peer's packages
    .venv/bin/python benchmarks/ingest_vs_langchain.py [--path FILE] [--rounds 2]

Both sides load their embedding model before the clock starts, then time read -> chunk ->
embed -> index -> persist on the same file, into fresh temporary folders. Rounds alternate the
two sides, so a busy machine slows both alike; the best round of each is compared.
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
from rag.index.embeddings import load_embedder  # noqa: E402
from rag.index.ingest import ingest  # noqa: E402


def run_litrag(path: Path, settings: Settings) -> dict[str, float]:
    """litrag's whole ingest of ``path`` into a fresh index folder."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        report = ingest([path], Path(tmp) / "index", settings)
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
    args = parser.parse_args()
    from langchain_peer import run_peer  # the bench extra: `pip install -e '.[bench]'`

    settings = Settings()
    embedder = load_embedder(settings.embedding)  # loaded before timing, as the peer's model is
    load = os.getloadavg()[0]
    print(f"file {args.path}; litrag embeds in {embedder.dtype}; load average {load:.2f}")
    best: dict[str, dict[str, float]] = {}
    for n in range(args.rounds):
        for name in ("langchain", "litrag"):
            with tempfile.TemporaryDirectory() as tmp:
                result = (
                    run_peer(args.path, Path(tmp))
                    if name == "langchain"
                    else run_litrag(args.path, settings)
                )
            print(
                f"round {n + 1} {name}: {json.dumps({k: round(v, 2) for k, v in result.items()})}",
                flush=True,
            )
            if name not in best or result["docs_per_s"] > best[name]["docs_per_s"]:
                best[name] = result
    ratio = best["litrag"]["docs_per_s"] / best["langchain"]["docs_per_s"]
    print(f"best: litrag {best['litrag']['docs_per_s']:.1f} docs/s, "
          f"LangChain {best['langchain']['docs_per_s']:.1f} docs/s -> {ratio:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
