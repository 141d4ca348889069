"""Integration: ``rag ingest --ray`` on a local 2-CPU Ray instance stores what plain ingest does.

Real Ray (tasks read and chunk, an actor pool embeds with the real model), real index on disk.
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
from rag.index.backends.local.index import Index
from rag.index.ingest.pipeline import ingest
from rag.retrieve.hybrid import open_retriever

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[4]
SEED = "MDM2 amplification and hyperprogressive disease under immune checkpoint inhibitors"


@pytest.fixture(scope="module")
def files(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The seed papers, a PubMed XML record, PubMedQA records and one of them again (shorter),
    and a file that cannot be read."""
    folder = tmp_path_factory.mktemp("ray_corpus")
    corpus = shared / "corpus"
    pqal = (corpus / "pubmedqa/pqal_contexts.jsonl").read_text().splitlines()[:16]
    first = json.loads(pqal[0])
    again = {**first, "_id": "again", "text": first["text"][:90], "metadata": {"pmid": "21645374"}}
    (folder / "pqal.jsonl").write_text("\n".join(pqal) + "\n")
    (folder / "zz_again.jsonl").write_text(json.dumps(again) + "\n")
    shutil.copy(corpus / "pubmed/pubmed-29768149.xml", folder / "pubmed.xml")
    shutil.copytree(corpus / "seeds", folder / "seeds")
    (folder / "notes.json").write_text("{}\n")  # not JSON Lines: one file that fails
    return [folder]


def contents(folder: Path) -> dict[str, list[tuple[str, str]]]:
    """Each document's passages: (section, text), as stored."""
    index = Index.open(folder, Settings())
    rows = index.store.db.execute(
        "SELECT doc_id, section, text FROM chunks ORDER BY doc_id, ordinal"
    )
    found: dict[str, list[tuple[str, str]]] = {}
    for doc_id, section, text in rows.fetchall():
        found.setdefault(doc_id, []).append((section, text))
    index.close()
    return found


def test_ray_ingest_stores_what_plain_ingest_does(files: list[Path], tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "cli.main", "ingest", *map(str, files), "--index",
           str(tmp_path / "ray"), "--ray", "--json"]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    plain = ingest(files, tmp_path / "plain", Settings())
    assert (report["documents"], report["chunks"]) == (plain.documents, plain.chunks)
    assert report["errors"] == len(plain.errors) == 1
    assert contents(tmp_path / "ray") == contents(tmp_path / "plain")
    hits = open_retriever(tmp_path / "ray", Settings()).search(SEED, k=5)
    assert hits[0].chunk.pmid == "38281981"


def test_ray_ingest_into_milvus_lite_then_search(files: list[Path], tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    uri = f"milvus+lite://{tmp_path}/ray.db"
    cmd = [sys.executable, "-m", "cli.main", "ingest", *map(str, files), "--index", uri,
           "--ray", "--json"]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    plain = ingest(files, tmp_path / "plain", Settings())
    assert (report["documents"], report["chunks"]) == (plain.documents, plain.chunks)
    search = [sys.executable, "-m", "cli.main", "search", SEED, "--index", uri, "-k", "3", "--json"]
    found = subprocess.run(search, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert found.returncode == 0, found.stderr[-3000:]
    hits = json.loads(found.stdout.strip().splitlines()[-1])["hits"]
    assert hits[0]["pmid"] == "38281981", hits
