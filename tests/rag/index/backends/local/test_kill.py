"""Integration: SIGKILL at 12 points of an ingest and 2 of a remove; each resumes cleanly.

tests/rag/index/backends/local/kill_driver.py runs the real ``rag ingest`` on a small mixed corpus
in batches of 2 and kills it at points chosen by progress (fractions of the distinct documents, or
of the progress callback), one run after the other on the same index, each resuming the last; then a
complete run, then two killed ``rag remove`` runs. After every kill the index is copied. Here,
each copy must load consistent as it was left (FAISS, BM25 and store agree, no duplicate, no
document without a passage), and resuming it must end with exactly the distinct documents.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from base.settings import Settings
from corpus import read_many
from rag.index.backends.local.index import Index
from rag.index.ingest.pipeline import ingest, remove

pytestmark = pytest.mark.integration
DRIVER = Path(__file__).with_name("kill_driver.py")
BATCH = 2
# (phase, fraction of the distinct documents or, for "progress", of the documents in the run)
INGEST_POINTS = [
    ("embed", 0.0), ("insert", 0.1), ("progress", 0.2), ("commit", 0.3), ("embed", 0.4),
    ("insert", 0.5), ("progress", 0.6), ("commit", 0.7), ("embed", 0.8), ("insert", 0.9),
    ("insert", 1.0), ("bm25", 1.0),
]  # fmt: skip
REMOVE_POINTS = ["delete", "dense"]
OFFLINE = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
TEXT = "Duplicate paper\n\nThe same paragraph, saved twice under two names, is one document.\n"


@pytest.fixture(scope="module")
def files(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """PubMedQA and BioASQ records (3 title-only), a PubMed XML record and a text file twice."""
    folder = tmp_path_factory.mktemp("kill_corpus")
    corpus = shared / "corpus"
    pqal = (corpus / "pubmedqa/pqal_contexts.jsonl").read_text().splitlines()[:8]
    bioasq = (corpus / "bioasq/snippets_by_pmid.jsonl").read_text().splitlines()[:72:3]
    (folder / "pqal.jsonl").write_text("\n".join(pqal) + "\n")
    (folder / "bioasq.jsonl").write_text("\n".join(bioasq) + "\n")
    shutil.copy(corpus / "pubmed/pubmed-29768149.xml", folder / "pubmed.xml")
    (folder / "paper.txt").write_text(TEXT)
    (folder / "paper-copy.txt").write_text(TEXT)
    return sorted(folder.iterdir())


def facts(folder: Path) -> dict[str, int]:
    """What a consistent index has: equal counts everywhere, no duplicate, passages for all."""
    index = Index.open(folder, Settings())
    docs, chunks = index.store.counts()
    distinct = index.store.db.execute("SELECT COUNT(DISTINCT doc_id || ':' || ordinal) FROM chunks")
    found = {
        "documents": docs, "chunks": chunks, "vectors": int(index.dense.ntotal),
        "bm25": len(index.sparse.rows), "duplicates": chunks - distinct.fetchone()[0],
        "without_passages": index.store.documents_without_chunks(),
    }  # fmt: skip
    index.close()
    return found


def consistent(found: dict[str, int]) -> bool:
    return found["chunks"] == found["vectors"] == found["bm25"] and (
        found["duplicates"] == found["without_passages"] == 0
    )


def test_kills_during_ingest_and_remove_resume_without_duplicates(
    files: list[Path], tmp_path: Path
) -> None:
    docs, errors = read_many(files)
    distinct = {d.id for d in docs}
    assert errors == [] and len(distinct) == 34  # 8 + 24 + 1 + the text file once
    points = [[p, f if p == "bm25" else round(f * len(distinct))] for p, f in INGEST_POINTS]
    removed = sorted(i for i in distinct if i.startswith("pmid:"))[:4]
    plan = {
        "files": [str(f) for f in files], "index": str(tmp_path / "index"),
        "snapshots": str(tmp_path), "batch": BATCH, "points": points,
        "remove": removed, "remove_points": REMOVE_POINTS,
    }  # fmt: skip
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    done = subprocess.run(
        [sys.executable, str(DRIVER), str(tmp_path / "plan.json")],
        capture_output=True, text=True, timeout=900, check=False, env=OFFLINE,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    steps = [json.loads(line) for line in done.stdout.splitlines()]
    complete = len(INGEST_POINTS)
    assert [s["killed"] for s in steps] == [True] * complete + [False] + [True, True], steps
    assert steps[complete]["exit"] == 0 and steps[complete]["committed"] == len(distinct)
    kills = [s["committed"] for s in steps[:complete]]
    assert kills == sorted(kills) and kills[0] == 0 and len(set(kills)) >= 10, kills
    for step in steps:
        snapshot = tmp_path / str(step["step"])
        left = facts(snapshot)
        assert consistent(left) and left["documents"] == step["committed"], (step, left)
        if step["command"] == "ingest":
            report = ingest(files, snapshot, Settings())
            assert report.skipped == step["committed"] and report.errors == []
            wanted = len(distinct)
        else:
            remove(removed, snapshot, Settings())
            wanted = len(distinct) - len(removed)
        resumed = facts(snapshot)
        assert consistent(resumed) and resumed["documents"] == wanted, (step, resumed)
    index = Index.open(tmp_path / "index", Settings())
    assert {d.id for d in index.store.list_documents(limit=100)[0]} == distinct - set(removed)
    copy = index.store.document(next(d.id for d in docs if d.format == "text"))
    assert copy is not None and copy.source_path.endswith("paper-copy.txt")
    assert [Path(p).name for p in copy.other_sources] == ["paper.txt"]
