"""The ``rag`` command line, run as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PUBMED = (
    "<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>11</PMID><Article>"
    "<ArticleTitle>Fine.</ArticleTitle><Abstract><AbstractText>Text.</AbstractText></Abstract>"
    "</Article></MedlineCitation></PubmedArticle></PubmedArticleSet>"
)


def rag(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``rag ARGS...`` in a subprocess, as a user runs it."""
    cmd = [sys.executable, "-m", "cli.main", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def test_inspect_json_lines(tmp_path: Path) -> None:
    (tmp_path / "good.xml").write_text(PUBMED)
    (tmp_path / "bad.xml").write_text(PUBMED[:50])
    result = rag("corpus", "inspect", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows[0] == {
        "id": "pmid:11", "doc_id": "pmid:11", "pmid": "11", "pmcid": None, "doi": None,
        "title": "Fine.", "authors": [], "journal": None, "year": None,
        "url": "https://pubmed.ncbi.nlm.nih.gov/11/", "format": "pubmed", "sections": 1,
        "chars": 5,
    }  # fmt: skip
    assert rows[1]["path"] == str(tmp_path / "bad.xml") and "truncated" in rows[1]["error"]


def test_inspect_table(tmp_path: Path) -> None:
    (tmp_path / "good.xml").write_text(PUBMED)
    result = rag("corpus", "inspect", str(tmp_path))
    assert result.returncode == 0 and "pubmed" in result.stdout and "1 documents" in result.stdout


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    result = rag("corpus", "inspect", str(tmp_path), "--config", str(tmp_path / "none.toml"))
    assert result.returncode == 2 and "does not exist" in result.stderr
