"""The Kraken simulated account: orders, fills, the cancel-all timer and the private pushes.

A limit order that crosses the book fills at once at the best opposite price (one fill), others
rest (never filled later); every change is pushed to the private subscribers with a per-channel
``sequence`` (v1 ``openOrders`` / ``ownTrades`` here; the v2 protocol overrides the pushes).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from ..server import SimConnection
from ._base import AccountOrder, KrakenBase

__all__ = ["KrakenAccount"]


class KrakenAccount(KrakenBase):
    """The account model of the Kraken simulators."""

    def place_order(
        self,
        pair: str,
        side: str,
        ordertype: str,
        volume: float,
        price: float | None,
        now: float,
        userref: int | None = None,
        cl_ord_id: str | None = None,
    ) -> AccountOrder:
        """Create an order; a market order or a crossing limit fills at once at the best price."""
        n = next(self._order_ids)
        txid = f"O{n:05d}-SIMUL-{self.seed % 100000:05d}"
        order = AccountOrder(txid, pair, side, ordertype, volume, price, "open", 0.0, userref, now, cl_ord_id)
        self.orders[txid] = order
        market = self.market(pair)
        best = market.best_ask() if side == "buy" else market.best_bid()
        crosses = best is not None and (
            ordertype == "market"
            or (
                price is not None
                and (price >= market.price(best[0]) if side == "buy" else price <= market.price(best[0]))
            )
        )
        self.order_changed(order, now, new=True)
        if crosses and best is not None:
            order.status = "closed"
            order.vol_exec = volume
            fill = {
                "id": f"T{n:05d}-SIMUL-{self.seed % 100000:05d}",
                "ordertxid": txid,
                "postxid": f"P{n:05d}",
                "pair": pair,
                "time": f"{now:.6f}",
                "type": side,
                "ordertype": ordertype,
                "price": self.price_text(market, best[0]),
                "cost": f"{market.price(best[0]) * volume:.5f}",
                "fee": f"{market.price(best[0]) * volume * 0.0026:.5f}",
                "vol": f"{volume:.8f}",
                "margin": "0.00000",
                "userref": userref or 0,
            }
            self.fills.append(fill)
            self.order_filled(order, fill, now)
        return order

    def _cancel_all(self, now: float) -> int:
        open_orders = [o for o in self.orders.values() if o.status == "open"]
        for order in open_orders:
            order.status = "canceled"
            self.order_changed(order, now)
        return len(open_orders)

    def _order_record(self, order: AccountOrder) -> dict[str, Any]:
        return {
            order.txid: {
                "status": order.status,
                "opentm": f"{order.opentm:.6f}",
                "vol": f"{order.volume:.8f}",
                "vol_exec": f"{order.vol_exec:.8f}",
                "userref": order.userref or 0,
                "descr": {
                    "pair": order.pair,
                    "type": order.side,
                    "ordertype": order.ordertype,
                    "price": f"{order.price or 0:.5f}",
                },
            }
        }

    def order_changed(self, order: AccountOrder, now: float, new: bool = False) -> None:
        """Push the order's state to every ``openOrders`` subscriber."""
        record = self._order_record(order)
        if not new:
            record = {order.txid: {"status": order.status, "vol_exec": f"{order.vol_exec:.8f}"}}
        for conn in self.connections:
            if ("openOrders", "") in conn.subscriptions:
                self.push_open_orders(conn, [record])

    def order_filled(self, order: AccountOrder, fill: dict[str, Any], now: float) -> None:
        """Push a fill (ownTrades) and the order's closed state (openOrders)."""
        for conn in self.connections:
            if ("ownTrades", "") in conn.subscriptions:
                self.push_own_trades(conn, [fill])
        self.order_changed(order, now)

    def _next_seq(self, conn: SimConnection, channel: str) -> int:
        seq: dict[str, int] = conn.state["seq"]
        value = seq.get(channel, 0) + 1
        if self.faults.take_skip_sequence(channel):
            value += 1
        seq[channel] = value
        return value

    def push_own_trades(self, conn: SimConnection, fills: list[dict[str, Any]]) -> None:
        rows = [{f["id"]: {k: v for k, v in f.items() if k != "id"}} for f in fills]
        self.send(conn, orjson.dumps([rows, "ownTrades", {"sequence": self._next_seq(conn, "ownTrades")}]))

    def push_open_orders(self, conn: SimConnection, records: list[dict[str, Any]]) -> None:
        self.send(conn, orjson.dumps([records, "openOrders", {"sequence": self._next_seq(conn, "openOrders")}]))

    def expire_dead_man(self, now: float) -> None:
        """Cancel every open order once the ``cancelAllOrdersAfter`` timer is due."""
        if self.dead_man_trigger is not None and now >= self.dead_man_trigger:
            self.dead_man_trigger = None
            self._cancel_all(now)

    def arm_dead_man(self, timeout: int) -> tuple[str, str]:
        """Arm (or disarm with 0) the cancel-all timer; returns (currentTime, triggerTime) texts."""
        now = self.clock()
        self.dead_man_trigger = now + timeout if timeout else None
        current = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        trigger = datetime.fromtimestamp(now + timeout, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if timeout else "0"
        return current, trigger
