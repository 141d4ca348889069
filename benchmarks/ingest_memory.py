"""Peak memory of `rag ingest` on one large PubMed XML file, and how it grows with the file.

    .venv/bin/python benchmarks/ingest_memory.py --mb 1024              # a 1 GB baseline-like file
    .venv/bin/python benchmarks/ingest_memory.py --mb 16 --mb 64        # two sizes: the slope
    .venv/bin/python benchmarks/ingest_memory.py --mb 1 --prefill 420000   # a 1 GB file's finish

The file is made in /tmp from ../shared/corpus/pubmed/medline16n0902.xml.gz (604 MEDLINE records,
6.4 kB of XML each) repeated with new PMIDs, so every record is a document of its own. Each size
runs the real ``rag ingest FILE --index TMP --json`` in a child process; its RSS is sampled every
0.2 s, and the peak is the child's high-water mark (getrusage). "streaming" is the peak before the
last record was written (progress), "finish" the peak while dense and BM25 are saved.

A whole 1 GB file (~164k records, ~420k passages) takes hours to embed on 2 cores. What grows
with the file is what ``finish`` builds from the store: the dense index and BM25 over every
passage. ``--prefill N`` measures that at full size without the embedding: the index is first
filled with N passages of real MEDLINE text and their real vectors (the 1,544 passages of that
same MEDLINE file in an index of the shared corpus, ``--source``, default /tmp/shared_index,
copied, repeated under new ids and PMIDs), then the small file is ingested into it, so its
``finish`` rebuilds dense and BM25 over N + its own passages, in the same process, after the same
streaming, as a 1 GB file's would. Only the repeated text understates the vocabulary (~14k
distinct terms here, against a few hundred thousand in a real baseline file; bm25s keeps one
dict entry, ~100 bytes, and one int per term).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared/corpus/pubmed/medline16n0902.xml.gz"
_RECORD = re.compile(r"<MedlineCitation .*?</MedlineCitation>\n", re.S)
_PMID = re.compile(r'<PMID Version="1">\d+</PMID>')


def make_file(target_mb: int, out: Path) -> int:
    """A MEDLINE XML file of about ``target_mb`` MB; returns its number of records."""
    records = _RECORD.findall(gzip.decompress(SOURCE.read_bytes()).decode())
    n = 0
    with out.open("w") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<MedlineCitationSet>\n')
        while f.tell() < target_mb * 2**20:
            for record in records:
                n += 1
                f.write(_PMID.sub(f'<PMID Version="1">{50_000_000 + n}</PMID>', record, count=1))
        f.write("</MedlineCitationSet>\n")
    return n


def prefill(source: Path, passages: int, out: Path) -> int:
    """An index in ``out`` of ``passages`` MEDLINE passages (``source``'s, repeated under new
    ids); returns how many it holds. ``source`` is only read (copied first)."""
    out.mkdir()
    shutil.copy(source / "manifest.json", out / "manifest.json")
    shutil.copy(source / "store.sqlite", out / "store.sqlite")
    db = sqlite3.connect(out / "store.sqlite", isolation_level=None)
    db.execute("PRAGMA foreign_keys=ON")
    db.execute(
        "DELETE FROM documents WHERE json_extract(record, '$.source_path') NOT LIKE ?",
        (f"%{SOURCE.name}",),
    )
    (per_copy,) = db.execute("SELECT COUNT(*) FROM chunks").fetchone()
    if not per_copy:
        raise SystemExit(f"{source} holds no passage of {SOURCE.name}")
    db.execute("BEGIN")
    db.execute("CREATE TEMP TABLE originals AS SELECT id FROM documents")
    for copy in range(1, -(-passages // per_copy)):
        suffix = f"~{copy}"
        db.execute(
            "INSERT INTO documents SELECT id || ?1, content_hash, pmid || ?1, pmcid, doi, title, "
            "journal, year, record FROM documents WHERE id IN (SELECT id FROM originals)",
            (suffix,),
        )
        db.execute(
            'INSERT INTO chunks (doc_id, ordinal, section, section_index, start, "end", '
            "page_start, page_end, text, embed_text, vector) SELECT doc_id || ?, ordinal, "
            'section, section_index, start, "end", page_start, page_end, text, embed_text, '
            "vector FROM chunks WHERE doc_id IN (SELECT id FROM originals) ORDER BY row",
            (suffix,),
        )
    db.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
    db.execute("COMMIT")
    (count,) = db.execute("SELECT COUNT(*) FROM chunks").fetchone()
    db.close()
    return int(count)


def rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(found.group(1)) / 1024 if found else 0.0


def run_ingest(path: Path, index: Path) -> dict[str, float]:
    """``rag ingest`` of ``path`` in a child process: its report, peak RSS and RSS samples."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env["PYTHONPATH"] = str(ROOT)
    cmd = [sys.executable, "-m", "cli.main", "ingest", str(path), "--index", str(index), "--json"]
    started = time.perf_counter()
    child = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    samples: list[tuple[float, float]] = []

    def sample() -> None:
        while child.returncode is None and Path(f"/proc/{child.pid}").exists():
            samples.append((time.perf_counter() - started, rss_mb(child.pid)))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert child.stdout is not None
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage: its peak RSS
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    sampler.join()
    if child.returncode:
        raise SystemExit(f"rag ingest failed with exit code {child.returncode}")
    report = json.loads(out.strip().splitlines()[-1])
    peak = usage.ru_maxrss / 1024
    quarter = [
        max((r for t, r in samples if t <= seconds * q), default=0) for q in (0.25, 0.5, 0.75)
    ]
    return {
        "documents": report["documents"], "chunks": report["chunks"], "seconds": round(seconds, 1),
        "docs_per_s": round(report["documents"] / seconds, 1), "peak_rss_mb": round(peak),
        "rss_mb_by_25_50_75_percent_of_time": [round(q) for q in quarter],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--mb", type=int, action="append", help="file size(s) in MB (default 1024)")
    parser.add_argument("--tmp", type=Path, default=Path("/tmp"), help="where the files go")
    parser.add_argument(
        "--prefill", type=int, default=0, help="passages in the index before the ingest (0: none)"
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=Path("/tmp/shared_index"),
        help="an index of ../shared/corpus to take --prefill's passages from (only read)",
    )
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}", flush=True)
    for mb in args.mb or [1024]:
        with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
            path = Path(tmp) / f"medline_{mb}mb.xml"
            records = make_file(mb, path)
            held = {}
            if args.prefill:
                started = time.perf_counter()
                held["prefilled_passages"] = prefill(args.source, args.prefill, Path(tmp) / "index")
                held["prefill_seconds"] = round(time.perf_counter() - started, 1)
                print(f"load average {os.getloadavg()[0]:.2f}", flush=True)
            result = run_ingest(path, Path(tmp) / "index")
            size = path.stat().st_size / 2**20
            line = {"file_mb": round(size), "records": records, **held, **result}
            print(json.dumps(line), flush=True)
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
