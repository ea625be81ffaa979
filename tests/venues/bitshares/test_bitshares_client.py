"""BitShares client end to end over real sockets against BitSharesSim (checked against what it sent)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from rxfeeds import ops
from rxfeeds.books.book import OrderBook
from rxfeeds.errors import AuthError, ConnectionFailed, FrameError, InvalidArgument, SubscriptionError
from rxfeeds.events import BookOrder, ConnectionState, StreamReset, Trade
from rxfeeds.sim.bitshares import CHAIN_ID, BitSharesSim
from rxfeeds.venues.bitshares.client import BitShares
from rxfeeds.venues.bitshares.codec import (
    AccountUpdate,
    BitSharesRPCError,
    BlockApplied,
    CallOrderUpdate,
    ObjectUpdate,
    OrderFill,
    PendingTransaction,
)
from tests.helpers import FAST, Collector, wait_until


class RecordingSim(BitSharesSim):
    """Records every database call by name (to see keep-alives and session setup)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.calls: list[tuple[str, Any]] = []

    def _call(self, conn: Any, api: Any, name: Any, args: list[Any]) -> Any:
        self.calls.append((str(name), args))
        return super()._call(conn, api, name, args)


@pytest.fixture
def sim() -> Iterator[RecordingSim]:
    with RecordingSim(seed=21, tick_interval=0.02) as srv:
        yield srv
        assert srv.hook_errors == []


@pytest.fixture
def client(sim: BitSharesSim) -> Iterator[BitShares]:
    bts = BitShares(sim.url, keep_alive=5, backoff=FAST)
    yield bts
    bts.close()


def contiguous_in(sub: list[Any], seq: list[Any]) -> bool:
    if not sub:
        return False
    start = seq.index(sub[0]) if sub[0] in seq else -1
    return start >= 0 and seq[start : start + len(sub)] == sub


def test_blocks_and_pending_transactions_match_what_the_node_sent(sim: BitSharesSim, client: BitShares) -> None:
    blocks = Collector().watch(client.blocks())
    txs = Collector().watch(client.transactions())
    wait_until(lambda: len(blocks.of(BlockApplied)) >= 10 and len(txs.of(PendingTransaction)) >= 10)
    sim.freeze()
    sent_blocks = sim.call(lambda: list(sim.sent_blocks))
    wait_until(lambda: blocks.of(BlockApplied)[-1].block_id == sent_blocks[-1])
    got = blocks.of(BlockApplied)
    assert contiguous_in([b.block_id for b in got], sent_blocks)
    assert [b.block_num for b in got] == [int(b.block_id[:8], 16) for b in got]
    assert [b.block_num for b in got] == list(range(got[0].block_num, got[0].block_num + len(got)))
    sent_txs = sim.call(lambda: list(sim.sent_transactions))
    assert contiguous_in([t.data for t in txs.of(PendingTransaction)], sent_txs)


def test_objects_initial_state_updates_and_removal(sim: BitSharesSim, client: BitShares) -> None:
    dgp = Collector().watch(client.objects("2.1.0"))
    wait_until(lambda: len(dgp.of(ObjectUpdate)) >= 5)
    first = dgp.of(ObjectUpdate)[0]
    assert first.initial and first.object_id == "2.1.0"
    # Pick a resting limit order and follow it by id until the market removes it.
    market = Collector().watch(client.market("BTS", "USD"))
    wait_until(lambda: market.of(BookOrder))
    order_id = sim.call(lambda: min(oid for oid in sim.objects if oid.startswith("1.7.")))
    order = Collector().watch(client.objects([order_id]))
    wait_until(lambda: any(o.removed for o in order.of(ObjectUpdate)), timeout=20)
    updates = order.of(ObjectUpdate)
    assert updates[0].initial and updates[0].data["id"] == order_id
    assert updates[-1].removed and updates[-1].data is None
    assert sim.call(lambda: order_id not in sim.objects)
    sim.freeze()
    head = sim.call(lambda: sim.objects["2.1.0"]["head_block_number"])
    wait_until(lambda: dgp.of(ObjectUpdate)[-1].data["head_block_number"] == head)
    numbers = [o.data["head_block_number"] for o in dgp.of(ObjectUpdate)]
    assert numbers == sorted(numbers)


def test_accounts_follow_their_statistics_and_wildcards_see_them(sim: BitSharesSim, client: BitShares) -> None:
    accounts = Collector().watch(client.accounts(["init0", "1.2.22"]))
    wildcard = Collector().watch(client.objects(["2.6.x"]))
    wait_until(lambda: len([a for a in accounts.of(AccountUpdate) if not a.initial]) >= 4, timeout=20)
    initial = [a for a in accounts.of(AccountUpdate) if a.initial]
    assert {(a.account, a.account_id) for a in initial} == {("init0", "1.2.17"), ("1.2.22", "1.2.22")}
    sim.freeze()
    want = sim.call(lambda: {k: dict(sim.objects[k]) for k in ("2.6.17", "2.6.22")})

    def latest_equal() -> bool:
        latest = {a.data["id"]: a.data for a in accounts.of(AccountUpdate)}
        return latest == want

    wait_until(latest_equal)
    # Only the subscribed accounts' statistics arrive, on both streams.
    assert {a.data["owner"] for a in accounts.of(AccountUpdate)} == {"1.2.17", "1.2.22"}
    seen = {o.object_id for o in wildcard.of(ObjectUpdate)}
    assert seen and seen <= {"2.6.17", "2.6.22"}


def book_levels(book: OrderBook) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    return [(p, round(s, 6)) for p, s in book.bids], [(p, round(s, 6)) for p, s in book.asks]


def test_market_book_fills_and_call_orders_match_the_node(sim: BitSharesSim, client: BitShares) -> None:
    events = Collector().watch(client.market("BTS", "USD"))
    books: list[Any] = []
    client.market("BTS", "USD").pipe(ops.order_book()).subscribe(books.append)
    wait_until(lambda: len(events.of(OrderFill)) >= 6 and events.of(CallOrderUpdate), timeout=20)
    sim.freeze()
    truth = sim.truth("BTS:USD")
    want = ([(p, round(s, 6)) for p, s, *_ in truth.bids], [(p, round(s, 6)) for p, s, *_ in truth.asks])
    wait_until(lambda: isinstance(books[-1], OrderBook) and book_levels(books[-1]) == want)
    orders = events.of(BookOrder)
    assert orders[0].snapshot and any(o.removed for o in orders)
    # Fills: two per match (maker and taker), priced and sized like the node's trades.
    sent = sim.call(lambda: list(sim.sent_fills["BTS:USD"]))
    fills = events.of(OrderFill)
    wait_until(lambda: len(events.of(OrderFill)) == 2 * len(sent))
    fills = events.of(OrderFill)
    for record, (maker, taker) in zip(sent, zip(fills[::2], fills[1::2], strict=True), strict=True):
        assert (maker.order_id, taker.order_id) == (record["maker_order"], record["taker_order"])
        assert maker.is_maker and not taker.is_maker
        assert taker.side == record["taker_side"] and maker.side != taker.side
        assert maker.size == pytest.approx(record["size"]) and taker.price == pytest.approx(record["price"])
    sent_calls = sim.call(lambda: list(sim.sent_call_orders["BTS:USD"]))
    calls = events.of(CallOrderUpdate)
    assert [c.order_id if not c.removed else ("removed", c.order_id) for c in calls] == [
        s["id"] if isinstance(s, dict) else ("removed", s) for s in sent_calls
    ]


def test_trades_are_the_taker_fills_and_book_is_the_market(sim: BitSharesSim, client: BitShares) -> None:
    trades = Collector().watch(client.trades("BTS:USD"))
    book = Collector().watch(client.book("BTS:USD", depth=5))
    wait_until(lambda: len(trades.of(Trade)) >= 5 and book.of(BookOrder))
    sim.freeze()
    sent = sim.call(lambda: list(sim.sent_fills["BTS:USD"]))
    wait_until(lambda: len(trades.of(Trade)) == len(sent))
    got = [(t.trade_id, t.side, t.price, t.size) for t in trades.of(Trade)]
    want = [(r["taker_order"], r["taker_side"], r["price"], r["size"]) for r in sent]
    assert [g[:2] for g in got] == [w[:2] for w in want]
    assert all(g[2] == pytest.approx(w[2]) and g[3] == pytest.approx(w[3]) for g, w in zip(got, want, strict=True))
    assert len(client.connections["node"].stats().routes) == 1  # one market subscription shared
    with pytest.raises(InvalidArgument, match="symbol"):
        client.trades("BTSUSD")


def test_call_results_and_rpc_errors(sim: BitSharesSim, client: BitShares) -> None:
    blocks = Collector().watch(client.blocks())
    assert client.call(0, "get_chain_id", []).run() == CHAIN_ID
    objects = client.call(0, "get_objects", [["1.3.0", "1.2.999999"]]).run()
    assert objects[0]["symbol"] == "BTS" and objects[1] is None
    with pytest.raises(BitSharesRPCError) as info:
        client.call(0, "no_such_method", []).run()
    assert info.value.code == 10 and "no_such_method" in info.value.message
    with pytest.raises(BitSharesRPCError, match="disallowed"):
        client.call(0, "set_subscribe_callback", [9, True]).run()
    n = len(blocks.items)
    wait_until(lambda: len(blocks.items) > n + 3)
    assert blocks.error is None


def test_broadcast_reaches_the_pending_transaction_stream(sim: BitSharesSim, client: BitShares) -> None:
    txs = Collector().watch(client.transactions())
    wait_until(lambda: txs.items)
    tx = {"ref_block_num": 7, "operations": [[1, {"seller": "1.2.22"}]], "extensions": [], "signatures": ["00"]}
    assert client.call("network_broadcast", "broadcast_transaction", [tx]).run() is None
    wait_until(lambda: any(t.data == tx for t in txs.of(PendingTransaction)))


def test_unknown_object_and_asset_fail_only_their_streams(sim: BitSharesSim, client: BitShares) -> None:
    blocks = Collector().watch(client.blocks())
    good = Collector().watch(client.objects("2.1.0"))
    unknown_obj = Collector().watch(client.objects(["2.1.0", "1.2.987654"]))
    unknown_asset = Collector().watch(client.market("BTS", "NOSUCH"))
    unknown_account = Collector().watch(client.accounts("nobody-at-all"))
    wait_until(lambda: unknown_obj.error and unknown_asset.error and unknown_account.error)
    assert isinstance(unknown_obj.error, SubscriptionError) and "1.2.987654" in str(unknown_obj.error)
    assert isinstance(unknown_asset.error, SubscriptionError) and "NOSUCH" in str(unknown_asset.error)
    assert "nobody-at-all" in str(unknown_account.error)
    n, m = len(blocks.items), len(good.items)
    wait_until(lambda: len(blocks.items) > n + 3 and len(good.items) > m + 3)
    assert blocks.error is None and good.error is None


def test_refused_market_subscription_is_isolated(sim: BitSharesSim, client: BitShares) -> None:
    sim.faults.reject_subscriptions(["BTS:CNY"])
    refused = Collector().watch(client.market("BTS", "CNY"))
    fine = Collector().watch(client.market("BTS", "USD"))
    wait_until(lambda: refused.error is not None and len(fine.items) > 50)
    assert isinstance(refused.error, SubscriptionError) and fine.error is None


def test_wrong_password_errors_login_and_gated_calls_only() -> None:
    with BitSharesSim(seed=3, tick_interval=0.02, credentials={"alice": "right"}) as srv:
        bad = BitShares(srv.url, user="alice", password="wrong-secret", backoff=FAST)
        good = BitShares(srv.url, user="alice", password="right", backoff=FAST)
        try:
            notices: list[Any] = []
            bad.notices.subscribe(notices.append)
            blocks = Collector().watch(bad.blocks())
            with pytest.raises(AuthError) as info:
                bad.login().run()
            assert "alice" in str(info.value) and "wrong-secret" not in str(info.value)
            wait_until(lambda: any(isinstance(n, AuthError) for n in notices))
            assert all("wrong-secret" not in str(n) for n in notices)
            with pytest.raises(BitSharesRPCError, match="Access denied"):
                bad.call("network_broadcast", "broadcast_transaction", [{"operations": []}]).run()
            n = len(blocks.items)
            wait_until(lambda: len(blocks.items) > n + 3)
            assert blocks.error is None
            assert "wrong-secret" not in repr(bad) and "wrong-secret" not in repr(bad._codec())
            assert good.login().run() is True
            assert good.call("network_broadcast", "broadcast_transaction", [{"operations": []}]).run() is None
        finally:
            bad.close()
            good.close()


def refused_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"ws://127.0.0.1:{port}"


def test_fails_over_when_the_first_url_refuses(sim: BitSharesSim) -> None:
    bts = BitShares([refused_url(), sim.url], backoff=FAST)
    try:
        states: list[Any] = []
        bts.state.subscribe(states.append)
        blocks = Collector().watch(bts.blocks())
        wait_until(lambda: len(blocks.of(BlockApplied)) >= 3)
        sent = sim.call(lambda: list(sim.sent_blocks))
        assert all(b.block_id in sent for b in blocks.of(BlockApplied))
        assert any(s.state is ConnectionState.RECONNECTING for s in states)
        assert bts.connections["node"].url == sim.url
    finally:
        bts.close()


def test_num_retries_bounds_the_reconnect_attempts() -> None:
    bts = BitShares([refused_url(), refused_url()], num_retries=2, backoff=FAST)
    try:
        states: list[Any] = []
        bts.state.subscribe(states.append)
        sink = Collector().watch(bts.blocks())
        wait_until(lambda: sink.error is not None)
        assert isinstance(sink.error, ConnectionFailed)
        assert sum(1 for s in states if s.state is ConnectionState.CONNECTING) == 3  # first try + 2 retries
        assert states[-1].state is ConnectionState.FAILED
    finally:
        bts.close()


def test_fails_over_when_the_node_dies_and_resubscribes() -> None:
    first = RecordingSim(seed=1, tick_interval=0.02).start()
    with RecordingSim(seed=2, tick_interval=0.02) as second:
        bts = BitShares([first.url, second.url], backoff=FAST)
        try:
            blocks = Collector().watch(bts.blocks())
            market = Collector().watch(bts.market("BTS", "USD"))
            books: list[Any] = []
            bts.market("BTS", "USD").pipe(ops.order_book()).subscribe(books.append)
            wait_until(lambda: len(blocks.of(BlockApplied)) >= 3 and market.of(BookOrder))
            first.stop()
            wait_until(lambda: blocks.of(StreamReset) and market.of(StreamReset))
            assert blocks.of(StreamReset)[0].reason == "reconnect"

            def second_blocks() -> list[BlockApplied]:
                return [b for b in blocks.of(BlockApplied) if b.block_id in second.sent_blocks]

            wait_until(lambda: len(second_blocks()) >= 3)
            # The session was set up again on the new node and every subscription re-sent.
            names = [name for name, _ in second.calls]
            for name in ("database", "set_subscribe_callback", "set_block_applied_callback", "subscribe_to_market"):
                assert name in names
            second.freeze()
            truth = second.truth("BTS:USD")
            want = ([(p, round(s, 6)) for p, s, *_ in truth.bids], [(p, round(s, 6)) for p, s, *_ in truth.asks])
            wait_until(lambda: isinstance(books[-1], OrderBook) and books[-1].synced and book_levels(books[-1]) == want)
            assert blocks.error is None and market.error is None
        finally:
            bts.close()
            first.stop()


def test_a_node_that_stops_answering_is_dropped_for_the_next() -> None:
    with RecordingSim(seed=1, tick_interval=0.02) as first, RecordingSim(seed=2, tick_interval=0.02) as second:
        bts = BitShares([first.url, second.url], keep_alive=0.2, backoff=FAST, stale_timeout=0.6)
        try:
            blocks = Collector().watch(bts.blocks())
            wait_until(lambda: len(blocks.of(BlockApplied)) >= 3)
            # The keep-alive RPC goes out on its period.
            wait_until(
                lambda: sum(1 for name, args in first.calls if name == "get_objects" and args == [["2.8.0"]]) >= 2
            )
            first.faults.stall()
            wait_until(lambda: any(b.block_id in second.sent_blocks for b in blocks.of(BlockApplied)))
            assert blocks.of(StreamReset) and blocks.error is None
            first.faults.resume()
        finally:
            bts.close()


def test_reset_subscriptions_sets_everything_up_again(sim: RecordingSim, client: BitShares) -> None:
    blocks = Collector().watch(client.blocks())
    dgp = Collector().watch(client.objects("2.1.0"))
    wait_until(lambda: len(blocks.items) >= 3 and len(dgp.items) >= 3)
    client.reset_subscriptions()
    wait_until(lambda: blocks.of(StreamReset) and dgp.of(StreamReset))
    assert blocks.of(StreamReset)[0].reason == "reset"
    wait_until(lambda: "cancel_all_subscriptions" in [name for name, _ in sim.calls])
    n, m = len(blocks.items), len(dgp.items)
    wait_until(lambda: len(blocks.items) > n + 3 and len(dgp.items) > m + 3)
    after = dgp.items[dgp.items.index(dgp.of(StreamReset)[0]) + 1]
    assert isinstance(after, ObjectUpdate) and after.initial


def test_bad_arguments_raise_before_anything_is_sent() -> None:
    with pytest.raises(InvalidArgument, match="urls"):
        BitShares("http://node")
    with pytest.raises(InvalidArgument, match="num_retries"):
        BitShares("ws://127.0.0.1:1", num_retries=0)
    bts = BitShares("ws://127.0.0.1:1")
    with pytest.raises(InvalidArgument, match="ids"):
        bts.objects(["1.2"])
    with pytest.raises(InvalidArgument, match="names_or_ids"):
        bts.accounts(["Not An Account"])
    with pytest.raises(InvalidArgument, match="quote"):
        bts.market("BTS", "BTS")
    with pytest.raises(InvalidArgument, match="params"):
        bts.call(0, "get_objects", "2.1.0")
    assert bts.connections == {}


def test_malformed_frames_are_frame_errors_and_streams_go_on(sim: BitSharesSim, client: BitShares) -> None:
    errors: list[Exception] = []
    client.errors.subscribe(errors.append)
    blocks = Collector().watch(client.blocks())
    wait_until(lambda: len(blocks.items) >= 2)
    sim.faults.send_malformed('{"method":"notice","params":[2,[12345]]')
    sim.faults.send_malformed('{"method":"notice","params":[2,[12345]]}')
    sim.faults.send_malformed("[1,2,3]")
    wait_until(lambda: len(errors) >= 3)
    assert all(isinstance(e, FrameError) and e.raw is not None for e in errors)
    n = len(blocks.items)
    wait_until(lambda: len(blocks.items) > n + 3)
    assert blocks.error is None
