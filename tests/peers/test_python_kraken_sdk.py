"""python-kraken-sdk (``kraken.spot.SpotOrderBookClient``, Kraken WS v2) against KrakenV2Sim.

The SDK keeps its own book, checks every update's CRC32 itself and resubscribes on a mismatch;
it reads the pair's decimals from REST ``AssetPairs`` (served by the simulator).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from rxfeeds.sim.kraken_v2 import KrakenV2Sim
from tests.peers.support import run, until

kraken_spot = pytest.importorskip("kraken.spot")

PAIR = "BTC/USD"


def sdk_side(book: dict[str, Any] | None, side: str) -> list[tuple[Decimal, Decimal]]:
    if not book:
        return []
    return [(Decimal(p), Decimal(v[0])) for p, v in list(book[side].items())[:10]]


def truth_side(sim: KrakenV2Sim, side: str) -> list[tuple[Decimal, Decimal]]:
    truth = sim.truth((PAIR, 10))
    return [(Decimal(lv[2]), Decimal(lv[3])) for lv in (truth.asks if side == "ask" else truth.bids)]


def make_client(sim: KrakenV2Sim, messages: list[dict[str, Any]]) -> Any:
    class Book(kraken_spot.SpotOrderBookClient):  # type: ignore[misc, name-defined]
        WS_URL = sim.url[: -len("/v2")]  # the SDK appends "/v2"

        async def on_book_update(self, pair: str, message: dict[str, Any]) -> None:
            messages.append(message)

    client = Book(depth=10)
    client._SpotOrderBookClient__market = kraken_spot.Market(url=sim.http_url)  # REST AssetPairs of the sim
    return client


async def equals_truth(sim: KrakenV2Sim, client: Any, what: str) -> None:
    sim.freeze()
    try:
        await until(
            lambda: (
                sdk_side(client.get(PAIR), "ask") == truth_side(sim, "ask")
                and sdk_side(client.get(PAIR), "bid") == truth_side(sim, "bid")
            ),
            what=what,
        )
    finally:
        sim.unfreeze()


def test_book_checksums_corruption_and_reconnect() -> None:
    async def scenario() -> None:
        with KrakenV2Sim(seed=31, tick_interval=0.05) as sim:
            messages: list[dict[str, Any]] = []
            client = make_client(sim, messages)
            await client.start()
            try:
                await client.add_book(pairs=[PAIR])
                # connected, subscribed, data: 100 updates, every checksum accepted by the SDK
                await until(lambda: len(messages) > 100, what="100 book updates")
                assert [m for m in messages if "error" in m] == []
                await equals_truth(sim, client, "the SDK's book to equal the simulator's truth")
                # a corrupted checksum is caught by the SDK's own check, which resubscribes
                sim.faults.corrupt_checksum(PAIR)
                await until(lambda: any("error" in m for m in messages), what="the SDK to flag the checksum")
                flagged = len(messages)
                await until(lambda: len(messages) > flagged + 20, timeout=30, what="updates after resubscribing")
                await equals_truth(sim, client, "the book after the resubscription")
                # injected disconnect: the SDK reconnects, resubscribes and rebuilds
                before = len(messages)
                assert sim.faults.close_all() == 1
                await until(lambda: sim.connection_count == 1 and len(messages) > before + 20, timeout=40,
                            what="reconnect")  # fmt: skip
                await equals_truth(sim, client, "the book after the reconnect")
                errors = [m for m in messages if "error" in m]
                assert len(errors) == 1, errors  # only the corrupted one
            finally:
                await client.close()
            assert sim.hook_errors == []

    run(scenario())
