"""The litrag web app: Chat, Lookup and Library tabs and the ``/ask`` API, as Gradio Blocks.

Layout and wiring only: what each event does is in :mod:`ui.actions`, how results look is in
:mod:`ui.render`. :func:`serve` is what ``rag serve`` runs.
"""

# No `from __future__ import annotations` here: gr.api reads the /ask function's return
# annotation with inspect.signature (gradio 6.31), which would then see a string.

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.events import api  # gr.api, which gradio 6.31 leaves out of gradio.__all__
from starlette.middleware import Middleware

from base.errors import ConfigError, RagError
from base.settings import LoginSettings, Settings
from rag.answer.engines import load_backend
from rag.answer.pipeline import Pipeline
from ui import style
from ui.actions import Actions
from ui.library import ACCEPTED, ACCEPTED_WORDS
from ui.throttle import LoginThrottle, Throttle, throttled_auth

AUTH_ENV = "LITRAG_UI_AUTH"
# Events running at once. llama.cpp decodes up to generation.parallel replies together in one
# batch (rag/answer/engines/llamabatch.py), and retrieval and citation checks of other askers
# run beside it; so that no asker waits for another's whole answer, this is above parallel.
CONCURRENCY = 16
QUEUE_SIZE = 64  # askers waiting beyond this get "queue full" instead of an endless wait
MAX_UPLOAD_MB = 50

INTRO = (
    "Answers from the indexed literature, every sentence tied to the passage it cites. "
    "Click a marker such as [1] to open its source."
)


def build_app(
    pipeline: Pipeline, settings: Settings, folder: str | Path, max_upload_mb: float = MAX_UPLOAD_MB
) -> gr.Blocks:
    """The app over the index in ``folder`` (queue configured; launch it with :func:`launch`)."""
    actions = Actions(pipeline, folder, max_upload_mb)
    # Gradio's copies of downloads and uploads are deleted after an hour (checked hourly).
    app = gr.Blocks(title="litrag", analytics_enabled=False, delete_cache=(3600, 3600))
    with app:
        gr.Markdown(f"## litrag\n{INTRO}")
        with gr.Tab("Chat", id="chat-tab"):
            _chat_tab(actions, settings)
        with gr.Tab("Lookup", id="lookup-tab"):
            _lookup_tab(actions)
        with gr.Tab("Library", id="library-tab"):
            _library_tab(app, actions, max_upload_mb)

        def ask(question: str, mode: str = "") -> dict[str, Any]:
            """Answer one question; returns the answer text, its citations (with PubMed links),
            the sources seen and timings. mode: "generate" or "extractive" (empty: the
            server's setting)."""
            return actions.ask_json(question, mode)

        def ask_stream(question: str, mode: str = "") -> Iterator[dict[str, Any]]:
            """As /ask, streamed: {"draft": text so far} while the LLM writes, then the
            checked answer."""
            yield from actions.ask_stream(question, mode)

        api(ask, api_name="ask")
        api(ask_stream, api_name="ask_stream")
    app.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return app


def _chat_tab(actions: Actions, settings: Settings) -> None:
    with gr.Row():
        with gr.Column(scale=4):
            chatbot = gr.Chatbot(
                elem_id="chat", height=640, render_markdown=False, sanitize_html=True,
                feedback_options=None, show_label=False, buttons=[],
                placeholder="Ask a question about the indexed papers.",
            )  # fmt: skip
            with gr.Row():
                question = gr.Textbox(
                    show_label=False, placeholder="Your question", scale=8, elem_id="question"
                )
                ask = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
            clear = gr.Button("New conversation", size="sm")
        with gr.Column(scale=1, min_width=220):
            k = gr.Slider(
                1, 20, value=settings.answer.sources, step=1, label="Sources", elem_id="sources"
            )
            # Textboxes, not gr.Number: gradio 6.31 shows an empty Number as "0".
            year_min = gr.Textbox(label="From year", placeholder="any", elem_id="year-min")
            year_max = gr.Textbox(label="To year", placeholder="any", elem_id="year-max")
            mode = gr.Radio(
                ["generate", "extractive"], value=settings.answer.mode, label="Answer mode",
                info="generate: the LLM writes; extractive: the best cited sentences, no LLM",
                elem_id="mode",
            )  # fmt: skip
    answers = gr.State([])
    inputs = [question, answers, k, year_min, year_max, mode]
    outputs = [chatbot, answers, question]
    question.submit(actions.chat, inputs, outputs, api_visibility="private")
    ask.click(actions.chat, inputs, outputs, api_visibility="private")
    clear.click(lambda: ([], [], ""), None, outputs, api_visibility="private")
    chatbot.clear(lambda: [], None, answers, api_visibility="private")  # its trash icon


def _lookup_tab(actions: Actions) -> None:
    with gr.Row():
        query = gr.Textbox(
            label="PMID, PMCID, DOI, title or claim", scale=6, elem_id="lookup-query",
            placeholder="38281981 · 10.1186/s12929-024-01004-x · a title · a claim to check",
        )  # fmt: skip
        k = gr.Slider(1, 20, value=5, step=1, label="Passages for a claim", scale=2)
        go = gr.Button("Look up", variant="primary", scale=1, elem_id="lookup-go")
    with gr.Row():
        bibtex = gr.DownloadButton("BibTeX", visible=False, size="sm", elem_id="bibtex")
        ris = gr.DownloadButton("RIS", visible=False, size="sm", elem_id="ris")
    result = gr.HTML(elem_id="lookup-result")
    for trigger in (query.submit, go.click):
        trigger(actions.lookup, [query, k], [result, bibtex, ris], api_visibility="private")
    gr.Markdown("#### Check a citation: does this paper support this sentence?")
    with gr.Row():
        claim = gr.Textbox(label="Sentence (the claim)", scale=6, elem_id="verify-claim")
        paper = gr.Textbox(
            label="Cited paper: PMID, PMCID, DOI or doc id", scale=2, elem_id="verify-paper"
        )
        check = gr.Button("Check", variant="primary", scale=1, elem_id="verify-go")
    verdict = gr.HTML(elem_id="verify-result")
    for trigger in (claim.submit, paper.submit, check.click):
        trigger(actions.verify, [claim, paper], verdict, api_visibility="private")


def _library_tab(app: gr.Blocks, actions: Actions, max_upload_mb: float) -> None:
    files = gr.File(
        file_count="multiple", file_types=list(ACCEPTED), elem_id="upload",
        label=f"Add papers: {ACCEPTED_WORDS}; up to {max_upload_mb:g} MB a file",
    )  # fmt: skip
    add = gr.Button("Add to the index", variant="primary", elem_id="add")
    status = gr.HTML(elem_id="library-status")
    with gr.Row():
        contains = gr.Textbox(
            label="Filter", placeholder="title, id, journal or DOI contains", scale=3,
            elem_id="library-filter",
        )  # fmt: skip
        doc = gr.Dropdown(label="Document to remove", scale=3, elem_id="remove-doc")
        remove = gr.Button("Remove", variant="stop", scale=1, elem_id="remove")
    table = gr.HTML(elem_id="library")
    listing = [table, doc]
    write = {"concurrency_limit": 1, "concurrency_id": "index-writes", "api_visibility": "private"}
    add.click(actions.add_files, [files, contains], [status, *listing], **write)  # type: ignore[arg-type]
    remove.click(actions.remove, [doc, contains], [status, *listing], **write)  # type: ignore[arg-type]
    contains.submit(actions.library, [contains], listing, api_visibility="private")
    app.load(actions.library, [contains], listing, api_visibility="private")


def auth_from_env() -> tuple[str, str] | None:
    """The login ``$LITRAG_UI_AUTH`` asks for ("user:password"), or None for no login."""
    raw = os.environ.get(AUTH_ENV, "")
    if not raw:
        return None
    user, sep, password = raw.partition(":")
    if not (sep and user and password):
        raise ConfigError(f'{AUTH_ENV} must be "user:password" (both non-empty)')
    return user, password


def launch(
    app: gr.Blocks,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    max_upload_mb: float = MAX_UPLOAD_MB,
    block: bool = True,
    login: LoginSettings | None = None,
) -> str:
    """Serve ``app``; returns its URL (with ``block=False``, at once, the server in a thread).

    With ``auth``, failed logins are throttled per client address and per user name
    (:mod:`ui.throttle`, by ``login``).
    """
    checker: Any = None  # gradio awaits an async callable; its type hints list only sync ones
    middleware: list[Middleware] = []
    if auth is not None:
        throttle = Throttle(login or LoginSettings())
        checker = throttled_auth(*auth, throttle)
        middleware = [Middleware(LoginThrottle, throttle=throttle)]
    _, url, _ = app.launch(
        server_name=host, server_port=port, auth=checker, prevent_thread_lock=not block,
        max_file_size=f"{max_upload_mb:g}mb", show_error=True, ssr_mode=False, quiet=not block,
        css=style.CSS, head=style.HEAD, app_kwargs={"middleware": middleware},
    )  # fmt: skip
    return str(url)


def serve(
    folder: str | Path,
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 7860,
    max_upload_mb: float = MAX_UPLOAD_MB,
) -> None:
    """``rag serve``: open the index, load the LLM in the background, serve until stopped."""
    auth = auth_from_env()
    # One line per expected error (an empty question, a bad id) in the server's log.
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("rag.index").setLevel(logging.INFO)  # "reloading": another process wrote
    pipeline = Pipeline.open(folder, settings)
    if settings.answer.mode == "generate":
        threading.Thread(target=_preload, args=(settings,), daemon=True).start()
    if host not in ("127.0.0.1", "localhost", "::1") and auth is None:
        print(f"warning: serving on {host} without a login; set {AUTH_ENV}=user:password")
    app = build_app(pipeline, settings, folder, max_upload_mb)
    launch(app, host, port, auth, max_upload_mb, block=True, login=settings.login)


def _preload(settings: Settings) -> None:
    """Load the LLM now (~16 s on 2 cores) rather than on the first question."""
    try:
        load_backend(settings.generation)
    except RagError as exc:  # the first answer falls back to extractive and says why
        logging.getLogger("litrag.ui").warning("the LLM could not be loaded: %s", exc)
