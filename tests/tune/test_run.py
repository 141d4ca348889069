"""A tiny tuning run end to end: gold questions + an index -> a model folder that builds an index.

Real models, a real index of a few shared files, a few dozen pairs, one short epoch.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from base.settings import Settings, load_settings
from eval.gold import load_jsonl
from rag.index.backends.local.index import read_manifest
from rag.index.ingest.pipeline import ingest
from rag.retrieve.hybrid import open_retriever
from tune.card import PICKLE_SUFFIXES
from tune.data import is_validation
from tune.loop import TrainOptions
from tune.run import TuneRequest, tune

FILES = ("pmc/pone.0000217.nxml", "pmc/pone.0046493.nxml", "pmc/pntd.0002065.nxml",
         "pmc/ehp-116-1694.nxml", "pmc/1471-2180-11-174.nxml", "pmc/cc11003.nxml")  # fmt: skip


@pytest.fixture(scope="module")
def corpus(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    for name in FILES:
        (folder / Path(name).name).write_bytes((shared / "corpus" / name).read_bytes())
    return folder


@pytest.fixture(scope="module")
def tuned(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("index")
    ingest([corpus], index, Settings())
    retriever = open_retriever(index, Settings())
    docs, _ = retriever.index.store.list_documents()
    gold = tmp_path_factory.mktemp("gold") / "gold.jsonl"
    with gold.open("w") as out:  # questions made of each paper's title and its first words
        for n, d in enumerate(docs):
            for i, q in enumerate((f"What is known about {d.title}?", f"Findings on {d.title}")):
                line = {"id": f"{n}-{i}", "question": q, "gold_ids": [d.id]}
                out.write(json.dumps(line) + "\n")
    retriever.index.close()
    out_dir = tmp_path_factory.mktemp("model") / "embedder"
    options = TrainOptions(batch_size=8, max_tokens=48, max_minutes=3, bf16=True)
    request = TuneRequest("embedder", (gold,), str(index), out_dir, 0.2, options, depth=10)
    card = tune(request, Settings())
    assert card.pairs >= 12 and card.loop.steps >= 1
    return out_dir


def test_the_model_folder_describes_itself_and_holds_no_pickle(tuned: Path) -> None:
    names = {p.name for p in tuned.iterdir()}
    assert {"model.safetensors", "modules.json", "README.md", "litrag-tuning.json"} <= names
    assert "validation.jsonl" in names
    assert not [p for p in tuned.rglob("*") if p.suffix in PICKLE_SUFFIXES]
    card = json.loads((tuned / "litrag-tuning.json").read_text())
    assert card["loss"].startswith("MultipleNegativesRankingLoss") and card["loop"]["steps"] >= 1
    assert "## Dev figures" in (tuned / "README.md").read_text()


def test_validation_holds_whole_questions_by_the_seeded_hash(tuned: Path) -> None:
    held = list(load_jsonl(tuned / "validation.jsonl"))
    assert all(is_validation(q.id, 0.2) for q in held)


def test_the_tuned_model_builds_an_index_that_searches(
    tuned: Path, corpus: Path, tmp_path: Path
) -> None:
    settings = load_settings({"embedding": {"model": str(tuned)}})
    ingest([corpus], tmp_path, settings)
    assert read_manifest(tmp_path).embedding_model == str(tuned)
    retriever = open_retriever(tmp_path, settings)
    title = retriever.index.store.list_documents()[0][0].title
    hits = retriever.search(f"What is known about {title}?", k=3, mode="dense")
    assert hits and hits[0].chunk.title == title
    retriever.index.close()
