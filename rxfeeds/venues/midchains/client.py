"""``Midchains``: the Midchains websocket API as Observables.

Provenance: every message format comes from Midchains' documentation only (protocols.md §2;
no capture or open-source client exists); the codec marks what is inferred ([INF]).

==============================  ====================================================================
``book(security)``               order-level book: :class:`~rxfeeds.events.BookOrder` per order
                                 (the first message's orders have ``snapshot=True``; ``act:"R"``
                                 gives ``removed=True``); ``ops.order_book`` aggregates to levels
``trades(security)``             :class:`~rxfeeds.events.Trade` (taker side from ``maker_side``)
``challenge()``                  the server's RSA public key (base64 DER)
``login(userid, password)``      challenge, RSA PKCS#1 v1.5-encrypt the password, log in
``logout()``                     log out (the server then closes the socket)
``add_order`` / ``cancel_order`` / ``query_order``   order entry and queries
==============================  ====================================================================

Requests are single-value Observables: the venue's reply (a dict) when ``result`` is ``"OK"``,
else :class:`~rxfeeds.venues.midchains.codec.MidchainsError` (or
:class:`~rxfeeds.errors.AuthError` for ``login``) carrying the ``result`` text.  Midchains has
**no request ids**: replies are matched by type, security and refno, in order (see the codec).
A login lasts as long as its connection: after a reconnect, log in again.

Example::

    import rxfeeds
    from rxfeeds import ops

    mc = rxfeeds.Midchains()
    mc.book("BTCUSD").pipe(ops.order_book(depth=10)).subscribe(print)
    mc.login("me", password).run()
    print(mc.add_order("BTCUSD", "B", qty="0.1", price="50000").run()["refno"])
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, ClassVar, cast

import reactivex
from reactivex import Observable
from reactivex import operators as ops

from ...aio import awaitable
from ...errors import InvalidArgument, RequestTimeout
from ...events import BookOrder, ConnectionState, ConnectionStatus, Event, Trade
from ...feed import Feed
from ...transport import Transport
from ...transport.redact import redact_url
from ..base import VenueClient, check_url, feed
from ..orders import order_text
from ..symbols import common_symbols, one_or_many
from .codec import MidchainsCodec, check_security, encrypt_password, require_cryptography

__all__ = ["Midchains", "DEFAULT_URL"]

DEFAULT_URL = "wss://ws.midchains.com:8081"
_ORDER_TYPES = ("LMT", "MKT")
_TIFS = ("GTC", "IOC", "FOK", "GTT")


class Midchains(VenueClient):
    """The Midchains API on one connection (see the module docstring).

    Args:
        url: websocket URL (production by default; the sandbox was ``wss://ws-sandbox.midchains.com:8081``).
        transport_factory, backoff, **socket_options: see :class:`~rxfeeds.venues.base.VenueClient`.
    """

    venue: ClassVar[str] = "midchains"

    def __init__(
        self, url: str = DEFAULT_URL, *, transport_factory: Any = None, backoff: Any = None, **socket_options: Any
    ) -> None:
        if not isinstance(url, str) or not url.startswith(("ws://", "wss://")):
            raise InvalidArgument("url", url, "must be a ws:// or wss:// URL")
        check_url("url", url)
        super().__init__(transport_factory=transport_factory, backoff=backoff, **socket_options)
        self.url = url
        self._session: Any = None  # the connection hold of a logged-in session
        self._session_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Midchains(url={redact_url(self.url)!r}, connections={sorted(self.connections)})"

    def _ws(self) -> Transport:
        return self._transport("ws", self.url, MidchainsCodec)

    # ------------------------------------------------------------------ market data

    @common_symbols
    @one_or_many
    def book(self, security: str | Sequence[str], depth: int | None = None) -> Feed[BookOrder | Event]:
        """The order-level book of ``security`` (``"*"``: every security).

        ``depth`` is only checked (the venue sends every order); trim with
        ``ops.order_book(depth=...)``.

        The returned Feed's ``resync`` resubscribes (the venue answers with a fresh image).  An
        unknown security ends this Observable with :class:`~rxfeeds.errors.SubscriptionError`.

        Example::

            mc.book("LTCUSD").pipe(ops.order_book(depth=5)).subscribe(print)
        """
        if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth <= 0):
            raise InvalidArgument("depth", depth, "must be a positive int or None")
        key = ("book", check_security(cast(str, security), allow_all=True))  # one_or_many split lists
        ws = self._ws()

        def resync(_symbol: str) -> None:
            ws.resubscribe(key)

        return feed(ws.multiplex(key), resync)

    @common_symbols
    @one_or_many
    def trades(self, security: str | Sequence[str]) -> Observable[Trade | Event]:
        """Public trades of ``security`` (a single pair, as the venue requires).

        Example::

            mc.trades("BTCUSD").subscribe(lambda t: print(t.price, t.size, t.side))
        """
        return self._ws().multiplex(("trade", check_security(cast(str, security))))  # lists split above

    # ------------------------------------------------------------------ requests

    def _request(self, message: dict[str, Any], timeout: float) -> Observable[Any]:
        """Send ``message`` once the connection is open; emit the OK reply or the typed error.

        The request is registered with the codec only when its frame is written, so a reply
        can never be matched to a request that did not reach this connection.
        """
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise InvalidArgument("timeout", timeout, "must be a positive number of seconds")

        def factory(_scheduler: Any = None) -> Observable[Any]:
            ws = self._ws()
            codec = cast(MidchainsCodec, ws.codec)
            rid = codec.next_id()
            hold = ws.hold()

            def frame() -> str:
                return codec.request_frame(message, rid)[1]

            def is_open(status: ConnectionStatus) -> bool:
                return status.state is ConnectionState.OPEN

            def is_not_open(status: Any) -> bool:
                return not is_open(status)

            def dropped(status: ConnectionStatus) -> Observable[Any]:
                reason = status.reason or status.state.value
                return reactivex.throw(ConnectionError(f"midchains: connection lost before the reply ({reason})"))

            def send(_: Any) -> Observable[Any]:
                # The connection dropping before the reply fails the request at once (the
                # venue has no ids, so its answer could never be matched on a new connection).
                lost: Observable[Any] = ws.state.pipe(
                    ops.skip(1), ops.filter(is_not_open), ops.take(1), ops.flat_map(dropped)
                )
                return reactivex.merge(ws.request(frame, rid, timeout), lost).pipe(ops.take(1))

            def failed(exc: Exception, _source: Any) -> Observable[Any]:
                codec.forget(rid)
                if str(exc) == "Timeout":  # reactivex's timeout operator: never connected
                    kind = message.get("type")
                    return reactivex.throw(RequestTimeout(self.venue, f"no {kind} reply within {timeout} s"))
                return reactivex.throw(exc)

            return ws.state.pipe(
                ops.filter(is_open),
                ops.take(1),
                ops.flat_map(send),
                ops.timeout(timeout * 2),
                ops.catch(failed),
                ops.finally_action(hold.dispose),
            )

        return awaitable(reactivex.defer(factory))

    def challenge(self, timeout: float = 10.0) -> Observable[str]:
        """Single-value Observable of the server's RSA public key (base64 DER).

        Example::

            key = mc.challenge().run()
        """

        def key_of(reply: dict[str, Any]) -> str:
            return str(reply["key"])

        return self._request({"type": "challenge"}, timeout).pipe(ops.map(key_of))

    def login(self, userid: str, password: str, timeout: float = 10.0) -> Observable[bool]:
        """Challenge, encrypt the password with the key it returns, log in; emits ``True``.

        A refusal is :class:`~rxfeeds.errors.AuthError` with the venue's text; the password is
        never shown.

        Example::

            mc.login("me", password).run()
        """
        if not isinstance(userid, str) or not userid:
            raise InvalidArgument("userid", userid, "a non-empty user id")
        if not isinstance(password, str):
            raise InvalidArgument("password", "***", "must be a string")
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not timeout > 0:
            raise InvalidArgument("timeout", timeout, "must be a positive number of seconds")
        # The (encrypted) password must not cross the network over plain ws:// to a remote host.
        self._require_secure("url", self.url)
        require_cryptography()  # before anything is sent: the optional extra may be missing

        def send_login(key: str) -> Observable[Any]:
            secret = encrypt_password(key, password)
            return self._request({"type": "login", "userid": userid, "pass": secret}, timeout)

        def logged_in(_: Any) -> bool:
            # The session lives as long as the connection: keep it open until logout/close.
            with self._session_lock:
                if self._session is None:
                    self._session = self._ws().hold()
            return True

        return self.challenge(timeout).pipe(ops.flat_map(send_login), ops.map(logged_in))

    def logout(self, timeout: float = 10.0) -> Observable[bool]:
        """Log out (the venue closes the connection afterwards; the client reconnects if needed).

        Example::

            mc.logout().run()
        """

        def logged_out(_: Any) -> bool:
            self._release_session()
            return True

        return self._request({"type": "logout"}, timeout).pipe(ops.map(logged_out))

    def _release_session(self) -> None:
        with self._session_lock:
            session, self._session = self._session, None
        if session is not None:
            session.dispose()

    def close(self) -> None:
        """Release the login session, complete every subscriber and close the connection."""
        self._release_session()
        super().close()

    def add_order(
        self,
        security: str,
        side: str,
        *,
        qty: str | float | None = None,
        price: str | float | None = None,
        amount: str | float | None = None,
        ordertype: str = "LMT",
        tif: str = "GTC",
        stopprice: str | float | None = None,
        exptime: int | None = None,
        timeout: float = 10.0,
    ) -> Observable[dict[str, Any]]:
        """Enter an order; emits the venue's reply (with ``refno``) or the reject text as an error.

        ``side`` is ``"B"``/``"S"`` (``"buy"``/``"sell"`` accepted); market buys give ``amount``
        (fiat), everything else ``qty``; limits need ``price``.

        Example::

            mc.add_order("LTCUSD", "B", qty="2", price="180").subscribe(lambda r: print(r["refno"]))
        """
        fields: dict[str, Any] = {"type": "addorder", "security": check_security(security)}
        sides = {"B": "B", "S": "S", "buy": "B", "sell": "S"}
        if side not in sides:
            raise InvalidArgument("side", side, "'B' or 'S' (or 'buy'/'sell')")
        fields["side"] = sides[side]
        if ordertype not in _ORDER_TYPES:
            raise InvalidArgument("ordertype", ordertype, f"one of {', '.join(_ORDER_TYPES)}")
        if tif not in _TIFS:
            raise InvalidArgument("tif", tif, f"one of {', '.join(_TIFS)}")
        fields.update(ordertype=ordertype, tif=tif)
        if ordertype == "LMT" and price is None:
            raise InvalidArgument("price", price, "limit orders need a price")
        if ordertype == "MKT" and fields["side"] == "B":
            if amount is None or qty is not None:
                raise InvalidArgument("amount", amount, "market buys give amount (fiat), not qty")
        elif qty is None:
            raise InvalidArgument("qty", qty, "this order needs a qty")
        for name, value in (("qty", qty), ("price", price), ("amount", amount), ("stopprice", stopprice)):
            if value is not None:
                fields[name] = order_text(name, value)
        if stopprice is not None:
            fields["stoptype"] = "STOP"
        if exptime is not None:
            if tif != "GTT":
                raise InvalidArgument("exptime", exptime, "only with tif='GTT'")
            fields["exptime"] = str(int(exptime))
        return self._request(fields, timeout)

    def cancel_order(self, security: str, refno: str, timeout: float = 10.0) -> Observable[dict[str, Any]]:
        """Cancel an order by ``refno``; a reject (``"order not found"``) is the error.

        Example::

            mc.cancel_order("LTCUSD", refno).run()
        """
        return self._request(self._by_refno("cancelorder", security, refno), timeout)

    def query_order(self, security: str, refno: str, timeout: float = 10.0) -> Observable[dict[str, Any]]:
        """Query one order; emits the reply, whose ``data`` holds the order record.

        Example::

            print(mc.query_order("LTCUSD", refno).run()["data"]["liveqty"])
        """
        return self._request(self._by_refno("queryorder", security, refno), timeout)

    @staticmethod
    def _by_refno(kind: str, security: str, refno: str) -> dict[str, Any]:
        if not isinstance(refno, str) or not refno:
            raise InvalidArgument("refno", refno, "the order's reference number from add_order")
        return {"type": kind, "security": check_security(security), "refno": refno}
