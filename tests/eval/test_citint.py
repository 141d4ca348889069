"""``rag eval citint``: the verification metrics on hand-computed cases (and against
scikit-learn), the claim loader on a tiny fixture, the figures and report from hand-made results,
and the real command end to end on 30 Citation-Integrity dev claims."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.metrics import balanced_accuracy_score, roc_auc_score

from base.errors import GoldError
from eval.citint import ClaimResult, verification_figures
from eval.claims import ClaimLabel, citation_form, clean_claim, load_citint
from eval.gold import KINDS, load_claims, load_gold
from eval.metrics import (
    balanced_accuracy,
    calibration_error,
    class_recall,
    precision,
    reliability,
    roc_auc,
)
from eval.records import Latency, Stamp, Summary
from eval.report import CALIBRATION_PNG, write_report
from rag.answer.signals import CitationForm

T, F = True, False
GOLD = [T, T, T, F, F]
PRED = [T, T, F, F, T]
SUMMARY_KEYS = {"balanced_accuracy", "precision_supported", "recall_supported",
                "unsupported_caught", "auc"}  # fmt: skip


# --- Metrics --------------------------------------------------------------------------------------


def test_class_recall_precision_and_balanced_accuracy_by_hand() -> None:
    # Accurate: 3, two judged supported; inaccurate: 2, one caught; judged supported: 3, 2 right.
    assert class_recall(PRED, GOLD, True) == pytest.approx(2 / 3)
    assert class_recall(PRED, GOLD, False) == pytest.approx(1 / 2)
    assert precision(PRED, GOLD) == pytest.approx(2 / 3)
    assert balanced_accuracy(PRED, GOLD) == pytest.approx((2 / 3 + 1 / 2) / 2)


def test_undefined_figures_are_none() -> None:
    assert class_recall([T, T], [T, T], False) is None
    assert precision([F, F], [T, F]) is None
    assert balanced_accuracy([T, F], [T, T]) == 0.5  # one class: its recall alone
    assert balanced_accuracy([], []) is None
    assert roc_auc([0.2, 0.9], [T, T]) is None


def test_metrics_refuse_lists_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="2 predictions for 3 gold labels"):
        precision([T, F], [T, F, T])
    with pytest.raises(ValueError, match="1 scores for 2 gold labels"):
        roc_auc([0.5], [T, F])


def test_roc_auc_by_hand_with_a_tie() -> None:
    # Accurate 0.8 and 0.5, inaccurate 0.5 and 0.2: of the four pairs three are ordered right
    # and one is tied (half) -> 3.5 / 4.
    assert roc_auc([0.8, 0.5, 0.5, 0.2], [T, T, F, F]) == 0.875
    assert roc_auc([0.1, 0.9], [T, F]) == 0.0
    assert roc_auc([0.3, 0.3, 0.3], [T, F, T]) == 0.5


def test_roc_auc_and_balanced_accuracy_agree_with_scikit_learn() -> None:
    rng = random.Random(7)
    gold = [rng.random() < 0.6 for _ in range(500)]
    scores = [round(min(max(rng.gauss(0.6 if g else 0.45, 0.2), 0.0), 1.0), 2) for g in gold]
    pred = [s >= 0.5 for s in scores]
    assert roc_auc(scores, gold) == pytest.approx(roc_auc_score(gold, scores), abs=1e-12)
    assert balanced_accuracy(pred, gold) == pytest.approx(balanced_accuracy_score(gold, pred))


def test_reliability_bins_and_calibration_error_by_hand() -> None:
    bins = reliability([0.05, 0.15, 0.12, 0.95, 1.0], [F, T, F, T, T], bins=10)
    assert [(b.lo, b.hi, b.n, b.positives) for b in bins] == [
        (0.0, 0.1, 1, 0), (0.1, 0.2, 2, 1), (0.9, 1.0, 2, 2),
    ]  # fmt: skip
    assert [b.mean_score for b in bins] == pytest.approx([0.05, 0.135, 0.975])
    # (|0 - 0.05| * 1 + |0.5 - 0.135| * 2 + |1 - 0.975| * 2) / 5
    assert calibration_error(bins) == pytest.approx((0.05 + 0.73 + 0.05) / 5)
    assert calibration_error([]) is None


def test_reliability_refuses_scores_outside_zero_to_one() -> None:
    with pytest.raises(ValueError, match=r"scores in \[0, 1\]"):
        reliability([1.2], [T])


# --- The loader -----------------------------------------------------------------------------------


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


SUPPORT = {"sentences": [0], "label": "SUPPORT"}
REFUTE = {"sentences": [1], "label": "REFUTE"}


@pytest.fixture
def claims_dir(tmp_path: Path) -> Path:
    """Four papers (one without an abstract) and four claims: SUPPORT, REFUTE among two evidence
    entries, two papers without evidence (NEI), and a paper with nothing to read."""
    _jsonl(tmp_path / "corpus.jsonl", [
        {"doc_id": 10, "title": "", "abstract": ["  Drug X lowers blood pressure. ", "", "End."]},
        {"doc_id": 11, "title": "", "abstract": ["Drug Y does nothing."]},
        {"doc_id": 12, "title": "", "abstract": ["Unrelated."]},
        {"doc_id": 13, "title": "", "abstract": ["", "  "]},
    ])  # fmt: skip
    _jsonl(tmp_path / "claims_dev.jsonl", [
        {"id": 1, "claim": "Drug X lowers blood pressure [<|cit|>].",
         "evidence": {"10": [SUPPORT]}, "cited_doc_ids": [10]},
        {"id": 2, "claim": "Drug Y works (Smith et al., 2019)<|multi_cit|>.",
         "evidence": {"11": [SUPPORT, REFUTE]}, "cited_doc_ids": [11]},
        {"id": 3, "claim": "Some context [<|other_cit|>]. Both drugs help[<|multi_cit|>, 4].",
         "evidence": {}, "cited_doc_ids": [10, 12]},
        {"id": 4, "claim": "Nothing to read [<|cit|>].", "evidence": {}, "cited_doc_ids": [13]},
    ])  # fmt: skip
    return tmp_path


def test_loader_maps_labels_strips_markers_and_joins_the_abstract(claims_dir: Path) -> None:
    pairs = load_claims("citint", claims_dir / "claims_dev.jsonl")
    assert [(p.claim_id, p.doc_id, p.label, p.accurate) for p in pairs] == [
        ("1", "10", "SUPPORT", True),
        ("2", "11", "REFUTE", False),  # any REFUTE among the entries refutes
        ("3", "10", "NEI", False),  # cited, no evidence entry
        ("3", "12", "NEI", False),
    ]  # paper 13 has no abstract text: left out
    assert [p.claim for p in pairs[::2]] == [
        "Drug X lowers blood pressure.",
        "Both drugs help.",  # only the sentence with the target citation
    ]
    assert pairs[1].claim == "Drug Y works."
    assert pairs[0].passage == "Drug X lowers blood pressure. End."
    assert pairs[0].source == f"{claims_dir / 'claims_dev.jsonl'}:1"


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("A rises.<|cit|> B falls.", "A rises."),
        ("A rises [<|cit|>, <|other_cit|>] in mice.", "A rises in mice."),
        ("A rises (<|multi_cit|>; 12-14).", "A rises."),
        ("No marker at all [3].", "No marker at all."),
        ("Beds become limiting in waves. [<|cit|>] Next one.", "Beds become limiting in waves."),
    ],
)
def test_clean_claim(text: str, clean: str) -> None:
    assert clean_claim(text) == clean


def test_a_sentence_citing_other_papers_too_claims_the_clause_of_its_target() -> None:
    text = (
        "Cirrhosis impairs innate immunity [<|other_cit|>] with an increased risk of "
        "hospitalization and death [<|multi_cit|>]."
    )
    assert clean_claim(text) == "with an increased risk of hospitalization and death"
    assert citation_form(text) == CitationForm(with_others=True, others=True)
    # A clause too short to assert anything leaves the whole sentence to judge.
    short = "Drug X lowers blood pressure in mice [<|other_cit|>] and rats [<|cit|>]."
    assert clean_claim(short) == "Drug X lowers blood pressure in mice and rats."
    assert citation_form("A rises [<|cit|>].") == CitationForm()


def test_a_cited_paper_missing_from_the_corpus_is_an_error(claims_dir: Path) -> None:
    row = {"id": 9, "claim": "x", "evidence": {}, "cited_doc_ids": [99]}
    path = _jsonl(claims_dir / "claims_bad.jsonl", [row])
    with pytest.raises(GoldError, match=r"claims_bad\.jsonl:1: cited document 99 is not in"):
        list(load_citint(path))


def test_an_unknown_evidence_label_is_an_error(claims_dir: Path) -> None:
    row = {"id": 9, "claim": "x", "evidence": {"10": [{"label": "MAYBE"}]}, "cited_doc_ids": [10]}
    path = _jsonl(claims_dir / "claims_bad.jsonl", [row])
    with pytest.raises(GoldError, match="evidence label 'MAYBE'; expected one of"):
        list(load_citint(path))


def test_questions_and_claims_are_not_mixed(claims_dir: Path) -> None:
    with pytest.raises(GoldError, match="the citint gold kind holds claims, not questions"):
        load_gold("citint", claims_dir / "claims_dev.jsonl")
    with pytest.raises(GoldError, match="the jsonl gold kind holds questions, not claims"):
        load_claims("jsonl", claims_dir / "claims_dev.jsonl")


def test_citint_needs_no_index_and_measures_verification() -> None:
    kind = KINDS["citint"]
    assert (kind.needs_index, kind.holds, kind.measures) == (False, "claims", ("verification",))


# --- Figures and report from hand-made results ----------------------------------------------------


def _result(n: int, label: ClaimLabel, support: float) -> ClaimResult:
    return ClaimResult(claim_id=str(n), claim=f"claim {n}", doc_id=str(100 + n), label=label,
                       support=support, supported=support >= 0.5, evidence="e",
                       verify_ms=10.0 * n)  # fmt: skip


RESULTS = [_result(1, "SUPPORT", 0.9), _result(2, "SUPPORT", 0.7), _result(3, "SUPPORT", 0.3),
           _result(4, "REFUTE", 0.4), _result(5, "NEI", 0.6)]  # fmt: skip


def test_verification_figures_by_hand() -> None:
    f = verification_figures(RESULTS, 0.5, "cheap")
    # Supported: 1, 2, 5 (two accurate); accurate 1, 2, 3 (two supported); inaccurate 4, 5 (one
    # caught); AUC: accurate {0.9, 0.7, 0.3} against {0.4, 0.6}: 4 of 6 pairs ordered right.
    assert (f.recall_supported, f.unsupported_caught, f.precision_supported) == (
        0.6667, 0.5, 0.6667,
    )  # fmt: skip
    assert (f.balanced_accuracy, f.auc) == (0.5833, 0.6667)
    assert (f.accurate, f.inaccurate, f.supported, f.claims) == (3, 2, 3, 5)
    assert dict(f.labels) == {"SUPPORT": 3, "REFUTE": 1, "NEI": 1}
    assert [(b.lo, b.n, b.accurate) for b in f.calibration] == [
        (0.3, 1, 1), (0.4, 1, 0), (0.6, 1, 0), (0.7, 1, 1), (0.9, 1, 1),
    ]  # fmt: skip


def test_a_claim_result_round_trips_through_its_json_line() -> None:
    line = RESULTS[3].to_json()
    assert line["id"] == "4" and line["accurate"] is False
    assert ClaimResult.from_json(json.loads(json.dumps(line))) == RESULTS[3]
    with pytest.raises(ValueError, match="label"):
        ClaimResult.from_json({**line, "label": "MAYBE"})


def test_report_and_summary_of_a_claim_run(tmp_path: Path) -> None:
    stamp = Stamp("", "embedder x", "cheap", "abc", "claims_dev.jsonl", "citint", "2025-01-01")
    summary = Summary(n=5, kind="citint", latency=Latency(verify_p50_ms=30.0), stamp=stamp,
                      verification=verification_figures(RESULTS, 0.5, "cheap"))  # fmt: skip
    data = json.loads(json.dumps(summary.to_json()))
    assert list(data) == ["n", "kind", "verification", "latency", "stamp"]
    assert set(data["verification"]) >= SUMMARY_KEYS
    assert Summary.from_json(data) == summary
    report = write_report(tmp_path, summary, ()).read_text()
    assert "## Verification" in report and f"![Reliability diagram]({CALIBRATION_PNG})" in report
    assert "| balanced_accuracy | 0.583 |" in report
    assert "| claim–cited-paper pairs | 5 |" in report
    assert (tmp_path / CALIBRATION_PNG).read_bytes().startswith(b"\x89PNG")


# --- The command line -----------------------------------------------------------------------------


def rag(*args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "cli.main", *args]
    env = os.environ | {"COLUMNS": "400", "NO_COLOR": "1", "HF_HUB_OFFLINE": "1",
                        "TRANSFORMERS_OFFLINE": "1"}  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                          env=env)  # fmt: skip


def test_split_is_for_claim_sets_only() -> None:
    result = rag("eval", "pubmedqa", "--gold", "g", "--index", "i", "--out", "o", "--split", "x")
    assert result.returncode == 1 and "--split names a claims file" in result.stderr


def test_a_missing_split_lists_the_splits(claims_dir: Path, tmp_path: Path) -> None:
    result = rag("eval", "citint", "--gold", str(claims_dir), "--out", str(tmp_path / "run"),
                 "--split", "claims_test")  # fmt: skip
    assert result.returncode == 1
    assert "the claim splits in" in result.stderr and "claims_dev" in result.stderr


@pytest.mark.integration
def test_the_loader_prepares_pairs_as_the_verifier_was_fitted(shared: Path) -> None:
    # benchmarks/verifier_data.py made the pairs benchmarks/fit_verifier.py reports dev figures
    # on; the eval must read the very same claims, passages and labels.
    from benchmarks.verifier_data import citint

    for split in ("dev", "train"):
        ours = load_claims("citint", shared / "gold" / "citint" / f"claims_{split}.jsonl")
        theirs = citint(split, shared)
        assert [(p.claim, p.passage, int(p.accurate), p.label) for p in ours] == [
            (p.claim, p.passage, p.label, p.kind) for p in theirs
        ]


@pytest.mark.integration
def test_rag_eval_citint_end_to_end(shared: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ("eval", "citint", "--gold", str(shared / "gold" / "citint"), "--out", str(out),
            "--split", "claims_dev", "--limit", "30")  # fmt: skip
    result = rag(*args, timeout=600)
    assert result.returncode == 0, result.stderr

    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(lines) == 30  # every dev claim cites one paper
    assert {"id", "claim", "doc_id", "label", "accurate", "support", "supported"} <= set(lines[0])
    assert all(0 <= r["support"] <= 1 and r["accurate"] == (r["label"] == "SUPPORT")
               for r in lines)  # fmt: skip
    assert "<|" not in "".join(r["claim"] for r in lines)

    summary = json.loads((out / "summary.json").read_text())
    figures = summary["verification"]
    assert summary["n"] == 30 and summary["kind"] == "citint"
    assert set(figures) >= SUMMARY_KEYS
    assert all(0 <= figures[k] <= 1 for k in SUMMARY_KEYS)
    assert figures["accurate"] == sum(r["accurate"] for r in lines)
    assert figures["supported"] == sum(r["supported"] for r in lines)
    assert summary["stamp"]["git_commit"] and summary["stamp"]["index_fingerprint"] == ""
    assert json.loads(result.stdout)["verification"] == figures

    report = (out / "report.md").read_text()
    assert "## Verification" in report and CALIBRATION_PNG in report
    assert (out / CALIBRATION_PNG).read_bytes().startswith(b"\x89PNG")

    # Run again: everything is done, nothing is verified twice, the figures stay.
    again = rag(*args, timeout=600)
    assert again.returncode == 0, again.stderr
    assert len((out / "results.jsonl").read_text().splitlines()) == 30
    assert json.loads((out / "summary.json").read_text())["verification"] == figures
    compared = rag("eval", "compare", str(out), str(out))
    assert compared.returncode == 0 and "verification.auc" in compared.stdout
