"""Shared test setup: where ``../shared`` is, and a hard failure when it is missing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LITRAG_SHARED", ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared data folder; integration tests fail (never skip) without it."""
    if not (SHARED / "corpus").is_dir():
        pytest.fail(f"{SHARED}/corpus is missing: integration tests need ../shared beside the repo")
    return SHARED
