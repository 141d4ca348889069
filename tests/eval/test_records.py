"""Result and Summary records against results.jsonl and summary.json as the runner wrote them.

``fixtures/runs/pubmedqa`` holds the first 6 results of a 20-question extractive PubMedQA run
over the shared corpus, and ``fixtures/runs/bioasq_retrieval`` the first 4 of a retrieval-only
BioASQ run scoring every retriever, both written by the dict-based runner of commit fcd5682; each
``summary.json`` is that runner's ``summarize`` over those lines (peak memory set to 1234.5).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from eval.records import AnswerFigures, Confusion, Result, Summary

RUNS = Path(__file__).parent / "fixtures" / "runs"
FOLDERS = ("pubmedqa", "bioasq_retrieval")


def lines(folder: str) -> list[str]:
    return (RUNS / folder / "results.jsonl").read_text().splitlines()


def summary_text(folder: str) -> str:
    return (RUNS / folder / "summary.json").read_text()


@pytest.mark.parametrize("folder", FOLDERS)
def test_results_lines_round_trip_byte_for_byte(folder: str) -> None:
    for line in lines(folder):
        result = Result.from_json(json.loads(line))
        assert json.dumps(result.to_json(), ensure_ascii=False) == line


@pytest.mark.parametrize("folder", FOLDERS)
def test_summary_round_trips_byte_for_byte(folder: str) -> None:
    text = summary_text(folder)
    assert json.dumps(Summary.from_json(json.loads(text)).to_json(), indent=2) + "\n" == text


def test_answered_result_fields() -> None:
    result = Result.from_json(json.loads(lines("pubmedqa")[0]))
    assert result.choice is not None and result.answered is not None
    assert (result.choice.label, result.choice.predicted) == ("yes", "no")
    assert result.answered.supported == (True, True)
    assert result.answered.timings.total_ms == 411.0 and result.retrieve_ms == 26.39


def test_retrieval_only_result_has_no_answer() -> None:
    result = Result.from_json(json.loads(lines("bioasq_retrieval")[0]))
    assert (result.choice, result.answered) == (None, None)
    assert result.retrieved_by_mode is not None and set(result.retrieved_by_mode) == {
        "bm25", "dense",
    }  # fmt: skip
    assert set(result.to_json()["timings"]) == {"retrieve_ms"}


def test_retrieval_only_summary_has_no_answer_blocks() -> None:
    summary = Summary.from_json(json.loads(summary_text("bioasq_retrieval")))
    assert (summary.answers, summary.citations) == (None, None)
    assert "answers" not in summary.to_json()


def test_citations_keep_their_nulls() -> None:
    summary = Summary.from_json(json.loads(summary_text("pubmedqa")))
    assert summary.citations is not None
    blank = replace(summary.citations, precision=None, supported=None)
    assert replace(summary, citations=blank).to_json()["citations"] == {
        "precision": None, "recall": summary.citations.recall, "supported": None,
        "abstention_rate": 0.0, "citations_per_answer": summary.citations.citations_per_answer,
    }  # fmt: skip


def test_unmeasured_answer_figures_are_left_out() -> None:
    assert AnswerFigures(rouge_l=0.25).to_json() == {"rouge_l": 0.25}


def test_answer_figures_keep_the_runners_order() -> None:
    figures = AnswerFigures(0.5, 0.4, "yes", 0.6, Confusion(("yes",), ((3,),)), rouge_l=0.1)
    assert list(figures.to_json()) == [
        "accuracy", "macro_f1", "majority_label", "majority_accuracy", "confusion", "rouge_l",
    ]  # fmt: skip


def test_a_block_of_a_newer_kind_is_kept_after_the_others() -> None:
    data = json.loads(summary_text("bioasq_retrieval"))
    data["grounding"] = {"accuracy": 0.75, "claims": 4}
    summary = Summary.from_json(data)
    assert summary.extra == {"grounding": {"accuracy": 0.75, "claims": 4}}
    assert list(summary.to_json())[-1] == "grounding" and summary.to_json() == data


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"n": "many"}, "n"),
        ({"stamp": {"model": "m"}}, "stamp"),
        ({"retrieval": {"recall@10": "high"}}, "retrieval"),
        ({"answers": {"confusion": {"labels": ["yes", "no"], "matrix": [[1, 0]]}}}, "2 x 2"),
    ],
)
def test_malformed_summary_is_a_value_error(change: dict[str, object], match: str) -> None:
    data = json.loads(summary_text("pubmedqa")) | change
    with pytest.raises(ValueError, match=match):
        Summary.from_json(data)


def test_result_without_timings_is_a_value_error() -> None:
    data = json.loads(lines("bioasq_retrieval")[0])
    del data["timings"]
    with pytest.raises(ValueError, match="timings"):
        Result.from_json(data)


def test_result_with_a_bad_id_list_is_a_value_error() -> None:
    data = json.loads(lines("bioasq_retrieval")[0]) | {"gold_ids": "pmid:1"}
    with pytest.raises(ValueError, match="gold_ids"):
        Result.from_json(data)
