"""The transformers engine's token loop, against transformers' own ``generate`` on the real
default LLM."""

from __future__ import annotations

import pytest
import torch
from transformers import DynamicCache

from base.settings import GenerationSettings
from rag.answer.engines import load_backend
from rag.answer.engines.transformers import LocalModel
from tests.llm import TINY_LLM

MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Name three parts of the tumour microenvironment."},
]


@pytest.fixture(scope="module")
def model() -> LocalModel:
    backend = load_backend(GenerationSettings(model=TINY_LLM, engine="transformers"))
    assert isinstance(backend, LocalModel)
    return backend


def reference(model: LocalModel, max_tokens: int) -> str:
    inputs = model.prompt_ids(MESSAGES)
    with torch.inference_mode():
        out = model.model.generate(
            **inputs,
            max_new_tokens=max_tokens,
            do_sample=False,
            repetition_penalty=model.settings.repetition_penalty,
            pad_token_id=model.tokenizer.eos_token_id,
        )
    return str(
        model.tokenizer.decode(out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
    )


def test_stream_is_greedy_decoding_with_the_repetition_penalty(
    model: LocalModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A dynamic cache, like generate's default, so the two runs do the same arithmetic.
    monkeypatch.setattr(model, "new_cache", lambda length: DynamicCache())
    assert "".join(model.stream(MESSAGES, 40)).strip() == reference(model, 40).strip()


def test_stream_stops_at_max_tokens(model: LocalModel) -> None:
    text = "".join(model.stream(MESSAGES, 12))
    assert 0 < len(model.tokenizer(text, add_special_tokens=False)["input_ids"]) <= 13


def test_stream_yields_pieces_as_it_goes(model: LocalModel) -> None:
    assert len(list(model.stream(MESSAGES, 20))) > 5
