"""The index seam: what every backend offers, and :func:`open_index`, which picks one by URI.

``--index`` names the backend (other tools rely on this syntax):

- a directory path -> the local index (FAISS + bm25s + SQLite,
  :mod:`rag.index.backends.local.index`);
- ``milvus://HOST:PORT/COLLECTION`` -> a Milvus server or cluster (``milvus+https://`` for TLS);
- ``milvus+lite:///ABSOLUTE/PATH/FILE.db`` -> embedded milvus-lite, collection ``litrag`` or
  ``...FILE.db#NAME`` (:mod:`rag.index.backends.milvus.index`).

A Milvus token (or ``user:password``) comes from ``LITRAG_INDEX__MILVUS_TOKEN``, never the URI,
so that it appears in no command line, log or error message.

A backend is one module, named in :data:`BACKENDS` under each URI scheme it serves, that offers
the functions of :class:`Backend`; its index follows :class:`SearchIndex` and one of the two
search protocols: :class:`CandidateSearch` (dense and BM25 candidates that the retriever fuses)
or :class:`FusedSearch` (the engine fuses them itself, as Milvus does). A new backend is that
module and one line in :data:`BACKENDS`. Modules are imported on first use, so that pymilvus
loads only for a Milvus index.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol, cast, runtime_checkable

from base.errors import IndexProblem

if TYPE_CHECKING:
    import numpy as np

    from base.settings import Settings
    from corpus.model import Document
    from rag.index.backends.manifest import Manifest
    from rag.index.backends.records import Records, StoredChunk
    from rag.index.backends.writes import Batch


class Entry(NamedTuple):
    """One registered URI scheme: the backend module, and the form a user writes it in."""

    module: str
    form: str


LOCAL = ""  # the scheme of a bare path: a local index directory
BACKENDS: dict[str, Entry] = {
    LOCAL: Entry("rag.index.backends.local.index", "a directory"),
    "milvus": Entry("rag.index.backends.milvus.index", "milvus://HOST:PORT/COLLECTION"),
    "milvus+https": Entry("rag.index.backends.milvus.index", "milvus+https://HOST:PORT/COLLECTION"),
    "milvus+lite": Entry(
        "rag.index.backends.milvus.index", "milvus+lite:///ABSOLUTE/PATH/FILE.db[#COLLECTION]"
    ),
}


@dataclass(frozen=True, slots=True)
class Filters:
    """Restrict a search to some documents or sections. Empty fields do not restrict."""

    year_min: int | None = None
    year_max: int | None = None
    journal: str | None = None  # case-insensitive substring of the journal name
    pmids: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()  # case-insensitive prefixes of section headings


# A passage an index found: its chunk row and score, best first.
Candidate = tuple[int, float]
# A passage an engine that fuses found: the passage, its fused score, its cosine to the query.
Found = tuple["StoredChunk", float, "float | None"]


class SearchIndex(Protocol):
    """An open index of any backend: its manifest, its records, its writes and its stats.

    Search is :class:`CandidateSearch` or :class:`FusedSearch`, whichever the backend offers.
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


class SparseSearch(Protocol):
    """A BM25 index that the retriever searches."""

    def search(self, query: str, n: int, allowed: np.ndarray | None = None) -> list[Candidate]:
        """The ``n`` chunks BM25 scores best for ``query``, best first."""
        ...


@runtime_checkable
class CandidateSearch(Protocol):
    """An index that hands the retriever dense and BM25 candidates to fuse (the local index).

    ``allowed`` (chunk rows, from :meth:`rows_where`) restricts a search; None does not.
    """

    def rows_where(self, filters: Filters) -> np.ndarray | None:
        """The chunk rows ``filters`` allow; None when they restrict nothing."""
        ...

    def dense_candidates(
        self, vector: np.ndarray, n: int, allowed: np.ndarray | None
    ) -> list[Candidate]:
        """The ``n`` chunks nearest to one query ``vector`` (shape ``(d,)``)."""
        ...

    def sparse_search(self) -> SparseSearch:
        """BM25, loaded (or rebuilt) in the calling thread on first use: its searches may then
        run on another thread while this one embeds the question."""
        ...

    def doc_ids(self, rows: list[int]) -> dict[int, str]:
        """The document of each chunk row still stored."""
        ...


@runtime_checkable
class FusedSearch(Protocol):
    """An index whose engine fuses dense and BM25 search itself (Milvus, by RRF)."""

    def fused_search(
        self, query: str, vector: np.ndarray | None, n: int, filters: Filters | None, rrf_k: float
    ) -> list[Found]:
        """Passages by the engine's fusion, or by one search alone when ``vector`` is None or
        ``query`` is empty."""
        ...


class WriteLock(Protocol):
    """Held by the one process that writes an index."""

    def release(self) -> None:
        """Let another writer in."""
        ...


class Backend(Protocol):
    """What a backend module offers the registry."""

    def parse_uri(self, uri: str) -> object:
        """Where ``uri`` points, checked (no connection made); :class:`IndexProblem` if bad."""
        ...

    def open_uri(self, uri: str, settings: Settings, dimension: int | None) -> SearchIndex:
        """Open the index ``uri`` names; with ``dimension``, create it when missing."""
        ...

    def lock_uri(self, uri: str) -> WriteLock:
        """Take the write lock of the index ``uri`` names (a no-op where the engine has none)."""
        ...


def scheme_of(uri: str | Path) -> str:
    """The registered scheme of ``uri`` (:data:`LOCAL` for a path); :class:`IndexProblem` for
    another."""
    text = str(uri)
    scheme, sep, _ = text.partition("://")
    if not sep:
        return LOCAL
    if scheme not in BACKENDS or scheme == LOCAL:
        forms = [entry.form for entry in BACKENDS.values()]
        raise IndexProblem(
            f"--index {text!r}: unknown scheme {scheme!r}; give "
            f"{', '.join(forms[:-1])} or {forms[-1]}"
        )
    return scheme


def backend_for(uri: str | Path) -> Backend:
    """The backend module that serves ``uri``, imported on first use."""
    return cast("Backend", importlib.import_module(BACKENDS[scheme_of(uri)].module))


def parse_index(uri: str | Path) -> object:
    """Where ``uri`` points, as its backend reads it (a directory's path, a Milvus target)."""
    return backend_for(uri).parse_uri(str(uri))


def open_index(uri: str | Path, settings: Settings, dimension: int | None = None) -> SearchIndex:
    """Open the index ``uri`` names; with ``dimension``, create it when missing.

    Every backend refuses an index built with other settings (:class:`IndexProblem`).
    """
    return backend_for(uri).open_uri(str(uri), settings, dimension)


def write_lock(uri: str | Path) -> WriteLock:
    """The write lock of the index ``uri`` names, taken; :class:`IndexProblem` when another
    process holds it."""
    return backend_for(uri).lock_uri(str(uri))
