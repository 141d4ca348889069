"""One settings tree for litrag, read from init values, then ``LITRAG_*`` env vars, then TOML.

Env vars use ``__`` between levels: ``LITRAG_CORPUS__MAX_FILE_MB=50``. The TOML file is the
path given to :func:`load_settings`, else ``$LITRAG_CONFIG``, else ``./litrag.toml`` if present.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from rag.errors import ConfigError

_TOML_PATH: ContextVar[Path | None] = ContextVar("litrag_toml_path", default=None)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CorpusSettings(_Section):
    """How documents are read."""

    max_file_mb: int = Field(
        200,
        gt=0,
        description="Largest file the whole-file readers (PDF, JATS, plain text) accept, in MB. "
        "Streaming readers (PubMed XML, MEDLINE, JSONL) read files of any size.",
    )
    merge_duplicates: bool = Field(
        True,
        description="Merge records of the same paper (same PMID, PMCID or DOI) into one document "
        "that keeps the fuller text and the union of metadata.",
    )


class Settings(BaseSettings):
    """The root of the settings tree: one sub-model per concern."""

    model_config = SettingsConfigDict(
        env_prefix="LITRAG_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    corpus: CorpusSettings = Field(default_factory=CorpusSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = _TOML_PATH.get() or Path(os.environ.get("LITRAG_CONFIG", "litrag.toml"))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, path))


def load_settings(source: Settings | Mapping[str, Any] | Path | str | None = None) -> Settings:
    """Build settings from a ``Settings``, a dict of values, a TOML path, or nothing (defaults).

    Raises :class:`ConfigError` naming the file or field when the input is invalid.
    """
    if isinstance(source, Settings):
        return source
    path: Path | None = None
    values: Mapping[str, Any] = {}
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise ConfigError(f"settings file {path} does not exist")
    elif source is not None:
        values = source
    elif os.environ.get("LITRAG_CONFIG"):
        path = Path(os.environ["LITRAG_CONFIG"])
        if not path.is_file():
            raise ConfigError(f"LITRAG_CONFIG names {path}, which does not exist")
    token = _TOML_PATH.set(path)
    try:
        return Settings(**values)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"settings file {path} is not valid TOML: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        where = f"settings file {path}" if path else "settings"
        raise ConfigError(f"{where}: {problems}") from exc
    finally:
        _TOML_PATH.reset(token)
