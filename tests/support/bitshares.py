"""BitShares frames for the codec tests: fc JSON-RPC calls, replies, notices, and market objects."""

from __future__ import annotations

from typing import Any

import orjson

from rxfeeds.codec import Data
from rxfeeds.venues.bitshares.codec import BitSharesCodec


def call(frame: str) -> tuple[int, Any, str, list[Any]]:
    msg = orjson.loads(frame)
    assert msg["method"] == "call" and msg["jsonrpc"] == "2.0"
    api, method, params = msg["params"]
    return msg["id"], api, method, params


def reply(rid: int, result: Any) -> bytes:
    return orjson.dumps({"id": rid, "jsonrpc": "2.0", "result": result})


def notice(callback: int, *args: Any) -> bytes:
    return orjson.dumps({"method": "notice", "params": [callback, list(args)]})


def events(messages: list[Any], key: tuple[str, str] | None = None) -> list[Any]:
    return [e for m in messages if isinstance(m, Data) and (key is None or m.key == key) for e in m.events]


ASSETS = [
    {"id": "1.3.0", "symbol": "BTS", "precision": 5},
    {"id": "1.3.121", "symbol": "USD", "precision": 4},
]


def open_market(codec: BitSharesCodec, key: tuple[str, str]) -> dict[str, int]:
    frames = [call(f) for f in codec.subscribe_frames(key)]
    ids = {method: rid for rid, _, method, _ in frames}
    by_method = {method: params for _, _, method, params in frames}
    assert by_method["lookup_asset_symbols"] == [["BTS", "USD"]]
    assert by_method["subscribe_to_market"][1:] == ["BTS", "USD"]
    assert by_method["get_limit_orders"][:2] == ["BTS", "USD"]
    ids["callback"] = by_method["subscribe_to_market"][0]
    return ids


def limit_order(oid: str, sells: tuple[int, str], wants: tuple[int, str], for_sale: int) -> dict[str, Any]:
    return {
        "id": oid,
        "seller": "1.2.5",
        "for_sale": str(for_sale),
        "sell_price": {
            "base": {"amount": sells[0], "asset_id": sells[1]},
            "quote": {"amount": wants[0], "asset_id": wants[1]},
        },
        "expiration": "2030-01-01T00:00:00",
    }
