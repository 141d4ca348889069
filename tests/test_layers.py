"""The packages import one way, outside and inside, and no modules import each other in a circle.

Top level: base < corpus < rag < ui, eval < tune < cli. Inside ``rag``: index < retrieve <
answer; inside ``rag.index``: chunking, embed < backends < ingest. A package may import from a
lower level of its own stack (and from anything a level up the tree allows), never from a higher
one or a sibling on its own level (``ui`` and ``eval`` do not import each other).

Every ``import`` and ``from ... import`` in the package sources is read with ``ast`` (lazy imports
inside functions and ``TYPE_CHECKING`` blocks too), relative imports resolved to the module they
name, so a layer that reaches up fails here with the file and line. Import cycles are checked
over the imports that run when a module loads: those at module level, outside ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# For each package whose children are layered, the level of each child: a child may import its
# siblings of a lower level only. Every child of a package listed here needs a level.
STACKS: dict[str, dict[str, int]] = {
    "": {"base": 0, "corpus": 1, "rag": 2, "ui": 3, "eval": 3, "tune": 4, "cli": 5},
    "rag": {"index": 0, "retrieve": 1, "answer": 2},
    "rag.index": {"chunking": 0, "embed": 0, "backends": 1, "ingest": 2},
}
PACKAGES = tuple(STACKS[""])


@dataclass(frozen=True)
class Import:
    """One import statement's target, resolved to an absolute module name."""

    line: int
    target: str
    loads: bool  # runs when the module is loaded (module level, not under TYPE_CHECKING)


def modules(root: Path) -> dict[str, Path]:
    """Every module of the packages under ``root``, by dotted name (a package by its folder)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[Import]:
    """Every import in module ``name`` (file ``path``), relative ones resolved."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))

    def visit(nodes: list[ast.stmt] | list[ast.AST], loads: bool) -> Iterator[Import]:
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(node.lineno, alias.name, loads)
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    module = ".".join([*base, *([node.module] if node.module else [])])
                for alias in node.names:
                    sub = f"{module}.{alias.name}"
                    yield Import(node.lineno, sub if sub in known else module, loads)
            inner = loads and not _is_type_checking(node)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                inner = False
            yield from visit(list(ast.iter_child_nodes(node)), inner)

    yield from visit(tree.body, True)


def backward(source: str, target: str) -> str | None:
    """Why importing ``target`` from module ``source`` runs against the layers, else None."""
    a, b = source.split("."), target.split(".")
    common = 0
    while common < min(len(a), len(b)) and a[common] == b[common]:
        common += 1
    if common >= len(b) or common >= len(a):
        return None  # a package's own module, or its parent package
    stack = STACKS.get(".".join(a[:common]))
    if stack is None:
        return None
    mine, theirs = a[common], b[common]
    if mine not in stack or theirs not in stack:
        where = ".".join(a[:common]) or "the top level"
        return f"{mine if mine not in stack else theirs} has no level in {where}"
    if stack[theirs] >= stack[mine]:
        return f"{'.'.join(a[: common + 1])} imports {'.'.join(b[: common + 1])}"
    return None


def violations(root: Path) -> list[str]:
    """Every import in the packages under ``root`` that runs against the layers."""
    known = modules(root)
    found = []
    for name, path in known.items():
        for imp in imports(name, path, known):
            if imp.target.split(".")[0] not in PACKAGES:
                continue
            if why := backward(name, imp.target):
                found.append(f"{path.relative_to(root)}:{imp.line}: {why}")
    return found


def cycles(root: Path) -> list[list[str]]:
    """Groups of modules that import each other, directly or around a circle, when loaded."""
    known = modules(root)
    graph = {
        name: {
            imp.target
            for imp in imports(name, path, known)
            if imp.loads
            and imp.target in known
            and imp.target != name
            and not name.startswith(imp.target + ".")  # a module's own parent package
        }
        for name, path in known.items()
    }
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def strongconnect(node: str) -> None:  # Tarjan's strongly connected components
        order[node] = low[node] = len(order)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in order:
                strongconnect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], order[nxt])
        if low[node] == order[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in order:
            strongconnect(node)
    return found


def test_layers_import_one_way() -> None:
    assert violations(ROOT) == []


def test_no_import_cycles() -> None:
    assert cycles(ROOT) == []


def test_every_package_has_a_level() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages - {"tests", "benchmarks", "scripts"} <= set(PACKAGES)
    assert {"base", "corpus", "rag", "ui", "eval", "cli"} <= packages
    for parent, stack in STACKS.items():
        if not parent:
            continue
        folder = ROOT.joinpath(*parent.split("."))
        children = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
        children |= {p.parent.name for p in folder.glob("*/__init__.py")}
        assert children == set(stack), f"{parent}: {sorted(children ^ set(stack))}"


def _plant(root: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        for folder in path.relative_to(root).parents:
            if str(folder) != "." and not (root / folder / "__init__.py").exists():
                (root / folder / "__init__.py").write_text("")
        path.write_text(source)


@pytest.mark.parametrize(
    ("files", "bad"),
    [
        ({"corpus/mod.py": "from rag.index.backends.local.store import Store\n"}, True),
        ({"rag/mod.py": "def f():\n    from ui import render\n"}, True),
        ({"ui/mod.py": "import eval.metrics\n"}, True),
        ({"eval/mod.py": "from ui.render import answer_html\n"}, True),
        ({"base/mod.py": "from corpus.model import Document\n"}, True),
        ({"rag/mod.py": "from corpus.model import Document\nfrom base.errors import E\n"}, False),
        ({"cli/mod.py": "from ui.app import serve\nfrom eval.run import run\n"}, False),
        # inside rag: index < retrieve < answer
        ({"rag/index/x.py": "from rag.answer.pipeline import Pipeline\n"}, True),
        ({"rag/retrieve/x.py": "from rag.answer import pipeline\n"}, True),
        ({"rag/answer/x.py": "from rag.retrieve.hybrid import Retriever\n"}, False),
        # inside rag.index: chunking, embed < backends < ingest
        ({"rag/index/embed/x.py": "from rag.index.ingest.pipeline import ingest\n"}, True),
        ({"rag/index/backends/x.py": "from rag.index.ingest import copy\n"}, True),
        ({"rag/index/chunking.py": "from rag.index.embed.embedder import Embedder\n"}, True),
        ({"rag/index/ingest/x.py": "from rag.index.backends.manifest import Manifest\n"}, False),
        # relative imports, resolved before checking
        ({"rag/index/x.py": "from ..ui import render\n"}, True),
        ({"rag/index/embed/x.py": "from ..ingest.pipeline import ingest\n"}, True),
        ({"rag/index/embed/x.py": "from . import openvino\nfrom .openvino import y\n"}, False),
        ({"rag/answer/x.py": "from ..retrieve import hybrid\nfrom ...corpus import read\n"}, False),
    ],
)
def test_the_check_catches_a_backward_import(
    tmp_path: Path, files: dict[str, str], bad: bool
) -> None:
    _plant(tmp_path, files)
    assert bool(violations(tmp_path)) is bad, violations(tmp_path)


def test_the_check_catches_a_cycle(tmp_path: Path) -> None:
    _plant(
        tmp_path,
        {
            "rag/answer/a.py": "from rag.answer.b import x\n",
            "rag/answer/b.py": "from . import c\n",
            "rag/answer/c.py": "import rag.answer.a\n",
            "rag/answer/d.py": "from rag.answer import a\n",
        },
    )
    assert cycles(tmp_path) == [["rag.answer.a", "rag.answer.b", "rag.answer.c"]]


def test_lazy_and_type_checking_imports_close_no_cycle(tmp_path: Path) -> None:
    _plant(
        tmp_path,
        {
            "rag/answer/a.py": "from rag.answer.b import x\n",
            "rag/answer/b.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                "    from rag.answer.a import y\n"
                "def f():\n    from rag.answer import a\n"
            ),
        },
    )
    assert cycles(tmp_path) == []
