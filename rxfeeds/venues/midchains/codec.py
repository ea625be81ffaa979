"""Sans-I/O codec for the Midchains websocket API (protocols.md §2).

Provenance: **every frame shape here comes from Midchains' documentation only** (the MidChains
slate docs); no capture and no open-source client exist.  Documented: the subscribe message,
the book and trade message fields, ``act:"R"`` removals, ``maker_side``, challenge / login /
logout, ``addorder`` / ``cancelorder`` / ``queryorder`` and their ``result`` texts.  Inferred
(marked [INF] below, not documented):

* the book is order-level: entries are keyed by ``id`` and any ``act`` other than ``"R"``
  inserts or replaces the order;
* the first ``book`` message after a subscribe is the full image (``BookOrder.snapshot``);
* a refused subscription is answered with a message carrying ``security`` and a ``result``
  other than ``"OK"`` (type ``"subscribe"``, ``"book"`` or ``"trade"``);
* there is no unsubscribe message, so unsubscribing only stops routing.

Request correlation: Midchains has **no request ids**.  Replies are matched to requests by
reply ``type`` plus ``security`` (and ``refno`` for cancel/query), first in first out.  The
codec hands out its own ids to the socket subject and keeps the FIFO queues.  A request is
registered when its frame is built (just before it is written) and leaves the queue with its
reply or through :meth:`MidchainsCodec.forget`; the client forgets requests whose connection
dropped before the reply, so a stale entry cannot absorb a later request's reply.  ``reset``
keeps the queues: the socket subject calls it right after the connection opened, possibly
after a request was already written on the new connection.

Example:
    >>> c = MidchainsCodec()
    >>> c.subscribe_frames(("trade", "BTCUSD"))[0]
    '{"type":"subscribe","request":[{"msg":"trade","security":"BTCUSD","dest":"CROX"}]}'
    >>> [e.price for m in c.decode(b'{"security":"BTCUSD","src":"CROX","price":"150","qty":"1",'
    ...   b'"time":"1614334523954","type":"trade","matchid":"5Z3YF5Z0N8PK","maker_side":"B"}', 1.0)
    ...  for e in m.events]
    [150.0]
"""

from __future__ import annotations

import base64
import itertools
import re
import threading
from collections import deque
from typing import Any

import orjson

from ...codec import Ack, BaseCodec, Data, Key, Message, Notice, Rejected, Reply
from ...errors import AuthError, FrameError, InvalidArgument, RequestError, SubscriptionError, UnknownMessage
from ...events import BookOrder, Event, Side, Trade
from ...numeric import DECODE_ERRORS, MAX_TIME, BadValue, price, size
from ...numeric import symbol as check_symbol

__all__ = [
    "VENUE",
    "DEST",
    "MidchainsCodec",
    "MidchainsError",
    "encrypt_password",
    "require_cryptography",
    "check_security",
]

VENUE = "midchains"
DEST = "CROX"
_SIDES: dict[str, Side] = {"B": "buy", "S": "sell"}
_TAKER: dict[str, Side] = {"B": "sell", "S": "buy"}  # maker bought -> the taker sold
_SECURITY = re.compile(r"[A-Z0-9][A-Z0-9._-]{1,19}")  # used with fullmatch: no trailing newline
# Reply types that differ from their request's type (the docs spell them differently).
_REPLY_TYPE = {"querymultiorder": "querymultiorders"}


class MidchainsError(RequestError):
    """A request answered with a ``result`` other than ``"OK"``; ``message`` is that text.

    ``reply`` keeps the whole reply.

    Example:
        >>> str(MidchainsError("midchains", "order not found"))
        'midchains: order not found'
    """

    def __init__(self, venue: str, message: str, code: int | str | None = None, reply: Any = None) -> None:
        super().__init__(venue, message, code)
        self.reply = reply


def check_security(security: str, allow_all: bool = False) -> str:
    """Validate a security name (``"BTCUSD"``; ``"*"`` where ``allow_all``); returns it.

    Example:
        >>> check_security("LTCUSD")
        'LTCUSD'
    """
    if not isinstance(security, str) or not (_SECURITY.fullmatch(security) or (allow_all and security == "*")):
        why = "use the venue's name such as 'BTCUSD'" + (" or '*'" if allow_all else "")
        raise InvalidArgument("security", security, why)
    return security


def require_cryptography() -> None:
    """Raise a ``ModuleNotFoundError`` naming the ``midchains`` extra when ``cryptography`` is missing.

    ``cryptography`` (16 MB) is an optional extra: only the Midchains login needs it.

    Example:
        >>> require_cryptography()  # installed here: nothing happens
    """
    try:
        import cryptography.hazmat.primitives.asymmetric.padding  # noqa: F401
    except ImportError:
        raise ModuleNotFoundError(
            "the Midchains login encrypts the password with the 'cryptography' package, which is not"
            " installed; install the extra: python3 -m pip install 'rxfeeds[midchains]'",
            name="cryptography",
        ) from None


def encrypt_password(public_key_b64: str, password: str) -> str:
    """RSA PKCS#1 v1.5-encrypt ``password`` with the challenge's base64 DER public key; base64 out.

    Example:
        >>> from cryptography.hazmat.primitives.asymmetric import rsa
        >>> from cryptography.hazmat.primitives import serialization
        >>> k = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        >>> der = k.public_key().public_bytes(serialization.Encoding.DER,
        ...                                   serialization.PublicFormat.SubjectPublicKeyInfo)
        >>> len(base64.b64decode(encrypt_password(base64.b64encode(der).decode(), "pw")))
        128
    """
    require_cryptography()
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    try:
        key = load_der_public_key(base64.b64decode(public_key_b64))
    except (ValueError, TypeError) as exc:
        raise AuthError(VENUE, f"the challenge key is not a DER public key ({type(exc).__name__})") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise AuthError(VENUE, "the challenge key is not an RSA key")
    return base64.b64encode(key.encrypt(password.encode(), padding.PKCS1v15())).decode()


def _ms(value: Any, default: float) -> float:
    try:
        ms = int(value)
    except (TypeError, ValueError):
        return default
    if 0 <= ms < _MAX_MS:  # compared as int: a huge one never overflows the division
        return ms / 1000.0
    raise BadValue(f"time out of range: {value!r}"[:100])


_MAX_MS = int(MAX_TIME) * 1000


class MidchainsCodec(BaseCodec):
    """The Midchains protocol (see the module docstring for what is documented vs inferred).

    Keys: ``("book", SECURITY)`` -> :class:`~rxfeeds.events.BookOrder`; ``("trade", SECURITY)`` ->
    :class:`~rxfeeds.events.Trade`.  ``SECURITY`` may be ``"*"`` for the book (all pairs).

    Example:
        >>> c = MidchainsCodec()
        >>> _ = c.subscribe_frames(("book", "LTCUSD"))
        >>> [(e.order_id, e.side, e.snapshot) for m in c.decode(b'{"security":"LTCUSD","books":[{"side":"B",'
        ...   b'"act":"U","src":"CROX","price":"184.3","qty":"2.85","id":120946647655360,'
        ...   b'"time":"1614331055706","mpid":"ANON","key":"NA"}],"type":"book"}', 1.0) for e in m.events]
        [('120946647655360', 'buy', True)]
    """

    venue = VENUE

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._keys: set[Key] = set()
        self._image_due: set[Key] = set()  # book keys whose next message is the image
        self._star_seen: dict[Key, set[str]] = {}  # for "*": securities whose image arrived
        self._pending: dict[tuple[str, ...], deque[int]] = {}

    # ------------------------------------------------------------------ subscriptions

    def subscribe_frames(self, key: Key) -> list[str]:
        channel, security = key
        if channel not in ("book", "trade"):
            raise InvalidArgument("key", key, "Midchains channels are 'book' and 'trade'")
        with self._lock:
            self._keys.add(key)
            if channel == "book":
                self._image_due.add(key)
                self._star_seen[key] = set()
        request = [{"msg": channel, "security": security, "dest": DEST}]
        return [orjson.dumps({"type": "subscribe", "request": request}).decode()]

    def unsubscribe_frames(self, key: Key) -> list[str]:
        # [INF] No unsubscribe message is documented: stop routing instead.
        with self._lock:
            self._keys.discard(key)
            self._image_due.discard(key)
            self._star_seen.pop(key, None)
        return []

    def reset(self) -> None:
        """Nothing per connection to forget: pending requests are dropped by :meth:`forget`."""

    # ------------------------------------------------------------------ requests

    @staticmethod
    def redact(frame: str) -> str:
        """``frame`` with a login's encrypted password masked (for recorders and logs).

        Example:
            >>> MidchainsCodec.redact('{"type":"login","userid":"u","pass":"c2VjcmV0"}')
            '{"type":"login","userid":"u","pass":"***"}'
        """
        if '"pass"' not in frame:
            return frame
        try:
            msg = orjson.loads(frame)
        except orjson.JSONDecodeError:
            return frame
        if isinstance(msg, dict) and "pass" in msg:
            msg["pass"] = "***"
            return orjson.dumps(msg).decode()
        return frame

    def next_id(self) -> int:
        """A fresh local request id (Midchains itself has none)."""
        return next(self._ids)

    def request_frame(self, message: dict[str, Any], request_id: int | None = None) -> tuple[int, str]:
        """Register a request and return ``(request_id, frame)``; send the frame right away.

        Example:
            >>> MidchainsCodec().request_frame({"type": "challenge"})
            (1, '{"type":"challenge"}')
        """
        rid = request_id if request_id is not None else self.next_id()
        with self._lock:
            self._pending.setdefault(_correlation(message, request=True), deque()).append(rid)
        return rid, orjson.dumps(message).decode()

    def forget(self, request_id: int) -> None:
        """Drop a request that will not be sent after all (or timed out)."""
        with self._lock:
            for queue in self._pending.values():
                if request_id in queue:
                    queue.remove(request_id)
                    return

    def _take(self, message: dict[str, Any]) -> int | None:
        with self._lock:
            for corr in (_correlation(message, request=False), (str(message.get("type")),)):
                queue = self._pending.get(corr)
                if queue:
                    return queue.popleft()
        return None

    # ------------------------------------------------------------------ decode

    def decode(self, frame: str | bytes, recv_time: float) -> list[Message]:
        try:
            msg = orjson.loads(frame)
        except DECODE_ERRORS:
            raise FrameError("invalid JSON", frame, VENUE) from None
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            raise UnknownMessage("expected a JSON object with a 'type'", frame, VENUE)
        try:
            kind = msg["type"]
            result = msg.get("result")
            if kind in ("book", "trade", "subscribe") and "security" in msg and result is not None:
                return self._subscription_answer(kind, msg)
            if kind == "book":
                return self._book(msg, recv_time)
            if kind == "trade":
                return self._trade(msg, recv_time)
            if result is not None:
                rid = self._take(msg)
                if rid is not None:
                    return [self._reply(rid, kind, msg)]
            # Undocumented pushes (open orders, positions after login) and unknown types.
            return [Notice(msg)]
        except FrameError:
            raise
        except DECODE_ERRORS as exc:
            raise FrameError(f"unexpected shape ({type(exc).__name__}: {exc})", frame, VENUE) from None

    def _reply(self, rid: int, kind: str, msg: dict[str, Any]) -> Reply:
        result = msg.get("result")
        if result == "OK":
            return Reply(rid, result=msg)
        text = str(result)[:300]
        if kind == "login":
            return Reply(rid, error=AuthError(VENUE, f"login refused: {text}"))
        return Reply(rid, error=MidchainsError(VENUE, f"{kind} refused: {text}", reply=msg))

    def _subscription_answer(self, kind: str, msg: dict[str, Any]) -> list[Message]:
        # [INF] Not documented: how the venue acks or refuses a subscription.
        channel = msg.get("msg", kind)
        key = (str(channel), check_symbol(msg["security"]))
        if channel not in ("book", "trade"):
            return [Notice(msg)]
        if msg["result"] == "OK":
            return [Ack(key)]
        with self._lock:
            self._keys.discard(key)
        return [Rejected(key, SubscriptionError(VENUE, key, str(msg["result"])[:300]))]

    def _book(self, msg: dict[str, Any], recv_time: float) -> list[Message]:
        security = check_symbol(msg["security"])
        out: list[Message] = []
        for key in (("book", security), ("book", "*")):
            if key not in self._keys:
                continue
            with self._lock:
                # [INF] The first book message after a subscribe is the image.
                if key[1] == "*":
                    seen = self._star_seen.setdefault(key, set())
                    image = security not in seen
                    seen.add(security)
                else:
                    image = key in self._image_due
                    self._image_due.discard(key)
            out.append(Data(key, self._orders(security, msg["books"], recv_time, image)))
        return out

    def _orders(self, security: str, books: list[dict[str, Any]], recv_time: float, snapshot: bool) -> list[Event]:
        events: list[Event] = []
        # the "side" summary messages (added 2021-09) are not order entries
        entries = [(entry, side) for entry in books if (side := _SIDES.get(entry.get("side", ""))) is not None]
        last = len(entries) - 1
        for i, (entry, side) in enumerate(entries):
            removed = entry.get("act") == "R"
            price_text = entry.get("price")
            qty_text = entry.get("qty")
            # a removal names its order; its price and size may be left out (0.0: ignored by books)
            order_price = 0.0 if removed and not price_text else price(price_text)
            order_size = 0.0 if removed and not qty_text else size(qty_text)
            events.append(
                BookOrder(
                    VENUE,
                    security,
                    _ms(entry.get("time"), recv_time),
                    recv_time,
                    order_id=str(entry["id"]),
                    side=side,
                    price=order_price,
                    size=order_size,
                    removed=removed,
                    snapshot=snapshot,
                    frame_end=i == last,  # order_book publishes whole messages only
                )
            )
        if snapshot and not events:  # an empty image still (re)starts the book
            events.append(_empty_image(security, recv_time))
        return events

    def _trade(self, msg: dict[str, Any], recv_time: float) -> list[Message]:
        key = ("trade", check_symbol(msg["security"]))
        if key not in self._keys:
            return []
        trade = Trade(
            VENUE,
            key[1],
            _ms(msg.get("time"), recv_time),
            recv_time,
            price=price(msg["price"]),
            size=size(msg["qty"]),
            side=_TAKER.get(msg.get("maker_side", "")),
            trade_id=msg.get("matchid"),
        )
        return [Data(key, [trade])]


def _empty_image(security: str, recv_time: float) -> BookOrder:
    """The image of an empty book: one removed order with no id (see ``BookOrder``)."""
    return BookOrder(
        VENUE, security, recv_time, recv_time, order_id="", side="buy", price=0.0, size=0.0, removed=True, snapshot=True
    )


def _correlation(message: dict[str, Any], request: bool) -> tuple[str, ...]:
    kind = str(message.get("type"))
    if request:
        kind = _REPLY_TYPE.get(kind, kind)
    if kind in ("challenge", "login", "logout"):
        return (kind,)
    if kind in ("cancelorder", "queryorder"):
        return (kind, str(message.get("security")), str(message.get("refno")))
    return (kind, str(message.get("security")))
