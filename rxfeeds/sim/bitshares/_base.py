"""The BitShares simulator's shared base (venue-private): the chain's objects, assets, accounts.

:class:`BitSharesBase` holds the object store (accounts ``1.2.x`` with statistics ``2.6.x``,
assets ``1.3.x`` with their dynamic and bitasset data, the global properties ``2.1.0``), the
per-connection subscription state and the lookups every part uses.  The markets
(:mod:`~rxfeeds.sim.bitshares.markets`), the blocks (:mod:`~rxfeeds.sim.bitshares.blocks`) and
the APIs (:mod:`~rxfeeds.sim.bitshares.api`) build on it.

Example:
    >>> _fixed(Decimal("2.50000"), 5), _is_id("1.7.12"), _is_id("1.7")
    ('2.5', True, False)
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..kit.orders import OrderLevels, SimOrder
from ..market import SyntheticMarket
from ..server import SimConnection, SimServer

__all__ = ["CHAIN_ID", "BitSharesBase", "RpcFailure"]

CHAIN_ID = "4018d7844c78f6a6c41c6a552b898022310fc5dec06da467ee7905a8dad512c8"
_ASSETS = [
    {"id": "1.3.0", "symbol": "BTS", "precision": 5},
    {"id": "1.3.113", "symbol": "CNY", "precision": 4},
    {"id": "1.3.121", "symbol": "USD", "precision": 4},
]
#: simulated markets: canonical (base, quote) symbols -> SyntheticMarket options
_MARKETS: dict[tuple[str, str], dict[str, Any]] = {
    ("BTS", "USD"): {"mid": "25", "tick_size": "0.001", "size_decimals": 2},
    ("BTS", "CNY"): {"mid": "3.5", "tick_size": "0.001", "size_decimals": 2},
}
_ACCOUNTS = ["init0", "init1", "init2", "init3", "init4", "alice", "bob"]
_FIRST_ACCOUNT = 17
_SNAPSHOT_LIMIT = 300
_ORDER_BOOK_LIMIT = 50  # api_limit_get_order_book
_ACCOUNTS_LIMIT = 100


class RpcFailure(Exception):
    """Raised inside a handler: becomes an fc-style error reply."""

    def __init__(self, text: str, code: int = 10, name: str = "assert_exception") -> None:
        super().__init__(text)
        self.text = text
        self.code = code
        self.name = name


def _assert(ok: bool, text: str) -> None:
    if not ok:
        raise RpcFailure(text)


class _SimMarket:
    """One simulated market: its order-level book, call order and precision arithmetic."""

    def __init__(self, symbol: str, market: SyntheticMarket, base: dict[str, Any], quote: dict[str, Any]) -> None:
        self.symbol = symbol
        self.market = market
        self.base = base
        self.quote = quote
        # Exact integer amounts: price = ticks * tick_size (base per quote), size = units * 10^-sd (quote).
        self.tick_sats = int(market.tick_size * Decimal(10) ** int(base["precision"]))  # base sats per tick per quote
        self.quote_scale = 10 ** int(quote["precision"])
        self.unit_quote_sats = 10 ** (int(quote["precision"]) - market.size_decimals)
        self.size_scale = 10**market.size_decimals
        self.book: OrderLevels | None = None
        self.sellers: dict[int, str] = {}
        self.call_order: dict[str, Any] | None = None

    def base_sats(self, ticks: int, units: int) -> int:
        """Base amount (satoshis) of ``units`` quote at ``ticks``."""
        return int(units * ticks * self.tick_sats // self.size_scale)

    def order_object(self, order: SimOrder) -> dict[str, Any]:
        """The ``1.7.x`` limit order object of one resting order."""
        base_id, quote_id = self.base["id"], self.quote["id"]
        price_base = {"amount": order.price * self.tick_sats, "asset_id": base_id}
        one_quote = {"amount": self.quote_scale, "asset_id": quote_id}
        if order.side == "bid":
            for_sale = self.base_sats(order.price, order.units)
            sell_price = {"base": price_base, "quote": one_quote}
        else:
            for_sale = order.units * self.unit_quote_sats
            sell_price = {"base": one_quote, "quote": price_base}
        return {
            "id": f"1.7.{order.order_id}",
            "expiration": "2030-01-01T00:00:00",
            "seller": self.sellers.get(order.order_id, "1.2.17"),
            "for_sale": str(for_sale),
            "sell_price": sell_price,
            "deferred_fee": 0,
            "deferred_paid_fee": {"amount": 0, "asset_id": "1.3.0"},
        }


class BitSharesBase(SimServer):
    """The object store and lookups of the BitShares simulator.

    Its arguments are documented on :class:`~rxfeeds.sim.bitshares.BitSharesSim`.
    """

    venue = "bitshares"

    def __init__(self, *, credentials: Mapping[str, str] | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.credentials = dict(credentials) if credentials is not None else None
        self._rng = random.Random(self.seed)
        self._order_ids = itertools.count(1000)
        self._call_ids = itertools.count(100)
        self.assets: dict[str, dict[str, Any]] = {str(a["id"]): _asset_object(a) for a in _ASSETS}
        self._asset_by_symbol = {str(a["symbol"]): str(a["id"]) for a in _ASSETS}
        self.objects: dict[str, dict[str, Any]] = {}
        for i, name in enumerate(_ACCOUNTS):
            num = _FIRST_ACCOUNT + i
            self.objects[f"1.2.{num}"] = {"id": f"1.2.{num}", "name": name, "statistics": f"2.6.{num}"}
            self.objects[f"2.6.{num}"] = {
                "id": f"2.6.{num}",
                "owner": f"1.2.{num}",
                "most_recent_op": "2.9.0",
                "total_ops": 0,
                "total_core_in_orders": "0",
                "lifetime_fees_paid": "0",
                "pending_fees": 0,
                "pending_vested_fees": 0,
            }
        self.objects.update(self.assets)
        for asset in self.assets.values():
            # the dynamic data (2.3.x) and, for market-issued assets, the bitasset data (2.4.x)
            dynamic = asset["dynamic_asset_data_id"]
            self.objects[dynamic] = {
                "id": dynamic,
                "current_supply": "100000000000000",
                "confidential_supply": "0",
                "accumulated_fees": "0",
                "accumulated_collateral_fees": "0",
                "fee_pool": "0",
            }
            if "bitasset_data_id" in asset:
                data_id = asset["bitasset_data_id"]
                self.objects[data_id] = {
                    "id": data_id,
                    "asset_id": asset["id"],
                    "options": {
                        "feed_lifetime_sec": 86400,
                        "minimum_feeds": 7,
                        "force_settlement_delay_sec": 86400,
                        "force_settlement_offset_percent": 100,
                        "maximum_force_settlement_volume": 20,
                        "short_backing_asset": "1.3.0",
                        "extensions": {},
                    },
                    "feeds": [],
                    "current_feed": {
                        "settlement_price": {
                            "base": {"amount": 0, "asset_id": asset["id"]},
                            "quote": {"amount": 0, "asset_id": "1.3.0"},
                        },
                        "maintenance_collateral_ratio": 1750,
                        "maximum_short_squeeze_ratio": 1100,
                        "core_exchange_rate": asset["options"]["core_exchange_rate"],
                    },
                    "is_prediction_market": False,
                    "settlement_fund": 0,
                }
        self.head_block = 6_484_380 + self._rng.randrange(1000)
        self.objects["2.1.0"] = {
            "id": "2.1.0",
            "head_block_number": self.head_block,
            "head_block_id": self._block_id(self.head_block),
            "time": "2026-01-01T00:00:00",
        }
        self.objects["2.8.0"] = {"id": "2.8.0", "block_id": self._block_id(0)}
        self.sim_markets: dict[str, _SimMarket] = {}
        #: what was pushed, for tests: pending transactions, block ids, fills per market
        self.sent_transactions: list[dict[str, Any]] = []
        self.sent_blocks: list[str] = []
        self.sent_fills: dict[str, list[dict[str, Any]]] = {}
        self.sent_call_orders: dict[str, list[dict[str, Any] | str]] = {}
        self._op_counter = itertools.count(1)
        # Sellers of orders removed during the current block (removals still reach their accounts).
        self._removed_seller: dict[str, str] = {}

    def __repr__(self) -> str:
        return super().__repr__().replace("BitSharesSim(", "BitSharesSim(credentials=***, ", 1)

    def _block_id(self, num: int) -> str:
        return f"{num:08x}" + "".join(self._rng.choice("0123456789abcdef") for _ in range(32))

    # -- markets ---------------------------------------------------------------------------

    def market_options(self, symbol: str) -> dict[str, Any]:
        base, _, quote = symbol.partition(":")
        options = dict(_MARKETS.get((base, quote), {"mid": "1", "tick_size": "0.001", "size_decimals": 2}))
        options.update(levels=15, max_levels=30)
        return options

    def _asset(self, symbol_or_id: Any) -> dict[str, Any] | None:
        if not isinstance(symbol_or_id, str):
            return None
        asset_id = symbol_or_id if symbol_or_id in self.assets else self._asset_by_symbol.get(symbol_or_id)
        return self.assets.get(asset_id) if asset_id else None

    def _pair(self, a: Any, b: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        asset_a, asset_b = self._asset(a), self._asset(b)
        _assert(asset_a is not None, f"itr != assets_by_symbol.end(): Asset {a} does not exist")
        _assert(asset_b is not None, f"itr != assets_by_symbol.end(): Asset {b} does not exist")
        assert asset_a is not None and asset_b is not None
        _assert(asset_a["id"] != asset_b["id"], "a != b: market of an asset with itself")
        return asset_a, asset_b

    def _account(self, name: Any) -> dict[str, Any] | None:
        if not isinstance(name, str):
            return None
        if name.startswith("1.2."):
            return self.objects.get(name)
        for obj in self.objects.values():
            if obj["id"].startswith("1.2.") and obj.get("name") == name:
                return obj
        return None

    def _account_name(self, account_id: str) -> str:
        account = self.objects.get(account_id)
        return str(account["name"]) if account else ""

    # -- connection state ------------------------------------------------------------------

    def on_connect(self, conn: SimConnection) -> None:
        conn.state.update(
            object_cb=None,
            subscribed=set(),
            accounts=set(),
            markets={},
            block_cb=None,
            tx_cb=None,
            logged_in=self.credentials is None,
            apis={0: "database", 1: "login"},
        )


def _fixed(value: Decimal, places: int) -> str:
    """A decimal string with at most ``places`` decimals and no trailing zeros (as the node prints)."""
    text = format(value.quantize(Decimal(1).scaleb(-places)) if places else value.to_integral_value(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _asset_object(a: dict[str, Any]) -> dict[str, Any]:
    """A ``1.3.x`` asset object shaped like the node's (options, dynamic and bitasset data ids)."""
    num = str(a["id"]).rsplit(".", 1)[1]
    core = a["id"] == "1.3.0"
    obj: dict[str, Any] = dict(a)
    obj["issuer"] = "1.2.3" if core else "1.2.0"
    obj["options"] = {
        "max_supply": "360057050210207" if core else "1000000000000000",
        "market_fee_percent": 0,
        "max_market_fee": "1000000000000000",
        "issuer_permissions": 0 if core else 511,
        "flags": 0 if core else 128,
        "core_exchange_rate": {
            "base": {"amount": 1, "asset_id": "1.3.0"},
            "quote": {"amount": 1, "asset_id": a["id"]},
        },
        "whitelist_authorities": [],
        "blacklist_authorities": [],
        "whitelist_markets": [],
        "blacklist_markets": [],
        "description": "" if core else f"1 {a['symbol']} (market-issued)",
        "extensions": {},
    }
    obj["dynamic_asset_data_id"] = f"2.3.{num}"
    if not core:
        obj["bitasset_data_id"] = f"2.4.{int(num) - 100}"
    return obj


def _impacted(obj: dict[str, Any]) -> str:
    return str(obj.get("owner") or obj.get("seller") or obj.get("borrower") or "")


def _is_id(text: str) -> bool:
    parts = text.split(".")
    return len(parts) == 3 and all(p.isdigit() for p in parts)
