"""Peak RSS and seconds for one huge record: a JSONL line whose ``text`` is N MB.

    .venv/bin/python benchmarks/huge_record.py --mb 10 --mb 50 --stage chunk    # read + chunk
    .venv/bin/python benchmarks/huge_record.py --mb 10 --stage ingest           # rag ingest

The record is real abstracts from ../shared/corpus/pubmedqa/pqal_contexts.jsonl, repeated (each
as its own paragraph) to N MB, in one line of a file in /tmp. ``chunk`` runs, in a child process,
what ingest's reading thread does with it (read the file, cut the passages with the embedder's
own tokenizer and offsets); ``ingest`` runs the real ``rag ingest FILE --index TMP --json``, which
also embeds every passage (most of its time). Each child's peak RSS is its high-water mark
(getrusage); corpus.max_record_mb is raised for the run so that the record is read at all.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LITRAG_SHARED", ROOT.parent / "shared"))
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
       "LITRAG_CORPUS__MAX_RECORD_MB": "1000"}  # fmt: skip
CHUNK = """
import sys
from base.settings import Settings
from corpus import read_stream
from rag.index.embed.embedder import load_embedder
from rag.index.ingest.pipeline import make_chunker
settings = Settings()
chunker = make_chunker(settings, load_embedder(settings.embedding))
errors = []
docs = list(read_stream([__import__("pathlib").Path(sys.argv[1])], settings.corpus, errors))
assert not errors, errors
print(sum(len(c) for c in chunker.chunk_many(docs)))
"""


def make_record(mb: float, folder: Path) -> Path:
    """A one-line JSONL file whose record's text is ``mb`` MB of real abstracts."""
    lines = (SHARED / "corpus/pubmedqa/pqal_contexts.jsonl").read_text().splitlines()
    abstracts = [json.loads(line)["text"] for line in lines]
    parts, size, i = [], 0, 0
    while size < mb * 2**20:
        parts.append(abstracts[i % len(abstracts)])
        size += len(parts[-1]) + 2
        i += 1
    path = folder / f"huge-{mb:g}mb.jsonl"
    record = {"_id": "huge", "title": "One huge record", "text": "\n\n".join(parts)}
    path.write_text(json.dumps(record) + "\n")
    return path


def run(command: list[str]) -> tuple[float, float, str]:
    """(seconds, peak RSS of the child in MB, its stdout) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(command, env=ENV, capture_output=True, text=True, check=False, cwd=ROOT)
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"{command[:4]} failed:\n{done.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak <= before:
        print("note: the peak is not above an earlier child's; run one size per call")
    return seconds, peak / 1024, done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, action="append", help="record size (repeatable)")
    parser.add_argument("--stage", choices=("chunk", "ingest"), default="chunk")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for mb in args.mb or [10.0]:
            path = make_record(mb, Path(tmp))
            if args.stage == "chunk":
                command = [sys.executable, "-c", CHUNK, str(path)]
            else:
                index = Path(tmp) / f"index-{mb:g}"
                command = [sys.executable, "-m", "cli.main", "ingest", str(path), "--index",
                           str(index), "--json"]  # fmt: skip
            seconds, peak, out = run(command)
            print(json.dumps({"mb": mb, "stage": args.stage, "seconds": round(seconds, 1),
                              "peak_rss_mb": round(peak), "result": out}))  # fmt: skip


if __name__ == "__main__":
    main()
