"""Reader for MEDLINE/PubMed tagged text: PubMed's "Save → PubMed format" and ``.nbib`` files.

Each record is a run of ``TAG - value`` lines (the tag left-justified in four columns, then
``"- "``); a value that wraps goes on in lines indented by six spaces; records are separated by
blank lines. Field meanings: https://www.nlm.nih.gov/bsd/mms/medlineelements.html
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from base.errors import ReadError
from corpus.model import Document, Section, build_document, first_year, squash
from corpus.xmlsafe import GZIP_DAMAGED, GZIP_ERRORS, open_bytes

log = logging.getLogger(__name__)

# The tag and its padding fill exactly four columns ("PMID-", "TI  -", "FAU -"); checking the
# columns keeps prose such as "Note - see below" from passing for a field. The value may be
# missing altogether on some exports ("AB  -" with nothing after it).
_FIELD = re.compile(r"^(?=[A-Z0-9 ]{4}-)([A-Z][A-Z0-9]{1,3}) *-(?: (.*))?$")
_CONTINUATION = "      "
_NO_RECORDS = "no MEDLINE records (expected lines like 'PMID- 12345')"

Record = list[tuple[str, str]]


@dataclass
class _Tally:
    """Line counts kept while streaming, to tell a MEDLINE file from some other text."""

    lines: int = 0  # non-blank lines
    stray: int = 0  # non-blank lines that are neither a field nor a continuation of one
    skipped: int = 0  # records with neither a PMID nor a title

    def check(self, path: Path) -> None:
        """Raise :class:`ReadError` once most lines so far are not MEDLINE fields."""
        if self.stray * 2 > self.lines:
            raise ReadError(
                path,
                f"not MEDLINE text: {self.stray} of {self.lines} non-blank lines are not "
                "'TAG - value' fields (expected lines like 'PMID- 12345')",
            )


def read_medline(path: Path) -> Iterator[Document]:
    """Yield one :class:`Document` per record of the MEDLINE file at ``path``, streaming.

    Records with neither a PMID nor a title are skipped (and logged). Raises
    :class:`ReadError` when the file is not UTF-8, holds no record, or is mostly lines that
    are not MEDLINE fields. That check runs as the file streams, so a file that turns to junk
    part way through raises after yielding the records before the junk.
    """
    tally = _Tally()
    yielded = 0
    for record in _records(path, tally):
        doc = _to_document(record, path)
        if doc is None:
            tally.skipped += 1
            continue
        tally.check(path)
        yielded += 1
        yield doc
    tally.check(path)
    if tally.skipped:
        log.warning("%s: skipped %d records with neither PMID nor title", path, tally.skipped)
    if not yielded:
        reason = _NO_RECORDS
        if tally.skipped:
            reason += f"; {tally.skipped} records had neither PMID nor title"
        raise ReadError(path, reason)


def _records(path: Path, tally: _Tally) -> Iterator[Record]:
    """Group the lines of ``path`` into records of ``(tag, value)`` fields, counting lines."""
    record: Record = []
    for line in _lines(path):
        if not line.strip():
            if record:
                yield record
                record = []
            continue
        tally.lines += 1
        field = _FIELD.match(line)
        if field:
            tag = field.group(1)
            # Some exports leave out the blank line; a new PMID always opens a new record.
            if tag == "PMID" and record:
                yield record
                record = []
            record.append((tag, field.group(2) or ""))
        elif line.startswith(_CONTINUATION) and record:
            tag, value = record[-1]
            record[-1] = (tag, f"{value} {line.strip()}")
        else:
            tally.stray += 1
    if record:
        yield record


def _lines(path: Path) -> Iterator[str]:
    """The lines of ``path`` (gunzipped if need be) as UTF-8, BOM dropped, without line ends.

    Reads bytes and decodes line by line, rather than opening in text mode, so that a decoding
    error can name the byte offset in the file instead of one inside a buffer.
    """
    offset = 0
    try:
        with open_bytes(path) as fh:
            for raw in fh:
                line = _decode(path, raw, offset)
                if offset == 0:
                    line = line.removeprefix("\ufeff")
                offset += len(raw)
                yield line.rstrip("\r\n")
    except GZIP_ERRORS as exc:  # gzip.BadGzipFile is an OSError; a cut .gz raises EOFError
        plain = type(exc) is OSError
        raise ReadError(
            path, f"{'cannot read the file' if plain else GZIP_DAMAGED}: {exc}"
        ) from exc


def _decode(path: Path, raw: bytes, offset: int) -> str:
    """``raw`` decoded as UTF-8; ``offset`` is where it starts in the file, for the message."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReadError(
            path,
            f"not UTF-8 text (byte {offset + exc.start} is 0x{raw[exc.start]:02x}); "
            "re-export it or convert it to UTF-8",
        ) from exc


def _to_document(record: Record, path: Path) -> Document | None:
    """The :class:`Document` for one record, or None when it has neither PMID nor title."""
    fields: dict[str, list[str]] = {}
    for tag, value in record:
        fields.setdefault(tag, []).append(squash(value))

    def first(*tags: str) -> str:
        return next((v for t in tags for v in fields.get(t, []) if v), "")

    pmid, title = first("PMID"), first("TI", "BTI")
    if not pmid and not title:
        return None
    return build_document(
        title=title,
        sections=[Section("Abstract", first("AB"))],
        source_path=str(path),
        format="medline",
        pmid=pmid or None,
        pmcid=first("PMC") or None,
        doi=_doi(fields),
        authors=tuple(filter(None, fields.get("FAU") or fields.get("AU") or [])),
        journal=first("JT", "TA") or None,
        year=first_year(first("DP")) or first_year(first("DEP")),
        mesh_terms=tuple(_mesh(fields.get("MH", []))),
        publication_types=tuple(fields.get("PT", [])),
        keywords=tuple(fields.get("OT", [])),
    )


def _doi(fields: dict[str, list[str]]) -> str | None:
    """The DOI among the article ids (``AID``) or location ids (``LID``) marked ``[doi]``."""
    for value in fields.get("AID", []) + fields.get("LID", []):
        if value.endswith(" [doi]"):
            return value.removesuffix(" [doi]")
    return None


def _mesh(headings: list[str]) -> Iterator[str]:
    """Descriptor names from ``MH`` values such as ``*Hypertension/drug therapy/*prevention``.

    The ``*`` marks a major topic and the parts after ``/`` are qualifiers; both are dropped so
    that the same descriptor is spelled the same way in every record.
    """
    seen: set[str] = set()
    for heading in headings:
        name = heading.split("/", 1)[0].lstrip("*").strip()
        if name and name not in seen:
            seen.add(name)
            yield name
