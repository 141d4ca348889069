"""Follow-up rewriting cannot import answer text (rag.answer.followup)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from base.settings import GenerationSettings
from base.text import content_stems
from rag.answer.engines import load_backend
from rag.answer.followup import accept_rewrite, needs_context, standalone
from rag.answer.prompts import rewrite_messages
from rag.answer.records import Turn
from tests.llm import TINY_LLM

MDM2 = (
    "Why are patients with MDM2 amplification at risk during immune checkpoint inhibitor therapy?"
)
INVENTED = (
    "Patients with MDM2 amplification are at risk due to their increased susceptibility to "
    "chemotherapy side effects such as toxicity to other medications used to treat them."
)
HISTORY = (Turn(MDM2, INVENTED),)
FOLLOW_UP = "and in lung cancer?"


def test_a_rewrite_from_the_questions_is_accepted() -> None:
    rewrite = "Are MDM2 amplification patients at risk during checkpoint therapy in lung cancer?"
    assert accept_rewrite(rewrite, FOLLOW_UP, HISTORY)
    assert standalone(FOLLOW_UP, HISTORY, lambda q, h: rewrite) == rewrite


def test_a_rewrite_that_repeats_the_answer_is_refused() -> None:
    rewrite = "Why does MDM2 amplification cause chemotherapy toxicity in lung cancer?"
    assert not accept_rewrite(rewrite, FOLLOW_UP, HISTORY)
    assert standalone(FOLLOW_UP, HISTORY, lambda q, h: rewrite) == f"{MDM2} {FOLLOW_UP}"


@pytest.mark.parametrize(
    "rewrite",
    [
        "",
        "MDM2 amplification?",  # drops the follow-up's own words
        "What about lung cancer?",  # adds nothing of the conversation
        f"{MDM2} {FOLLOW_UP} " * 5,  # far longer than the fallback
    ],
)
def test_other_bad_rewrites_are_refused(rewrite: str) -> None:
    assert not accept_rewrite(rewrite, FOLLOW_UP, HISTORY)


def test_words_of_any_earlier_question_may_be_used() -> None:
    history = (Turn("What is hyperprogressive disease?", "..."), *HISTORY)
    rewrite = "Hyperprogressive disease with MDM2 amplification in lung cancer?"
    assert accept_rewrite(rewrite, FOLLOW_UP, history)


def test_standalone_questions_and_missing_rewriters() -> None:
    question = "Which biomarkers predict hyperprogression under PD-1 blockade in melanoma patients?"
    assert not needs_context(question)
    assert standalone(question, HISTORY, lambda q, h: "ignored") == question
    assert standalone(FOLLOW_UP, (), None) == FOLLOW_UP
    assert standalone(FOLLOW_UP, HISTORY, None) == f"{MDM2} {FOLLOW_UP}"


@pytest.mark.integration
def test_the_default_model_cannot_carry_the_answer_into_the_search() -> None:
    """The real SmolLM2 rewrites the lung-cancer follow-up; no answer word reaches the search."""
    backend = load_backend(GenerationSettings(model=TINY_LLM))

    def rewriter(question: str, history: Sequence[Turn]) -> str:
        return "".join(backend.stream(rewrite_messages(question, history), 60))

    searched = standalone(FOLLOW_UP, HISTORY, rewriter)
    asked = content_stems(MDM2) | content_stems(FOLLOW_UP)
    assert content_stems(searched) <= asked, searched
    assert {"lung", "cancer", "mdm2"} <= content_stems(searched)
    assert not content_stems(searched) & {"chemotherapi", "toxic", "medic"}
