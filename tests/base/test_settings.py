from __future__ import annotations

from pathlib import Path

import pytest

from base.errors import ConfigError
from base.settings import Settings, load_settings


def test_defaults() -> None:
    assert load_settings().corpus.merge_duplicates is True


def test_dict() -> None:
    assert load_settings({"corpus": {"max_file_mb": 5}}).corpus.max_file_mb == 5


def test_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "litrag.toml"
    path.write_text("[corpus]\nmax_file_mb = 7\n")
    assert load_settings(path).corpus.max_file_mb == 7


def test_env_overrides_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "litrag.toml"
    path.write_text("[corpus]\nmax_file_mb = 7\n")
    monkeypatch.setenv("LITRAG_CORPUS__MAX_FILE_MB", "9")
    assert load_settings(path).corpus.max_file_mb == 9


def test_settings_pass_through() -> None:
    s = Settings()
    assert load_settings(s) is s


def test_unknown_key_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "litrag.toml"
    path.write_text("[corpus]\nmax_file_megabytes = 7\n")
    with pytest.raises(ConfigError, match=r"corpus\.max_file_megabytes"):
        load_settings(path)


def test_bad_value_names_the_field() -> None:
    with pytest.raises(ConfigError, match=r"corpus\.max_file_mb"):
        load_settings({"corpus": {"max_file_mb": -1}})


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[corpus\n")
    with pytest.raises(ConfigError, match=r"broken\.toml"):
        load_settings(path)


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings("/nonexistent/litrag.toml")
