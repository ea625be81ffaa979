"""``rxfeeds.aio`` in a real Jupyter kernel: top-level ``await`` and ``async for`` in cells.

The kernel runs its own asyncio loop on its main thread; the socket threads must wake it
(``call_soon_threadsafe``), and ``break`` in a cell must leave no thread or subscription.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")


@pytest.mark.timeout(120)
def test_top_level_await_and_async_for_in_a_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if sys.platform == "win32":  # pragma: no cover
        pytest.skip("kernels on loopback only tested on POSIX")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    v4 = nbformat.v4
    nb = v4.new_notebook(
        cells=[
            v4.new_code_cell(
                "import asyncio, json, threading, time\n"
                "import rxfeeds\n"
                "from rxfeeds import aio, ops\n"
                "from rxfeeds.sim.kraken import KrakenSim\n"
                "sim = KrakenSim(symbols=['XBT/USD'], tick_interval=0.02, seed=3).start()\n"
                "before = set(threading.enumerate())\n"
                "kraken = rxfeeds.Kraken(url=sim.url)"
            ),
            v4.new_code_cell(
                "await aio.first(kraken.ping(), timeout=10)  # opens the socket\n"
                "times = []\n"
                "for _ in range(5):\n"
                "    t0 = time.perf_counter()\n"
                "    pong = await aio.first(kraken.ping(), timeout=10)\n"
                "    times.append(time.perf_counter() - t0)\n"
                "direct = await kraken.ping()\n"
                "print(json.dumps({'best': min(times), 'pong': pong['event'], 'direct': direct['event'],\n"
                "                  'loop_thread': threading.current_thread() is threading.main_thread()}))"
            ),
            v4.new_code_cell(
                "seen = []\n"
                "async for trade in aio.iterate(kraken.trades('XBT/USD'), buffer=100, overflow='latest'):\n"
                "    seen.append(trade)\n"
                "    if len(seen) == 5:\n"
                "        break\n"
                "routes = lambda: sum(len(t._routes) for t in kraken.connections.values())\n"
                "deadline = time.monotonic() + 20\n"
                "while (routes() or not set(threading.enumerate()) <= before) and time.monotonic() < deadline:\n"
                "    await asyncio.sleep(0.02)\n"
                "print(json.dumps({'trades': len(seen), 'routes': routes(),\n"
                "                  'leftover': sorted(t.name for t in set(threading.enumerate()) - before)}))"
            ),
            v4.new_code_cell("kraken.close()\nsim.stop()"),
        ]
    )
    client = nbclient.NotebookClient(
        nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    pings = json.loads(nb.cells[1].outputs[0]["text"])
    assert pings["pong"] == pings["direct"] == "pong"
    assert pings["loop_thread"] is True
    assert pings["best"] < 0.1, pings
    loop = json.loads(nb.cells[2].outputs[0]["text"])
    assert loop == {"trades": 5, "routes": 0, "leftover": []}
