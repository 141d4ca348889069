"""``rag index copy SRC DST``: move an index between backends without embedding again.

Both stores keep every passage's vector (the local store as float16, which Milvus keeps as the
same values in float32), so a copy writes the stored documents, passages and vectors as they are.
The destination must be empty and is created with the source's manifest.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from base.errors import IndexProblem
from base.settings import Settings
from rag.index.backends import SearchIndex, open_index
from rag.index.backends.records import Exported
from rag.index.backends.writes import Batch

COPY_DOCUMENTS = 256  # documents per written batch


def copy_index(
    source: str, target: str, settings: Settings, progress: Callable[[int], None] | None = None
) -> tuple[int, int]:
    """Copy every document of ``source`` into the empty index ``target``; (documents, chunks)."""
    src = open_index(source, settings)
    dim = src.manifest.dimension
    dst = open_index(target, settings, dimension=dim)
    try:
        if dst.store.counts()[0]:
            raise IndexProblem(f"rag index copy: {target} already holds documents; copy into a "
                               "new index")  # fmt: skip
        docs = chunks = 0
        pending: list[Exported] = []
        for item in src.store.export(dim):
            pending.append(item)
            if len(pending) == COPY_DOCUMENTS:
                chunks += _write(dst, pending, dim)
                docs += len(pending)
                pending = []
                if progress:
                    progress(docs)
        if pending:
            chunks += _write(dst, pending, dim)
            docs += len(pending)
        dst.finish()
    finally:
        src.close()
        dst.close()
    return docs, chunks


def _write(dst: SearchIndex, items: list[Exported], dim: int) -> int:
    vectors = [v for _, _, v in items if len(v)]
    stacked = np.vstack(vectors) if vectors else np.zeros((0, dim), np.float32)
    batch = Batch((), (), tuple(d for d, _, _ in items), tuple(tuple(c) for _, c, _ in items),
                  stacked)  # fmt: skip
    dst.write(batch)
    return len(stacked)
