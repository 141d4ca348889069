"""The /ask API through gradio_client against the served app, alone and with 8 askers at once.

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
