"""Extractive answers drop structured-abstract labels at sentence starts."""

from __future__ import annotations

import pytest

from rag.answer.pipeline import without_label


@pytest.mark.parametrize(
    ("sentence", "clean"),
    [
        ("OBJECTIVE: To assess MDM2 in HPD.", "To assess MDM2 in HPD."),
        ("MATERIALS AND METHODS: We enrolled 40 patients.", "We enrolled 40 patients."),
        ("BACKGROUND/AIMS: Little is known.", "Little is known."),
        ("MDM2: amplified in 5% of tumours.", "MDM2: amplified in 5% of tumours."),
        ("The p53 pathway: a review.", "The p53 pathway: a review."),
        ("Results were consistent.", "Results were consistent."),
    ],
)
def test_without_label(sentence: str, clean: str) -> None:
    assert without_label(sentence) == clean
