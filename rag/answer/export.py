"""Reference export: stored :class:`~corpus.model.Document` metadata as BibTeX, RIS or CSL-JSON.

Every format gets the same citation keys (:func:`citation_keys`), so an id in a CSL-JSON file
(which pandoc uses as the citekey) matches the key of the same paper in the BibTeX file.
Authors are stored as the readers found them ("Smith, John A", "Smith JA", "John A Smith" or a
group name); :func:`parse_name` splits them into family and given names once for all formats.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from base.errors import ConfigError
from corpus.model import Document, paper_url, squash

FORMATS = ("bibtex", "ris", "csljson")


@dataclass(frozen=True, slots=True)
class Name:
    """An author as citation styles want it.

    A person has ``family`` (and usually ``given``, initials as "J. A."; ``suffix`` is "Jr",
    "III", ...); an organization or a name that cannot be split has only ``literal``, which
    styles print as it is.
    """

    family: str = ""
    given: str = ""
    literal: str = ""
    suffix: str = ""


# Words that mark a collective author ("COVID-19 Genomics UK Consortium", "RECOVERY
# Collaborative Group", "Writing Committee for the ...").
_ORGANIZATION = re.compile(
    r"\b(?:consortium|collaborat\w*|group|committee|network|society|association|investigators"
    r"|team|council|institutes?|university|organi[sz]ation|foundation|agency|cent(?:er|re)"
    r"|alliance|initiative|panel|board|federation|coalition|trialists|working)\b",
    re.IGNORECASE,
)
# "JA", "J", "J-P": the initials MEDLINE's AU field and PubMed's <Initials> give.
_INITIALS = re.compile(r"[A-Z](?:-?[A-Z]){0,2}")
_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "da", "di", "del", "della", "du", "la", "le", "dos", "ter"}
)
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "2nd", "3rd"})
# More words than this without a comma is a phrase, not a person ("Study of ... in ...").
_MAX_NAME_WORDS = 5


def parse_name(raw: str) -> Name:
    """Split one stored author name into family and given names.

    Handles "Smith, John A", "Smith J", "Smith JA", "John A Smith", "Ludwig van Beethoven",
    "Smith JA Jr"; a single word or a group name ("RECOVERY Collaborative Group") becomes a
    ``literal``.
    """
    text = squash(raw).strip(" .;")
    words = text.split()
    # MEDLINE writes "Smith JA 3rd" and "Smith, John A Jr"; "III" would pass for initials.
    if len(words) > 2 and words[-1].strip(".,").lower() in _SUFFIXES:
        name = parse_name(" ".join(words[:-1]).rstrip(","))
        return replace(name, suffix=words[-1].strip(".,")) if name.family else Name(literal=text)
    if _ORGANIZATION.search(text) or len(words) <= 1:
        return Name(literal=text)
    if "," in text:
        family, given = (part.strip() for part in text.split(",", 1))
        return Name(family=family, given=_expand_initials(given)) if family else Name(literal=text)
    if len(words) > _MAX_NAME_WORDS:
        return Name(literal=text)
    if _INITIALS.fullmatch(words[-1]):
        return Name(family=" ".join(words[:-1]), given=_expand_initials(words[-1]))
    start = next((i for i in range(1, len(words) - 1) if words[i] in _PARTICLES), len(words) - 1)
    return Name(family=" ".join(words[start:]), given=" ".join(words[:start]))


def _expand_initials(given: str) -> str:
    """ "JA" → "J. A.", "J-P" → "J.-P."; a given name that is not bare initials is kept."""
    if not _INITIALS.fullmatch(given):
        return given
    return re.sub(r"([A-Z])(?=-)", r"\1.", re.sub(r"([A-Z])(?=[A-Z]|$)", r"\1. ", given)).strip()


# Letters NFKD does not decompose into an ASCII base letter plus a combining mark.
_ASCII_LETTERS = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE", "ł": "l",
     "Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "Þ": "Th", "ı": "i"}
)  # fmt: skip
_STOPWORDS = frozenset(
    {"a", "an", "the", "of", "on", "in", "and", "or", "for", "to", "with", "from", "by", "at",
     "as", "is", "are", "be", "its", "into", "via", "versus", "vs", "do", "does", "how", "what",
     "when", "which", "why", "who", "whether"}
)  # fmt: skip


def ascii_fold(text: str) -> str:
    """``text`` with accents removed and a few letters spelled out ("Müller" → "Muller")."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_ASCII_LETTERS))
    return decomposed.encode("ascii", "ignore").decode("ascii")


def _base_key(doc: Document) -> str:
    """family + year + first significant title word; else ``pmid<PMID>``; else the id."""
    names = [parse_name(a) for a in doc.authors]
    first = names[0] if names else Name()
    surname = first.family or first.literal.split(" ")[0]
    family = re.sub(r"[^a-z]", "", ascii_fold(surname).lower())
    if not family:
        # Characters a BibTeX key or a pandoc citekey cannot hold become "-".
        fallback = re.sub(r"[^A-Za-z0-9:._-]+", "-", doc.id).strip("-")
        return f"pmid{doc.pmid}" if doc.pmid else fallback
    words = re.findall(r"[a-z][a-z0-9]*", ascii_fold(doc.title).lower())
    word = next((w for w in words if w not in _STOPWORDS), "")
    return f"{family}{doc.year or ''}{word}"


def _suffix(n: int) -> str:
    """0 → "a", 25 → "z", 26 → "aa": letters to tell apart papers with the same key."""
    letters = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def citation_keys(docs: Sequence[Document]) -> list[str]:
    """One unique key per document, in order: "smith2024mdm", or "smith2024mdma",
    "smith2024mdmb", ... when several papers would share one."""
    bases = [_base_key(doc) for doc in docs]
    counts = Counter(bases)
    used = {base for base, count in counts.items() if count == 1}
    next_suffix: Counter[str] = Counter()
    keys = []
    for base in bases:
        key = base
        if counts[base] > 1:
            while (key := base + _suffix(next_suffix[base])) in used:
                next_suffix[base] += 1
            next_suffix[base] += 1
        used.add(key)
        keys.append(key)
    return keys


def _terms(doc: Document) -> list[str]:
    """MeSH terms then author keywords, each once (ignoring case)."""
    seen: dict[str, str] = {}
    for term in (*doc.mesh_terms, *doc.keywords):
        seen.setdefault(squash(term).casefold(), squash(term))
    return [term for term in seen.values() if term]


# --- BibTeX ---------------------------------------------------------------------------------

# Braces become \textbraceleft{} rather than \{ because BibTeX and biber count every brace,
# escaped or not, when they find where a field value ends: "a \{ b" would be unbalanced.
_BIBTEX_SPECIAL = str.maketrans(
    {"\\": r"\textbackslash{}", "{": r"\textbraceleft{}", "}": r"\textbraceright{}",
     "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
     "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
)  # fmt: skip


def bibtex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped; other characters (UTF-8) kept."""
    return squash(text).translate(_BIBTEX_SPECIAL)


def _bibtex_verbatim(text: str) -> str:
    """A DOI or URL for biblatex's verbatim fields: only what would break the braces changes."""
    return text.replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")


def _bibtex_name(name: Name) -> str:
    """ "Family, Given"; a group name in braces so BibTeX neither splits it nor reorders it."""
    if name.literal:
        return "{" + bibtex_escape(name.literal) + "}"
    # BibTeX's three-part form is "von Last, Jr, First".
    parts = (name.family, name.suffix, name.given) if name.suffix else (name.family, name.given)
    return ", ".join(bibtex_escape(part) for part in parts if part)


def _bibtex_entry(doc: Document, key: str) -> str:
    """One ``@article`` entry; empty fields are left out."""
    url = paper_url(doc.pmid, doc.doi)
    # A term with its own comma ("Carcinoma, Non-Small-Cell Lung") is braced to stay whole.
    terms = [f"{{{t}}}" if "," in t else t for t in map(bibtex_escape, _terms(doc))]
    fields = {
        "title": "{" + bibtex_escape(doc.title) + "}" if squash(doc.title) else "",
        "author": " and ".join(_bibtex_name(parse_name(a)) for a in doc.authors if squash(a)),
        "journal": bibtex_escape(doc.journal or ""),
        "year": str(doc.year or ""),
        "doi": _bibtex_verbatim(doc.doi or ""),
        # JabRef, Zotero and Better BibTeX read these two field names.
        "pmid": doc.pmid or "",
        "pmcid": doc.pmcid or "",
        "url": _bibtex_verbatim(url or ""),
        "keywords": ", ".join(terms),
    }
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items() if value)
    return f"@article{{{key},\n{body}\n}}\n" if body else f"@article{{{key}}}\n"


def to_bibtex(docs: Sequence[Document]) -> str:
    """The documents as BibTeX ``@article`` entries (UTF-8, biblatex-friendly), blank-line
    separated."""
    return "\n".join(_bibtex_entry(d, k) for d, k in zip(docs, citation_keys(docs), strict=True))


# --- RIS ------------------------------------------------------------------------------------


def _ris_name(name: Name) -> str:
    """ "Family, Given, Suffix" as the RIS spec asks; a group name as it is."""
    if name.literal:
        return name.literal
    return ", ".join(part for part in (name.family, name.given, name.suffix) if part)


def _ris_record(doc: Document) -> str:
    """One RIS record, ``TY`` to ``ER``; empty tags are left out."""
    url = paper_url(doc.pmid, doc.doi)
    # T2 is the journal of a JOUR record in the RIS spec; JO is for abbreviations, and the
    # readers store full journal titles, so JO is not written.
    tags: list[tuple[str, str | None]] = [
        ("TY", "JOUR"),
        ("TI", doc.title),
        *(("AU", _ris_name(parse_name(a))) for a in doc.authors),
        ("T2", doc.journal),
        ("PY", str(doc.year) if doc.year else None),
        ("DO", doc.doi),
        ("AN", doc.pmid),
        ("UR", url),
        *(("KW", term) for term in _terms(doc)),
    ]
    lines = [f"{tag}  - {squash(value)}" for tag, value in tags if squash(value)]
    return "\n".join([*lines, "ER  - "]) + "\n"


def to_ris(docs: Sequence[Document]) -> str:
    """The documents as RIS records ("TAG  - value" lines), separated by blank lines."""
    return "\n".join(_ris_record(doc) for doc in docs)


# --- CSL-JSON -------------------------------------------------------------------------------


def _csl_name(name: Name) -> dict[str, str]:
    """A CSL name object: ``{"family", "given"}`` or ``{"literal"}``."""
    if name.literal:
        return {"literal": name.literal}
    parts = {"family": name.family, "given": name.given, "suffix": name.suffix}
    return {part: value for part, value in parts.items() if value}


def _csl_item(doc: Document, key: str) -> dict[str, object]:
    """One CSL-JSON ``article-journal`` item; empty fields are left out."""
    item: dict[str, object] = {
        "id": key,
        "type": "article-journal",
        "title": squash(doc.title),
        "author": [_csl_name(parse_name(a)) for a in doc.authors if squash(a)],
        "container-title": squash(doc.journal),
        "issued": {"date-parts": [[doc.year]]} if doc.year else None,
        "DOI": doc.doi,
        "PMID": doc.pmid,
        "PMCID": doc.pmcid,
        "URL": paper_url(doc.pmid, doc.doi),
        "keyword": ", ".join(_terms(doc)),
    }
    return {field: value for field, value in item.items() if value}


def to_csljson(docs: Sequence[Document]) -> str:
    """The documents as a CSL-JSON array (pandoc's and Zotero's citation data format)."""
    items = [_csl_item(d, k) for d, k in zip(docs, citation_keys(docs), strict=True)]
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


_WRITERS: dict[str, Callable[[Sequence[Document]], str]] = {
    "bibtex": to_bibtex,
    "ris": to_ris,
    "csljson": to_csljson,
}


def export(docs: Sequence[Document], fmt: str) -> str:
    """The documents in format ``fmt`` (one of :data:`FORMATS`).

    Raises :class:`~base.errors.ConfigError` for any other format name.
    """
    writer = _WRITERS.get(fmt.strip().lower())
    if writer is None:
        raise ConfigError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    return writer(docs)
