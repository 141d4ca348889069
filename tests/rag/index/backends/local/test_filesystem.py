"""Integration: a read-only index is searchable, and file-system failures are one line each.

Real ``rag`` subprocesses on a real index, a read-only bind mount and a small tmpfs filled up
(both need root, as CI has; without it the mount tests skip with the reason printed).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from base.settings import Settings
from rag.index.ingest.pipeline import ingest

pytestmark = pytest.mark.integration
OFFLINE = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def rag(*args: str) -> subprocess.CompletedProcess[str]:
    """``rag ARGS...`` as a user runs it."""
    cmd = [sys.executable, "-m", "cli.main", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=OFFLINE)


def papers(folder: Path, first: int, n: int) -> Path:
    """``n`` small text papers in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(first, first + n):
        body = f"Paper {i} on lysosomal enzyme {i}\n\nEnzyme {i} is raised in patients {i}. "
        (folder / f"p{i}.txt").write_text(body * 3)
    return folder


def one_line_error(run: subprocess.CompletedProcess[str], *words: str) -> None:
    """A failed run that says what went wrong in one line, without a traceback."""
    assert run.returncode != 0, run.stdout
    assert "Traceback" not in run.stderr, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error:"), run.stderr
    for word in words:
        assert word in run.stderr, run.stderr


def mount(*args: str) -> None:
    """``mount ARGS``, or skip the test, saying why, where this machine cannot mount."""
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if done.returncode:
        reason = f"cannot mount here ({done.stderr.strip() or done.returncode}); run as root"
        print(reason)
        pytest.skip(reason)


@contextlib.contextmanager
def read_only_view(folder: Path, at: Path) -> Iterator[Path]:
    """``folder`` bind-mounted read-only at ``at``."""
    at.mkdir()
    mount("--bind", str(folder), str(at))
    try:
        mount("-o", "remount,bind,ro", str(at))
        yield at
    finally:
        subprocess.run(["umount", str(at)], check=False)


@contextlib.contextmanager
def tmpfs(at: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``at``."""
    at.mkdir()
    mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(at))
    try:
        yield at
    finally:
        subprocess.run(["umount", str(at)], check=False)


def test_read_only_index_is_searchable_and_refuses_writes(tmp_path: Path) -> None:
    index = tmp_path / "index"
    ingest([papers(tmp_path / "a", 0, 4)], index, Settings())
    with read_only_view(index, tmp_path / "ro") as ro:
        stats = rag("stats", "--index", str(ro), "--json")
        assert stats.returncode == 0, stats.stderr
        assert json.loads(stats.stdout)["documents"] == 4
        found = rag("search", "enzyme 2 raised", "--index", str(ro), "--json", "-k", "1")
        assert found.returncode == 0, found.stderr
        assert json.loads(found.stdout)["hits"][0]["title"].startswith("Paper 2")
        one_line_error(rag("ingest", str(papers(tmp_path / "b", 9, 1)), "--index", str(ro)),
                       str(ro), "read-only")  # fmt: skip
        one_line_error(rag("remove", "x", "--index", str(ro)), "read-only")


def test_wrong_index_paths_are_refused_in_one_line(tmp_path: Path) -> None:
    source = papers(tmp_path / "a", 0, 2)
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not an index")
    one_line_error(rag("ingest", str(source), "--index", str(a_file)), str(a_file), "is a file")
    one_line_error(rag("ingest", str(source), "--index", str(source)), "holds other files")
    assert sorted(p.name for p in source.iterdir()) == ["p0.txt", "p1.txt"]  # nothing written


def test_full_disk_keeps_the_last_commit_and_a_rerun_finishes(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "4m") as disk:
        index = disk / "index"
        ingest([papers(tmp_path / "a", 0, 3)], index, Settings())
        filler = disk / "filler"
        with contextlib.suppress(OSError), filler.open("wb") as f:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        more = papers(tmp_path / "b", 10, 40)
        one_line_error(rag("ingest", str(more), "--index", str(index)), "no space left")
        stats = rag("stats", "--index", str(index), "--json")
        assert stats.returncode == 0, stats.stderr
        assert json.loads(stats.stdout)["documents"] == 3
        filler.unlink()
        again = rag("ingest", str(more), "--index", str(index), "--json")
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout.splitlines()[-1])["documents"] == 40


def test_rerun_after_a_failed_final_save_writes_the_search_files(tmp_path: Path) -> None:
    source, index = papers(tmp_path / "a", 0, 3), tmp_path / "index"
    ingest([source], index, Settings())
    # What a save that failed on a full disk leaves: no dense.faiss or BM25, a temporary file.
    (index / "dense.faiss").unlink()
    (index / "bm25" / "state.json").unlink()
    (index / ".dense.faiss.tmp").write_bytes(b"torn")
    report = ingest([source], index, Settings())
    assert report.skipped == 3 and report.documents == 0
    assert (index / "dense.faiss").is_file() and (index / "bm25" / "state.json").is_file()
    assert not list(index.glob(".*.tmp"))
