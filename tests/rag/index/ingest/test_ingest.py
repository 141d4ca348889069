"""Integration: streaming ingest in small batches stores what reading the whole corpus would.

Records of one paper far apart (other files, other batches) merge as ``corpus.dedup`` merges a
corpus read at once; reading stays a few batches ahead of writing. Real model, SQLite, FAISS.
"""

from __future__ import annotations

import itertools
import json
import shutil
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import rag.index.ingest.pipeline as ingest_module
from base.settings import Settings
from corpus import read_many
from corpus.model import content_hash
from rag.index.backends.local.index import Index
from rag.index.embed.embedder import load_embedder, unload_embedder
from rag.index.ingest.pipeline import ingest

pytestmark = pytest.mark.integration
TEXT = "Duplicate paper\n\nThe same paragraph, saved twice under two names, is one document.\n"


@pytest.fixture(scope="module")
def files(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """PubMedQA and BioASQ records, a PubMed XML record, a text file twice, and one PubMedQA
    paper again at the end as a shorter record of the same PMID."""
    folder = tmp_path_factory.mktemp("stream_corpus")
    corpus = shared / "corpus"
    pqal = (corpus / "pubmedqa/pqal_contexts.jsonl").read_text().splitlines()[:12]
    bioasq = (corpus / "bioasq/snippets_by_pmid.jsonl").read_text().splitlines()[:30]
    first = json.loads(pqal[0])
    pmid = first["metadata"]["pmid"]
    snippet = {**first, "_id": "again", "text": first["text"][:80], "metadata": {"pmid": pmid}}
    (folder / "a_pqal.jsonl").write_text("\n".join(pqal) + "\n")
    (folder / "b_bioasq.jsonl").write_text("\n".join(bioasq) + "\n")
    shutil.copy(corpus / "pubmed/pubmed-29768149.xml", folder / "c_pubmed.xml")
    (folder / "d_paper.txt").write_text(TEXT)
    (folder / "e_snippet.jsonl").write_text(json.dumps(snippet) + "\n")
    (folder / "f_paper-copy.txt").write_text(TEXT)
    return sorted(folder.iterdir())


def stored(folder: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    index = Index.open(folder, Settings())
    docs = {d.id: d for d in index.store.list_documents(limit=1000)[0]}
    full = {i: index.store.document(i) for i in docs}
    index.close()
    return {i: (content_hash(d), d.other_sources) for i, d in full.items() if d is not None}


def test_small_batches_store_what_reading_everything_merges(
    files: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_module, "BATCH_DOCUMENTS", 3)
    seen: list[tuple[int, int]] = []
    report = ingest(files, tmp_path / "index", Settings(), lambda d, t: seen.append((d, t)))
    docs, _ = read_many(files)
    wanted = {d.id: (content_hash(d), d.other_sources) for d in docs}
    assert stored(tmp_path / "index") == wanted
    merged = [d for d in docs if len(d.other_sources) == 1]  # the text file, the PubMedQA paper
    assert sorted(Path(d.other_sources[0]).name for d in merged) == [
        "e_snippet.jsonl",
        "f_paper-copy.txt",
    ]
    assert (report.documents, report.skipped, report.errors) == (len(wanted), 0, [])
    records = 12 + 30 + 1 + 3
    assert seen[-1] == (records, records)
    # Streaming: when the first batch was written, reading was only a few batches ahead.
    assert seen[0][0] == 3 and seen[0][1] <= 3 * (2 * ingest_module.AHEAD + 3)
    again = ingest(files, tmp_path / "index", Settings())
    assert (again.documents, again.skipped) == (0, len(wanted))


def test_the_model_is_let_go_before_the_index_is_finished(
    files: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``rag ingest`` frees the model's memory before dense and BM25 are built; a process that
    held the model before (the web app) keeps it."""
    settings = Settings()
    models: list[weakref.ref[Any]] = []
    alive: list[bool] = []
    stream, finish = ingest_module.ingest_into, Index.finish

    def spy_stream(index: Any, paths: Any, settings: Any, embedder: Any, *rest: Any) -> Any:
        models.append(weakref.ref(embedder))
        return stream(index, paths, settings, embedder, *rest)

    def spy_finish(self: Index) -> None:
        alive.append(models[-1]() is not None)
        finish(self)

    monkeypatch.setattr(ingest_module, "ingest_into", spy_stream)
    monkeypatch.setattr(Index, "finish", spy_finish)
    unload_embedder(settings.embedding)
    ingest(files[:1], tmp_path / "a", settings)
    held = load_embedder(settings.embedding)
    ingest(files[:1], tmp_path / "b", settings)
    assert alive == [False, True] and load_embedder(settings.embedding) is held


def test_a_stage_hands_on_items_then_its_error_and_stops() -> None:
    def items() -> Iterator[int]:
        yield from range(3)
        raise ValueError("bad record")

    stage = ingest_module.Ahead(items(), "test")
    got: list[int] = []
    with pytest.raises(ValueError, match="bad record"):
        got.extend(stage)
    assert got == [0, 1, 2]
    endless = ingest_module.Ahead(itertools.count(), "endless")
    assert next(iter(endless)) == 0
    ingest_module.stop(endless, stage)  # an endless producer blocked on a full queue ends too
    assert not endless._thread.is_alive()
