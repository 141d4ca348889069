"""A run's :class:`Summary` and :class:`Result` records -> ``report.md`` with PNG plots beside it.

Metric values in the summary are fractions in [0, 1] (as :mod:`eval.metrics` returns them);
latencies are milliseconds. Every section but the header is optional, so a retrieval-only run
(no "answers", no "citations") still gets a report, and a run on claims gets its verification
figures with a reliability diagram; a block the summary keeps in ``extra`` (a newer kind's) gets
a table of its figures.

Plots are drawn on :class:`matplotlib.figure.Figure` objects directly rather than through
``pyplot``: no global backend has to be chosen (``matplotlib.use("Agg")``), PNGs are rendered
by Agg anyway, and nothing leaks into a process that imports this module (the UI, a notebook).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from eval.gold import KINDS, GoldKind
from eval.records import AnswerFigures, Confusion, Result, Summary, VerificationFigures

REPORT_NAME = "report.md"
RECALL_PNG = "recall_at_k.png"
CONFUSION_PNG = "confusion.png"
LATENCY_PNG = "latency.png"
CALIBRATION_PNG = "calibration.png"

_STAMP_ROWS = (
    ("gold set", "gold"),
    ("index fingerprint", "index_fingerprint"),
    ("model", "model"),
    ("git commit", "git_commit"),
    ("created", "created"),
)


def write_report(out_dir: Path, summary: Summary, results: Sequence[Result]) -> Path:
    """Write ``out_dir/report.md`` and its plots (recall@k, confusion, latency, calibration) and
    return the Markdown file's path. A plot whose data the summary or results lack is left out."""
    out_dir.mkdir(parents=True, exist_ok=True)
    answers = summary.answers or AnswerFigures()
    figures = {
        RECALL_PNG: _recall_figure(summary),
        CONFUSION_PNG: _confusion_figure(c) if (c := answers.confusion) and c.labels else None,
        LATENCY_PNG: _latency_figure(results),
        CALIBRATION_PNG: _calibration_figure(v) if (v := summary.verification) else None,
    }
    drawn = set()
    for name, figure in figures.items():
        if figure is not None:
            figure.savefig(out_dir / name, format="png", dpi=100)
            drawn.add(name)
    lines = [
        *_header(summary),
        *_retrieval_section(summary, RECALL_PNG in drawn),
        *_answers_section(answers, KINDS.get(summary.kind), CONFUSION_PNG in drawn),
        *_figures_section("Citations", summary.citations.to_json() if summary.citations else {}),
        *_verification_section(summary.verification, CALIBRATION_PNG in drawn),
        *_latency_section(summary, LATENCY_PNG in drawn),
        *(line for name, block in summary.extra.items() for line in _extra_section(name, block)),
    ]
    path = out_dir / REPORT_NAME
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


# --- Markdown -----------------------------------------------------------------------------------


def _header(summary: Summary) -> list[str]:
    stamp = asdict(summary.stamp)
    counted = "claim–cited-paper pairs" if summary.verification else "questions"
    rows = [[counted, _cell("n", summary.n)], ["gold kind", _cell("kind", summary.kind)]]
    rows += [[label, _cell(key, stamp[key])] for label, key in _STAMP_ROWS]
    return [f"# litrag evaluation: {_escape(summary.kind)}", "", *_table(["", ""], rows)]


def _retrieval_section(summary: Summary, with_plot: bool) -> list[str]:
    overall, by_mode = summary.retrieval or {}, summary.retrieval_by_mode or {}
    if not overall and not by_mode:
        return []
    columns = {"this run": overall, **by_mode} if overall else dict(by_mode)
    keys = list(dict.fromkeys(k for values in columns.values() for k in values))
    rows = [[k, *(_cell(k, values.get(k)) for values in columns.values())] for k in keys]
    lines = ["## Retrieval", "", *_table(["metric", *columns], rows)]
    if with_plot:
        lines += [f"![Recall at k]({RECALL_PNG})", ""]
    return lines


def _answers_section(answers: AnswerFigures, kind: GoldKind | None, with_plot: bool) -> list[str]:
    figures = answers.to_json()
    if not figures:
        return []
    rows = [[k, _cell(k, v)] for k, v in figures.items() if k != "confusion"]
    lines = ["## Answers", "", *_table(["metric", "value"], rows)]
    if kind is not None and kind.published:
        lines += _published(answers, kind)
    if answers.confusion is not None:
        labels, matrix = answers.confusion.labels, answers.confusion.matrix
        rows = [[_escape(g), *map(str, m)] for g, m in zip(labels, matrix, strict=True)]
        lines += ["### Confusion (rows: gold, columns: predicted)", ""]
        lines += _table(["gold \\ predicted", *labels], rows)
    if with_plot:
        lines += [f"![Confusion matrix]({CONFUSION_PNG})", ""]
    return lines


def _published(answers: AnswerFigures, kind: GoldKind) -> list[str]:
    """Our accuracy and macro-F1 beside the kind's published reference points (percent)."""
    ours = [["litrag (this run)", _percent(answers.accuracy), _percent(answers.macro_f1)]]
    if answers.majority_accuracy is not None:
        label = _escape(answers.majority_label or "?")
        ours.append(
            [f"Majority class on this set ({label})", _percent(answers.majority_accuracy), "—"]
        )
    published = [[p.system, f"{p.accuracy:.1f}", f"{p.macro_f1:.1f}"] for p in kind.published]
    return [
        f"### Against published {kind.title} figures",
        "",
        *_table(["system", "accuracy %", "macro-F1 %"], ours + published),
        kind.published_note,
        "",
    ]


def _figures_section(title: str, figures: Mapping[str, object]) -> list[str]:
    """A "## title" table of the scalar figures (nothing when there are none)."""
    rows = [[k, _cell(k, v)] for k, v in figures.items() if not isinstance(v, Mapping | list)]
    return [f"## {title}", "", *_table(["metric", "value"], rows)] if rows else []


def _latency_section(summary: Summary, with_plot: bool) -> list[str]:
    latency = summary.latency.to_json()
    if not latency and not with_plot:
        return []
    rows = [[k, _cell(k, v)] for k, v in latency.items()]
    lines = ["## Latency and memory", "", *(_table(["measure", "value"], rows) if rows else [])]
    if with_plot:
        lines += [f"![Latency histogram]({LATENCY_PNG})", ""]
    return lines


def _verification_section(figures: VerificationFigures | None, with_plot: bool) -> list[str]:
    """The verifier's figures, the pairs per gold label, and the reliability diagram's bins."""
    if figures is None:
        return []
    data = figures.to_json()
    rows = [[k, _cell(k, v)] for k, v in data.items() if not isinstance(v, Mapping | list)]
    labels = [[_escape(label), str(n)] for label, n in figures.labels.items()]
    bins = [[f"{b.lo:.1f}–{b.hi:.1f}", str(b.n), f"{b.mean_support:.3f}", f"{b.share_accurate:.3f}"]
            for b in figures.calibration]  # fmt: skip
    lines = ["## Verification", "", *_table(["metric", "value"], rows)]
    lines += ["### Pairs per gold label (SUPPORT = accurate citation)", ""]
    lines += _table(["label", "pairs"], labels)
    if bins:
        lines += ["### Calibration (pairs binned by their support)", ""]
        lines += _table(["support", "pairs", "mean support", "share accurate"], bins)
    if with_plot:
        lines += [f"![Reliability diagram]({CALIBRATION_PNG})", ""]
    return lines


def _extra_section(name: str, block: object) -> list[str]:
    """A block of a kind newer than this code: its scalar figures, if it is an object."""
    return _figures_section(_escape(name), block) if isinstance(block, Mapping) else []


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """A GitHub-flavoured Markdown table followed by a blank line."""
    lines = ["| " + " | ".join(_escape(h) for h in headers) + " |"]
    lines.append("|" + "---|" * len(headers))
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _cell(key: str, value: object) -> str:
    """A metric value as table text: 3 decimals, 1 for (milli)seconds and megabytes."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1f}" if key.endswith(("_ms", "_s", "_mb")) else f"{value:.3f}"
    return _escape(str(value))


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}"


def _escape(text: str) -> str:
    """Text safe inside a table cell: pipes escaped, line breaks flattened."""
    return re.sub(r"\s*\n\s*", " ", text).replace("|", "\\|")


# --- Plots --------------------------------------------------------------------------------------


def _recall_points(values: Mapping[str, float]) -> list[tuple[int, float]]:
    """``{"recall@5": 0.4, "recall@1": 0.2, "hit@5": …}`` -> ``[(1, 0.2), (5, 0.4)]``."""
    points = []
    for key, value in values.items():
        if match := re.fullmatch(r"recall@(\d+)", key):
            points.append((int(match.group(1)), value))
    return sorted(points)


def _recall_figure(summary: Summary) -> Figure | None:
    series = {"this run": _recall_points(summary.retrieval or {})}
    for mode, values in (summary.retrieval_by_mode or {}).items():
        series[mode] = _recall_points(values)
    series = {name: points for name, points in series.items() if points}
    if not series:
        return None
    figure = Figure(figsize=(6, 4))
    ax = figure.add_subplot()
    for name, points in series.items():
        ks, recalls = zip(*points, strict=True)
        dashed = name == "this run" and len(series) > 1  # often equal to one mode's line
        ax.plot(ks, recalls, marker="o", label=name, linestyle="--" if dashed else "-")
    ax.set(xlabel="k (documents retrieved)", ylabel="recall@k", ylim=(0, 1.02))
    ax.set_xticks(sorted({k for points in series.values() for k, _ in points}))
    ax.grid(alpha=0.3)
    ax.legend()
    figure.tight_layout()
    return figure


def _confusion_figure(confusion: Confusion) -> Figure:
    labels, matrix = confusion.labels, confusion.matrix
    figure = Figure(figsize=(1.2 * len(labels) + 2, 1.2 * len(labels) + 1.5))
    ax = figure.add_subplot()
    ax.imshow(matrix, cmap="Blues")  # counts are written in the cells: no colour bar needed
    ticks = range(len(labels))
    ax.set_xticks(ticks, labels)
    ax.set_yticks(ticks, labels)
    ax.set(xlabel="predicted", ylabel="gold", title="Confusion matrix")
    top = max((c for r in matrix for c in r), default=0)
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            colour = "white" if top and count > top / 2 else "black"
            ax.text(j, i, str(count), ha="center", va="center", color=colour)
    figure.tight_layout()
    return figure


def _calibration_figure(figures: VerificationFigures) -> Figure | None:
    """A reliability diagram: share accurate against mean support per bin (the diagonal is a
    calibrated verifier), over a histogram of the pairs' support, split by gold verdict."""
    bins = figures.calibration
    if not bins:
        return None
    figure = Figure(figsize=(6, 6.5))
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1.3))
    top.plot((0, 1), (0, 1), linestyle="--", color="grey", label="calibrated")
    top.plot([b.mean_support for b in bins], [b.share_accurate for b in bins], marker="o",
             label="this run")  # fmt: skip
    for b in bins:
        top.annotate(str(b.n), (b.mean_support, b.share_accurate), textcoords="offset points",
                     xytext=(4, -10), fontsize=8)  # fmt: skip
    top.axvline(figures.threshold, color="red", alpha=0.5, label="threshold")
    top.set(ylabel="share accurate (observed)", ylim=(0, 1.02), title="Reliability diagram")
    top.grid(alpha=0.3)
    top.legend(loc="lower right")
    lefts, width = [b.lo for b in bins], bins[0].hi - bins[0].lo
    accurate = [b.accurate for b in bins]
    bottom.bar(lefts, accurate, width=width, align="edge", label="accurate")
    bottom.bar(lefts, [b.n - b.accurate for b in bins], width=width, align="edge",
               bottom=accurate, label="inaccurate")  # fmt: skip
    bottom.set(xlabel="support (predicted)", ylabel="pairs", xlim=(0, 1))
    bottom.yaxis.set_major_locator(MaxNLocator(integer=True))
    bottom.legend(fontsize=8)
    figure.tight_layout()
    return figure


def _latency_figure(results: Sequence[Result]) -> Figure | None:
    # One panel per measure: generation makes total times orders of magnitude above retrieval.
    totals = [r.answered.timings.total_ms for r in results if r.answered is not None]
    measured = (("retrieval", [r.retrieve_ms for r in results]), ("whole answer", totals))
    series = {title: values for title, values in measured if values}
    if not series:
        return None
    figure = Figure(figsize=(5 * len(series), 3.5))
    for n, (title, values) in enumerate(series.items(), start=1):
        ax = figure.add_subplot(1, len(series), n)
        ax.hist(values, bins=min(30, max(5, len(values) // 5)))
        ax.set(xlabel="milliseconds", ylabel="questions", title=f"{title} latency")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    return figure
