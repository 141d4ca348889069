"""Documents per second for reading a corpus, and peak memory for streaming a large PubMed file.

    .venv/bin/python benchmarks/read_corpus.py                 # the whole ../shared/corpus
    .venv/bin/python benchmarks/read_corpus.py --synthetic-mb 1024   # + a 1 GB PubMed XML file

Peak RSS comes from getrusage (the process's high-water mark), so run each part in its own process
to read it cleanly: the synthetic part runs in a child process.
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from base.errors import ReadError  # noqa: E402
from corpus import iter_files, read, read_many  # noqa: E402
from corpus.pubmed import read_pubmed  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_corpus(path: Path, repeats: int) -> None:
    files = list(iter_files([path]))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        docs, errors = read_many([path])
        best = min(best, time.perf_counter() - start)
    raw = sum(1 for f in files for _ in _safe_read(f))
    print(f"corpus: {path}")
    print(f"  files {len(files)}, records read {raw:,}, documents after merging {len(docs):,}")
    print(f"  errors {len(errors)}")
    print(f"  by format: {dict(Counter(d.format for d in docs))}")
    rate = f"{raw / best:,.0f} records/s, {len(docs) / best:,.0f} documents/s"
    print(f"  best of {repeats}: {best:.2f} s -> {rate}")
    print(f"  peak RSS {peak_rss_mb():.0f} MB")


def _safe_read(path: Path):
    try:
        yield from read(path)
    except ReadError:  # counted by the errors line above
        return


def make_synthetic(target_mb: int, out: Path) -> int:
    """A PubMed XML file of about ``target_mb`` MB: the shared record repeated with new PMIDs."""
    source = (ROOT.parent / "shared/corpus/pubmed/pubmed-29768149.xml").read_text()
    record = source[source.index("<PubmedArticle>") : source.rindex("</PubmedArticle>") + 16]
    n = 0
    with out.open("w") as f:
        f.write('<?xml version="1.0"?>\n<PubmedArticleSet>\n')
        while f.tell() < target_mb * 2**20:
            n += 1
            f.write(re.sub(r"29768149", str(40_000_000 + n), record))
        f.write("</PubmedArticleSet>\n")
    return n


def bench_stream(path: Path) -> None:
    start = time.perf_counter()
    count = sum(1 for _ in read_pubmed(path))
    took = time.perf_counter() - start
    size = path.stat().st_size / 2**20
    print(
        f"stream: {size:,.0f} MB PubMed XML, {count:,} records in {took:.1f} s "
        f"({count / took:,.0f} records/s), peak RSS {peak_rss_mb():.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", type=Path, default=ROOT.parent / "shared/corpus")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--synthetic-mb", type=int, default=0)
    parser.add_argument("--stream-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stream_only:
        bench_stream(args.stream_only)
        return
    bench_corpus(args.path, args.repeats)
    if args.synthetic_mb:
        with tempfile.TemporaryDirectory() as tmp:
            big = Path(tmp) / "big.xml"
            records = make_synthetic(args.synthetic_mb, big)
            print(f"synthetic: wrote {records:,} records")
            subprocess.run([sys.executable, __file__, "--stream-only", str(big)], check=True)


if __name__ == "__main__":
    main()
