"""The Library tab's upload rules: which files are accepted (the listing is Store.list_documents).

Upload limits are the web app's own (the CLI reads local files and has no such limits).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

# Suffixes the readers in corpus/ handle (content decides the reader; see corpus.detect_format).
ACCEPTED = (".pdf", ".xml", ".nxml", ".nbib", ".medline", ".txt", ".md", ".jsonl", ".gz")
ACCEPTED_WORDS = (
    "PDF (.pdf), PubMed or JATS XML (.xml, .nxml), MEDLINE (.nbib, .medline), text (.txt, .md), "
    "BEIR-style JSON Lines (.jsonl), gzipped XML or JSONL (.gz)"
)
LIST_LIMIT = 200  # rows the library table shows; the filter box finds the others


TEXT_SUFFIXES = (".txt", ".md")  # one file, one record: its size is the record's


def check_uploads(
    paths: Sequence[Path], max_mb: float, max_record_mb: float | None = None
) -> tuple[list[Path], list[str]]:
    """The uploads to ingest, and one message per refused file (wrong type or too large).

    A text file over ``max_record_mb`` is one record too large to index: refused here, before
    ingest takes the index's write lock (JSONL lines over it are skipped by the reader unparsed).
    """
    accepted: list[Path] = []
    problems: list[str] = []
    for path in paths:
        suffix = path.suffix.lower()
        size_mb = path.stat().st_size / 2**20
        if suffix not in ACCEPTED:
            kind = f"{suffix} files" if suffix else "files without an extension"
            problems.append(f"{path.name}: {kind} are not accepted; upload {ACCEPTED_WORDS}")
        elif size_mb > max_mb:
            problems.append(
                f"{path.name}: {size_mb:.1f} MB is over the {max_mb:g} MB upload limit "
                "(rag serve --max-upload-mb)"
            )
        elif max_record_mb is not None and suffix in TEXT_SUFFIXES and size_mb > max_record_mb:
            problems.append(
                f"{path.name}: {size_mb:.1f} MB is over the {max_record_mb:g} MB limit for one "
                "record (setting corpus.max_record_mb)"
            )
        else:
            accepted.append(path)
    return accepted, problems
