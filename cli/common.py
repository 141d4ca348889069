"""What the ``rag`` commands share: the stderr console, common options, loading settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from base.errors import RagError
from base.settings import Settings, load_settings

err = Console(stderr=True, soft_wrap=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Settings TOML file (default: $LITRAG_CONFIG or ./litrag.toml)."),
]


def settings_from(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except RagError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


IndexOption = Annotated[
    str,
    typer.Option(
        "--index",
        help="The index: a directory, milvus://HOST:PORT/COLLECTION, milvus+https://HOST:PORT/"
        "COLLECTION or milvus+lite:///ABSOLUTE/PATH/FILE.db[#COLLECTION].",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
