"""The claim-verification runner: claim pairs -> results.jsonl -> summary.json -> report.md.

A run on a claim set (``rag eval citint``) asks the citation verifier the answers use
(:func:`rag.answer.pipeline.make_verifier`: the fitted cheap signals, plus the LLM judge or the
cross-encoder when the settings ask for them) whether each cited paper supports its claim: one
:meth:`~rag.answer.verify.Verifier.verify` call per claim, against every paper it cites, the
papers read in batches beforehand (:func:`verify_claims`). No index is read. One JSON line per
claim–cited-paper pair is appended and flushed as each claim is done, so an interrupted run
resumes where it stopped (``run.json`` keeps what it must match). The figures
(:class:`~eval.records.VerificationFigures`) come from the pure functions of :mod:`eval.metrics`.
"""

from __future__ import annotations

import itertools
import json
import resource
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from base.settings import Settings
from eval.claims import ClaimLabel, ClaimPair, claims_file
from eval.gold import load_claims
from eval.metrics import (
    balanced_accuracy,
    calibration_error,
    class_recall,
    percentile,
    precision,
    reliability,
    roc_auc,
)
from eval.records import CalibrationBin, JsonObject, Latency, Stamp, Summary, VerificationFigures
from eval.report import write_report
from eval.resume import resume
from eval.run import git_commit
from rag.answer.engines.base import model_title
from rag.answer.pipeline import make_verifier
from rag.answer.verify import Verifier
from rag.index.embed.embedder import load_embedder
from rag.index.ingest.pipeline import Progress

BINS = 10  # reliability-diagram bins over [0, 1]
# Passages read in one embedder batch: as many as the verifier remembers (rag/answer/verify.py)
# and as benchmarks/fit_verifier.py reads at once. The embedder may run in bfloat16, where a
# text's vector moves a little with the batch around it (support by up to ~0.005 on dev).
PASSAGES_PER_BATCH = 256


@dataclass(frozen=True, slots=True)
class ClaimRunConfig:
    """What a run on claims measures; a resumed run must have the same.

    ``gold`` is the folder with ``corpus.jsonl``; ``split`` names its claims file
    (``claims_dev`` reads ``claims_dev.jsonl``); ``limit`` keeps the first N claims.
    """

    kind: str
    gold: str
    split: str
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """The verifier's verdict on one claim–cited-paper pair (one line of results.jsonl).

    ``support`` is the calibrated probability that the paper supports the claim (rounded to 6
    places), ``supported`` whether it reaches the threshold, ``evidence`` the passage's best
    supporting sentence, ``verify_ms`` the time of the claim's verify call (all its papers) plus
    its share of the batch that read the papers first.
    """

    claim_id: str
    claim: str
    doc_id: str
    label: ClaimLabel
    support: float
    supported: bool
    evidence: str
    verify_ms: float

    @property
    def accurate(self) -> bool:
        """Whether the citation is accurate (gold ``SUPPORT``)."""
        return self.label == "SUPPORT"

    def to_json(self) -> JsonObject:
        """The results.jsonl object (``id`` is the claim's id, ``accurate`` the gold verdict)."""
        return {
            "id": self.claim_id, "claim": self.claim, "doc_id": self.doc_id, "label": self.label,
            "accurate": self.accurate, "support": self.support, "supported": self.supported,
            "evidence": self.evidence, "verify_ms": self.verify_ms,
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ClaimResult:
        """The record a results.jsonl object holds (:class:`ValueError` if it holds none)."""
        given = {f: data.get("id" if f == "claim_id" else f) for f in cls.__dataclass_fields__}
        try:
            return _CLAIM_RESULT.validate_python(given)
        except ValidationError as exc:
            problems = (f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ValueError("; ".join(problems)) from exc


_CLAIM_RESULT = TypeAdapter(ClaimResult)


def run(
    config: ClaimRunConfig, out: Path, settings: Settings, progress: Progress | None = None
) -> Summary:
    """Verify every claim's citations, resuming from ``out`` when it holds part of the same run;
    write results.jsonl, summary.json and report.md there and return the summary."""
    start = time.perf_counter()
    path = claims_file(Path(config.gold), config.split)
    claims = _first_claims(load_claims(config.kind, path), config.limit)
    verifier = make_verifier(load_embedder(settings.embedding), settings)
    stamp = _stamp(config, path, verifier, settings)
    done = _resume(out, config, stamp, settings.answer.support_threshold)
    todo = [pairs for pairs in claims if any((p.claim_id, p.doc_id) not in done for p in pairs)]
    with (out / "results.jsonl").open("a") as sink:
        for i, results in enumerate(verify_claims(verifier, todo), len(claims) - len(todo) + 1):
            for result in results:
                key = (result.claim_id, result.doc_id)
                if key not in done:  # a claim cut off halfway kept its first lines
                    sink.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
                    done[key] = result
            sink.flush()
            if progress:
                progress(i, len(claims))
    if progress and not todo:  # all done in an earlier run
        progress(len(claims), len(claims))
    results = [done[(p.claim_id, p.doc_id)] for pairs in claims for p in pairs]
    summary = Summary(
        n=len(results), kind=config.kind, stamp=stamp,
        verification=verification_figures(results, settings.answer.support_threshold, stamp.mode),
        latency=_latency(results, time.perf_counter() - start),
    )  # fmt: skip
    (out / "summary.json").write_text(json.dumps(summary.to_json(), indent=2) + "\n")
    write_report(out, summary, ())
    return summary


def verify_claims(
    verifier: Verifier, claims: Sequence[Sequence[ClaimPair]]
) -> Iterator[list[ClaimResult]]:
    """Each claim's results, in order. The papers of up to :data:`PASSAGES_PER_BATCH` claims
    are read in one embedder batch first (the verifier remembers them), then each claim is
    verified in a call of its own; its ``verify_ms`` includes its share of the batch."""
    for batch in _batches(claims):
        start = time.perf_counter()
        verifier.passage_views(list(dict.fromkeys(p.passage for pairs in batch for p in pairs)))
        share = (time.perf_counter() - start) * 1000 / len(batch)
        for pairs in batch:
            yield verify_claim(verifier, pairs, share)


def _batches(claims: Sequence[Sequence[ClaimPair]]) -> Iterator[list[Sequence[ClaimPair]]]:
    """The claims in runs citing at most :data:`PASSAGES_PER_BATCH` passages (a claim citing
    more makes a run of its own)."""
    batch: list[Sequence[ClaimPair]] = []
    passages: set[str] = set()
    for pairs in claims:
        new = {p.passage for p in pairs} - passages
        if batch and len(passages) + len(new) > PASSAGES_PER_BATCH:
            yield batch
            batch, passages = [], set()
            new = {p.passage for p in pairs}
        batch.append(pairs)
        passages |= new
    if batch:
        yield batch


def verify_claim(
    verifier: Verifier, pairs: Sequence[ClaimPair], extra_ms: float = 0.0
) -> list[ClaimResult]:
    """The verdicts on one claim's pairs (all the same claim), from one verify call; their
    ``verify_ms`` is the call's time plus ``extra_ms``."""
    start = time.perf_counter()
    verdicts = verifier.verify([pairs[0].claim], [p.passage for p in pairs], forms=[pairs[0].form])[
        0
    ]
    ms = round((time.perf_counter() - start) * 1000 + extra_ms, 2)
    return [
        ClaimResult(
            claim_id=p.claim_id,
            claim=p.claim,
            doc_id=p.doc_id,
            label=p.label,
            support=round(v.support, 6),
            supported=v.supported,
            evidence=p.passage[v.evidence[0] : v.evidence[1]],
            verify_ms=ms,
        )
        for p, v in zip(pairs, verdicts, strict=True)
    ]


def verification_figures(
    results: Sequence[ClaimResult], threshold: float, mix: str
) -> VerificationFigures:
    """The run's figures over ``results`` (fractions rounded to 4 places, ``None`` where a class
    is absent), with the reliability diagram's bins."""
    gold = [r.accurate for r in results]
    pred = [r.supported for r in results]
    support = [r.support for r in results]
    bins = reliability(support, gold, BINS)
    return VerificationFigures(
        balanced_accuracy=_rounded(balanced_accuracy(pred, gold)),
        precision_supported=_rounded(precision(pred, gold)),
        recall_supported=_rounded(class_recall(pred, gold, True)),
        unsupported_caught=_rounded(class_recall(pred, gold, False)),
        auc=_rounded(roc_auc(support, gold)),
        calibration_error=_rounded(calibration_error(bins)),
        threshold=threshold,
        mix=mix,
        accurate=sum(gold),
        inaccurate=len(gold) - sum(gold),
        supported=sum(pred),
        claims=len({r.claim_id for r in results}),
        labels=dict(Counter(r.label for r in results)),
        calibration=tuple(
            CalibrationBin(
                b.lo, b.hi, b.n, b.positives, round(b.mean_score, 4), round(b.positives / b.n, 4)
            )
            for b in bins
        ),
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _first_claims(pairs: Sequence[ClaimPair], limit: int | None) -> list[list[ClaimPair]]:
    """The pairs grouped by claim (a claim's pairs are adjacent), the first ``limit`` claims."""
    groups: Iterator[list[ClaimPair]] = (
        list(g) for _, g in itertools.groupby(pairs, key=lambda p: p.source)
    )
    return list(itertools.islice(groups, limit))


def _stamp(config: ClaimRunConfig, path: Path, verifier: Verifier, settings: Settings) -> Stamp:
    """The stamp of a run on claims: no index; ``model`` names the embedder (and the judges),
    ``mode`` the scores mixed into the support."""
    models = [f"embedder {verifier.embedder.name}"]
    mix = ["cheap"]
    if verifier.judge is not None:
        g = settings.generation
        models.append(f"judge {model_title(g)}")
        mix.append("judge")
    if verifier.cross_encoder is not None:
        models.append(f"cross-encoder {settings.answer.cross_encoder}")
        mix.append("cross_encoder")
    return Stamp(
        index_fingerprint="", model="; ".join(models), mode="+".join(mix),
        git_commit=git_commit(), gold=str(path), kind=config.kind,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )  # fmt: skip


def _latency(results: Sequence[ClaimResult], seconds: float) -> Latency:
    per_claim = list({r.claim_id: r.verify_ms for r in results}.values())
    return Latency(
        verify_p50_ms=percentile(per_claim, 50),
        verify_p95_ms=percentile(per_claim, 95),
        run_s=round(seconds, 1),
        # ru_maxrss is in KiB on Linux
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    )


def _resume(
    out: Path, config: ClaimRunConfig, stamp: Stamp, threshold: float
) -> dict[tuple[str, str], ClaimResult]:
    """Results already in ``out/results.jsonl`` for this run, by (claim id, paper id)."""
    meta = {"config": asdict(config), "model": stamp.model, "mix": stamp.mode,
            "threshold": threshold}  # fmt: skip
    found = resume(out, meta, ClaimResult.from_json, "a litrag claim result")
    return {(r.claim_id, r.doc_id): r for r in found}
