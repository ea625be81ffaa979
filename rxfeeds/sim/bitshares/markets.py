"""The BitShares simulated markets: order-level books, call orders and fills.

Each level of the seeded market is a list of ``1.7.x`` limit orders priced in base per quote; a
market step turns into limit-order objects, removed order ids, ``fill_order`` pairs and call
order changes, pushed to the ``subscribe_to_market`` callbacks.  ``get_order_book`` and
``get_ticker`` read the same books (:meth:`BitSharesMarkets._book_sides`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

from ..kit.orders import OrderLevels, SimOrder
from ..market import MarketStep, SimTrade
from ._base import _ACCOUNTS, _FIRST_ACCOUNT, _MARKETS, BitSharesBase, _fixed, _SimMarket

__all__ = ["BitSharesMarkets"]


class BitSharesMarkets(BitSharesBase):
    """Markets, their books and their per-block changes."""

    def sim_market(self, a: dict[str, Any], b: dict[str, Any]) -> _SimMarket | None:
        """The simulated market of an asset pair (either order), created on first use; loop thread."""
        for base, quote in ((a, b), (b, a)):
            if (base["symbol"], quote["symbol"]) in _MARKETS:
                symbol = f"{base['symbol']}:{quote['symbol']}"
                sim = self.sim_markets.get(symbol)
                if sim is None:
                    sim = _SimMarket(symbol, self.market(symbol), base, quote)
                    sim.book = OrderLevels.from_market(sim.market, lambda: next(self._order_ids))
                    sent = self.sent_book(symbol)
                    for order in sim.book.orders():
                        self._place(sim, order)
                        sent.set(
                            order.side,
                            sim.market.price_text(order.price),
                            sim.market.size_text(sim.book.level_units(order.side, order.price)),
                        )
                    self._new_call_order(sim)
                    self.sim_markets[symbol] = sim
                    self.record_truth(symbol)
                return sim
        return None

    def _place(self, sim: _SimMarket, order: SimOrder) -> dict[str, Any]:
        if order.order_id not in sim.sellers:
            sim.sellers[order.order_id] = f"1.2.{_FIRST_ACCOUNT + self._rng.randrange(len(_ACCOUNTS))}"
        obj = sim.order_object(order)
        self.objects[obj["id"]] = obj
        return obj

    def _new_call_order(self, sim: _SimMarket) -> dict[str, Any]:
        num = next(self._call_ids)
        borrower = f"1.2.{_FIRST_ACCOUNT + self._rng.randrange(len(_ACCOUNTS))}"
        obj: dict[str, Any] = {
            "id": f"1.8.{num}",
            "borrower": borrower,
            "collateral": str(self._rng.randrange(10**9, 10**10)),
            "debt": str(self._rng.randrange(10**5, 10**6)),
            "call_price": {
                "base": {"amount": 1, "asset_id": sim.base["id"]},
                "quote": {"amount": 1, "asset_id": sim.quote["id"]},
            },
            "target_collateral_ratio": None,
        }
        sim.call_order = obj
        self.objects[obj["id"]] = obj
        return obj

    def _book_sides(self, base: dict[str, Any], quote: dict[str, Any]) -> tuple[list[dict[str, Any]], ...]:
        """Bids and asks, best first, as ``get_order_book`` orders priced in ``base`` per ``quote``."""
        sim = self.sim_market(base, quote)
        if sim is None or sim.book is None:
            return [], []
        m = sim.market
        flipped = sim.base["id"] != base["id"]
        bp, qp = int(base["precision"]), int(quote["precision"])
        bids: list[dict[str, Any]] = []
        asks: list[dict[str, Any]] = []
        for order in sim.book.orders():
            price = m.tick_size * order.price  # sim.base per sim.quote
            size = Decimal(order.units).scaleb(-m.size_decimals)  # in sim.quote
            if flipped:  # asked with the pair the other way round: invert the price, swap sides
                base_amount, quote_amount, price = size, size * price, 1 / price
                side = "ask" if order.side == "bid" else "bid"
            else:
                base_amount, quote_amount, side = size * price, size, order.side
            entry = {
                "price": _fixed(price, bp + qp),
                "quote": _fixed(quote_amount, qp),
                "base": _fixed(base_amount, bp),
                "owner_id": sim.sellers.get(order.order_id, "1.2.17"),
                "owner_name": self._account_name(sim.sellers.get(order.order_id, "1.2.17")),
                "time": "2026-01-01T00:00:00",
                "_sort": price,
            }
            (bids if side == "bid" else asks).append(entry)
        bids.sort(key=lambda e: e["_sort"], reverse=True)
        asks.sort(key=lambda e: e["_sort"])
        for entry in bids + asks:
            del entry["_sort"]
        return bids, asks

    def _step_market(self, sim: _SimMarket, step: MarketStep, changed: dict[str, dict[str, Any] | None]) -> None:
        assert sim.book is not None
        updates: list[Any] = []
        sent = self.sent_book(sim.symbol)
        for change in step.changes:
            for order in sim.book.apply(change):
                oid = f"1.7.{order.order_id}"
                if order.units:
                    obj = self._place(sim, order)
                    updates.append(obj)
                    changed[oid] = obj
                else:
                    old = self.objects.pop(oid, None)
                    updates.append(oid)
                    changed[oid] = None
                    if old is not None:
                        self._removed_seller[oid] = old.get("seller", "")
                    sim.sellers.pop(order.order_id, None)
            sent.set(change.side, sim.market.price_text(change.price), sim.market.size_text(change.size))
        for trade in step.trades:
            updates.extend(self._fills(sim, trade))
        roll = self._rng.random()
        if sim.call_order is not None and roll < 0.05:
            old_id = sim.call_order["id"]
            self.objects.pop(old_id, None)
            updates.append(old_id)
            self.sent_call_orders.setdefault(sim.symbol, []).append(old_id)
            updates.append(self._new_call_order(sim))
            self.sent_call_orders[sim.symbol].append(dict(sim.call_order))
        elif sim.call_order is not None and roll < 0.3:
            sim.call_order["collateral"] = str(int(sim.call_order["collateral"]) + self._rng.randrange(1, 10**6))
            updates.append(sim.call_order)
            self.sent_call_orders.setdefault(sim.symbol, []).append(dict(sim.call_order))
        if not updates:
            return
        pair = tuple(sorted((sim.base["id"], sim.quote["id"])))
        frame_args = orjson.dumps(updates).decode()
        for conn in self.connections:
            callback = conn.state["markets"].get(pair) if "markets" in conn.state else None
            if callback is not None:
                conn.send(f'{{"method":"notice","params":[{int(callback)},[{frame_args}]]}}')
        self.record_truth(sim.symbol)

    def _fills(self, sim: _SimMarket, trade: SimTrade) -> list[Any]:
        quote_sats = trade.size * sim.unit_quote_sats
        base_sats = sim.base_sats(trade.price, trade.size)
        base_id, quote_id = sim.base["id"], sim.quote["id"]
        quote_amt = {"amount": quote_sats, "asset_id": quote_id}
        base_amt = {"amount": base_sats, "asset_id": base_id}
        fill_price = {
            "base": {"amount": trade.price * sim.tick_sats, "asset_id": base_id},
            "quote": {"amount": sim.quote_scale, "asset_id": quote_id},
        }
        maker_account = f"1.2.{_FIRST_ACCOUNT + self._rng.randrange(len(_ACCOUNTS))}"
        taker_account = f"1.2.{_FIRST_ACCOUNT + self._rng.randrange(len(_ACCOUNTS))}"
        maker_id, taker_id = f"1.7.{next(self._order_ids)}", f"1.7.{next(self._order_ids)}"
        # taker "buy" lifted an ask: the taker paid base and got quote; the maker the reverse.
        taker_pays, taker_gets = (base_amt, quote_amt) if trade.side == "buy" else (quote_amt, base_amt)
        fee = {"amount": 0, "asset_id": quote_id}
        maker = {
            "fee": fee,
            "order_id": maker_id,
            "account_id": maker_account,
            "pays": taker_gets,
            "receives": taker_pays,
            "fill_price": fill_price,
            "is_maker": True,
        }
        taker = {
            "fee": fee,
            "order_id": taker_id,
            "account_id": taker_account,
            "pays": taker_pays,
            "receives": taker_gets,
            "fill_price": fill_price,
            "is_maker": False,
        }
        record = {
            "price": sim.market.price(trade.price),
            "size": sim.market.size(trade.size),
            "taker_side": trade.side,
            "maker_order": maker_id,
            "taker_order": taker_id,
        }
        self.sent_fills.setdefault(sim.symbol, []).append(record)
        return [[[4, maker], [0, {}]], [[4, taker], [0, {}]]]
