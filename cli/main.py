"""The ``rag`` command line: the edge where :class:`RagError` becomes a message and an exit code.

The verbs live beside this file by concern (``index.py``: corpus and index; ``answers.py``:
answers, evaluation and the web app); this module only assembles them.
"""

from __future__ import annotations

import sqlite3

import typer

from base.errors import RagError
from cli import answers, index
from cli.common import err
from cli.tune import tune_app
from rag.index.backends.storage import cause

app = typer.Typer(
    pretty_exceptions_enable=False,
    help="litrag: answers from the biomedical literature, with checkable citations.",
)
app.add_typer(index.corpus_app, name="corpus")
app.add_typer(index.index_app, name="index")
app.add_typer(tune_app, name="tune")
for _name, _command in {**index.COMMANDS, **answers.COMMANDS}.items():
    app.command(_name)(_command)


def main() -> None:
    """The ``rag`` command: RagError becomes a one-line message and exit code 1."""
    try:
        app()
    except RagError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise SystemExit(1) from exc
    except (OSError, sqlite3.Error) as exc:  # file-system trouble no layer below put in words
        where = getattr(exc, "filename", None)
        err.print(f"[red]error:[/red] {where + ': ' if where else ''}{cause(exc)}", highlight=False)
        raise SystemExit(1) from exc


if __name__ == "__main__":
    main()
