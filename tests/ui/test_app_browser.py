"""The served app in Debian's chromium: chat, cards, follow-ups, lookup, library, inert markup.

Integration: the index is built from ../shared with the real embedder, and the chat test runs
the real LLM (SmolLM2-135M), so it checks the link to the paper, never the model's wording.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.ui.pages import (
    QUIET_GRADIO_QUEUE,
    SEED_PUBMED,
    SEED_QUESTION,
    UPLOAD_LIMIT_MB,
    save_screenshot,
)

pytestmark = [pytest.mark.integration, QUIET_GRADIO_QUEUE]

CHAT_SCREENSHOT = Path("/tmp/litrag-ui-chat.png")
SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'
TEMPLATE = "${window.__pwned=1}"
HOSTILE_TXT = f"""Quokka telomerase {SCRIPT} assays in island marsupials
Journal of Marsupial Oncology; 2023
ABSTRACT
Quokka telomerase assays show {IMG} unusually high telomerase activity in quokka fibroblasts,
{TEMPLATE} which may explain their resistance to cancer. The assays measured telomerase in
forty quokkas from Rottnest Island.
"""
NBIB = """PMID- 39999001
TI  - Wombat burrow microclimate and fungal spore survival: a field study.
DP  - 2022 Mar
AB  - We measured temperature and humidity in 30 wombat burrows and the survival of fungal
      spores kept inside them for twelve weeks.
FAU - Ngata, Mere
AU  - Ngata M
JT  - Journal of Burrow Ecology
"""


def ask(page: Page, question: str, mode: str | None = None) -> Locator:
    """Ask in the Chat tab; returns the locator of the newest finished answer."""
    if mode:
        page.locator("#mode label", has_text=mode).click()
    before = page.locator("#chat .answer").count()
    page.fill("#question textarea", question)
    page.click("#ask")
    expect(page.locator("#chat .answer")).to_have_count(before + 1, timeout=180_000)
    return page.locator("#chat .answer").last


def open_tab(page: Page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def upload(page: Page, path: Path) -> Locator:
    """Add one file in the Library tab; returns the status box once the ingest has finished."""
    open_tab(page, "Library")
    page.locator("#upload input[type=file]").set_input_files(str(path))
    expect(page.locator(f'#upload a[href$="/{path.name}"]')).to_be_visible()  # uploaded
    page.click("#add")
    status = page.locator("#library-status")
    expect(status.locator(".ingested, .error").first).to_be_visible(timeout=120_000)
    return status


def test_chat_streams_an_answer_whose_citation_opens_the_pubmed_card(
    page: Page, screenshot_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page.fill("#question textarea", SEED_QUESTION)
    page.click("#ask")
    expect(page.locator("#chat .draft:not(.pending)")).to_be_visible()  # the draft streams in
    answer = page.locator("#chat .answer")
    expect(answer).to_be_visible(timeout=180_000)
    expect(page.locator("#chat .draft")).to_have_count(0)
    card_ids = answer.locator("a.cite").evaluate_all("els => els.map(e => e.hash.slice(1))")
    seed_cards = [i for i in dict.fromkeys(card_ids) if _links_to(page, i, SEED_PUBMED)]
    assert seed_cards, f"no citation of the answer links to {SEED_PUBMED}: {answer.inner_html()}"
    card = page.locator(f"#{seed_cards[0]}")
    assert card.evaluate("e => e.tagName === 'DETAILS' && !e.open")
    answer.locator(f'a.cite[href="#{seed_cards[0]}"]').first.click()
    assert card.evaluate("e => e.open")
    expect(card.locator(f'a[href="{SEED_PUBMED}"]')).to_be_visible()
    expect(card.locator("mark")).to_be_visible()
    expect(card.locator(".badge")).to_have_text(re.compile(r"^(supported|unsupported)$"))
    expect(card.locator(".meta")).to_contain_text("J Biomed Sci · 2024")
    expect(answer.locator(".timings")).to_contain_text("total")
    path = save_screenshot(page, screenshot_dir, "chat.png", copy_to=CHAT_SCREENSHOT)
    with capsys.disabled():
        print(f"\nchat screenshot: {path} (copied to {CHAT_SCREENSHOT})")


def _links_to(page: Page, card_id: str, url: str) -> bool:
    return page.locator(f'#{card_id} a[href="{url}"]').count() > 0


def test_follow_up_is_asked_with_the_conversation(page: Page) -> None:
    first = ask(page, SEED_QUESTION, mode="extractive")
    expect(first.locator("details.card").first).to_have_attribute("id", re.compile("^t1-src-"))
    follow = ask(page, "And what about their survival?")
    expect(follow.locator(".standalone")).to_contain_text("MDM2")
    expect(follow.locator("details.card").first).to_have_attribute("id", re.compile("^t2-src-"))
    page.get_by_role("button", name="New conversation").click()
    expect(page.locator("#chat .answer")).to_have_count(0)


def test_an_unanswerable_question_is_refused_with_the_closest_sources(page: Page) -> None:
    answer = ask(page, "What is the boiling point of liquid nitrogen on Mars?", mode="extractive")
    expect(answer.locator(".refusal-text")).to_contain_text("cannot answer")
    expect(answer.locator("details.card").first).to_be_visible()
    expect(answer.locator(".badge")).to_have_count(0)


def test_sources_and_year_controls_shape_the_search(page: Page) -> None:
    page.locator("#sources input[type=number]").fill("2")
    answer = ask(page, SEED_QUESTION, mode="extractive")
    expect(answer.locator("details.card")).to_have_count(2)  # cited and uncited together
    page.locator("#sources input[type=number]").fill("5")
    page.locator("#year-min textarea").fill("2024")
    page.locator("#year-max textarea").fill("2024")
    answer = ask(page, SEED_QUESTION)
    years = answer.locator("details.card .meta").all_text_contents()
    assert years and all("2024" in y for y in years), years
    page.locator("#year-min textarea").fill("2090")
    page.locator("#year-max textarea").fill("")
    expect(ask(page, SEED_QUESTION).locator(".closest")).to_have_text(
        "No passage matched the filters."
    )


def test_lookup_by_pmid_and_download_bibtex_and_ris(page: Page) -> None:
    open_tab(page, "Lookup")
    page.fill("#lookup-query textarea", "38281981")
    page.click("#lookup-go")
    record = page.locator("#lookup-result .record")
    expect(record).to_contain_text("Targeting MDM2 in malignancies")
    expect(record.locator(f'a[href="{SEED_PUBMED}"]')).to_be_visible()
    for button, start in (("#bibtex", "@article{"), ("#ris", "TY  - JOUR")):
        with page.expect_download() as download:
            page.click(button)
        text = Path(download.value.path()).read_text(encoding="utf-8")
        assert text.lstrip().startswith(start) and "38281981" in text


def test_lookup_of_a_claim_shows_checked_passages(page: Page) -> None:
    open_tab(page, "Lookup")
    page.fill("#lookup-query textarea", "MDM2 amplification leads to hyperprogressive disease")
    page.click("#lookup-go")
    result = page.locator("#lookup-result")
    expect(result).to_contain_text("Looked up as a claim")
    expect(result.locator("details.card .badge").first).to_be_visible()


def test_upload_appears_in_the_library_and_can_be_removed(page: Page, tmp_path: Path) -> None:
    paper = tmp_path / "wombat.nbib"
    paper.write_text(NBIB, encoding="utf-8")
    status = upload(page, paper)
    expect(status).to_contain_text("Added 1 document")
    row = page.locator("#library tr", has_text="Wombat burrow microclimate")
    expect(row).to_contain_text("Journal of Burrow Ecology")
    expect(row.locator('a[href="https://pubmed.ncbi.nlm.nih.gov/39999001/"]')).to_be_visible()
    page.locator("#remove-doc input").fill("pmid:39999001")
    page.get_by_role("option", name=re.compile("pmid:39999001")).click()
    page.click("#remove")
    expect(status).to_contain_text("Removed pmid:39999001")
    expect(page.locator("#library")).not_to_contain_text("Wombat burrow")


def test_uploads_of_the_wrong_type_or_size_are_refused(page: Page, tmp_path: Path) -> None:
    big = tmp_path / "huge.txt"
    big.write_text("x " * int(UPLOAD_LIMIT_MB * 2**20), encoding="utf-8")
    word = tmp_path / "notes.docx"
    word.write_bytes(b"PK\x03\x04 not a paper")
    open_tab(page, "Library")
    files = page.locator("#upload input[type=file]")
    files.set_input_files(str(big))
    limit = f'exceed the maximum allowed size of {UPLOAD_LIMIT_MB:.1f} Mb: "huge.txt"'
    expect(page.get_by_text(limit)).to_be_visible()
    page.reload()
    open_tab(page, "Library")
    files.set_input_files(str(word))
    wrong = re.compile(r"Invalid file type: notes\.docx\. Only \.pdf")
    expect(page.get_by_text(wrong)).to_be_visible()
    page.click("#add")
    expect(page.locator("#library-status")).to_contain_text("Choose one or more files")


def test_document_markup_is_shown_as_text_and_never_runs(page: Page, tmp_path: Path) -> None:
    hostile = tmp_path / "quokka.txt"
    hostile.write_text(HOSTILE_TXT, encoding="utf-8")
    expect(upload(page, hostile)).to_contain_text("Added 1 document")
    library = page.locator("#library")
    expect(library).to_contain_text(f"Quokka telomerase {SCRIPT} assays")
    open_tab(page, "Chat")
    answer = ask(page, "What do quokka telomerase assays show?", mode="extractive")
    card = answer.locator("details.card", has_text="Quokka telomerase").first
    card.locator("summary").click()
    expect(card).to_contain_text(f"Quokka telomerase {SCRIPT} assays")
    expect(card.locator(".passage")).to_contain_text(IMG)
    expect(card.locator(".passage")).to_contain_text(TEMPLATE)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("#chat script, #chat img, #library script, #library img").count() == 0


def test_evidence_is_on_screen_before_the_written_answer(
    page: Page, capsys: pytest.CaptureFixture[str]
) -> None:
    page.fill("#question textarea", SEED_QUESTION)
    start = time.perf_counter()
    page.click("#ask")
    # The evidence sits in the draft, which the checked answer replaces: seeing it proves it came
    # first. Its delay is printed (a figure for docs/benchmarks.md), never asserted.
    evidence = page.locator("#chat .draft .evidence")
    expect(evidence).to_be_visible(timeout=60_000)
    shown_s = time.perf_counter() - start
    expect(evidence.locator("a.cite").first).to_be_visible()
    expect(page.locator("#chat .answer")).to_be_visible(timeout=180_000)
    with capsys.disabled():
        print(f"\nevidence on screen {shown_s:.2f} s after Ask")
