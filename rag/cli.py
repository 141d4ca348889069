"""The ``rag`` command line: the edge where :class:`RagError` becomes a message and an exit code."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from corpus import read_many
from corpus.model import Document
from rag.errors import RagError, ReadError
from rag.settings import Settings, load_settings

app = typer.Typer(help="litrag: answers from the biomedical literature, with checkable citations.")
corpus_app = typer.Typer(help="Read documents and show what litrag makes of them.")
app.add_typer(corpus_app, name="corpus")
err = Console(stderr=True, soft_wrap=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Settings TOML file (default: $LITRAG_CONFIG or ./litrag.toml)."),
]


def _settings(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except RagError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


@corpus_app.command("inspect")
def inspect(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders (read recursively).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON Lines.")] = False,
    config: ConfigOption = None,
) -> None:
    """Read documents and report, per document and per failed file, what was found."""
    settings = _settings(config)
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


def main() -> None:
    """Entry point for ``python -m rag.cli``."""
    app()


if __name__ == "__main__":
    main()
