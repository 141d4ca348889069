"""Damaged copies of good corpus files: the mutations that tests/corpus/test_fuzz.py and
benchmarks/fuzz_readers.py feed to the readers.

A :class:`Mutation` is plain data (what to do, where, with which bytes) so that hypothesis can
draw, shrink and print it; :func:`mutations` is the strategy. The seeds are one small good file
per format the readers take, written by :func:`write_seeds` from ``../shared`` and fixtures.
"""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

FIXTURES = Path(__file__).parent / "fixtures"
# One good file per format, from ../shared where it has one (name -> where it comes from).
SEED_NAMES = (
    "pubmed.xml",  # ../shared/corpus/pubmed/pubmed-29768149.xml
    "medline.xml.gz",  # the first 12 records of ../shared/corpus/pubmed/medline16n0902.xml.gz
    "sample.nbib",  # tests/corpus/fixtures/sample.nbib (MEDLINE text; ../shared has none)
    "article.nxml",  # ../shared/corpus/pmc/cc11003.nxml (JATS)
    "paper.pdf",  # written with fpdf2 (../shared has no PDF)
    "seed.txt",  # ../shared/corpus/seeds/000_90f569b5b13f51a9.txt
    "pqal.jsonl",  # the first 6 lines of ../shared/corpus/pubmedqa/pqal_contexts.jsonl
)
KINDS = (
    "truncate", "flip", "nuls", "splice", "nest", "attribute", "encoding", "declare",
    "garbage", "line", "entity",
)  # fmt: skip
NESTS = (b"<a>", b"<sec><p>", b"<italic>", b"[", b'{"a":', b"<!--", b"<![CDATA[", b"(")
ENCODINGS = ("utf-16", "utf-32", "latin-1", "cp1252", "shift_jis", "utf-8-sig", "cp500")
DECLARED = ("UTF-16", "EBCDIC-US", "bogus-8", "ISO-8859-1", "UTF-32", "ascii", "")
HOSTILE = (
    b"&xxe;",
    b'<!DOCTYPE PubmedArticleSet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE x [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',
    b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd" parse="text"/>',
    b'<!DOCTYPE PubmedArticleSet SYSTEM "http://127.0.0.1:9/pubmed.dtd">',
    b'<!DOCTYPE a [<!ENTITY a "&a;&a;">]>',
    b"&#0;&#xD800;&#1114112;",
)
# Lines that replace one line of a file (JSONL, MEDLINE or text).
BAD_LINES = (
    b"[]", b"null", b'"x"', b"{", b"\xff\xfe", b'{"text": 5}', b'{"_id": "x"}',
    b'{"text": "a", "metadata": []}', b'{"title": "t", "metadata": {"pmid": [1]}}',
    b'{"text": "' + b"w " * 50_000 + b'"}', b"[" * 5_000, b"PMID- 123", b"AB  -", b"      x",
)  # fmt: skip
LEAK = "root:x:0:0"  # what /etc/passwd would put into a document


@dataclass(frozen=True)
class Mutation:
    """One way to damage a file.

    ``at`` is where, as a fraction of the file's length; ``size`` and ``data`` are what the
    ``kind`` needs (see :meth:`apply`). For gzip seeds, ``inner`` damages the decompressed
    bytes and compresses them again; otherwise the compressed bytes themselves are damaged.
    """

    kind: str
    at: float = 0.0
    size: int = 0
    data: bytes = b""
    inner: bool = False

    def apply(self, seed: bytes) -> bytes:
        """The damaged copy of ``seed``."""
        gz = seed[:2] == b"\x1f\x8b"
        if self.kind == "garbage":  # a .gz of garbage stays a .gz
            return gzip.compress(self.data, mtime=0) if gz else self.data
        if gz and self.inner:
            return gzip.compress(self._damage(gzip.decompress(seed)), mtime=0)
        return self._damage(seed)

    def _damage(self, data: bytes) -> bytes:
        cut = int(self.at * len(data))
        head, tail = data[:cut], data[cut:]
        match self.kind:
            case "truncate":
                return head
            case "flip":
                out = bytearray(data)
                for i, mask in enumerate(self.data):
                    if out:
                        out[int((self.at + i * 0.0137) % 1 * len(out))] ^= mask or 0xFF
                return bytes(out)
            case "nuls":
                return head + b"\0" * self.size + tail
            case "splice" | "entity":
                return head + self.data + tail
            case "nest":
                return head + self.data * self.size + tail
            case "attribute":
                return _with_attribute(data, cut, self.size)
            case "encoding":
                return data.decode("utf-8", "replace").encode(self.data.decode(), "replace")
            case "declare":
                return _declared(data, self.data)
            case "line":
                lines = data.split(b"\n")
                lines[min(int(self.at * len(lines)), len(lines) - 1)] = self.data
                return b"\n".join(lines)
        raise ValueError(f"unknown mutation {self.kind!r}; one of {', '.join(KINDS)}")


def _with_attribute(data: bytes, start: int, size: int) -> bytes:
    """``data`` with an attribute of ``size`` bytes on the first element at or after ``start``."""
    found = re.compile(rb"<[A-Za-z][\w.:-]*").search(data, start) or re.search(
        rb"<[A-Za-z][\w.:-]*", data
    )
    end = found.end() if found else start
    return data[:end] + b' huge="' + b"A" * size + b'"' + data[end:]


def _declared(data: bytes, encoding: bytes) -> bytes:
    """``data`` with its XML declaration (added if missing) naming ``encoding``."""
    declaration = b'<?xml version="1.0" encoding="' + encoding + b'"?>'
    body = re.sub(rb"^\s*<\?xml[^>]*\?>", b"", data, count=1)
    return declaration + body


def is_xml(name: str) -> bool:
    """Whether the seed ``name`` is XML (where a huge attribute means something)."""
    return name.removesuffix(".gz").endswith((".xml", ".nxml"))


def mutations(xml: bool = True) -> st.SearchStrategy[Mutation]:
    """Every kind of damage, with its parameters; sizes reach past lxml's limits (256 levels
    of nesting, 10 MB attribute values) and Python's recursion limit (1,000 frames).

    The 10.5 MB attribute is for ``xml`` seeds only: in a PDF it is just a long token, and
    pypdf 7.1 takes 14 s to refuse it ("Reached maximum number of tokens per stream").
    """
    at = st.floats(0, 1)
    inner = st.booleans()

    def kind(name: str, **params: st.SearchStrategy[object]) -> st.SearchStrategy[Mutation]:
        return st.builds(Mutation, kind=st.just(name), at=at, inner=inner, **params)

    line = st.one_of(st.binary(max_size=200), st.sampled_from(BAD_LINES))
    return st.one_of(
        kind("truncate"),
        kind("flip", data=st.binary(min_size=1, max_size=16)),
        kind("nuls", size=st.integers(1, 64)),
        kind("splice", data=st.binary(min_size=1, max_size=256)),
        kind("nest", data=st.sampled_from(NESTS), size=st.integers(1, 30_000)),
        kind("attribute", size=st.sampled_from([10, 100_000, *([10_500_000] if xml else [])])),
        kind("encoding", data=st.sampled_from([e.encode() for e in ENCODINGS])),
        kind("declare", data=st.sampled_from([e.encode() for e in DECLARED])),
        kind("garbage", data=st.binary(max_size=4096)),
        kind("line", data=line),
        kind("entity", data=st.sampled_from(HOSTILE)),
    )


def write_seeds(shared: Path, folder: Path) -> dict[str, Path]:
    """The good seed files (:data:`SEED_NAMES`), written into ``folder``."""
    corpus = shared / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    medline = gzip.decompress((corpus / "pubmed/medline16n0902.xml.gz").read_bytes())
    cut = [m.end() for m in re.finditer(rb"</MedlineCitation>", medline)][11]
    pqal = (corpus / "pubmedqa/pqal_contexts.jsonl").read_bytes().split(b"\n")[:6]
    data = {
        "pubmed.xml": (corpus / "pubmed/pubmed-29768149.xml").read_bytes(),
        "medline.xml.gz": gzip.compress(medline[:cut] + b"\n</MedlineCitationSet>\n", mtime=0),
        "sample.nbib": (FIXTURES / "sample.nbib").read_bytes(),
        "article.nxml": (corpus / "pmc/cc11003.nxml").read_bytes(),
        "paper.pdf": pdf_bytes(),
        "seed.txt": (corpus / "seeds/000_90f569b5b13f51a9.txt").read_bytes(),
        "pqal.jsonl": b"\n".join(pqal) + b"\n",
    }
    paths = {}
    for name in SEED_NAMES:
        paths[name] = folder / name
        paths[name].write_bytes(data[name])
    return paths


def pdf_bytes() -> bytes:
    """A two-page paper with headings, its ids and a reference list, as fpdf2 writes it."""
    from datetime import UTC, datetime

    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_creation_date(datetime(2019, 5, 1, tzinfo=UTC))  # the same bytes on every run
    pdf.set_title("Mitochondria in programmed cell death of the lace plant")
    pdf.set_author("Ada Lovelace; Alan Turing")
    pdf.set_font("Helvetica", size=10)
    sentence = "Mitochondria take part in programmed cell death in the lace plant leaf."
    pages = [
        ["PMID: 21645374", "Abstract", *[sentence] * 8, "Methods", *[sentence] * 8],
        ["Results", *[sentence] * 8, "References", "[1] A. Author. A paper. 2001."],
    ]
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def zlib_damaged(gz: bytes) -> bytes:
    """A copy of ``gz`` with one byte flipped where zlib itself fails ("invalid distance too
    far back", "invalid code lengths set"...), not just the XML inside: the case that escaped
    ``rag corpus inspect`` as a bare zlib.error before 2026-12."""
    for position in range(40, len(gz) - 8, 7):  # past the 10-byte header, before the CRC
        damaged = bytearray(gz)
        damaged[position] ^= 0x55
        try:
            zlib.decompressobj(-zlib.MAX_WBITS).decompress(bytes(damaged[10:]))
        except zlib.error:
            return bytes(damaged)
    raise AssertionError("no single flipped byte breaks the deflate stream")
