"""Imports point down the layers: every module of ``rxfeeds`` is checked against the layer table.

The table is the one in ``docs/concepts/architecture.md`` (a test below keeps the two equal).
Every ``import`` counts: module level, inside functions (lazy imports) and under
``TYPE_CHECKING``; a dependency is a dependency wherever it is written.

Private modules (``_name``) are for their own package: another package imports the public
module that re-exports what it needs.

Units: a top-level module or package (``rxfeeds.ops``, ``rxfeeds.transport``...) imports its own
modules freely.  In a venue folder (``rxfeeds.venues.<venue>``), the codec modules (the spec's
codec and what it imports from its folder) form the ``codecs`` layer and the rest (client,
spec, REST helpers) the ``clients`` layer; a venue folder never imports another venue folder.

Simulators stand beside the stack: they speak to clients only over sockets.  They may import
the core values, ``rxfeeds.codec`` (the ``Key`` type), ``rxfeeds.intervals``, ``rxfeeds.timing``
and the venue registry, and from a venue folder only constants (UPPER_CASE names): never a
codec's parsing code, which would mirror a parser bug in the oracle meant to catch it.  A venue
simulator never imports another venue family's simulator; the toolkit (every ``rxfeeds.sim``
module no venue spec names as its simulator, nor inside such a simulator's package) never imports
a venue simulator.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rxfeeds.venues.registry import specs

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "rxfeeds"
DOC = ROOT / "docs" / "concepts" / "architecture.md"

_STACK = ("core", "foundation", "codecs", "books", "transport", "bus", "operators", "adapters", "venue-common")
_STACK += ("clients", "capture")

#: layer -> the layers its modules may import (besides their own unit)
MAY_IMPORT: dict[str, frozenset[str]] = {
    "core": frozenset({"core"}),
    "foundation": frozenset({"core"}),
    "codecs": frozenset({"core", "foundation"}),
    "books": frozenset({"core", "foundation"}),
    "transport": frozenset({"core", "foundation"}),
    "bus": frozenset({"core", "foundation", "transport"}),
    "operators": frozenset({"core", "foundation", "books", "bus"}),
    "adapters": frozenset({"core", "foundation", "transport", "operators"}),
    "venue-common": frozenset({"core", "foundation", "books", "transport", "operators", "adapters"}),
    "clients": frozenset(
        {"core", "foundation", "codecs", "books", "transport", "bus", "operators", "adapters", "venue-common"}
    ),
    "capture": frozenset({"core", "foundation", "transport", "venue-common"}),
    "people": frozenset(_STACK),
    "entry": frozenset({*_STACK, "people", "simulators", "entry"}),
    "simulators": frozenset({"core"}),  # plus the modules in SIM_MAY_IMPORT, checked apart
}

#: top-level modules and packages -> layer (venue folders are classified from the specs)
LAYER_OF: dict[str, str] = {
    "rxfeeds.errors": "core",
    "rxfeeds.events": "core",
    "rxfeeds.numeric": "foundation",
    "rxfeeds.intervals": "foundation",
    "rxfeeds.timing": "foundation",
    "rxfeeds.feed": "foundation",
    "rxfeeds.runner": "foundation",
    "rxfeeds.codec": "foundation",
    "rxfeeds.books": "books",
    "rxfeeds.transport": "transport",
    "rxfeeds.bus": "bus",
    "rxfeeds.ops": "operators",
    "rxfeeds.aio": "adapters",
    "rxfeeds.health": "adapters",
    "rxfeeds.venues": "venue-common",
    "rxfeeds.capture": "capture",
    "rxfeeds.notebook": "people",
    "rxfeeds": "people",
    "rxfeeds.cli": "entry",
    "rxfeeds.__main__": "entry",
    "rxfeeds.sim": "simulators",
}

#: what simulators may import besides the core values (no parsing code of the codecs)
SIM_MAY_IMPORT = frozenset(
    {"rxfeeds.codec", "rxfeeds.intervals", "rxfeeds.timing", "rxfeeds.venues", "rxfeeds.venues.registry"}
)

# Simulator imports the rules above would refuse but that are accepted, each with its reason, as
# (importer, imported module, imported name or "*").  Empty since the simulator toolkit (issue 20);
# an entry that no longer matches anything fails test_the_allow_list_has_no_stale_entries.
SIM_ALLOWED_VIOLATIONS: frozenset[tuple[str, str, str]] = frozenset()


@dataclass(frozen=True)
class Import:
    importer: str
    module: str  # the imported module (a submodule when ``from pkg import submodule``)
    name: str  # the imported name, "*" for ``import module`` / star imports
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path) -> Iterator[Import]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "rxfeeds" or alias.name.startswith("rxfeeds."):
                    yield Import(name, alias.name, "*", node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if not (target == "rxfeeds" or target.startswith("rxfeeds.")):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in MODULES:  # ``from rxfeeds import events``: the submodule is the dependency
                    yield Import(name, sub, "*", node.lineno)
                else:
                    yield Import(name, target, alias.name, node.lineno)


ALL_IMPORTS: list[Import] = [imp for name, path in MODULES.items() for imp in _imports(name, path)]


def _venue_folder(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 3 and parts[:2] == ["rxfeeds", "venues"] and f"rxfeeds.venues.{parts[2]}" in MODULES:
        folder = f"rxfeeds.venues.{parts[2]}"
        if (PACKAGE / "venues" / parts[2] / "__init__.py").exists():
            return folder
    return None


def _codec_modules() -> set[str]:
    """Each spec's codec module and the modules of its folder it imports, transitively."""
    found: set[str] = set()
    todo = [s.codec.partition(":")[0] for s in specs().values() if s.codec.startswith("rxfeeds.")]
    while todo:
        module = todo.pop()
        if module in found or module not in MODULES:
            continue
        found.add(module)
        folder = _venue_folder(module)
        todo.extend(i.module for i in ALL_IMPORTS if i.importer == module and _venue_folder(i.module) == folder)
    return found


CODECS = _codec_modules()
SIM_FAMILY: dict[str, str] = {}  # venue simulator module -> its venue folder
for _spec in specs().values():
    if _spec.simulator and _spec.simulator.startswith("rxfeeds.sim."):
        SIM_FAMILY[_spec.simulator.partition(":")[0]] = _spec.client.partition(":")[0].rsplit(".", 1)[0]


def layer(module: str) -> tuple[str, str]:
    """(layer, unit) of a module."""
    folder = _venue_folder(module)
    if folder is not None:
        return ("codecs" if module in CODECS else "clients"), folder
    best = max((top for top in LAYER_OF if module == top or module.startswith(top + ".")), key=len, default=None)
    if best is None:
        raise AssertionError(f"{module} is in no layer: add it to the table (docs/concepts/architecture.md)")
    return LAYER_OF[best], best


def sim_family(module: str) -> str | None:
    """The venue folder a simulator module belongs to: a spec's simulator module or a module of
    that simulator's package (``rxfeeds.sim.kraken.v1``); None for the toolkit."""
    for named, family in SIM_FAMILY.items():
        if module == named or module.startswith(named + "."):
            return family
    return None


def _sim_violation(imp: Import) -> str | None:
    target_layer, _ = layer(imp.module)
    if imp.module.startswith("rxfeeds.sim"):
        mine, theirs = sim_family(imp.importer), sim_family(imp.module)
        if theirs is None:
            return None  # the toolkit
        if mine is None:
            return "the simulator toolkit imports a venue simulator"
        return None if mine == theirs else "a venue simulator imports another venue's simulator"
    if target_layer == "core" or imp.module in SIM_MAY_IMPORT:
        return None
    if _venue_folder(imp.module) is not None and imp.name != "*" and imp.name.isupper():
        return None  # a venue constant
    return f"a simulator imports {target_layer} code"


def _is_private(module: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in module.split("."))


def _package(module: str) -> str:
    """The package that owns a module: its venue folder, else its top-level unit."""
    return _venue_folder(module) or layer(module)[1]


def violations() -> list[tuple[Import, str]]:
    found = []
    for imp in ALL_IMPORTS:
        if imp.module not in MODULES and imp.module.rpartition(".")[0] not in MODULES:
            found.append((imp, "imports a module that does not exist"))
            continue
        (mine, my_unit), (theirs, their_unit) = layer(imp.importer), layer(imp.module)
        if mine == "simulators":
            why = _sim_violation(imp)
            if why is not None:
                found.append((imp, why))
            continue
        if my_unit == their_unit and mine == theirs:
            continue
        if _is_private(imp.module) and _package(imp.importer) != _package(imp.module):
            found.append((imp, "imports a private module of another package"))
            continue
        mine_folder, their_folder = _venue_folder(imp.importer), _venue_folder(imp.module)
        if mine_folder and their_folder and mine_folder != their_folder:
            found.append((imp, "a venue folder imports another venue folder"))
        elif theirs not in MAY_IMPORT[mine]:
            found.append((imp, f"{mine} may not import {theirs}"))
    return found


def test_every_import_points_down_the_layers() -> None:
    bad = [
        f"{imp.importer}:{imp.line} imports {imp.module}" + (f".{imp.name}" if imp.name != "*" else "") + f": {why}"
        for imp, why in violations()
        if (imp.importer, imp.module, imp.name) not in SIM_ALLOWED_VIOLATIONS
    ]
    assert bad == [], "upward or sideways imports (docs/concepts/architecture.md):\n" + "\n".join(bad)


def test_the_allow_list_has_no_stale_entries() -> None:
    current = {(imp.importer, imp.module, imp.name) for imp, _ in violations()}
    assert sorted(SIM_ALLOWED_VIOLATIONS - current) == [], "fixed: remove these entries from SIM_ALLOWED_VIOLATIONS"


def test_every_module_is_in_a_layer_and_the_venue_folders_have_codecs() -> None:
    for module in MODULES:
        layer(module)
    assert {_venue_folder(m) for m in CODECS} >= {
        f"rxfeeds.venues.{p.name}" for p in (PACKAGE / "venues").iterdir() if (p / "codec.py").exists()
    }


@pytest.mark.parametrize(
    ("importer", "source", "expected"),
    [
        ("rxfeeds.books.book", "from ..notebook import book_html", "books may not import people"),
        ("rxfeeds.ops.klines", "from ..transport import Backoff", "operators may not import transport"),
        ("rxfeeds.health", "from .ops._bounded import DeliveryStats", "a private module of another package"),
        ("rxfeeds.transport.stats", "import rxfeeds.ops", "transport may not import operators"),
        ("rxfeeds.venues.kraken.codec", "from ...transport import SocketSubject", "codecs may not import transport"),
        ("rxfeeds.venues.kraken.codec", "from .client import Kraken", "codecs may not import clients"),
        ("rxfeeds.venues.kraken.client", "from ..hitbtc.codec import HitBTCCodec", "another venue folder"),
        ("rxfeeds.sim.kraken.v1", "from ...venues.kraken.codec import KrakenCodec", "a simulator imports codecs code"),
        ("rxfeeds.sim.kraken.v1", "from ...numeric import price", "a simulator imports foundation code"),
        ("rxfeeds.sim.kraken.v1", "from ..midchains import SimOrder", "another venue's simulator"),
        ("rxfeeds.sim.kraken.v2", "from ..hitbtc_v3 import HitBTCV3Sim", "another venue's simulator"),
        ("rxfeeds.sim.market", "from .kraken import KrakenSim", "toolkit imports a venue simulator"),
    ],
)
def test_the_check_catches_an_upward_or_sideways_import(importer: str, source: str, expected: str) -> None:
    path = MODULES[importer]
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    extra = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            target = ".".join([*base, *([node.module] if node.module else [])])
            extra += [Import(importer, target, a.name, 1) for a in node.names]
        elif isinstance(node, ast.Import):
            extra += [Import(importer, a.name, "*", 1) for a in node.names]
    ALL_IMPORTS.extend(extra)
    try:
        found = [why for imp, why in violations() if imp in extra]
    finally:
        del ALL_IMPORTS[-len(extra) :]
    assert found and expected in found[0], found


def test_the_constants_a_simulator_may_share_pass() -> None:
    assert _sim_violation(Import("rxfeeds.sim.hitbtc", "rxfeeds.venues.hitbtc._common", "CANDLE_PERIODS", 1)) is None
    assert _sim_violation(Import("rxfeeds.sim.kraken_v2", "rxfeeds.sim.kraken", "KrakenSim", 1)) is None  # one family
    assert _sim_violation(Import("rxfeeds.sim.kraken.v2", "rxfeeds.sim.kraken.v1", "KrakenSim", 1)) is None
    assert sim_family("rxfeeds.sim.kraken.v1") == sim_family("rxfeeds.sim.kraken_v2") == "rxfeeds.venues.kraken"
    assert sim_family("rxfeeds.sim.kit.orders") is None


def _doc_table() -> dict[str, frozenset[str]]:
    rows: dict[str, frozenset[str]] = {}
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) == 3 and re.fullmatch(r"`[a-z-]+`", cells[0]):
            rows[cells[0].strip("`")] = frozenset(re.findall(r"`([a-z-]+)`", cells[2]))
    return rows


def test_the_documented_table_is_the_enforced_one() -> None:
    assert _doc_table() == MAY_IMPORT
