"""The Library tab's two edges: what uploads are accepted, and the list of indexed documents.

Upload limits are the web app's own (the CLI reads local files and has no such limits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.store import Store

# Suffixes the readers in corpus/ handle (content decides the reader; see corpus.detect_format).
ACCEPTED = (".pdf", ".xml", ".nxml", ".nbib", ".medline", ".txt", ".md", ".jsonl", ".gz")
ACCEPTED_WORDS = (
    "PDF (.pdf), PubMed or JATS XML (.xml, .nxml), MEDLINE (.nbib, .medline), text (.txt, .md), "
    "BEIR-style JSON Lines (.jsonl), gzipped XML or JSONL (.gz)"
)
LIST_LIMIT = 200  # rows the library table shows; the filter box finds the others


@dataclass(frozen=True, slots=True)
class LibraryRow:
    """One indexed document as the library table shows it."""

    id: str
    title: str
    journal: str | None
    year: int | None
    pmid: str | None
    pmcid: str | None
    doi: str | None
    format: str
    source: str  # the file name it was read from
    chunks: int


def check_uploads(paths: Sequence[Path], max_mb: float) -> tuple[list[Path], list[str]]:
    """The uploads to ingest, and one message per refused file (wrong type or too large)."""
    accepted: list[Path] = []
    problems: list[str] = []
    for path in paths:
        suffix = path.suffix.lower()
        size_mb = path.stat().st_size / 2**20
        if suffix not in ACCEPTED:
            kind = f"{suffix} files" if suffix else "files without an extension"
            problems.append(f"{path.name}: {kind} are not accepted; upload {ACCEPTED_WORDS}")
        elif size_mb > max_mb:
            problems.append(
                f"{path.name}: {size_mb:.1f} MB is over the {max_mb:g} MB upload limit "
                "(rag serve --max-upload-mb)"
            )
        else:
            accepted.append(path)
    return accepted, problems


# The store has no listing method yet, so this reads its documents table (schema: rag/store.py
# MIGRATIONS[0]) directly; it belongs in rag.store.Store once the CLI needs a listing too.
_LIST_SQL = """
SELECT d.id, d.title, d.journal, d.year, d.pmid, d.pmcid, d.doi,
       json_extract(d.record, '$.format'), json_extract(d.record, '$.source_path'),
       (SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.id)
FROM documents d {where} ORDER BY d.rowid DESC LIMIT ?
"""
_WHERE = "WHERE d.id LIKE ? OR d.title LIKE ? OR d.journal LIKE ? OR d.doi LIKE ?"


def list_documents(
    store: Store, contains: str | None = "", limit: int = LIST_LIMIT
) -> tuple[list[LibraryRow], int]:
    """The most recently added documents whose id, title, journal or DOI contain ``contains``,
    and how many match in all."""
    needle = (contains or "").strip()
    params: list[object] = [f"%{needle}%"] * 4 if needle else []
    where = _WHERE if needle else ""
    found = store.db.execute(_LIST_SQL.format(where=where), [*params, limit]).fetchall()
    total = store.db.execute(f"SELECT COUNT(*) FROM documents d {where}", params).fetchone()[0]
    rows = [
        LibraryRow(
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
