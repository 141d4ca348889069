"""The records every backend reads back alike: stored passages and documents, and the read
protocol (:class:`Records`) that answers, lookups and the UI use on any index."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from corpus.model import Document
from rag.index.chunking import Chunk


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """One indexed document as a listing shows it."""

    id: str
    title: str
    journal: str | None
    year: int | None
    pmid: str | None
    pmcid: str | None
    doi: str | None
    format: str
    source: str  # the name of the file it was read from
    chunks: int


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """A chunk as stored, with the fields of its document that a hit shows."""

    row: int
    doc_id: str
    section: str
    text: str
    start: int
    end: int
    page_start: int | None
    page_end: int | None
    title: str
    pmid: str | None
    pmcid: str | None
    doi: str | None
    journal: str | None
    year: int | None


Exported = tuple[Document, list[Chunk], np.ndarray]  # a document, its passages and vectors


class Records(Protocol):
    """The documents and passages of an index, read by id (the local store and Milvus's records)."""

    def matches(self, doc: Document) -> list[tuple[Document, str]]: ...
    def resolve(self, key: str) -> list[str]: ...
    def document(self, doc_id: str) -> Document | None: ...
    def chunks(self, rows: list[int]) -> dict[int, StoredChunk]: ...
    def document_chunks(self, doc_id: str) -> list[StoredChunk]: ...
    def vectors_for(self, rows: list[int], dim: int) -> dict[int, np.ndarray]: ...
    def counts(self) -> tuple[int, int]: ...
    def documents_without_chunks(self) -> int: ...
    def list_documents(
        self, contains: str | None = "", limit: int = 200
    ) -> tuple[list[StoredDocument], int]: ...
    def export(self, dim: int) -> Iterator[Exported]: ...


def paper_keys(doc: Document) -> list[str]:
    """The keys ``matches`` compares: id, PMID, PMCID, DOI."""
    pairs = (("id", doc.id), ("pmid", doc.pmid), ("pmcid", doc.pmcid), ("doi", doc.doi))
    return [f"{kind}:{value}" for kind, value in pairs if value]
