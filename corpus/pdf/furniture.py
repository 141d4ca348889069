"""Running headers, footers and page numbers: the page furniture that is not the paper's text.

No list of publishers: a line is furniture when it sits at the top or bottom edge of its page
(or wholly in a side margin) and either repeats at the edges of other pages (digits aside, so
"2 / 14" and "3 / 14" are the same line), is a bare page number ("7", "Page 3 of 7"), or is a
journal, DOI or URL line ("Volume 2016, Article ID 8752821, 4 pages", "http://dx.doi.org/...").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from corpus.pdf.layout import Line, Page

# Lines whose box lies in this share of the page height at the top or bottom are at its edge.
_EDGE = 0.1
# Lines wholly inside this share of the page width at the left or right are in its margin
# (a "Downloaded from ... by guest" stamp set sideways, line numbers).
_SIDE = 0.08
# At most this many lines from each end of a page are candidates.
_PER_EDGE = 4
_PAGE_NUMBER = re.compile(
    r"(?:page\s*)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?|[ivxlc]{1,6}", re.IGNORECASE
)
_JOURNAL_LINE = re.compile(
    r"\bdoi\b|\b10\.\d{4,9}/|https?://|\bwww\.|\bpage \d+ of \d+|\bvol(?:ume)?\.? ?\d"
    r"|\bissn\b|\barticle id\b|\d+ pages\b",
    re.IGNORECASE,
)


def edge_lines(page: Page) -> tuple[list[int], list[int], list[int]]:
    """Indexes into ``page.lines``: its top (top down), bottom (bottom up) and side lines."""
    order = sorted(range(len(page.lines)), key=lambda i: page.lines[i].top)
    top = [i for i in order[:_PER_EDGE] if page.lines[i].bottom <= _EDGE * page.height]
    bottom = [i for i in order[-_PER_EDGE:] if page.lines[i].top >= (1 - _EDGE) * page.height]
    side = [
        i
        for i, line in enumerate(page.lines)
        if line.x1 <= _SIDE * page.width or line.x0 >= (1 - _SIDE) * page.width
    ]
    return top, bottom[::-1], side


def _key(text: str) -> str:
    """``text`` without numbers, "Page n of m" and spacing: the same on every page.

    Headers alternate the page number's side ("2 Journal" / "Journal 3") and some add
    "Page 2 of 9" on all pages but the first.
    """
    return re.sub(r"page\s*\d+\s*of\s*\d+|[\d\s]+", "", text.lower())


def find_furniture(pages: Sequence[Page]) -> set[tuple[int, int]]:
    """``(page number, line index)`` of every running header, footer and page number.

    The top and bottom edges are peeled from the outside in, stopping at the first line that
    is not furniture, so a body line that happens to repeat is not taken for a header; lines
    wholly in the side margins are furniture on the same terms.
    """
    edges = {page.number: edge_lines(page) for page in pages}
    seen: Counter[str] = Counter()
    for page in pages:
        seen.update({_key(page.lines[i].text) for edge in edges[page.number] for i in edge})
    # A header on every page but the first of a four-page paper repeats three times; in a
    # two-page paper twice.
    repeats = 2 if len(pages) <= 3 else 3
    found = set()
    for page in pages:
        top, bottom, side = edges[page.number]
        for edge in (top, bottom):
            for i in edge:
                line = page.lines[i]
                if not is_furniture(line, seen[_key(line.text)] >= repeats):
                    break
                found.add((page.number, i))
        found |= {
            (page.number, i)
            for i in side
            if is_furniture(page.lines[i], seen[_key(page.lines[i].text)] >= repeats)
        }
    return found


def is_furniture(line: Line, repeated: bool) -> bool:
    """Whether an edge ``line`` is furniture (``repeated``: its like is at other pages' edges)."""
    return (
        repeated
        or _PAGE_NUMBER.fullmatch(line.text.strip()) is not None
        or _JOURNAL_LINE.search(line.text) is not None
    )
