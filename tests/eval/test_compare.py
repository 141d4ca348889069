"""Comparing two runs' summaries, including summary.json files the dict-based runner wrote."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from base.errors import EvalError
from eval.compare import compare, flatten, load_summary
from eval.records import AnswerFigures, Confusion, Latency, Stamp, Summary

RUNS = Path(__file__).parent / "fixtures" / "runs"
STAMP = Stamp("fp", "m1", "generate", "abc", "gold.json", "pubmedqa", "2026-01-01T00:00:00")
A = Summary(
    n=10,
    kind="pubmedqa",
    retrieval={"recall@10": 0.5, "mrr@10": 0.25},
    answers=AnswerFigures(accuracy=0.4, confusion=Confusion(("yes",), ((4,),))),
    latency=Latency(),
    stamp=STAMP,
)
B = Summary(
    n=10,
    kind="pubmedqa",
    retrieval={"recall@10": 0.75, "mrr@10": 0.25},
    latency=Latency(total_p50_ms=100),
    stamp=replace(STAMP, model="m2"),
)


def test_flatten_keeps_numeric_leaves_with_dotted_keys() -> None:
    assert dict(flatten(A.to_json())) == {
        "n": 10.0, "retrieval.recall@10": 0.5, "retrieval.mrr@10": 0.25, "answers.accuracy": 0.4,
    }  # fmt: skip


def test_flatten_skips_booleans() -> None:
    assert dict(flatten({"cached": True, "x": 1})) == {"x": 1.0}


def test_compare_rows() -> None:
    assert compare(A, B) == [
        ("n", 10.0, 10.0, 0.0),
        ("retrieval.recall@10", 0.5, 0.75, 0.25),
        ("retrieval.mrr@10", 0.25, 0.25, 0.0),
        ("answers.accuracy", 0.4, None, None),
        ("latency.total_p50_ms", None, 100.0, None),
    ]


def test_compare_with_itself_changes_nothing() -> None:
    assert all(delta == 0.0 for _, _, _, delta in compare(B, B))


def test_runs_written_by_the_dict_based_runner() -> None:
    pubmedqa, bioasq = load_summary(RUNS / "pubmedqa"), load_summary(RUNS / "bioasq_retrieval")
    rows = {key: (a, b, d) for key, a, b, d in compare(pubmedqa, bioasq)}
    assert rows["n"] == (6.0, 4.0, -2.0)
    assert rows["retrieval.mrr@10"] == (0.8542, 1.0, pytest.approx(0.1458))
    assert rows["answers.accuracy"] == (0.5, None, None)
    assert rows["retrieval_by_mode.bm25.recall@10"][0] is None


def test_undefined_citation_figure_is_not_compared() -> None:
    summary = load_summary(RUNS / "pubmedqa")
    assert summary.citations is not None
    blank = replace(summary, citations=replace(summary.citations, precision=None))
    assert ("citations.precision", None, 0.3611, None) in compare(blank, summary)


def test_a_block_of_a_newer_kind_is_compared() -> None:
    newer = replace(B, extra={"grounding": {"accuracy": 0.8}})
    assert ("grounding.accuracy", None, 0.8, None) in compare(B, newer)


def save(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(text)
    return folder


def test_load_summary_round_trip(tmp_path: Path) -> None:
    assert load_summary(save(tmp_path / "run", json.dumps(A.to_json()))) == A


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


def test_load_summary_not_a_run_summary_names_the_field(tmp_path: Path) -> None:
    with pytest.raises(EvalError, match=r"summary\.json: not a litrag run summary .*stamp"):
        load_summary(save(tmp_path, json.dumps({"n": 3, "kind": "jsonl", "latency": {}})))
