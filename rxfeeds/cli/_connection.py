"""Connection state for ``watch`` and ``record``: what to show, and when to give up.

A client publishes a :class:`~rxfeeds.events.ConnectionStatus` on ``client.state`` at every
change (connecting, open, reconnecting with the reason and the delay, failed, closed).  The CLI
shows the latest one, and fails (exit 1) when no connection ever opened within
``--connect-timeout`` seconds: a wrong ``--url`` or a simulator that is not running then ends
in a one-line error instead of ``0 updates`` forever.
"""

from __future__ import annotations

import threading
from typing import Any

from ..errors import FrameError
from ..events import ConnectionState, ConnectionStatus

__all__ = ["ConnectionView"]


class ConnectionView:
    """Latest connection states of a client, written by socket threads, read by the CLI.

    Example:
        >>> from reactivex.subject import Subject
        >>> class Client:
        ...     state = Subject()
        >>> client = Client()
        >>> view = ConnectionView(client)
        >>> view.line()
        'connecting'
        >>> status = ConnectionStatus("kraken", "ws://h", ConnectionState.RECONNECTING, 0.0, 2, 1.5, "refused")
        >>> client.state.on_next(status)
        >>> view.line()
        'kraken reconnecting in 1.5 s (attempt 2: refused)'
        >>> view.never_connected(elapsed=20.0, timeout=15.0)
        'could not connect to ws://h within 15 s (refused); is the venue or simulator running? check --url'
    """

    def __init__(self, client: Any) -> None:
        self._lock = threading.Lock()
        self._latest: dict[str, ConnectionStatus] = {}
        self.ever_open = False
        self.last_reason = ""
        #: frames the venue's codec could not read (another venue's endpoint answers in its own words)
        self.unreadable: list[Exception] = []
        self._subscription = client.state.subscribe(self._on_status)
        errors = getattr(client, "errors", None)
        self._errors = errors.subscribe(self._on_error) if errors is not None else None

    def _on_error(self, exc: Exception) -> None:
        if isinstance(exc, FrameError):
            with self._lock:
                self.unreadable[:] = [exc]  # the latest one says enough

    def _on_status(self, status: ConnectionStatus) -> None:
        with self._lock:
            if status.state is ConnectionState.IDLE:
                return
            self._latest[status.url] = status
            if status.state is ConnectionState.OPEN:
                self.ever_open = True
            if status.reason and status.state is not ConnectionState.CLOSED:
                self.last_reason = status.reason

    def line(self) -> str:
        """One short phrase per connection: ``kraken open``, ``kraken reconnecting in 2.0 s (...)``."""
        with self._lock:
            statuses = list(self._latest.values())
        if not statuses:
            return "connecting"
        parts = []
        for s in statuses:
            if s.state is ConnectionState.RECONNECTING:
                parts.append(f"{s.venue} reconnecting in {s.delay or 0.0:.1f} s (attempt {s.attempt}: {s.reason})")
            elif s.state is ConnectionState.FAILED:
                parts.append(f"{s.venue} failed ({s.reason})")
            else:
                parts.append(f"{s.venue} {s.state.value}")
        return "; ".join(parts)

    def never_connected(self, elapsed: float, timeout: float) -> str | None:
        """The error to end with when nothing opened within ``timeout`` seconds, else None."""
        with self._lock:
            if self.ever_open or elapsed < timeout:
                return None
            urls = ", ".join(self._latest) or "the venue"
            why = f" ({self.last_reason})" if self.last_reason else ""
        return f"could not connect to {urls} within {timeout:g} s{why}; is the venue or simulator running? check --url"

    def wrong_protocol(self, venue: str, elapsed: float, timeout: float, received: int) -> str | None:
        """The error to end with when, ``timeout`` s after starting, nothing was ``received`` but
        frames the venue's protocol cannot read (``--url`` names another venue's endpoint), else None."""
        with self._lock:
            if received or not self.unreadable or elapsed < timeout:
                return None
            last = str(self.unreadable[-1])[:160]
        return (
            f"connected, but in {timeout:g} s nothing arrived that {venue}'s protocol reads ({last});"
            f" is --url an endpoint of {venue}?"
        )

    def dispose(self) -> None:
        self._subscription.dispose()
        if self._errors is not None:
            self._errors.dispose()
