"""``rag verify``: check a citation you already have, on the seed paper (PMID 38281981)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import rag

KEYS = ["claim", "doc_id", "pmid", "title", "section", "supported", "support", "evidence",
        "evidence_start", "evidence_end"]  # fmt: skip
FROM_THE_ABSTRACT = (
    "Patients who have MDM2 amplification are vulnerable to the development of hyperprogressive "
    "disease following anticancer immunotherapy."
)
INVENTED = (
    "Patients with MDM2 amplification are at risk during immune checkpoint inhibitor therapy due "
    "to their increased susceptibility to chemotherapy side effects such as toxicity to other "
    "medications used to treat them."
)


@pytest.fixture(scope="module")
def seeds_index(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("seeds") / "index"
    seeds = str(shared / "corpus" / "seeds")
    done = rag("ingest", seeds, "--index", str(folder), "--json", timeout=300)
    assert done.returncode == 0, done.stderr
    return folder


def verify(index: Path, claim: str, doc: str = "38281981") -> dict[str, object]:
    done = rag("verify", claim, "--doc", doc, "--index", str(index), "--json", timeout=300)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.mark.integration
def test_a_sentence_of_the_abstract_is_supported(seeds_index: Path) -> None:
    found = verify(seeds_index, FROM_THE_ABSTRACT)
    assert list(found)[: len(KEYS)] == KEYS
    assert found["supported"] is True and found["pmid"] == "38281981"
    assert "hyperprogressive" in str(found["evidence"])


@pytest.mark.integration
def test_the_invented_chemotherapy_sentence_is_not_supported(seeds_index: Path) -> None:
    found = verify(seeds_index, INVENTED, doc="pmid:38281981")
    assert found["supported"] is False and float(str(found["support"])) < 0.5


@pytest.mark.integration
def test_an_unknown_paper_is_a_clear_error(seeds_index: Path) -> None:
    args = ("verify", FROM_THE_ABSTRACT, "--doc", "99999999", "--index", str(seeds_index))
    done = rag(*args, timeout=300)
    assert done.returncode == 1 and "no indexed paper has the id '99999999'" in done.stderr
