"""Docs that cannot go stale: the README's and docs/'s commands parse, and their links resolve.

Every ``rag`` command in a shell block of README.md or docs/*.md is parsed by the real command
line (click parses the options and arguments without running the command), every benchmark
script line is run with ``--help`` after its arguments, every relative link names a file that
exists (and, into docs/benchmarks.md, an anchor that exists), and the README stays a front door:
at most 300 lines, one example for every ``rag`` verb and sub-verb. The settings reference,
docs/settings.md, is checked against the settings tree by tests/base/test_settings_doc.py.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest
import typer

from cli.main import app

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TEXT = {page: page.read_text(encoding="utf-8") for page in PAGES}
README = TEXT[ROOT / "README.md"]
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def blocks(language: str, text: str | None = None) -> list[str]:
    """The fenced code blocks in ``language`` of one page, or of every page."""
    texts = [text] if text is not None else list(TEXT.values())
    return [body for t in texts for lang, body in BLOCK.findall(t) if lang == language]


def commands(prefix: str, text: str | None = None) -> list[list[str]]:
    """Each shell line that runs ``prefix``, as words, without env assignments and comments."""
    found = []
    for body in blocks("bash", text):
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


def _verbs(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every leaf verb of the command line, as its words (``("tune", "embedder")``)."""
    if not isinstance(command, click.Group):
        return [path]
    context = click.Context(command)
    return [
        verb
        for name in command.list_commands(context)
        for verb in _verbs(command.get_command(context, name), (*path, name))  # type: ignore[arg-type]
    ]


def test_the_readme_is_a_front_door() -> None:
    assert len(README.splitlines()) <= 300
    shown = {tuple(words) for words in commands(".venv/bin/rag", README)}
    for verb in _verbs(typer.main.get_command(app)):
        assert any(words[: len(verb)] == verb for words in shown), f"no README example of {verb}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_links_resolve(page: Path) -> None:
    anchors = set(re.findall(r'<a id="([\w-]+)"></a>', TEXT[ROOT / "docs" / "benchmarks.md"]))
    anchors |= {
        re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
        for h in re.findall(r"^#+ (.*)$", TEXT[ROOT / "docs" / "benchmarks.md"], re.M)
    }
    for target in LINK.findall(TEXT[page]):
        if re.match(r"\w+:", target):
            continue  # a URL
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        assert file.exists(), f"{page.name} links to {target}, which does not exist"
        if anchor and file.name == "benchmarks.md":
            assert anchor in anchors, f"{page.name} links to {target}: no such anchor"


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
