"""Comparing two runs' summaries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.compare import EvalError, compare, flatten, load_summary

A = {
    "n": 10,
    "kind": "pubmedqa",
    "retrieval": {"recall@10": 0.5, "mrr@10": 0.25},
    "answers": {"accuracy": 0.4, "confusion": {"labels": ["yes"], "matrix": [[4]]}},
    "citations": {"precision": None},
    "stamp": {"model": "m1"},
}
B = {
    "n": 10,
    "kind": "pubmedqa",
    "retrieval": {"recall@10": 0.75, "mrr@10": 0.25},
    "citations": {"precision": 0.5},
    "latency": {"total_p50_ms": 100, "cached": True},
    "stamp": {"model": "m2"},
}


def test_flatten_keeps_numeric_leaves_with_dotted_keys() -> None:
    assert dict(flatten(A)) == {
        "n": 10.0, "retrieval.recall@10": 0.5, "retrieval.mrr@10": 0.25, "answers.accuracy": 0.4,
    }  # fmt: skip


def test_compare_rows() -> None:
    assert compare(A, B) == [
        ("n", 10.0, 10.0, 0.0),
        ("retrieval.recall@10", 0.5, 0.75, 0.25),
        ("retrieval.mrr@10", 0.25, 0.25, 0.0),
        ("answers.accuracy", 0.4, None, None),
        ("citations.precision", None, 0.5, None),
        ("latency.total_p50_ms", None, 100.0, None),
    ]


def test_compare_with_itself_changes_nothing() -> None:
    assert all(delta == 0.0 for _, _, _, delta in compare(B, B))


def test_booleans_are_not_numbers() -> None:
    assert "latency.cached" not in dict(flatten(B))


def save(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(text)
    return folder


def test_load_summary_round_trip(tmp_path: Path) -> None:
    assert load_summary(save(tmp_path / "run", json.dumps(A))) == A


def test_load_summary_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(EvalError, match=r"nowhere: no such run folder"):
        load_summary(tmp_path / "nowhere")


def test_load_summary_missing_file(tmp_path: Path) -> None:
    with pytest.raises(EvalError, match=r"summary\.json: missing"):
        load_summary(tmp_path)


def test_load_summary_invalid_json(tmp_path: Path) -> None:
    with pytest.raises(EvalError, match=r"summary\.json: not valid JSON"):
        load_summary(save(tmp_path, "{"))


def test_load_summary_not_an_object(tmp_path: Path) -> None:
    with pytest.raises(EvalError, match=r"summary\.json: expected a JSON object, found list"):
        load_summary(save(tmp_path, "[1]"))
