"""An index is a directory::

    DIR/manifest.json   format version, embedding model, dimension, chunking: the fingerprint;
                        and the embedding runtime and precision the vectors were made with
    DIR/store.sqlite    documents, chunks (row = FAISS id), vectors (float16)   -- the truth
    DIR/dense.faiss     FAISS index of the chunk vectors (flat, HNSW or IVF-PQ)
    DIR/dense.json      the store generation dense.faiss was built from
    DIR/bm25/           bm25s index of the chunk texts + rows.npy + state.json (its generation)
    DIR/.lock           held by the one process that writes

No pickle anywhere: FAISS's own file format, SQLite, NumPy ``.npy`` without pickle, JSON.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import faiss
import numpy as np

from base.errors import IndexProblem
from base.settings import Settings
from corpus.model import Document
from rag.index.backends import Backend, Candidate, CandidateSearch, Filters, SearchIndex
from rag.index.backends.local.dense import (
    MIN_PQ_TRAIN,
    make_index,
    reserve,
    search_one,
    set_search_depth,
)
from rag.index.backends.local.flatscan import FlatScan, default_threads
from rag.index.backends.local.folder import WriteLock, held
from rag.index.backends.local.folder import write_atomic as _write_atomic
from rag.index.backends.local.sparse import Sparse
from rag.index.backends.local.store import Store
from rag.index.backends.manifest import Manifest, check_manifest, expected_precision
from rag.index.backends.writes import Batch
from rag.index.embed.embedder import AGREEMENT_COSINE, load_embedder
from rag.index.embed.llamacpp import effective_runtime

# Vectors from another runtime or precision (OpenVINO bf16 against torch fp32, say) may be mixed
# with or searched against an index's only when they agree with its stored ones to
# AGREEMENT_COSINE on the first AGREEMENT_SAMPLE chunks (runtimes and precisions that compute
# the same model agree far above it; OpenVINO int8 against bf16 is checked when the int8 copy is
# made; docs/benchmarks.md).
AGREEMENT_SAMPLE = 8
log = logging.getLogger(__name__)


def read_manifest(folder: Path) -> Manifest:
    """The manifest of the index in ``folder``; :class:`IndexProblem` if there is none."""
    path = folder / "manifest.json"
    if not path.is_file():
        raise IndexProblem(
            f"no index at {folder} (build one with: rag ingest PATH --index {folder})"
        )
    try:
        data = json.loads(path.read_text())
        data.pop("fingerprint", None)
        return Manifest(**data)
    except (ValueError, TypeError) as exc:
        raise IndexProblem(f"{path} is not a litrag manifest: {exc}") from exc


def check_agreement(found: Manifest, settings: Settings, store: Store, folder: Path) -> None:
    """Refuse to embed for an index whose vectors another runtime or precision made, unless the
    embedder's vectors agree with the stored ones (cosine >= AGREEMENT_COSINE) on a fixed sample.
    """
    recorded = (found.embedding_runtime, found.embedding_precision)
    if recorded == (effective_runtime(settings.embedding), expected_precision(settings)):
        return
    embedder = load_embedder(settings.embedding)
    if recorded in {
        (embedder.runtime, embedder.precision),
        (embedder.runtime, embedder.index_precision),
    }:
        # The settings asked for OpenVINO but it fell back to the torch that built it, or the
        # index was written in dtype (no int8 copy yet, or ingest_precision = "same").
        return
    texts, stored = store.sample(AGREEMENT_SAMPLE, found.dimension)
    if not texts:
        return
    mine = embedder.embed_documents(texts)
    norms = np.linalg.norm(stored, axis=1) * np.linalg.norm(mine, axis=1)
    cosine = float(np.min((stored * mine).sum(axis=1) / np.maximum(norms, 1e-12)))
    if cosine < AGREEMENT_COSINE:
        raise IndexProblem(
            f"the index at {folder} was embedded by {found.embedding_runtime} "
            f"{found.embedding_precision or '(precision not recorded)'} and embedding.runtime "
            f"{embedder.runtime} {embedder.precision} disagrees with it (cosine {cosine:.3f} < "
            f"{AGREEMENT_COSINE} on its first {len(texts)} chunks); set embedding.runtime = "
            f'"{found.embedding_runtime}" or ingest into a new --index directory'
        )


class Index:
    """An open index directory: the store, the dense index and BM25, consistent with each other."""

    def __init__(
        self, folder: Path, settings: Settings, manifest: Manifest, read_only: bool = False
    ) -> None:
        self.folder = folder
        self.settings = settings
        self.manifest = manifest
        self.store = Store(folder / "store.sqlite", read_only)
        # Both loaded on first use: a writer of a flat index never holds dense (it is rebuilt
        # from the store by finish()), and save() builds BM25 from the store.
        self._dense: faiss.Index | None = None
        self._sparse: Sparse | None = None
        self._view: int | None = None  # the store generation dense and BM25 were loaded at
        self._reloading = False  # a background reload (follow_store) is under way
        self._changed = False  # a write changed passages: finish() saves dense and BM25
        self._scan: FlatScan | None = None  # float16 copy of a big flat index (search_dense)
        self._scan_lock = threading.Lock()
        self._rebuild = self.untrained  # dense is rebuilt from the store by finish(); reads dense

    @classmethod
    def open(
        cls,
        folder: Path,
        settings: Settings,
        dimension: int | None = None,
        read_only: bool = False,
    ) -> Index:
        """Open the index in ``folder``; with ``dimension``, create it when missing.

        ``read_only`` opens the store read-only (searches; no lock needed, and the volume may be
        read-only); :meth:`write` then fails.
        """
        if dimension is not None and not (folder / "manifest.json").exists():
            embedder = load_embedder(settings.embedding)  # loaded already by the writer
            wanted = Manifest.for_settings(
                settings, dimension, embedder.runtime, embedder.index_precision
            )
            folder.mkdir(parents=True, exist_ok=True)
            text = json.dumps({**asdict(wanted), "fingerprint": wanted.fingerprint}, indent=2)
            _write_atomic(folder / "manifest.json", text.encode())
        found = read_manifest(folder)
        check_manifest(found, Manifest.for_settings(settings, dimension or found.dimension), folder)
        index = cls(folder, settings, found, read_only)
        try:
            check_agreement(found, settings, index.store, folder)
        except IndexProblem:
            index.close()
            raise
        return index

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    @property
    def dense(self) -> faiss.Index:
        """The dense index, loaded (or rebuilt from the store, if stale) on first use."""
        if self._dense is None:
            self._mark_view()
            self._dense = self._load_dense()
        return self._dense

    @dense.setter
    def dense(self, index: faiss.Index) -> None:
        self._dense = index

    def _load_dense(self) -> faiss.Index:
        stamp = _read_json(self.folder / "dense.json")
        wanted = {"generation": self.store.generation, "kind": self.settings.index.kind}
        if stamp == wanted and (self.folder / "dense.faiss").is_file():
            index = faiss.read_index(str(self.folder / "dense.faiss"))
            set_search_depth(index)
            return index
        return self.build_dense()

    def search_dense(
        self, vector: np.ndarray, n: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scores and chunk rows (each ``(1, n)``) of the ``n`` nearest chunks to one query
        ``vector`` (``(1, d)``); ``allowed`` (chunk rows) restricts them.

        A flat index of ``index.float16_scan_from`` vectors or more is searched through
        :class:`FlatScan` (same hits, ~3x faster); filtered searches go to faiss with an
        ``IDSelector``.
        """
        if allowed is not None:
            params = faiss.SearchParameters()
            params.sel = faiss.IDSelectorBatch(allowed)
            return search_one(self.dense, vector, n, params)
        scan = self._flat_scan()
        if scan is None:
            return search_one(self.dense, vector, n)
        return scan.search(vector, n)

    def _flat_scan(self) -> FlatScan | None:
        """The float16 scan of the flat dense index when it is big enough, built on first use
        and again after the index changes."""
        dense, config = self.dense, self.settings.index
        if not config.float16_scan_from or dense.ntotal < config.float16_scan_from:
            return None
        with self._scan_lock:
            if self._scan is None or not self._scan.fresh_for(dense):
                self._scan = FlatScan.of(dense, config.search_threads or default_threads())
            return self._scan

    def rows_where(self, filters: Filters) -> np.ndarray | None:
        """The chunk rows ``filters`` allow; None when they restrict nothing."""
        where = filter_sql(filters)
        return self.store.rows_where(*where) if where else None

    def dense_candidates(
        self, vector: np.ndarray, n: int, allowed: np.ndarray | None
    ) -> list[Candidate]:
        """The ``n`` chunks nearest to one query ``vector`` (shape ``(d,)``), best first."""
        self.follow_store()
        total = self.dense.ntotal
        if not total:
            return []
        scores, ids = self.search_dense(vector[None], min(n, total), allowed)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def sparse_search(self) -> Sparse:
        """BM25 (:attr:`sparse`), loaded in the calling thread on first use."""
        self.follow_store()
        return self.sparse

    def doc_ids(self, rows: list[int]) -> dict[int, str]:
        """The document of each chunk row still stored."""
        return self.store.doc_ids(rows)

    def build_dense(self) -> faiss.Index:
        """The dense index made afresh from the vectors in the store.

        Flat and HNSW take the vectors block by block, so no second copy of them all is held;
        IVF-PQ trains on all of them at once.
        """
        dim = self.manifest.dimension
        kind = self.settings.index.kind
        if kind == "ivfpq":
            if self.store.counts()[1] < MIN_PQ_TRAIN:
                kind = "flat"  # exact search until there are enough vectors to train IVF-PQ
            else:
                blocks = list(self.store.vectors(dim))
                index = make_index(kind, dim, train=np.vstack([v for _, v in blocks]))
                for rows, vectors in blocks:
                    index.add_with_ids(vectors, rows)
                return index
        index = make_index(kind, dim)
        reserve(index, self.store.counts()[1])
        for rows, vectors in self.store.vectors(dim):
            index.add_with_ids(vectors, rows)
        return index

    @property
    def untrained(self) -> bool:
        """True while an IVF-PQ index is standing in as exact search (too few vectors yet)."""
        kind = self.settings.index.kind
        return kind == "ivfpq" and not isinstance(self.dense, faiss.IndexIVFPQ)

    @property
    def sparse(self) -> Sparse:
        """The BM25 index, loaded (or rebuilt from the store, if stale) on first use."""
        if self._sparse is None:
            self._mark_view()
            saved = Sparse.load(self.folder / "bm25", self.store.generation)
            self._sparse = saved or self._build_sparse()
        return self._sparse

    def _mark_view(self) -> None:
        if self._view is None:
            self._view = self.store.generation

    def follow_store(self) -> None:
        """Keep a reader's search structures up with the store: when another process has
        committed since they were loaded, load them afresh in a background thread (searches go
        on with the old ones meanwhile) and swap them in. Additions and removals alike."""
        if not self.store.read_only or self._view is None or self._reloading:
            return
        now = self.store.generation
        if now == self._view:
            return
        self._reloading = True
        log.info("the index at %s changed (generation %d -> %d): reloading its search files in "
                 "the background; searches use the old ones until then", self.folder, self._view,
                 now)  # fmt: skip
        threading.Thread(target=self._reload, name="index-reload", daemon=True).start()

    def _reload(self) -> None:
        """Load dense and BM25 as the store is now, through a connection of this thread's own."""
        try:
            fresh = Index(self.folder, self.settings, self.manifest, read_only=True)
            try:
                generation = fresh.store.generation
                dense, sparse = fresh.dense, fresh.sparse
            finally:
                fresh.close()
            with self._scan_lock:
                self._dense, self._sparse, self._scan = dense, sparse, None
                self._view = generation
            log.info("the index at %s: now searching generation %d (%d passages)", self.folder,
                     generation, dense.ntotal)  # fmt: skip
        except Exception:  # the old structures keep serving; the next search tries again
            log.exception("the index at %s could not be reloaded", self.folder)
        finally:
            self._reloading = False

    def _build_sparse(self) -> Sparse:
        return Sparse.build_blocks(self.store.embed_text_blocks())

    def matches(self, doc: Document) -> list[tuple[Document, str]]:
        """Stored documents that are the same paper as ``doc`` (same id, PMID, PMCID or DOI),
        each with its content hash."""
        return self.store.matches(doc)

    def write(self, batch: Batch) -> None:
        """Apply ``batch`` in one store transaction, then bring the dense index up to date.

        The ids of ``batch.documents`` are deleted too: an id already stored but not matched can
        never fail the insert. Dense-index changes HNSW cannot make are left to :meth:`finish`.
        """
        if not batch.documents and not batch.replace:
            if batch.relabel:  # the record only: passages and derived files stay as they are
                with self.store.transaction():
                    for doc in batch.relabel:
                        self.store.update_record(doc)
            return
        if self.settings.index.kind != "flat" and not self._rebuild:
            self.dense  # noqa: B018 -- loaded from its file before the store moves past its stamp
        rows: list[int] = []
        with self.store.transaction():
            for doc in batch.relabel:
                self.store.update_record(doc)
            ids = [*batch.replace, *(doc.id for doc in batch.documents)]
            gone = self.store.delete_documents(list(dict.fromkeys(ids)))
            offset = 0
            for doc, chunks in zip(batch.documents, batch.chunks, strict=True):
                rows += self.store.add(doc, chunks, batch.vectors[offset : offset + len(chunks)])
                offset += len(chunks)
            self.store.bump_generation()
        self._changed = True
        self._rebuild |= self.update_dense(gone, np.array(rows, np.int64), batch.vectors)

    def finish(self) -> None:
        """After the last write: rebuild the dense index if it must be, save dense and BM25.

        Also when nothing changed but the saved files are behind the store (a save that failed,
        on a full disk say): every later open would otherwise rebuild them in memory.
        """
        if self._changed or self._rebuild or self.saved_behind():
            self.save(rebuild=self._rebuild)
        self._changed = self._rebuild = False

    def update_dense(self, gone: list[int], rows: np.ndarray, vectors: np.ndarray) -> bool:
        """Remove the ``gone`` rows from the dense index and add ``rows``; True when it must be
        rebuilt from the store instead (HNSW cannot remove; IVF-PQ not trained yet; flat always).

        A flat index is rebuilt from the store's vectors at the end rather than held in memory
        while batches stream in: it is 1,544 bytes a passage, ~650 MB at the 419k passages of
        a 1 GB PubMed file, and copying the store's vectors into it block by block takes
        seconds (benchmarks/ingest_memory.py).
        """
        self._scan = None
        if self._rebuild or self.settings.index.kind == "flat":
            return True
        if gone:
            if self.settings.index.kind == "hnsw":
                return True  # HNSW cannot remove vectors: rebuilt from the store at the end
            # faiss's Python layer accepts an id array here; its stubs only list IDSelector.
            self.dense.remove_ids(np.array(gone, dtype=np.int64))  # type: ignore[arg-type]
        if len(rows):
            self.dense.add_with_ids(vectors, rows)
        return False

    def saved_behind(self) -> bool:
        """True when dense.faiss or BM25 on disk was not built from the store's generation."""
        generation = self.store.generation
        stamp = _read_json(self.folder / "dense.json")
        dense_ok = stamp == {"generation": generation, "kind": self.settings.index.kind}
        state = _read_json(self.folder / "bm25" / "state.json")
        sparse_ok = isinstance(state, dict) and state.get("generation") == generation
        return not (dense_ok and (self.folder / "dense.faiss").is_file() and sparse_ok)

    def save(self, rebuild: bool = False) -> None:
        """Write the dense index (built afresh from the store with ``rebuild``) and BM25, each
        stamped with the store's generation.

        One at a time, each let go once written (and loaded again on first search): the two
        are never in memory together, nor the flat index with BM25's build.
        """
        generation = self.store.generation
        (self.folder / "dense.json").unlink(missing_ok=True)
        _write_atomic(self.folder / "dense.faiss", self.build_dense() if rebuild else self.dense)
        self._dense = None
        stamp = {"generation": generation, "kind": self.settings.index.kind}
        _write_atomic(self.folder / "dense.json", json.dumps(stamp).encode())
        self._sparse = None
        self._build_sparse().save(self.folder / "bm25", generation)

    def stats(self) -> dict[str, object]:
        """``rag stats``: sizes, build settings and the fingerprint."""
        docs, chunks = self.store.counts()
        return {
            "documents": docs, "chunks": chunks, "index_kind": self.settings.index.kind,
            "vectors": int(self.dense.ntotal), "generation": self.store.generation,
            "documents_without_passages": self.store.documents_without_chunks(),
            "fingerprint": self.manifest.fingerprint, **asdict(self.manifest),
            "bytes": sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file()),
            "backend": "local",
        }  # fmt: skip


def filter_sql(filters: Filters) -> tuple[str, list[object]] | None:
    """A WHERE clause over chunks ``c`` and documents ``d``, or None when nothing is set."""
    clauses: list[str] = []
    params: list[object] = []
    if filters.year_min is not None:
        clauses.append("d.year >= ?")
        params.append(filters.year_min)
    if filters.year_max is not None:
        clauses.append("d.year <= ?")
        params.append(filters.year_max)
    if filters.journal:
        clauses.append("d.journal LIKE ?")
        params.append(f"%{filters.journal}%")
    if filters.pmids:
        clauses.append(f"d.pmid IN ({','.join('?' * len(filters.pmids))})")
        params += list(filters.pmids)
    if filters.sections:
        clauses.append("(" + " OR ".join("c.section LIKE ?" for _ in filters.sections) + ")")
        params += [f"{s}%" for s in filters.sections]
    return (" AND ".join(clauses), params) if clauses else None


# The backend's functions, as rag.index.backends' registry calls them.


def parse_uri(uri: str) -> Path:
    """The index directory ``uri`` names."""
    return Path(uri).expanduser()


def open_uri(uri: str, settings: Settings, dimension: int | None) -> Index:
    """Open the index directory ``uri`` names; with ``dimension``, create it when missing.

    Read-only unless this process holds its write lock or creates it: searches need neither a
    lock nor write access (a read-only volume, a shared copy).
    """
    folder = parse_uri(uri)
    return Index.open(folder, settings, dimension, dimension is None and not held(folder))


def lock_uri(uri: str) -> WriteLock:
    """Lock the index directory ``uri`` names for this process's writes."""
    return WriteLock(parse_uri(uri))


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


if TYPE_CHECKING:  # mypy holds this backend to the seam's protocols
    import rag.index.backends.local.index as _this

    _BACKEND: Backend = _this

    def _follows(index: Index) -> tuple[SearchIndex, CandidateSearch]:
        return index, index
