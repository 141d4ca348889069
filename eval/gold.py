"""Gold question sets -> :class:`GoldQuestion` records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError


class GoldError(RagError):
    """A gold file or one of its entries is malformed."""


@dataclass(frozen=True, slots=True)
class GoldQuestion:
    """One question with the documents that answer it (ids as litrag makes them: ``pmid:…``)."""

    id: str
    question: str
    type: str  # yesno, factoid, list, summary (BioASQ); yesno/no/maybe sets use "yesno"
    gold_ids: tuple[str, ...]
    ideal_answer: str = ""
    exact_answer: tuple[str, ...] = ()
    source: str = ""


def load_bioasq(path: Path) -> Iterator[GoldQuestion]:
    """BioASQ Task B golden JSON: one file, or every ``*.json`` in a folder (sorted)."""
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    for file in files:
        try:
            questions = json.loads(file.read_text())["questions"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise GoldError(f"{file}: not a BioASQ golden file ({exc})") from exc
        for n, entry in enumerate(questions):
            yield _bioasq_question(entry, f"{file}#{n}")


def _bioasq_question(entry: object, where: str) -> GoldQuestion:
    if not isinstance(entry, dict) or not isinstance(entry.get("body"), str):
        raise GoldError(f"{where}: a question needs a 'body' string")
    docs = entry.get("documents") or []
    if not isinstance(docs, list):
        raise GoldError(f"{where}: 'documents' must be a list of PubMed URLs")
    ideal = entry.get("ideal_answer") or ""
    exact = entry.get("exact_answer") or ()
    return GoldQuestion(
        id=str(entry.get("id") or where),
        question=entry["body"],
        type=str(entry.get("type") or "summary"),
        gold_ids=tuple(
            dict.fromkeys(f"pmid:{str(u).rstrip('/').rsplit('/', 1)[-1]}" for u in docs)
        ),
        ideal_answer=ideal[0] if isinstance(ideal, list) and ideal else str(ideal),
        exact_answer=tuple(_flatten(exact)),
        source=where,
    )


def _flatten(value: object) -> Iterator[str]:
    if isinstance(value, list | tuple):
        for item in value:
            yield from _flatten(item)
    elif value not in (None, ""):
        yield str(value)
