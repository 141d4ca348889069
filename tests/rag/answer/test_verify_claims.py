"""The packaged verifier on the claims written by hand from PubMedQA abstracts
(tests/fixtures/verifier_claims.jsonl): true ones kept, negated ones, wrong numbers and invented
reasons caught. The shares are floors below what benchmarks/fit_verifier.py measured, so that a
refit that loses what the conflict signals bought fails here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from base.settings import AnswerSettings, EmbeddingSettings
from rag.answer.verify import Verifier
from rag.index.embed.embedder import load_embedder

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "verifier_claims.jsonl"


@pytest.fixture(scope="module")
def supported(shared: Path) -> dict[str, list[bool]]:
    rows = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    texts = {}
    with (shared / "corpus" / "pubmedqa" / "pqal_contexts.jsonl").open() as f:
        for line in f:
            doc = json.loads(line)
            texts[doc["_id"]] = doc["text"]
    verifier = Verifier(load_embedder(EmbeddingSettings()), AnswerSettings())
    out: dict[str, list[bool]] = {}
    for r in rows:
        verdict = verifier.verify([r["claim"]], [texts[r["pmid"]]])[0][0]
        out.setdefault(r["kind"], []).append(verdict.supported)
    return out


def test_the_fixture_cites_shared_abstracts_and_has_every_kind() -> None:
    rows = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    assert len(rows) >= 40
    assert {r["kind"] for r in rows} == {"true", "negated", "direction", "number", "reason"}
    assert all(r["supported"] == (r["kind"] == "true") and r["pmid"].isdigit() for r in rows)


def test_true_claims_are_kept(supported: dict[str, list[bool]]) -> None:
    assert sum(supported["true"]) >= 0.8 * len(supported["true"])


@pytest.mark.parametrize("kind", ["negated", "number", "reason"])
def test_false_claims_are_caught(supported: dict[str, list[bool]], kind: str) -> None:
    caught = [not s for s in supported[kind]]
    assert sum(caught) >= 0.6 * len(caught)
