"""report.md and its plots from small hand-made summaries."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from eval.records import Answered, AnswerScores, Result, Summary
from eval.report import CONFUSION_PNG, LATENCY_PNG, RECALL_PNG, write_report
from rag.answer.records import Timings

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
RETRIEVAL = {
    "hit@1": 0.5, "hit@5": 0.75, "hit@10": 0.8, "hit@20": 0.9,
    "recall@1": 0.4, "recall@5": 0.6, "recall@10": 0.7, "recall@20": 0.85,
    "mrr@10": 0.55, "ndcg@10": 0.6,
}  # fmt: skip
STAMP = {
    "index_fingerprint": "fp-1234abcd",
    "model": "SmolLM2-135M-Instruct",
    "mode": "generate",
    "git_commit": "0123456789abcdef",
    "gold": "../shared/gold/pubmedqa/pqal_dev.json",
    "kind": "pubmedqa",
    "created": "2024-05-01T12:00:00Z",
}
SUMMARY_JSON: dict[str, object] = {
    "n": 4,
    "kind": "pubmedqa",
    "retrieval": RETRIEVAL,
    "retrieval_by_mode": {
        "bm25": {**RETRIEVAL, "recall@10": 0.6},
        "dense": {**RETRIEVAL, "recall@10": 0.65},
        "hybrid": RETRIEVAL,
    },
    "answers": {
        "accuracy": 0.5,
        "macro_f1": 0.3333,
        "majority_label": "yes",
        "majority_accuracy": 0.5,
        "confusion": {
            "labels": ["yes", "no", "maybe"],
            "matrix": [[2, 0, 0], [1, 0, 0], [1, 0, 0]],
        },
        "rouge_l": 0.21,
    },
    "citations": {
        "precision": 0.8,
        "recall": 0.6,
        "supported": 0.75,
        "abstention_rate": 0.25,
        "citations_per_answer": 2.5,
    },
    "latency": {
        "retrieve_p50_ms": 12.0,
        "retrieve_p95_ms": 30.5,
        "first_token_p50_ms": 400.0,
        "total_p50_ms": 5200.0,
        "total_p95_ms": 9100.0,
        "peak_rss_mb": 812.3,
    },
    "stamp": STAMP,
}
SUMMARY = Summary.from_json(SUMMARY_JSON)


def answered(total_ms: float) -> Answered:
    return Answered("text", False, (), (), (), Timings(total_ms=total_ms), AnswerScores())


RESULTS = [
    Result(str(i), "q?", "yesno", ("pmid:1",), ("pmid:1",), 10.0 + i,
           answered=answered(5000.0 + 100 * i))
    for i in range(4)
]  # fmt: skip


def test_full_report_writes_markdown_and_valid_pngs(tmp_path: Path) -> None:
    report = write_report(tmp_path / "run", SUMMARY, RESULTS)
    assert report == tmp_path / "run" / "report.md"
    for name in (RECALL_PNG, CONFUSION_PNG, LATENCY_PNG):
        assert (tmp_path / "run" / name).read_bytes().startswith(PNG_MAGIC), name


def test_markdown_embeds_every_figure(tmp_path: Path) -> None:
    text = write_report(tmp_path, SUMMARY, RESULTS).read_text()
    for name in (RECALL_PNG, CONFUSION_PNG, LATENCY_PNG):
        assert f"]({name})" in text


def test_header_carries_the_stamp(tmp_path: Path) -> None:
    text = write_report(tmp_path, SUMMARY, RESULTS).read_text()
    assert all(str(value) in text for key, value in STAMP.items() if key != "mode")


def test_retrieval_table_has_a_column_per_mode(tmp_path: Path) -> None:
    text = write_report(tmp_path, SUMMARY, RESULTS).read_text()
    assert "| recall@10 | 0.700 | 0.600 | 0.650 | 0.700 |" in text


def test_pubmedqa_reference_points_beside_ours(tmp_path: Path) -> None:
    text = write_report(tmp_path, SUMMARY, RESULTS).read_text()
    assert "| litrag (this run) | 50.0 | 33.3 |" in text
    assert "| BioBERT (published) | 68.1 | 52.7 |" in text


def test_confusion_table(tmp_path: Path) -> None:
    text = write_report(tmp_path, SUMMARY, RESULTS).read_text()
    assert "| no | 1 | 0 | 0 |" in text


def test_latency_in_milliseconds(tmp_path: Path) -> None:
    text = write_report(tmp_path, SUMMARY, RESULTS).read_text()
    assert "| peak_rss_mb | 812.3 |" in text


def test_bioasq_run_has_no_pubmedqa_reference(tmp_path: Path) -> None:
    summary = replace(SUMMARY, kind="bioasq", stamp=replace(SUMMARY.stamp, kind="bioasq"))
    assert "BioBERT" not in write_report(tmp_path, summary, RESULTS).read_text()


def retrieval_only() -> Summary:
    return replace(SUMMARY, retrieval_by_mode=None, answers=None, citations=None)


def test_retrieval_only_run_has_no_answer_sections(tmp_path: Path) -> None:
    text = write_report(tmp_path, retrieval_only(), []).read_text()
    assert ("## Retrieval" in text, "## Answers" in text, "## Citations" in text) == (
        True, False, False,
    )  # fmt: skip


def test_retrieval_only_run_draws_only_the_recall_curve(tmp_path: Path) -> None:
    write_report(tmp_path, retrieval_only(), [])
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [RECALL_PNG]


def test_retrieval_only_results_draw_retrieval_latency(tmp_path: Path) -> None:
    results = [replace(r, answered=None) for r in RESULTS]
    write_report(tmp_path, retrieval_only(), results)
    assert (tmp_path / LATENCY_PNG).read_bytes().startswith(PNG_MAGIC)


def test_undefined_citation_figures_show_a_dash(tmp_path: Path) -> None:
    assert SUMMARY.citations is not None
    summary = replace(SUMMARY, citations=replace(SUMMARY.citations, precision=None))
    assert "| precision | — |" in write_report(tmp_path, summary, RESULTS).read_text()


def test_a_block_of_a_newer_kind_gets_a_table(tmp_path: Path) -> None:
    summary = replace(SUMMARY, extra={"grounding": {"accuracy": 0.75, "claims": 4}})
    text = write_report(tmp_path, summary, RESULTS).read_text()
    assert "## grounding" in text and "| accuracy | 0.750 |" in text and "| claims | 4 |" in text


def test_pipes_in_stamp_are_escaped(tmp_path: Path) -> None:
    summary = replace(SUMMARY, stamp=replace(SUMMARY.stamp, model="a|b"))
    assert "| model | a\\|b |" in write_report(tmp_path, summary, RESULTS).read_text()
