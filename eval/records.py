"""What an evaluation run is and writes: :class:`RunConfig`, one :class:`Result` per question and
the run's :class:`Summary` (with :class:`VerificationFigures` for a run on claims, eval.citint).

These are the seam between the runner (:mod:`eval.run`), the figures (:mod:`eval.summarize`), the
report (:mod:`eval.report`) and the comparison (:mod:`eval.compare`). ``Result.to_json`` is one
line of ``results.jsonl`` and ``Summary.to_json`` is ``summary.json``: other tools read both, so
their keys and shapes stay as they were when the runner wrote plain dicts. ``from_json`` reads
them back (a resumed run's results, an older run's summary) and raises :class:`ValueError` naming
the fields at fault when the JSON is not such a record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

from pydantic import JsonValue, TypeAdapter, ValidationError

from rag.answer.records import AnswerMode, Timings

JsonObject = dict[str, JsonValue]
_T = TypeVar("_T")


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


# --- One question ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LabelChoice:
    """The LLM's constrained pick for a question with a yes/no(/maybe) gold ``label``.

    ``scores`` holds each choice's score (written as ``label_scores``); ``predicted`` is the best.
    """

    label: str
    predicted: str
    scores: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class AnswerScores:
    """How one answer scored against the gold answer; ``None`` where the gold has nothing to score.

    ``rouge_l`` against the ideal answer; ``exact_lenient`` (factoid) and ``list_recall`` (list)
    against BioASQ exact answers, by :func:`eval.metrics.factoid_lenient` and
    :func:`eval.metrics.list_recall`.
    """

    rouge_l: float | None = None
    exact_lenient: float | None = None
    list_recall: float | None = None

    def to_json(self) -> dict[str, float]:
        """The scores there are (an empty object when none)."""
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True, slots=True)
class Answered:
    """What the pipeline answered to one question, and how it scored.

    ``citations`` are kept as :meth:`rag.answer.records.Citation.to_json` wrote them: whole, for
    readers of results.jsonl (a resumed run reads them back from there, and the JSON does not hold
    all of a :class:`~rag.answer.records.Source`). ``timings`` are the answer's, rounded as
    ``Timings.to_json`` rounds them, so a resumed run scores as a fresh one; their
    ``retrieve_ms`` is not written (:attr:`Result.retrieve_ms` is).
    """

    answer: str
    abstained: bool
    citations: tuple[JsonObject, ...]
    cited_ids: tuple[str, ...]
    warnings: tuple[str, ...]
    timings: Timings
    scores: AnswerScores
    # How the answer was given: generate (kept at least one generated sentence), extractive or
    # abstained; "" in results written before the field existed.
    mode: str = ""

    @property
    def supported(self) -> tuple[bool, ...]:
        """Whether each citation's passage supports the sentences citing it."""
        return tuple(c.get("supported") is True for c in self.citations)


@dataclass(frozen=True, slots=True)
class Result:
    """One gold question's outcome: what was retrieved, picked and answered (one results line).

    ``retrieved_by_mode`` (BM25 and dense alone) is there when the run scores every retriever,
    ``choice`` when the question has a label and the run answers, ``answered`` unless the run is
    retrieval-only.
    """

    id: str
    question: str
    type: str
    gold_ids: tuple[str, ...]
    retrieved: tuple[str, ...]
    retrieve_ms: float
    retrieved_by_mode: Mapping[str, tuple[str, ...]] | None = None
    choice: LabelChoice | None = None
    answered: Answered | None = None

    def to_json(self) -> JsonObject:
        """The results.jsonl object: keys in the order the runner has always written them."""
        timings: JsonObject = {"retrieve_ms": self.retrieve_ms}
        if self.answered is not None:
            answer_timings = self.answered.timings.to_json()
            timings |= {k: v for k, v in answer_timings.items() if k != "retrieve_ms"}
        out: JsonObject = {
            "id": self.id, "question": self.question, "type": self.type,
            "gold_ids": list(self.gold_ids), "retrieved": list(self.retrieved), "timings": timings,
        }  # fmt: skip
        if self.retrieved_by_mode is not None:
            out["retrieved_by_mode"] = {m: list(ids) for m, ids in self.retrieved_by_mode.items()}
        if self.choice is not None:
            out |= {"label": self.choice.label, "predicted": self.choice.predicted,
                    "label_scores": dict(self.choice.scores)}  # fmt: skip
        if self.answered is not None:
            a = self.answered
            out |= {
                "answer": a.answer, "abstained": a.abstained,
                "citations": [dict(c) for c in a.citations], "cited_ids": list(a.cited_ids),
                "warnings": list(a.warnings), "scores": dict(a.scores.to_json()),
            }  # fmt: skip
            if a.mode:
                out["mode"] = a.mode
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Result:
        """The record a results.jsonl object holds (:class:`ValueError` if it holds none)."""
        timings = data.get("timings")
        if not isinstance(timings, Mapping):
            raise ValueError("'timings' must be an object")
        given: dict[str, Any] = {
            key: data.get(key) for key in ("id", "question", "type", "gold_ids", "retrieved")
        }
        given["retrieve_ms"] = timings.get("retrieve_ms")
        given["retrieved_by_mode"] = data.get("retrieved_by_mode")
        if "label" in data:
            given["choice"] = {"label": data["label"], "predicted": data.get("predicted"),
                                "scores": data.get("label_scores")}  # fmt: skip
        if "answer" in data:
            keys = ("answer", "abstained", "citations", "cited_ids", "warnings", "scores")
            given["answered"] = {k: data.get(k) for k in keys} | {
                "timings": timings, "mode": data.get("mode", "")}  # fmt: skip
        return _validate(_RESULT, given)


# --- A run ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Confusion:
    """Counts with one row per gold label and one column per predicted label, in ``labels``
    order (a square matrix, checked)."""

    labels: tuple[str, ...]
    matrix: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        size = len(self.labels)
        if len(self.matrix) != size or any(len(row) != size for row in self.matrix):
            raise ValueError(f"a confusion matrix over {size} labels must be {size} x {size}")

    def to_json(self) -> JsonObject:
        """``{"labels": [...], "matrix": [[...], ...]}``."""
        return {"labels": list(self.labels), "matrix": [list(row) for row in self.matrix]}


@dataclass(frozen=True, slots=True)
class AnswerFigures:
    """The answer figures of a run: label accuracy against the majority-class baseline where
    questions have labels, mean answer scores where there are any; ``None`` where not measured.

    Fractions in [0, 1], rounded to 4 places.
    """

    accuracy: float | None = None
    macro_f1: float | None = None
    majority_label: str | None = None
    majority_accuracy: float | None = None
    confusion: Confusion | None = None
    rouge_l: float | None = None
    exact_lenient: float | None = None
    list_recall: float | None = None
    # The share of answers that kept at least one generated sentence (mode "generate").
    generated_share: float | None = None

    def to_json(self) -> JsonObject:
        """The figures measured, in summary.json order (none is written as ``null``)."""
        out: JsonObject = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Confusion):
                out[f.name] = value.to_json()
            elif value is not None:
                out[f.name] = value
        return out


@dataclass(frozen=True, slots=True)
class CitationFigures:
    """Cited-document precision and recall, the share of citations whose passage supports the
    sentence, abstentions, citations per answer. ``None`` where undefined (nothing cited)."""

    precision: float | None
    recall: float | None
    supported: float | None
    abstention_rate: float
    citations_per_answer: float

    def to_json(self) -> JsonObject:
        """Every figure, an undefined one as ``null``."""
        return dict(asdict(self))


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    """One bin of the reliability diagram: the pairs whose support lies in ``[lo, hi)``.

    A calibrated verifier has ``share_accurate`` close to ``mean_support`` in every bin.
    """

    lo: float
    hi: float
    n: int
    accurate: int
    mean_support: float
    share_accurate: float


@dataclass(frozen=True, slots=True)
class VerificationFigures:
    """How well the citation verifier tells accurate citations from inaccurate ones.

    Over claim–cited-paper pairs: ``recall_supported`` is the share of the accurate pairs judged
    supported, ``unsupported_caught`` the share of the inaccurate ones judged not supported,
    ``balanced_accuracy`` their mean, ``precision_supported`` the share accurate of those judged
    supported, ``auc`` the ROC-AUC of the support score (accurate against inaccurate),
    ``calibration_error`` the expected calibration error over ``calibration``'s bins. ``None``
    where undefined (a class absent). ``threshold`` is the support from which a pair is judged
    supported; ``mix`` names the scores mixed into the support (``cheap``, ``+judge``,
    ``+cross_encoder``).
    """

    balanced_accuracy: float | None
    precision_supported: float | None
    recall_supported: float | None
    unsupported_caught: float | None
    auc: float | None
    calibration_error: float | None
    threshold: float
    mix: str
    accurate: int
    inaccurate: int
    supported: int
    claims: int
    labels: Mapping[str, int]  # pairs per gold label: SUPPORT, REFUTE, NEI
    calibration: tuple[CalibrationBin, ...] = ()

    def to_json(self) -> JsonObject:
        """Every figure (an undefined one as ``null``), then the label counts and the bins."""
        out: JsonObject = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("labels", "calibration")
        }
        out["labels"] = dict(self.labels)
        out["calibration"] = [dict(asdict(b)) for b in self.calibration]
        return out


@dataclass(frozen=True, slots=True)
class Latency:
    """Percentiles (nearest rank) of the per-question times in milliseconds (per claim for a run
    on claims), the whole run's wall-clock seconds where measured, and the process's peak resident
    memory in MB; ``None`` where not measured."""

    retrieve_p50_ms: float | None = None
    retrieve_p95_ms: float | None = None
    first_token_p50_ms: float | None = None
    total_p50_ms: float | None = None
    total_p95_ms: float | None = None
    verify_p50_ms: float | None = None
    verify_p95_ms: float | None = None
    run_s: float | None = None  # this invocation, models loaded included
    peak_rss_mb: float | None = None

    def to_json(self) -> dict[str, float]:
        """The figures measured."""
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True, slots=True)
class Stamp:
    """What a run's figures depend on: index, model, answer mode, code, gold set, time."""

    index_fingerprint: str
    model: str
    mode: str
    git_commit: str
    gold: str
    kind: str
    created: str  # ISO 8601, UTC


@dataclass(frozen=True, slots=True)
class Summary:
    """A run's figures (summary.json).

    ``retrieval`` maps ``hit@k``, ``recall@k``, ``mrr@10``, ``ndcg@10`` to their means over the
    questions with gold documents; ``retrieval_by_mode`` has one such table per retriever.
    ``verification`` holds a run on claims' figures (``n`` then counts claim–cited-paper pairs).
    ``extra`` keeps, as read, top-level blocks this version has no field for (a newer kind's),
    so that comparing runs still sees their figures; they are written after the others.
    """

    n: int
    kind: str
    latency: Latency
    stamp: Stamp
    retrieval: Mapping[str, float] | None = None
    retrieval_by_mode: Mapping[str, Mapping[str, float]] | None = None
    answers: AnswerFigures | None = None
    citations: CitationFigures | None = None
    verification: VerificationFigures | None = None
    extra: Mapping[str, JsonValue] = field(default_factory=dict)

    def to_json(self) -> JsonObject:
        """The summary.json object: keys in the order the runner has always written them."""
        out: JsonObject = {"n": self.n, "kind": self.kind}
        if self.retrieval is not None:
            out["retrieval"] = dict(self.retrieval)
        if self.retrieval_by_mode is not None:
            out["retrieval_by_mode"] = {m: dict(t) for m, t in self.retrieval_by_mode.items()}
        if self.answers is not None:
            out["answers"] = self.answers.to_json()
        if self.citations is not None:
            out["citations"] = self.citations.to_json()
        if self.verification is not None:
            out["verification"] = self.verification.to_json()
        out["latency"] = dict(self.latency.to_json())
        out["stamp"] = dict(asdict(self.stamp))
        return out | {k: v for k, v in self.extra.items() if k not in out}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Summary:
        """The record a summary.json object holds (:class:`ValueError` if it holds none)."""
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        given = {k: v for k, v in data.items() if k in known}
        given["extra"] = {k: v for k, v in data.items() if k not in known}
        return _validate(_SUMMARY, given)


_RESULT = TypeAdapter(Result)
_SUMMARY = TypeAdapter(Summary)


def _validate(adapter: TypeAdapter[_T], given: Mapping[str, Any]) -> _T:
    """``adapter``'s record from ``given``; a one-line :class:`ValueError` naming each bad field
    (``answers.confusion.matrix.0: Input should be a valid list``) otherwise."""
    try:
        return adapter.validate_python(given)
    except ValidationError as exc:
        problems = (f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError("; ".join(problems)) from exc
