"""A run's summary and per-question results -> ``report.md`` with PNG plots beside it.

Metric values in the summary are fractions in [0, 1] (as :mod:`eval.metrics` returns them);
latencies are milliseconds. Every section but the header is optional, so a retrieval-only run
(no "answers", no "citations") still gets a report.

Plots are drawn on :class:`matplotlib.figure.Figure` objects directly rather than through
``pyplot``: no global backend has to be chosen (``matplotlib.use("Agg")``), PNGs are rendered
by Agg anyway, and nothing leaks into a process that imports this module (the UI, a notebook).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

REPORT_NAME = "report.md"
RECALL_PNG = "recall_at_k.png"
CONFUSION_PNG = "confusion.png"
LATENCY_PNG = "latency.png"

# PubMedQA reasoning-required setting, test set (Jin et al., 2019):
# (system, accuracy %, macro-F1 %).
PUBMEDQA_REFERENCE = (
    ("Majority class (published)", 55.2, 23.7),
    ("BioBERT (published)", 68.1, 52.7),
    ("Human (published)", 78.0, 72.2),
)
_STAMP_ROWS = (
    ("gold set", "gold"),
    ("index fingerprint", "index_fingerprint"),
    ("model", "model"),
    ("git commit", "git_commit"),
    ("created", "created"),
)


def write_report(
    out_dir: Path, summary: Mapping[str, object], results: Sequence[Mapping[str, object]]
) -> Path:
    """Write ``out_dir/report.md`` and its plots (recall@k, confusion, latency) and return the
    Markdown file's path. A plot whose data the summary or results lack is left out."""
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = {
        RECALL_PNG: _recall_figure(summary),
        CONFUSION_PNG: _confusion_figure(_section(summary, "answers")),
        LATENCY_PNG: _latency_figure(results),
    }
    drawn = set()
    for name, figure in figures.items():
        if figure is not None:
            figure.savefig(out_dir / name, format="png", dpi=100)
            drawn.add(name)
    lines = [
        *_header(summary),
        *_retrieval_section(summary, RECALL_PNG in drawn),
        *_answers_section(summary, CONFUSION_PNG in drawn),
        *_citations_section(summary),
        *_latency_section(summary, LATENCY_PNG in drawn),
    ]
    path = out_dir / REPORT_NAME
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


# --- Markdown -----------------------------------------------------------------------------------


def _header(summary: Mapping[str, object]) -> list[str]:
    stamp = _section(summary, "stamp")
    kind = _kind(summary) or "?"
    rows = [["questions", _cell("n", summary.get("n"))], ["gold kind", _cell("kind", kind)]]
    rows += [[label, _cell(key, stamp.get(key))] for label, key in _STAMP_ROWS]
    return [f"# litrag evaluation: {_escape(str(kind))}", "", *_table(["", ""], rows)]


def _retrieval_section(summary: Mapping[str, object], with_plot: bool) -> list[str]:
    overall = _section(summary, "retrieval")
    by_mode = {
        mode: values
        for mode, values in _section(summary, "retrieval_by_mode").items()
        if isinstance(values, Mapping)
    }
    if not overall and not by_mode:
        return []
    columns = {"this run": overall, **by_mode} if overall else dict(by_mode)
    keys = list(dict.fromkeys(k for values in columns.values() for k in values))
    rows = [[k, *(_cell(k, values.get(k)) for values in columns.values())] for k in keys]
    lines = ["## Retrieval", "", *_table(["metric", *columns], rows)]
    if with_plot:
        lines += [f"![Recall at k]({RECALL_PNG})", ""]
    return lines


def _answers_section(summary: Mapping[str, object], with_plot: bool) -> list[str]:
    answers = _section(summary, "answers")
    if not answers:
        return []
    rows = [[k, _cell(k, v)] for k, v in answers.items() if not isinstance(v, Mapping | list)]
    lines = ["## Answers", "", *_table(["metric", "value"], rows)]
    if _kind(summary) == "pubmedqa":
        lines += _pubmedqa_reference(answers)
    labels, matrix = _confusion_data(answers)
    if labels:
        rows = [[_escape(g), *map(str, m)] for g, m in zip(labels, matrix, strict=True)]
        lines += ["### Confusion (rows: gold, columns: predicted)", ""]
        lines += _table(["gold \\ predicted", *labels], rows)
    if with_plot:
        lines += [f"![Confusion matrix]({CONFUSION_PNG})", ""]
    return lines


def _pubmedqa_reference(answers: Mapping[str, object]) -> list[str]:
    """Our accuracy and macro-F1 beside the published PubMedQA reference points (percent)."""
    ours = [
        ["litrag (this run)", _percent(answers.get("accuracy")), _percent(answers.get("macro_f1"))]
    ]
    if "majority_accuracy" in answers:
        label = _escape(str(answers.get("majority_label") or "?"))
        ours.append(
            [f"Majority class on this set ({label})", _percent(answers["majority_accuracy"]), "—"]
        )
    published = [[name, f"{acc:.1f}", f"{f1:.1f}"] for name, acc, f1 in PUBMEDQA_REFERENCE]
    return [
        "### Against published PubMedQA figures",
        "",
        *_table(["system", "accuracy %", "macro-F1 %"], ours + published),
        "Published figures are for the reasoning-required setting on the PubMedQA test set; "
        "ours are on the gold set named above, so they compare only roughly.",
        "",
    ]


def _citations_section(summary: Mapping[str, object]) -> list[str]:
    citations = _section(summary, "citations")
    if not citations:
        return []
    rows = [[k, _cell(k, v)] for k, v in citations.items() if not isinstance(v, Mapping | list)]
    return ["## Citations", "", *_table(["metric", "value"], rows)]


def _latency_section(summary: Mapping[str, object], with_plot: bool) -> list[str]:
    latency = _section(summary, "latency")
    if not latency and not with_plot:
        return []
    rows = [[k, _cell(k, v)] for k, v in latency.items() if not isinstance(v, Mapping | list)]
    lines = ["## Latency and memory", "", *(_table(["measure", "value"], rows) if rows else [])]
    if with_plot:
        lines += [f"![Latency histogram]({LATENCY_PNG})", ""]
    return lines


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """A GitHub-flavoured Markdown table followed by a blank line."""
    lines = ["| " + " | ".join(_escape(h) for h in headers) + " |"]
    lines.append("|" + "---|" * len(headers))
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _cell(key: str, value: object) -> str:
    """A metric value as table text: 3 decimals, 1 for milliseconds and megabytes."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1f}" if key.endswith(("_ms", "_mb")) else f"{value:.3f}"
    return _escape(str(value))


def _percent(value: object) -> str:
    return f"{100 * value:.1f}" if isinstance(value, int | float) else "—"


def _escape(text: str) -> str:
    """Text safe inside a table cell: pipes escaped, line breaks flattened."""
    return re.sub(r"\s*\n\s*", " ", text).replace("|", "\\|")


def _kind(summary: Mapping[str, object]) -> str:
    """The gold-set kind ("pubmedqa", "bioasq", "jsonl") from the summary or its stamp."""
    return str(summary.get("kind") or _section(summary, "stamp").get("kind") or "")


def _section(summary: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = summary.get(key)
    return value if isinstance(value, Mapping) else {}


# --- Plots --------------------------------------------------------------------------------------


def _recall_points(values: Mapping[str, object]) -> list[tuple[int, float]]:
    """``{"recall@5": 0.4, "recall@1": 0.2, "hit@5": …}`` -> ``[(1, 0.2), (5, 0.4)]``."""
    points = []
    for key, value in values.items():
        match = re.fullmatch(r"recall@(\d+)", key)
        if match and isinstance(value, int | float):
            points.append((int(match.group(1)), float(value)))
    return sorted(points)


def _recall_figure(summary: Mapping[str, object]) -> Figure | None:
    series = {"this run": _recall_points(_section(summary, "retrieval"))}
    for mode, values in _section(summary, "retrieval_by_mode").items():
        if isinstance(values, Mapping):
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


def _confusion_data(answers: Mapping[str, object]) -> tuple[list[str], list[list[int]]]:
    """Labels and matrix from ``answers["confusion"]``, or ``([], [])`` if absent or misshapen."""
    block = answers.get("confusion")
    if not isinstance(block, Mapping):
        return [], []
    labels, matrix = block.get("labels"), block.get("matrix")
    if not isinstance(labels, list) or not isinstance(matrix, list) or not labels:
        return [], []
    rows = [r for r in matrix if isinstance(r, list) and len(r) == len(labels)]
    if len(rows) != len(labels) or not all(isinstance(c, int) for r in rows for c in r):
        return [], []
    return [str(lab) for lab in labels], [[int(c) for c in r] for r in rows]


def _confusion_figure(answers: Mapping[str, object]) -> Figure | None:
    labels, matrix = _confusion_data(answers)
    if not labels:
        return None
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


def _timings(results: Sequence[Mapping[str, object]], key: str) -> list[float]:
    values = []
    for result in results:
        timings = result.get("timings")
        value = timings.get(key) if isinstance(timings, Mapping) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            values.append(float(value))
    return values


def _latency_figure(results: Sequence[Mapping[str, object]]) -> Figure | None:
    # One panel per measure: generation makes total times orders of magnitude above retrieval.
    series = {
        title: values
        for title, key in (("retrieval", "retrieve_ms"), ("whole answer", "total_ms"))
        if (values := _timings(results, key))
    }
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
