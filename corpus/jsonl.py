"""BEIR-style JSONL corpora: one ``{"_id", "title", "text", "metadata"}`` object per line.

Used by the PubMedQA and BioASQ corpora. Identifiers come from ``metadata`` (``pmid``, ``pmcid``,
``doi``); a numeric ``_id`` is *not* taken for a PMID, because other BEIR corpora (SciFact) use
numeric ids that are not PMIDs. Bad lines are skipped and reported together after the good ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from base.errors import ReadError
from corpus.model import Document, Section, build_document, first_year, squash
from corpus.xmlsafe import GZIP_DAMAGED, GZIP_ERRORS, open_bytes

_MAX_LISTED = 5


def read_jsonl(path: Path, max_line_bytes: int | None = None) -> Iterator[Document]:
    """Yield a :class:`Document` per valid line; bad lines raise :class:`ReadError` at the end.

    A line over ``max_line_bytes`` is one bad line, never parsed.
    """
    bad: list[str] = []
    count = 0
    try:
        with open_bytes(path) as stream:
            for lineno, (raw, size) in enumerate(_lines(stream, max_line_bytes), start=1):
                if raw is None:
                    bad.append(f"line {lineno}: a record of {size / 2**20:.1f} MB, over the "
                               "limit for one record (setting corpus.max_record_mb)")  # fmt: skip
                    continue
                if not raw.strip():
                    continue
                try:
                    doc = _document(json.loads(raw), path)
                except ValueError as exc:  # also JSONDecodeError and UnicodeDecodeError
                    bad.append(f"line {lineno}: {exc}")
                    continue
                except RecursionError:  # json.loads on "[[[[..." thousands deep
                    bad.append(f"line {lineno}: JSON nested too deeply")
                    continue
                count += 1
                yield doc
    except GZIP_ERRORS as exc:
        raise ReadError(
            path, f"{GZIP_DAMAGED}: {exc} ({count} records before it were read)"
        ) from exc
    if bad:
        listed = "; ".join(bad[:_MAX_LISTED]) + (" ..." if len(bad) > _MAX_LISTED else "")
        raise ReadError(path, f"{len(bad)} bad JSONL lines skipped ({count} read): {listed}")
    if count == 0:
        raise ReadError(path, 'no JSONL records (expected lines like {"_id", "title", "text"})')


def _lines(stream: BinaryIO, limit: int | None) -> Iterator[tuple[bytes | None, int]]:
    """(line, its size) for each line; (None, size) for a line over ``limit`` bytes, which is
    read past in blocks rather than held whole."""
    while True:
        raw = stream.readline() if limit is None else stream.readline(limit + 1)
        if not raw:
            return
        if limit is None or len(raw) <= limit or raw.endswith(b"\n"):
            yield (raw if limit is None or len(raw) <= limit else None), len(raw)
            continue
        size = len(raw)
        while raw and not raw.endswith(b"\n"):
            raw = stream.readline(1 << 20)
            size += len(raw)
        yield None, size


def _document(obj: Any, path: Path) -> Document:
    if not isinstance(obj, Mapping):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    meta = obj.get("metadata") or {}
    if not isinstance(meta, Mapping):
        raise ValueError("field 'metadata' must be an object")
    text, title = obj.get("text"), obj.get("title") or meta.get("title") or ""
    if not isinstance(text, str) or not isinstance(title, str):
        raise ValueError("fields 'text' and 'title' must be strings")
    if not text.strip() and not title.strip():
        raise ValueError(f"record {obj.get('_id')!r} has neither title nor text")
    body = "\n".join(squash(line) for line in text.splitlines() if line.strip())
    return build_document(
        title=squash(title),
        sections=[Section(str(meta.get("section") or "Abstract"), body)],
        source_path=str(path),
        format="jsonl",
        pmid=_str(meta.get("pmid") or meta.get("PMID")),
        pmcid=_str(meta.get("pmcid") or meta.get("PMCID")),
        doi=_str(meta.get("doi") or meta.get("DOI")),
        authors=_strings(meta.get("authors")),
        journal=_str(meta.get("journal")),
        year=first_year(_str(meta.get("year"))),
        mesh_terms=_strings(meta.get("mesh") or meta.get("mesh_terms")),
        publication_types=_strings(meta.get("publication_types")),
        keywords=_strings(meta.get("keywords")),
    )


def _str(value: object) -> str | None:
    return str(value) if isinstance(value, str | int) and str(value).strip() else None


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(";")
    if not isinstance(value, list | tuple):
        return ()
    return tuple(squash(str(v)) for v in value if str(v).strip())
