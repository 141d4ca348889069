"""Integration: an ingest into milvus-lite SIGKILLed between its writes resumes without duplicates.

Milvus has no transactions; ``MilvusIndex.write`` orders its deletes and inserts so that a re-run
repairs a batch cut short (rag/index/backends/milvus/index.py). Each run here is a real process
killed by tests/rag/index/backends/milvus/milvus_kill_driver.py at a chosen insert, the next run
resuming the same index.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from base.settings import Settings
from corpus import read_many
from rag.index.backends import open_index
from rag.index.backends.milvus.index import MilvusIndex
from rag.index.chunking import Chunker
from rag.index.embed.embedder import load_embedder

pytestmark = pytest.mark.integration
DRIVER = Path(__file__).with_name("milvus_kill_driver.py")
OFFLINE = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def run(uri: str, phase: str, at: int, files: list[Path]) -> int:
    cmd = [sys.executable, str(DRIVER), uri, phase, str(at), *map(str, files)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=OFFLINE)
    assert done.returncode in (0, -9), done.stderr[-2000:]
    return done.returncode


def facts(uri: str) -> dict[str, object]:
    """Counts, duplicates, and documents whose stored passages differ from their record's."""
    index = open_index(uri, Settings())
    assert isinstance(index, MilvusIndex)
    rows = list(index.store._iterate(index.store.chunks_name, "", ["doc_id", "ordinal"]))
    records = list(index.store._iterate(index.documents_name, "part == 0", ["doc_id", "chunks"]))
    per_doc: dict[str, int] = {}
    for r in rows:
        per_doc[r["doc_id"]] = per_doc.get(r["doc_id"], 0) + 1
    found = {
        "documents": len(records), "chunks": len(rows),
        "duplicates": len(rows) - len({(r["doc_id"], r["ordinal"]) for r in rows}),
        "mismatched": sum(per_doc.get(r["doc_id"], 0) != r["chunks"] for r in records),
    }  # fmt: skip
    index.close()
    return found


def test_killed_milvus_ingest_resumes_without_duplicates(shared: Path, tmp_path: Path) -> None:
    corpus = shared / "corpus"
    pqal = (corpus / "pubmedqa/pqal_contexts.jsonl").read_text().splitlines()[:12]
    (tmp_path / "pqal.jsonl").write_text("\n".join(pqal) + "\n")
    shutil.copy(corpus / "pubmed/pubmed-29768149.xml", tmp_path / "pubmed.xml")
    files = [tmp_path / "pqal.jsonl", tmp_path / "pubmed.xml"]
    docs, _ = read_many(files)
    embedder = load_embedder(Settings().embedding)
    chunker = Chunker(Settings().chunking, embedder.count_tokens)
    expected = {"documents": len(docs), "chunks": len(list(chunker.chunk(docs)))}
    uri = f"milvus+lite://{tmp_path}/kill.db"

    assert run(uri, "records", 2, files) == -9  # batch 2's passages in, its records not
    assert run(uri, "chunks", 3, files) == -9  # resumes; dies before batch 3's passages
    assert run(uri, "none", 0, files) == 0
    assert facts(uri) == {**expected, "duplicates": 0, "mismatched": 0}

    # A changed record of a stored PMID replaces it: killed after its old passages are deleted.
    xml = (tmp_path / "pubmed.xml").read_text()
    changed = xml.replace('"BACKGROUND">In patients', '"BACKGROUND">Changed. In patients')
    assert changed != xml
    (tmp_path / "pubmed.xml").write_text(changed)
    assert run(uri, "chunks", 1, files) == -9
    assert run(uri, "none", 0, files) == 0
    final = facts(uri)
    assert final["documents"] == expected["documents"]
    assert (final["duplicates"], final["mismatched"]) == (0, 0)
    index = open_index(uri, Settings())
    doc = index.store.document("pmid:29768149")
    assert doc is not None and "Changed. In patients" in doc.text
