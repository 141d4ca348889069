"""The packages import one way: base < corpus < rag < ui, eval < tune < cli.

Every ``import`` and ``from ... import`` in the package sources is read with ``ast`` (lazy imports
inside functions and ``TYPE_CHECKING`` blocks too), so a layer that reaches up, or ``ui`` and
``eval`` reaching into each other, fails here with the file and line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# A package may import packages of a lower level only (and itself). ui and eval share a level and
# so may not import each other.
LEVELS = {"base": 0, "corpus": 1, "rag": 2, "ui": 3, "eval": 3, "tune": 4, "cli": 5}


def imported_packages(path: Path) -> Iterator[tuple[int, str]]:
    """(line, top-level package) for every absolute import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative imports stay inside the package
                continue
            yield node.lineno, (node.module or "").split(".")[0]


def violations(root: Path) -> list[str]:
    """Every import in the packages under ``root`` that runs against the layers."""
    found = []
    for package, level in LEVELS.items():
        for path in sorted((root / package).rglob("*.py")):
            for line, top in imported_packages(path):
                if top in LEVELS and top != package and LEVELS[top] >= level:
                    found.append(f"{path.relative_to(root)}:{line}: {package} imports {top}")
    return found


def test_layers_import_one_way() -> None:
    assert violations(ROOT) == []


def test_every_package_has_a_level() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages - {"tests", "benchmarks", "scripts"} <= set(LEVELS)
    assert {"base", "corpus", "rag", "ui", "eval", "cli"} <= packages


@pytest.mark.parametrize(
    ("package", "source", "bad"),
    [
        ("corpus", "from rag.index.backends.local.store import Store\n", True),
        ("rag", "def f():\n    from ui import render\n", True),
        ("ui", "import eval.metrics\n", True),
        ("eval", "from ui.render import answer_html\n", True),
        ("base", "from corpus.model import Document\n", True),
        ("rag", "from corpus.model import Document\nfrom base.errors import RagError\n", False),
        ("cli", "from ui.app import serve\nfrom eval.run import run\n", False),
    ],
)
def test_the_check_catches_a_backward_import(
    tmp_path: Path, package: str, source: str, bad: bool
) -> None:
    (tmp_path / package).mkdir()
    (tmp_path / package / "mod.py").write_text(source)
    assert bool(violations(tmp_path)) is bad
