"""The evaluation runner: gold questions -> results.jsonl -> summary.json -> report.md.

Each question is retrieved (hybrid; BM25 and dense too with ``all_retrievers``, and the fused
first stage apart from the reranked hits when ``retrieval.reranker`` is set), labelled by the
LLM's constrained choice when it has a yes/no(/maybe) label, and answered by the pipeline unless
the run is retrieval-only. One JSON line per question is appended and flushed as it is done, so
an interrupted run resumes where it stopped (``run.json`` keeps the settings it must match).
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

from base.settings import Settings
from eval.gold import GoldQuestion, gold_kind, load_gold
from eval.records import Answered, LabelChoice, Result, RunConfig, Stamp, Summary
from eval.report import write_report
from eval.resume import resume
from eval.summarize import KS, score_answer, summarize
from rag.answer.engines import load_backend
from rag.answer.pipeline import Pipeline, to_source
from rag.answer.prompts import label_messages
from rag.answer.records import Timings
from rag.index.ingest.pipeline import Progress
from rag.retrieve.hybrid import Mode

__all__ = ["RunConfig", "evaluate", "run"]

_SINGLE: tuple[tuple[str, Mode], ...] = (("bm25", "sparse"), ("dense", "dense"))


def run(
    config: RunConfig, out: Path, settings: Settings, progress: Progress | None = None
) -> Summary:
    """Evaluate, resuming from ``out`` when it holds part of the same run; the summary."""
    questions = load_gold(config.kind, Path(config.gold))[: config.limit]
    pipeline = Pipeline.open(config.index, settings)
    stamp = _stamp(config, pipeline)
    done = _resume(out, config, stamp.index_fingerprint)
    with (out / "results.jsonl").open("a") as sink:
        for i, q in enumerate(questions):
            if q.id not in done:
                result = evaluate(q, pipeline, config)
                sink.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
                sink.flush()
                done[q.id] = result
            if progress:
                progress(i + 1, len(questions))
    results = [done[q.id] for q in questions if q.id in done]
    summary = summarize(results, config, stamp)
    (out / "summary.json").write_text(json.dumps(summary.to_json(), indent=2) + "\n")
    write_report(out, summary, results)
    return summary


def evaluate(q: GoldQuestion, pipeline: Pipeline, config: RunConfig) -> Result:
    """One question's record: retrieval, label, answer, citations, scores, timings."""
    start = time.perf_counter()
    hits = pipeline.retriever.search(q.question, max(KS))
    retrieve_ms = round((time.perf_counter() - start) * 1000, 2)
    by_mode = None
    if config.all_retrievers:
        by_mode = {
            name: tuple(h.doc_id for h in pipeline.retriever.search(q.question, max(KS), mode=m))
            for name, m in _SINGLE
        }
        if pipeline.retriever.reranker is not None:  # the first stage, then the reranked one
            fused = pipeline.retriever.search(q.question, max(KS), rerank=False)
            by_mode |= {"fused": tuple(h.doc_id for h in fused),
                        "reranked": tuple(h.doc_id for h in hits)}  # fmt: skip
    result = Result(id=q.id, question=q.question, type=q.type, gold_ids=q.gold_ids,
                    retrieved=tuple(h.doc_id for h in hits), retrieve_ms=retrieve_ms,
                    retrieved_by_mode=by_mode)  # fmt: skip
    if config.retrieval_only:
        return result
    choice = None
    if q.label:
        labels = gold_kind(config.kind).labels
        sources = [to_source(i, h) for i, h in enumerate(hits[:3], start=1)]
        scores = load_backend(pipeline.settings.generation).option_scores(
            label_messages(q.question, sources, labels), labels
        )
        choice = LabelChoice(q.label, labels[scores.index(max(scores))],
                             dict(zip(labels, scores, strict=True)))  # fmt: skip
    answer = pipeline.ask(q.question, mode=config.mode)
    answered = Answered(
        answer=answer.answer, abstained=answer.abstained,
        citations=tuple(c.to_json() for c in answer.citations),
        cited_ids=tuple(dict.fromkeys(c.source.doc_id for c in answer.citations)),
        warnings=answer.warnings,
        # Rounded as results.jsonl keeps them, so a resumed run's figures match a fresh one's.
        timings=Timings(**answer.timings.to_json()),
        scores=score_answer(q, answer.answer),
        mode="abstained" if answer.abstained else answer.mode,
    )  # fmt: skip
    return replace(result, choice=choice, answered=answered)


def git_commit() -> str:
    """The commit of the checkout this code runs from ("unknown" outside a git checkout)."""
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _stamp(config: RunConfig, pipeline: Pipeline) -> Stamp:
    return Stamp(
        index_fingerprint=pipeline.retriever.index.manifest.fingerprint,
        model="" if config.retrieval_only else pipeline.model_name,
        mode=config.mode, git_commit=git_commit(), gold=config.gold, kind=config.kind,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )  # fmt: skip


def _resume(out: Path, config: RunConfig, fingerprint: str) -> dict[str, Result]:
    """Results already in ``out/results.jsonl`` for this run, by question id."""
    meta = {"config": asdict(config), "index_fingerprint": fingerprint}
    return {r.id: r for r in resume(out, meta, Result.from_json, "a litrag result")}
