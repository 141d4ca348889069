"""``rag tune verifier`` end to end on a slice of Citation-Integrity train: a real MiniLM
cross-encoder is trained for a few steps, saved with safetensors, a card and its mix, and the
verifier uses the mix when ``answer.cross_encoder`` names the folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from base.errors import ConfigError
from base.settings import AnswerSettings, EmbeddingSettings, Settings
from rag.answer.verify import MIX_FILE, Verifier, load_cross_encoder
from rag.index.embed.embedder import Embedder, load_embedder
from tune.loop import TrainOptions
from tune.verifier import VerifierRequest, fit_mix, mixed, read_pairs, rows_of, tune_verifier

CITINT = Path(__file__).resolve().parents[2].parent / "shared" / "gold" / "citint"


@pytest.fixture(scope="module")
def gold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 24 train claims and the papers they cite, in a folder of their own."""
    folder = tmp_path_factory.mktemp("citint")
    lines = (CITINT / "claims_train.jsonl").read_text().splitlines()[:24]
    cited = {str(d) for line in lines for d in json.loads(line)["cited_doc_ids"]}
    with (CITINT / "corpus.jsonl").open() as f:
        papers = [line for line in f if str(json.loads(line)["doc_id"]) in cited]
    (folder / "claims_train.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "corpus.jsonl").write_text("".join(papers))
    return folder


@pytest.fixture(scope="module")
def trained(gold: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "verifier"
    options = TrainOptions(epochs=1, batch_size=8, max_tokens=64, learning_rate=5e-5)
    tune_verifier(VerifierRequest(gold, out, validation_fraction=0.5, options=options), Settings())
    return out


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return load_embedder(EmbeddingSettings())


def test_rows_add_false_copies_of_supported_claims(gold: Path) -> None:
    pairs = read_pairs(gold)
    rows = rows_of(pairs)
    supported = sum(p.accurate for p in pairs)
    assert len(pairs) < len(rows) <= len(pairs) + supported
    assert sum(r[2] for r in rows) == supported  # the copies are negatives


def test_the_folder_holds_the_model_its_card_and_mix(trained: Path) -> None:
    names = {p.name for p in trained.iterdir()}
    assert {"model.safetensors", "README.md", "litrag-tuning.json", MIX_FILE} <= names
    assert not any(n.endswith((".bin", ".pt", ".pth", ".pkl")) for n in names)
    doc = json.loads((trained / MIX_FILE).read_text())
    assert set(doc["mix"]) == {"cheap", "cross_encoder", "bias"}
    assert {"verifier", "cross_encoder_alone", "mixed"} <= set(doc["validation"])
    assert "litrag tuned verifier" in (trained / "README.md").read_text()


def test_the_verifier_uses_the_models_own_mix(trained: Path, embedder: Embedder) -> None:
    model = load_cross_encoder(str(trained))
    verifier = Verifier(embedder, AnswerSettings(), cross_encoder=model)
    mix = json.loads((trained / MIX_FILE).read_text())["mix"]
    used = verifier.weights.extras["cross_encoder"]
    assert (used["cheap"], used["cross_encoder"]) == pytest.approx(
        (mix["cheap"], mix["cross_encoder"])
    )
    verdict = verifier.verify(["Ibuprofen increased blood loss."], ["Blood loss rose by 45%."])
    assert 0 < verdict[0][0].support < 1 and "cross_encoder" in verdict[0][0].signals


def test_a_used_folder_is_refused(trained: Path, gold: Path) -> None:
    with pytest.raises(ConfigError, match="not empty"):
        tune_verifier(VerifierRequest(gold, trained), Settings())


def test_a_broken_mix_is_named(trained: Path, tmp_path: Path) -> None:
    copy = tmp_path / "model"
    copy.mkdir()
    for p in trained.iterdir():
        (copy / p.name).write_bytes(p.read_bytes())
    (copy / MIX_FILE).write_text('{"mix": {"cheap": 1}}')
    with pytest.raises(ConfigError, match=MIX_FILE):
        load_cross_encoder(str(copy))


def test_the_mix_learns_which_score_to_trust() -> None:
    rng = np.random.default_rng(0)
    labels = (rng.random(400) < 0.5).astype(float)
    good = np.clip(0.5 + 0.3 * (labels - 0.5) + rng.normal(0, 0.1, 400), 0.01, 0.99)
    noise = rng.random(400)
    mix = fit_mix(noise, good, labels)
    assert abs(mix["cross_encoder"]) > 5 * abs(mix["cheap"])
    assert mixed(mix, noise, good)[labels == 1].mean() > mixed(mix, noise, good)[labels == 0].mean()
