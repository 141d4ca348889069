"""Integration: the OpenVINO runtime of the embedder, its IR cache, and the manifest's agreement
check between runtimes (real model, real OpenVINO, real index on disk)."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer

from base.errors import IndexProblem
from base.settings import EmbeddingSettings, Settings
from rag.index.backends.local.index import AGREEMENT_SAMPLE, Index, read_manifest
from rag.index.embed.embedder import (
    AGREEMENT_COSINE,
    CALIBRATION_PASSAGES,
    Embedder,
    default_model_path,
    load_embedder,
)
from rag.index.ingest.pipeline import ingest
from rag.retrieve.hybrid import open_retriever

pytestmark = pytest.mark.integration


def abstracts(shared: Path, n: int) -> list[str]:
    """The first ``n`` PubMedQA abstracts."""
    lines = (shared / "corpus/pubmedqa/pqal_contexts.jsonl").read_text().splitlines()[:n]
    return [json.loads(line)["text"] for line in lines]


def test_openvino_agrees_with_sentence_transformers(shared: Path) -> None:
    texts = abstracts(shared, 48)  # up to 256 tokens each: truncation is exercised too
    embedder = load_embedder(EmbeddingSettings(runtime="openvino"))
    assert embedder.runtime == "openvino"
    reference = SentenceTransformer(str(default_model_path()), device="cpu")
    for mine, theirs in [
        (embedder.embed_documents(texts), reference.encode_document(texts)),
        (embedder.embed_queries(texts[:8]), reference.encode_query(texts[:8])),
    ]:
        theirs = theirs / np.linalg.norm(theirs, axis=1, keepdims=True)
        assert float(np.min((mine * theirs).sum(axis=1))) >= 0.995


def test_one_question_is_embedded_as_in_a_batch_of_one(shared: Path) -> None:
    # embed_query skips the torch modules for plain mean pooling: the same vector.
    embedder = load_embedder(EmbeddingSettings(runtime="openvino"))
    assert embedder._mean_pooled
    texts = ["Is BRAF V600E targetable in melanoma?", abstracts(shared, 1)[0]]  # one truncated
    for text in texts:
        one, batch = embedder.embed_query(text)[0], embedder.embed_queries([text])[0]
        assert float(one @ batch) >= 0.9999  # bf16 rounding: a batch pads to 8 rows, this to 1
    reference = SentenceTransformer(str(default_model_path()), device="cpu")
    theirs = reference.encode_query(texts[:1])
    assert float(embedder.embed_query(texts[0])[0] @ theirs[0]) >= 0.995


def test_token_vectors_match_the_sentence_vector(shared: Path) -> None:
    # The verifier reads word vectors; with mean pooling their mean is the sentence vector.
    embedder = load_embedder(EmbeddingSettings(runtime="openvino"))
    text = abstracts(shared, 1)[0][:300]
    ((vector, tokens),) = embedder.embed_tokens([text])
    assert len(tokens) == len(embedder.model.tokenizer(text)["input_ids"])
    mean = tokens.mean(axis=0)
    assert np.allclose(mean / np.linalg.norm(mean), vector, atol=1e-5)


def test_the_converted_model_is_cached(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    model = tmp_path / "model"  # the packaged model behind links, in a writable folder
    model.mkdir()
    for path in default_model_path().iterdir():
        if path.name != "litrag-openvino":
            (model / path.name).symlink_to(path)
    settings = EmbeddingSettings(model=str(model), runtime="openvino")
    with caplog.at_level(logging.INFO, logger="rag.index.embed.openvino"):
        first = Embedder(settings)
        assert "converting" in caplog.text
        caplog.clear()
        second = Embedder(settings)
        assert "converting" not in caplog.text
    assert first.compiled.ir == second.compiled.ir
    assert first.compiled.ir.parent.parent == model / "litrag-openvino"
    assert sorted(p.name for p in first.compiled.ir.parent.iterdir()) == ["model.bin", "model.xml"]


def test_falls_back_to_torch_when_the_ir_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    model = tmp_path / "model"
    model.mkdir()
    for path in default_model_path().iterdir():
        if path.name != "litrag-openvino":
            (model / path.name).symlink_to(path)
    (model / "litrag-openvino").write_text("a file where the cache folder would go")
    (tmp_path / "cache").write_text("neither is the user cache a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    settings = EmbeddingSettings(model=str(model), runtime="openvino", dtype="bfloat16")
    with caplog.at_level(logging.WARNING, logger="rag.index.embed.embedder"):
        embedder = Embedder(settings)
    assert (embedder.runtime, embedder.compiled) == ("torch", None)
    assert "openvino unavailable, using torch: cannot write the OpenVINO IR" in caplog.text
    assert embedder.model.dtype == torch.bfloat16
    assert embedder.embed_query("MDM2 amplification").shape == (1, 384)


@pytest.fixture(scope="module")
def torch_index(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of 12 PubMedQA abstracts embedded by torch in float32."""
    lines = (shared / "corpus/pubmedqa/pqal_contexts.jsonl").read_text().splitlines()[:12]
    sample = tmp_path_factory.mktemp("sample") / "sample.jsonl"
    sample.write_text("\n".join(lines) + "\n")
    folder = tmp_path_factory.mktemp("torch_index")
    ingest([sample], folder, torch_settings())
    return folder


def torch_settings() -> Settings:
    return Settings(embedding=EmbeddingSettings(runtime="torch", dtype="float32"))


def test_the_manifest_records_runtime_and_precision(torch_index: Path) -> None:
    manifest = read_manifest(torch_index)
    assert (manifest.embedding_runtime, manifest.embedding_precision) == ("torch", "float32")


def test_a_torch_index_opens_under_openvino(torch_index: Path, tmp_path: Path) -> None:
    Index.open(torch_index, Settings()).close()  # runtime openvino: the agreement check passes
    # An index from before the runtime fields (like /tmp/shared_index) reads as torch.
    old = tmp_path / "old"
    copy_index(torch_index, old)
    data = json.loads((old / "manifest.json").read_text())
    del data["embedding_runtime"], data["embedding_precision"]
    (old / "manifest.json").write_text(json.dumps(data))
    assert read_manifest(old).embedding_runtime == "torch"
    Index.open(old, Settings()).close()


def test_disagreeing_vectors_are_refused(torch_index: Path, tmp_path: Path) -> None:
    planted = tmp_path / "planted"
    copy_index(torch_index, planted)
    rng = np.random.default_rng(0)
    with sqlite3.connect(planted / "store.sqlite") as db:
        rows = [r for (r,) in db.execute("SELECT row FROM chunks ORDER BY row LIMIT 8")]
        assert len(rows) == AGREEMENT_SAMPLE
        for row in rows:
            vector = rng.standard_normal(384).astype(np.float16)
            db.execute("UPDATE chunks SET vector = ? WHERE row = ?", (vector.tobytes(), row))
    with pytest.raises(IndexProblem, match=r"disagrees with it \(cosine .* first 8 chunks\)"):
        Index.open(planted, Settings())
    Index.open(planted, torch_settings()).close()  # its own runtime: no check


def copy_index(source: Path, target: Path) -> None:
    """A copy of the index files (not the lock)."""
    target.mkdir()
    for path in source.iterdir():
        if path.is_file() and path.name != ".lock":
            (target / path.name).write_bytes(path.read_bytes())


def linked_model(folder: Path) -> Path:
    """The packaged model behind links, in a writable folder of its own (its own IR cache)."""
    model = folder / "model"
    model.mkdir()
    for path in default_model_path().iterdir():
        if path.name != "litrag-openvino":
            (model / path.name).symlink_to(path)
    return model


@pytest.fixture(scope="module")
def int8_model(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model folder whose int8 copy the first ingest of >= 64 passages made."""
    model = linked_model(tmp_path_factory.mktemp("int8"))
    embedder = Embedder(EmbeddingSettings(model=str(model)))
    assert (embedder.index_precision, embedder.int8) == ("bfloat16", None)
    embedder.embed_for_index(abstracts(shared, CALIBRATION_PASSAGES - 1))
    assert embedder.int8 is None  # too few passages to calibrate on
    embedder.embed_for_index(abstracts(shared, 100))
    assert embedder.index_precision == "int8"
    return model


def test_an_int8_copy_is_calibrated_once_and_agrees(
    int8_model: Path, shared: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (folder,) = (int8_model / "litrag-openvino").glob("*-int8")
    assert sorted(p.name for p in folder.iterdir()) == [
        "calibration.json", "model.bin", "model.xml"
    ]  # fmt: skip
    note = json.loads((folder / "calibration.json").read_text())
    assert note["passages"] == CALIBRATION_PASSAGES and note["kept"] is True
    assert note["min_cosine_to_bfloat16"] >= AGREEMENT_COSINE
    with caplog.at_level(logging.INFO, logger="rag.index.embed.embedder"):
        embedder = Embedder(EmbeddingSettings(model=str(int8_model)))  # found, not made again
        texts = abstracts(shared, 300)[200:]  # passages it was not calibrated on
        int8, same = embedder.embed_for_index(texts), embedder.embed_documents(texts)
    assert "calibrating" not in caplog.text
    assert embedder.index_precision == "int8"
    assert float(np.min((int8 * same).sum(axis=1))) >= AGREEMENT_COSINE
    assert float(np.mean((int8 * same).sum(axis=1))) >= 0.995
    # Questions stay in bf16: the same vector as without the int8 copy.
    plain = Embedder(EmbeddingSettings(model=str(int8_model), ingest_precision="same"))
    assert plain.int8 is None and plain.index_precision == "bfloat16"
    question = "Is BRAF V600E targetable in melanoma?"
    assert float(embedder.embed_query(question)[0] @ plain.embed_query(question)[0]) >= 0.9999


def test_an_int8_index_records_it_and_opens_under_bf16(
    int8_model: Path, shared: Path, tmp_path: Path
) -> None:
    lines = (shared / "corpus/pubmedqa/pqal_contexts.jsonl").read_text().splitlines()[:80]
    sample = tmp_path / "sample.jsonl"
    sample.write_text("\n".join(lines) + "\n")
    settings = Settings(embedding=EmbeddingSettings(model=str(int8_model)))
    ingest([sample], tmp_path / "index", settings)
    manifest = read_manifest(tmp_path / "index")
    assert (manifest.embedding_runtime, manifest.embedding_precision) == ("openvino", "int8")
    same = Settings(embedding=EmbeddingSettings(model=str(int8_model), ingest_precision="same"))
    # Opened for bf16 passages: the agreement check passes; questions find their abstracts.
    retriever = open_retriever(tmp_path / "index", same)
    record = json.loads(lines[5])
    (hit,) = retriever.search(record["text"][:400], k=1, mode="dense")
    retriever.index.close()
    assert hit.doc_id == f"pmid:{record['_id']}"


def test_a_rejected_int8_copy_is_not_tried_again(shared: Path, tmp_path: Path) -> None:
    model = linked_model(tmp_path)
    embedder = Embedder(EmbeddingSettings(model=str(model)))
    folder = embedder.compiled.ir.parent.with_name(embedder.compiled.ir.parent.name + "-int8")
    folder.mkdir()
    (folder / "calibration.json").write_text(json.dumps({"kept": False}))  # as a rejection leaves
    again = Embedder(EmbeddingSettings(model=str(model)))
    again.embed_for_index(abstracts(shared, CALIBRATION_PASSAGES))
    assert again.int8 is None and again.index_precision == "bfloat16"
    assert sorted(p.name for p in folder.iterdir()) == ["calibration.json"]
