"""``rxfeeds venues``: every registered venue with its status, channels, symbols and simulator.

Read from the venue specs (built-in and third-party alike); ``--json`` prints one object per
venue instead of the table.

Example::

    $ rxfeeds venues
    $ rxfeeds venues --json
"""

from __future__ import annotations

import shutil
from typing import Any

import click
import orjson

from ..venues.registry import specs
from ..venues.spec import VenueSpec

__all__ = ["command", "venue_rows"]


def venue_rows() -> list[dict[str, Any]]:
    """One dict per registered venue: what ``rxfeeds venues`` prints.

    Example:
        >>> row = next(r for r in venue_rows() if r["venue"] == "kraken")
        >>> row["status"], row["channels"][0], row["book_sync"], row["symbol_example"]
        ('live', 'book', 'checksum', 'XBT/USD')
    """
    return [_row(v) for v in specs().values()]


def _row(v: VenueSpec) -> dict[str, Any]:
    book = v.book_channel
    return {
        "venue": v.name,
        "aliases": list(v.aliases),
        "title": v.title or v.name,
        "status": v.status,
        "client": v.client,
        "channels": v.channel_names(),
        "book_sync": book.book if book else None,
        "symbol_example": v.symbol_example,
        "pair_example": v.pair_example,
        "notation": v.symbol_notation.template,
        "simulator": v.simulator,
    }


def _symbols(row: dict[str, Any]) -> str:
    if row["pair_example"] and row["pair_example"] != row["symbol_example"]:
        return f"{row['pair_example']} = {row['symbol_example']}"
    return str(row["symbol_example"])


@click.command("venues")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list of objects) instead of the table.")
def command(as_json: bool) -> None:
    """List every venue: status, channels, book sync rule, symbol notation and simulator."""
    rows = venue_rows()
    if as_json:
        click.echo(orjson.dumps(rows).decode())
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("venue", "status", "channels", "book sync", "symbols", "simulator", box=None)
    for r in rows:
        sim = "yes" if r["simulator"] else "-"
        table.add_row(r["venue"], r["status"], " ".join(r["channels"]), r["book_sync"] or "-", _symbols(r), sim)
    # never narrower than the table: a pipe or a narrow terminal would otherwise wrap the channels
    Console(width=max(shutil.get_terminal_size().columns, 140)).print(table)
