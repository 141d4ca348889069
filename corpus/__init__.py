"""Readers: the files users bring -> :class:`~corpus.model.Document`.

:func:`read` picks a reader from :data:`READERS` by looking at the file's first bytes, so a
PubMed XML named ``.txt`` still reads as PubMed; the extension only decides between plain text
and an unreadable file. :func:`iter_files` expands folders recursively.

Only :class:`ReadError` leaves :func:`read`: readers raise it with a specific reason where they
know one, and whatever else a damaged file provokes from below (zlib, lxml, PDFium, a codec,
the recursion or memory limit) is turned into one here, naming the file.
"""

from __future__ import annotations

import gzip
import logging
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from lxml import etree

from base.errors import ReadError
from base.settings import CorpusSettings
from corpus.dedup import merge_duplicates
from corpus.jats import read_jats
from corpus.jsonl import read_jsonl
from corpus.medline import read_medline
from corpus.model import Document, Section
from corpus.pdf import read_pdf
from corpus.pubmed import ROOT_TAGS, read_pubmed
from corpus.text import decode_text, read_text
from corpus.xmlsafe import (
    GZIP_DAMAGED,
    GZIP_ERRORS,
    GZIP_MAGIC,
    describe_syntax_error,
    open_bytes,
    refuse_entity_declarations,
)

__all__ = [
    "READERS", "Document", "Section", "detect_format", "iter_files", "read", "read_many",
    "read_stream",
]  # fmt: skip

READERS: dict[str, Callable[[Path], Iterator[Document]]] = {
    "pubmed": read_pubmed,
    "medline": read_medline,
    "jats": read_jats,
    "pdf": read_pdf,
    "text": read_text,
    "jsonl": read_jsonl,
}
# Readers that hold a whole file in memory: these obey CorpusSettings.max_file_mb.
WHOLE_FILE = frozenset({"jats", "pdf", "text"})
SUFFIXES = {
    ".xml": "pubmed or jats", ".nxml": "jats", ".nbib": "medline", ".medline": "medline",
    ".pdf": "pdf", ".jsonl": "jsonl", ".ndjson": "jsonl", ".txt": "text", ".text": "text",
    ".md": "text", ".markdown": "text",
}  # fmt: skip
_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
log = logging.getLogger(__name__)


def read(path: Path, settings: CorpusSettings | None = None) -> Iterator[Document]:
    """The documents in one file; :class:`ReadError` names the file and what is wrong with it."""
    settings = settings or CorpusSettings()
    with reading(path):
        fmt = detect_format(path)
        size_mb = path.stat().st_size / 2**20
    if fmt in WHOLE_FILE and size_mb > settings.max_file_mb:
        raise ReadError(
            path,
            f"{size_mb:.0f} MB is over the {settings.max_file_mb} MB limit for {fmt} files "
            "(setting corpus.max_file_mb)",
        )
    reader = READERS[fmt]
    if reader is read_jsonl:  # a line over the record limit is skipped before it is parsed
        return _guarded(path, read_jsonl(path, int(settings.max_record_mb * 2**20)))
    return _guarded(path, reader(path))


def _guarded(path: Path, docs: Iterator[Document]) -> Iterator[Document]:
    """``docs`` as they come, with any failure while reading them made a :class:`ReadError`."""
    with reading(path):
        yield from docs


@contextmanager
def reading(path: Path) -> Iterator[None]:
    """Let :class:`ReadError` through and turn any other exception into one naming ``path``.

    Fuzzing the readers (``benchmarks/fuzz_readers.py``) shows what damaged files raise from
    below the readers; a reader that knows better raises its own ReadError first. Interrupts
    (KeyboardInterrupt, SystemExit, GeneratorExit) are not exceptions of the file and pass.
    """
    try:
        yield
    except ReadError:
        raise
    except Exception as exc:
        log.debug("%s: %s raised while reading", path, type(exc).__name__, exc_info=exc)
        raise ReadError(path, failure_reason(exc)) from exc


def failure_reason(exc: Exception) -> str:
    """Words a user can act on for an exception raised while reading a file."""
    if isinstance(exc, etree.XMLSyntaxError):
        return describe_syntax_error(exc)
    if isinstance(exc, etree.LxmlError):
        return f"malformed XML: {exc}"
    if isinstance(exc, UnicodeError):
        return f"text that is not valid in its encoding: {exc}"
    if isinstance(exc, RecursionError):
        return "structures nested too deeply to read (the recursion limit was reached)"
    if isinstance(exc, MemoryError):
        return "too large to read in the memory available"
    if isinstance(exc, gzip.BadGzipFile | EOFError | zlib.error):
        return f"{GZIP_DAMAGED}: {exc}"
    if isinstance(exc, OSError):
        return f"cannot read the file: {exc.strerror or exc}"
    return f"cannot be read ({type(exc).__name__}: {exc})"


def detect_format(path: Path) -> str:
    """The key in :data:`READERS` for ``path``, decided from its content and then its name."""
    magic = b""
    try:
        with path.open("rb") as raw:
            magic = raw.read(5)
        with open_bytes(path) as stream:
            head = stream.read(65536)
    except GZIP_ERRORS as exc:
        gz = GZIP_DAMAGED if magic[:2] == GZIP_MAGIC else ""
        raise ReadError(path, f"{gz or 'cannot read the file'}: {exc}") from exc
    if magic == b"%PDF-":
        return "pdf"
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start:
        raise ReadError(path, "the file is empty")
    if start.startswith(b"<"):
        return _xml_format(path, start)
    if start.startswith(b"{") and _suffix(path) != ".json":
        return "jsonl"
    if re.match(rb"PMID- ?\d", start):
        return "medline"
    return _by_name(path, head, magic.startswith(GZIP_MAGIC))


def _xml_format(path: Path, start: bytes) -> str:
    refuse_entity_declarations(path, start)
    root = next((m.group(1) for m in _ROOT.finditer(start)), None)
    name = root.decode(errors="replace").rsplit(":", 1)[-1] if root else None
    if name in ROOT_TAGS:
        return "pubmed"
    if name == "article":
        return "jats"
    if name in ("html", "HTML"):
        raise ReadError(path, "an HTML page; save it as text (or export the paper as PDF) first")
    raise ReadError(
        path,
        f"XML root <{name}> is not PubMed ({', '.join(ROOT_TAGS)}) or JATS <article>"
        if name
        else "starts with '<' but holds no XML element (malformed XML)",
    )


def _by_name(path: Path, head: bytes, gzipped: bool) -> str:
    suffix = _suffix(path)
    expected = SUFFIXES.get(suffix)
    if suffix == ".json":
        raise ReadError(path, "JSON, not JSON Lines: the corpus format is BEIR-style .jsonl")
    if expected not in (None, "text"):
        raise ReadError(path, f"the extension {suffix} promises {expected}, but the content is not")
    decode_text(path, head)  # raises for binary junk and non-UTF-8 text
    if gzipped:
        raise ReadError(path, "gzip data that is neither PubMed XML nor JSONL")
    return "text"


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Each file named, and every file under each folder named (sorted, hidden ones skipped)."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                hidden = any(p.startswith(".") for p in child.relative_to(path).parts)
                if child.is_file() and not hidden:
                    yield child
        else:
            yield path


def read_stream(
    paths: Iterable[Path],
    settings: CorpusSettings | None = None,
    errors: list[ReadError] | None = None,
) -> Iterator[Document]:
    """Every document under ``paths``, one at a time as read (records are not merged).

    A bad file never stops the others: its :class:`ReadError` is appended to ``errors`` and
    the documents read from it before the error (records before a truncation) are kept.
    """
    settings = settings or CorpusSettings()
    for path in iter_files(paths):
        try:
            for doc in read(path, settings):
                if doc.chars > settings.max_record_mb * 2**20:
                    too_large = record_too_large(path, doc.id, doc.chars, settings)
                    if errors is None:
                        raise too_large
                    errors.append(too_large)  # this record only: the file reads on
                    continue
                yield doc
        except ReadError as exc:
            if errors is None:
                raise
            errors.append(exc)


def record_too_large(path: Path, name: str, chars: int, settings: CorpusSettings) -> ReadError:
    """The error for one record over ``corpus.max_record_mb``."""
    return ReadError(
        path,
        f"record {name}: {chars / 2**20:.1f} MB of text is over the {settings.max_record_mb:g} MB "
        "limit for one record (setting corpus.max_record_mb); skipped",
    )


def read_many(
    paths: Iterable[Path], settings: CorpusSettings | None = None
) -> tuple[list[Document], list[ReadError]]:
    """Every document under ``paths`` and every file that failed, each failure kept apart.

    A bad file never stops the others; documents read from a file before its error (records
    before a truncation) are kept. Records of one paper are merged when the settings say so.
    This holds the whole corpus in memory: ingest streams with :func:`read_stream` instead.
    """
    settings = settings or CorpusSettings()
    errors: list[ReadError] = []
    docs = list(read_stream(paths, settings, errors))
    if settings.merge_duplicates:
        docs = merge_duplicates(docs)
    return docs, errors
