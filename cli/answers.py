"""The answer-side ``rag`` commands: ask, lookup, cite, eval and serve."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from base.errors import RagError
from base.settings import Settings
from cli.common import ConfigOption, IndexOption, JsonOption, err, settings_from
from eval.gold import KINDS

if TYPE_CHECKING:
    from rag.answer.records import Answer as AnswerRecord
    from rag.answer.records import AnswerMode


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
    from rag.answer.pipeline import Pipeline
    from rag.answer.records import Answer, Checked, Delta, Evidence
    from rag.retrieve.hybrid import Filters

    if mode not in (None, "generate", "extractive"):
        raise RagError(f"--mode {mode!r} is not one of generate, extractive")
    settings = with_generation(settings_from(config), model, endpoint, endpoint_model)
    pipeline = Pipeline.open(index, settings)
    filters = Filters(year_min, year_max) if year_min or year_max else None
    final: Answer | None = None
    for event in pipeline.stream(question, mode=cast("AnswerMode | None", mode), k=k,
                                 filters=filters):  # fmt: skip
        if isinstance(event, Answer):
            final = event
        elif isinstance(event, Evidence):  # on stderr, with --json too
            _print_evidence(event.answer)
        elif as_json:
            continue
        elif isinstance(event, Delta):
            err.print(event.text, end="", style="dim", highlight=False, markup=False)
        elif isinstance(event, Checked):
            mark = "[green]✓[/green]" if event.supported else "[red]✗[/red]"
            err.print(f" {mark}", end="", highlight=False)
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


def _print_evidence(evidence: AnswerRecord) -> None:
    """The best evidence sentences, each with its citation, on stderr before the LLM writes."""
    if evidence.abstained:
        return
    err.print("[bold]evidence[/bold] (the LLM's answer follows):", highlight=False)
    by_n = {c.n: c.source for c in evidence.citations}
    for sentence in evidence.sentences:
        ids = "; ".join(f"PMID {s.pmid}" if (s := by_n[n]).pmid else s.doc_id
                        for n in sentence.citations)  # fmt: skip
        err.print(f"  - {sentence.text} [{ids}]", highlight=False, markup=False)
    err.print("[bold]answer[/bold] (✓/✗: each sentence checked as it ends):", highlight=False)


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
    for r in answer.removed:
        err.print("[yellow]removed, not supported by its source:[/yellow]", end=" ")
        err.print(r.text, highlight=False, markup=False)
    for w in answer.warnings:
        err.print(f"[yellow]note:[/yellow] {w}", highlight=False)
    t = answer.timings
    first = f", first token {t.first_token_ms:.0f} ms" if t.first_token_ms else ""
    err.print(f"[dim]retrieval {t.retrieve_ms:.0f} ms{first}, total {t.total_ms:.0f} ms[/dim]")


def lookup_command(
    query: Annotated[str, typer.Argument(help="A PMID, PMCID, DOI, title or claim.")],
    index: IndexOption,
    k: Annotated[int, typer.Option("-k", "--k", min=1, help="Passages for a claim.")] = 5,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Find the paper a PMID, PMCID, DOI or title names, or the passages that support a claim."""
    from rag.answer.lookup import lookup
    from rag.answer.pipeline import Pipeline

    found = lookup(Pipeline.open(index, settings_from(config)), query, k)
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


def verify_command(
    claim: Annotated[str, typer.Argument(help="The sentence that cites the paper.")],
    doc: Annotated[
        str, typer.Option("--doc", help="The cited paper: a doc id, PMID, PMCID or DOI.")
    ],
    index: IndexOption,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Check a citation you already have: does the indexed paper support the claim?"""
    from rag.answer.lookup import verify_claim
    from rag.answer.pipeline import Pipeline

    found = verify_claim(Pipeline.open(index, settings_from(config)), claim, doc)
    if as_json:
        print(json.dumps(found.to_json(), ensure_ascii=False))
        return
    c = found.citation
    verdict = "[green]supported[/green]" if c.supported else "[red]not supported[/red]"
    Console().print(f"{verdict} by {c.source.doc_id} ({c.source.title or 'untitled'}), "
                    f"support {c.support:.2f}", highlight=False)  # fmt: skip
    Console().print(f"§{c.source.section}: {c.evidence}", highlight=False, markup=False)


def cite_command(
    ids: Annotated[list[str], typer.Argument(help="Document ids, PMIDs, PMCIDs or DOIs.")],
    index: IndexOption,
    fmt: Annotated[str, typer.Option("--format", help="bibtex, ris or csljson.")] = "bibtex",
    config: ConfigOption = None,
) -> None:
    """Export references for stored documents from their metadata."""
    from rag.answer.export import FORMATS, export
    from rag.index.backends import open_index

    if fmt not in FORMATS:
        raise RagError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    store = open_index(index, settings_from(config)).store
    docs, missing = [], []
    for key in ids:
        found = [d for i in store.resolve(key) if (d := store.document(i))]
        docs += found
        if not found:
            missing.append(key)
    if missing:
        raise RagError(f"not in the index {index}: {' '.join(missing)}")
    print(export(docs, fmt), end="")


def eval_command(
    kind: Annotated[
        str,
        typer.Argument(
            help="; ".join(f"{k.name} ({k.description})" for k in KINDS.values())
            + "; or compare (two run folders).",
        ),
    ],
    runs: Annotated[list[Path] | None, typer.Argument(help="compare: two run folders.")] = None,
    gold: Annotated[Path | None, typer.Option(help="The gold file or folder.")] = None,
    index: Annotated[str | None, typer.Option(help="The index (a folder or a Milvus URI).")] = None,
    out: Annotated[Path | None, typer.Option(help="Folder for the run's results.")] = None,
    split: Annotated[
        str | None,
        typer.Option(help="A claim set's file in --gold: claims_dev (default), claims_train."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="First N questions (claims) only.")
    ] = None,
    retrieval_only: Annotated[bool, typer.Option(help="Score retrieval only (no LLM).")] = False,
    all_retrievers: Annotated[
        bool,
        typer.Option(
            help="Also score BM25, dense (and with a reranker the fused first stage) alone."
        ),
    ] = False,
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

    if kind not in KINDS or mode not in ("generate", "extractive"):
        sets = ", ".join([*KINDS, "compare"])
        raise RagError(f"rag eval {kind!r} --mode {mode!r}: the set is one of {sets} and the mode "
                       "generate or extractive")  # fmt: skip
    needs_index, claims = KINDS[kind].needs_index, KINDS[kind].holds == "claims"
    if gold is None or out is None or (index is None and needs_index):
        options = "--gold, --index and --out" if needs_index else "--gold and --out"
        raise RagError(f"rag eval needs {options}")
    if split is not None and not claims:
        raise RagError(f"--split names a claims file; rag eval {kind} reads --gold itself")
    settings = with_generation(settings_from(config), model, endpoint, None)
    cfg = RunConfig(kind, str(gold), str(index or ""), limit, retrieval_only, all_retrievers,
                    cast("AnswerMode", mode), model or endpoint or "")  # fmt: skip
    with Progress(TextColumn("eval"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err) as bar:  # fmt: skip
        task = bar.add_task("eval", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        if claims:  # claims checked against the papers they cite, by eval/citint.py
            from eval import citint

            claim_cfg = citint.ClaimRunConfig(kind, str(gold), split or "claims_dev", limit)
            summary = citint.run(claim_cfg, out, settings, progress)
        else:
            summary = run(cfg, out, settings, progress)
    print(json.dumps({k: v for k, v in summary.to_json().items() if k != "stamp"}))
    err.print(f"wrote {out / 'results.jsonl'}, {out / 'summary.json'} and {out / 'report.md'}")


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

    serve(index, settings_from(config), host=host, port=port, max_upload_mb=max_upload_mb)


COMMANDS: dict[str, Callable[..., None]] = {
    "ask": ask_command,
    "lookup": lookup_command,
    "verify": verify_command,
    "cite": cite_command,
    "eval": eval_command,
    "serve": serve_command,
}
