"""The index seam: what every backend offers, and :func:`open_index`, which picks one by URI.

``--index`` names the backend (other tools rely on this syntax):

- a directory path -> the local index (FAISS + bm25s + SQLite, :mod:`rag.index.local`);
- ``milvus://HOST:PORT/COLLECTION`` -> a Milvus server or cluster (``milvus+https://`` for TLS);
- ``milvus+lite:///ABSOLUTE/PATH/FILE.db`` -> embedded milvus-lite, collection ``litrag`` or
  ``...FILE.db#NAME`` (:mod:`rag.index.milvus`).

A Milvus token (or ``user:password``) comes from ``LITRAG_INDEX__MILVUS_TOKEN``, never the URI,
so that it appears in no command line, log or error message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

import numpy as np

from base.errors import IndexProblem
from corpus.model import Document

if TYPE_CHECKING:
    from collections.abc import Iterator

    from base.settings import Settings
    from rag.index.chunking import Chunk
    from rag.index.local import Manifest
    from rag.index.store import StoredChunk, StoredDocument
    from rag.index.writes import Batch

SCHEMES = ("milvus", "milvus+https", "milvus+lite")
DEFAULT_COLLECTION = "litrag"
_COLLECTION = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,200}$")  # Milvus's rule for names


@dataclass(frozen=True, slots=True)
class Filters:
    """Restrict a search to some documents or sections. Empty fields do not restrict."""

    year_min: int | None = None
    year_max: int | None = None
    journal: str | None = None  # case-insensitive substring of the journal name
    pmids: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()  # case-insensitive prefixes of section headings

    def sql(self) -> tuple[str, list[object]] | None:
        """A WHERE clause over chunks ``c`` and documents ``d``, or None when nothing is set."""
        clauses: list[str] = []
        params: list[object] = []
        if self.year_min is not None:
            clauses.append("d.year >= ?")
            params.append(self.year_min)
        if self.year_max is not None:
            clauses.append("d.year <= ?")
            params.append(self.year_max)
        if self.journal:
            clauses.append("d.journal LIKE ?")
            params.append(f"%{self.journal}%")
        if self.pmids:
            clauses.append(f"d.pmid IN ({','.join('?' * len(self.pmids))})")
            params += list(self.pmids)
        if self.sections:
            clauses.append("(" + " OR ".join("c.section LIKE ?" for _ in self.sections) + ")")
            params += [f"{s}%" for s in self.sections]
        return (" AND ".join(clauses), params) if clauses else None


Exported = tuple[Document, list["Chunk"], np.ndarray]  # a document, its passages and vectors


class Records(Protocol):
    """The documents and passages of an index, read by id (``Store`` and Milvus's records)."""

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


class SearchIndex(Protocol):
    """An open index of any backend: its manifest, its records, its writes and its stats.

    Search itself is backend-specific (the local index is fused in ``rag.retrieve.hybrid``,
    Milvus fuses in the server): see ``Retriever.retrieve``.
    """

    @property
    def manifest(self) -> Manifest: ...
    @property
    def store(self) -> Records: ...
    def matches(self, doc: Document) -> list[tuple[Document, str]]: ...
    def write(self, batch: Batch) -> None: ...
    def finish(self) -> None: ...
    def stats(self) -> dict[str, object]: ...
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class MilvusTarget:
    """Where a Milvus collection lives: what pymilvus connects to, and the collection's name."""

    address: str  # http(s)://HOST:PORT, or the milvus-lite .db path
    collection: str
    lite: bool
    uri: str  # as the user wrote it (no credentials: those come from the environment)


def parse_index(uri: str | Path) -> Path | MilvusTarget:
    """A local directory or a Milvus target from what ``--index`` says."""
    text = str(uri)
    scheme, sep, _ = text.partition("://")
    if not sep:
        return Path(text).expanduser()
    if scheme not in SCHEMES:
        raise IndexProblem(
            f"--index {text!r}: unknown scheme {scheme!r}; give a directory, "
            "milvus://HOST:PORT/COLLECTION, milvus+https://HOST:PORT/COLLECTION or "
            "milvus+lite:///ABSOLUTE/PATH/FILE.db[#COLLECTION]"
        )
    parts = urlsplit(text)
    if parts.username or parts.password:
        # The URI is echoed in errors and shell history; credentials must not be.
        raise IndexProblem(
            f"--index {scheme}://…: put the Milvus token or user:password in "
            "LITRAG_INDEX__MILVUS_TOKEN, not in the URI"
        )
    if scheme == "milvus+lite":
        return _lite_target(text, parts.netloc, parts.path, parts.fragment)
    name = parts.path.strip("/") or DEFAULT_COLLECTION
    if not parts.hostname or not parts.port or parts.query or parts.fragment:
        raise IndexProblem(f"--index {text!r}: expected {scheme}://HOST:PORT/COLLECTION")
    _check_collection(name, text)
    protocol = "https" if scheme == "milvus+https" else "http"
    return MilvusTarget(f"{protocol}://{parts.netloc}", name, lite=False, uri=text)


def _lite_target(text: str, host: str, path: str, fragment: str) -> MilvusTarget:
    if host or not path.startswith("/") or not path.endswith(".db"):
        raise IndexProblem(
            f"--index {text!r}: expected milvus+lite:///ABSOLUTE/PATH/FILE.db[#COLLECTION] "
            "(three slashes, an absolute path ending in .db)"
        )
    name = fragment or DEFAULT_COLLECTION
    _check_collection(name, text)
    return MilvusTarget(path, name, lite=True, uri=text)


def _check_collection(name: str, text: str) -> None:
    if not _COLLECTION.match(name):
        raise IndexProblem(
            f"--index {text!r}: the collection name {name!r} must start with a letter or _ and "
            "hold only letters, digits and _"
        )


def is_local(uri: str | Path) -> bool:
    """True when ``uri`` names a local index directory."""
    return isinstance(parse_index(uri), Path)


def open_index(uri: str | Path, settings: Settings, dimension: int | None = None) -> SearchIndex:
    """Open the index ``uri`` names; with ``dimension``, create it when missing.

    Either backend refuses an index built with other settings (:class:`IndexProblem`).
    """
    target = parse_index(uri)
    if isinstance(target, Path):
        from rag.index.local import Index

        return Index.open(target, settings, dimension)
    from rag.index.milvus import MilvusIndex  # pymilvus loads only for a Milvus index

    return MilvusIndex.open(target, settings, dimension)
