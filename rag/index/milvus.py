"""An index in a Milvus collection: the same records as the local store, searched by Milvus.

Two collections per index (pymilvus 3.0.2; milvus-lite 3.2.2 and a Milvus server alike):

- ``NAME``: one row per passage, its primary key ``row`` (a 63-bit hash of document id, content
  hash and ordinal, so a re-run writes the same rows), the passage and what a hit shows of its
  document, the dense vector, and ``sparse``, filled by Milvus's own BM25 function from
  ``embed_text`` (what the local index gives bm25s). The manifest is a collection property.
- ``NAME_documents``: each document's record as JSON, in parts of at most ``PART_CHARS``
  characters (a VARCHAR holds at most 65,535 bytes; a full-text article's record is larger).
  Milvus needs a vector field in every collection, so this one carries a constant 2-d ``unit``.

Milvus has no transactions. A batch is written in an order that a re-run repairs: passages of
replaced documents go first, then their records, then the new passages, and the new records last;
a document whose record is missing is not matched by the re-run, which deletes its passages by id
and writes them again, so a killed ingest never leaves duplicates.

Filters become Milvus expressions whose string literals are escaped by :func:`literal` (milvus-lite
3.2.2 has no expression templates: ``filter_params`` fails to parse there).
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
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
from corpus.model import Document, content_hash, document_from_dict, document_to_dict
from rag.index.backend import Filters, MilvusTarget
from rag.index.chunking import Chunk
from rag.index.local import Manifest, check_manifest
from rag.index.store import StoredChunk, StoredDocument
from rag.index.writes import Batch

F = TypeVar("F", bound=Callable[..., Any])
MANIFEST_KEY = "litrag.manifest"
PART_CHARS = 16_000  # <= 64,000 UTF-8 bytes: fits a 65,535-byte VARCHAR
TEXT = 65_535
INSERT_ROWS = 1_000  # rows per insert call (well under gRPC's 64 MB message)
QUERY_LIMIT = 16_384  # Milvus's most rows per query (offset + limit)
_CHUNK_FIELDS = [
    "row",
    "doc_id",
    "section",
    "text",
    "start",
    "end",
    "page_start",
    "page_end",
    "title",
    "pmid",
    "pmcid",
    "doi",
    "journal",
    "year",
]  # fmt: skip  -- StoredChunk's fields, in its order


def literal(value: str) -> str:
    """``value`` as a Milvus string literal: quoted, backslash and quote escaped.

    Newlines and tabs are written as escapes (the milvus-lite lexer ends a literal at a newline).
    """
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{escaped}"'


def like_literal(value: str, prefix: str = "%", suffix: str = "%") -> str:
    """A LIKE pattern matching ``value`` literally (its ``%`` and ``_`` escaped) as a literal."""
    plain = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return literal(f"{prefix}{plain}{suffix}")


def in_list(field: str, values: Sequence[str]) -> str:
    """``field in ["a", "b"]`` with escaped literals."""
    return f"{field} in [{', '.join(literal(v) for v in values)}]"


def filter_expression(filters: Filters | None) -> str:
    """The Milvus expression for ``filters`` ("" when nothing is set)."""
    if filters is None:
        return ""
    clauses: list[str] = []
    if filters.year_min is not None:
        clauses.append(f"year >= {int(filters.year_min)}")
    if filters.year_max is not None:
        clauses.append(f"year <= {int(filters.year_max)}")
    if filters.journal:
        clauses.append(f"journal_lc like {like_literal(filters.journal.lower())}")
    if filters.pmids:
        clauses.append(in_list("pmid", list(filters.pmids)))
    if filters.sections:
        ors = [f"section_lc like {like_literal(s.lower(), '')}" for s in filters.sections]
        clauses.append("(" + " or ".join(ors) + ")")
    return " and ".join(clauses)


def chunk_row(doc_id: str, digest: str, ordinal: int) -> int:
    """A passage's primary key: the same for the same passage of the same document version."""
    key = hashlib.sha256(f"{doc_id}\0{digest}\0{ordinal}".encode()).digest()
    return int.from_bytes(key[:8], "big") >> 1


def connect(target: MilvusTarget, settings: Settings) -> MilvusClient:
    """A client for ``target``; the token is passed to pymilvus and to nothing else."""
    token = settings.index.milvus_token.get_secret_value()
    try:
        if target.lite:
            Path(target.address).parent.mkdir(parents=True, exist_ok=True)
            return MilvusClient(target.address, timeout=settings.index.milvus_timeout_s)
        return MilvusClient(
            uri=target.address, token=token, timeout=settings.index.milvus_timeout_s
        )
    except (MilvusException, OSError) as exc:
        # pymilvus's messages name the address, never the token; ours the URI as given.
        message = str(exc).replace(token, "***") if token else str(exc)
        if target.lite:
            message += (
                " (milvus-lite lets one process at a time open a .db folder: is a rag serve or "
                "ingest using it? Stop it, or put the index on a Milvus server)"
            )
        raise IndexProblem(f"cannot open the Milvus index {target.uri}: {message}") from None


def translated(method: F) -> F:
    """Turn pymilvus's exceptions into :class:`IndexProblem` naming the index (not the token)."""

    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except MilvusException as exc:
            raise IndexProblem(f"the Milvus index {self.uri}: {exc.message}") from None

    return cast(F, call)


class MilvusRecords:
    """Documents and passages in the two collections, read as ``Store`` reads them."""

    def __init__(self, client: MilvusClient, chunks: str, documents: str, uri: str) -> None:
        self.client = client
        self.uri = uri
        self.chunks_name = chunks
        self.documents_name = documents

    def _query(
        self, name: str, expr: str, fields: list[str], limit: int = QUERY_LIMIT
    ) -> list[dict[str, Any]]:
        return list(self.client.query(name, filter=expr, output_fields=fields, limit=limit))

    def _records(self, expr: str) -> dict[str, tuple[Document, str]]:
        """Whole records (parts joined) of the documents ``expr`` selects; incomplete ones left
        out (a write killed between deleting and inserting a record's parts)."""
        rows = self._query(
            self.documents_name, expr, ["doc_id", "part", "parts", "content_hash", "record"]
        )
        parts: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            parts.setdefault(r["doc_id"], []).append(r)
        found = {}
        for doc_id, group in parts.items():
            group.sort(key=lambda r: r["part"])
            if [r["part"] for r in group] != list(range(group[0]["parts"])):
                continue
            record = json.loads("".join(r["record"] for r in group))
            found[doc_id] = (document_from_dict(record), group[0]["content_hash"])
        return found

    @translated
    def matches(self, doc: Document) -> list[tuple[Document, str]]:
        """Stored documents that are the same paper as ``doc``, with their content hashes."""
        ors = [f"doc_id == {literal(doc.id)}"]
        for field, value in (("pmid", doc.pmid), ("pmcid", doc.pmcid), ("doi", doc.doi)):
            if value:
                ors.append(f"{field} == {literal(value)}")
        return list(self._records(" or ".join(ors)).values())

    @translated
    def resolve(self, key: str) -> list[str]:
        """Ids of documents that ``key`` names: an id, or a bare PMID, PMCID or DOI."""
        key = key.strip()
        head, _, rest = key.partition(":")
        bare = rest if head in ("pmid", "pmcid", "doi") else key
        expr = (
            f"part == 0 and (doc_id == {literal(key)} or pmid == {literal(bare)} or "
            f"pmcid_uc == {literal(bare.upper())} or doi_lc == {literal(bare.lower())})"
        )
        return [r["doc_id"] for r in self._query(self.documents_name, expr, ["doc_id"])]

    @translated
    def document(self, doc_id: str) -> Document | None:
        """The stored document with this id."""
        found = self._records(f"doc_id == {literal(doc_id)}").get(doc_id)
        return found[0] if found else None

    @translated
    def chunks(self, rows: Sequence[int]) -> dict[int, StoredChunk]:
        """The stored passages with these rows (missing rows are left out)."""
        if not rows:
            return {}
        expr = f"row in [{', '.join(str(int(r)) for r in rows)}]"
        return {r["row"]: _stored(r) for r in self._query(self.chunks_name, expr, _CHUNK_FIELDS)}

    @translated
    def document_chunks(self, doc_id: str) -> list[StoredChunk]:
        """A document's passages in order."""
        found = self._query(
            self.chunks_name, f"doc_id == {literal(doc_id)}", [*_CHUNK_FIELDS, "ordinal"]
        )
        return [_stored(r) for r in sorted(found, key=lambda r: r["ordinal"])]

    @translated
    def vectors_for(self, rows: Sequence[int], dim: int) -> dict[int, np.ndarray]:
        """The stored vectors of these passages."""
        if not rows:
            return {}
        expr = f"row in [{', '.join(str(int(r)) for r in rows)}]"
        found = self._query(self.chunks_name, expr, ["row", "dense"])
        return {r["row"]: np.asarray(r["dense"], dtype=np.float32) for r in found}

    def _count(self, name: str, expr: str = "") -> int:
        return int(self.client.query(name, filter=expr, output_fields=["count(*)"])[0]["count(*)"])

    @translated
    def counts(self) -> tuple[int, int]:
        """(documents, passages)."""
        return self._count(self.documents_name, "part == 0"), self._count(self.chunks_name)

    @translated
    def documents_without_chunks(self) -> int:
        """Documents stored with no passage (0 expected: every document gets one)."""
        return self._count(self.documents_name, "part == 0 and chunks == 0")

    @translated
    def list_documents(
        self, contains: str | None = "", limit: int = 200
    ) -> tuple[list[StoredDocument], int]:
        """Documents whose id, title, journal or DOI contain ``contains``, newest first (among
        the first 16,384 that match: Milvus queries return no more), and how many match."""
        needle = (contains or "").strip().lower()
        expr = "part == 0"
        if needle:
            pattern = like_literal(needle)
            expr += " and (" + " or ".join(
                f"{f} like {pattern}" for f in ("doc_id_lc", "title_lc", "journal_lc", "doi_lc")
            ) + ")"  # fmt: skip
        fields = ["doc_id", "title", "journal", "year", "pmid", "pmcid", "doi", "format",
                  "source", "chunks", "added"]  # fmt: skip
        found = sorted(self._query(self.documents_name, expr, fields), key=lambda r: -r["added"])
        docs = [
            StoredDocument(r["doc_id"], r["title"], r["journal"], r["year"], r["pmid"],
                           r["pmcid"], r["doi"], r["format"], Path(r["source"]).name, r["chunks"])
            for r in found[:limit]
        ]  # fmt: skip
        return docs, self._count(self.documents_name, expr)

    def export(
        self, dim: int, batch: int = 256
    ) -> Iterator[tuple[Document, list[Chunk], np.ndarray]]:
        """Every document with its passages and their ``dim``-d vectors (``rag index copy``)."""
        ids = [r["doc_id"] for r in self._iterate(self.documents_name, "part == 0", ["doc_id"])]
        for start in range(0, len(ids), batch):
            group = ids[start : start + batch]
            records = self._records(in_list("doc_id", group))
            fields = ["doc_id", "ordinal", "title", "section", "section_index", "text",
                      "start", "end", "page_start", "page_end", "dense"]  # fmt: skip
            rows: dict[str, list[dict[str, Any]]] = {}
            for r in self._iterate(self.chunks_name, in_list("doc_id", group), fields):
                rows.setdefault(r["doc_id"], []).append(r)
            for doc_id in group:
                if doc_id not in records:
                    continue
                mine = sorted(rows.get(doc_id, []), key=lambda r: r["ordinal"])
                chunks = [Chunk(**{k: r[k] for k in fields[:-1]}) for r in mine]
                vectors = np.array([r["dense"] for r in mine], dtype=np.float32)
                yield records[doc_id][0], chunks, vectors

    def _iterate(self, name: str, expr: str, fields: list[str]) -> Iterator[dict[str, Any]]:
        it = self.client.query_iterator(name, filter=expr, output_fields=fields, batch_size=1000)
        while page := it.next():
            yield from page
        it.close()


def _stored(r: dict[str, Any]) -> StoredChunk:
    return StoredChunk(*(r[f] for f in _CHUNK_FIELDS))


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
    s.add_field("embed_text", DataType.VARCHAR, max_length=TEXT, enable_analyzer=True)
    s.add_field("dense", DataType.FLOAT_VECTOR, dim=dimension)
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_function(
        Function(
            name="bm25",
            function_type=FunctionType.BM25,
            input_field_names=["embed_text"],
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
        """Close the connection."""
        self.client.close()

    @translated
    def matches(self, doc: Document) -> list[tuple[Document, str]]:
        """Stored documents that are the same paper as ``doc``, with their content hashes."""
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
            "embed_text": ch.embed_text, "dense": np.asarray(vector, np.float32).tolist(),
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
    def search(
        self, query: str, vector: np.ndarray | None, n: int, filters: Filters | None, rrf_k: float
    ) -> list[tuple[StoredChunk, float, float | None]]:
        """Passages by Milvus's fusion of dense and BM25 (RRF), or by one of them alone when
        ``vector`` or ``query`` is missing: (passage, score, cosine to the query vector)."""
        expr = filter_expression(filters)
        fields = [*_CHUNK_FIELDS, "dense"]
        dense = {"metric_type": "IP"}
        sparse = {"metric_type": "BM25"}
        name = self.store.chunks_name
        if vector is not None and query:
            requests = [
                AnnSearchRequest([vector.tolist()], "dense", dense, limit=n, expr=expr or None),
                AnnSearchRequest([query], "sparse", sparse, limit=n, expr=expr or None),
            ]
            found = self.client.hybrid_search(
                name, requests, RRFRanker(int(rrf_k)), limit=n, output_fields=fields
            )
        elif vector is not None:
            found = self.client.search(name, [vector.tolist()], filter=expr, limit=n,
                                       anns_field="dense", search_params=dense,
                                       output_fields=fields)  # fmt: skip
        else:
            found = self.client.search(name, [query], filter=expr, limit=n, anns_field="sparse",
                                       search_params=sparse, output_fields=fields)  # fmt: skip
        out = []
        for hit in found[0]:
            entity = hit["entity"]
            cosine = None
            if vector is not None:
                cosine = float(np.asarray(entity["dense"], np.float32) @ vector)
            row = entity["row"] if "row" in entity else hit["row"]  # pymilvus 3: the pk's name
            out.append((_stored({**entity, "row": row}), float(hit["distance"]), cosine))
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
