"""The Binance spot REST endpoints: depth snapshot, exchange info, ping and time.

``GET /api/v3/depth`` answers with the ``lastUpdateId`` of the last tick (taken on the loop
thread, so snapshot and diffs always agree); ``exchangeInfo`` lists assets, precisions and the
price and lot filters.  Errors are Binance's (``-1102``, ``-1121``, ``-1100``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..kit.clock import epoch_ms
from ..kit.presets import market_options_for
from ..market import format_units
from ..server import HttpRequest, HttpResponse, json_response
from ._base import _DECIMALS, _REST_LIMIT_MAX, BinanceSpotBase

__all__ = ["BinanceSpotRest"]


class BinanceSpotRest(BinanceSpotBase):
    """The REST endpoints of the Binance spot simulator."""

    #: symbols ``exchangeInfo`` lists when the simulator serves every well-formed symbol
    default_listing: tuple[str, ...] = ("BTCUSDT", "ETHUSDT", "ETHBTC")

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        """The ``exchangeInfo`` entry of ``symbol``: assets, precisions and the price/lot filters."""
        options = market_options_for(symbol)
        for quote in ("USDT", "BUSD", "USDC", "TUSD", "BTC", "ETH", "EUR", "USD"):
            if symbol.endswith(quote) and len(symbol) > len(quote):
                base = symbol[: -len(quote)]
                break
        else:
            base, quote = symbol[:-3], symbol[-3:]
        tick = format_units(int(Decimal(options["tick_size"]).scaleb(_DECIMALS)), _DECIMALS)
        step = format_units(1, options["size_decimals"], _DECIMALS)
        return {
            "symbol": symbol,
            "status": "TRADING",
            "baseAsset": base,
            "baseAssetPrecision": 8,
            "quoteAsset": quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
            "icebergAllowed": True,
            "ocoAllowed": True,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True,
            "cancelReplaceAllowed": True,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": tick, "maxPrice": "1000000.00000000", "tickSize": tick},
                {"filterType": "LOT_SIZE", "minQty": step, "maxQty": "9000.00000000", "stepSize": step},
                {
                    "filterType": "NOTIONAL",
                    "minNotional": "5.00000000",
                    "applyMinToMarket": True,
                    "maxNotional": "9000000.00000000",
                    "applyMaxToMarket": False,
                    "avgPriceMins": 5,
                },
            ],
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }

    def _exchange_info(self, request: HttpRequest) -> HttpResponse:
        asked = request.query.get("symbol")
        if asked is not None:
            if not self.is_listed(asked) or asked != asked.upper():
                return json_response({"code": -1121, "msg": "Invalid symbol."}, 400)
            symbols = [asked]
        else:
            symbols = sorted(self.listed) if self.listed is not None else list(self.default_listing)
        return json_response(
            {
                "timezone": "UTC",
                "serverTime": epoch_ms(self.clock()),
                "rateLimits": [
                    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
                    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
                ],
                "exchangeFilters": [],
                "symbols": [self.symbol_info(s) for s in symbols],
            }
        )

    def handle_http(self, request: HttpRequest) -> HttpResponse | None:
        if request.path == "/api/v3/ping":
            return json_response({})
        if request.path == "/api/v3/time":
            return json_response({"serverTime": epoch_ms(self.clock())})
        if request.path == "/api/v3/exchangeInfo":
            return self._exchange_info(request)
        if request.path != "/api/v3/depth":
            return None
        if request.method != "GET":
            return json_response({"code": -1102, "msg": "Use GET."}, 405)
        symbol = request.query.get("symbol", "")
        if not symbol:
            return json_response(
                {
                    "code": -1102,
                    "msg": "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
                },
                400,
            )
        if not self.is_listed(symbol) or symbol != symbol.upper():
            return json_response({"code": -1121, "msg": "Invalid symbol."}, 400)
        raw_limit = request.query.get("limit", "100")
        try:
            limit = int(raw_limit)
            if not 1 <= limit <= _REST_LIMIT_MAX:
                raise ValueError
        except ValueError:
            return json_response(
                {
                    "code": -1100,
                    "msg": f"Illegal value in parameter 'limit'; legal range is '1-{_REST_LIMIT_MAX}'.",
                },
                400,
            )
        st = self._state(symbol)
        market = self.market(symbol)
        return json_response(
            {
                "lastUpdateId": st.update_id,
                "bids": [
                    [market.price_text(p, _DECIMALS), market.size_text(q, _DECIMALS)] for p, q in market.bids(limit)
                ],
                "asks": [
                    [market.price_text(p, _DECIMALS), market.size_text(q, _DECIMALS)] for p, q in market.asks(limit)
                ],
            }
        )
