"""The endpoint's constrained choice: option log-probabilities from the server's top_logprobs.

Against a loopback OpenAI-style server (tests/rag/answer/chat_server.py) that returns the first
token's alternatives as vLLM and llama.cpp server do, and one that returns none.
"""

from __future__ import annotations

import math

import pytest

from base.settings import GenerationSettings
from rag.answer.engines.openai import Endpoint, option_logprobs
from rag.answer.verify import judge_from
from tests.rag.answer.chat_server import chat_server


def test_option_mass_adds_the_spellings_of_an_option() -> None:
    top = [(" Yes", math.log(0.5)), ("yes", math.log(0.2)), (" No", math.log(0.25)), ("The", -4.0)]
    yes, no, maybe = option_logprobs(top, ["yes", "no", "maybe"])
    assert yes == pytest.approx(math.log(0.7))
    assert no == pytest.approx(math.log(0.25))
    assert maybe == pytest.approx(-5.0)  # not listed: below the smallest listed


def test_the_judge_reads_the_servers_logprobs() -> None:
    top = [(" No", math.log(0.8)), (" Yes", math.log(0.15))]
    with chat_server(lambda _: "No", logprobs=lambda _: top) as (url, requests):
        engine = Endpoint(GenerationSettings(endpoint=url))
        support = judge_from(engine)("Aspirin cures influenza.", "Aspirin reduced fever.")
    assert support == pytest.approx(0.15 / (0.15 + 0.8))
    assert requests[0]["logprobs"] is True and requests[0]["top_logprobs"] == 20
    assert "stream" not in requests[0]


def test_a_server_without_logprobs_is_judged_by_its_reply() -> None:
    with chat_server(lambda _: "Yes, it does.") as (url, _):
        scores = Endpoint(GenerationSettings(endpoint=url)).option_scores(
            [{"role": "user", "content": "Supported?"}], ["yes", "no"]
        )
    assert scores == [0.0, -1.0]
