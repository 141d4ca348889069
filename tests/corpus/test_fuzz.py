"""Fuzzing the readers: damaged copies of every format, and only ReadError ever comes out.

Hypothesis damages one good file per format (tests/corpus/fuzzing.py: truncation, flipped bytes,
NULs, deep nesting, huge attributes, wrong encodings, gzip of garbage, broken lines, hostile
entities) and checks that reading it raises nothing but :class:`ReadError`, leaks nothing, and
that the good files beside it are still read. Runs are derandomized, so CI sees the same cases
every time; ``benchmarks/fuzz_readers.py`` runs thousands of random ones.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from base.errors import ReadError
from corpus import read, read_many
from tests.corpus.fuzzing import (
    LEAK,
    SEED_NAMES,
    Mutation,
    is_xml,
    mutations,
    write_seeds,
    zlib_damaged,
)

pytestmark = pytest.mark.integration  # the seeds come from ../shared
# Hypothesis 6.170 caches constants it finds in the code under ./.hypothesis even without an
# example database; the working tree is no place for it.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "litrag-hypothesis")
# About 15 s per format on 2 shared cores (2026-12); the long run is the benchmark's.
EXAMPLES = 150
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written into the working tree
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PUBMED = (
    "<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>11</PMID><Article>"
    "<ArticleTitle>A good neighbour.</ArticleTitle></Article></MedlineCitation></PubmedArticle>"
    "</PubmedArticleSet>"
)
JSONL = (
    '{"_id": "x", "title": "Another good neighbour", "text": "Text.", "metadata": {"pmid": "22"}}'
)
NEIGHBOURS = {"pmid:11", "pmid:22"}


@pytest.fixture(scope="module")
def seeds(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = write_seeds(shared, tmp_path_factory.mktemp("seeds"))
    return {name: path.read_bytes() for name, path in folder.items()}


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with two good files; each example adds its damaged file between them."""
    folder = tmp_path_factory.mktemp("case")
    (folder / "a-good.xml").write_text(PUBMED)
    (folder / "z-good.jsonl").write_text(JSONL + "\n")
    return folder


def test_the_seeds_are_good(seeds: dict[str, bytes], tmp_path: Path) -> None:
    for name, data in seeds.items():
        (tmp_path / name).write_bytes(data)
    docs, errors = read_many([tmp_path])
    assert errors == [] and {d.format for d in docs} == {
        "pubmed", "medline", "jats", "pdf", "text", "jsonl"
    }  # fmt: skip


@pytest.mark.parametrize("name", SEED_NAMES)
@FUZZ
@given(data=st.data())
def test_damaged_file_raises_only_read_error(
    name: str, data: st.DataObject, seeds: dict[str, bytes], case_dir: Path
) -> None:
    mutation = data.draw(mutations(xml=is_xml(name)), label="mutation")
    for old in case_dir.glob("m-*"):
        old.unlink()
    bad = case_dir / f"m-{name}"
    bad.write_bytes(mutation.apply(seeds[name]))
    try:
        docs = list(read(bad))
    except ReadError as exc:
        assert exc.path == str(bad) and exc.reason
        docs = []
    assert not any(LEAK in d.text or LEAK in d.title for d in docs)
    good, errors = read_many([case_dir])
    assert {d.id for d in good} >= NEIGHBOURS
    assert all(type(e) is ReadError and e.path == str(bad) for e in errors)


def damaged_folder(seeds: dict[str, bytes], folder: Path) -> tuple[set[str], set[str]]:
    """Good seeds plus damaged copies of each; returns (good files, damaged files)."""
    good, bad = set(), set()
    for name, data in seeds.items():
        (folder / f"good-{name}").write_bytes(data)
        good.add(str(folder / f"good-{name}"))
        cases = [
            Mutation("truncate", 0.5),
            Mutation("flip", 0.3, data=b"\x55\xaa\x0f"),
            Mutation("nuls", 0.1, 16),
            Mutation("nest", 0.4, 20_000, b"<a>"),
            Mutation("encoding", data=b"utf-16"),
            Mutation("garbage", data=bytes(range(256)) * 4),
            Mutation("line", 0.5, data=b"\xff{not json"),
        ]
        if name.endswith(".gz"):
            cases += [Mutation("truncate", 0.5, inner=True)]
        for n, mutation in enumerate(cases):
            path = folder / f"bad{n}-{name}"
            path.write_bytes(mutation.apply(data))
            bad.add(str(path))
    zlib_case = folder / "bad-zlib-medline.xml.gz"
    zlib_case.write_bytes(zlib_damaged(seeds["medline.xml.gz"]))
    pdf = seeds["paper.pdf"]
    broken_xref = folder / "bad-xref-paper.pdf"  # PDFium rebuilds the cross-reference table
    broken_xref.write_bytes(pdf.replace(b"startxref\n", b"startxref\n9").replace(b"0000", b"000x"))
    return good, bad | {str(zlib_case), str(broken_xref)}


def inspect(folder: Path, *options: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "cli.main", "corpus", "inspect", str(folder), "--json", *options]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)


def test_inspect_prints_every_good_document_beside_bad_files(
    seeds: dict[str, bytes], tmp_path: Path
) -> None:
    good_files, bad_files = damaged_folder(seeds, tmp_path)
    expected, _ = read_many([Path(p) for p in sorted(good_files)])
    result = inspect(tmp_path)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    errors = {row["path"]: row["error"] for row in rows if "error" in row}
    assert {d.id for d in expected} <= {row["id"] for row in rows if "id" in row}
    assert set(errors) <= bad_files and not set(errors) & good_files
    assert "decompress" in errors[str(tmp_path / "bad-zlib-medline.xml.gz")]
    assert "Traceback" not in result.stderr and "pypdf" not in result.stderr


def test_debug_notes_show_with_verbose(seeds: dict[str, bytes], tmp_path: Path) -> None:
    damaged_folder(seeds, tmp_path)
    quiet, verbose = inspect(tmp_path), inspect(tmp_path, "--verbose")
    assert verbose.returncode == 0 and "DEBUG corpus.pdf" in verbose.stderr
    assert "DEBUG" not in quiet.stderr
