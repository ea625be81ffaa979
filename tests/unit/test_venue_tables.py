"""The README/docs venue tables and the docs nav come from the venue specs (issue 17: adding a venue)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

import pytest

from rxfeeds.venues import tables
from rxfeeds.venues.registry import register, specs, unregister
from rxfeeds.venues.spec import Channel, VenueSpec
from tests.helpers import ROOT

TOY = VenueSpec(
    "toy-tables",
    "rxfeeds.venues.toy.client:Toy",
    "rxfeeds.venues.toy.codec:ToyCodec",
    None,
    "documentation-only",
    (Channel("book", ("BookSnapshot",), book="full-images"), Channel("trades", ("Trade",))),
    "ABCD",
    export="Toy",
    docs="venues/toy-tables.md",
    title="Toy",
    notes="a test venue",
)


def test_the_checked_in_tables_match_the_specs() -> None:
    assert tables.check(ROOT) == [], "stale venue table: run python -m rxfeeds.venues.tables"


def test_every_builtin_venue_has_a_row_naming_its_client_and_channels() -> None:
    readme = (ROOT / "README.md").read_text()
    for venue in specs().values():
        row = f"| `{venue.name}` | `rxfeeds.{venue.export}` | {venue.status}"
        assert row in readme and row in (ROOT / "docs" / "venues" / "index.md").read_text(), row


def _copy(tmp_path: Path) -> Path:
    for name in tables.TABLES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_a_declared_venue_makes_the_tables_stale_until_regenerated(tmp_path: Path, capsys: Any) -> None:
    root = _copy(tmp_path)
    register(TOY)
    try:
        assert tables.main(["--check", "--root", str(root)]) == 1
        assert "stale venue table: README.md" in capsys.readouterr().err
        assert tables.main(["--root", str(root)]) == 0
        assert tables.main(["--check", "--root", str(root)]) == 0
        docs = (root / "docs" / "venues" / "index.md").read_text()
        assert (
            "| `toy-tables` | `rxfeeds.Toy` | documentation-only: a test venue | book (full-images), trades"
            " | [Toy](toy-tables.md) |"
        ) in docs
        assert "| `toy-tables` | `rxfeeds.Toy` |" in (root / "README.md").read_text()
    finally:
        unregister("toy-tables")
    assert tables.check(root) == list(tables.TABLES)  # gone from the specs: stale again
    assert "toy-tables" not in tables.render((root / "README.md").read_text(), links=False)


def test_a_file_without_the_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="venues:begin"):
        tables.render("# no table here\n", links=True)


def _nav_hook() -> Any:
    spec = importlib.util.spec_from_file_location("venue_nav", ROOT / "docs" / "_ext" / "venue_nav.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_docs_nav_lists_every_venue_page_from_its_spec() -> None:
    hook = _nav_hook()
    config = {"nav": [{"Home": "index.md"}, {"Venues": ["venues/index.md"]}]}
    venues = hook.on_config(config)["nav"][1]["Venues"]
    assert venues[0] == "venues/index.md"
    assert [next(iter(p.values())) for p in venues[1:]] == [v.docs for v in specs().values()]
    assert hook.on_config(config)["nav"][1]["Venues"] == venues  # idempotent (mkdocs serve reloads)
