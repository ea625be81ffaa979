"""Fault injection for simulators, switchable at run time from any thread.

Every :class:`~rxfeeds.sim.server.SimServer` has one :class:`Faults` at ``server.faults``; it
reaches the server only through the declared :class:`FaultTarget` interface.

Network faults act at once on every open connection and return when done (safe to call
from a test thread):

* :meth:`Faults.close_all` — websocket close handshake with a code and reason;
* :meth:`Faults.reset_all` — TCP reset (``SO_LINGER`` 0, then close: the client sees an error,
  not a close frame);
* :meth:`Faults.stall` / :meth:`Faults.resume` — the server stops writing *and reading* on
  every connection (so pings go unanswered too) but keeps the sockets open; frames produced
  meanwhile are held and delivered in order on resume, like a frozen network path;
* :meth:`Faults.send_malformed` — one frame with the given payload to every connection.

Protocol faults are flags the venue simulator consults when it emits (one-shot, consumed by
the ``take_*`` calls; a venue that has no such field simply never takes them):

* :meth:`Faults.skip_sequence` → venue calls ``faults.take_skip_sequence(symbol)`` when
  numbering an update and, when true, skips one number;
* :meth:`Faults.corrupt_checksum` → ``faults.take_corrupt_checksum(symbol)`` when computing a
  checksum and, when true, sends a wrong one (e.g. ``crc ^ 1``);
* :meth:`Faults.reject_subscriptions` → ``faults.should_reject(symbol)`` when a subscribe
  arrives and, when true, sends the venue's error reply.  Persistent until
  :meth:`Faults.accept_subscriptions` or :meth:`Faults.clear`; ``"*"`` rejects every symbol.

``faults.counts`` counts what was actually injected (``"close"``, ``"reset"``, ``"stall"``,
``"malformed"``, ``"skip_sequence"``, ``"corrupt_checksum"``, ``"reject_subscription"``), so
tests can assert the fault happened.

Example (inside a venue simulator):
    >>> f = Faults(None)
    >>> f.skip_sequence("ETHBTC")
    >>> f.take_skip_sequence("ETHBTC"), f.take_skip_sequence("ETHBTC"), f.counts["skip_sequence"]
    (True, False, 1)
    >>> f.reject_subscriptions(["XBT/USD"]); f.should_reject("XBT/USD"), f.should_reject("ETH/USD")
    (True, False)
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from typing import Protocol

__all__ = ["FaultTarget", "Faults"]


class FaultTarget(Protocol):
    """What a server offers for network faults (``SimServer`` implements it); every call from any thread.

    Each acts at once on every open connection and returns when done.
    """

    @property
    def stalled(self) -> bool:
        """True while a stall is in effect."""
        ...

    def close_connections(self, code: int, reason: str) -> int:
        """Close handshake with ``code``/``reason`` on every open connection; returns how many."""
        ...

    def reset_connections(self) -> int:
        """TCP reset of every connection; returns how many."""
        ...

    def stall_connections(self, seconds: float | None) -> None:
        """Stop reading and writing (hold frames) on every connection; resume after ``seconds`` if given."""
        ...

    def resume_connections(self) -> None:
        """End a stall: held frames are written in order."""
        ...

    def send_frame_to_all(self, payload: str | bytes, binary: bool) -> int:
        """One frame with ``payload`` as it is to every open connection; returns how many."""
        ...


def _symbols(symbols: str | Iterable[str]) -> list[str]:
    return [symbols] if isinstance(symbols, str) else list(symbols)


class Faults:
    """Run-time fault switches of one simulator (see the module docstring)."""

    def __init__(self, server: FaultTarget | None) -> None:
        self._server = server
        self._lock = threading.Lock()
        #: what was injected, by kind
        self.counts: Counter[str] = Counter()
        self._skip: Counter[str] = Counter()
        self._corrupt: Counter[str] = Counter()
        self._reject: set[str] = set()

    def _count(self, kind: str, n: int = 1) -> None:
        with self._lock:
            self.counts[kind] += n

    def _need_server(self) -> FaultTarget:
        if self._server is None:
            raise RuntimeError("these faults are not attached to a server")
        return self._server

    # -- network faults --------------------------------------------------------------------

    def close_all(self, code: int = 1000, reason: str = "") -> int:
        """Close every connection with a close frame; returns how many were closed."""
        server = self._need_server()
        n = server.close_connections(code, reason)
        self._count("close", n)
        return n

    def reset_all(self) -> int:
        """TCP-reset every connection; returns how many were reset."""
        server = self._need_server()
        n = server.reset_connections()
        self._count("reset", n)
        return n

    def stall(self, seconds: float | None = None) -> None:
        """Stop reading and writing on every connection (new ones too); resume after ``seconds`` if given."""
        server = self._need_server()
        server.stall_connections(seconds)
        self._count("stall")

    def resume(self) -> None:
        """End a stall: held frames are written in order."""
        server = self._need_server()
        server.resume_connections()

    @property
    def stalled(self) -> bool:
        """True while a stall is in effect."""
        return self._server is not None and self._server.stalled

    def send_malformed(self, payload: str | bytes, *, binary: bool = False) -> int:
        """Send ``payload`` as one frame (text unless ``binary``) to every connection; returns how many.

        Bytes that are not UTF-8 in a text frame make a conforming client fail the connection
        (close 1007): that is a fault worth testing too.
        """
        server = self._need_server()
        n = server.send_frame_to_all(payload, binary)
        self._count("malformed", n)
        return n

    # -- protocol faults (flags the venue consults) ----------------------------------------

    def skip_sequence(self, symbol: str, times: int = 1) -> None:
        """Make the next ``times`` sequence numbers of ``symbol`` skip one."""
        with self._lock:
            self._skip[symbol] += times

    def take_skip_sequence(self, symbol: str) -> bool:
        """Venue side: consume one pending skip for ``symbol``; True = skip a number now."""
        with self._lock:
            if self._skip[symbol] > 0:
                self._skip[symbol] -= 1
                self.counts["skip_sequence"] += 1
                return True
            return False

    def corrupt_checksum(self, symbol: str, times: int = 1) -> None:
        """Make the next ``times`` checksums of ``symbol`` wrong."""
        with self._lock:
            self._corrupt[symbol] += times

    def take_corrupt_checksum(self, symbol: str) -> bool:
        """Venue side: consume one pending corruption for ``symbol``; True = send a wrong checksum now."""
        with self._lock:
            if self._corrupt[symbol] > 0:
                self._corrupt[symbol] -= 1
                self.counts["corrupt_checksum"] += 1
                return True
            return False

    def reject_subscriptions(self, symbols: str | Iterable[str]) -> None:
        """Reject subscriptions to these symbols (``"*"`` = all) until accepted again."""
        with self._lock:
            self._reject.update(_symbols(symbols))

    def accept_subscriptions(self, symbols: str | Iterable[str] | None = None) -> None:
        """Stop rejecting these symbols (all when ``None``)."""
        with self._lock:
            if symbols is None:
                self._reject.clear()
            else:
                self._reject.difference_update(_symbols(symbols))

    def should_reject(self, symbol: str) -> bool:
        """Venue side: True = answer this subscription with the venue's error (counted)."""
        with self._lock:
            if symbol in self._reject or "*" in self._reject:
                self.counts["reject_subscription"] += 1
                return True
            return False

    def clear(self) -> None:
        """Drop every pending protocol fault and resume a stall (counts are kept)."""
        with self._lock:
            self._skip.clear()
            self._corrupt.clear()
            self._reject.clear()
        if self._server is not None and self._server.stalled:
            self.resume()
