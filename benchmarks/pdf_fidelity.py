"""How faithfully the PDF reader reads real articles, scored against the publisher's XML.

    .venv/bin/python benchmarks/pdf_fidelity.py                  # ../shared/corpus/pdf + gold/pdf
    .venv/bin/python benchmarks/pdf_fidelity.py --pdf DIR --gold DIR --json out.json

Each PDF ``X.pdf`` is paired with ``X.nxml`` (JATS) or ``X.xml`` (BMC's own DTD) in the gold
folder; the XML is parsed with lxml's safe parser (no entity expansion, no DTD). Per document:

- body recall: share of the XML body's word tokens (paragraphs; figures, tables, captions,
  section titles and back matter left out) found in the extracted text (multiset overlap);
- order: ROUGE-L recall of the body (longest common token subsequence / body tokens);
- abstract F1: best token F1 of any span of the extracted text as long as the XML abstract;
- title, DOI, year: equal to the XML's (titles compared by their word tokens; the year is the
  print issue's, else the electronic one's, else the collection's);
- leaks: pages with a running header/footer line in the extracted text. A furniture line is a
  line at the top or bottom edge of a page (first or last three, within 8% of the height)
  whose words appear nowhere in the XML; it leaks when its words (three or more) appear in
  the extracted text (a line printed on k pages and found j times leaks on min(j, k) pages);
- glued: extracted tokens that are not words of the XML but two of its words run together;
- s/page: wall time of reading the file, per page.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pypdfium2 as pdfium  # noqa: E402

from corpus.pdf import read_pdf  # noqa: E402
from corpus.pdf.layout import read_page  # noqa: E402
from corpus.xmlsafe import safe_parser  # noqa: E402

SHARED = ROOT.parent / "shared"
# JATS and BMC elements whose text is not running body text.
_NOT_BODY = {
    "fig", "fig-group", "table-wrap", "table-wrap-foot", "caption", "table", "graphic",
    "supplementary-material", "tbl", "figr", "st", "title", "label",
}  # fmt: skip
_EDGE, _PER_EDGE, _MIN_WORDS = 0.08, 3, 3


@dataclass(frozen=True)
class Gold:
    """What the publisher's XML says the article is."""

    title: str
    abstract: list[str]
    body: list[str]
    doi: str | None
    year: int | None
    words: set[str]  # every word of the whole XML
    joined: str  # every token of the whole XML, space-separated


@dataclass(frozen=True)
class Score:
    name: str
    pages: int
    body_recall: float
    order: float
    abstract_f1: float
    title: bool
    doi: bool
    year: bool
    leak_pages: int
    glued: int
    seconds_per_page: float


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens after compatibility normalization (ligatures, math letters)."""
    return re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())


def _text(element: etree._Element, skip: set[str]) -> str:
    """The text under ``element``, leaving out the subtrees whose tag is in ``skip``."""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        if isinstance(node.tag, str) and etree.QName(node).localname in skip:
            if node.tail:
                parts.append(node.tail)
            return
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
        if node is not element and node.tail:
            parts.append(node.tail)

    walk(element)
    return " ".join(parts)


def _paragraphs(root: etree._Element | None, tag: str) -> list[str]:
    if root is None:
        return []
    out = []
    for p in root.iter(tag):
        if any(etree.QName(a).localname in _NOT_BODY for a in p.iterancestors()):
            continue
        out += tokens(_text(p, _NOT_BODY))
    return out


def _find(node: etree._Element, path: str) -> etree._Element:
    found = node.find(path)
    if found is None:
        raise SystemExit(f"no <{path}> in the gold XML")
    return found


def read_gold(path: Path) -> Gold:
    """The title, abstract, body, DOI and year of the JATS or BMC XML at ``path``."""
    root = etree.parse(str(path), safe_parser()).getroot()
    everything = tokens(" ".join(root.itertext()))
    if root.tag == "art":  # BMC
        title = _text(_find(root, "fm/bibl/title"), set())
        abstract = tokens(_text(_find(root, "fm/abs"), set()))
        body = _paragraphs(root.find("bdy"), "p")
        doi = root.findtext("fm/bibl/xrefbib/pubidlist/pubid[@idtype='doi']")
        year = root.findtext("fm/bibl/pubdate")
    else:  # JATS
        meta = _find(root, "front/article-meta")
        title = _text(_find(meta, "title-group/article-title"), set())
        abstracts = meta.findall("abstract")
        plain = [a for a in abstracts if a.get("abstract-type") is None] or abstracts
        abstract = tokens(_text(plain[0], {"title"})) if plain else []
        body = _paragraphs(root.find("body"), "p")
        doi = meta.findtext("article-id[@pub-id-type='doi']")
        dates = {d.get("pub-type") or d.get("date-type"): d.findtext("year")
                 for d in meta.findall("pub-date")}  # fmt: skip
        year = dates.get("ppub") or dates.get("epub") or dates.get("collection")
    return Gold(
        title=squash(title),
        abstract=abstract,
        body=body,
        doi=doi.strip().lower() if doi else None,
        year=int(year) if year else None,
        words=set(everything),
        joined=" " + " ".join(everything) + " ",
    )


def squash(text: str) -> str:
    return " ".join(text.split())


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of ``a`` and ``b``, bit-parallel.

    The same number as rouge-score's LCS table (tests check it), in O(len(a)·len(b)/word)
    instead of a pure-Python table of len(a)·len(b) cells, which takes minutes on full papers.
    """
    masks: dict[str, int] = {}
    for i, token in enumerate(a):
        masks[token] = masks.get(token, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for token in b:
        u = v & masks.get(token, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - bin(v).count("1")


def best_span_f1(gold: Sequence[str], text: Sequence[str]) -> float:
    """The best token F1 of a window of ``len(gold)`` tokens of ``text`` against ``gold``."""
    n = len(gold)
    if not n or not text:
        return 0.0
    want = Counter(gold)
    have: Counter[str] = Counter()
    overlap = best = 0
    for i, token in enumerate(text):
        have[token] += 1
        if have[token] <= want[token]:
            overlap += 1
        if i >= n:
            old = text[i - n]
            if have[old] <= want[old]:
                overlap -= 1
            have[old] -= 1
        best = max(best, overlap)
    return best / n  # precision = recall = overlap / n for a window of n tokens


def recall(gold: Sequence[str], text: Sequence[str]) -> float:
    want, have = Counter(gold), Counter(text)
    return sum(min(n, have[t]) for t, n in want.items()) / max(len(gold), 1)


def glued(text: Sequence[str], words: set[str]) -> int:
    """Tokens that are not words of the XML but two of its words run together."""
    count = 0
    for token in set(text):
        if token in words or not token.isalpha() or len(token) < 6:
            continue
        if any(token[:i] in words and token[i:] in words for i in range(2, len(token) - 1)):
            count += 1
    return count


def leak_pages(path: Path, gold: Gold, extracted: str) -> int:
    """Pages whose running header/footer lines (words not in the XML) are in ``extracted``.

    A line printed on several pages leaks on as many of them as the extracted text holds it.
    """
    text = " " + " ".join(tokens(extracted)) + " "
    leaking: set[int] = set()
    left: dict[str, int] = {}
    pdf = pdfium.PdfDocument(path)
    try:
        for n in range(len(pdf)):
            page = read_page(pdf[n], n + 1)
            order = sorted(page.lines, key=lambda line: line.top)
            edge = [line for line in order[:_PER_EDGE] if line.bottom < _EDGE * page.height]
            edge += [line for line in order[-_PER_EDGE:] if line.top > (1 - _EDGE) * page.height]
            for line in edge:
                words = " " + " ".join(tokens(line.text)) + " "
                if len(words.split()) < _MIN_WORDS or words in gold.joined:
                    continue
                left.setdefault(words, text.count(words))
                if left[words] > 0:
                    left[words] -= 1
                    leaking.add(page.number)
    finally:
        pdf.close()
    return len(leaking)


def score(pdf: Path, gold_path: Path) -> Score:
    gold = read_gold(gold_path)
    start = time.perf_counter()
    [doc] = read_pdf(pdf)
    seconds = time.perf_counter() - start
    with pdfium.PdfDocument(pdf) as handle:
        pages = len(handle)
    text = tokens(doc.text)
    return Score(
        name=pdf.stem,
        pages=pages,
        body_recall=recall(gold.body, text),
        order=lcs_length(gold.body, text) / max(len(gold.body), 1),
        abstract_f1=best_span_f1(gold.abstract, text),
        title=tokens(doc.title) == tokens(gold.title),
        doi=doc.doi == gold.doi,
        year=doc.year == gold.year,
        leak_pages=leak_pages(pdf, gold, doc.text),
        glued=glued(text, gold.words),
        seconds_per_page=seconds / pages,
    )


def pairs(pdf_dir: Path, gold_dir: Path) -> Iterable[tuple[Path, Path]]:
    for pdf in sorted(pdf_dir.glob("*.pdf")):
        gold = next((p for p in (gold_dir / f"{pdf.stem}.nxml", gold_dir / f"{pdf.stem}.xml")
                     if p.exists()), None)  # fmt: skip
        if gold is None:
            raise SystemExit(f"{pdf}: no {pdf.stem}.nxml or .xml in {gold_dir}")
        yield pdf, gold


def table(scores: Sequence[Score]) -> str:
    head = ("| document | pages | body recall | order | abstract F1 | title | DOI | year "
            "| leak pages | glued | s/page |")  # fmt: skip
    rows = [head, "|" + " --- |" * 11]
    yes = {True: "yes", False: "**no**"}
    for s in scores:
        rows.append(
            f"| {s.name} | {s.pages} | {s.body_recall:.3f} | {s.order:.3f} | {s.abstract_f1:.3f} "
            f"| {yes[s.title]} | {yes[s.doi]} | {yes[s.year]} | {s.leak_pages} | {s.glued} "
            f"| {s.seconds_per_page:.4f} |"
        )
    n = len(scores)
    pages = sum(s.pages for s in scores)
    rows.append(
        f"| **mean / total** | {pages} | {sum(s.body_recall for s in scores) / n:.3f} "
        f"| {sum(s.order for s in scores) / n:.3f} | {sum(s.abstract_f1 for s in scores) / n:.3f} "
        f"| {sum(s.title for s in scores)}/{n} | {sum(s.doi for s in scores)}/{n} "
        f"| {sum(s.year for s in scores)}/{n} "
        f"| {sum(s.leak_pages for s in scores)}/{pages} "
        f"({100 * sum(s.leak_pages for s in scores) / pages:.1f}%) "
        f"| {sum(s.glued for s in scores)} "
        f"| {sum(s.seconds_per_page * s.pages for s in scores) / pages:.4f} |"
    )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pdf", type=Path, default=SHARED / "corpus/pdf")
    parser.add_argument("--gold", type=Path, default=SHARED / "gold/pdf")
    parser.add_argument("--json", type=Path, help="also write the scores here")
    args = parser.parse_args()
    scores = [score(pdf, gold) for pdf, gold in pairs(args.pdf, args.gold)]
    print(table(scores))
    if args.json:
        args.json.write_text(json.dumps([asdict(s) for s in scores], indent=1))


if __name__ == "__main__":
    main()
