"""A small REST client for Binance spot order-book snapshots (``GET /api/v3/depth``).

Standard library only (``urllib`` through :func:`rxfeeds.venues.base.urllib_get`, TLS verified),
rate-limited with a token bucket so resyncs of many symbols cannot exceed the venue's request
weight (a ``limit=1000`` depth request weighs 50 of the 6000 allowed per minute: 2 per second
is a safe sustained rate).  The base URL is configurable, so tests point it at the simulator.

Example:
    >>> rest = DepthClient("https://api.binance.com")
    >>> rest.depth_url("btcusdt", 1000)
    'https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000'
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from typing import Final
from urllib.parse import urlencode, urlparse, urlsplit

from ...errors import InvalidArgument, RequestError, RequestTimeout, RxfeedsError
from ...events import BookSnapshot
from ..base import HttpGet, urllib_get
from .codec import VENUE, decode_depth_snapshot

__all__ = ["DepthClient", "TokenBucket", "DEPTH_LIMITS"]

#: ``limit`` values Binance accepts for ``/api/v3/depth`` (it rounds others up to one of these)
DEPTH_LIMITS: Final = (5, 10, 20, 50, 100, 500, 1000, 5000)


class TokenBucket:
    """Thread-safe token bucket: ``rate`` tokens per second, at most ``burst`` stored.

    :meth:`acquire` blocks until a token is free and returns the seconds it waited.

    Example:
        >>> bucket = TokenBucket(rate=1000.0, burst=2)
        >>> bucket.acquire() == 0.0 and bucket.acquire() == 0.0
        True
    """

    def __init__(self, rate: float, burst: int = 1, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise InvalidArgument("rate", rate, "must be a positive number of requests per second")
        if burst < 1:
            raise InvalidArgument("burst", burst, "must be >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping until one is available; returns the time waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1.0
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            time.sleep(wait)
        return wait


class DepthClient:
    """Fetches ``/api/v3/depth`` snapshots as :class:`~rxfeeds.events.BookSnapshot` (``sequence=lastUpdateId``).

    Args:
        base_url: ``https://api.binance.com`` or a simulator's ``http_url``.
        rate: sustained requests per second (token bucket); ``burst`` requests may go at once.
        timeout: seconds per request.
        http_get: ``(url, timeout) -> body``; default urllib (a client passes its recording one).
        venue: venue name put on the snapshots.
    """

    def __init__(
        self,
        base_url: str = "https://api.binance.com",
        *,
        rate: float = 2.0,
        burst: int = 4,
        timeout: float = 10.0,
        http_get: HttpGet | None = None,
        venue: str = VENUE,
    ) -> None:
        parsed = urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise InvalidArgument("rest_url", base_url, "must be an http:// or https:// URL with a host")
        if timeout <= 0:
            raise InvalidArgument("timeout", timeout, "must be a positive number of seconds")
        self.base_url = base_url.rstrip("/")
        self.bucket = TokenBucket(rate, burst)
        self.timeout = timeout
        self.venue = venue
        self._get: HttpGet = http_get or urllib_get

    def depth_url(self, symbol: str, limit: int) -> str:
        """The request URL for ``symbol`` (any case) and ``limit``."""
        return f"{self.base_url}/api/v3/depth?{urlencode({'symbol': symbol.upper(), 'limit': limit})}"

    def depth(self, symbol: str, limit: int = 1000) -> BookSnapshot:
        """Fetch one snapshot (blocking; waits for the rate limiter first).

        Raises:
            InvalidArgument: ``limit`` outside 1..5000.
            RequestError: the venue's error (``-1121 Invalid symbol.``), an HTTP failure or a
                network failure (refused, reset, DNS); :class:`~rxfeeds.errors.RequestTimeout`
                when the venue did not answer within ``timeout``.  The message names the URL
                without any user info.
            FrameError: an unreadable body.

        Example:
            >>> DepthClient("http://127.0.0.1:9").depth("BTCUSDT", 5)  # nothing listens on port 9
            Traceback (most recent call last):
            ...
            rxfeeds.errors.RequestError: binance-spot: GET http://127.0.0.1:9/api/v3/depth?symbol=BTCUSDT... failed: ...
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 5000:
            raise InvalidArgument("limit", limit, "must be an int between 1 and 5000")
        self.bucket.acquire()
        url = self.depth_url(symbol, limit)
        try:
            body = self._get(url, self.timeout)
        except RxfeedsError:
            raise
        except (OSError, http.client.HTTPException, ValueError) as exc:
            # urllib's URLError (an OSError), resets, timeouts, broken HTTP: a typed error that
            # shows the URL but never user info (the chained exception could, so it is dropped)
            reason = getattr(exc, "reason", exc)
            text = f"GET {_shown(url)} failed: {type(reason).__name__}: {reason}"
            if isinstance(reason, TimeoutError) or isinstance(exc, TimeoutError):
                raise RequestTimeout(self.venue, text) from None
            raise RequestError(self.venue, text) from None
        return decode_depth_snapshot(body, symbol, time.time(), depth=limit, venue=self.venue)


def _shown(url: str) -> str:
    """``url`` without user info (``user:password@``), for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        port = ""
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme}://{host}{port}{parts.path}{query}"
