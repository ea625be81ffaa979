"""The HitBTC simulators' shared base (venue-private): symbols, settings, JSON-RPC replies.

:class:`HitBTCBase` holds what every part of a HitBTC simulator reads: the symbol rule and the
symbol / currency descriptions, the settings (API keys, listed and refused symbols, re-snapshot
and ticker timing), the per-symbol book sequences, the accounts' orders and the JSON-RPC
``reply`` / ``error`` / ``notify`` helpers.  The market feed (:mod:`~rxfeeds.sim.hitbtc.feed`),
the account (:mod:`~rxfeeds.sim.hitbtc.account`) and the protocols
(:mod:`~rxfeeds.sim.hitbtc.v2`, :mod:`~rxfeeds.sim.hitbtc.v3`) build on it.

Example:
    >>> symbol_not_found("NOPE").body()["code"]
    2001
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, ClassVar

import orjson

from ...errors import InvalidArgument
from ...intervals import Interval, parse_interval
from ...venues.hitbtc._common import CANDLE_PERIODS
from ..server import SimConnection, SimServer

__all__ = [
    "AUTH_FAILED",
    "AUTH_REQUIRED",
    "DEFAULT_LISTED",
    "QUOTE_CURRENCIES",
    "HitBTCBase",
    "RpcError",
    "period_interval",
    "symbol_not_found",
]

#: quote currencies a simulated symbol may end with (longest first when matching)
QUOTE_CURRENCIES = ("USDT", "TUSD", "EURS", "BTC", "ETH", "USD", "DAI")
_SYMBOL = re.compile(r"^([A-Z0-9]{2,12}?)(USDT|TUSD|EURS|BTC|ETH|USD|DAI)\Z")
_CURRENCY = re.compile(r"^[A-Z0-9]{2,12}\Z")

DEFAULT_LISTED = ("ETHBTC", "BTCUSD", "LTCBTC", "XRPBTC", "ETHUSD")

_MARKETS: dict[str, dict[str, Any]] = {
    "BTC": {"mid": "0.05", "tick_size": "0.000001", "size_decimals": 4},
    "ETH": {"mid": "0.002", "tick_size": "0.0000001", "size_decimals": 3},
}
_FIAT = {"mid": "30000", "tick_size": "0.01", "size_decimals": 5}


#: candle period -> interval, filled on first use
_PERIODS: dict[str, Interval] = {}


def period_interval(period: str) -> Interval:
    """The interval of a candle period from :data:`CANDLE_PERIODS` (``"M15"``, ``"D7"``, ``"1M"``).

    Example:
        >>> period_interval("M15").seconds, period_interval("H4").seconds
        (900, 14400)
    """
    found = _PERIODS.get(period)
    if found is None:
        if period not in CANDLE_PERIODS:
            raise InvalidArgument("period", period, f"must be one of {', '.join(CANDLE_PERIODS)}")
        found = _PERIODS[period] = parse_interval(period, "period")
    return found


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def _positive(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (ArithmeticError, ValueError):
        return None
    return number if number.is_finite() and number > 0 else None


class RpcError(Exception):
    """An error reply the simulator sends: JSON-RPC ``code``, ``message``, ``description``."""

    def __init__(self, code: int, message: str, description: str = "") -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.description = description

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.description:
            out["description"] = self.description
        return out


def symbol_not_found(symbol: Any) -> RpcError:
    return RpcError(
        2001, "Symbol not found", f"Try get /api/2/public/symbol, to get list of all available symbols ({symbol})"
    )


AUTH_REQUIRED = RpcError(1001, "Authorization required")
AUTH_FAILED = RpcError(1002, "Authorization failed")


class HitBTCBase(SimServer):
    """Settings, symbols and JSON-RPC helpers shared by every part of the HitBTC simulators.

    Its arguments are documented on :class:`~rxfeeds.sim.hitbtc.HitBTCSim`.
    """

    venue: ClassVar[str] = "hitbtc"
    path: ClassVar[str] = "/api/2/ws"
    #: the version segment of the URL paths (``/api/2/ws/public``)
    api_version: ClassVar[int] = 2

    def __init__(
        self,
        *,
        api_keys: Mapping[str, str] | None = None,
        unknown_symbols: Iterable[str] = (),
        listed_symbols: Iterable[str] = DEFAULT_LISTED,
        resnapshot_after: float | None = 1.0,
        ticker_interval: float = 0.5,
        ticker_quiet_resend: float = 15.0,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.api_keys = dict(api_keys if api_keys is not None else {"sim-key": "sim-secret"})
        self.unknown_symbols = set(unknown_symbols)
        self.listed_symbols = list(listed_symbols)
        self.resnapshot_after = resnapshot_after
        self.ticker_interval = ticker_interval
        self.ticker_quiet_resend = ticker_quiet_resend
        #: symbol -> last orderbook sequence number sent (loop thread)
        self.sequences: dict[str, int] = {}
        #: account (API key) -> clientOrderId -> active order (v2 field names)
        self.orders: dict[str, dict[str, dict[str, Any]]] = {}
        self._order_ids = itertools.count(1_000_000_001)
        self._last_ticker: dict[str, float] = {}
        self._last_touch: dict[str, tuple[Any, Any]] = {}
        self._methods: dict[str, Callable[[SimConnection, Any, dict[str, Any]], None]] = self._method_table()

    def _method_table(self) -> dict[str, Callable[[SimConnection, Any, dict[str, Any]], None]]:
        """The request handlers by JSON-RPC method name (each protocol fills its own)."""
        return {}

    # -- urls ------------------------------------------------------------------------------

    @property
    def public_url(self) -> str:
        """``ws://127.0.0.1:PORT/api/2/ws/public`` (market data)."""
        return f"ws://{self.host}:{self.port}/api/{self.api_version}/ws/public"

    @property
    def trading_url(self) -> str:
        """``ws://127.0.0.1:PORT/api/2/ws/trading`` (login, reports, orders)."""
        return f"ws://{self.host}:{self.port}/api/{self.api_version}/ws/trading"

    # -- symbols ---------------------------------------------------------------------------

    def is_known(self, symbol: Any) -> bool:
        """The simulator's rule for an existing symbol (see the module docstring)."""
        return isinstance(symbol, str) and symbol not in self.unknown_symbols and _SYMBOL.match(symbol) is not None

    def split_symbol(self, symbol: str) -> tuple[str, str]:
        """``("ETH", "BTC")`` for ``"ETHBTC"`` (the symbol must be known)."""
        match = _SYMBOL.match(symbol)
        if match is None:
            raise InvalidArgument("symbol", symbol, "not a simulated HitBTC symbol")
        return match.group(1), match.group(2)

    def market_options(self, symbol: str) -> dict[str, Any]:
        quote = self.split_symbol(symbol)[1] if self.is_known(symbol) else ""
        return {**_MARKETS.get(quote, _FIAT), "levels": 100}

    def _require_symbol(self, symbol: Any) -> str:
        if not self.is_known(symbol):
            raise symbol_not_found(symbol)
        return str(symbol)

    def _all_symbols(self) -> list[str]:
        seen = dict.fromkeys([s for s in self.listed_symbols if self.is_known(s)])
        seen.update(dict.fromkeys(s for s in self.markets if self.is_known(s)))
        return list(seen)

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        """The v2 ``getSymbol`` object of ``symbol``."""
        base, quote = self.split_symbol(symbol)
        m = self.market(symbol)
        return {
            "id": symbol,
            "baseCurrency": base,
            "quoteCurrency": quote,
            "quantityIncrement": m.size_text(1),
            "tickSize": m.price_text(1),
            "takeLiquidityRate": "0.0025",
            "provideLiquidityRate": "0.001",
            "feeCurrency": quote,
        }

    def _currencies(self) -> list[str]:
        out: dict[str, None] = {}
        for symbol in self._all_symbols():
            out.update(dict.fromkeys(self.split_symbol(symbol)))
        return list(out)

    def currency_info(self, currency: str) -> dict[str, Any]:
        """The v2 ``getCurrency`` object of ``currency``."""
        return {
            "id": currency,
            "fullName": f"Simulated {currency}",
            "crypto": currency not in ("USD", "EURS"),
            "payinEnabled": True,
            "payinPaymentId": False,
            "payinConfirmations": 2,
            "payoutEnabled": True,
            "payoutIsPaymentId": False,
            "transferEnabled": True,
            "delisted": False,
            "payoutFee": "0.001",
        }

    # -- wire helpers ----------------------------------------------------------------------

    def reply(self, conn: SimConnection, rid: Any, result: Any) -> None:
        """A JSON-RPC result (nothing for a notification without id)."""
        if rid is not None:
            conn.send(_dumps({"jsonrpc": "2.0", "result": result, "id": rid}))

    def error(self, conn: SimConnection, rid: Any, err: RpcError) -> None:
        """A JSON-RPC error reply."""
        conn.send(_dumps({"jsonrpc": "2.0", "error": err.body(), "id": rid}))

    def notify(self, conn: SimConnection, method: str, params: Any) -> None:
        """A server notification ``{"jsonrpc","method","params"}``."""
        conn.send(_dumps({"jsonrpc": "2.0", "method": method, "params": params}))
