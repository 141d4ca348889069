"""Shared test setup: where ``../shared`` is, and a hard failure when it is missing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.llm import TINY_LLM

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LITRAG_SHARED", ROOT.parent / "shared"))

# The packaged tiny LLM: tests that need an LLM but not the default one use it for speed. Every
# Settings() of the tests (and every `rag` process they start) reads it from the environment;
# tests/rag/answer/test_default_model.py takes the default path (the 1.5B model) on purpose.
os.environ.setdefault("LITRAG_GENERATION__MODEL", TINY_LLM)


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared data folder; integration tests fail (never skip) without it."""
    if not (SHARED / "corpus").is_dir():
        pytest.fail(f"{SHARED}/corpus is missing: integration tests need ../shared beside the repo")
    return SHARED


@pytest.fixture(scope="session")
def shared_index(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the whole shared corpus, built once per test run with the real model.

    ``LITRAG_TEST_INDEX`` may name an index already built from ../shared/corpus with the
    current code, to save the build when iterating locally; CI always builds afresh.
    """
    from base.settings import Settings
    from rag.index.ingest.pipeline import ingest

    prebuilt = os.environ.get("LITRAG_TEST_INDEX")
    if prebuilt and not os.environ.get("CI"):
        return Path(prebuilt)
    folder = tmp_path_factory.mktemp("shared_index")
    report = ingest([shared / "corpus"], folder, Settings())
    assert report.errors == [] and report.documents > 14_000
    return folder
