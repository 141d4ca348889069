"""What the web app's events do: call the pipeline, lookup, export or ingest, and render the result.

Each public method is one event of :mod:`ui.app`. :class:`RagError` becomes a message here (a
``gr.Warning`` toast or an error box); nothing broader is caught.
"""

from __future__ import annotations

import atexit
import logging
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import gradio as gr

from base.errors import RagError
from rag.answer.export import export
from rag.answer.lookup import lookup, verify_claim
from rag.answer.pipeline import Pipeline
from rag.answer.records import Answer, AnswerMode, Checked, Delta, Evidence, Turn
from rag.index.ingest.pipeline import ingest, remove
from rag.retrieve.hybrid import Filters
from ui import render
from ui.library import LIST_LIMIT, check_uploads

ChatMessage = dict[str, str]
ChatOutputs = tuple[list[ChatMessage], list[Answer], str]
LibraryOutputs = tuple[str, str, Any]  # status HTML, table HTML, the remove dropdown
KEEP_EXPORTS = 8  # export folders kept for downloads still in flight; older ones are deleted
log = logging.getLogger("litrag.ui")


class Actions:
    """The events of one served app, over one index."""

    def __init__(self, pipeline: Pipeline, folder: str | Path, max_upload_mb: float) -> None:
        self.pipeline = pipeline
        self.folder = str(folder)  # a directory or a Milvus URI
        self.max_upload_mb = max_upload_mb
        # Gradio copies a download into its own cache when the event returns, so an export file
        # is needed only briefly: the folder is private (0700), file names never carry the query,
        # old exports are deleted as new ones are made, and the folder goes when the app exits.
        self.export_dir = Path(tempfile.mkdtemp(prefix="litrag-export-"))
        atexit.register(shutil.rmtree, self.export_dir, ignore_errors=True)
        self._exports: list[Path] = []
        self._write = threading.Lock()  # one ingest or removal at a time in this process

    # --- Chat ---------------------------------------------------------------------------------

    def chat(
        self,
        question: str,
        answers: list[Answer],
        k: float,
        year_min: str | None,
        year_max: str | None,
        mode: str,
    ) -> Iterator[ChatOutputs]:
        """Stream the answer to ``question`` as a follow-up of ``answers`` (the conversation)."""
        pipeline = self.pipeline  # a concurrent ingest may swap it; this answer keeps its own
        history = [Turn(a.standalone_question or a.question, a.answer) for a in answers]
        filters = Filters(year_min=_year(year_min), year_max=_year(year_max))
        past = render.chat_messages(answers)
        asked = {"role": "user", "content": render.question_html(question)}
        draft, evidence, checked = "", None, []
        yield [*past, asked, _assistant(render.draft_html(""))], answers, ""
        try:
            events = pipeline.stream(
                question, history, cast(AnswerMode, mode), int(k), filters
            )  # fmt: skip
            for event in events:
                if isinstance(event, Answer):
                    done = [*answers, event]
                    yield render.chat_messages(done), done, ""
                    continue
                if isinstance(event, Evidence):
                    evidence = event.answer
                elif isinstance(event, Delta):
                    draft += event.text
                elif isinstance(event, Checked):
                    checked.append(event)
                shown = render.draft_html(draft, checked, evidence)
                yield [*past, asked, _assistant(shown)], answers, ""
        except RagError as exc:
            log.warning("chat: %s", exc)
            gr.Warning(str(exc))
            yield [*past, asked, _assistant(render.error_html(str(exc)))], answers, question

    def ask_json(self, question: str, mode: str = "") -> dict[str, Any]:
        """The ``/ask`` API: the checked answer as ``Answer.to_json()`` (citations carry "url")."""
        try:
            return self.pipeline.ask(question, mode=_mode(mode)).to_json()
        except RagError as exc:
            # An expected error is one log line; gradio would print two tracebacks for it.
            log.warning("ask: %s", exc)
            raise gr.Error(str(exc), print_exception=False) from exc

    def ask_stream(self, question: str, mode: str = "") -> Iterator[dict[str, Any]]:
        """The ``/ask_stream`` API: ``{"evidence"}`` once retrieval is done, ``{"draft"}`` as the
        LLM writes, ``{"checked"}`` as each draft sentence ends, then the checked answer."""
        draft = ""
        try:
            for event in self.pipeline.stream(question, mode=_mode(mode)):
                if isinstance(event, Delta):
                    draft += event.text
                    yield {"draft": draft}
                else:
                    yield event.to_json()
        except RagError as exc:
            log.warning("ask stream: %s", exc)
            raise gr.Error(str(exc), print_exception=False) from exc

    # --- Lookup -------------------------------------------------------------------------------

    def lookup(self, query: str, k: float) -> tuple[str, Any, Any]:
        """Records and supporting passages for ``query``, with BibTeX and RIS downloads."""
        hidden = gr.DownloadButton(visible=False)
        try:
            found = lookup(self.pipeline, query, int(k))
        except RagError as exc:
            log.warning("lookup: %s", exc)
            gr.Warning(str(exc))
            return render.error_html(str(exc)), hidden, hidden
        if not found.documents:
            return render.lookup_html(found), hidden, hidden
        folder = self._export_folder()
        files = []
        for fmt, suffix, label in (("bibtex", "bib", "BibTeX"), ("ris", "ris", "RIS")):
            path = folder / f"litrag-references.{suffix}"
            path.write_text(export(found.documents, fmt), encoding="utf-8")
            n = len(found.documents)
            files.append(gr.DownloadButton(f"{label} ({n})", value=str(path), visible=True))
        return render.lookup_html(found), files[0], files[1]

    def _export_folder(self) -> Path:
        """A new folder for one lookup's downloads; the oldest beyond :data:`KEEP_EXPORTS` go."""
        folder = Path(tempfile.mkdtemp(dir=self.export_dir))
        self._exports.append(folder)
        while len(self._exports) > KEEP_EXPORTS:
            shutil.rmtree(self._exports.pop(0), ignore_errors=True)
        return folder

    def verify(self, claim: str, paper: str) -> str:
        """The verdict on whether the indexed ``paper`` supports ``claim``, evidence marked."""
        try:
            return render.verification_html(verify_claim(self.pipeline, claim, paper))
        except RagError as exc:
            log.warning("verify: %s", exc)
            gr.Warning(str(exc))
            return render.error_html(str(exc))

    # --- Library ------------------------------------------------------------------------------

    def library(self, contains: str | None = "") -> tuple[str, Any]:
        """The document table and the remove dropdown, filtered by ``contains``."""
        rows, total = self.pipeline.retriever.index.store.list_documents(contains, LIST_LIMIT)
        choices = [(f"{r.title[:90]} — {r.id}", r.id) for r in rows]
        return render.library_html(rows, total), gr.Dropdown(choices=choices, value=None)

    def add_files(
        self,
        files: Sequence[str] | None,
        contains: str | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 -- Gradio's idiom: it finds the bar by this default
    ) -> LibraryOutputs:
        """Ingest the uploaded files (accepted types and sizes only) with a progress bar."""
        record_mb = self.pipeline.settings.corpus.max_record_mb
        paths, problems = check_uploads(
            [Path(f) for f in files or ()], self.max_upload_mb, record_mb
        )
        lines = [render.error_html(p) for p in problems]
        if paths:
            progress(0, desc="reading the files")
            try:
                with self._write:
                    report = ingest(
                        paths, self.folder, self.pipeline.settings,
                        lambda done, total: progress((done, total), desc="indexing", unit="docs"),
                    )  # fmt: skip
                    self._reopen()
            except RagError as exc:
                log.warning("add files: %s", exc)
                gr.Warning(str(exc))
                return render.error_html(str(exc)), *self.library(contains)
            lines = [render.ingest_html(report), *lines]
        elif not problems:
            lines = [render.error_html("Choose one or more files to add first.")]
        return "".join(lines), *self.library(contains)

    def remove(self, doc_id: str | None, contains: str | None) -> LibraryOutputs:
        """Delete one document from the index."""
        if not doc_id:
            return render.error_html("Choose a document to remove."), *self.library(contains)
        try:
            with self._write:
                removed, _ = remove([doc_id], self.folder, self.pipeline.settings)
                self._reopen()
        except RagError as exc:
            log.warning("remove: %s", exc)
            gr.Warning(str(exc))
            return render.error_html(str(exc)), *self.library(contains)
        status = render.removed_html(removed, doc_id)
        return status, *self.library(contains)

    def _reopen(self) -> None:
        """Serve the changed index from now on.

        A new :class:`Pipeline` rather than ``pipeline.reload()``: reload closes the store that
        answers still streaming in other threads are reading; the old pipeline closes when the
        last of them lets go of it.
        """
        self.pipeline = Pipeline.open(self.folder, self.pipeline.settings)


def _mode(mode: str) -> AnswerMode | None:
    """An API's answer mode ("" = the server's setting)."""
    if mode in ("", "generate", "extractive"):
        return cast(AnswerMode, mode) if mode else None
    raise gr.Error(f'mode must be "generate" or "extractive", not {mode!r}')


def _year(text: str | None) -> int | None:
    """A year typed in a year box; blank (or not a year, with a warning) means no limit."""
    text = (text or "").strip()
    if not text:
        return None
    if not re.fullmatch(r"\d{4}", text):
        gr.Warning(f"{text!r} is not a year such as 2015; that limit is left out")
        return None
    return int(text)


def _assistant(html: str) -> ChatMessage:
    return {"role": "assistant", "content": html}
