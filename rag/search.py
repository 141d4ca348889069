"""Open an index for searching: the index, the embedder it was built with, the retriever."""

from __future__ import annotations

from pathlib import Path

from rag.embeddings import load_embedder
from rag.errors import IndexProblem
from rag.index import Index
from rag.retrieval import Retriever
from rag.settings import Settings


def open_retriever(folder: Path, settings: Settings) -> Retriever:
    """A :class:`Retriever` over the index in ``folder``, checked against ``settings``."""
    index = Index.open(folder, settings)
    embedder = load_embedder(settings.embedding)
    if embedder.dimension != index.manifest.dimension:
        raise IndexProblem(
            f"the index at {folder} holds {index.manifest.dimension}-d vectors but "
            f"{embedder.name} makes {embedder.dimension}-d ones"
        )
    return Retriever(index, embedder, settings.retrieval)
