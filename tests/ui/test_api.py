"""The /ask and /ask_stream APIs through gradio_client against the served app, alone and at once.

Integration: real index of ../shared, real embedder; extractive mode keeps the load test fast.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from gradio_client import Client

from tests.ui.pages import QUIET_GRADIO_QUEUE, SEED_PUBMED, SEED_QUESTION

pytestmark = [pytest.mark.integration, QUIET_GRADIO_QUEUE]

QUESTIONS = [
    SEED_QUESTION,
    "Does MDM2 amplification cause hyperprogressive disease?",
    "What affects lysis time in bacteriophage lambda?",
    "How reliable is the Dutch Oral Health Impact Profile?",
    "Is Rift Valley fever virus circulating in sheep and goats in Mozambique?",
    "Do oral contraceptives change the risk of colorectal cancer?",
    "What is the mortality of acute respiratory distress syndrome?",
    "Does PBDE-47 alter thyroid hormone status?",
]


def test_ask_returns_the_answer_with_citations_and_pubmed_links(served_extractive: str) -> None:
    client = Client(served_extractive, verbose=False)
    assert "/ask" in client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    result = client.predict(SEED_QUESTION, api_name="/ask")
    assert result["abstained"] is False and result["answer"]
    urls = [c["url"] for c in result["citations"]]
    assert SEED_PUBMED in urls
    assert {"n", "pmid", "doi", "title", "passage", "supported", "evidence"} <= set(
        result["citations"][0]
    )


def test_an_empty_question_comes_back_as_its_message(served_extractive: str) -> None:
    client = Client(served_extractive, verbose=False)
    with pytest.raises(Exception, match="the question is empty"):
        client.predict("   ", api_name="/ask")


def test_the_queue_serves_eight_concurrent_askers(served_extractive: str) -> None:
    def ask(question: str) -> dict[str, Any]:
        result: dict[str, Any] = Client(served_extractive, verbose=False).predict(
            question, api_name="/ask"
        )
        return result

    with ThreadPoolExecutor(max_workers=len(QUESTIONS)) as pool:
        results = list(pool.map(ask, QUESTIONS))
    assert [r["question"] for r in results] == QUESTIONS
    assert all(r["answer"] and r["sources"] for r in results)
    assert sum(not r["abstained"] for r in results) >= 6, [r["answer"] for r in results]


def test_ask_stream_sends_drafts_to_three_concurrent_askers_then_their_answers(
    served: str,
) -> None:
    """Generate mode, 3 askers at once: each sees drafts as the LLM writes, then its answer."""

    def ask(question: str) -> list[dict[str, Any]]:
        job = Client(served, verbose=False).submit(question, "generate", api_name="/ask_stream")
        return [out for out in job if isinstance(out, dict)]

    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = list(pool.map(ask, QUESTIONS[:3]))
    for question, outputs in zip(QUESTIONS[:3], runs, strict=True):
        assert any(out.get("draft") for out in outputs[:-1])
        assert outputs[-1]["question"] == question and outputs[-1]["answer"]


def test_ask_takes_a_mode(served_extractive: str) -> None:
    client = Client(served_extractive, verbose=False)
    result = client.predict(SEED_QUESTION, "extractive", api_name="/ask")
    assert result["answer"] and result["citations"]
    with pytest.raises(Exception, match="mode must be"):
        client.predict(SEED_QUESTION, "poetry", api_name="/ask")
