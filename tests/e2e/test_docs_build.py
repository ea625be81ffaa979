"""The documentation site: builds with ``mkdocs build --strict`` and stays true to the code.

* the strict build (mkdocstrings API pages included) succeeds and every operator's marble sketch,
  read from the operator module's own docstring, is on the operators page as a code block;
* each venue page lists every public method of its client class (introspected, not copied);
* each venue page's "Try it against the simulator" snippet runs against that simulator and
  delivers a value;
* the CLI page documents every command and every option the click commands define;
* the docstring converter used by the site fences doctests and ``::`` literal blocks.
"""

from __future__ import annotations

import html
import importlib
import importlib.util
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT

pytest.importorskip("mkdocs")
pytest.importorskip("material")
pytest.importorskip("mkdocstrings_handlers.python")

DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def _text(page: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


@pytest.mark.timeout(150)
def test_strict_build_has_every_page(site: Path) -> None:
    for page in [
        "index.html",
        "getting-started/index.html",
        "concepts/socket-subject/index.html",
        "concepts/multiplexing/index.html",
        "concepts/threading/index.html",
        "concepts/integrity/index.html",
        "concepts/hostile-input/index.html",
        "operators/index.html",
        "notebooks/index.html",
        "cli/index.html",
        "recipes/index.html",
        "faq/index.html",
        "reference/events/index.html",
    ]:
        assert (site / page).is_file(), page
    from rxfeeds.venues import VENUES

    for venue in VENUES:
        assert (site / "venues" / venue / "index.html").is_file(), venue
    # mkdocstrings rendered the API: a class docstring's text is on its venue page
    import rxfeeds

    kraken_doc = (rxfeeds.Kraken.__doc__ or "").split("\n")[0]
    assert kraken_doc.split("(")[0].strip() in _text(site / "venues" / "kraken" / "index.html")


def _marble_lines(module: Any) -> list[str]:
    """Lines of the first ``::`` literal block of a module docstring (its marble sketch)."""
    lines = (module.__doc__ or "").split("\n")
    for i, line in enumerate(lines):
        if line.rstrip().endswith("::"):
            block = []
            for following in lines[i + 1 :]:
                if following.strip() and not following.startswith("    "):
                    break
                if following.strip():
                    block.append(following.strip())
            return block
    return []


@pytest.mark.timeout(150)
def test_every_operators_marble_sketch_is_rendered_as_code(site: Path) -> None:
    import rxfeeds.ops

    page = (site / "operators" / "index.html").read_text(encoding="utf-8")
    code_blocks = [html.unescape(re.sub(r"<[^>]+>", "", b)) for b in re.findall(r"<pre[^>]*>(.*?)</pre>", page, re.S)]
    names = [n for n in rxfeeds.ops.__all__ if n != "OrderBook"]
    assert names
    for name in names:
        module = importlib.import_module(f"rxfeeds.ops.{name}")
        sketch = [line for line in _marble_lines(module) if "--" in line]
        assert sketch, f"ops.{name} has no marble sketch in its module docstring"
        assert any(sketch[0] in block for block in code_blocks), f"ops.{name}: sketch not in a code block"


def _client_methods(cls: type) -> list[str]:
    from rxfeeds.venues.base import VenueClient

    names = []
    for klass in cls.__mro__:
        if klass is VenueClient:
            break
        for name, member in vars(klass).items():
            if not name.startswith("_") and callable(member) and not hasattr(VenueClient, name):
                names.append(name)
    return sorted(set(names))


@pytest.mark.parametrize("venue", sorted(__import__("rxfeeds.venues", fromlist=["VENUES"]).VENUES))
def test_venue_page_lists_every_client_method(venue: str) -> None:
    from rxfeeds.venues import client_class

    text = (DOCS / "venues" / f"{venue}.md").read_text(encoding="utf-8")
    table = text.split("## Observables and requests", 1)[1].split("## Try it", 1)[0]
    missing = [m for m in _client_methods(client_class(venue)) if f"| `{m}(" not in table]
    assert missing == [], f"docs/venues/{venue}.md does not list {missing}"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("venue", sorted(__import__("rxfeeds.venues", fromlist=["VENUES"]).VENUES))
def test_venue_page_example_runs_against_its_simulator(venue: str) -> None:
    text = (DOCS / "venues" / f"{venue}.md").read_text(encoding="utf-8")
    match = re.search(r"## Try it against the simulator\n\n```python\n(.*?)```", text, re.S)
    assert match, "no example"
    got: list[Any] = []
    arrived = threading.Event()

    def deliver(value: Any) -> None:
        got.append(value)
        arrived.set()

    code = match.group(1).replace(".subscribe(print)", ".subscribe(deliver)")
    code = code.replace("    ...\n", "    assert arrived.wait(15), 'nothing arrived'\n")
    exec(compile(code, f"docs/venues/{venue}.md", "exec"), {"deliver": deliver, "arrived": arrived})
    assert got


def test_cli_page_documents_every_command_and_option() -> None:
    from rxfeeds.cli import COMMANDS

    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for name, (module_name, _) in COMMANDS.items():
        assert f"## `rxfeeds {name}`" in text, name
        section = text.split(f"## `rxfeeds {name}`", 1)[1].split("\n## ", 1)[0]
        command = importlib.import_module(module_name).command
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("--"):
                    assert opt in section, f"rxfeeds {name}: {opt} undocumented"


def test_docstring_converter_fences_doctests_and_literal_blocks() -> None:
    spec = importlib.util.spec_from_file_location("rst_docstrings", DOCS / "_ext" / "rst_docstrings.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    source = (
        "Summary with :class:`~rxfeeds.events.Trade`.\n\n"
        "Marble sketch::\n\n    a: -x-|\n    b: --y|\n\n"
        "Example:\n    >>> [1][0]\n    1\n\nAfter."
    )
    out = module.convert(source)
    assert "`Trade`" in out and ":class:" not in out
    assert "Marble sketch:\n\n```text\na: -x-|\nb: --y|\n```" in out
    assert "    ```pycon\n    >>> [1][0]\n    1\n    ```" in out
    assert out.endswith("After.")


@pytest.mark.timeout(150)
def test_api_reference_is_complete_and_pages_show_the_charts(site: Path) -> None:
    """Issue 18 item 8: the reference lacked these; no chart was visible anywhere."""
    from rxfeeds.sim import SIMULATORS

    clients = _text(site / "reference" / "clients" / "index.html")
    assert "KrakenToken" in clients and "OwnTrade" in clients
    simulators = _text(site / "reference" / "simulators" / "index.html")
    for spec in SIMULATORS.values():
        assert spec.split(":")[1] in simulators, spec
    books = _text(site / "reference" / "books" / "index.html")
    assert "rxfeeds.books.side" in books and "rxfeeds.books.sync" in books and "SymbolBook" in books
    assert "stylesheets/extra.css" in (site / "index.html").read_text(encoding="utf-8")
    for page in ("index.html", "notebooks/index.html"):
        text = (site / page).read_text(encoding="utf-8")
        for image in ("depth-chart.png", "candles.png"):
            assert f"images/{image}" in text, (page, image)
    assert (site / "images" / "depth-chart.png").read_bytes().startswith(b"\x89PNG")
