"""Docs that cannot go stale: the README's commands parse, and its settings block is the tree.

Every ``rag`` command in the README's shell blocks is parsed by the real command line (click
parses the options and arguments without running the command), every benchmark script line is
run with ``--help`` after its arguments, and the TOML block under "Settings" must name exactly
the sections and keys of :class:`base.settings.Settings` with their default values.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import click
import pytest
import typer
from pydantic import BaseModel

from base.settings import Settings
from cli.main import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def blocks(language: str) -> list[str]:
    """The README's fenced code blocks in ``language``."""
    return [body for lang, body in BLOCK.findall(README) if lang == language]


def commands(prefix: str) -> list[list[str]]:
    """Each shell line that runs ``prefix``, as words, without env assignments and comments."""
    found = []
    for body in blocks("bash"):
        for line in body.splitlines():
            words = shlex.split(line, comments=True)
            while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
                words.pop(0)
            if words and words[0] == prefix:
                found.append(words[1:])
    return found


RAG_COMMANDS = commands(".venv/bin/rag")
SCRIPTS = [w for w in commands(".venv/bin/python") if w and w[0] not in ("-u",)] + [
    w[1:] for w in commands(".venv/bin/python") if w[:1] == ["-u"]
]


def test_the_readme_shows_commands() -> None:
    assert len(RAG_COMMANDS) > 15
    assert SCRIPTS


@pytest.mark.parametrize("words", RAG_COMMANDS, ids=" ".join)
def test_readme_rag_command_parses(words: list[str]) -> None:
    command: click.Command = typer.main.get_command(app)
    args = list(words)
    path = ["rag"]
    while isinstance(command, click.Group):
        name = args.pop(0)
        sub = command.get_command(click.Context(command), name)
        assert sub is not None, f"README runs `rag {' '.join(words)}`: no command {name!r}"
        command, path = sub, [*path, name]
    command.make_context(" ".join(path), args)  # raises click.UsageError on a bad option


@pytest.mark.parametrize("words", SCRIPTS, ids=" ".join)
def test_readme_benchmark_line_parses(words: list[str]) -> None:
    script = ROOT / words[0]
    assert script.is_file(), f"the README runs {words[0]}, which does not exist"
    run = subprocess.run(
        [sys.executable, str(script), *words[1:], "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]


def _settings_block() -> dict[str, Any]:
    section = README.split("## Settings", 1)[1]
    return tomllib.loads(next(body for lang, body in BLOCK.findall(section) if lang == "toml"))


def _commented_keys() -> dict[str, set[str]]:
    """Keys shown commented out (``# mmr_lambda = 0.7``): optional settings with no default."""
    section = README.split("## Settings", 1)[1]
    body = next(body for lang, body in BLOCK.findall(section) if lang == "toml")
    found: dict[str, set[str]] = {}
    current = ""
    for line in body.splitlines():
        if m := re.fullmatch(r"\[(\w+)\]", line.strip()):
            current = m.group(1)
        elif m := re.match(r"#\s*(\w+)\s*=", line.strip()):
            found.setdefault(current, set()).add(m.group(1))
    return found


def test_readme_settings_block_is_the_settings_tree() -> None:
    shown = _settings_block()
    commented = _commented_keys()
    defaults = Settings()
    tree = {
        name: getattr(defaults, name)
        for name in type(defaults).model_fields
        if isinstance(getattr(defaults, name), BaseModel)
    }
    assert set(shown) == set(tree), "README settings sections differ from the settings tree"
    for name, section in tree.items():
        fields = type(section).model_fields
        keys = set(shown[name]) | commented.get(name, set())
        assert keys == set(fields), f"[{name}] in the README: {sorted(keys ^ set(fields))}"
        for key, value in shown[name].items():
            assert value == getattr(section, key), f"[{name}] {key}: README {value!r}"
