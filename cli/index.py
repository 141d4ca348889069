"""The corpus and index ``rag`` commands: corpus inspect, ingest, search, stats and remove."""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from base.errors import RagError, ReadError
from cli.common import ConfigOption, IndexOption, JsonOption, err, settings_from
from corpus import read_many
from corpus.model import Document

if TYPE_CHECKING:
    from rag.retrieve.hybrid import Hit, Mode

VerboseOption = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="Also show libraries' warnings (pypdf's notes on malformed PDFs) and debug notes.",
    ),
]
# Loggers of litrag's own packages; their warnings show without --verbose.
_OURS = frozenset({"base", "corpus", "rag", "cli", "eval", "ui"})


class _QuietLibraries(logging.Filter):
    """Without --verbose: litrag's warnings, and libraries' errors except pypdf's.

    pypdf logs every repair it makes to a malformed PDF (with raw bytes of the file) as a
    warning or error (pypdf 7.1); what counts for the user, whether the file could be read,
    is reported per file anyway.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        top = record.name.split(".", 1)[0]
        if top in _OURS:
            return record.levelno >= logging.WARNING
        return record.levelno >= logging.ERROR and top not in ("pypdf", "py")


def log_to_stderr(verbose: bool) -> None:
    """Route logging and Python warnings to stderr; libraries' only with ``verbose``."""
    handler = logging.StreamHandler()  # stderr
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    if not verbose:
        handler.addFilter(_QuietLibraries())
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, handlers=[handler], force=True
    )
    for name in _OURS if verbose else ():
        logging.getLogger(name).setLevel(logging.DEBUG)  # e.g. what a damaged file raised
    logging.captureWarnings(True)  # warnings.warn(...) -> the "py.warnings" logger


corpus_app = typer.Typer(
    pretty_exceptions_enable=False, help="Read documents and show what litrag makes of them."
)


@corpus_app.command("inspect")
def inspect(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders (read recursively).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON Lines.")] = False,
    config: ConfigOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Read documents and report, per document and per failed file, what was found."""
    log_to_stderr(verbose)
    settings = settings_from(config)
    docs, errors = read_many(paths, settings.corpus)
    if as_json:
        for doc in docs:
            print(json.dumps(_doc_summary(doc), ensure_ascii=False))
        for exc in errors:
            print(json.dumps({"path": exc.path, "error": exc.reason}, ensure_ascii=False))
        return
    _print_table(docs, errors)


def _doc_summary(doc: Document) -> dict[str, object]:
    return {
        "id": doc.id,
        "pmid": doc.pmid,
        "pmcid": doc.pmcid,
        "doi": doc.doi,
        "title": doc.title,
        "year": doc.year,
        "format": doc.format,
        "sections": len(doc.sections),
        "chars": doc.chars,
    }


def _print_table(docs: list[Document], errors: list[ReadError]) -> None:
    out = Console()
    by_format: dict[str, list[Document]] = defaultdict(list)
    for doc in docs:
        by_format[doc.format].append(doc)
    table = Table(title=f"{len(docs)} documents, {len(errors)} files with errors")
    for column in ("format", "documents", "with PMID", "with DOI", "sections", "chars"):
        table.add_column(column, justify="left" if column == "format" else "right")
    for fmt, group in sorted(by_format.items()):
        table.add_row(
            fmt,
            f"{len(group):,}",
            f"{sum(bool(d.pmid) for d in group):,}",
            f"{sum(bool(d.doi) for d in group):,}",
            f"{sum(len(d.sections) for d in group):,}",
            f"{sum(d.chars for d in group):,}",
        )
    out.print(table)
    merged = Counter(len(d.other_sources) > 0 for d in docs)[True]
    if merged:
        out.print(f"{merged} documents merge records of the same paper from several files.")
    for exc in errors:
        out.print(f"[red]error[/red] {exc.path}: {exc.reason}", highlight=False)


def ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders (read recursively).")],
    index: IndexOption,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    verbose: VerboseOption = False,
    ray: Annotated[
        bool,
        typer.Option(
            "--ray",
            help="Read, chunk and embed on Ray (a local 2-CPU instance "
            "unless --ray-address names a cluster); this process writes.",
        ),
    ] = False,
    ray_address: Annotated[
        str | None, typer.Option(help="Address of a running Ray cluster (implies --ray).")
    ] = None,
) -> None:
    """Read, chunk, embed and index documents; unchanged ones are skipped."""
    from rag.index.ingest.pipeline import ingest  # the model stack loads only when needed

    log_to_stderr(verbose)
    settings = settings_from(config)
    with Progress(
        TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=as_json,
    ) as bar:  # fmt: skip
        task = bar.add_task("ingest", total=None)
        show = lambda done, total: bar.update(task, completed=done, total=total)  # noqa: E731
        if ray or ray_address:
            from rag.index.ingest.distributed import ingest_ray  # Ray is imported only with --ray

            report = ingest_ray(paths, index, settings, ray_address, show)
        else:
            report = ingest(paths, index, settings, show)
    for exc in report.errors:
        _say_error(exc, as_json)
    summary = {
        "documents": report.documents, "chunks": report.chunks, "skipped": report.skipped,
        "errors": len(report.errors), "seconds": round(report.seconds, 2),
    }  # fmt: skip
    print(json.dumps(summary) if as_json else _sentence(summary))


def search_command(
    query: Annotated[str, typer.Argument(help="The question or keywords.")],
    index: IndexOption,
    k: Annotated[int, typer.Option("-k", "--k", min=1, help="Hits to return.")] = 10,
    mode: Annotated[str, typer.Option(help="hybrid, dense or sparse.")] = "hybrid",
    year_min: Annotated[int | None, typer.Option(help="Earliest publication year.")] = None,
    year_max: Annotated[int | None, typer.Option(help="Latest publication year.")] = None,
    journal: Annotated[str | None, typer.Option(help="Journal name contains this.")] = None,
    pmid: Annotated[list[str] | None, typer.Option(help="Only these PMIDs (repeatable).")] = None,
    section: Annotated[list[str] | None, typer.Option(help="Section heading starts with.")] = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Hybrid (dense + BM25) search of an index."""
    from rag.retrieve.hybrid import Filters, open_retriever

    if mode not in ("hybrid", "dense", "sparse"):
        raise RagError(f"--mode {mode!r} is not one of hybrid, dense, sparse")
    retriever = open_retriever(index, settings_from(config))
    filters = Filters(year_min, year_max, journal, tuple(pmid or ()), tuple(section or ()))
    hits = retriever.search(query, k=k, filters=filters, mode=cast("Mode", mode))
    if as_json:
        print(json.dumps({"hits": [hit_json(h) for h in hits]}, ensure_ascii=False))
        return
    out = Console()
    for h in hits:
        c = h.chunk
        out.print(f"[bold]{h.rank}.[/bold] {c.title or c.doc_id} ({c.year or 'n.d.'})  "
                  f"{c.doc_id} §{c.section}  score {h.score:.4f}", highlight=False)  # fmt: skip
        out.print(f"   {c.text[:300]}", highlight=False, markup=False)


def hit_json(h: Hit) -> dict[str, object]:
    """A hit as the JSON other tools read (``rag search --json``)."""
    c = h.chunk
    return {
        "rank": h.rank, "doc_id": c.doc_id, "pmid": c.pmid, "title": c.title,
        "section": c.section, "score": round(h.score, 6), "text": c.text,
        "doi": c.doi, "pmcid": c.pmcid, "journal": c.journal, "year": c.year,
        "start": c.start, "end": c.end, "page_start": c.page_start, "page_end": c.page_end,
        "dense_score": h.dense_score, "dense_rank": h.dense_rank,
        "sparse_score": h.sparse_score, "sparse_rank": h.sparse_rank,
    }  # fmt: skip


def stats_command(
    index: IndexOption, as_json: JsonOption = False, config: ConfigOption = None
) -> None:
    """Size and build settings of an index."""
    from rag.index.backends import open_index

    stats = open_index(index, settings_from(config)).stats()
    print(json.dumps(stats) if as_json else _sentence(stats))


def remove_command(
    ids: Annotated[list[str], typer.Argument(help="Document ids (pmid:…, doi:…) or bare PMIDs.")],
    index: IndexOption,
    config: ConfigOption = None,
) -> None:
    """Delete documents from an index."""
    from rag.index.ingest.pipeline import remove

    removed, missing = remove(ids, index, settings_from(config))
    print(f"removed {len(removed)}: {' '.join(removed)}" if removed else "removed nothing")
    if missing:
        err.print(f"not in the index: {' '.join(missing)}", highlight=False)
        raise typer.Exit(1)


index_app = typer.Typer(
    pretty_exceptions_enable=False, help="Move an index between backends (local, Milvus)."
)


@index_app.command("copy")
def copy_command(
    source: Annotated[str, typer.Argument(help="The index to copy (a directory or Milvus URI).")],
    target: Annotated[str, typer.Argument(help="A new, empty index (a directory or Milvus URI).")],
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Copy every document, passage and vector of SOURCE into TARGET, without embedding again."""
    from rag.index.ingest.copy import copy_index

    with Progress(TextColumn("copy"), MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                  transient=as_json) as bar:  # fmt: skip
        task = bar.add_task("copy", total=None)
        docs, chunks = copy_index(
            source, target, settings_from(config), lambda done: bar.update(task, completed=done)
        )
    summary = {"documents": docs, "chunks": chunks, "source": source, "target": target}
    print(json.dumps(summary) if as_json else _sentence(summary))


def _say_error(exc: ReadError, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"path": exc.path, "error": exc.reason}, ensure_ascii=False))
    else:
        err.print(f"[red]error[/red] {exc.path}: {exc.reason}", highlight=False)


def _sentence(values: Mapping[str, object]) -> str:
    return ", ".join(f"{k} {v}" for k, v in values.items())


COMMANDS: dict[str, Callable[..., None]] = {
    "ingest": ingest_command,
    "search": search_command,
    "stats": stats_command,
    "remove": remove_command,
}
