from __future__ import annotations

from pathlib import Path

import pytest

from base.errors import ReadError
from corpus.text import read_text

SCRAPED = """Your browser doesn't support javascript.
loading
A trial of budesonide in mild asthma.
Doe, Jane; Roe, Richard.
Affiliation
  • Doe J; Some University, Somewhere.
Lancet ; 12(3): 45-50, 2019 May 02.
Article in En | MEDLINE | ID: mdl-31000001
ABSTRACT
Budesonide reduced exacerbations.
Subject(s)
Asthma
Related Publications
Another paper entirely
Its abstract, which must not become this paper's text. doi: 10.9999/other.1
Identifiers
- DOI
- 10.1000/Trial.2019
- PMCID
- PMC7000001
"""


def read_one(tmp_path: Path, text: str, name: str = "page.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    (doc,) = read_text(path)
    return doc


def test_scraped_page_metadata(tmp_path: Path) -> None:
    doc = read_one(tmp_path, SCRAPED)
    assert (doc.id, doc.title, doc.journal, doc.year) == (
        "pmid:31000001",
        "A trial of budesonide in mild asthma.",
        "Lancet",
        2019,
    )


def test_scraped_page_ids_from_identifier_pairs(tmp_path: Path) -> None:
    doc = read_one(tmp_path, SCRAPED)
    assert (doc.doi, doc.pmcid) == ("10.1000/trial.2019", "PMC7000001")


def test_scraped_page_authors(tmp_path: Path) -> None:
    assert read_one(tmp_path, SCRAPED).authors == ("Doe, Jane", "Roe, Richard")


def test_chrome_is_not_text(tmp_path: Path) -> None:
    doc = read_one(tmp_path, SCRAPED)
    assert [(s.heading, s.text) for s in doc.sections] == [
        ("Abstract", "Budesonide reduced exacerbations.")
    ]


def test_markdown_headings_make_nested_sections(tmp_path: Path) -> None:
    md = "# Paper title\n\nPMID: 42\n\n## Methods\nWe did.\n### Design\nRandomised.\n"
    md += "## Results\nIt worked.\n"
    doc = read_one(tmp_path, md, "paper.md")
    assert (doc.title, doc.pmid) == ("Paper title", "42")
    assert [s.heading for s in doc.sections] == ["Methods", "Methods > Design", "Results"]


def test_plain_text_without_headings(tmp_path: Path) -> None:
    doc = read_one(tmp_path, "Notes on statins\nStatins lower LDL.\nThey are cheap.\n")
    assert (doc.title, doc.sections[0].text) == (
        "Notes on statins",
        "Statins lower LDL.\nThey are cheap.",
    )


def test_id_is_a_content_hash_without_identifiers(tmp_path: Path) -> None:
    doc = read_one(tmp_path, "Notes on statins\nStatins lower LDL.\n")
    assert doc.id.startswith("hash:") and len(doc.id) == 21


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="empty"):
        read_one(tmp_path, "  \n\n")


def test_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Caf\xe9 au lait".encode("latin-1"))
    with pytest.raises(ReadError, match=r"not UTF-8 text \(byte 0xe9 at offset 3\)"):
        list(read_text(path))


def test_binary_junk(tmp_path: Path) -> None:
    path = tmp_path / "junk.txt"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(ReadError, match="binary data"):
        list(read_text(path))


def test_labelled_title_keeps_a_one_line_body(tmp_path: Path) -> None:
    # Regression (2026-11-21): the body line was taken for the title slot and dropped.
    path = tmp_path / "note.txt"
    path.write_text("PMID: 11111111\nTitle: MDM2 notes\n\nMDM2 amplification predicts HPD.")
    assert next(read_text(path)).sections[0].text == "MDM2 amplification predicts HPD."
