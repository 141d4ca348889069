"""ui.library: upload limits with clear messages, and the document listing over a real store."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from corpus.model import Section, build_document
from rag.index.backends.local.store import Store
from ui.library import check_uploads


def test_uploads_of_the_wrong_type_or_size_are_refused_with_reasons(tmp_path: Path) -> None:
    ok = tmp_path / "paper.nbib"
    ok.write_text("PMID- 1\nTI  - A title.\n")
    word = tmp_path / "notes.docx"
    word.write_bytes(b"PK\x03\x04")
    bare = tmp_path / "README"
    bare.write_text("text")
    big = tmp_path / "big.pdf"
    big.write_bytes(b"%PDF-" + b"0" * (2 * 2**20))
    accepted, problems = check_uploads([ok, word, bare, big], max_mb=1)
    assert accepted == [ok]
    assert problems[0].startswith("notes.docx: .docx files are not accepted; upload PDF (.pdf)")
    assert problems[1].startswith("README: files without an extension are not accepted")
    assert problems[2] == (
        "big.pdf: 2.0 MB is over the 1 MB upload limit (rag serve --max-upload-mb)"
    )


def test_every_reader_format_is_accepted(tmp_path: Path) -> None:
    names = ["a.pdf", "b.xml", "c.nxml", "d.nbib", "e.txt", "f.jsonl", "g.xml.gz", "h.MD"]
    paths = [tmp_path / n for n in names]
    for p in paths:
        p.write_text("x")
    assert check_uploads(paths, max_mb=1) == (paths, [])


def test_list_documents_newest_first_filtered_with_counts(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.sqlite")
    for pmid, title, journal in [
        ("1", "Aspirin and adenoma", "Br J Cancer"),
        ("2", "MDM2 and immunotherapy", "J Biomed Sci"),
        ("3", "Another aspirin trial", None),
    ]:
        doc = build_document(
            title=title, sections=[Section("Abstract", f"{title}.")],
            source_path=f"/tmp/upload/{pmid}.nbib", format="medline", pmid=pmid,
            journal=journal, year=2000 + int(pmid),
        )  # fmt: skip
        store.add(doc, [], np.zeros((0, 4), dtype=np.float32))
    rows, total = store.list_documents()
    assert [r.id for r in rows] == ["pmid:3", "pmid:2", "pmid:1"] and total == 3
    assert (rows[1].journal, rows[1].year, rows[1].format, rows[1].source) == (
        "J Biomed Sci", 2002, "medline", "2.nbib",
    )  # fmt: skip
    rows, total = store.list_documents("aspirin", limit=1)
    assert [r.id for r in rows] == ["pmid:3"] and total == 2
    assert store.list_documents("biomed sci")[1] == 1
    assert store.list_documents(None) == store.list_documents("")


def test_a_text_upload_over_the_record_limit_is_refused_before_ingest(tmp_path: Path) -> None:
    big, small, lines = tmp_path / "big.txt", tmp_path / "small.md", tmp_path / "many.jsonl"
    big.write_bytes(b"word " * 300_000)  # 1.4 MB: one record
    small.write_text("Title\n\nText.\n")
    lines.write_bytes(b"word " * 300_000)  # JSONL: the reader skips long lines itself
    accepted, problems = check_uploads([big, small, lines], max_mb=50, max_record_mb=1)
    assert accepted == [small, lines]
    assert len(problems) == 1 and "big.txt" in problems[0] and "corpus.max_record_mb" in problems[0]
