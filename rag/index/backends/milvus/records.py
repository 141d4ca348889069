"""A Milvus index's records: connecting, expressions, and reading documents and passages.

The read side of :mod:`rag.index.backends.milvus.index` (see its docstring for the two
collections), shaped like ``rag.index.backends.local.store.Store`` so that answers, lookups and the
UI read either backend alike.
Filters become Milvus expressions whose string literals are escaped by :func:`literal`
(milvus-lite 3.2.2 has no expression templates: ``filter_params`` fails to parse there).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
from pymilvus import MilvusClient, MilvusException

from base.errors import IndexProblem
from base.settings import Settings
from corpus.model import Document, document_from_dict
from rag.index.backends import Filters
from rag.index.backends.milvus.target import MilvusTarget
from rag.index.backends.records import StoredChunk, StoredDocument
from rag.index.chunking import Chunk

F = TypeVar("F", bound=Callable[..., Any])
MANIFEST_KEY = "litrag.manifest"
PART_CHARS = 16_000  # <= 64,000 UTF-8 bytes: fits a 65,535-byte VARCHAR
TEXT = 65_535
INSERT_ROWS = 1_000  # rows per insert call (well under gRPC's 64 MB message)
QUERY_LIMIT = 16_384  # Milvus's most rows per query (offset + limit)
# StoredChunk's fields, in its order.
CHUNK_FIELDS = [f.name for f in dataclasses.fields(StoredChunk)]


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
            client = MilvusClient(target.address, timeout=settings.index.milvus_timeout_s)
            lite_opened(target.address)
            return client
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


_LITE_OPEN: dict[str, int] = {}  # milvus-lite .db path -> indexes open on it in this process


def lite_opened(path: str) -> None:
    _LITE_OPEN[path] = _LITE_OPEN.get(path, 0) + 1


def lite_release(path: str) -> bool:
    """Count one index on ``path`` closed; True when it was the last."""
    _LITE_OPEN[path] = _LITE_OPEN.get(path, 1) - 1
    return _LITE_OPEN[path] <= 0


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
        return {
            r["row"]: stored_chunk(r) for r in self._query(self.chunks_name, expr, CHUNK_FIELDS)
        }

    @translated
    def document_chunks(self, doc_id: str) -> list[StoredChunk]:
        """A document's passages in order."""
        found = self._query(
            self.chunks_name, f"doc_id == {literal(doc_id)}", [*CHUNK_FIELDS, "ordinal"]
        )
        return [stored_chunk(r) for r in sorted(found, key=lambda r: r["ordinal"])]

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


def stored_chunk(r: dict[str, Any]) -> StoredChunk:
    return StoredChunk(*(r[f] for f in CHUNK_FIELDS))
