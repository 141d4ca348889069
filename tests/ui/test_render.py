"""ui.render: answers, cards, lookups and the library as escaped HTML (no browser, no models)."""

from __future__ import annotations

from dataclasses import replace
from html.parser import HTMLParser

from corpus.model import Section, build_document
from rag.answer.lookup import Lookup
from rag.answer.records import CANNOT_ANSWER, Answer, Citation, Sentence, Source, Timings
from rag.index.backends.records import StoredDocument
from ui import render

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'
ALLOWED_TAGS = {
    "a", "blockquote", "details", "div", "h4", "li", "mark", "p", "span", "strong", "summary",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip


class Tags(HTMLParser):
    """Every start tag and attribute name a browser would see in a piece of HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [name for name, _ in attrs]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    tags.close()
    return tags


def source(n: int = 1, **fields: object) -> Source:
    values: dict[str, object] = {
        "doc_id": "pmid:38281981", "title": "Targeting MDM2 in malignancies",
        "section": "Abstract", "score": 0.9, "pmid": "38281981", "journal": "J Biomed Sci",
        "year": 2024, "doi": "10.1186/s12929-024-01004-x",
        "passage": "MDM2 is a biomarker. Patients with MDM2 amplification are at risk of HPD. "
        "Done.",
    }  # fmt: skip
    values.update(fields)
    return Source(n=n, **values)  # type: ignore[arg-type]


def cite(src: Source, supported: bool = True, evidence: str = "") -> Citation:
    evidence = evidence or "Patients with MDM2 amplification are at risk of HPD."
    start = src.passage.find(evidence)
    return Citation(src.n, src, supported, 0.71, evidence, start, start + len(evidence))


def answered(*citations: Citation, text: str = "", sentences: tuple[Sentence, ...] = ()) -> Answer:
    return Answer(
        question="Why is MDM2 amplification a risk?",
        answer=text or "MDM2-amplified tumours can progress fast [1].",
        abstained=False, mode="generate", citations=citations,
        sentences=sentences or (Sentence("MDM2-amplified tumours can progress fast.", (1,), True),),
        sources=tuple(c.source for c in citations),
        timings=Timings(retrieve_ms=21.0, first_token_ms=2500.0, total_ms=18400.0,
                        tokens_per_s=7.9, check_ms=913.0, tokens=120),
        model="SmolLM2",
    )  # fmt: skip


def test_markers_link_to_the_cards_they_name() -> None:
    one, two = source(1), source(2, doc_id="pmid:1", pmid="1", title="Other")
    html = render.answer_html(
        answered(
            cite(one),
            cite(two),
            text="First claim [1]. Second claim [1][2].",
            sentences=(
                Sentence("First claim.", (1,), True),
                Sentence("Second claim.", (1, 2), True),
            ),
        )
    )
    assert html.count('<a class="cite" href="#src-1">[1]</a>') == 2
    assert '<a class="cite" href="#src-2">[2]</a>' in html
    assert 'id="src-1"' in html and 'id="src-2"' in html


def test_a_marker_without_a_citation_stays_plain_text() -> None:
    answer = answered(
        cite(source()), text="Claim [1]. Stray [7].",
        sentences=(Sentence("Claim.", (1,), True), Sentence("Stray.", (7,), True)),
    )  # fmt: skip
    html = render.answer_html(answer)
    assert '<p>Claim <a class="cite" href="#src-1">[1]</a>. Stray [7].</p>' in html


def test_prefix_names_the_card_ids() -> None:
    html = render.answer_html(answered(cite(source())), prefix="t3-src")
    assert 'href="#t3-src-1"' in html and 'id="t3-src-1"' in html


def test_each_turn_of_a_conversation_has_its_own_card_ids() -> None:
    answer = answered(cite(source()))
    messages = render.chat_messages([answer, answer])
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert 'id="t1-src-1"' in messages[1]["content"]
    assert 'id="t2-src-1"' in messages[3]["content"]


def test_supporting_sentence_is_marked_in_the_passage() -> None:
    html = render.citation_card(cite(source()))
    assert "<mark>Patients with MDM2 amplification are at risk of HPD.</mark>" in html
    assert "MDM2 is a biomarker. <mark>" in html


def test_highlight_escapes_inside_and_outside_the_mark() -> None:
    passage = "a<b> <i>claim</i> c&d"
    start = passage.index("<i>")
    html = render.highlight(passage, start, start + len("<i>claim</i>"))
    assert html == "a&lt;b&gt; <mark>&lt;i&gt;claim&lt;/i&gt;</mark> c&amp;d"


def test_highlight_falls_back_to_the_evidence_text_then_to_none() -> None:
    assert render.highlight("one. two.", 0, 99, evidence="two.") == "one. <mark>two.</mark>"
    assert render.highlight("one. two.", 5, 2) == "one. two."


def test_card_shows_metadata_badge_and_links() -> None:
    html = render.citation_card(cite(source(), supported=False))
    assert '<a href="https://pubmed.ncbi.nlm.nih.gov/38281981/"' in html
    assert '<a href="https://doi.org/10.1186/s12929-024-01004-x"' in html
    assert 'class="badge bad"' in html and "unsupported" in html
    assert "J Biomed Sci · 2024 · § Abstract" in html
    assert 'class="badge ok"' in render.citation_card(cite(source()))


def test_identifiers_cannot_break_out_of_their_links() -> None:
    html = render.identifiers('1" onclick="x', '10.1/a"><script>x</script>', "PMC1")
    tags = parse(html)
    assert set(tags.tags) == {"div", "a"} and "onclick" not in tags.attributes
    assert 'href="https://doi.org/10.1/a%22%3E%3Cscript%3Ex%3C/script%3E"' in html


def test_document_text_never_becomes_markup() -> None:
    hostile = source(
        title=f"Title {HOSTILE}", passage=f"Before. {HOSTILE} After.", journal=HOSTILE,
        section=HOSTILE, doc_id=HOSTILE,
    )  # fmt: skip
    answer = answered(
        cite(hostile, evidence="Before."), text=f"Claim {HOSTILE} [1].",
        sentences=(Sentence(f"Claim {HOSTILE}.", (1,), False),),
    )  # fmt: skip
    answer = replace(answer, warnings=(HOSTILE,))
    html = render.answer_html(answer) + render.question_html(HOSTILE) + render.draft_html(HOSTILE)
    tags = parse(html)
    assert set(tags.tags) <= ALLOWED_TAGS
    assert not [a for a in tags.attributes if a.startswith("on") or a == "src"]
    assert HOSTILE in "".join(tags.text)  # the literal text is shown, as text


def test_unsupported_sentences_are_underlined() -> None:
    answer = answered(
        cite(source()),
        text="Supported one [1]. Unsupported two [1].",
        sentences=(
            Sentence("Supported one.", (1,), True), Sentence("Unsupported two.", (1,), False)
        ),
    )  # fmt: skip
    html = render.answer_html(answer)
    assert 'Supported one <a class="cite" href="#src-1">[1]</a>. <span class="unsupported"' in html
    assert 'Unsupported two <a class="cite" href="#src-1">[1]</a>.</span>' in html
    assert "1 of 2" in html


def test_paragraphs_of_the_answer_are_kept() -> None:
    answer = answered(
        cite(source()), text="One [1]. Two [1].\n\nThree.",
        sentences=(Sentence("One.", (1,), True, 0), Sentence("Two.", (1,), True, 0),
                   Sentence("Three.", (), False, 2)),
    )  # fmt: skip
    html = render.answer_text_html(answer)
    link, flag = '<a class="cite" href="#src-1">[1]</a>', '<span class="unsupported" title="not'
    assert html.startswith(f"<p>One {link}. Two {link}.</p><p>{flag}")
    assert html.endswith('cites">Three.</span></p>')


def test_answer_is_drawn_from_its_sentences_not_from_its_text() -> None:
    # An extractive sentence quotes its passage's own reference "[2]": it is text, not a marker.
    one, two = source(1), source(2, doc_id="pmid:2", pmid="2")
    answer = answered(
        cite(one), cite(two), text="As shown before [2] it grows [1]. It shrinks [2].",
        sentences=(Sentence("As shown before [2] it grows.", (1,), True),
                   Sentence("It shrinks.", (2,), True)),
    )  # fmt: skip
    html = render.answer_text_html(answer)
    assert html.startswith('<p>As shown before [2] it grows <a class="cite" href="#src-1">[1]</a>.')
    assert html.count('href="#src-2"') == 1


def test_pdf_source_card_shows_its_pages() -> None:
    one_page = render.source_card(source(section="Results", pages=(4,)))
    two_pages = render.source_card(source(section="Results", pages=(4, 5)))
    assert "J Biomed Sci · 2024 · § Results · p. 4</div>" in one_page
    assert "J Biomed Sci · 2024 · § Results · pp. 4–5</div>" in two_pages
    assert "2024 · § Abstract</div>" in render.source_card(source())  # no pages, no label
    assert render.page_label((4, 5, 6)) == "pp. 4–6" and render.page_label(()) == ""


def test_refusal_says_so_and_shows_the_closest_sources() -> None:
    refusal = Answer(
        question="q", answer=CANNOT_ANSWER, abstained=True, mode="generate",
        sources=(source(1), source(2, doc_id="pmid:2", pmid="2")),
    )  # fmt: skip
    html = render.answer_html(refusal)
    assert CANNOT_ANSWER in html and "Closest sources" in html
    assert 'id="src-1"' in html and 'id="src-2"' in html
    assert "badge" not in html and 'class="cite"' not in html


def test_timings_are_one_discreet_line() -> None:
    line = render.timings_line(answered().timings, "SmolLM2")
    assert line == (
        '<div class="timings">retrieval 21 ms · first token 2.5 s · 7.9 tokens/s · '
        "citation check 913 ms · total 18.4 s · SmolLM2</div>"
    )


def test_draft_is_escaped_and_marked_as_unchecked() -> None:
    html = render.draft_html("Draft <b>bold</b> [1]")
    assert "Draft &lt;b&gt;bold&lt;/b&gt; [1]" in html and 'class="cite"' not in html
    assert "searching" in render.draft_html("")


def test_lookup_shows_records_passages_and_escapes() -> None:
    doc = build_document(
        title=f"Paper {HOSTILE}", sections=[Section("Abstract", "Text.")], source_path="x.txt",
        format="text", pmid="38281981", authors=tuple(f"Author {i}" for i in range(8)),
    )  # fmt: skip
    found = Lookup("a claim", "claim", (doc,), (cite(source()), cite(source(2), False)))
    html = render.lookup_html(found)
    assert "Looked up as a claim" in html and "1 record" in html and "1 of 2 support it" in html
    assert "Author 5, et al." in html and "Author 6" not in html
    assert 'id="lookup-1" open' in html and 'id="lookup-2">' in html
    assert set(parse(html).tags) <= ALLOWED_TAGS
    assert "Nothing in the index matches" in render.lookup_html(Lookup("123", "pmid"))


def test_library_table_escapes_titles() -> None:
    row = StoredDocument(
        id="hash:1", title=HOSTILE, journal=None, year=None, pmid="1", pmcid=None, doi=None,
        format="text", source="a.txt", chunks=3,
    )  # fmt: skip
    html = render.library_html([row], total=250)
    assert set(parse(html).tags) <= ALLOWED_TAGS
    assert "250 documents; showing the 1 most recently added" in html
    assert "No document matches" in render.library_html([], 0)


def test_a_rewritten_follow_up_shows_what_was_searched() -> None:
    answer = replace(answered(cite(source())), question="And survival?")
    plain = render.answer_html(replace(answer, standalone_question="And survival?"))
    rewritten = render.answer_html(replace(answer, standalone_question="MDM2 and survival?"))
    assert "searched as" not in plain
    assert '<div class="standalone">searched as: MDM2 and survival?</div>' in rewritten


def test_retrieved_passages_the_answer_does_not_cite_are_folded_away() -> None:
    cited, other = source(1), source(2, doc_id="pmid:2", pmid="2", passage="Other passage.")
    answer = replace(answered(cite(cited)), sources=(cited, other))
    html = render.answer_html(answer)
    assert '<details class="uncited"><summary>1 other passage retrieved, not cited' in html
    assert 'id="src-more-2"' in html and html.count("<details") == 3
    assert "uncited" not in render.answer_html(answered(cite(cited)))
