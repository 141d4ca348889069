"""``rag eval`` as a user runs it (a real subprocess): kinds from the table, compare on run folders
written by the dict-based runner (fixtures/runs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from eval.gold import KINDS

RUNS = Path(__file__).parent / "fixtures" / "runs"


def rag(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "cli.main", *args]
    env = os.environ | {"COLUMNS": "400", "NO_COLOR": "1"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False, env=env)


def test_help_lists_every_kind_from_the_table() -> None:
    result = rag("eval", "--help")
    text = " ".join(result.stdout.replace("│", " ").split())
    assert result.returncode == 0, result.stderr
    for kind in KINDS.values():
        assert f"{kind.name} ({kind.description})" in text
    assert "or compare (two run folders)." in text


def test_unknown_kind_lists_the_choices() -> None:
    result = rag("eval", "squad", "--gold", "g", "--index", "i", "--out", "o")
    assert result.returncode == 1
    assert "the set is one of pubmedqa, bioasq, jsonl, citint, compare" in result.stderr


def test_a_kind_that_retrieves_needs_an_index() -> None:
    result = rag("eval", "pubmedqa", "--gold", "g", "--out", "o")
    assert result.returncode == 1 and "rag eval needs --gold, --index and --out" in result.stderr


def test_compare_two_run_folders() -> None:
    result = rag("eval", "compare", str(RUNS / "pubmedqa"), str(RUNS / "bioasq_retrieval"))
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "retrieval.mrr@10" in line)
    assert [cell.strip() for cell in row.split("│")[1:5]] == [
        "retrieval.mrr@10",
        "0.8542",
        "1",
        "0.1458",
    ]


def test_compare_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    result = rag("eval", "compare", str(tmp_path), str(RUNS / "pubmedqa"))
    assert result.returncode == 1 and "summary.json: missing" in result.stderr
