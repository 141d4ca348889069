"""Ingest into a backend that is not a local directory (Milvus), through the write seam.

A stand-in until ``rag.index.ingest`` writes through :func:`rag.index.backend.open_index` (the
ingest branch): it reuses that module's merge rules (``_sort_batch``) and hands each batch to
``index.write`` as a :class:`rag.index.writes.Batch`, then calls ``index.finish``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from base.settings import Settings
from corpus import read_many
from rag.index.backend import is_local, open_index
from rag.index.chunking import Chunker
from rag.index.embeddings import load_embedder
from rag.index.ingest import (
    BATCH_DOCUMENTS,
    IngestReport,
    Progress,
    _sort_batch,
    embed_passages,
    ingest,
    remove,
)
from rag.index.writes import Batch


def ingest_uri(
    paths: Sequence[Path],
    uri: str | Path,
    settings: Settings,
    progress: Progress | None = None,
    batch_documents: int = BATCH_DOCUMENTS,
) -> IngestReport:
    """Add the documents under ``paths`` to the index ``uri`` names (created if missing)."""
    if is_local(uri):
        return ingest(paths, Path(uri), settings, progress)
    started = time.perf_counter()
    embedder = load_embedder(settings.embedding)
    docs, errors = read_many(paths, settings.corpus)
    report = IngestReport(errors=errors)
    index = open_index(str(uri), settings, dimension=embedder.dimension)
    chunker = Chunker(settings.chunking, embedder.count_tokens)
    try:
        for start in range(0, len(docs), batch_documents):
            part = docs[start : start + batch_documents]
            # _sort_batch reads index.store.matches, which every backend's records have.
            fresh, replace, relabel = _sort_batch(part, index, report)  # type: ignore[arg-type]
            chunks = [tuple(chunker.chunk([doc])) for doc in fresh.values()]
            texts = [c.embed_text for group in chunks for c in group]
            vectors = embed_passages(index, texts)  # type: ignore[arg-type]
            index.write(Batch(tuple(relabel), tuple(replace), tuple(fresh.values()),
                              tuple(chunks), vectors))  # fmt: skip
            report.documents += len(fresh)
            report.chunks += len(texts)
            if progress:
                progress(min(start + batch_documents, len(docs)), len(docs))
        index.finish()
    finally:
        index.close()
    report.seconds = time.perf_counter() - started
    return report


def remove_uri(
    ids: Sequence[str], uri: str | Path, settings: Settings
) -> tuple[list[str], list[str]]:
    """Delete documents by id (or bare PMID, PMCID, DOI); (removed ids, not found)."""
    if is_local(uri):
        return remove(ids, Path(uri), settings)
    from rag.index.milvus import MilvusIndex

    index = open_index(uri, settings)
    try:
        if not isinstance(index, MilvusIndex):
            raise TypeError(f"{uri} is neither a local nor a Milvus index")
        return index.remove(ids)
    finally:
        index.close()
