"""The Kraken v2 data frames: book, trade, ticker and ohlc messages and the private pushes.

Prices and quantities are JSON numbers written with the pair's fixed precision (``50000.1``,
``0.10000000``), never a float repr, so the book checksum matches the texts sent; timestamps are
RFC 3339 with microseconds.  ``executions`` reports carry a per-channel ``sequence``.
:class:`KrakenV2Frames` overrides the v1 wire formats; the v2 protocol
(:mod:`~rxfeeds.sim.kraken.v2`) builds on it.

Example:
    >>> _rfc3339(0.5)
    '1970-01-01T00:00:00.500000Z'
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

from ..market import SimTrade, SyntheticMarket
from ..server import SimConnection
from ._base import AccountOrder, BookView, SimSub
from .v1 import KrakenSim

__all__ = ["KrakenV2Frames"]


def _num(text: str) -> orjson.Fragment:
    """A JSON number written exactly as ``text``: the pair's fixed decimals, never a float repr."""
    return orjson.Fragment(text)


def _rfc3339(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class KrakenV2Frames(KrakenSim):
    """The v2 wire formats of market data and private pushes."""

    # ------------------------------------------------------------------ formatting

    def price_text(self, market: SyntheticMarket, ticks: int) -> str:
        """v2 prices: the pair's own precision (``50000.1``)."""
        return market.price_text(ticks)

    def qty_text(self, market: SyntheticMarket, units: int) -> str:
        """v2 quantities: 8 decimals (as in the book)."""
        return self.size_text(market, units)

    def _levels_json(self, levels: Iterable[tuple[str, str]]) -> str:
        # Numbers are written as text so trailing zeros survive (the checksum uses them).
        return ",".join(f'{{"price":{p},"qty":{q}}}' for p, q in levels)

    def _book_frame(self, kind: str, symbol: str, bids: str, asks: str, checksum: int, now: float) -> str:
        return (
            f'{{"channel":"book","type":"{kind}","data":[{{"symbol":"{symbol}","bids":[{bids}],"asks":[{asks}],'
            f'"checksum":{checksum},"timestamp":"{_rfc3339(now)}"}}]}}'
        )

    def send_book_snapshot(self, conn: SimConnection, sub: SimSub, view: BookView, now: float) -> None:
        asks = self._levels_json(texts for _, texts in sorted(view.asks.items()))
        bids = self._levels_json(texts for _, texts in sorted(view.bids.items(), reverse=True))
        self.send(conn, self._book_frame("snapshot", sub.pair, bids, asks, self.checksum(view, sub.pair), now))

    def send_book_update(
        self,
        conn: SimConnection,
        sub: SimSub,
        asks: list[tuple[str, str]],
        bids: list[tuple[str, str]],
        checksum: int,
        now: float,
    ) -> None:
        frame = self._book_frame("update", sub.pair, self._levels_json(bids), self._levels_json(asks), checksum, now)
        self.send(conn, frame)

    def send_trades(
        self,
        conn: SimConnection,
        sub: SimSub,
        market: SyntheticMarket,
        trades: Iterable[SimTrade],
        kind: str = "update",
    ) -> None:
        data = [
            {
                "symbol": sub.pair,
                "side": t.side,
                "price": _num(self.price_text(market, t.price)),
                "qty": _num(self.qty_text(market, t.size)),
                "ord_type": "market" if t.size % 2 else "limit",
                "trade_id": t.id,
                "timestamp": _rfc3339(t.time),
            }
            for t in trades
        ]
        self.send(conn, orjson.dumps({"channel": "trade", "type": kind, "data": data}))

    def send_spread(self, conn: SimConnection, sub: SimSub, market: SyntheticMarket, now: float) -> None:
        """v2 has no spread channel."""

    def send_ticker(self, conn: SimConnection, sub: SimSub, market: SyntheticMarket, now: float) -> None:
        s = market.ticker()
        if s.bid is None or s.ask is None:
            return
        last = s.last if s.last is not None else s.bid[0]
        opening = s.open if s.open is not None else last
        price = self.price_text
        qty = self.qty_text
        # change in ticks, printed with the pair's decimals (no float arithmetic, no noise)
        pct = (Decimal(last - opening) * 100 / Decimal(opening)).quantize(Decimal("0.01")) if opening else Decimal(0)
        data = {
            "symbol": sub.pair,
            "bid": _num(price(market, s.bid[0])),
            "bid_qty": _num(qty(market, s.bid[1])),
            "ask": _num(price(market, s.ask[0])),
            "ask_qty": _num(qty(market, s.ask[1])),
            "last": _num(price(market, last)),
            "volume": _num(qty(market, s.volume)),
            "vwap": _num(price(market, round(s.quote_volume / s.volume) if s.volume else last)),
            "low": _num(price(market, s.low if s.low is not None else last)),
            "high": _num(price(market, s.high if s.high is not None else last)),
            "change": _num(price(market, last - opening)),
            "change_pct": _num(str(pct)),
            "timestamp": _rfc3339(now),
        }
        kind = "update" if sub.channel_id in conn.state.setdefault("ticked", set()) else "snapshot"
        conn.state["ticked"].add(sub.channel_id)
        self.send(conn, orjson.dumps({"channel": "ticker", "type": kind, "data": [data]}))

    def _ohlc_item(self, sub: SimSub, market: SyntheticMarket, c: dict[str, Any]) -> dict[str, Any]:
        price = self.price_text
        return {
            "symbol": sub.pair,
            "open": _num(price(market, c["open"])),
            "high": _num(price(market, c["high"])),
            "low": _num(price(market, c["low"])),
            "close": _num(price(market, c["close"])),
            "trades": c["count"],
            "volume": _num(self.qty_text(market, c["volume"])),
            "vwap": _num(price(market, c["vwap"])),
            "interval_begin": _rfc3339(c["begin"]),
            "interval": sub.interval,
            "timestamp": _rfc3339(c["time"]),
        }

    def send_ohlc(self, conn: SimConnection, sub: SimSub, market: SyntheticMarket, now: float) -> None:
        data = [self._ohlc_item(sub, market, self.current_candle(market, sub.interval, now))]
        self.send(conn, orjson.dumps({"channel": "ohlc", "type": "update", "timestamp": _rfc3339(now), "data": data}))

    # ------------------------------------------------------------------ v2 private pushes

    def _exec_report(self, order: AccountOrder, exec_type: str) -> dict[str, Any]:
        return {
            "exec_type": exec_type,
            "order_id": order.txid,
            "cl_ord_id": order.cl_ord_id,
            "symbol": order.pair,
            "side": order.side,
            "order_type": order.ordertype,
            "order_qty": order.volume,
            "limit_price": order.price,
            "order_status": {"open": "new", "closed": "filled", "canceled": "canceled"}.get(order.status, order.status),
            "cum_qty": order.vol_exec,
            "timestamp": _rfc3339(self.clock()),
        }

    def _fill_report(self, fill: dict[str, Any]) -> dict[str, Any]:
        return {
            "exec_type": "trade",
            "exec_id": fill["id"],
            "order_id": fill["ordertxid"],
            "symbol": fill["pair"],
            "side": fill["type"],
            "order_type": fill["ordertype"],
            "last_qty": float(fill["vol"]),
            "last_price": float(fill["price"]),
            "cost": float(fill["cost"]),
            "fees": [{"asset": fill["pair"].partition("/")[2], "qty": float(fill["fee"])}],
            "order_status": "filled",
            "cum_qty": float(fill["vol"]),
            "timestamp": _rfc3339(float(fill["time"])),
        }

    def _push_private(self, conn: SimConnection, channel: str, kind: str, data: list[dict[str, Any]]) -> None:
        frame = {"channel": channel, "type": kind, "data": data, "sequence": self._next_seq(conn, channel)}
        self.send(conn, orjson.dumps(frame))

    def order_changed(self, order: AccountOrder, now: float, new: bool = False) -> None:
        exec_type = "new" if new else {"canceled": "canceled", "closed": "filled"}.get(order.status, "status")
        for conn in self.connections:
            if ("executions", "") in conn.subscriptions:
                self._push_private(conn, "executions", "update", [self._exec_report(order, exec_type)])

    def order_filled(self, order: AccountOrder, fill: dict[str, Any], now: float) -> None:
        for conn in self.connections:
            if ("executions", "") in conn.subscriptions:
                self._push_private(conn, "executions", "update", [self._fill_report(fill)])
