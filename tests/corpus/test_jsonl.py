from __future__ import annotations

import json
from pathlib import Path

import pytest

from base.errors import ReadError
from corpus.jsonl import read_jsonl

GOOD = {
    "_id": "17559449",
    "title": "",
    "text": "BACKGROUND: Sweet syrups.\nRESULTS: Erosive.",
    "metadata": {"pmid": "17559449", "year": "2007", "mesh": ["Child", "Sucrose"]},
}


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_beir_record(tmp_path: Path) -> None:
    (doc,) = read_jsonl(write(tmp_path, json.dumps(GOOD)))
    assert (doc.id, doc.year, doc.mesh_terms) == ("pmid:17559449", 2007, ("Child", "Sucrose"))
    assert doc.sections[0].text == "BACKGROUND: Sweet syrups.\nRESULTS: Erosive."


def test_numeric_id_alone_is_not_a_pmid(tmp_path: Path) -> None:
    (doc,) = read_jsonl(write(tmp_path, json.dumps({"_id": "4983", "title": "T", "text": "x"})))
    assert doc.pmid is None


def test_bad_lines_are_reported_after_good_ones(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps(GOOD), "{not json", "[1, 2]", json.dumps({"_id": "x"}))
    got = []
    with pytest.raises(ReadError, match="3 bad JSONL lines skipped") as info:
        got.extend(read_jsonl(path))
    assert len(got) == 1
    assert "line 2" in info.value.reason


def test_no_records(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="no JSONL records"):
        list(read_jsonl(write(tmp_path, "")))


def test_a_record_over_the_limit_is_skipped_and_the_file_reads_on(tmp_path: Path) -> None:
    from base.settings import CorpusSettings
    from corpus import read_stream

    path = tmp_path / "big.jsonl"
    small = {"_id": "1", "title": "Small", "text": "Fine."}
    huge = {"_id": "2", "title": "Huge", "text": "word " * 300_000}  # 1.4 MB
    path.write_text("\n".join(json.dumps(r) for r in (small, huge, {**small, "_id": "3"})) + "\n")
    errors: list[ReadError] = []
    docs = list(read_stream([path], CorpusSettings(max_record_mb=1), errors))
    assert [d.title for d in docs] == ["Small", "Small"]
    (error,) = errors
    assert "line 2" in error.reason and "corpus.max_record_mb" in error.reason
    text = tmp_path / "long.txt"
    text.write_text("Long\n\n" + "word " * 300_000)
    errors = []
    assert list(read_stream([text], CorpusSettings(max_record_mb=1), errors)) == []
    assert "over the 1 MB limit for one record" in errors[0].reason
