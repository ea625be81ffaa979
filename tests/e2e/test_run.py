"""``rxfeeds.run`` and the README's first pipeline: real processes, real sockets (issue 18 item 2)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from typing import Any

import pytest
import reactivex as rx

import rxfeeds
from rxfeeds import ops
from rxfeeds.errors import InvalidArgument
from rxfeeds.sim.kraken import KrakenSim
from tests.helpers import ROOT, wait_until

pytestmark = pytest.mark.timeout(120)

BOOK_LINE = re.compile(r"^\(\d+(\.\d+)?, \d+(\.\d+)?\) \(\d+(\.\d+)?, \d+(\.\d+)?\)$")


def readme_snippet(n: int = 0) -> str:
    """The ``n``-th python block of README.md's "A first pipeline" section, as written."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## A first pipeline") :]
    section = section[: section.index("\n## ", 1)]
    return re.findall(r"```python\n(.*?)```", section, re.S)[n]


def python(code: str, **kw: Any) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw
    )


def test_readme_first_pipeline_prints_books_and_exits_0() -> None:
    code = readme_snippet(0)
    assert "KrakenSim" in code and "rxfeeds.run(" in code  # the snippet starts its own simulator
    proc = python(code)
    out, err = proc.communicate(timeout=100)  # safety bound: the snippet runs 5 s
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert len(lines) >= 3, (out, err)
    assert all(BOOK_LINE.match(line) for line in lines), lines[:5]
    assert "Traceback" not in err


def test_readme_production_pipeline_uses_run_and_books_only() -> None:
    code = readme_snippet(1)
    assert "rxfeeds.Kraken()" in code and "rxfeeds.run(books" in code
    compile(code, "README.md", "exec")


def test_run_blocks_for_the_duration_then_disposes() -> None:
    with KrakenSim(symbols=["XBT/USD"], tick_interval=0.05) as sim:
        kraken = rxfeeds.Kraken(url=sim.url)
        books: list[Any] = []
        result = rxfeeds.run(kraken.book("XBT/USD", depth=10).pipe(ops.order_book(depth=10)), books.append, duration=2)
        assert result.stopped_by == "duration"
        assert result.values == len(books) > 0
        assert all(isinstance(b, ops.OrderBook) for b in books)
        # nobody listens any more: the client closed its socket
        wait_until(lambda: sim.connection_count == 0, timeout=30)
        kraken.close()


def test_a_callback_error_is_raised_in_the_calling_thread_after_disposal() -> None:
    with KrakenSim(symbols=["XBT/USD"], tick_interval=0.05) as sim:
        kraken = rxfeeds.Kraken(url=sim.url)
        books = kraken.book("XBT/USD", depth=10).pipe(ops.order_book(depth=10))
        with pytest.raises(AttributeError, match="best_bidd"):
            rxfeeds.run(books, lambda book: book.best_bidd, duration=60)
        wait_until(lambda: sim.connection_count == 0, timeout=30)
        kraken.close()


def test_a_source_error_is_raised_and_completion_ends_the_run() -> None:
    with pytest.raises(ValueError, match="boom"):
        rxfeeds.run(rx.throw(ValueError("boom")))
    seen: list[int] = []
    assert rxfeeds.run(rx.of(1, 2), seen.append) == rxfeeds.RunResult(2, "completed")
    assert seen == [1, 2]


@pytest.mark.parametrize(
    ("kw", "name"),
    [({"duration": 0}, "duration"), ({"duration": float("nan")}, "duration"), ({"on_next": 3}, "on_next")],
)
def test_invalid_arguments(kw: dict[str, Any], name: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        rxfeeds.run(rx.of(1), **kw)
    assert info.value.name == name
    with pytest.raises(InvalidArgument):
        rxfeeds.run(42)


CTRL_C_SCRIPT = """
import rxfeeds
from rxfeeds import ops
from rxfeeds.sim.kraken import KrakenSim

with KrakenSim(symbols=["XBT/USD"], tick_interval=0.05) as sim:
    kraken = rxfeeds.Kraken(url=sim.url)
    first = []
    def show(book):
        if not first:
            first.append(book)
            print("FIRST", flush=True)
    result = rxfeeds.run(kraken.book("XBT/USD").pipe(ops.order_book()), show)
    print("STOPPED", result.stopped_by, result.values > 0, flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_ctrl_c_ends_the_run_quietly_and_the_script_goes_on() -> None:
    proc = python(CTRL_C_SCRIPT)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "FIRST"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert out.strip() == "STOPPED interrupted True"
        assert "Traceback" not in err and "KeyboardInterrupt" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
