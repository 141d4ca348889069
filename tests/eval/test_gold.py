from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.gold import GoldError, load_bioasq

ENTRY = {
    "id": "q1",
    "body": "Is X a Y?",
    "type": "yesno",
    "documents": [
        "http://www.ncbi.nlm.nih.gov/pubmed/123",
        "http://www.ncbi.nlm.nih.gov/pubmed/456",
    ],
    "ideal_answer": ["Yes, X is a Y."],
    "exact_answer": "yes",
}


def write(tmp_path: Path, data: object, name: str = "1B1_golden.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_bioasq_question(tmp_path: Path) -> None:
    (q,) = load_bioasq(write(tmp_path, {"questions": [ENTRY]}))
    assert (q.id, q.type, q.gold_ids, q.ideal_answer, q.exact_answer) == (
        "q1", "yesno", ("pmid:123", "pmid:456"), "Yes, X is a Y.", ("yes",),
    )  # fmt: skip


def test_nested_exact_answers_are_flattened(tmp_path: Path) -> None:
    entry = {**ENTRY, "type": "list", "exact_answer": [["a", "A"], ["b"]]}
    (q,) = load_bioasq(write(tmp_path, {"questions": [entry]}))
    assert q.exact_answer == ("a", "A", "b")


def test_folder_of_files(tmp_path: Path) -> None:
    write(tmp_path, {"questions": [ENTRY]}, "a.json")
    write(tmp_path, {"questions": [ENTRY, ENTRY]}, "b.json")
    assert len(list(load_bioasq(tmp_path))) == 3


def test_malformed_entry_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, {"questions": [ENTRY, {"type": "yesno"}]})
    with pytest.raises(GoldError, match=r"1B1_golden\.json#1: a question needs a 'body'"):
        list(load_bioasq(path))


def test_not_a_golden_file(tmp_path: Path) -> None:
    with pytest.raises(GoldError, match="not a BioASQ golden file"):
        list(load_bioasq(write(tmp_path, [1, 2])))
