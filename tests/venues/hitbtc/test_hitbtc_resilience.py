"""HitBTC v2 client through faults: sequence gaps healed by ops.order_book, reconnects with a
fresh login and resubscription, malformed frames that touch nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rxfeeds import ops
from rxfeeds.events import IntegrityEvent, OrderUpdate, StreamReset, Trade
from rxfeeds.sim.hitbtc import HitBTCSim
from rxfeeds.transport import Backoff
from rxfeeds.venues.hitbtc.client import HitBTC
from tests.helpers import Collector as Sink
from tests.helpers import wait_until

KEY, SECRET = "sim-key", "sim-secret"


@pytest.fixture
def sim() -> Iterator[HitBTCSim]:
    with HitBTCSim(seed=23, tick_interval=None, resnapshot_after=None) as server:
        yield server
        assert server.hook_errors == []


def client_for(sim: HitBTCSim, **kw: Any) -> HitBTC:
    return HitBTC(
        sim.public_url,
        trading_url=sim.trading_url,
        ping_interval=None,
        request_timeout=5.0,
        backoff=Backoff(initial=0.05, max_delay=0.2),
        **kw,
    )


def book_levels(book: Any) -> tuple[dict[float, float], dict[float, float]]:
    return dict(book.bids), dict(book.asks)


def truth_levels(sim: HitBTCSim, symbol: str) -> tuple[dict[float, float], dict[float, float]]:
    t = sim.truth(symbol)
    return {p: s for p, s, _, _ in t.bids}, {p: s for p, s, _, _ in t.asks}


def test_order_book_operator_heals_a_sequence_gap_by_resubscribing(sim: HitBTCSim) -> None:
    with client_for(sim) as client:
        sink = Sink()
        sub = client.orderbook("ETHBTC").pipe(ops.order_book(integrity=True)).subscribe(sink)
        wait_until(lambda: any(getattr(b, "synced", False) for b in sink.items))
        sim.faults.skip_sequence("ETHBTC")
        sim.step(5)
        wait_until(lambda: [e.kind for e in sink.of(IntegrityEvent)].count("synced") >= 2)
        kinds = [e.kind for e in sink.of(IntegrityEvent)]
        assert "gap" in kinds and "resync" in kinds
        assert sim.faults.counts["skip_sequence"] == 1
        sim.step(5)
        expected_sequence = sim.call(lambda: sim.sequences["ETHBTC"])
        wait_until(lambda: getattr(sink.items[-1], "sequence", None) == expected_sequence)
        last = sink.items[-1]
        assert last.synced and book_levels(last) == truth_levels(sim, "ETHBTC")
        sub.dispose()
    assert not sink.errors


def test_reconnect_logs_in_again_and_resubscribes_everything(sim: HitBTCSim) -> None:
    with client_for(sim, key=KEY, secret=SECRET) as client:
        book, reports = Sink(), Sink()
        d1 = client.orderbook("ETHBTC").subscribe(book)
        d2 = client.reports().subscribe(reports)
        wait_until(
            lambda: book.items and sim.call(lambda: [c.state.get("account") for c in sim.connections]).count(KEY)
        )
        client.new_order("ETHBTC", "buy", "1", "0.03", client_order_id="keep-me").run()
        assert sim.faults.close_all(1012, "restart") == 2
        wait_until(lambda: book.of(StreamReset) and reports.of(StreamReset))
        # after the reconnect: a new login (the new connection has an account), a new snapshot,
        # and the reports snapshot listing the order placed before
        wait_until(
            lambda: sim.call(lambda: sorted(str(c.state.get("account")) for c in sim.connections)) == ["None", KEY]
        )
        wait_until(
            lambda: any(
                isinstance(e, OrderUpdate) for e in reports.items[reports.items.index(reports.of(StreamReset)[0]) :]
            )
        )
        after_reset = reports.items[reports.items.index(reports.of(StreamReset)[0]) + 1 :]
        assert [u.client_order_id for u in after_reset] == ["keep-me"]
        reset_at = book.items.index(book.of(StreamReset)[0])
        wait_until(lambda: len(book.items) > reset_at + 1)
        assert type(book.items[reset_at + 1]).__name__ == "BookSnapshot"
        assert client.cancel_order("keep-me").run().status == "canceled"
        d1.dispose()
        d2.dispose()


def test_malformed_frame_reaches_errors_stream_only(sim: HitBTCSim) -> None:
    with client_for(sim) as client:
        trades, errors = Sink(), Sink()
        client.errors.subscribe(errors)
        d = client.trades("ETHBTC").subscribe(trades)
        wait_until(lambda: sim.call(lambda: any(("trades", "ETHBTC") in c.subscriptions for c in sim.connections)))
        sim.faults.send_malformed('{"jsonrpc":"2.0","method":"updateTrades","params":{"data":[{"id":1}]')
        sim.faults.send_malformed(
            '{"jsonrpc":"2.0","method":"updateTrades","params":{"data":[{"id":1}],"symbol":"ETHBTC"}}'
        )
        sim.step(40)
        wait_until(lambda: len(errors.items) >= 2 and trades.of(Trade))
        assert not trades.errors
        assert all(type(e).__name__ in ("FrameError", "UnknownMessage") for e in errors.items)
        d.dispose()


def test_request_times_out_when_the_venue_stalls(sim: HitBTCSim) -> None:
    from rxfeeds.errors import RequestTimeout

    with HitBTC(sim.public_url, ping_interval=None, request_timeout=0.3) as client:
        assert client.symbol("ETHBTC").run()["id"] == "ETHBTC"  # the socket is open and answering
        trades = Sink()
        d = client.trades("ETHBTC").subscribe(trades)  # keeps the connection open across the stall
        wait_until(lambda: sim.call(lambda: any(("trades", "ETHBTC") in c.subscriptions for c in sim.connections)))
        sim.faults.stall()
        try:
            with pytest.raises(RequestTimeout):
                client.symbol("ETHBTC").run()
        finally:
            sim.faults.resume()
        assert client.symbol("LTCBTC").run()["id"] == "LTCBTC"
        assert not trades.errors
        d.dispose()
