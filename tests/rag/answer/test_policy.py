"""The answer policy: an unsupported sentence is never shown as fact.

A real index of text files written here, the real embedder and verifier, and a real HTTP server
on loopback standing in for the LLM behind an OpenAI-compatible endpoint (it says what a small
model said on the seed question: a true sentence and an invented mechanism).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from base.settings import Settings
from rag.answer.pipeline import Pipeline
from rag.answer.records import Answer
from rag.index.ingest.pipeline import ingest
from tests.rag.answer.chat_server import chat_server
from ui import render

MDM2_DOC = (
    "PMID: 11111111\nTitle: MDM2 amplification and hyperprogression\n\nPatients with MDM2 "
    "amplification are vulnerable to hyperprogressive disease after immune checkpoint inhibitor "
    "therapy. Survival is shorter in these patients."
)
QUESTION = "Why are patients with MDM2 amplification at risk during checkpoint inhibitor therapy?"
TRUE = "MDM2 amplification makes hyperprogressive disease likely after checkpoint therapy [1]."
INVENTED = (
    "Patients with MDM2 amplification are at risk during checkpoint inhibitor therapy due to "
    "their increased susceptibility to chemotherapy side effects such as toxicity to other "
    "medications [1]."
)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("docs")
    (src / "mdm2.txt").write_text(MDM2_DOC)
    folder = tmp_path_factory.mktemp("index")
    ingest([src], folder, Settings())
    return folder


def ask(index: Path, reply: str, **answer: object) -> Answer:
    with chat_server(lambda messages: reply) as (url, _):
        settings = Settings(generation={"endpoint": url}, answer=answer)  # type: ignore[arg-type]
        return Pipeline.open(index, settings).ask(QUESTION)


def test_an_invented_mechanism_is_removed_and_listed(index: Path) -> None:
    answer = ask(index, f"{TRUE} {INVENTED}")
    assert [s.text for s in answer.sentences] == [TRUE.replace(" [1]", "")]
    assert "chemotherapy" not in answer.answer
    removed = answer.to_json()["removed"]
    assert [set(r) for r in removed] == [{"text", "cited", "support"}]
    assert "chemotherapy" in removed[0]["text"] and removed[0]["cited"] == [1]


def test_removed_sentences_are_shown_folded(index: Path) -> None:
    html = render.answer_html(ask(index, f"{TRUE} {INVENTED}"))
    folded = html.split('<details class="removed-sentences">', 1)[1].split("</details>", 1)[0]
    assert "removed: not supported by its source" in folded and "chemotherapy" in folded
    assert "chemotherapy" not in html.split('<details class="removed-sentences">', 1)[0]


def test_nothing_supported_falls_back_to_the_extractive_answer(index: Path) -> None:
    answer = ask(index, INVENTED)
    assert answer.mode == "extractive" and answer.sentences
    assert any("no sentence of the generated answer" in w for w in answer.warnings)
    assert len(answer.removed) == 1


def test_flag_only_setting_keeps_the_sentence_flagged(index: Path) -> None:
    answer = ask(index, f"{TRUE} {INVENTED}", remove_unsupported=False)
    assert [s.supported for s in answer.sentences] == [True, False]
    assert answer.removed == ()
