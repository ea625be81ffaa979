"""Pieces shared by the HitBTC v2 and v3 codecs: time parsing, numbers, credentials.

Example:
    >>> iso_time("2021-07-15T03:06:43.095Z")
    1626318403.095
    >>> Credentials("my-key", "my-secret")
    Credentials(algo='HS256', key=<hidden>)
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import itertools
import operator
from collections.abc import Hashable, Sequence
from typing import Any, Final, Literal

import orjson

from ...codec import Ack, BaseCodec, Data, Key, Message, Notice, Rejected, Reply
from ...errors import FrameError, InvalidArgument
from ...events import Level, OrderUpdate, VenueEvent
from ...intervals import Interval, parse_interval
from ...numeric import (
    BATCH_LEVELS,
    MAX_PRICE,
    MAX_SIZE,
    MAX_TEXT,
    MAX_TIME,
    BadValue,
    level_columns,
    opt_size,
)
from .errors import HitBTCAuthError, HitBTCError, HitBTCSubscriptionError, error_from

__all__ = [
    "iso_time",
    "opt_float",
    "book_levels",
    "pair_levels",
    "Credentials",
    "CANDLE_PERIODS",
    "candle_interval",
    "side_of",
]

_fromisoformat = _dt.datetime.fromisoformat
_PRICE = operator.itemgetter("price")
_SIZE = operator.itemgetter("size")

#: HitBTC candle periods (v2 and v3 spell them the same way).
CANDLE_PERIODS: Final = ("M1", "M3", "M5", "M15", "M30", "H1", "H4", "D1", "D7", "1M")
_INTERVALS: dict[str, Interval] = {}


def iso_time(text: str) -> float:
    """Epoch seconds of a HitBTC ISO-8601 UTC time (``2021-07-15T03:06:43.095Z``).

    :meth:`datetime.fromisoformat` is C code and reads the ``Z`` suffix since Python 3.11: it
    measured several times faster than slicing the text in Python (``benchmarks/hitbtc_codec.py``).
    A time without an offset is taken as UTC.
    """
    parsed = _fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.UTC)
    stamp = parsed.timestamp()
    if 0.0 <= stamp < MAX_TIME:
        return stamp
    raise BadValue(f"time out of range: {text!r}")


#: ``float(value)`` checked (finite, ``0 <= x``, bounded text), or ``None`` for a missing/null/empty value.
opt_float = opt_size


def book_levels(raw: Any, skip_zero: bool) -> tuple[Level, ...]:
    """Levels from v2's ``[{"price": text, "size": text}, ...]``.

    Every number is a string of sane length, the price finite and positive, the size finite and
    not negative (checked inline: this runs once per level).  ``skip_zero`` drops zero sizes.

    Example:
        >>> book_levels([{"price": "0.05", "size": "1"}, {"price": "0.04", "size": "0"}], True)
        ((0.05, 1.0, '0.05', '1'),)
    """
    if type(raw) is list and len(raw) >= BATCH_LEVELS:
        try:
            prices = list(map(_PRICE, raw))
            sizes = list(map(_SIZE, raw))
        except (TypeError, KeyError, IndexError):
            pass  # the per-level loop below reports it
        else:
            found = level_columns(prices, sizes, skip_zero)
            if found is not None:
                return found
    out: list[Level] = []
    append = out.append
    for item in raw:
        price = item["price"]
        size = item["size"]
        p = float(price)
        amount = float(size)
        # float() and len() both succeed only for a str among JSON values: no explicit type check
        if not (0.0 < p < MAX_PRICE and 0.0 <= amount < MAX_SIZE) or len(price) > MAX_TEXT or len(size) > MAX_TEXT:
            raise BadValue(f"book level out of range: {price!r:.60}, {size!r:.60}")
        if skip_zero and amount == 0.0:
            continue
        append((p, amount, price, size))
    return tuple(out)


def pair_levels(raw: Any, skip_zero: bool) -> tuple[Level, ...]:
    """Levels from v3's ``[[price_text, size_text], ...]``, checked as :func:`book_levels`.

    Example:
        >>> pair_levels([["0.05", "1"], ["0.04", "0"]], True)
        ((0.05, 1.0, '0.05', '1'),)
    """
    out: list[Level] = []
    append = out.append
    for price, size in raw:
        p = float(price)
        amount = float(size)
        if not (0.0 < p < MAX_PRICE and 0.0 <= amount < MAX_SIZE) or len(price) > MAX_TEXT or len(size) > MAX_TEXT:
            raise BadValue(f"book level out of range: {price!r:.60}, {size!r:.60}")
        if skip_zero and amount == 0.0:
            continue
        append((p, amount, price, size))
    return tuple(out)


def side_of(value: Any) -> Literal["buy", "sell"] | None:
    """The side as the events spell it, or ``None`` for anything else."""
    if value == "buy":
        return "buy"
    if value == "sell":
        return "sell"
    return None


def candle_interval(period: str) -> Interval:
    """The :class:`~rxfeeds.intervals.Interval` of a HitBTC candle period (cached).

    Raises:
        InvalidArgument: when ``period`` is not one of :data:`CANDLE_PERIODS`.
    """
    found = _INTERVALS.get(period)
    if found is None:
        if period not in CANDLE_PERIODS:
            raise InvalidArgument("period", period, f"must be one of {', '.join(CANDLE_PERIODS)}")
        found = _INTERVALS[period] = parse_interval(period, "period")
    return found


class Credentials:
    """An API key pair; neither part ever shows in ``repr``/``str``.

    ``algo`` selects the login: ``"HS256"`` (default; the secret never leaves the process, only
    an HMAC-SHA256 signature of a nonce or timestamp) or ``"BASIC"`` (the secret is sent to the
    venue in the login frame, over TLS).

    Example:
        >>> c = Credentials("my-key", "my-secret", algo="BASIC")
        >>> c.algo, "my-" in repr(c)
        ('BASIC', False)
    """

    __slots__ = ("_key", "_secret", "algo")

    def __init__(self, key: str, secret: str, algo: str = "HS256") -> None:
        if not isinstance(key, str) or not key:
            raise InvalidArgument("key", "<hidden>", "the API key must be a non-empty string")
        if not isinstance(secret, str) or not secret:
            raise InvalidArgument("secret", "<hidden>", "the API secret must be a non-empty string")
        if algo not in ("HS256", "BASIC"):
            raise InvalidArgument("algo", algo, "must be 'HS256' or 'BASIC'")
        self._key = key
        self._secret = secret
        self.algo = algo

    def __repr__(self) -> str:
        return f"Credentials(algo={self.algo!r}, key=<hidden>)"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("Credentials are not picklable")

    @property
    def key(self) -> str:
        """The API (public) key."""
        return self._key

    def secret(self) -> str:
        """The API secret (a method, so attribute dumps do not show it)."""
        return self._secret

    def sign(self, message: str) -> str:
        """``hex(HMAC-SHA256(secret, message))``."""
        return hmac.new(self._secret.encode(), message.encode(), hashlib.sha256).hexdigest()


class JsonRpcCodec(BaseCodec):
    """What the v2 and v3 codecs share: request ids, the id -> subscription bookkeeping that
    turns a refused subscribe into ``Rejected`` for that key only, login on every connection,
    and the typed error mapping.

    Subclasses set ``self._credentials`` and implement ``login_frame()``.
    """

    venue = "hitbtc"

    def __init__(self, credentials: Credentials | None, venue: str) -> None:
        self.venue = venue
        self._credentials = credentials
        self._ids = itertools.count(1)
        self._subscribes: dict[Hashable, Key] = {}
        self._unsubscribes: set[Hashable] = set()
        self._logins: set[Hashable] = set()
        self._auth_error: Any = None

    def __repr__(self) -> str:
        auth = self._credentials.algo if self._credentials else "none"
        return f"{type(self).__name__}(venue={self.venue!r}, login={auth})"

    def next_id(self) -> int:
        """A fresh request id (unique for the codec's lifetime, across reconnections)."""
        return next(self._ids)

    def request(self, method: str, params: dict[str, Any] | None = None) -> tuple[int, str]:
        """``(id, frame)`` for a JSON-RPC request; its answer decodes to ``Reply(id, ...)``."""
        rid = self.next_id()
        return rid, orjson.dumps({"method": method, "params": params or {}, "id": rid}).decode()

    def login_frame(self) -> str | None:
        raise NotImplementedError

    def on_open_frames(self) -> Sequence[str]:
        frame = self.login_frame()
        return [frame] if frame is not None else []

    def reset(self) -> None:
        self._subscribes.clear()
        self._unsubscribes.clear()
        self._logins.clear()
        self._auth_error = None

    def _typed(self, error: Any) -> HitBTCError | HitBTCAuthError:
        err = error_from(error, self.venue)
        if err.code == 1001 and self._auth_error is not None:
            # the real cause: this connection's login was refused
            return error_from(self._auth_error, self.venue)
        return err

    def _balance(self, p: Any, recv_time: float) -> list[Message]:
        event = VenueEvent(self.venue, "", recv_time, recv_time, kind="balance", data=p)
        return [Data(("balance", ""), (event,))]

    def _subscribed(self, key: Key, msg: dict[str, Any]) -> list[Message]:
        """A successful subscribe reply (v3 overrides it to check the listed symbols)."""
        return [Ack(key)]

    def _reply(self, msg: dict[str, Any], frame: str | bytes) -> list[Message]:
        rid = msg["id"]
        if not isinstance(rid, (int, str)) and rid is not None:
            raise FrameError("bad JSON-RPC id", frame, self.venue)
        error = msg.get("error")
        if rid is None:
            return [Notice(error_from(error, self.venue))] if error is not None else []
        key = self._subscribes.pop(rid, None)
        if key is not None:
            if error is not None:
                return [Rejected(key, HitBTCSubscriptionError(key, self._typed(error)))]
            return self._subscribed(key, msg)
        if rid in self._unsubscribes:
            self._unsubscribes.discard(rid)
            return []
        if rid in self._logins:
            self._logins.discard(rid)
            if error is not None:
                self._auth_error = error
                return [Notice(error_from(error, self.venue))]
            return []
        return [Reply(rid, msg.get("result"), self._typed(error) if error is not None else None)]


def report_to_order(
    report: Any, recv_time: float, venue: str, *, updated: str, created: str, client_id: str, filled: str
) -> OrderUpdate:
    """An :class:`~rxfeeds.events.OrderUpdate` from an order report whose field names differ
    between API versions (v2 ``updatedAt``/``cumQuantity``, v3 ``updated_at``/``quantity_cumulative``)."""
    stamp = report.get(updated) or report.get(created)
    return OrderUpdate(
        venue,
        str(report.get("symbol") or ""),
        iso_time(stamp) if stamp else recv_time,
        recv_time,
        order_id=str(report["id"]),
        status=str(report["status"]),
        client_order_id=report.get(client_id),
        side=side_of(report.get("side")),
        price=opt_float(report.get("price")),
        size=opt_float(report.get("quantity")),
        filled=opt_float(report.get(filled)),
        raw=report,
    )
