"""Shared fixtures: the real captures folder and a condition-wait helper."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def captures_path() -> Path:
    """Where the shared real recordings live (``$RXFEEDS_CAPTURES`` or ``../shared/captures``)."""
    env = os.environ.get("RXFEEDS_CAPTURES")
    return Path(env) if env else PROJECT_ROOT.parent / "shared" / "captures"


@pytest.fixture
def captures_dir() -> Path:
    """The captures folder; skips the test with a reason when it is absent."""
    path = captures_path()
    if not path.is_dir():
        pytest.skip(f"real captures not available at {path} (set RXFEEDS_CAPTURES)")
    return path


@pytest.fixture
def capture_file(captures_dir: Path):  # type: ignore[no-untyped-def]
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
