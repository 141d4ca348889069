"""The ``rag`` command line: the edge where :class:`RagError` becomes a message and an exit code."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from corpus import read_many
from corpus.model import Document
from rag.errors import RagError, ReadError
from rag.settings import Settings, load_settings

if TYPE_CHECKING:
    from rag.answer import Answer as AnswerRecord
    from rag.answer import AnswerMode
    from rag.retrieval import Hit, Mode

app = typer.Typer(
    pretty_exceptions_enable=False,
    help="litrag: answers from the biomedical literature, with checkable citations.",
)
corpus_app = typer.Typer(
    pretty_exceptions_enable=False, help="Read documents and show what litrag makes of them."
)
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


IndexOption = Annotated[Path, typer.Option("--index", help="The index directory.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


@app.command("ingest")
def ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders (read recursively).")],
    index: IndexOption,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Read, chunk, embed and index documents; unchanged ones are skipped."""
    from rag.ingest import ingest  # the model stack loads only for commands that need it

    settings = _settings(config)
    with Progress(
        TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=as_json,
    ) as bar:  # fmt: skip
        task = bar.add_task("ingest", total=None)
        report = ingest(
            paths,
            index,
            settings,
            lambda done, total: bar.update(task, completed=done, total=total),
        )
    for exc in report.errors:
        _say_error(exc, as_json)
    summary = {
        "documents": report.documents, "chunks": report.chunks, "skipped": report.skipped,
        "errors": len(report.errors), "seconds": round(report.seconds, 2),
    }  # fmt: skip
    print(json.dumps(summary) if as_json else _sentence(summary))


@app.command("search")
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
    from rag.retrieval import Filters
    from rag.search import open_retriever

    if mode not in ("hybrid", "dense", "sparse"):
        raise RagError(f"--mode {mode!r} is not one of hybrid, dense, sparse")
    retriever = open_retriever(index, _settings(config))
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


@app.command("stats")
def stats_command(
    index: IndexOption, as_json: JsonOption = False, config: ConfigOption = None
) -> None:
    """Size and build settings of an index."""
    from rag.index import Index

    opened = Index.open(index, _settings(config))
    docs, chunks = opened.store.counts()
    stats = {
        "documents": docs, "chunks": chunks, "index_kind": opened.settings.index.kind,
        "vectors": int(opened.dense.ntotal), "generation": opened.store.generation,
        "fingerprint": opened.manifest.fingerprint, **asdict(opened.manifest),
        "bytes": sum(p.stat().st_size for p in index.rglob("*") if p.is_file()),
    }  # fmt: skip
    print(json.dumps(stats) if as_json else _sentence(stats))


@app.command("remove")
def remove_command(
    ids: Annotated[list[str], typer.Argument(help="Document ids (pmid:…, doi:…) or bare PMIDs.")],
    index: IndexOption,
    config: ConfigOption = None,
) -> None:
    """Delete documents from an index."""
    from rag.ingest import remove

    removed, missing = remove(ids, index, _settings(config))
    print(f"removed {len(removed)}: {' '.join(removed)}" if removed else "removed nothing")
    if missing:
        err.print(f"not in the index: {' '.join(missing)}", highlight=False)
        raise typer.Exit(1)


@app.command("ask")
def ask_command(
    question: Annotated[str, typer.Argument(help="The question.")],
    index: IndexOption,
    mode: Annotated[str | None, typer.Option(help="generate or extractive.")] = None,
    model: Annotated[
        str | None, typer.Option(help="A local model directory, a .gguf file or a hub id.")
    ] = None,
    endpoint: Annotated[
        str | None,
        typer.Option(help="An OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1"),
    ] = None,
    endpoint_model: Annotated[str | None, typer.Option(help="Model name at the endpoint.")] = None,
    k: Annotated[int | None, typer.Option("-k", "--k", min=1, help="Sources to use.")] = None,
    year_min: Annotated[int | None, typer.Option(help="Earliest publication year.")] = None,
    year_max: Annotated[int | None, typer.Option(help="Latest publication year.")] = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Answer a question from the index, with checked citations (streamed to the terminal)."""
    from rag.answer import Answer
    from rag.pipeline import Pipeline
    from rag.retrieval import Filters

    if mode not in (None, "generate", "extractive"):
        raise RagError(f"--mode {mode!r} is not one of generate, extractive")
    settings = with_generation(_settings(config), model, endpoint, endpoint_model)
    pipeline = Pipeline.open(index, settings)
    filters = Filters(year_min, year_max) if year_min or year_max else None
    final: Answer | None = None
    for event in pipeline.stream(question, mode=cast("AnswerMode | None", mode), k=k,
                                 filters=filters):  # fmt: skip
        if isinstance(event, Answer):
            final = event
        elif not as_json:
            err.print(event.text, end="", style="dim", highlight=False, markup=False)
    if final is None:
        raise RagError("no answer was produced")
    if as_json:
        print(json.dumps(final.to_json(), ensure_ascii=False))
        return
    err.print()
    _print_answer(final)


def with_generation(
    settings: Settings, model: str | None, endpoint: str | None, endpoint_model: str | None
) -> Settings:
    """``settings`` with the command line's model or endpoint in place of the configured one."""
    changes: dict[str, str] = {}
    if model:
        path = Path(model)
        is_gguf = path.suffix == ".gguf" and path.is_file()
        changes |= {"model": str(path.parent), "gguf_file": path.name} if is_gguf else {
            "model": model, "gguf_file": ""}  # fmt: skip
    if endpoint:
        changes["endpoint"] = endpoint
    if endpoint_model:
        changes["endpoint_model"] = endpoint_model
    if not changes:
        return settings
    generation = settings.generation.model_copy(update=changes)
    return settings.model_copy(update={"generation": generation})


def _print_answer(answer: AnswerRecord) -> None:
    out = Console()
    out.print(answer.answer, highlight=False, markup=False)
    for c in answer.citations:
        s = c.source
        badge = "[green]supported[/green]" if c.supported else "[red]unsupported[/red]"
        ids = " ".join(x for x in (f"PMID {s.pmid}" if s.pmid else "", s.doi or "") if x)
        out.print(f"[{c.n}] {s.title or s.doc_id} ({s.year or 'n.d.'}) {ids} §{s.section} {badge}",
                  highlight=False)  # fmt: skip
    if answer.abstained and answer.sources:
        out.print("closest sources:")
        for s in answer.sources:
            out.print(f"  - {s.title or s.doc_id} ({s.year or 'n.d.'}) {s.doc_id}", highlight=False)
    for w in answer.warnings:
        err.print(f"[yellow]note:[/yellow] {w}", highlight=False)
    t = answer.timings
    first = f", first token {t.first_token_ms:.0f} ms" if t.first_token_ms else ""
    err.print(f"[dim]retrieval {t.retrieve_ms:.0f} ms{first}, total {t.total_ms:.0f} ms[/dim]")


@app.command("lookup")
def lookup_command(
    query: Annotated[str, typer.Argument(help="A PMID, PMCID, DOI, title or claim.")],
    index: IndexOption,
    k: Annotated[int, typer.Option("-k", "--k", min=1, help="Passages for a claim.")] = 5,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Find the paper a PMID, PMCID, DOI or title names, or the passages that support a claim."""
    from rag.lookup import lookup
    from rag.pipeline import Pipeline

    found = lookup(Pipeline.open(index, _settings(config)), query, k)
    if as_json:
        print(json.dumps(found.to_json(), ensure_ascii=False))
        return
    out = Console()
    out.print(f"{found.kind}: {len(found.documents)} document(s)", highlight=False)
    for d in found.documents:
        out.print(f"  {d.id}  {d.title} ({d.journal or ''}, {d.year or 'n.d.'}) doi {d.doi}",
                  highlight=False, markup=False)  # fmt: skip
    for c in found.passages:
        badge = "supports" if c.supported else "does not support"
        out.print(f"[{c.n}] {c.source.doc_id} §{c.source.section} {badge} "
                  f"({c.support:.2f}): {c.evidence}", highlight=False, markup=False)  # fmt: skip
    if not found.documents:
        raise typer.Exit(1)


@app.command("cite")
def cite_command(
    ids: Annotated[list[str], typer.Argument(help="Document ids, PMIDs, PMCIDs or DOIs.")],
    index: IndexOption,
    fmt: Annotated[str, typer.Option("--format", help="bibtex, ris or csljson.")] = "bibtex",
    config: ConfigOption = None,
) -> None:
    """Export references for stored documents from their metadata."""
    from rag.export import FORMATS, export
    from rag.index import Index

    if fmt not in FORMATS:
        raise RagError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    store = Index.open(index, _settings(config)).store
    docs, missing = [], []
    for key in ids:
        found = [d for i in store.resolve(key) if (d := store.document(i))]
        docs += found
        if not found:
            missing.append(key)
    if missing:
        raise RagError(f"not in the index {index}: {' '.join(missing)}")
    print(export(docs, fmt), end="")


@app.command("eval")
def eval_command(
    kind: Annotated[str, typer.Argument(help="pubmedqa, bioasq or jsonl; or compare.")],
    runs: Annotated[list[Path] | None, typer.Argument(help="compare: two run folders.")] = None,
    gold: Annotated[Path | None, typer.Option(help="The gold file or folder.")] = None,
    index: Annotated[Path | None, typer.Option(help="The index folder.")] = None,
    out: Annotated[Path | None, typer.Option(help="Folder for the run's results.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="First N questions only.")] = None,
    retrieval_only: Annotated[bool, typer.Option(help="Score retrieval only (no LLM).")] = False,
    all_retrievers: Annotated[bool, typer.Option(help="Also score BM25 and dense alone.")] = False,
    mode: Annotated[str, typer.Option(help="generate or extractive answers.")] = "generate",
    model: Annotated[
        str | None, typer.Option(help="Local model dir, .gguf file or hub id.")
    ] = None,
    endpoint: Annotated[str | None, typer.Option(help="OpenAI-compatible base URL.")] = None,
    config: ConfigOption = None,
) -> None:
    """Score litrag on a gold set (results.jsonl, summary.json, report.md), or compare two runs."""
    from eval.compare import compare, load_summary

    if kind == "compare":
        if not runs or len(runs) != 2:
            raise RagError("rag eval compare needs two run folders: rag eval compare A B")
        table = Table("metric", str(runs[0]), str(runs[1]), "difference")
        for key, a, b, d in compare(load_summary(runs[0]), load_summary(runs[1])):
            table.add_row(key, *("" if v is None else f"{v:.4g}" for v in (a, b, d)))
        Console().print(table)
        return
    from eval.run import RunConfig, run

    if kind not in ("pubmedqa", "bioasq", "jsonl") or mode not in ("generate", "extractive"):
        raise RagError(f"rag eval {kind!r} --mode {mode!r}: the set is one of pubmedqa, bioasq, "
                       "jsonl, compare and the mode generate or extractive")  # fmt: skip
    if gold is None or index is None or out is None:
        raise RagError("rag eval needs --gold, --index and --out")
    settings = with_generation(_settings(config), model, endpoint, None)
    cfg = RunConfig(kind, str(gold), str(index), limit, retrieval_only, all_retrievers,
                    cast("AnswerMode", mode), model or endpoint or "")  # fmt: skip
    with Progress(TextColumn("eval"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err) as bar:  # fmt: skip
        task = bar.add_task("eval", total=None)
        summary = run(cfg, out, settings, lambda d, t: bar.update(task, completed=d, total=t))
    print(json.dumps({k: summary[k] for k in summary if k != "stamp"}))
    err.print(f"wrote {out / 'results.jsonl'}, {out / 'summary.json'} and {out / 'report.md'}")


def _say_error(exc: ReadError, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"path": exc.path, "error": exc.reason}, ensure_ascii=False))
    else:
        err.print(f"[red]error[/red] {exc.path}: {exc.reason}", highlight=False)


def _sentence(values: Mapping[str, object]) -> str:
    return ", ".join(f"{k} {v}" for k, v in values.items())


@app.command("serve")
def serve_command(
    index: IndexOption,
    host: Annotated[
        str, typer.Option(help="Address to bind; 0.0.0.0 serves the network (set a login).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 7860,
    max_upload_mb: Annotated[
        float, typer.Option(min=0.1, help="Largest file the Library tab accepts, in MB.")
    ] = 50,
    config: ConfigOption = None,
) -> None:
    """Serve the web app: chat with cited answers, lookup, library, and the /ask API.

    Set LITRAG_UI_AUTH="user:password" to require a login.
    """
    from ui.app import serve  # gradio loads only for this command

    serve(index, _settings(config), host=host, port=port, max_upload_mb=max_upload_mb)


def main() -> None:
    """The ``rag`` command: RagError becomes a one-line message and exit code 1."""
    try:
        app()
    except RagError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise SystemExit(1) from exc


if __name__ == "__main__":
    main()
