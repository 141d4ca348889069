"""Two runs' summaries side by side: every numeric figure with its change."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path

from base.errors import EvalError
from eval.records import Summary

SUMMARY_NAME = "summary.json"

Row = tuple[str, float | None, float | None, float | None]


def load_summary(run_dir: Path) -> Summary:
    """The :class:`Summary` in ``run_dir/summary.json``."""
    path = run_dir / SUMMARY_NAME
    if not run_dir.is_dir():
        raise EvalError(f"{run_dir}: no such run folder")
    if not path.is_file():
        raise EvalError(f"{path}: missing; is {run_dir} an evaluation run folder?")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EvalError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise EvalError(f"{path}: expected a JSON object, found {type(data).__name__}")
    try:
        return Summary.from_json(data)
    except ValueError as exc:
        raise EvalError(f"{path}: not a litrag run summary ({exc})") from exc


def compare(a: Summary, b: Summary) -> list[Row]:
    """``(key, a, b, b - a)`` for every numeric leaf of either summary's JSON, keys dotted
    (``"retrieval.recall@10"``), in ``a``'s order then ``b``'s new keys.

    A side without the key (or with a non-number there, such as ``null``) is ``None``, and so
    is the difference. Booleans, strings and lists (the confusion matrix) are not compared.
    Blocks a summary keeps in ``extra`` (a newer kind's) are compared like the others.
    """
    left, right = dict(flatten(a.to_json())), dict(flatten(b.to_json()))
    rows: list[Row] = []
    for key in dict.fromkeys([*left, *right]):
        x, y = left.get(key), right.get(key)
        rows.append((key, x, y, y - x if x is not None and y is not None else None))
    return rows


def flatten(summary: Mapping[str, object], prefix: str = "") -> Iterator[tuple[str, float]]:
    """``{"a": {"b": 1}}`` -> ``("a.b", 1.0)``: the numeric leaves with dotted keys."""
    for key, value in summary.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from flatten(value, f"{dotted}.")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield dotted, float(value)
