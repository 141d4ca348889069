"""Integration: `rag eval` end to end on 20 dev questions over the whole shared corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from base.errors import EvalError
from base.settings import Settings
from eval.records import Result, Summary
from eval.run import RunConfig, run

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pubmedqa_run(
    shared: Path, shared_index: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("pubmedqa_run")
    gold = shared / "gold" / "pubmedqa" / "pqal_dev.json"
    config = RunConfig("pubmedqa", str(gold), str(shared_index), limit=20, mode="extractive")
    run(config, out, Settings())
    return out


def test_summary_has_the_documented_fields(pubmedqa_run: Path) -> None:
    summary = json.loads((pubmedqa_run / "summary.json").read_text())
    assert {"n", "retrieval", "answers", "citations", "latency", "stamp"} <= summary.keys()


def test_summary_counts_twenty_questions(pubmedqa_run: Path) -> None:
    assert json.loads((pubmedqa_run / "summary.json").read_text())["n"] == 20


def test_answer_figures_are_reported(pubmedqa_run: Path) -> None:
    answers = json.loads((pubmedqa_run / "summary.json").read_text())["answers"]
    assert {"accuracy", "macro_f1", "majority_accuracy"} <= answers.keys()


def test_one_result_line_per_question(pubmedqa_run: Path) -> None:
    assert len((pubmedqa_run / "results.jsonl").read_text().splitlines()) == 20


def test_files_read_back_as_the_records_they_were_written_from(pubmedqa_run: Path) -> None:
    for line in (pubmedqa_run / "results.jsonl").read_text().splitlines():
        assert json.dumps(Result.from_json(json.loads(line)).to_json(), ensure_ascii=False) == line
    text = (pubmedqa_run / "summary.json").read_text()
    assert json.dumps(Summary.from_json(json.loads(text)).to_json(), indent=2) + "\n" == text


def test_result_lines_keep_their_keys(pubmedqa_run: Path) -> None:
    first = json.loads((pubmedqa_run / "results.jsonl").read_text().splitlines()[0])
    assert list(first) == [
        "id", "question", "type", "gold_ids", "retrieved", "timings", "label", "predicted",
        "label_scores", "answer", "abstained", "citations", "cited_ids", "warnings", "scores",
        "mode",
    ]  # fmt: skip
    assert first["mode"] in ("generate", "extractive", "abstained")


def test_report_with_plots(pubmedqa_run: Path) -> None:
    report = (pubmedqa_run / "report.md").read_text()
    assert "recall_at_k.png" in report and (pubmedqa_run / "recall_at_k.png").exists()


def test_resumed_run_adds_nothing(pubmedqa_run: Path, shared: Path, shared_index: Path) -> None:
    gold = shared / "gold" / "pubmedqa" / "pqal_dev.json"
    config = RunConfig("pubmedqa", str(gold), str(shared_index), limit=20, mode="extractive")
    (pubmedqa_run / "results.jsonl").open("a").write('{"id": "torn')  # killed mid-write
    run(config, pubmedqa_run, Settings())
    assert len((pubmedqa_run / "results.jsonl").read_text().splitlines()) == 20


def test_other_settings_in_the_same_folder_are_refused(
    pubmedqa_run: Path, shared: Path, shared_index: Path
) -> None:
    gold = shared / "gold" / "pubmedqa" / "pqal_dev.json"
    config = RunConfig("pubmedqa", str(gold), str(shared_index), limit=20, mode="generate")
    with pytest.raises(EvalError, match="other settings"):
        run(config, pubmedqa_run, Settings())


def test_bioasq_retrieval_only_with_single_retrievers(
    shared: Path, shared_index: Path, tmp_path: Path
) -> None:
    gold = shared / "gold" / "bioasq" / "7B1_golden.json"
    config = RunConfig("bioasq", str(gold), str(shared_index), limit=20, retrieval_only=True,
                       all_retrievers=True)  # fmt: skip
    summary = run(config, tmp_path, Settings())
    assert summary.retrieval_by_mode is not None
    assert set(summary.retrieval_by_mode) == {"hybrid", "bm25", "dense"}
    assert "answers" not in json.loads((tmp_path / "summary.json").read_text())


def test_bioasq_exact_answers_are_scored_leniently(
    shared: Path, shared_index: Path, tmp_path: Path
) -> None:
    # The first 13 questions of 7B1: factoid and list questions, then a yes/no one.
    gold = shared / "gold" / "bioasq" / "7B1_golden.json"
    config = RunConfig("bioasq", str(gold), str(shared_index), limit=13, mode="extractive")
    summary = run(config, tmp_path, Settings())
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    results = [json.loads(line) for line in lines]
    for r in results:
        expected = {"factoid": "exact_lenient", "list": "list_recall"}.get(r["type"])
        assert expected is None or expected in r["scores"], r["id"]
    assert summary.answers is not None
    assert summary.answers.exact_lenient is not None and summary.answers.list_recall is not None
    assert summary.answers.confusion is not None  # the yes/no question, labelled yes or no
    assert set(summary.answers.confusion.labels) <= {"yes", "no"}
