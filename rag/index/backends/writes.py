"""One batch of index writes: what ingest hands to an index backend (local directory or Milvus)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from corpus.model import Document
from rag.index.chunking import Chunk


@dataclass(frozen=True)
class Batch:
    """Writes that commit together: a backend applies all of them or none.

    ``vectors`` has one float32 row per chunk, in the order of ``documents`` then their
    ``chunks`` (``chunks[i]`` belongs to ``documents[i]``).
    """

    relabel: tuple[Document, ...]  # stored documents whose record changes, passages kept
    replace: tuple[str, ...]  # stored document ids to delete (replaced by ``documents``)
    documents: tuple[Document, ...]  # documents to store, with their passages
    chunks: tuple[tuple[Chunk, ...], ...]
    vectors: np.ndarray
