"""Answers, lookups and document lists as HTML: pure functions, every document string escaped.

Document text is untrusted (a scraped page or an uploaded file may hold ``<script>`` or
``<img onerror=...>``), so everything that comes from a document, a question or an error message
passes through :func:`esc` before it meets markup. The only markup in the output is built here.

An answer is drawn from its checked sentences (``Answer.sentences``: text, citation numbers,
support, paragraph), never re-parsed from its text: each citation number becomes
``<a class="cite" href="#PREFIX-n">[n]</a>`` before the sentence's final stop and each cited
source becomes a card ``<details class="card" id="PREFIX-n">``; the supporting sentence of a
card's passage is wrapped in ``<mark>``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from html import escape
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

from corpus.model import doi_url, pmc_url, pubmed_url
from rag.answer.records import (
    CANNOT_ANSWER,
    Answer,
    Checked,
    Citation,
    Sentence,
    Source,
    Timings,
)
from rag.index.backends.records import StoredDocument

# rag.answer.lookup and rag.index.ingest.pipeline import the model stack; render stays light.
if TYPE_CHECKING:
    from corpus.model import Document
    from rag.answer.lookup import Lookup, Verification
    from rag.index.ingest.pipeline import IngestReport

_UNSUPPORTED = '<span class="unsupported" title="not supported by the passage it cites">'
_MAX_AUTHORS = 6


def plural(n: int, word: str) -> str:
    """``"1 document"``, ``"2 documents"``."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def esc(text: object) -> str:
    """``text`` as HTML text, quotes included (safe in element content and in attributes)."""
    return escape("" if text is None else str(text), quote=True)


def link(url: str, text: str) -> str:
    """An external link that opens in a new tab; ``url`` and ``text`` are escaped here."""
    return f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{esc(text)}</a>'


def cite_link(n: int, numbers: Collection[int], prefix: str = "src") -> str:
    """Marker ``[n]``: a link to card ``PREFIX-n`` when ``n`` is in ``numbers``, else plain."""
    return f'<a class="cite" href="#{esc(prefix)}-{n}">[{n}]</a>' if n in numbers else f"[{n}]"


def sentence_html(sentence: Sentence, numbers: Collection[int], prefix: str = "src") -> str:
    """One answer sentence, escaped, its markers linked before its final stop (as in the text).

    An unsupported sentence is wrapped in ``span.unsupported``.
    """
    if sentence.citations:
        body, stop = sentence.split_stop()
        marks = "".join(cite_link(n, numbers, prefix) for n in sentence.citations)
        inner = f"{esc(body)} {marks}{esc(stop)}"
    else:
        inner = esc(sentence.text)
    return inner if sentence.supported else f"{_UNSUPPORTED}{inner}</span>"


def paragraphs(html_text: str) -> str:
    """Already-escaped text cut into ``<p>`` paragraphs at blank lines."""
    parts = [p.strip() for p in re.split(r"\n\s*\n", html_text) if p.strip()]
    return "".join(f"<p>{p}</p>" for p in parts)


def highlight(passage: str, start: int, end: int, evidence: str = "") -> str:
    """Escaped ``passage`` with ``passage[start:end]`` (else ``evidence``) in ``<mark>``."""
    if not (0 <= start < end <= len(passage)):
        found = passage.find(evidence) if evidence else -1
        if found < 0:
            return esc(passage)
        start, end = found, found + len(evidence)
    before, marked, after = passage[:start], passage[start:end], passage[end:]
    return f"{esc(before)}<mark>{esc(marked)}</mark>{esc(after)}"


def identifiers(pmid: str | None, doi: str | None, pmcid: str | None) -> str:
    """PMID, DOI and PMCID, each linked to its resolver."""
    parts = []
    if pmid:
        parts.append(f"PMID {link(pubmed_url(pmid), pmid)}")
    if doi:
        parts.append(f"DOI {link(doi_url(doi), doi)}")
    if pmcid:
        parts.append(f"PMCID {link(pmc_url(pmcid), pmcid)}")
    return f'<div class="ids">{" · ".join(parts)}</div>' if parts else ""


def page_label(pages: Sequence[int]) -> str:
    """``"p. 4"`` for one page, ``"pp. 4–5"`` for a range, ``""`` for none."""
    if not pages:
        return ""
    first, last = min(pages), max(pages)
    return f"p. {first}" if first == last else f"pp. {first}–{last}"


def _meta_line(
    journal: str | None, year: int | None, section: str = "", pages: Sequence[int] = ()
) -> str:
    parts = [esc(journal) if journal else "", str(year) if year else ""]
    if section:
        parts.append(f"§ {esc(section)}")
    parts.append(page_label(pages))
    shown = " · ".join(p for p in parts if p)
    return f'<div class="meta">{shown}</div>' if shown else ""


def badge(supported: bool, support: float) -> str:
    """The supported/unsupported badge of a citation, with its support score as a tooltip."""
    kind, word = ("ok", "supported") if supported else ("bad", "unsupported")
    return f'<span class="badge {kind}" title="support {support:.2f}">{word}</span>'


def source_card(
    source: Source, prefix: str = "src", *, citation: Citation | None = None, opened: bool = False
) -> str:
    """A collapsible card for one passage: metadata, links, the passage (evidence marked)."""
    title = esc(source.title or source.doc_id)
    marker = f'<span class="num">[{source.n}]</span>'
    tag = badge(citation.supported, citation.support) if citation else ""
    passage = (
        highlight(source.passage, citation.evidence_start, citation.evidence_end, citation.evidence)
        if citation
        else esc(source.passage)
    )
    return (
        f'<details class="card" id="{esc(prefix)}-{source.n}"{" open" if opened else ""}>'
        f'<summary>{marker} <span class="title">{title}</span> {tag}</summary>'
        f"{_meta_line(source.journal, source.year, source.section, source.pages)}"
        f"{identifiers(source.pmid, source.doi, source.pmcid)}"
        f'<blockquote class="passage">{passage}</blockquote>'
        f'<div class="docid">{esc(source.doc_id)}</div></details>'
    )


def citation_card(citation: Citation, prefix: str = "src", opened: bool = False) -> str:
    """The card of a cited source, with its support badge and evidence sentence marked."""
    return source_card(citation.source, prefix, citation=citation, opened=opened)


def timings_line(timings: Timings, model: str = "") -> str:
    """Where the time went, in one discreet line."""
    parts = [f"retrieval {_duration(timings.retrieve_ms)}"]
    if timings.first_token_ms is not None:
        parts.append(f"first token {_duration(timings.first_token_ms)}")
    if timings.tokens_per_s:
        parts.append(f"{timings.tokens_per_s:.1f} tokens/s")
    if timings.check_ms:
        parts.append(f"citation check {_duration(timings.check_ms)}")
    parts.append(f"total {_duration(timings.total_ms)}")
    if model:
        parts.append(esc(model))
    return f'<div class="timings">{" · ".join(parts)}</div>'


def _duration(ms: float) -> str:
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def warnings_list(warnings: Sequence[str]) -> str:
    """The answer's warnings as a list (empty string when there are none)."""
    if not warnings:
        return ""
    items = "".join(f"<li>{esc(w)}</li>" for w in warnings)
    return f'<ul class="warnings">{items}</ul>'


def answer_html(answer: Answer, prefix: str = "src") -> str:
    """A checked answer: text with linked markers, its source cards, warnings and timings."""
    if answer.abstained:
        return refusal_html(answer, prefix)
    body = answer_text_html(answer, prefix)
    unsupported = sum(not s.supported for s in answer.sentences)
    note = (
        f'<p class="unsupported-note">Sentences not supported by the passages they cite '
        f"(underlined): {unsupported} of {len(answer.sentences)}.</p>"
        if unsupported
        else ""
    )
    cards = "".join(citation_card(c, prefix) for c in answer.citations)
    return (
        f'<div class="answer mode-{esc(answer.mode)}">{body}{note}{removed_sentences(answer)}'
        f'<div class="cards">{cards}</div>{_uncited(answer, prefix)}{_footer(answer)}</div>'
    )


def removed_sentences(answer: Answer) -> str:
    """The draft's sentences the verifier did not support, folded away under one line."""
    if not answer.removed:
        return ""
    items = "".join(
        f'<li>{esc(r.text)} <span class="cited">(cited {esc(_numbers(r.cited))}; support '
        f"{r.support:.2f})</span></li>"
        for r in answer.removed
    )
    return (
        f'<details class="removed-sentences"><summary>{plural(len(answer.removed), "sentence")} '
        f"removed: not supported by its source</summary><ul>{items}</ul></details>"
    )


def _numbers(cited: Sequence[int]) -> str:
    return ", ".join(f"[{n}]" for n in cited) if cited else "no source"


def _uncited(answer: Answer, prefix: str) -> str:
    """The retrieved passages the answer does not cite, folded away (ids ``PREFIX-more-n``)."""
    cited = {(c.source.doc_id, c.source.passage) for c in answer.citations}
    rest = [s for s in answer.sources if (s.doc_id, s.passage) not in cited]
    if not rest:
        return ""
    cards = "".join(source_card(s, f"{prefix}-more") for s in rest)
    return (
        f'<details class="uncited"><summary>{plural(len(rest), "other passage")} retrieved, '
        f'not cited</summary><div class="cards">{cards}</div></details>'
    )


def answer_text_html(answer: Answer, prefix: str = "src") -> str:
    """The answer's sentences as ``<p>`` paragraphs, escaped, with linked markers.

    An answer without sentences (not made by the pipeline's check) is shown as escaped text.
    """
    if not answer.sentences:
        return paragraphs(esc(answer.answer))
    numbers = {c.n for c in answer.citations}
    return "".join(
        "<p>" + " ".join(sentence_html(s, numbers, prefix) for s in group) + "</p>"
        for _, group in groupby(answer.sentences, key=lambda s: s.paragraph)
    )


def refusal_html(answer: Answer, prefix: str = "src") -> str:
    """A refusal, said as one, followed by the closest sources found."""
    cards = "".join(source_card(s, prefix) for s in answer.sources)
    closest = (
        f'<p class="closest">Closest sources found:</p><div class="cards">{cards}</div>'
        if cards
        else '<p class="closest">No passage matched the filters.</p>'
    )
    return (
        f'<div class="answer refusal"><p class="refusal-text"><strong>No answer:</strong> '
        f"{esc(CANNOT_ANSWER)}; no passage is close enough to the question.</p>"
        f"{closest}{_footer(answer)}</div>"
    )


def _footer(answer: Answer) -> str:
    """Warnings, the question as searched (when the conversation changed it), timings."""
    searched = answer.standalone_question
    shown = (
        f'<div class="standalone">searched as: {esc(searched)}</div>'
        if searched and searched != answer.question
        else ""
    )
    return f"{warnings_list(answer.warnings)}{shown}{timings_line(answer.timings, answer.model)}"


def draft_html(text: str, checked: Sequence[Checked] = (), evidence: Answer | None = None) -> str:
    """The LLM's draft while it streams, escaped, under the evidence found (when there is some);
    each sentence checked so far is listed with its verdict."""
    if not text and evidence is None:
        return '<div class="draft pending"><span class="status">searching…</span></div>'
    shown = ""
    if evidence is not None and not evidence.abstained:
        shown = (
            '<div class="evidence"><p class="status">Evidence found (the written answer '
            f"follows):</p>{answer_text_html(evidence, 'ev')}"
            f'<div class="cards">{"".join(citation_card(c, "ev") for c in evidence.citations)}'
            "</div></div>"
        )
    verdicts = "".join(
        f'<li class="{"supported" if c.supported else "unsupported"}">'
        f"{'✓' if c.supported else '✗'} {esc(c.text)}</li>"
        for c in checked
    )
    status = "writing; each sentence is checked as it ends" if text else "writing…"
    return (
        f'<div class="draft">{shown}{paragraphs(esc(text))}<span class="cursor">▍</span>'
        + (f'<ul class="checked">{verdicts}</ul>' if verdicts else "")
        + f'<div class="timings">{status}</div></div>'
    )


def chat_messages(answers: Sequence[Answer]) -> list[dict[str, str]]:
    """A conversation as Chatbot messages; answer ``i`` (from 1) has cards ``t{i}-src-n``."""
    messages = []
    for i, answer in enumerate(answers, start=1):
        messages.append({"role": "user", "content": question_html(answer.question)})
        messages.append({"role": "assistant", "content": answer_html(answer, f"t{i}-src")})
    return messages


def question_html(question: str) -> str:
    """The user's question, escaped."""
    return f'<div class="question">{esc(question)}</div>'


def error_html(message: str) -> str:
    """An error message, escaped."""
    return f'<div class="error">{esc(message)}</div>'


def document_card(doc: Document) -> str:
    """A bibliographic record: title, authors, journal, year and linked identifiers."""
    authors = ", ".join(doc.authors[:_MAX_AUTHORS])
    if len(doc.authors) > _MAX_AUTHORS:
        authors += ", et al."
    return (
        f'<div class="record"><div class="title">{esc(doc.title or doc.id)}</div>'
        f'<div class="authors">{esc(authors)}</div>{_meta_line(doc.journal, doc.year)}'
        f'{identifiers(doc.pmid, doc.doi, doc.pmcid)}<div class="docid">{esc(doc.id)}</div></div>'
    )


def lookup_html(found: Lookup, prefix: str = "lookup") -> str:
    """What a lookup found: the records, then (for a claim) the passages checked against it."""
    kind = {"pmid": "PMID", "pmcid": "PMCID", "doi": "DOI", "id": "document id", "title": "title",
            "claim": "claim"}  # fmt: skip
    head = f'<p class="lookup-kind">Looked up as a {kind[found.kind]}: {esc(found.query)}</p>'
    if not found.documents and not found.passages:
        return f'<div class="lookup">{head}<p class="empty">Nothing in the index matches.</p></div>'
    records = "".join(document_card(d) for d in found.documents)
    supported = sum(c.supported for c in found.passages)
    passages = (
        f"<h4>Passages checked against the claim ({supported} of {len(found.passages)} "
        f'support it)</h4><div class="cards">'
        + "".join(citation_card(c, prefix, opened=c.supported) for c in found.passages)
        + "</div>"
        if found.passages
        else ""
    )
    return (
        f'<div class="lookup">{head}<h4>{plural(len(found.documents), "record")}</h4>'
        f'<div class="records">{records}</div>{passages}</div>'
    )


def verification_html(found: Verification, prefix: str = "verify") -> str:
    """A citation check: the verdict, then the paper's best passage with its evidence marked."""
    c = found.citation
    word = "supports" if c.supported else "does not support"
    return (
        f'<div class="verification"><p class="verdict {"ok" if c.supported else "bad"}">'
        f"{esc(c.source.title or c.source.doc_id)} <strong>{word}</strong> the sentence "
        f'(support {c.support:.2f}).</p><p class="claim">{esc(found.claim)}</p>'
        f'<div class="cards">{citation_card(c, prefix, opened=True)}</div></div>'
    )


def ingest_html(report: IngestReport) -> str:
    """What an upload did: documents added, skipped, and each file that could not be read."""
    skipped = f"; {report.skipped} already in the index, unchanged" if report.skipped else ""
    done = (
        f'<p class="ingested">Added {plural(report.documents, "document")} '
        f"({plural(report.chunks, 'passage')}) in {report.seconds:.1f} s{skipped}.</p>"
    )
    errors = "".join(error_html(f"{Path(e.path).name}: {e.reason}") for e in report.errors)
    return done + errors


def removed_html(removed: Sequence[str], wanted: str) -> str:
    """What a removal did."""
    if not removed:
        return error_html(f"{wanted} is not in the index (already removed?)")
    return f'<p class="removed">Removed {esc(", ".join(removed))}.</p>'


def library_html(rows: Sequence[StoredDocument], total: int) -> str:
    """The documents of the index as a table (``total`` = how many match, shown or not)."""
    if not rows:
        return '<p class="empty">No document matches.</p>'
    head = "".join(
        f"<th>{h}</th>" for h in ("title", "journal", "year", "ids", "format", "passages", "id")
    )
    body = "".join(_library_row(r) for r in rows)
    more = f"; showing the {len(rows):,} most recently added" if total > len(rows) else ""
    return (
        f'<p class="count">{plural(total, "document")}{more}</p>'
        f'<table class="library"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def _library_row(row: StoredDocument) -> str:
    ids = identifiers(row.pmid, row.doi, row.pmcid)
    return (
        f'<tr><td class="title">{esc(row.title) or "(no title)"}</td><td>{esc(row.journal)}</td>'
        f"<td>{esc(row.year)}</td><td>{ids}</td><td>{esc(row.format)}</td>"
        f'<td class="n">{row.chunks}</td><td class="docid">{esc(row.id)}</td></tr>'
    )
