"""Lines -> sections of paragraphs: headings, paragraph ends, hyphens and reference lists.

A paragraph ends where its last line stops short of the column's right edge or a wider gap
than the line spacing follows, unless the next line starts in lower case. Every section
records where each page starts inside its text, so a passage can be cited with its page.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace

from corpus.model import Section, squash
from corpus.pdf.layout import HYPHEN_MARK, Line, Page

_HEADING = re.compile(
    # optional numbering: "2.", "2 ", "2.Methods", "IV."
    r"(?:(?:\d{1,2}|[IVX]{1,5})(?:\.\s*|\s+))?"
    r"(?P<name>abstract|background|introduction"
    r"|(?:(?:materials?|patients|subjects)\s+and\s+)?methods|methodology"
    r"|results(?:\s+and\s+discussion)?|discussion|conclusions?"
    r"|acknowledge?ments?|references|bibliography|literature\s+cited)"
    r"\s*:?",
    re.IGNORECASE,
)
# "Abstract: Volatile metabolites from ..." (the heading run into its first line).
_INLINE_ABSTRACT = re.compile(r"(?P<name>Abstract|ABSTRACT)\s*[:.]\s+(?P<rest>\S.*)")
REFERENCE_HEADINGS = {"references", "bibliography", "literature cited"}
_ENTRY_START = re.compile(r"(?:\[\d{1,4}\]|\d{1,4}\.)\s")
_LINE_END_HYPHENS = ("-", "\u2010")  # hyphen-minus, hyphen
# Words that start compounds written with a hyphen ("self-governed", "well-known") and words
# that end them ("dose-dependent", "HIV-related"): a hyphen at a line break before or after
# them stays when the document has neither spelling elsewhere.
_PREFIXES = frozenset({"self", "well", "cross", "half", "all", "ex"})
_HEADS = frozenset({
    "based", "related", "specific", "dependent", "independent", "induced", "like", "free",
    "associated", "mediated", "type", "term", "year", "old", "level", "wide", "scale", "fold",
    "shaped", "derived", "positive", "negative", "controlled", "sensitive", "resistant",
    "containing", "gated", "assisted", "covered", "treated", "infected", "exposed", "matched",
    "adjusted", "labeled", "labelled", "bound", "rich", "enriched", "deficient",
})  # fmt: skip
# A gap between lines wider than this share of the line height ends a paragraph.
_GAP = 0.5
Part = tuple[str, list[Line]]


def mark_paragraph_ends(page: Page, lines: Sequence[Line]) -> list[Line]:
    """``lines`` of ``page`` with ``ends_paragraph`` set from the layout."""
    marked = []
    for i, line in enumerate(lines):
        column = [other.x1 for other in lines if abs(other.x0 - line.x0) < 0.12 * page.width]
        short = line.x1 < max(column) - 1.5 * line.size
        after = lines[i + 1] if i + 1 < len(lines) else None
        gap = after is not None and after.top - line.bottom > _GAP * line.size
        marked.append(replace(line, ends_paragraph=short or gap))
    return marked


class Hyphens:
    """Whether a hyphen at a line break belongs to the word, judged by the document itself.

    The hyphen stays when the document spells the pair with a hyphen elsewhere at least as
    often as joined ("free-living"), goes when it spells it joined ("treat-ment"), and
    otherwise stays around a known compound word (``_PREFIXES``, ``_HEADS``), before a capital
    letter, or between two words the document uses on their own.
    """

    def __init__(self, texts: Iterable[str]) -> None:
        self.words: Counter[str] = Counter()
        self.pairs: Counter[str] = Counter()
        for text in texts:
            text = re.sub(rf"\w*{HYPHEN_MARK}\w*", " ", text.lower())
            self.words.update(re.findall(r"[^\W\d_]+", text))
            for compound in re.findall(r"\w+(?:[-\u2010]\w+)+", text):
                parts = re.split(r"[-\u2010]", compound)
                self.pairs.update(f"{a}-{b}" for a, b in itertools.pairwise(parts))

    def keep(self, left: str, right: str) -> bool:
        """Whether ``left`` + "-" + ``right`` keeps its hyphen when rejoined."""
        if not (left[-1:].isalpha() and right[:1].isalpha()) or right[0].isupper():
            return True  # "1-octen-3-ol", "IL-6", "Ellis-Davies": no word broken in two
        a, b = left.lower(), right.lower()
        hyphenated, joined = self.pairs[f"{a}-{b}"], self.words[a + b]
        if hyphenated or joined:
            return hyphenated >= joined
        if a in _PREFIXES or (b in _HEADS and (len(a) > 3 or self.words[a] > 0)):
            return True
        # Two words the document uses on their own ("beech-covered"), unless the break
        # doubles a consonant as suffixes do ("occur-ring").
        return min(len(a), len(b)) > 3 and a[-1] != b[0] and self.words[a] > 0 < self.words[b]

    def repair(self, text: str) -> str:
        """``text`` with each PDFium hyphen mark made "-" or removed."""
        if HYPHEN_MARK not in text:
            return text
        return re.sub(
            rf"(\w*){HYPHEN_MARK}\s*(\w*)",
            lambda m: m.group(1) + ("-" if self.keep(m.group(1), m.group(2)) else "") + m.group(2),
            text,
        )


def split_at_headings(lines: Sequence[Line]) -> list[Part]:
    """The lines cut into ``(heading, lines)`` parts at heading lines; "Body" comes first."""
    parts: list[Part] = [("Body", [])]
    for line in lines:
        heading = _heading(line.text)
        inline = _INLINE_ABSTRACT.fullmatch(line.text)
        if heading:
            parts.append((heading, []))
        elif inline and not any(name == "Abstract" for name, _ in parts):
            parts.append(("Abstract", [replace(line, text=inline.group("rest"))]))
        else:
            parts[-1][1].append(line)
    return parts


def _heading(text: str) -> str | None:
    """The section name if ``text`` is a heading line such as "2. Materials and Methods"."""
    m = _HEADING.fullmatch(text)
    # A lower-case "results" alone on a line is the end of a wrapped sentence, not a heading.
    if not m or not m.group("name")[0].isupper():
        return None
    name = squash(m.group("name"))
    return name.capitalize() if name.isupper() else name


def join(
    lines: Sequence[Line], hyphens: Hyphens, numbered: bool = False
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Lines joined into paragraphs separated by "\\n", and where each page starts in them.

    With ``numbered``, paragraphs break only before lines that start "[n]" or "n." (the
    entries of a numbered reference list) and the layout is not used.
    """
    parts: list[str] = []
    pages: list[tuple[int, int]] = []  # (offset in the text, page number)
    length = 0
    for i, line in enumerate(lines):
        if not pages or pages[-1][1] != line.page:
            pages.append((length, line.page))
        text, sep = hyphens.repair(line.text), ""
        if i + 1 < len(lines):
            after = hyphens.repair(lines[i + 1].text)
            if _broken(text, after):
                left, right = text.rsplit(" ", 1)[-1][:-1], re.match(r"\w*", after)
                keep = hyphens.keep(left, right.group() if right else "")
                text = text if keep else text[:-1]
            elif numbered:
                sep = "\n" if _ENTRY_START.match(after) else " "
            else:
                sep = "\n" if line.ends_paragraph and not after[0].islower() else " "
        parts.append(text + sep)
        length += len(text) + len(sep)
    return "".join(parts), tuple(pages)


def _broken(text: str, after: str) -> bool:
    """Whether ``text`` ends in a word broken by a hyphen that ``after`` finishes ("treat-")."""
    return (
        len(text) > 1
        and text.endswith(_LINE_END_HYPHENS)
        and text[-2].isalpha()
        and after[:1].islower()
    )


def entries(lines: Sequence[Line], hyphens: Hyphens) -> list[str]:
    """The entries of a reference list: numbered ("[1]", "1.") if any are, else paragraphs."""
    numbered = any(_ENTRY_START.match(line.text) for line in lines)
    text, _ = join(lines, hyphens, numbered=numbered)
    return [entry for entry in text.split("\n") if entry]


def split_section(section: Section, offset: int, heading: str) -> tuple[Section, Section]:
    """``section`` cut at ``offset``: its head, and the rest under ``heading``."""
    head, tail = section.text[:offset].rstrip(), section.text[offset:]
    first = tuple((o, p) for o, p in section.pages if o < len(head))
    rest = [(o - offset, p) for o, p in section.pages if o >= offset]
    if not rest or rest[0][0] > 0:
        rest.insert(0, (0, section.page_at(offset) or section.pages[0][1]))
    return Section(section.heading, head, first), Section(heading, tail, tuple(rest))
