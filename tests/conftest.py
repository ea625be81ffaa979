"""Shared fixtures and the folder markers.

The suite mirrors the layers (see the README's "Tests" section): ``unit/`` is in-process and fast,
``transport/`` and ``venues/`` run the socket layer, clients and simulators over real local
sockets, ``e2e/`` runs processes, kernels and brokers.  Markers are given here by folder
(``e2e``, ``notebooks``, ``peers``) and by fixture (``captures``: every test that asks for a
capture), so ``pytest -m "not e2e and not notebooks"`` is the fast inner loop.  Plain support
code (``wait_until``, ``Collector``, the ``FAST`` back-off, ``ROOT``) is in ``tests/helpers.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import captures_path

TESTS = Path(__file__).resolve().parent

#: folder (first part under tests/) or sub-folder -> marker its tests get
FOLDER_MARKERS = {"e2e": "e2e", "notebooks": "notebooks", "peers": "peers"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        try:
            parts = item.path.resolve().relative_to(TESTS).parts[:-1]
        except ValueError:
            continue  # a test outside tests/ (doctests of the package)
        for part in parts:
            if part in FOLDER_MARKERS:
                item.add_marker(FOLDER_MARKERS[part])
        if "captures_dir" in getattr(item, "fixturenames", ()):
            item.add_marker("captures")


@pytest.fixture
def captures_dir() -> Path:
    """The captures folder; skips the test with a reason when it is absent (marks it ``captures``)."""
    path = captures_path()
    if not path.is_dir():
        pytest.skip(f"real captures not available at {path} (set RXFEEDS_CAPTURES)")
    return path


@pytest.fixture
def capture_file(captures_dir: Path) -> Callable[[str], Path]:
    """``capture_file(name)`` -> Path of one capture, skipping when that file is missing."""

    def get(name: str) -> Path:
        path = captures_dir / name
        if not path.is_file():
            pytest.skip(f"capture {name} not found in {captures_dir}")
        return path

    return get


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    """A line server (``tests/transport_support.py``) refusing the symbol ``BAD``."""
    from tests.transport_support import LineServer

    with LineServer(reject={"BAD"}) as srv:
        yield srv
