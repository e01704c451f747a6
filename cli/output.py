"""How a command prints: the API's answer as JSON with --json, else a line or a rich table
(rich is imported only when a table is drawn)."""

from __future__ import annotations

from typing import Annotated

import typer

Json = Annotated[bool, typer.Option("--json", help="print the API's answer as JSON")]


def show(data, as_json: bool, render) -> None:
    if as_json:
        import json

        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        render(data)


def table(title: str, columns: list[str], rows: list[list]) -> None:
    from rich.console import Console
    from rich.table import Table

    drawn = Table(title=title)
    for column in columns:
        drawn.add_column(column)
    for row in rows:
        drawn.add_row(*[str(cell) for cell in row])
    Console().print(drawn)
