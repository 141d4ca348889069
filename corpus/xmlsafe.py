"""Safe XML parsing shared by the PubMed and JATS readers.

Never expand entities, never load a DTD, never touch the network. A document whose DOCTYPE
declares entities (the shape of both the "billion laughs" bomb and XXE) is refused outright:
no real PubMed or PMC file declares its own entities, they only name the public DTD.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from base.errors import ReadError

GZIP_MAGIC = b"\x1f\x8b"
# What reading a damaged .gz raises: gzip.BadGzipFile (an OSError) for a bad header, EOFError
# for a cut stream and zlib.error ("invalid distance too far back", "invalid code lengths set")
# for flipped bytes inside it (Python 3.11, found by fuzzing medline16n0902.xml.gz).
GZIP_ERRORS: tuple[type[Exception], ...] = (OSError, EOFError, zlib.error)
GZIP_DAMAGED = "truncated or corrupt gzip data, cannot decompress"
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_ROOT_START = re.compile(rb"<[A-Za-z_]")


@contextmanager
def open_bytes(path: Path) -> Iterator[BinaryIO]:
    """Open ``path`` for binary reading, transparently gunzipping it when it is gzip data."""
    with path.open("rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        if magic == GZIP_MAGIC:
            with gzip.GzipFile(fileobj=raw) as unzipped:
                yield unzipped  # type: ignore[misc]  # GzipFile is a binary stream
        else:
            yield raw


def refuse_entity_declarations(path: Path, head: bytes) -> None:
    """Raise if the prolog (everything before the root element) declares an entity."""
    root = _ROOT_START.search(head)  # "<!DOCTYPE", "<?xml" and "<!--" do not match
    prolog = head[: root.start()] if root else head
    if _ENTITY_DECL.search(prolog):
        raise ReadError(
            path,
            "the XML declares its own entities (<!ENTITY ...>); litrag never expands entities, "
            "so files with entity declarations (XML bombs, external-entity references) are refused",
        )


def safe_parser() -> etree.XMLParser:
    """An lxml parser that expands no entity and loads nothing from outside the file."""
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def describe_syntax_error(exc: etree.XMLSyntaxError) -> str:
    """A user-facing reason for an XML syntax error, with the line it was found on.

    lxml's iterparse sometimes raises a bare "no element found" and keeps the real cause
    ("Entity 'xxe' not defined") in its error log (lxml 6.0, 2026-11).
    """
    last = exc.error_log.last_error if exc.error_log else None
    msg, line = (last.message, last.line) if last is not None else (str(exc), exc.lineno)
    if "entity" in msg.lower():
        return f"XML refers to an entity, which litrag never expands (line {line}): {msg}"
    return f"malformed or truncated XML at line {line}: {msg}"
