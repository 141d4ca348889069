"""The SQLite half of an index: documents, chunks (row = FAISS id) and their vectors.

SQLite is the source of truth. The FAISS and BM25 files are derived from it and stamped with the
store's ``generation``, which every committed change increments; a derived file whose stamp is
behind (a crash between commit and save) is rebuilt from here. Schema changes are numbered
migrations, applied in order and recorded in ``PRAGMA user_version``.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import numpy as np

from base.errors import IndexProblem
from corpus.model import Document, content_hash, document_from_dict, document_to_dict
from rag.index.backends.records import StoredChunk, StoredDocument
from rag.index.chunking import Chunk

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    INSERT INTO meta VALUES ('generation', '0');
    CREATE TABLE documents (
        id TEXT PRIMARY KEY,
        content_hash TEXT NOT NULL,
        pmid TEXT, pmcid TEXT, doi TEXT,
        title TEXT NOT NULL, journal TEXT, year INTEGER,
        record TEXT NOT NULL  -- the whole Document as JSON
    );
    CREATE INDEX documents_pmid ON documents(pmid);
    CREATE INDEX documents_pmcid ON documents(pmcid);
    CREATE INDEX documents_doi ON documents(doi);
    CREATE TABLE chunks (
        row INTEGER PRIMARY KEY AUTOINCREMENT,  -- the FAISS id; never reused
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        section TEXT NOT NULL, section_index INTEGER NOT NULL,
        start INTEGER NOT NULL, "end" INTEGER NOT NULL,
        page_start INTEGER, page_end INTEGER,
        text TEXT NOT NULL,
        embed_text TEXT NOT NULL,
        vector BLOB NOT NULL  -- float16, L2-normalised
    );
    CREATE INDEX chunks_doc ON chunks(doc_id);
    """,
)


_LIST_SQL = """
SELECT d.id, d.title, d.journal, d.year, d.pmid, d.pmcid, d.doi,
       json_extract(d.record, '$.format'), json_extract(d.record, '$.source_path'),
       (SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.id)
FROM documents d {where} ORDER BY d.rowid DESC LIMIT ?
"""
_LIST_WHERE = "WHERE d.id LIKE ? OR d.title LIKE ? OR d.journal LIKE ? OR d.doi LIKE ?"


class Store:
    """Documents and chunks in ``path`` (created and migrated on open).

    With ``read_only`` the file is opened read-only (``mode=ro``), or as immutable when its
    directory cannot be written (a read-only mount: SQLite then cannot make its WAL index file),
    and is neither created nor migrated: searches need no lock and no write access.
    """

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.read_only = read_only
        if read_only:
            self.db = _connect_read_only(path)
        else:
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")  # a killed writer never corrupts readers
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # One script per migration, atomic: it and its version number commit together.
            self.db.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: commit on success, roll back on any exception."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @property
    def generation(self) -> int:
        """How many changes have been committed; derived files are stamped with it."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0])

    def bump_generation(self) -> None:
        """Mark a committed change (call inside the change's transaction)."""
        self.db.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")

    def matches(self, doc: Document) -> list[tuple[Document, str]]:
        """Stored documents that are the same paper as ``doc``, with their content hashes."""
        rows = self.db.execute(
            "SELECT record, content_hash FROM documents WHERE id = ? OR pmid = ? OR pmcid = ? "
            "OR doi = ?",
            (doc.id, doc.pmid or "", doc.pmcid or "", doc.doi or ""),
        ).fetchall()
        return [(document_from_dict(json.loads(r)), h) for r, h in rows]

    def delete_documents(self, ids: Sequence[str]) -> list[int]:
        """Delete documents (and their chunks); returns the chunk rows that went."""
        marks = ",".join("?" * len(ids))
        gone = self.db.execute(f"SELECT row FROM chunks WHERE doc_id IN ({marks})", ids)
        rows = [r for (r,) in gone.fetchall()]
        self.db.execute(f"DELETE FROM documents WHERE id IN ({marks})", ids)
        return rows

    def add(self, doc: Document, chunks: Sequence[Chunk], vectors: np.ndarray) -> list[int]:
        """Insert a document with its chunks and their vectors; returns the new chunk rows."""
        self.db.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (doc.id, content_hash(doc), doc.pmid, doc.pmcid, doc.doi, doc.title, doc.journal,
             doc.year, json.dumps(document_to_dict(doc), ensure_ascii=False)),
        )  # fmt: skip
        rows = []
        for chunk, vector in zip(chunks, vectors.astype(np.float16), strict=True):
            cursor = self.db.execute(
                'INSERT INTO chunks (doc_id, ordinal, section, section_index, start, "end", '
                "page_start, page_end, text, embed_text, vector) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    doc.id,
                    chunk.ordinal,
                    chunk.section,
                    chunk.section_index,
                    chunk.start,
                    chunk.end,
                    chunk.page_start,
                    chunk.page_end,
                    chunk.text,
                    chunk.embed_text,
                    vector.tobytes(),
                ),
            )
            rows.append(int(cursor.lastrowid or 0))
        return rows

    def update_record(self, doc: Document) -> None:
        """Replace a stored document's record whose content (hash, chunks) is unchanged, e.g.
        to list another file it was also read from."""
        self.db.execute(
            "UPDATE documents SET record = ? WHERE id = ?",
            (json.dumps(document_to_dict(doc), ensure_ascii=False), doc.id),
        )

    def documents_without_chunks(self) -> int:
        """How many documents have no passage (retrieval could never find them; 0 expected)."""
        found = self.db.execute(
            "SELECT COUNT(*) FROM documents d WHERE NOT EXISTS "
            "(SELECT 1 FROM chunks c WHERE c.doc_id = d.id)"
        )
        return int(found.fetchone()[0])

    def counts(self) -> tuple[int, int]:
        """(documents, chunks)."""
        docs = self.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        chunks = self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return int(docs), int(chunks)

    def vectors(self, dim: int, batch: int = 16_384) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """All (rows, float32 vectors) in row order, ``batch`` at a time (~50 MB of temporary
        copies for 384-d vectors)."""
        cursor = self.db.execute("SELECT row, vector FROM chunks ORDER BY row")
        while block := cursor.fetchmany(batch):
            rows = np.fromiter((r for r, _ in block), dtype=np.int64, count=len(block))
            data = np.frombuffer(b"".join(v for _, v in block), dtype=np.float16)
            yield rows, data.reshape(len(block), dim).astype(np.float32)

    def embed_text_blocks(self, batch: int = 20_000) -> Iterator[tuple[np.ndarray, list[str]]]:
        """All chunk rows and the texts BM25 indexes, in row order, ``batch`` at a time."""
        cursor = self.db.execute("SELECT row, embed_text FROM chunks ORDER BY row")
        while block := cursor.fetchmany(batch):
            yield np.array([r for r, _ in block], dtype=np.int64), [t for _, t in block]

    def sample(self, n: int, dim: int) -> tuple[list[str], np.ndarray]:
        """The embedded texts and stored vectors of the first ``n`` chunks (a fixed sample)."""
        found = self.db.execute(
            "SELECT embed_text, vector FROM chunks ORDER BY row LIMIT ?", (n,)
        ).fetchall()
        vectors = [np.frombuffer(v, dtype=np.float16).astype(np.float32) for _, v in found]
        return [t for t, _ in found], np.vstack(vectors) if vectors else np.zeros((0, dim))

    def doc_ids(self, rows: Sequence[int]) -> dict[int, str]:
        """The document id of each of these chunk rows (missing rows are left out)."""
        marks = ",".join("?" * len(rows))
        found = self.db.execute(
            f"SELECT row, doc_id FROM chunks WHERE row IN ({marks})", list(rows)
        )
        return dict(found.fetchall())

    def chunks(self, rows: Sequence[int]) -> dict[int, StoredChunk]:
        """The stored chunks with these rows (missing rows are left out)."""
        marks = ",".join("?" * len(rows))
        found = self.db.execute(
            'SELECT c.row, c.doc_id, c.section, c.text, c.start, c."end", c.page_start, '
            "c.page_end, d.title, d.pmid, d.pmcid, d.doi, d.journal, d.year FROM chunks c "
            f"JOIN documents d ON d.id = c.doc_id WHERE c.row IN ({marks})",
            list(rows),
        )
        return {r[0]: StoredChunk(*r) for r in found.fetchall()}

    def list_documents(
        self, contains: str | None = "", limit: int = 200
    ) -> tuple[list[StoredDocument], int]:
        """The most recently added documents whose id, title, journal or DOI contain
        ``contains``, newest first, and how many match in all."""
        needle = (contains or "").strip()
        params: list[object] = [f"%{needle}%"] * 4 if needle else []
        where = _LIST_WHERE if needle else ""
        found = self.db.execute(_LIST_SQL.format(where=where), [*params, limit]).fetchall()
        total = self.db.execute(f"SELECT COUNT(*) FROM documents d {where}", params).fetchone()[0]
        rows = [
            StoredDocument(
                id=r[0],
                title=r[1],
                journal=r[2],
                year=r[3],
                pmid=r[4],
                pmcid=r[5],
                doi=r[6],
                format=r[7] or "",
                source=Path(r[8] or "").name,
                chunks=int(r[9]),
            )
            for r in found
        ]
        return rows, int(total)

    def document(self, doc_id: str) -> Document | None:
        """The stored document with this id."""
        row = self.db.execute("SELECT record FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return document_from_dict(json.loads(row[0])) if row else None

    def rows_where(self, sql: str, params: Sequence[object]) -> np.ndarray:
        """Chunk rows whose chunk ``c`` and document ``d`` satisfy ``sql`` (built by filters)."""
        query = f"SELECT c.row FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE {sql}"
        return np.array([r for (r,) in self.db.execute(query, list(params))], dtype=np.int64)

    def vectors_for(self, rows: Sequence[int], dim: int) -> dict[int, np.ndarray]:
        """The stored (float32) vectors of these chunk rows."""
        marks = ",".join("?" * len(rows))
        found = self.db.execute(f"SELECT row, vector FROM chunks WHERE row IN ({marks})", rows)
        return {r: np.frombuffer(v, dtype=np.float16).astype(np.float32) for r, v in found}

    def document_chunks(self, doc_id: str) -> list[StoredChunk]:
        """A document's chunks in order."""
        rows = self.db.execute("SELECT row FROM chunks WHERE doc_id = ? ORDER BY ordinal", [doc_id])
        wanted = [r for (r,) in rows]
        found = self.chunks(wanted)
        return [found[r] for r in wanted if r in found]

    def export(self, dim: int) -> Iterator[tuple[Document, list[Chunk], np.ndarray]]:
        """Every document with its chunks and their (float32) vectors, for ``rag index copy``."""
        ids = [r for (r,) in self.db.execute("SELECT id FROM documents ORDER BY rowid")]
        for doc_id in ids:
            doc = self.document(doc_id)
            found = self.db.execute(
                'SELECT ordinal, section, section_index, text, start, "end", page_start, page_end, '
                "vector FROM chunks WHERE doc_id = ? ORDER BY ordinal",
                [doc_id],
            ).fetchall()
            if doc is None:
                continue
            chunks = [Chunk(doc_id, r[0], doc.title, *r[1:8]) for r in found]
            data = b"".join(r[8] for r in found)
            vectors = np.frombuffer(data, dtype=np.float16).reshape(len(found), dim)
            yield doc, chunks, vectors.astype(np.float32)

    def resolve(self, key: str) -> list[str]:
        """Ids of documents that ``key`` names: an id, or a bare PMID, PMCID or DOI."""
        key = key.strip()
        bare = key.split(":", 1)[1] if key.split(":", 1)[0] in ("pmid", "pmcid", "doi") else key
        found = self.db.execute(
            "SELECT id FROM documents WHERE id = ? OR pmid = ? OR upper(pmcid) = upper(?) "
            "OR doi = lower(?)",
            (key, bare, bare, bare),
        )
        return [r for (r,) in found]


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to an existing store, current with its schema."""
    if not path.is_file():
        raise IndexProblem(f"{path}: no index store here (build one with rag ingest)")
    try:
        db = _open_ro(path, immutable=not os.access(path.parent, os.W_OK))
    except sqlite3.Error as exc:
        wal = path.with_name(path.name + "-wal")
        if wal.is_file() and wal.stat().st_size:
            raise IndexProblem(f"{path}: cannot be read ({exc})") from exc
        # A full disk: a reader cannot make the WAL index file either, and with no WAL to
        # replay the file alone is the whole store.
        db = _open_ro(path, immutable=True)
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version != len(MIGRATIONS):
        db.close()
        raise IndexProblem(
            f"{path}: its schema is version {version}, this litrag reads {len(MIGRATIONS)}; "
            "run rag ingest on it once (a writer migrates it)"
        )
    return db


def _open_ro(path: Path, immutable: bool) -> sqlite3.Connection:
    """Open ``path`` read-only; ``immutable`` where SQLite cannot write its WAL index file beside
    it (a read-only volume): nothing can change the file there."""
    mode = "mode=ro&immutable=1" if immutable else "mode=ro"
    uri = f"file:{quote(str(path.resolve()))}?{mode}"
    db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA user_version").fetchone()
    except sqlite3.Error:
        db.close()
        raise
    return db
