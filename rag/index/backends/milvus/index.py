"""An index in a Milvus collection: the same records as the local store, searched by Milvus.

Two collections per index (pymilvus 3.0.2; milvus-lite 3.2.2 and a Milvus server alike):

- ``NAME``: one row per passage, its primary key ``row`` (a 63-bit hash of document id, content
  hash and ordinal, so a re-run writes the same rows), the passage and what a hit shows of its
  document, the dense vector, and ``sparse``, filled by Milvus's own BM25 function from
  ``bm25_text``: the words bm25s sees locally (:func:`bm25_words`: English stop words out,
  Snowball stems), since milvus-lite 3.2.2's analyzers neither stem nor drop stop words by
  default. The manifest is a collection property.
- ``NAME_documents``: each document's record as JSON, in parts of at most ``PART_CHARS``
  characters (a VARCHAR holds at most 65,535 bytes; a full-text article's record is larger).
  Milvus needs a vector field in every collection, so this one carries a constant 2-d ``unit``.

Milvus has no transactions. A batch is written in an order that a re-run repairs: passages of
replaced documents go first, then their records, then the new passages, and the new records last;
a document whose record is missing is not matched by the re-run, which deletes its passages by id
and writes them again, so a killed ingest never leaves duplicates.

Reading (records, expressions, the connection) is in :mod:`rag.index.backends.milvus.records`;
the URI forms in :mod:`rag.index.backends.milvus.target`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN
from pymilvus import (
    AnnSearchRequest,
    DataType,
    Function,
    FunctionType,
    MilvusClient,
    MilvusException,
    RRFRanker,
)

from base.errors import IndexProblem
from base.settings import Settings
from corpus.model import Document, content_hash, document_to_dict
from rag.index.backends import Backend, Filters, Found, FusedSearch, SearchIndex
from rag.index.backends.manifest import Manifest, check_manifest
from rag.index.backends.milvus.records import (
    CHUNK_FIELDS,
    INSERT_ROWS,
    MANIFEST_KEY,
    PART_CHARS,
    TEXT,
    MilvusRecords,
    chunk_row,
    connect,
    filter_expression,
    in_list,
    lite_release,
    literal,
    stored_chunk,
    translated,
)
from rag.index.backends.milvus.target import MilvusTarget, parse_target
from rag.index.backends.records import paper_keys
from rag.index.backends.writes import Batch
from rag.index.chunking import Chunk


def _chunk_schema(client: MilvusClient, dimension: int) -> Any:
    s = client.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("row", DataType.INT64, is_primary=True)
    s.add_field("doc_id", DataType.VARCHAR, max_length=TEXT)
    for name in ("ordinal", "section_index", "start", "end"):
        s.add_field(name, DataType.INT64)
    for name in ("page_start", "page_end", "year"):
        s.add_field(name, DataType.INT64, nullable=True)
    for name in ("section", "section_lc", "text", "title"):
        s.add_field(name, DataType.VARCHAR, max_length=TEXT)
    for name in ("pmid", "pmcid", "doi", "journal", "journal_lc"):
        s.add_field(name, DataType.VARCHAR, max_length=TEXT, nullable=True)
    s.add_field("embed_text", DataType.VARCHAR, max_length=TEXT)
    s.add_field("bm25_text", DataType.VARCHAR, max_length=TEXT, enable_analyzer=True)
    s.add_field("dense", DataType.FLOAT_VECTOR, dim=dimension)
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_function(
        Function(
            name="bm25",
            function_type=FunctionType.BM25,
            input_field_names=["bm25_text"],
            output_field_names=["sparse"],
        )
    )
    return s


def _document_schema(client: MilvusClient) -> Any:
    s = client.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("key", DataType.VARCHAR, is_primary=True, max_length=TEXT)
    for name in ("doc_id", "doc_id_lc", "content_hash", "title", "title_lc", "format", "source"):
        s.add_field(name, DataType.VARCHAR, max_length=TEXT)
    for name in ("pmid", "pmcid", "pmcid_uc", "doi", "doi_lc", "journal", "journal_lc"):
        s.add_field(name, DataType.VARCHAR, max_length=TEXT, nullable=True)
    for name in ("part", "parts", "chunks", "added"):
        s.add_field(name, DataType.INT64)
    s.add_field("year", DataType.INT64, nullable=True)
    s.add_field("record", DataType.VARCHAR, max_length=TEXT)
    s.add_field("unit", DataType.FLOAT_VECTOR, dim=2)  # Milvus needs a vector in a collection
    return s


_STEMMER = Stemmer.Stemmer("english")
_WORD = re.compile(r"(?u)\b\w\w+\b")  # bm25s's token pattern (bm25s 0.3)


def bm25_words(text: str) -> str:
    """``text`` as the words bm25s indexes locally (lower case, English stop words dropped,
    Snowball stems), space-separated for Milvus's standard analyzer.

    Measured on 300 BioASQ questions (2026-11-22): Milvus's BM25 on raw text reached recall@10
    0.737, bm25s 0.782.
    """
    words = [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS_EN]
    return " ".join(_STEMMER.stemWords(words))


def _lower(value: str | None) -> str | None:
    return value.lower() if value is not None else None


class MilvusIndex:
    """An open Milvus index: its manifest, records, writes, search and stats."""

    def __init__(
        self, client: MilvusClient, target: MilvusTarget, settings: Settings, manifest: Manifest
    ) -> None:
        self.client = client
        self.target = target
        self.settings = settings
        self.manifest = manifest
        self.documents_name = f"{target.collection}_documents"
        self.uri = target.uri
        self.store = MilvusRecords(client, target.collection, self.documents_name, target.uri)
        # Documents this writer may have stored: all when it opened a collection with any row in
        # it, else only those it wrote. Deletes for any other id are skipped: milvus-lite 3.2.2
        # scans the whole collection for each delete, so copying the shared index (19,486
        # passages) spent 66 of its 111 s deleting ids that were not there, and more with each
        # batch (quadratic: a copy of 100k passages outran 40 minutes; 2026-11-22).
        self._fresh = self._empty()
        self._written: set[str] = set()  # paper keys ("id:…", "pmid:…") this writer wrote

    @classmethod
    def open(
        cls, target: MilvusTarget, settings: Settings, dimension: int | None = None
    ) -> MilvusIndex:
        """Open the collection ``target`` names; with ``dimension``, create it when missing."""
        client = connect(target, settings)
        try:
            return cls._open(client, target, settings, dimension)
        except IndexProblem:
            client.close()
            raise
        except MilvusException as exc:
            client.close()
            raise IndexProblem(f"the Milvus index {target.uri}: {exc.message}") from None

    @classmethod
    def _open(
        cls, client: MilvusClient, target: MilvusTarget, settings: Settings, dimension: int | None
    ) -> MilvusIndex:
        wanted = Manifest.for_settings(settings, dimension or 0)
        if not client.has_collection(target.collection):
            if dimension is None:
                raise IndexProblem(
                    f"no index at {target.uri} (build one with: rag ingest PATH --index "
                    f"{target.uri})"
                )
            cls._create(client, target.collection, wanted)
        found = cls._manifest(client, target)
        for name in (target.collection, f"{target.collection}_documents"):
            client.load_collection(name)  # a reopened collection starts released
        check_manifest(found, Manifest.for_settings(settings, dimension or found.dimension),
                       Path(target.uri))  # fmt: skip
        return cls(client, target, settings, found)

    @staticmethod
    def _create(client: MilvusClient, name: str, manifest: Manifest) -> None:
        documents = client.prepare_index_params()
        documents.add_index("unit", index_type="FLAT", metric_type="IP")
        client.create_collection(
            f"{name}_documents", schema=_document_schema(client), index_params=documents,
            consistency_level="Strong",
        )  # fmt: skip
        params = client.prepare_index_params()
        params.add_index("dense", index_type="FLAT", metric_type="IP")
        params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        text = json.dumps({**asdict(manifest), "fingerprint": manifest.fingerprint})
        # The chunk collection last, with the manifest: its presence means "created".
        client.create_collection(
            name, schema=_chunk_schema(client, manifest.dimension), index_params=params,
            consistency_level="Strong", properties={MANIFEST_KEY: text},
        )  # fmt: skip

    @staticmethod
    def _manifest(client: MilvusClient, target: MilvusTarget) -> Manifest:
        props = client.describe_collection(target.collection).get("properties") or {}
        try:
            data = json.loads(props[MANIFEST_KEY])
            data.pop("fingerprint", None)
            return Manifest(**data)
        except (KeyError, ValueError, TypeError) as exc:
            raise IndexProblem(
                f"the Milvus collection {target.collection!r} at {target.uri} is not a litrag "
                "index (no litrag.manifest property)"
            ) from exc

    def close(self) -> None:
        """Close the connection; the last index of a milvus-lite file in this process stops its
        server, releasing the file's lock for another process (milvus-lite 3.2.2 keeps it until
        the process exits otherwise)."""
        self.client.close()
        if self.target.lite and lite_release(self.target.address):
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(self.target.address)

    def _empty(self) -> bool:
        """True when neither collection holds a row (not even a killed run's passages)."""
        docs = self.store._count(self.documents_name)
        return not docs and not self.store._count(self.store.chunks_name)

    @translated
    def matches(self, doc: Document) -> list[tuple[Document, str]]:
        """Stored documents that are the same paper as ``doc``, with their content hashes.

        A writer that opened an empty collection knows every key it holds: it asks Milvus only
        about a document sharing one (each query scans the collection, so asking for every
        document made an ingest quadratic in its size).
        """
        if self._fresh and self._written.isdisjoint(paper_keys(doc)):
            return []
        return self.store.matches(doc)

    @translated
    def write(self, batch: Batch) -> None:
        """Apply ``batch`` in the order a re-run repairs (module docstring)."""
        c = self.client
        for doc in batch.relabel:
            stored = self.store._records(f"doc_id == {literal(doc.id)}").get(doc.id)
            n = self.store._count(self.store.chunks_name, f"doc_id == {literal(doc.id)}")
            c.delete(self.documents_name, filter=f"doc_id == {literal(doc.id)}")
            self._insert(self.documents_name, self._record_rows(doc, stored[1] if stored else
                                                                content_hash(doc), n))  # fmt: skip
        gone = list(dict.fromkeys([*batch.replace, *(d.id for d in batch.documents)]))
        if self._fresh:
            gone = [doc_id for doc_id in gone if f"id:{doc_id}" in self._written]
            for d in [*batch.documents, *batch.relabel]:
                self._written.update(paper_keys(d))
        if gone:
            c.delete(self.store.chunks_name, filter=in_list("doc_id", gone))
            c.delete(self.documents_name, filter=in_list("doc_id", gone))
        rows: list[dict[str, Any]] = []
        records: list[dict[str, Any]] = []
        offset = 0
        for doc, chunks in zip(batch.documents, batch.chunks, strict=True):
            digest = content_hash(doc)
            vectors = batch.vectors[offset : offset + len(chunks)]
            offset += len(chunks)
            pairs = zip(chunks, vectors, strict=True)
            rows += [self._chunk_row(doc, digest, ch, v) for ch, v in pairs]
            records += self._record_rows(doc, digest, len(chunks))
        self._insert(self.store.chunks_name, rows)
        self._insert(self.documents_name, records)

    def _insert(self, name: str, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), INSERT_ROWS):
            self.client.insert(name, rows[start : start + INSERT_ROWS])

    @staticmethod
    def _chunk_row(doc: Document, digest: str, ch: Chunk, vector: np.ndarray) -> dict[str, Any]:
        return {
            "row": chunk_row(doc.id, digest, ch.ordinal), "doc_id": doc.id,
            "ordinal": ch.ordinal, "section_index": ch.section_index, "start": ch.start,
            "end": ch.end, "page_start": ch.page_start, "page_end": ch.page_end,
            "year": doc.year, "section": ch.section, "section_lc": ch.section.lower(),
            "text": ch.text, "title": doc.title, "pmid": doc.pmid, "pmcid": doc.pmcid,
            "doi": doc.doi, "journal": doc.journal, "journal_lc": _lower(doc.journal),
            "embed_text": ch.embed_text, "bm25_text": bm25_words(ch.embed_text),
            "dense": np.asarray(vector, np.float32).tolist(),
        }  # fmt: skip

    @staticmethod
    def _record_rows(doc: Document, digest: str, chunks: int) -> list[dict[str, Any]]:
        text = json.dumps(document_to_dict(doc), ensure_ascii=False)
        pieces = [text[i : i + PART_CHARS] for i in range(0, len(text), PART_CHARS)] or [""]
        added = time.time_ns()
        return [
            {
                "key": f"{doc.id}#{part}", "doc_id": doc.id, "doc_id_lc": doc.id.lower(),
                "content_hash": digest, "title": doc.title, "title_lc": doc.title.lower(),
                "format": doc.format, "source": doc.source_path, "pmid": doc.pmid,
                "pmcid": doc.pmcid, "pmcid_uc": doc.pmcid.upper() if doc.pmcid else None,
                "doi": doc.doi, "doi_lc": _lower(doc.doi), "journal": doc.journal,
                "journal_lc": _lower(doc.journal), "part": part, "parts": len(pieces),
                "chunks": chunks, "added": added, "year": doc.year, "record": piece,
                "unit": [1.0, 0.0],
            }
            for part, piece in enumerate(pieces)
        ]  # fmt: skip

    @translated
    def finish(self) -> None:
        """After the last write: flush, so a Milvus server seals what was written.

        milvus-lite 3.2.2 writes each insert to its WAL before answering and has no flush (its
        gRPC server answers AllocTimestamp with "not implemented"), so it is skipped there.
        """
        if not self.target.lite:
            self.client.flush(self.store.chunks_name)
            self.client.flush(self.documents_name)

    @translated
    def remove(self, keys: Sequence[str]) -> tuple[list[str], list[str]]:
        """Delete documents by id (or bare PMID, PMCID, DOI); (removed ids, keys not found)."""
        found: dict[str, str] = {}
        for key in keys:
            for doc_id in self.store.resolve(key):
                found[doc_id] = key
        if found:
            self.client.delete(self.store.chunks_name, filter=in_list("doc_id", list(found)))
            self.client.delete(self.documents_name, filter=in_list("doc_id", list(found)))
            self.finish()
        return list(found), [k for k in keys if k not in found.values()]

    @translated
    def fused_search(
        self, query: str, vector: np.ndarray | None, n: int, filters: Filters | None, rrf_k: float
    ) -> list[Found]:
        """Passages by Milvus's fusion of dense and BM25 (RRF), or by one of them alone when
        ``vector`` or ``query`` is missing: (passage, score, cosine to the query vector)."""
        expr = filter_expression(filters)
        fields = [*CHUNK_FIELDS, "dense"]
        dense = {"metric_type": "IP"}
        sparse = {"metric_type": "BM25"}
        name = self.store.chunks_name
        words = bm25_words(query)
        if vector is None and not words:
            return []  # a sparse search for stop words only finds nothing, as bm25s does
        if vector is not None and words:
            requests = [
                AnnSearchRequest([vector.tolist()], "dense", dense, limit=n, expr=expr or None),
                AnnSearchRequest([words], "sparse", sparse, limit=n, expr=expr or None),
            ]
            found = self.client.hybrid_search(
                name, requests, RRFRanker(int(rrf_k)), limit=n, output_fields=fields
            )
        elif vector is not None:
            found = self.client.search(name, [vector.tolist()], filter=expr, limit=n,
                                       anns_field="dense", search_params=dense,
                                       output_fields=fields)  # fmt: skip
        else:
            found = self.client.search(name, [words], filter=expr, limit=n,
                                       anns_field="sparse",
                                       search_params=sparse, output_fields=fields)  # fmt: skip
        out = []
        for hit in found[0]:
            entity = hit["entity"]
            cosine = None
            if vector is not None:
                cosine = float(np.asarray(entity["dense"], np.float32) @ vector)
            row = entity["row"] if "row" in entity else hit["row"]  # pymilvus 3: the pk's name
            out.append((stored_chunk({**entity, "row": row}), float(hit["distance"]), cosine))
        return out

    @translated
    def stats(self) -> dict[str, object]:
        """``documents`` and ``chunks``, the manifest, and where the collection is."""
        docs, chunks = self.store.counts()
        out: dict[str, object] = {
            "documents": docs, "chunks": chunks, "backend": "milvus", "uri": self.target.uri,
            "collection": self.target.collection, "vectors": chunks,
            "documents_without_passages": self.store.documents_without_chunks(),
            "fingerprint": self.manifest.fingerprint, **asdict(self.manifest),
        }  # fmt: skip
        if self.target.lite:
            folder = Path(self.target.address)
            out["bytes"] = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        return out


class _NoLock:
    """Milvus has no write lock of ours: a milvus-lite file admits one process (its own lock),
    and a server takes concurrent writers."""

    def release(self) -> None:
        """Nothing to let go."""


# The backend's functions, as rag.index.backends' registry calls them.


def parse_uri(uri: str) -> MilvusTarget:
    """The Milvus target ``uri`` names."""
    return parse_target(uri)


def open_uri(uri: str, settings: Settings, dimension: int | None) -> MilvusIndex:
    """Open the collection ``uri`` names; with ``dimension``, create it when missing."""
    return MilvusIndex.open(parse_target(uri), settings, dimension)


def lock_uri(uri: str) -> _NoLock:
    """No lock to take (see :class:`_NoLock`)."""
    return _NoLock()


if TYPE_CHECKING:  # mypy holds this backend to the seam's protocols
    import rag.index.backends.milvus.index as _this

    _BACKEND: Backend = _this

    def _follows(index: MilvusIndex) -> tuple[SearchIndex, FusedSearch]:
        return index, index
