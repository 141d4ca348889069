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
from rag.index.embeddings import Embedder, load_embedder
from rag.index.local import Index, WriteLock
from rag.index.writes import Batch

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
        for start in range(0, len(docs), BATCH_DOCUMENTS):
            batch = docs[start : start + BATCH_DOCUMENTS]
            index.write(prepare(batch, index, chunker, embedder, report))
            if progress:
                progress(min(start + BATCH_DOCUMENTS, len(docs)), len(docs))
        index.finish()
        index.close()
    finally:
        lock.release()
    report.seconds = time.perf_counter() - started
    return report


def prepare(
    batch: Iterable[Document],
    index: Index,
    chunker: Chunker,
    embedder: Embedder,
    report: IngestReport,
) -> Batch:
    """The writes that store one batch: merged against the index, chunked and embedded."""
    fresh, replace, relabel = _sort_batch(batch, index, report)
    chunks = tuple(tuple(chunker.chunk([doc])) for doc in fresh.values())
    vectors = embed_passages(embedder, [c.embed_text for cs in chunks for c in cs])
    report.documents += len(fresh)
    report.chunks += sum(len(cs) for cs in chunks)
    return Batch(tuple(relabel), tuple(replace), tuple(fresh.values()), chunks, vectors)


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
        stored = index.matches(doc)
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


def embed_passages(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Embed passages, rounded to float16 as the store keeps them (so a rebuild is identical)."""
    if not texts:
        return np.zeros((0, embedder.dimension), np.float32)
    return embedder.embed_documents(texts).astype(np.float16).astype(np.float32)


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
            empty = np.zeros((0, index.manifest.dimension), np.float32)
            index.write(Batch((), tuple(found), (), (), empty))
            index.finish()
        index.close()
    finally:
        lock.release()
    return list(found), missing
