"""Fonts without a Unicode map: their pages are flagged and left out, never indexed as words.

fpdf2 always writes a ToUnicode map, so the PDFs here are written by hand: page text in
Helvetica (readable through its standard encoding) or in a font whose encoding names glyphs
("/g1", "/g2", ...) that map to no character, as some typesetters' subset fonts do.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from base.errors import ReadError
from corpus.pdf import read_pdf

TITLE = "Programmed cell death in the lace plant"
READABLE = "Mitochondria take part in programmed cell death in the lace plant leaf."
GLYPHS = " ".join(f"/g{i}" for i in range(33, 127))  # every printable ASCII code
# Codes mapped to the wrong glyph names: the text reads as Latin-1 symbols ("»·¹¾È").
WRONG = " ".join(["/guillemotright /periodcentered /onesuperior /threequarters /Egrave"] * 19)
FONTS = {
    "mapped": "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    "unmapped": "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
    f"/Encoding << /Type /Encoding /Differences [33 {GLYPHS}] >> >>",
    "wrong": "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
    f"/Encoding << /Type /Encoding /Differences [33 {WRONG}] >> >>",
}


def pdf_bytes(pages: list[str], title: str = "mapped") -> bytes:
    """A PDF with one page per entry of ``pages`` ("mapped" or "unmapped"), 26 lines each;
    the first page starts with a title line in the ``title`` font."""
    count = len(pages)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + 4 * i} 0 R" for i in range(count))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode())
    for i, kind in enumerate(pages):
        font, heading, content = 4 + 4 * i, 5 + 4 * i, 6 + 4 * i
        lines = [f"({chr(65 + j)}{chr(97 + i)}. {READABLE}) '" for j in range(26)]
        head = f"BT /F2 18 Tf 72 760 Td ({TITLE}) Tj ET " if i == 0 else ""
        stream = (head + "BT /F1 10 Tf 72 740 Td 14 TL " + " ".join(lines) + " ET").encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content} 0 R "
            f"/Resources << /Font << /F1 {font} 0 R /F2 {heading} 0 R >> >> >>".encode()
        )
        objects += [FONTS[kind].encode(), FONTS[title].encode()]
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    path = tmp_path / "mixed.pdf"
    path.write_bytes(pdf_bytes(["mapped", "unmapped", "unmapped", "mapped"]))
    return path


def test_unmapped_pages_are_left_out(mixed: Path) -> None:
    [doc] = read_pdf(mixed)
    pages = {page for section in doc.sections for _, page in section.pages}
    assert pages == {1, 4} and "lace plant leaf" in doc.text
    assert doc.text.count("Mitochondria") == 2 * 26


def test_unmapped_pages_are_named_in_a_warning(
    mixed: Path, caplog: pytest.LogCaptureFixture
) -> None:
    list(read_pdf(mixed))
    [record] = [r for r in caplog.records if r.name == "corpus.pdf"]
    assert record.levelname == "WARNING"
    assert str(mixed) in record.getMessage() and "pages 2-3 of 4" in record.getMessage()


def test_a_pdf_with_only_unmapped_glyphs_is_a_read_error(tmp_path: Path) -> None:
    path = tmp_path / "garbled.pdf"
    path.write_bytes(pdf_bytes(["unmapped"]))
    with pytest.raises(ReadError) as err:
        list(read_pdf(path))
    assert err.value.path == str(path) and "no Unicode mapping" in err.value.reason


def test_corpus_inspect_warns_and_reports(mixed: Path, tmp_path: Path) -> None:
    garbled = tmp_path / "garbled.pdf"
    garbled.write_bytes(pdf_bytes(["unmapped", "unmapped"]))
    cmd = [sys.executable, "-m", "cli.main", "corpus", "inspect", str(tmp_path), "--json"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    rows = {
        row.get("path", row.get("id")): row for row in map(json.loads, result.stdout.splitlines())
    }
    assert "no Unicode mapping" in rows[str(garbled)]["error"]
    assert f"WARNING corpus.pdf: {mixed}: left out pages 2-3 of 4" in result.stderr


def test_a_title_in_a_wrongly_mapped_font_is_left_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="corpus.pdf")
    path = tmp_path / "title.pdf"
    path.write_bytes(pdf_bytes(["mapped", "mapped"], title="wrong"))
    [doc] = read_pdf(path)
    assert doc.title.startswith("Aa. Mitochondria") and not set("»·¹¾È") & set(doc.text)
    assert "left out 1 line of unreadable glyphs" in caplog.text and "on page 1" in caplog.text


def test_a_title_in_a_mapped_font_is_the_title(tmp_path: Path) -> None:
    path = tmp_path / "title.pdf"
    path.write_bytes(pdf_bytes(["mapped", "mapped"]))
    [doc] = read_pdf(path)
    assert doc.title == TITLE
