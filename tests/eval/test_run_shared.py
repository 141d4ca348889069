"""Integration: `rag eval` end to end on 20 dev questions over the whole shared corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.compare import EvalError
from eval.run import RunConfig, run
from rag.settings import Settings

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
    assert set(summary["retrieval_by_mode"]) == {"hybrid", "bm25", "dense"}
    assert "answers" not in summary
