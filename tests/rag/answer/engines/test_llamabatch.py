"""Replies decoded together in one llama.cpp context, on the real packaged SmolLM2."""

from __future__ import annotations

import threading
import time

import pytest

from base.errors import GenerationError
from base.settings import GenerationSettings
from rag.answer.engines import load_backend
from rag.answer.engines.llamacpp import LlamaModel
from tests.llm import TINY_LLM


def messages(topic: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": f"Name three facts about {topic}."},
    ]


TOPICS = ["the tumour microenvironment", "MDM2", "TP53", "mammography", "insulin"]


@pytest.fixture(scope="module")
def batched() -> LlamaModel:
    backend = load_backend(GenerationSettings(model=TINY_LLM, parallel=4))
    assert isinstance(backend, LlamaModel)
    return backend


def test_one_batched_reply_is_the_single_context_reply(batched: LlamaModel) -> None:
    single = LlamaModel(GenerationSettings(model=TINY_LLM, parallel=1), batched.source, "single")
    assert single.batcher() is None
    want = "".join(single.stream(messages(TOPICS[0]), 30))
    assert "".join(batched.stream(messages(TOPICS[0]), 30)) == want


def test_concurrent_replies_are_decoded_together(batched: LlamaModel) -> None:
    """Every reply has begun before any has ended: no asker waits for another's whole reply."""
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    texts: dict[int, str] = {}

    def ask(i: int) -> None:
        pieces = []
        for piece in batched.stream(messages(TOPICS[i]), 40):
            first.setdefault(i, time.monotonic())
            pieces.append(piece)
        last[i] = time.monotonic()
        texts[i] = "".join(pieces)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(TOPICS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(texts[i].strip() for i in range(len(TOPICS)))  # 5 askers on 4 slots: all answered
    assert sorted(first.values())[3] < min(last.values())  # 4 slots: 4 replies under way at once


def test_a_reader_that_stops_frees_its_slot(batched: LlamaModel) -> None:
    for _ in range(6):  # more abandoned replies than slots
        stream = batched.stream(messages(TOPICS[1]), 100)
        next(stream)
        stream.close()
    assert "".join(batched.stream(messages(TOPICS[2]), 10)).strip()


def test_a_prompt_longer_than_a_slot_runs_in_the_own_context(batched: LlamaModel) -> None:
    long = messages("MDM2 " * 400)
    assert 1024 < len(batched.prompt_ids(long)) < 2048
    assert "".join(batched.stream(long, 5))
    with pytest.raises(GenerationError, match=r"more than generation\.context_tokens"):
        "".join(batched.stream(messages("MDM2 " * 900), 5))


def test_forget_empties_the_slots(batched: LlamaModel) -> None:
    batcher = batched.batcher()
    assert batcher is not None
    "".join(batched.stream(messages(TOPICS[0]), 3))
    "".join(batched.stream(messages(TOPICS[0]), 3))
    assert batcher.last_reused > 0  # the same prompt again: its cells were kept
    batched.forget()
    "".join(batched.stream(messages(TOPICS[0]), 3))
    assert batcher.last_reused == 0  # evaluated from its first token
