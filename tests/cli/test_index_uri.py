"""``--index`` as a URI: the same verbs and JSON on milvus-lite; bad URIs and the token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from base.errors import IndexProblem
from base.settings import Settings
from rag.index.backends import open_index, parse_index
from rag.index.backends.milvus.target import MilvusTarget
from tests.cli.test_cli import PUBMED, rag

SECRET = "s3cret-token-4217"


def test_ingest_search_stats_copy_remove_on_milvus_lite(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_text(PUBMED)
    uri = f"milvus+lite://{tmp_path}/lit.db"
    ingested = rag("ingest", str(tmp_path / "a.xml"), "--index", uri, "--json")
    assert ingested.returncode == 0, ingested.stderr
    assert json.loads(ingested.stdout)["documents"] == 1
    found = rag("search", "fine text", "--index", uri, "--json")
    assert json.loads(found.stdout)["hits"][0]["pmid"] == "11", found.stderr
    stats = json.loads(rag("stats", "--index", uri, "--json").stdout)
    assert (stats["documents"], stats["chunks"], stats["backend"]) == (1, 1, "milvus")
    copied = rag("index", "copy", uri, f"{uri}#second", "--json")
    assert json.loads(copied.stdout)["documents"] == 1, copied.stderr
    assert "@article" in rag("cite", "11", "--index", f"{uri}#second").stdout
    removed = rag("remove", "11", "--index", uri)
    assert removed.returncode == 0 and "removed 1: pmid:11" in removed.stdout
    assert json.loads(rag("stats", "--index", uri, "--json").stdout)["documents"] == 0


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("mongodb://h:1/x", "unknown scheme 'mongodb'"),
        ("milvus+lite://relative/x.db", "three slashes, an absolute path ending in .db"),
        ("milvus://host/x", "expected milvus://HOST:PORT/COLLECTION"),
        ("milvus://h:1/bad-name", "must start with a letter or _"),
        (f"milvus://root:{SECRET}@h:1/x", "LITRAG_INDEX__MILVUS_TOKEN, not in the URI"),
    ],
)
def test_bad_uris_are_one_line_errors(uri: str, message: str) -> None:
    with pytest.raises(IndexProblem, match=message) as caught:
        parse_index(uri)
    assert SECRET not in str(caught.value)


def test_uri_forms() -> None:
    assert parse_index("some/dir") == Path("some/dir")
    assert parse_index("milvus://10.0.0.5:19530/papers") == MilvusTarget(
        "http://10.0.0.5:19530", "papers", False, "milvus://10.0.0.5:19530/papers"
    )
    tls = parse_index("milvus+https://db.example.org:443/papers")
    assert isinstance(tls, MilvusTarget) and tls.address == "https://db.example.org:443"
    lite = parse_index("milvus+lite:///data/x.db#mine")
    assert lite == MilvusTarget("/data/x.db", "mine", True, "milvus+lite:///data/x.db#mine")
    assert isinstance(parse_index("milvus+lite:///data/x.db"), MilvusTarget)


def test_the_token_appears_in_no_error_or_log(tmp_path: Path) -> None:
    """A server that is not there: the error names the URI; the token is nowhere."""
    env = {
        **os.environ,
        "LITRAG_INDEX__MILVUS_TOKEN": SECRET,
        "LITRAG_INDEX__MILVUS_TIMEOUT_S": "3",
    }
    cmd = [sys.executable, "-m", "cli.main", "stats", "--index", "milvus://127.0.0.1:9/x"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert run.returncode == 1 and "milvus://127.0.0.1:9/x" in run.stderr
    assert SECRET not in run.stdout + run.stderr
    settings = Settings(index={"milvus_token": SECRET, "milvus_timeout_s": 3})  # type: ignore[arg-type]
    with pytest.raises(IndexProblem) as caught:
        open_index("milvus://127.0.0.1:9/x", settings)
    assert SECRET not in str(caught.value) and SECRET not in repr(settings)
