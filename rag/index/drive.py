"""Ingest into and remove from the index a URI names: a local directory or a Milvus collection.

Both go through the same streaming ingest (:func:`rag.index.ingest.ingest_into`) and the write
seam (``matches`` / ``write`` / ``finish``); only the opening differs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from base.settings import Settings
from rag.index.backend import is_local, open_index
from rag.index.embeddings import load_embedder
from rag.index.ingest import IngestReport, Progress, ingest, ingest_into, remove


def ingest_uri(
    paths: Sequence[Path], uri: str | Path, settings: Settings, progress: Progress | None = None
) -> IngestReport:
    """Add the documents under ``paths`` to the index ``uri`` names (created if missing)."""
    if is_local(uri):
        return ingest(paths, Path(uri), settings, progress)
    started = time.perf_counter()
    embedder = load_embedder(settings.embedding)
    index = open_index(str(uri), settings, dimension=embedder.dimension)
    try:
        report = ingest_into(index, paths, settings, embedder, progress)
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
