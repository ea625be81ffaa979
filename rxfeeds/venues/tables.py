"""The README and docs venue tables, rendered from the venue specs.

Adding a venue never edits a table by hand: each table sits between two markers in its file
(``<!-- venues:begin ... -->`` and ``<!-- venues:end -->``) and is rewritten from the registry::

    python -m rxfeeds.venues.tables          # rewrite README.md and docs/venues/index.md
    python -m rxfeeds.venues.tables --check  # exit 1 when a table is stale (the test suite runs it)

The docs site's navigation lists the venue pages from the specs too (``docs/_ext/venue_nav.py``,
a mkdocs hook), so a new venue's page appears under "Venues" by being declared.

Example:
    >>> print(next(row for row in venue_table(links=False).splitlines() if "`kraken`" in row))
    | `kraken` | `rxfeeds.Kraken` | live: WS v1, frozen by Kraken | book (checksum), trades, ticker, klines, spread |
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from .registry import specs
from .spec import VenueSpec

__all__ = ["TABLES", "check", "render", "venue_table", "write"]

#: files holding a generated table, relative to the project root, and whether it links the docs pages
TABLES: dict[str, bool] = {"README.md": False, "docs/venues/index.md": True}

_BLOCK = re.compile(r"(<!-- venues:begin[^\n]*-->\n)(.*?)(<!-- venues:end -->)", re.S)


def _builtin(venues: Iterable[VenueSpec]) -> list[VenueSpec]:
    # third-party venues document themselves; the project's tables list the venues it ships
    return [v for v in venues if v.client.startswith("rxfeeds.")]


def _channels(venue: VenueSpec) -> str:
    return ", ".join(f"{c.name} ({c.book})" if c.book else c.name for c in venue.channels)


def venue_table(venues: Sequence[VenueSpec] | None = None, *, links: bool = True) -> str:
    """The markdown venue table (built-in venues, registry order); ``links`` adds each docs page.

    ``docs`` paths are relative to ``docs/``; the links are relative to ``docs/venues/``.
    """
    rows = _builtin(specs().values() if venues is None else venues)
    head = "| venue (CLI name) | client | status | channels |" + (" page |" if links else "")
    lines = [head, "|---" * head.count(" | ") + "|---|"]
    for v in rows:
        client = f"`rxfeeds.{v.export}`" if v.export else f"`{v.client.replace(':', '.')}`"
        status = f"{v.status}: {v.notes}" if v.notes else v.status
        cells = [f"`{v.name}`", client, status, _channels(v)]
        if links:
            page = Path(v.docs).name if v.docs and v.docs.startswith("venues/") else f"../{v.docs}"
            cells.append(f"[{v.title or v.name}]({page})" if v.docs else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render(text: str, *, links: bool) -> str:
    """``text`` with its marked venue table replaced by the current one.

    Raises:
        ValueError: ``text`` has no ``<!-- venues:begin -->`` ... ``<!-- venues:end -->`` block.
    """
    if not _BLOCK.search(text):
        raise ValueError("no <!-- venues:begin --> ... <!-- venues:end --> block")
    table = venue_table(links=links)
    return _BLOCK.sub(lambda m: m.group(1) + table + m.group(3), text, count=1)


def _root() -> Path:
    return Path(__file__).resolve().parents[2]


def check(root: Path | None = None) -> list[str]:
    """The table files (relative paths) whose table differs from the specs; ``[]`` when current."""
    base = root or _root()
    stale = []
    for name, links in TABLES.items():
        text = (base / name).read_text(encoding="utf-8")
        if render(text, links=links) != text:
            stale.append(name)
    return stale


def write(root: Path | None = None) -> list[str]:
    """Rewrite every stale table file; returns the ones rewritten."""
    base = root or _root()
    changed = check(base)
    for name in changed:
        path = base / name
        path.write_text(render(path.read_text(encoding="utf-8"), links=TABLES[name]), encoding="utf-8")
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m rxfeeds.venues.tables [--check] [--root DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m rxfeeds.venues.tables", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale tables (exit 1 when any is)")
    parser.add_argument("--root", type=Path, default=None, help="project root (default: this checkout)")
    args = parser.parse_args(argv)
    if args.check:
        stale = check(args.root)
        for name in stale:
            print(f"stale venue table: {name} (run: python -m rxfeeds.venues.tables)", file=sys.stderr)
        return 1 if stale else 0
    for name in write(args.root):
        print(f"rewrote {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
