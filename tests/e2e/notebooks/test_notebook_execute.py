"""Every notebook in ``notebooks/`` runs top to bottom in a real Jupyter kernel (nbclient).

Each notebook starts its own simulators on ephemeral ports, checks its results against the
simulators' truth with ``assert`` cells, and must finish without any error output.  The
notebooks are stored with outputs cleared.  The depth chart of ``02-order-book-depth-chart``
is decoded from the executed notebook's output and must not be blank: the live chart really
drew, headless, through the display-update path a user sees.
"""

from __future__ import annotations

import base64
import io
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")
pytest.importorskip("pandas")

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = [
    "01-quickstart",
    "02-order-book-depth-chart",
    "03-klines-from-trades",
    "04-multi-venue-pipeline",
    "05-replay-a-capture",
]


def test_the_documented_notebooks_exist_with_outputs_cleared() -> None:
    names = [p.stem for p in NOTEBOOKS]
    for name in EXPECTED:
        assert name in names
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [], f"{path.name}: saved with outputs"
                assert cell.execution_count is None, f"{path.name}: saved with execution counts"


def _execute(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    # The kernel inherits this environment: the package from this checkout, short live cells.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("RXFEEDS_NOTEBOOK_SECONDS", "2")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend (Agg) is headless
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=90,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
        allow_errors=False,
    )
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    return nb


@pytest.mark.timeout(120)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes_without_error(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if sys.platform == "win32":  # pragma: no cover
        pytest.skip("kernels on loopback only tested on POSIX")
    nb = _execute(path, tmp_path, monkeypatch)
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, f"{path.name} drew no chart"
    # a cell result that is markup shown as a Python string (issue 18: notebook 03)
    raw_markup = [
        o["data"]["text/plain"][:60]
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "execute_result"
        and "text/html" not in o.get("data", {})
        and o.get("data", {}).get("text/plain", "").lstrip("'\"").startswith("<")
    ]
    assert raw_markup == [], f"{path.name}: HTML shown as a string: {raw_markup}"
    for image in images:
        assert _pixels(image["data"]["image/png"]).std() > 0.02, f"{path.name}: a blank picture"
    if path.stem == "02-order-book-depth-chart":
        _assert_depth_chart_drawn(images[0]["data"]["image/png"])
    if path.stem == "03-klines-from-trades":
        green, red = _colours(_pixels(images[0]["data"]["image/png"]))
        assert green + red > 500, f"no candles drawn ({green} green, {red} red pixels)"


def _pixels(png_base64: str) -> Any:
    from matplotlib import image

    return image.imread(io.BytesIO(base64.b64decode(png_base64)), format="png")[..., :3]


def _colours(pixels: Any) -> tuple[int, int]:
    """Pixels tinted like the bid/up green and the ask/down red (light fills included)."""
    import numpy as np

    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    return (
        int(np.count_nonzero((g > r + 0.05) & (g > b + 0.03))),
        int(np.count_nonzero((r > g + 0.08) & (r > b + 0.08))),
    )


def _assert_depth_chart_drawn(png_base64: str) -> None:
    """The final frame of the live depth chart has green (bids) and red (asks) areas."""
    pixels = _pixels(png_base64)
    assert pixels.std() > 0.05, "blank image"
    green, red = _colours(pixels)
    total = pixels.shape[0] * pixels.shape[1]
    assert green > total * 0.01, f"no bid area drawn ({green} green pixels)"
    assert red > total * 0.01, f"no ask area drawn ({red} red pixels)"


@pytest.mark.timeout(90)
def test_a_started_chart_redraws_in_the_background_while_the_kernel_is_idle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``depth_chart`` without ``seconds`` returns at once and keeps drawing from the kernel's loop.

    ``await asyncio.sleep`` leaves the kernel's asyncio loop free (as an idle kernel between
    cells is): the chart must redraw several times, on the kernel's own thread, while the
    socket thread keeps delivering.
    """
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    v4 = nbformat.v4
    nb = v4.new_notebook(
        cells=[
            v4.new_code_cell(
                "import asyncio, threading\n"
                "import rxfeeds\n"
                "from rxfeeds import notebook as nb\n"
                "from rxfeeds.sim.kraken import KrakenSim\n"
                "sim = KrakenSim(symbols=['XBT/USD'], tick_interval=0.05).start()\n"
                "kraken = rxfeeds.Kraken(url=sim.url)\n"
                "chart = nb.depth_chart(kraken.book('XBT/USD', depth=10))\n"
                "drawn_on = set()\n"
                "render = chart._render\n"
                "chart._render = lambda: (drawn_on.add(threading.get_ident()), render())[1]\n"
                "started = chart.frames"
            ),
            v4.new_code_cell(
                "for _ in range(100):\n"
                "    await asyncio.sleep(0.1)\n"
                "    if chart.frames >= started + 3:\n"
                "        break\n"
                "print(chart.frames - started, chart.books, drawn_on == {threading.main_thread().ident})"
            ),
            v4.new_code_cell("chart.stop()\nkraken.close()\nsim.stop()\nprint(chart.running)"),
            v4.new_code_cell(
                "with KrakenSim(symbols=['XBT/USD'], tick_interval=0.05) as sim2:\n"
                "    k2 = rxfeeds.Kraken(url=sim2.url)\n"
                "    view = nb.depth_chart(k2.book('XBT/USD', depth=10), seconds=0.5)\n"
                "    k2.close()\n"
                "view  # a cell ending in a shown view must not show it twice"
            ),
        ]
    )
    client = nbclient.NotebookClient(
        nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    assert any("image/png" in o.get("data", {}) for o in nb.cells[0].outputs)
    redraws, books, on_kernel_thread = nb.cells[1].outputs[0]["text"].split()
    assert int(redraws) >= 3 and int(books) > 0
    assert on_kernel_thread == "True"
    assert nb.cells[2].outputs[0]["text"].strip() == "False"
    pictures = [o for o in nb.cells[3].outputs if "image/png" in o.get("data", {})]
    assert len(pictures) == 1
    results = [o for o in nb.cells[3].outputs if o.output_type == "execute_result"]
    assert [sorted(o["data"]) for o in results] == [["text/plain"]]
