"""Resuming a run: the records a killed ``rag eval`` already wrote to ``OUT/results.jsonl``."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from base.errors import EvalError

T = TypeVar("T")


def resume(
    out: Path, meta: Mapping[str, object], parse: Callable[[dict[str, Any]], T], what: str
) -> list[T]:
    """The records of ``out/results.jsonl`` for the run ``meta`` describes (stored as run.json).

    A run with other settings in ``out`` is refused; a torn last line (killed while writing) is
    dropped and the file rewritten without it; any other bad line is an :class:`EvalError`
    naming the file, the line and ``what`` a line should be.
    """
    out.mkdir(parents=True, exist_ok=True)
    saved = out / "run.json"
    if saved.exists() and json.loads(saved.read_text()) != meta:
        raise EvalError(f"{out} holds a run with other settings ({saved}); choose another --out")
    saved.write_text(json.dumps(meta, indent=2) + "\n")
    results, good = out / "results.jsonl", []
    done: list[T] = []
    if not results.exists():
        return done
    for number, line in enumerate(results.read_text().splitlines(), start=1):
        try:
            data = json.loads(line)
        except ValueError:
            break  # killed while writing: keep what came before
        try:
            if not isinstance(data, dict):
                raise ValueError(f"expected a JSON object, found {type(data).__name__}")
            done.append(parse(data))
        except ValueError as exc:
            raise EvalError(f"{results}:{number}: not {what} ({exc})") from exc
        good.append(line)
    results.write_text("".join(f"{line}\n" for line in good))
    return done
