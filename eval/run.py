"""The evaluation runner: gold questions -> results.jsonl -> summary.json -> report.md.

Each question is retrieved (hybrid; BM25 and dense too with ``all_retrievers``), labelled by the
LLM's constrained choice when it has a yes/no(/maybe) label, and answered by the pipeline unless
the run is retrieval-only. One JSON line per question is appended and flushed as it is done, so
an interrupted run resumes where it stopped (``run.json`` keeps the settings it must match).
"""

from __future__ import annotations

import json
import resource
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval.compare import EvalError
from eval.gold import LABELS, GoldQuestion, load_gold
from eval.metrics import (
    accuracy,
    citation_precision_recall,
    confusion,
    hit_at_k,
    macro_f1,
    majority_baseline,
    mean,
    mrr_at_k,
    ndcg_at_k,
    normalize_answer,
    percentile,
    recall_at_k,
    rouge_l,
)
from eval.report import write_report
from rag.answer import AnswerMode
from rag.generation import load_backend
from rag.pipeline import Pipeline, to_source
from rag.prompts import label_messages
from rag.retrieval import Mode
from rag.settings import Settings

KS = (1, 5, 10, 20)
_SINGLE: tuple[tuple[str, Mode], ...] = (("bm25", "sparse"), ("dense", "dense"))
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class RunConfig:
    """What a run measures; a resumed run must have the same."""

    kind: str
    gold: str
    index: str
    limit: int | None = None
    retrieval_only: bool = False
    all_retrievers: bool = False
    mode: AnswerMode = "generate"
    model: str = ""


def run(
    config: RunConfig, out: Path, settings: Settings, progress: Progress | None = None
) -> dict[str, Any]:
    """Evaluate, resuming from ``out`` when it holds part of the same run; the summary."""
    questions = load_gold(config.kind, Path(config.gold))[: config.limit]
    pipeline = Pipeline.open(Path(config.index), settings)
    stamp = _stamp(config, pipeline)
    done = _resume(out, config, stamp["index_fingerprint"])
    with (out / "results.jsonl").open("a") as sink:
        for i, q in enumerate(questions):
            if q.id not in done:
                record = evaluate(q, pipeline, config)
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                sink.flush()
                done[q.id] = record
            if progress:
                progress(i + 1, len(questions))
    results = [done[q.id] for q in questions if q.id in done]
    summary = summarize(results, config, stamp)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    write_report(out, summary, results)
    return summary


def evaluate(q: GoldQuestion, pipeline: Pipeline, config: RunConfig) -> dict[str, Any]:
    """One question's record: retrieval, label, answer, citations, scores, timings."""
    start = time.perf_counter()
    hits = pipeline.retriever.search(q.question, max(KS))
    record: dict[str, Any] = {
        "id": q.id, "question": q.question, "type": q.type, "gold_ids": list(q.gold_ids),
        "retrieved": [h.doc_id for h in hits],
        "timings": {"retrieve_ms": round((time.perf_counter() - start) * 1000, 2)},
    }  # fmt: skip
    if config.all_retrievers:
        record["retrieved_by_mode"] = {
            name: [h.doc_id for h in pipeline.retriever.search(q.question, max(KS), mode=mode)]
            for name, mode in _SINGLE
        }
    if config.retrieval_only:
        return record
    if q.label:
        labels = LABELS if config.kind != "bioasq" else ("yes", "no")
        sources = [to_source(i, h) for i, h in enumerate(hits[:3], start=1)]
        scores = load_backend(pipeline.settings.generation).option_scores(
            label_messages(q.question, sources, labels), labels
        )
        record |= {"label": q.label, "predicted": labels[scores.index(max(scores))],
                   "label_scores": dict(zip(labels, scores, strict=True))}  # fmt: skip
    answer = pipeline.ask(q.question, mode=config.mode)
    record |= {
        "answer": answer.answer, "abstained": answer.abstained,
        "citations": [c.to_json() for c in answer.citations],
        "cited_ids": list(dict.fromkeys(c.source.doc_id for c in answer.citations)),
        "warnings": list(answer.warnings),
    }  # fmt: skip
    record["timings"] |= {k: v for k, v in answer.timings.to_json().items() if k != "retrieve_ms"}
    record["scores"] = _answer_scores(q, answer.answer)
    return record


def _answer_scores(q: GoldQuestion, answer: str) -> dict[str, float]:
    scores: dict[str, float] = {}
    if q.ideal_answer:
        scores["rouge_l"] = rouge_l(answer, q.ideal_answer)
    if q.type in ("factoid", "list") and q.exact_groups:
        # Lenient by containment: an answer names a gold item when one of its synonyms occurs in
        # the answer's normalised text (free-text answers have no ranked candidate list).
        text = f" {normalize_answer(answer)} "
        found = [any(f" {normalize_answer(s)} " in text for s in g) for g in q.exact_groups]
        scores["exact_lenient" if q.type == "factoid" else "list_recall"] = (
            float(any(found)) if q.type == "factoid" else mean([float(f) for f in found])
        )
    return scores


def summarize(
    results: Sequence[dict[str, Any]], config: RunConfig, stamp: dict[str, Any]
) -> dict[str, Any]:
    """The run's figures over ``results``."""
    summary: dict[str, Any] = {"n": len(results), "kind": config.kind,
                               "retrieval": _retrieval(results, "retrieved")}  # fmt: skip
    if config.all_retrievers:
        summary["retrieval_by_mode"] = {
            "hybrid": summary["retrieval"],
            **{m: _retrieval([{**r, "retrieved": r["retrieved_by_mode"][m]} for r in results],
                             "retrieved") for m in ("bm25", "dense")},
        }  # fmt: skip
    if not config.retrieval_only:
        summary["answers"] = _answers(results)
        summary["citations"] = _citations(results)
    summary["latency"] = _latency(results)
    summary["stamp"] = stamp
    return summary


def _retrieval(results: Sequence[dict[str, Any]], key: str) -> dict[str, float]:
    scored = [r for r in results if r["gold_ids"]]
    out: dict[str, float] = {}
    for k in KS:
        out[f"hit@{k}"] = mean([hit_at_k(r[key], r["gold_ids"], k) for r in scored])
        out[f"recall@{k}"] = mean([recall_at_k(r[key], r["gold_ids"], k) for r in scored])
    out["mrr@10"] = mean([mrr_at_k(r[key], r["gold_ids"], 10) for r in scored])
    out["ndcg@10"] = mean([ndcg_at_k(r[key], r["gold_ids"], 10) for r in scored])
    return {k: round(v, 4) for k, v in out.items()}


def _answers(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    labelled = [r for r in results if "label" in r]
    out: dict[str, Any] = {}
    if labelled:
        gold, pred = [r["label"] for r in labelled], [r["predicted"] for r in labelled]
        labels = [x for x in LABELS if x in gold or x in pred]
        majority, majority_acc = majority_baseline(gold)
        out |= {
            "accuracy": accuracy(pred, gold), "macro_f1": macro_f1(pred, gold, labels),
            "majority_label": majority, "majority_accuracy": majority_acc,
            "confusion": {"labels": labels, "matrix": confusion(pred, gold, labels)},
        }  # fmt: skip
    for key in ("rouge_l", "exact_lenient", "list_recall"):
        values = [r["scores"][key] for r in results if key in r.get("scores", {})]
        if values:
            out[key] = mean(values)
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def _citations(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    precision, recall = [], []
    for r in results:
        p, rc = citation_precision_recall(r.get("cited_ids", []), r["gold_ids"])
        if p is not None:
            precision.append(p)
        if rc is not None:
            recall.append(rc)
    cites = [c for r in results for c in r.get("citations", [])]
    out = {
        "precision": mean(precision) if precision else None,
        "recall": mean(recall) if recall else None,
        "supported": mean([float(c["supported"]) for c in cites]) if cites else None,
        "abstention_rate": mean([float(r.get("abstained", False)) for r in results]),
        "citations_per_answer": len(cites) / max(len(results), 1),
    }
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def _latency(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    def values(key: str) -> list[float]:
        return [float(r["timings"][key]) for r in results if r["timings"].get(key) is not None]

    out: dict[str, Any] = {
        "retrieve_p50_ms": percentile(values("retrieve_ms"), 50),
        "retrieve_p95_ms": percentile(values("retrieve_ms"), 95),
        "first_token_p50_ms": percentile(values("first_token_ms"), 50),
        "total_p50_ms": percentile(values("total_ms"), 50),
        "total_p95_ms": percentile(values("total_ms"), 95),
        # ru_maxrss is in KiB on Linux
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    return {k: v for k, v in out.items() if v is not None}


def _stamp(config: RunConfig, pipeline: Pipeline) -> dict[str, Any]:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "index_fingerprint": pipeline.retriever.index.manifest.fingerprint,
        "model": "" if config.retrieval_only else pipeline.model_name,
        "mode": config.mode, "git_commit": commit, "gold": config.gold, "kind": config.kind,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }  # fmt: skip


def _resume(out: Path, config: RunConfig, fingerprint: str) -> dict[str, dict[str, Any]]:
    """Records already in ``out/results.jsonl`` for this run (a torn last line is dropped)."""
    out.mkdir(parents=True, exist_ok=True)
    meta = {"config": asdict(config), "index_fingerprint": fingerprint}
    saved = out / "run.json"
    if saved.exists() and json.loads(saved.read_text()) != meta:
        raise EvalError(f"{out} holds a run with other settings ({saved}); choose another --out")
    saved.write_text(json.dumps(meta, indent=2) + "\n")
    results, good = out / "results.jsonl", []
    done: dict[str, dict[str, Any]] = {}
    if results.exists():
        for line in results.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                break  # killed while writing: keep what came before
            done[record["id"]] = record
            good.append(line)
        results.write_text("".join(f"{line}\n" for line in good))
    return done
