"""UI test setup: a small index of ../shared, the app served in-process, Debian's chromium.

The browser tests fail (never skip) when /usr/bin/chromium is missing: .ci/run installs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from base.settings import AnswerSettings, Settings
from rag.answer.engines import load_backend
from rag.answer.pipeline import Pipeline
from tests.ui.pages import CHROMIUM, UPLOAD_LIMIT_MB, free_port
from ui.app import build_app, launch


@pytest.fixture(scope="session")
def ui_index(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the seed pages and the PMC full texts (11 papers, ~30 s with the real model)."""
    from rag.index.ingest.pipeline import ingest

    folder = tmp_path_factory.mktemp("ui_index")
    corpus = shared / "corpus"
    report = ingest([corpus / "seeds", corpus / "pmc"], folder, Settings())
    assert report.errors == [] and report.documents == 11
    return folder


def _serve(folder: Path, settings: Settings) -> Iterator[str]:
    app = build_app(Pipeline.open(folder, settings), settings, folder, UPLOAD_LIMIT_MB)
    url = launch(app, port=free_port(), max_upload_mb=UPLOAD_LIMIT_MB, block=False)
    yield url
    app.close()


@pytest.fixture(scope="session")
def served(ui_index: Path) -> Iterator[str]:
    """The app with the default settings (generate mode, the real LLM loaded up front)."""
    settings = Settings()
    load_backend(settings.generation)  # ~16 s, as `rag serve` does in the background
    yield from _serve(ui_index, settings)


@pytest.fixture(scope="session")
def served_extractive(ui_index: Path) -> Iterator[str]:
    """The app answering in extractive mode (no LLM): for the API and load tests."""
    yield from _serve(ui_index, Settings(answer=AnswerSettings(mode="extractive")))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian chromium driven by Playwright."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: the UI tests need Debian's chromium "
            "(apt-get install -y --no-install-recommends chromium; .ci/run does this)"
        )
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, served: str) -> Iterator[Page]:
    """A fresh page on the served app; fails the test if the page raised a script error."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    opened = context.new_page()
    opened.set_default_timeout(120_000)
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.goto(served)
    opened.wait_for_selector("#question textarea")
    yield opened
    context.close()
    assert errors == [], f"script errors in the page: {errors}"


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: outside the working tree."""
    return tmp_path_factory.mktemp("screenshots")
