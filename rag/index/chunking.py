"""Document -> Chunk: section-aware, sentence-aware passages sized in embedder tokens.

A chunk never spans two sections. Within a section, langchain-text-splitters cuts at paragraph,
then sentence, then clause boundaries so that each passage fits ``max_tokens`` of the embedder's
tokenizer, with ``overlap_tokens`` repeated between neighbours. Each chunk keeps its section, its
character offsets in the section text and, for PDFs, its pages.

Every document gets at least one passage, or retrieval could never find it: one with no text
(a title-only BioASQ record, a PubMed record without abstract) is passed under the heading
"Title", or, without a title either, as a "Record" line of its identifiers and metadata.

A change to the passages cut from the same documents bumps
``rag.index.backends.manifest.READER_VERSION``, which the index manifest records: an index is
never extended with passages cut another way.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from base.settings import ChunkingSettings
from base.text import PASSAGE_BREAK
from corpus.model import Document, Section

# Paragraph, line, sentence, clause, word, character: the first that makes pieces small enough.
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]

# A section longer than this (characters) is cut into windows of at most this size, at a paragraph
# or sentence boundary, and each window is tokenized and split alone: the work on one section
# then grows with the passages it yields, never with its length squared (the splitter's pieces
# are looked up in the text they came from). Far above any paper's section.
WINDOW_CHARS = 1 << 18
_WINDOW_BREAKS = ("\n\n", "\n", ". ", " ")
STAND_IN = -1  # the section_index of a stand-in passage (title or record line), not a section
# Token (start, end) character offsets of each text, as the embedder's tokenizer cuts it.
OffsetsBatch = Callable[[list[str]], list[list[tuple[int, int]]]]


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage of one section of one document.

    ``section_index`` is :data:`STAND_IN` for the passage of a document without text; its
    offsets then point into that stand-in text (the title, or the record line).
    """

    doc_id: str
    ordinal: int  # position among the document's chunks
    title: str
    section: str
    section_index: int
    text: str
    start: int  # character offsets of ``text`` in the section's text
    end: int
    page_start: int | None = None
    page_end: int | None = None

    @property
    def embed_text(self) -> str:
        """What the embedder and BM25 see: title and heading, then the passage.

        A part equal to an earlier one is left out: a title-only passage is the title once.
        """
        return "\n".join(dict.fromkeys(p for p in (self.title, self.section, self.text) if p))


class Chunker:
    """Cuts documents into chunks; ``count_tokens`` is the embedder tokenizer's length.

    The splitter cuts non-overlapping pieces of ``max_tokens - overlap_tokens``: they follow each
    other in the text, so their offsets are exact even where text repeats (finding overlapping
    pieces by search is not). Each chunk then reaches back over the previous piece's last
    sentences, up to ``overlap_tokens``, for the overlap.
    """

    def __init__(
        self,
        settings: ChunkingSettings,
        count_tokens: Callable[[str], int],
        count_batch: Callable[[list[str]], list[int]] | None = None,
        offsets_batch: OffsetsBatch | None = None,
    ) -> None:
        self.settings = settings
        self.count_tokens = count_tokens
        self.count_batch = count_batch
        self.offsets_batch = offsets_batch
        self._counted: dict[str, int] = {}  # section lengths counted ahead by chunk_many
        # ... and their tokens' start and end offsets, with ``offsets_batch``
        self._offsets: dict[str, tuple[list[int], list[int]]] = {}
        # The section being split, with its tokens' offsets (None: pieces are counted alone).
        self._section: tuple[str, list[int], list[int]] | None = None
        # Lengths of the pieces of the section being split: the splitter asks for half of them
        # twice (on PubMedQA abstracts nearly every piece was counted twice without this).
        self._pieces: dict[str, int] = {}
        self.splitter = RecursiveCharacterTextSplitter(
            separators=SEPARATORS,
            keep_separator="end",
            chunk_size=max(settings.max_tokens - settings.overlap_tokens, 16),
            chunk_overlap=0,
            length_function=self._piece_length,
            strip_whitespace=True,
        )

    def chunk(self, docs: Iterable[Document]) -> Iterator[Chunk]:
        """The chunks of each document, in document and reading order."""
        for doc in docs:
            chunks = list(self._chunks(doc, enumerate(doc.sections)))
            yield from chunks or self._chunks(doc, [(STAND_IN, stand_in(doc))])

    def chunk_many(self, docs: Sequence[Document]) -> list[list[Chunk]]:
        """The chunks of each document, as :meth:`chunk` cuts them.

        With ``count_batch``, every section that might be too long is counted in one tokenizer
        call first (the fast tokenizer encodes a batch in parallel, in Rust); only the sections
        that are too long are then split piece by piece. With ``offsets_batch`` that call also
        gives each token's offsets, and the splitter's pieces are counted from them (see
        :meth:`_counted_in_section`) instead of by the tokenizer one by one.
        """
        texts = [s.text.strip() for doc in docs for s in doc.sections]
        long = list(
            dict.fromkeys(t for t in texts if self.settings.max_tokens < len(t) <= WINDOW_CHARS)
        )  # longer sections are tokenized window by window (_spans)
        if self.offsets_batch is not None and long:
            for text, offsets in zip(long, self.offsets_batch(long), strict=True):
                self._counted[text] = len(offsets)
                self._offsets[text] = ([a for a, _ in offsets], [b for _, b in offsets])
        elif self.count_batch is not None and long:
            self._counted = dict(zip(long, self.count_batch(long), strict=True))
        try:
            return [list(self.chunk([doc])) for doc in docs]
        finally:
            self._counted, self._offsets, self._section = {}, {}, None

    def _chunks(self, doc: Document, sections: Iterable[tuple[int, Section]]) -> Iterator[Chunk]:
        ordinal = 0
        for index, section in sections:
            for start, end in self._spans(section.text):
                yield Chunk(
                    doc_id=doc.id,
                    ordinal=ordinal,
                    title=doc.title,
                    section=section.heading,
                    section_index=index,
                    text=section.text[start:end],
                    start=start,
                    end=end,
                    page_start=section.page_at(start),
                    page_end=section.page_at(max(end - 1, start)),
                )
                ordinal += 1

    def _spans(self, text: str) -> Iterator[tuple[int, int]]:
        """(start, end) character spans of the chunks of ``text``."""
        stripped = text.strip()
        if not stripped:
            return
        first = text.index(stripped)
        max_tokens = self.settings.max_tokens
        if len(stripped) <= max_tokens or (
            len(stripped) <= WINDOW_CHARS and self._length(stripped) <= max_tokens
        ):
            yield first, first + len(stripped)  # most abstracts: one passage, no splitting
            return
        previous: tuple[int, int] | None = None
        whole = len(stripped) <= WINDOW_CHARS
        for a, b in [(0, len(text))] if whole else windows(text, first, first + len(stripped)):
            for start, end in self._split(text[a:b], window=not whole):
                start, end = start + a, end + a
                yield (self._overlap_start(text, previous) if previous else start), end
                previous = (start, end)

    def _split(self, text: str, window: bool) -> Iterator[tuple[int, int]]:
        """Contiguous spans of the splitter's pieces of ``text``: a section, or a ``window`` of
        a long one, tokenized here (with ``offsets_batch``) rather than ahead by chunk_many."""
        self._pieces.clear()
        self._section = None
        stripped = text.strip()
        offsets = self._offsets.get(stripped)
        if offsets is None and window and self.offsets_batch is not None:
            found = self.offsets_batch([stripped])[0]
            offsets = ([a for a, _ in found], [b for _, b in found])
        if offsets is not None:  # offsets into ``stripped``: shift them into ``text``
            first = text.index(stripped)
            starts, ends = offsets
            self._section = (text, [a + first for a in starts], [b + first for b in ends])
        cursor = 0
        for piece in self.splitter.split_text(text):
            start = text.index(piece, cursor)  # pieces are contiguous: the next match is it
            cursor = start + len(piece)
            yield start, cursor
        self._section = None

    def _length(self, text: str) -> int:
        known = self._counted.get(text)
        return self.count_tokens(text) if known is None else known

    def _piece_length(self, piece: str) -> int:
        """The length of a piece of the section being split, each piece counted once."""
        known = self._pieces.get(piece)
        if known is None:
            known = self._counted_in_section(piece)
            if known is None:
                known = self.count_tokens(piece)
            self._pieces[piece] = known
        return known

    def _counted_in_section(self, piece: str) -> int | None:
        """The tokens of the section being split that lie in ``piece``, where it stands between
        whitespace (or the section's ends); None if it stands nowhere so, or offsets are unknown.

        Such a piece is cut into the same tokens alone as in the section when the tokenizer
        splits words at whitespace before cutting them (``offsets_batch`` is only given for
        such tokenizers): on all of ../shared/corpus the passages are the same as counting
        each piece alone, at 1/4 of the cost.
        """
        if self._section is None:
            return None
        text, starts, ends = self._section
        core = piece.strip()
        if not core:
            return None
        lead = len(piece) - len(piece.lstrip())
        pos = text.find(piece)
        while pos >= 0:
            a = pos + lead
            b = a + len(core)
            if (a == 0 or text[a - 1].isspace()) and (b == len(text) or text[b].isspace()):
                return max(0, bisect_right(ends, b) - bisect_left(starts, a))
            pos = text.find(piece, pos + 1)
        return None

    def _overlap_start(self, text: str, previous: tuple[int, int]) -> int:
        """Where a chunk starts so it repeats the previous piece's last sentences (≤ overlap)."""
        start, end = previous
        for m in PASSAGE_BREAK.finditer(text, start, end):
            if self._piece_length(text[m.end() : end]) <= self.settings.overlap_tokens:
                return m.end()
        return end


def windows(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """``text[start:end]`` in consecutive spans of at most :data:`WINDOW_CHARS`, each cut at the
    last paragraph break, else line, sentence or word break, of its second half."""
    while end - start > WINDOW_CHARS:
        limit = start + WINDOW_CHARS
        cut = limit
        for mark in _WINDOW_BREAKS:
            found = text.rfind(mark, start + WINDOW_CHARS // 2, limit)
            if found >= 0:
                cut = found + len(mark)
                break
        yield start, cut
        start = cut
    yield start, end


def stand_in(doc: Document) -> Section:
    """The text that stands for a document without any: its title, else its record line."""
    if doc.title.strip():
        return Section("Title", doc.title)
    ids = (("PMID", doc.pmid), ("PMCID", doc.pmcid), ("DOI", doc.doi))
    parts = [f"{name} {value}" for name, value in ids if value]
    parts += [p for p in (doc.journal, str(doc.year) if doc.year else None) if p]
    parts += [*doc.authors[:3], *doc.mesh_terms, *doc.keywords]
    return Section("Record", "; ".join(p.strip() for p in parts if p.strip()) or doc.id)
