"""The llama.cpp engine on the real packaged SmolLM2: prompt, streaming, labels, cache, fallback."""

from __future__ import annotations

import ast
import json
import logging
import sys
from pathlib import Path

import numpy as np
import pytest

from base.errors import ConfigError
from base.settings import GenerationSettings
from rag.answer.engines import _load, load_backend
from rag.answer.engines.llamacpp import LlamaModel
from rag.answer.engines.transformers import LocalModel
from rag.answer.prompts import answer_messages, judge_messages, label_messages
from rag.answer.records import Source
from tests.llm import TINY_LLM

MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Name three parts of the tumour microenvironment."},
]
LABELS = ["yes", "no", "maybe"]


@pytest.fixture(scope="module")
def llama() -> LlamaModel:
    backend = load_backend(GenerationSettings(model=TINY_LLM))
    assert isinstance(backend, LlamaModel)  # llama.cpp is the default for the packaged GGUF
    return backend


@pytest.fixture(scope="module")
def torch_model() -> LocalModel:
    backend = load_backend(GenerationSettings(model=TINY_LLM, engine="transformers"))
    assert isinstance(backend, LocalModel)
    return backend


def pubmedqa(shared: Path, n: int) -> list[tuple[str, list[dict[str, str]]]]:
    """The first ``n`` PubMedQA dev questions as label prompts over their own abstracts."""
    gold = json.loads((shared / "gold/pubmedqa/pqal_dev.json").read_text())
    out = []
    for pmid, q in list(gold.items())[:n]:
        contexts = q["CONTEXTS"]
        contexts = ast.literal_eval(contexts) if isinstance(contexts, str) else contexts
        source = Source(n=1, doc_id=f"pmid:{pmid}", title="", section="",
                        passage=" ".join(contexts), score=1.0, pmid=pmid)  # fmt: skip
        out.append((q["final_decision"], label_messages(q["QUESTION"], [source], LABELS)))
    return out


def test_prompt_tokens_are_transformers_chat_template(
    llama: LlamaModel, torch_model: LocalModel
) -> None:
    for messages in (MESSAGES, judge_messages("MDM2 is amplified.", "MDM2 was amplified in 5%.")):
        expected = torch_model.prompt_ids(messages)["input_ids"][0].tolist()
        assert llama.prompt_ids(messages) == expected


def test_stream_yields_pieces_and_stops_at_max_tokens(llama: LlamaModel) -> None:
    pieces = list(llama.stream(MESSAGES, 20))
    assert len(pieces) > 5
    assert 0 < llama.count_tokens("".join(pieces)) <= 21


def test_greedy_decoding_is_repeatable(llama: LlamaModel) -> None:
    assert "".join(llama.stream(MESSAGES, 30)) == "".join(llama.stream(MESSAGES, 30))


def test_sampled_decoding_varies(llama: LlamaModel) -> None:
    hot = LlamaModel(GenerationSettings(model=TINY_LLM, temperature=1.5), llama.source, "hot")
    replies = {"".join(hot.stream(MESSAGES, 15)) for _ in range(4)}
    assert len(replies) > 1


def test_label_scoring_agrees_with_transformers(
    llama: LlamaModel, torch_model: LocalModel, shared: Path
) -> None:
    # llama.cpp's own scoring, on the packaged file's own weights (a Q4_0 copy moves the
    # near-tied labels of this tiny model: 15-16 of 20 agreed, benchmarks/answer_latency.py).
    settings = GenerationSettings(model=TINY_LLM, score_engine="llama.cpp", requantize="off")
    scorer = LlamaModel(settings, llama.source, "scorer")
    same = 0
    for _, messages in pubmedqa(shared, 20):
        a, b = scorer.option_scores(messages, LABELS), torch_model.option_scores(messages, LABELS)
        same += int(np.argmax(a) == np.argmax(b))
    assert same >= 18


def test_labels_are_scored_by_transformers_by_default(
    llama: LlamaModel, torch_model: LocalModel
) -> None:
    messages = judge_messages("MDM2 is amplified.", "MDM2 was amplified in 5% of tumours.")
    assert llama.option_scores(messages, LABELS) == torch_model.option_scores(messages, LABELS)


def test_multi_token_options_score_their_continuation(llama: LlamaModel) -> None:
    # Plain attention: its logits do not depend on how the prompt was split into batches.
    plain = GenerationSettings(model=TINY_LLM, score_engine="llama.cpp", flash_attention=False)
    own = LlamaModel(plain, llama.source, "own")
    messages = judge_messages("MDM2 is amplified.", "MDM2 was amplified in 5% of tumours.")
    yes, long_yes = own.option_scores(messages, ["yes", "yes, it does"])
    assert long_yes < yes  # more tokens to explain: a lower log-likelihood
    assert own.option_scores(messages, ["yes"]) == [yes]  # the rollback left the prompt intact


SOURCE = Source(n=1, doc_id="pmid:1", title="MDM2 and hyperprogression", section="",
                passage="MDM2 amplification was seen in patients with hyperprogressive "
                "disease after immune checkpoint inhibitors. " * 8, score=1.0)  # fmt: skip
FIRST = answer_messages("Is MDM2 amplification linked to hyperprogression?", [SOURCE])
FOLLOW = answer_messages("Which therapy was involved?", [SOURCE])


def test_follow_up_reuses_the_cached_prefix(llama: LlamaModel) -> None:
    batcher = llama.batcher()
    assert batcher is not None  # parallel = 8 by default: replies go through the batcher
    "".join(llama.stream(FIRST, 10))
    "".join(llama.stream(FOLLOW, 10))
    assert batcher.last_reused > len(llama.prompt_ids(FOLLOW)) * 0.8


@pytest.mark.parametrize("flash", [False, True])
def test_follow_up_reuses_the_cached_prefix_in_the_own_context(
    llama: LlamaModel, flash: bool
) -> None:
    settings = GenerationSettings(model=TINY_LLM, parallel=1, flash_attention=flash)
    llama = LlamaModel(settings, llama.source, "own")
    "".join(llama.stream(FIRST, 10))
    ids = llama.prompt_ids(FOLLOW)
    warm = llama.feed(ids)
    assert llama.last_evaluated < len(ids) // 5  # only the new question was evaluated
    llama.forget()
    cold = llama.feed(ids)
    assert llama.last_evaluated == len(ids)
    assert int(np.argmax(warm)) == int(np.argmax(cold))
    if not flash:
        assert np.abs(warm - cold).max() < 0.05
    else:  # flash attention's logits move with the batch split: 0.54 at most, measured
        assert np.abs(warm - cold).mean() < 0.2 and np.abs(warm - cold).max() < 1.5


def test_unloadable_gguf_names_the_file_and_both_reasons(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "broken.gguf").write_bytes(b"GGUF" + bytes(range(256)) * 8)
    settings = GenerationSettings(model=str(tmp_path), gguf_file="broken.gguf")
    with caplog.at_level(logging.WARNING), pytest.raises(ConfigError) as err:
        _load(settings)
    assert "broken.gguf" in caplog.text and "llama.cpp" in caplog.text
    assert "broken.gguf" in str(err.value) and "llama.cpp" in str(err.value)


def test_falls_back_to_transformers_without_llama_cpp(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as on an install without the build
    with caplog.at_level(logging.WARNING):
        backend = _load.__wrapped__(GenerationSettings(model=TINY_LLM))
    assert isinstance(backend, LocalModel)
    assert "llama_cpp is not importable" in caplog.text
