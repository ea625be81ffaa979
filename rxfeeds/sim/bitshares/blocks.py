"""The BitShares simulated blocks: one per tick, with its pending transaction and notices.

Each tick is one block: a transfer goes to the pending pool (pending-transaction callbacks), the
markets step, the sender's statistics and the global properties change (object callbacks, for
subscribed ids and accounts), then the block-applied callbacks get the new block id.
"""

from __future__ import annotations

from typing import Any

import orjson

from ..server import SimConnection
from ._base import _ACCOUNTS, _FIRST_ACCOUNT, _impacted
from .markets import BitSharesMarkets

__all__ = ["BitSharesBlocks"]


class BitSharesBlocks(BitSharesMarkets):
    """Blocks, pending transactions and the notices they send."""

    def _notice(self, conn: SimConnection, callback: int, arg: Any) -> None:
        conn.send(orjson.dumps({"method": "notice", "params": [callback, [arg]]}).decode())

    def _push_pending(self, tx: dict[str, Any]) -> None:
        self.sent_transactions.append(tx)
        for conn in self.connections:
            callback = conn.state.get("tx_cb")
            if callback is not None:
                self._notice(conn, callback, tx)

    def on_tick(self, now: float) -> None:
        sender = f"1.2.{_FIRST_ACCOUNT + self._rng.randrange(len(_ACCOUNTS))}"
        receiver = f"1.2.{_FIRST_ACCOUNT + self._rng.randrange(len(_ACCOUNTS))}"
        amount = self._rng.randrange(1, 10**7)
        tx = {
            "ref_block_num": self.head_block & 0xFFFF,
            "ref_block_prefix": self._rng.randrange(2**32),
            "expiration": "2030-01-01T00:00:00",
            "operations": [
                [
                    0,
                    {
                        "fee": {"amount": 86869, "asset_id": "1.3.0"},
                        "from": sender,
                        "to": receiver,
                        "amount": {"amount": amount, "asset_id": "1.3.0"},
                        "extensions": [],
                    },
                ]
            ],
            "extensions": [],
            "signatures": ["1f" + "".join(self._rng.choice("0123456789abcdef") for _ in range(128))],
        }
        self._push_pending(tx)
        changed: dict[str, dict[str, Any] | None] = {}
        for sim in list(self.sim_markets.values()):
            self._step_market(sim, sim.market.step(now), changed)
        stats = self.objects[self.objects[sender]["statistics"]]
        stats.update(total_ops=stats["total_ops"] + 1, most_recent_op=f"2.9.{next(self._op_counter)}")
        changed[stats["id"]] = stats
        self.head_block += 1
        block_id = self._block_id(self.head_block)
        dgp = self.objects["2.1.0"]
        dgp.update(head_block_number=self.head_block, head_block_id=block_id)
        changed["2.1.0"] = dgp
        self._push_objects(changed)
        self.sent_blocks.append(block_id)
        for conn in self.connections:
            callback = conn.state.get("block_cb")
            if callback is not None:
                self._notice(conn, callback, block_id)

    def _push_objects(self, changed: dict[str, dict[str, Any] | None]) -> None:
        for conn in self.connections:
            callback = conn.state.get("object_cb")
            if callback is None:
                continue
            subscribed: set[str] = conn.state["subscribed"]
            accounts: set[str] = conn.state["accounts"]
            items: list[Any] = []
            for oid, obj in changed.items():
                owner = _impacted(obj) if obj is not None else self._removed_seller.get(oid, "")
                if oid in subscribed or (owner and owner in accounts):
                    items.append(obj if obj is not None else oid)
                    if obj is None:
                        subscribed.discard(oid)
            if items:
                self._notice(conn, callback, items)
        self._removed_seller.clear()
