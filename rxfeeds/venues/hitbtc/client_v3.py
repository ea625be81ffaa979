"""``HitBTCV3``: the live HitBTC API v3 as Observables (same methods as :class:`HitBTC`).

Market data on ``wss://api.hitbtc.com/api/3/ws/public`` (channels ``orderbook/full``,
``trades``, ``candles/<period>``, ``ticker/1s``), trading on ``.../api/3/ws/trading`` (login
with an HS256 signature of a millisecond timestamp, ``spot_*`` methods).  v3 has no
market-data requests on the socket, so ``symbols()``, ``symbol()``, ``currencies()``,
``currency()`` and ``trades_history()`` use the public REST API (``rest_url``, by default
derived from ``url``: ``https://api.hitbtc.com/api/3``), still as single-value Observables
with the same typed errors.

Example::

    from rxfeeds import HitBTCV3, ops
    hitbtc = HitBTCV3()
    hitbtc.orderbook("ETHBTC").pipe(ops.order_book(depth=10)).subscribe(print)
    print(hitbtc.symbol("ETHBTC").run()["tick_size"])

See :mod:`rxfeeds.venues.hitbtc.client` for blocking use (``run()``, queues, asyncio).
"""

from __future__ import annotations

import urllib.error
import urllib.parse
from collections.abc import Mapping
from typing import Any, ClassVar

import orjson
import reactivex
from reactivex import Observable
from reactivex import operators as ops
from reactivex.scheduler import ThreadPoolScheduler

from ...aio import awaitable
from ...errors import InvalidArgument, RequestError
from ...events import Event, OrderUpdate, Trade, VenueEvent
from ..base import check_http_url
from ..symbols import check_symbol
from ._common import Credentials
from .client import HitBTC, _check_currency, _history_trades
from .codec_v3 import TICKER_SPEEDS, HitBTCV3Codec, order_update_v3
from .errors import error_from

__all__ = ["HitBTCV3", "PUBLIC_URL_V3", "TRADING_URL_V3"]

PUBLIC_URL_V3 = "wss://api.hitbtc.com/api/3/ws/public"
TRADING_URL_V3 = "wss://api.hitbtc.com/api/3/ws/trading"

_REST_POOL = ThreadPoolScheduler(4)
_V3_NAMES = {
    "clientOrderId": "client_order_id",
    "timeInForce": "time_in_force",
    "requestClientId": "new_client_order_id",
    "stopPrice": "stop_price",
    "expireTime": "expire_time",
    "strictValidate": "strict_validate",
    "postOnly": "post_only",
}


def rest_base(url: str) -> str:
    """The REST base for a v3 socket URL: ``wss://h/api/3/ws/public`` -> ``https://h/api/3``.

    Example:
        >>> rest_base("ws://127.0.0.1:9000/api/3/ws/public")
        'http://127.0.0.1:9000/api/3'
    """
    parts = urllib.parse.urlsplit(url)
    scheme = {"wss": "https", "ws": "http"}.get(parts.scheme, parts.scheme)
    path = parts.path.split("/ws", 1)[0] or "/api/3"
    return f"{scheme}://{parts.netloc}{path}"


def _keyed_list(body: Any) -> list[dict[str, Any]]:
    return [{"id": k, **v} for k, v in dict(body).items()]


def _with_id(ident: str, body: Any) -> dict[str, Any]:
    return {"id": ident, **dict(body)}


class HitBTCV3(HitBTC):
    """HitBTC API v3 client (see the module docstring); arguments as :class:`HitBTC` plus:

    Args:
        rest_url: public REST base (default derived from ``url``).
        ticker_speed: ``"1s"`` or ``"3s"``.

    Example::

        with HitBTCV3(key="...", secret="...") as hitbtc:
            hitbtc.reports().subscribe(print)
            hitbtc.new_order("ETHBTC", "buy", "0.01", "0.05").run()
    """

    venue: ClassVar[str] = "hitbtc-v3"
    default_url: ClassVar[str] = PUBLIC_URL_V3
    default_trading_url: ClassVar[str] = TRADING_URL_V3
    #: v3 streams balances on the trading endpoint (``spot_balance_subscribe``)
    default_account_url: ClassVar[str | None] = None
    trading_methods: ClassVar[Mapping[str, str]] = {
        "new_order": "spot_new_order",
        "cancel_order": "spot_cancel_order",
        "replace_order": "spot_replace_order",
        "active_orders": "spot_get_orders",
        "trading_balance": "spot_balances",
    }

    def __init__(
        self,
        url: str | None = None,
        *,
        rest_url: str | None = None,
        ticker_speed: str = "1s",
        **options: Any,
    ) -> None:
        if not isinstance(ticker_speed, str) or ticker_speed not in TICKER_SPEEDS:
            raise InvalidArgument("ticker_speed", ticker_speed, "must be '1s' or '3s'")
        if rest_url is not None:
            check_http_url("rest_url", rest_url)
        super().__init__(url, **options)
        self.ticker_speed = ticker_speed
        self.rest_url = (rest_url or rest_base(self.url)).rstrip("/")

    def _make_codec(self, credentials: Credentials | None) -> Any:
        return HitBTCV3Codec(
            credentials,
            trades_limit=self.trades_limit,
            candles_limit=self.candles_limit,
            ticker_speed=self.ticker_speed,
            venue=self.venue,
        )

    def transactions(self) -> Observable[VenueEvent | Event]:
        """Not available: v3 moved transactions to the wallet endpoint, which this client does not cover."""
        raise NotImplementedError("HitBTC v3 transactions live on the /api/3/ws/wallet endpoint (not covered)")

    def _wire(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {_V3_NAMES.get(k, k): v for k, v in params.items()}

    def _order_update(self, report: Any, recv_time: float) -> OrderUpdate:
        return order_update_v3(report, recv_time, self.venue)

    # -- public REST -----------------------------------------------------------------------

    def _get(self, path: str, query: Mapping[str, Any] | None = None) -> Observable[Any]:
        """GET ``rest_url + path`` on a worker thread (through ``http_get``, so recordings and
        replays see it); venue errors become typed exceptions."""
        url = self.rest_url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        venue, timeout = self.venue, self.request_timeout

        get = self.http_get

        def fetch() -> Any:
            try:
                body = orjson.loads(get(url, timeout))
            except RequestError:
                raise
            except orjson.JSONDecodeError:
                raise RequestError(venue, f"REST reply of {path} is not JSON") from None
            except (urllib.error.URLError, OSError) as exc:
                raise RequestError(venue, f"REST request {path} failed: {exc}") from None
            if isinstance(body, dict) and isinstance(body.get("error"), dict):
                raise error_from(body["error"], venue)
            return body

        return awaitable(reactivex.defer(lambda _: reactivex.from_callable(fetch, scheduler=_REST_POOL)))

    def symbols(self) -> Observable[list[dict[str, Any]]]:
        """Every symbol (``GET /public/symbol``), each with its ``id`` added.

        Example::

            [s["id"] for s in hitbtc.symbols().run()]
        """
        return self._get("/public/symbol").pipe(ops.map(_keyed_list))

    def symbol(self, symbol: str) -> Observable[dict[str, Any]]:
        """One symbol (``GET /public/symbol/{symbol}``); unknown -> ``SymbolNotFound``.

        Example::

            hitbtc.symbol("ETHBTC").run()["tick_size"]
        """
        symbol = check_symbol(self.venue, symbol)
        return self._get("/public/symbol/" + symbol).pipe(ops.map(lambda d: _with_id(symbol, d)))

    def currencies(self) -> Observable[list[dict[str, Any]]]:
        """Every currency (``GET /public/currency``), each with its ``id`` added.

        Example::

            hitbtc.currencies().run()
        """
        return self._get("/public/currency").pipe(ops.map(_keyed_list))

    def currency(self, currency: str) -> Observable[dict[str, Any]]:
        """One currency (``GET /public/currency/{currency}``); unknown -> ``CurrencyNotFound``.

        Example::

            hitbtc.currency("ETH").run()["full_name"]
        """
        currency = _check_currency(currency)
        return self._get("/public/currency/" + currency).pipe(ops.map(lambda d: _with_id(currency, d)))

    def trades_history(
        self,
        symbol: str,
        *,
        sort: str = "DESC",
        by: str = "timestamp",
        since: str | int | None = None,
        till: str | int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Observable[list[Trade]]:
        """Past trades (``GET /public/trades/{symbol}``) as :class:`~rxfeeds.events.Trade` s.

        Example::

            hitbtc.trades_history("ETHBTC", limit=10).run()
        """
        symbol = check_symbol(self.venue, symbol)
        if sort not in ("ASC", "DESC"):
            raise InvalidArgument("sort", sort, "must be 'ASC' or 'DESC'")
        if by not in ("timestamp", "id"):
            raise InvalidArgument("by", by, "must be 'timestamp' or 'id'")
        if not isinstance(limit, int) or not 0 < limit <= 1000:
            raise InvalidArgument("limit", limit, "must be an integer 1..1000")
        if not isinstance(offset, int) or not 0 <= offset <= 100_000:
            raise InvalidArgument("offset", offset, "must be an integer 0..100000")
        query: dict[str, Any] = {"sort": sort, "by": by, "limit": limit, "offset": offset}
        if since is not None:
            query["from"] = since
        if till is not None:
            query["till"] = till
        venue = self.venue
        return self._get("/public/trades/" + symbol, query).pipe(ops.map(lambda r: _history_trades(venue, symbol, r)))
