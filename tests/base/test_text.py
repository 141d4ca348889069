"""The text toolkit: one way to read words, stems, sentences and identifiers."""

from __future__ import annotations

import sys

from base.text import (
    DOI,
    PASSAGE_BREAK,
    PMCID,
    bm25_tokenize,
    bm25_words,
    content_stems,
    is_claim,
    split_sentences,
)

TEXT = "The IL-6 levels were increased in 12 of 20 patients (e.g. in Fig. 2), not in controls."


def test_bm25_words_are_the_words_bm25s_indexes() -> None:
    tokens = bm25_tokenize([TEXT], as_ids=False)[0]
    assert bm25_words(TEXT).split() == list(tokens)


def test_content_stems_drop_stop_words_and_stem() -> None:
    assert content_stems("The patients were treated") == {"patient", "treat"}


def test_is_claim_needs_two_content_words() -> None:
    assert not is_claim("1.")
    assert not is_claim("But when you need")
    assert is_claim("MDM2 amplification predicts hyperprogression.")


def test_split_sentences_keeps_markers_and_abbreviations() -> None:
    text = "A rose [1]. See e.g. Fig. 2 for B. C fell."
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "A rose [1].",
        "See e.g. Fig. 2 for B.",
        "C fell.",
    ]


def test_passage_breaks_include_clauses_and_lines() -> None:
    assert [m.group() for m in PASSAGE_BREAK.finditer("a; b. c\n\nd")] == ["; ", ". ", "\n\n"]


def test_identifiers() -> None:
    assert DOI.search("doi: 10.1016/j.pharmthera.2020.107753.").group() == (  # type: ignore[union-attr]
        "10.1016/j.pharmthera.2020.107753."
    )
    assert PMCID.search("see PMC1234567 here").group() == "PMC1234567"  # type: ignore[union-attr]


def test_the_readers_load_no_bm25s() -> None:
    import subprocess

    code = "import corpus.text, sys; print('bm25s' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
