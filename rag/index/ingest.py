"""Files -> index: read, chunk, embed, store, index, persist.

Each batch of documents is committed to SQLite in one transaction, so a run killed at any moment
leaves the last committed batch loadable; re-running the same command skips what is stored
(same content hash) and finishes the rest, without duplicates. A document that is the same paper
as a stored one (same id, PMID, PMCID or DOI) is merged with it and replaces it if that changes it;
records of one id in a batch are merged before they are stored, so no insert meets a stored id.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from base.errors import ReadError
from base.settings import Settings
from corpus import read_many
from corpus.dedup import merge
from corpus.model import Document, content_hash
from rag.index.chunking import Chunker
from rag.index.embeddings import load_embedder
from rag.index.local import Index, WriteLock

BATCH_DOCUMENTS = 128
Progress = Callable[[int, int], None]  # (documents done, documents in all)


@dataclass
class IngestReport:
    """What one ``rag ingest`` did."""

    documents: int = 0  # added or replaced
    chunks: int = 0
    skipped: int = 0  # already stored, unchanged
    errors: list[ReadError] = field(default_factory=list)
    seconds: float = 0.0


def ingest(
    paths: Sequence[Path], folder: Path, settings: Settings, progress: Progress | None = None
) -> IngestReport:
    """Add the documents under ``paths`` to the index in ``folder`` (created if missing)."""
    started = time.perf_counter()
    embedder = load_embedder(settings.embedding)
    docs, errors = read_many(paths, settings.corpus)
    report = IngestReport(errors=errors)
    lock = WriteLock(folder)
    try:
        index = Index.open(folder, settings, dimension=embedder.dimension)
        chunker = Chunker(settings.chunking, embedder.count_tokens)
        rebuild = index.untrained
        for start in range(0, len(docs), BATCH_DOCUMENTS):
            batch = docs[start : start + BATCH_DOCUMENTS]
            rebuild |= _ingest_batch(batch, index, chunker, report, rebuild)
            if progress:
                progress(min(start + BATCH_DOCUMENTS, len(docs)), len(docs))
        if rebuild:
            index.dense = index.build_dense()
        if report.documents or rebuild:
            index.save()
        index.close()
    finally:
        lock.release()
    report.seconds = time.perf_counter() - started
    return report


def _ingest_batch(
    batch: Iterable[Document], index: Index, chunker: Chunker, report: IngestReport, defer: bool
) -> bool:
    """Store one batch; True when the dense index must be rebuilt (removal unsupported)."""
    fresh, replace, relabel = _sort_batch(batch, index, report)
    if not fresh:
        if relabel:  # the record only: passages and derived files stay as they are
            with index.store.transaction():
                for doc in relabel:
                    index.store.update_record(doc)
        return False
    chunks = {doc_id: list(chunker.chunk([doc])) for doc_id, doc in fresh.items()}
    flat = [c for doc_id in fresh for c in chunks[doc_id]]
    vectors = embed_passages(index, [c.embed_text for c in flat])
    rows: list[int] = []
    with index.store.transaction():
        for doc in relabel:
            index.store.update_record(doc)
        # The fresh ids go too: an id already stored but not matched can never fail the insert.
        gone = index.store.delete_documents(list(dict.fromkeys([*replace, *fresh])))
        offset = 0
        for doc_id, doc in fresh.items():
            n = len(chunks[doc_id])
            rows += index.store.add(doc, chunks[doc_id], vectors[offset : offset + n])
            offset += n
        index.store.bump_generation()
    report.documents += len(fresh)
    report.chunks += len(flat)
    return _update_dense(index, gone, np.array(rows, dtype=np.int64), vectors, defer)


def _sort_batch(
    batch: Iterable[Document], index: Index, report: IngestReport
) -> tuple[dict[str, Document], list[str], list[Document]]:
    """(documents to store by id, stored ids they replace, stored documents to relabel).

    Records of one id are merged here whatever ``corpus.merge_duplicates`` says, so that two
    of them can never meet at the insert (two copies of one text file did, before 2026-12).
    A stored document that is unchanged but was read from one more file is relabelled only.
    """
    fresh: dict[str, Document] = {}
    replace: list[str] = []
    relabel: list[Document] = []
    for doc in batch:
        stored = index.store.matches(doc)
        merged = doc
        for old, _ in stored:
            merged = merge(old, merged)
        if len(stored) == 1 and stored[0][1] == content_hash(merged):
            report.skipped += 1
            if merged.other_sources != stored[0][0].other_sources:
                relabel.append(merged)
            continue
        replace += [old.id for old, _ in stored]
        if merged.id in fresh:
            merged = merge(fresh.pop(merged.id), merged)
        fresh[merged.id] = merged
    return fresh, replace, relabel


def embed_passages(index: Index, texts: list[str]) -> np.ndarray:
    """Embed passages, rounded to float16 as the store keeps them (so a rebuild is identical)."""
    embedder = load_embedder(index.settings.embedding)
    vectors = embedder.embed_documents(texts) if texts else np.zeros((0, embedder.dimension))
    return vectors.astype(np.float16).astype(np.float32)


def _update_dense(
    index: Index, gone: list[int], rows: np.ndarray, vectors: np.ndarray, defer: bool
) -> bool:
    if defer:
        return True
    if gone:
        if index.settings.index.kind == "hnsw":
            return True  # HNSW cannot remove vectors: rebuilt from the store at the end
        # faiss's Python layer accepts an id array here; its stubs only list IDSelector.
        index.dense.remove_ids(np.array(gone, dtype=np.int64))  # type: ignore[arg-type]
    if len(rows):
        index.dense.add_with_ids(vectors, rows)
    return False


def remove(ids: Sequence[str], folder: Path, settings: Settings) -> tuple[list[str], list[str]]:
    """Delete documents by id (or bare PMID, PMCID, DOI); returns (removed ids, not found)."""
    lock = WriteLock(folder)
    try:
        index = Index.open(folder, settings)
        found: dict[str, str] = {}
        for wanted in ids:
            for doc_id in index.store.resolve(wanted):
                found[doc_id] = wanted
        missing = [w for w in ids if w not in found.values()]
        if found:
            with index.store.transaction():
                gone = index.store.delete_documents(list(found))
                index.store.bump_generation()
            if _update_dense(index, gone, np.zeros(0, np.int64), np.zeros((0, 1)), defer=False):
                index.dense = index.build_dense()
            index.save()
        index.close()
    finally:
        lock.release()
    return list(found), missing
