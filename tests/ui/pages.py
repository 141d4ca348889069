"""What the UI tests share besides fixtures: the seed question, ports, screenshots."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
SEED_QUESTION = (
    "Why are patients with MDM2 amplification at risk during immune checkpoint inhibitor therapy?"
)
SEED_PUBMED = "https://pubmed.ncbi.nlm.nih.gov/38281981/"
UPLOAD_LIMIT_MB = 1.0
# gradio 6.31's queue sets pandas options that pandas 3 deprecates: noise, not our code.
QUIET_GRADIO_QUEUE = pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def save_screenshot(page: Page, folder: Path, name: str, copy_to: Path | None = None) -> Path:
    """Screenshot the whole page into ``folder`` (and ``copy_to``); returns the path."""
    path = folder / name
    page.screenshot(path=str(path), full_page=True)
    if copy_to:
        shutil.copyfile(path, copy_to)
    return path
