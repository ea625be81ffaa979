"""BitShares codec: frames as in protocols.md §1.4, notices as in §1.5, hand-computed prices."""

from __future__ import annotations

import orjson
import pytest

from rxfeeds.codec import Data, Notice, Pong, Rejected, Reply
from rxfeeds.errors import AuthError, FrameError, SubscriptionError
from rxfeeds.events import BookOrder
from rxfeeds.venues.bitshares.codec import (
    AccountUpdate,
    BitSharesCodec,
    BitSharesRPCError,
    BlockApplied,
    CallOrderUpdate,
    ObjectUpdate,
    OrderFill,
    PendingTransaction,
)
from tests.support.bitshares import ASSETS, call, events, limit_order, notice, open_market, reply


def test_session_frames_match_python_bitshares_shape() -> None:
    codec = BitSharesCodec("alice", "secret")
    frames = [call(f) for f in codec.on_open_frames()]
    assert [(api, method, params) for _, api, method, params in frames] == [
        (1, "login", ["alice", "secret"]),
        (1, "database", []),
        (0, "set_subscribe_callback", [1, False]),
    ]
    ids = [rid for rid, *_ in frames]
    assert ids == sorted(set(ids))
    assert "secret" not in repr(codec)
    # Anonymous sessions skip the login call.
    assert [call(f)[2] for f in BitSharesCodec().on_open_frames()] == ["database", "set_subscribe_callback"]


def test_session_ids_restart_per_connection_user_ids_never_repeat() -> None:
    codec = BitSharesCodec()
    first = [call(f)[0] for f in codec.on_open_frames()]
    user = codec.next_id()
    codec.reset()
    second = [call(f)[0] for f in codec.on_open_frames()]
    assert first == second == [2, 3]  # a recorded session replays with the same ids
    assert [call(f)[0] for f in BitSharesCodec("u", "p").on_open_frames()] == [1, 2, 3]
    assert codec.next_id() > user > max(first)
    assert call(codec.ping_frame())[0] > user


def test_wrong_password_is_a_notice_with_auth_error() -> None:
    codec = BitSharesCodec("alice", "hunter2")
    login_id = call(codec.on_open_frames()[0])[0]
    (msg,) = codec.decode(reply(login_id, False), 1.0)
    assert isinstance(msg, Notice) and isinstance(msg.event, AuthError)
    assert "alice" in str(msg.event) and "hunter2" not in str(msg.event)
    assert codec.logged_in is False


def test_objects_initial_state_then_notices_and_removals() -> None:
    codec = BitSharesCodec()
    key = ("objects", "2.1.0,1.7.x")
    (frame,) = codec.subscribe_frames(key)
    rid, api, method, params = call(frame)
    # Wildcards cannot be asked for; only the concrete id is fetched (and auto-subscribed).
    assert (api, method, params) == (0, "get_objects", [["2.1.0"], True])
    initial = events(codec.decode(reply(rid, [{"id": "2.1.0", "head_block_number": 5}]), 1.0), key)
    assert [(e.object_id, e.initial, e.data["head_block_number"]) for e in initial] == [("2.1.0", True, 5)]
    # Doc example shape: params[1] = [[objects...]]; removed objects arrive as id strings.
    msgs = codec.decode(
        notice(
            1,
            [
                {"id": "2.1.0", "head_block_number": 6},
                {"id": "1.7.9", "for_sale": 1},
                "1.7.3",
                {"id": "2.5.1"},
            ],
        ),
        2.0,
    )
    got = events(msgs, key)
    assert all(isinstance(e, ObjectUpdate) for e in got)
    assert [(e.object_id, e.removed) for e in got] == [("2.1.0", False), ("1.7.9", False), ("1.7.3", True)]
    assert got[0].data["head_block_number"] == 6


def test_unknown_object_id_rejects_that_key_only() -> None:
    codec = BitSharesCodec()
    bad, good = ("objects", "1.2.999999"), ("objects", "2.1.0")
    rid_bad = call(codec.subscribe_frames(bad)[0])[0]
    codec.subscribe_frames(good)
    (msg,) = codec.decode(reply(rid_bad, [None]), 1.0)
    assert isinstance(msg, Rejected) and msg.key == bad
    assert isinstance(msg.error, SubscriptionError) and "1.2.999999" in str(msg.error)
    # The good key still routes.
    assert events(codec.decode(notice(1, [{"id": "2.1.0"}]), 2.0), good)
    assert not events(codec.decode(notice(1, [{"id": "1.2.999999"}]), 2.0), bad)


def test_accounts_resolve_names_and_route_statistics_by_owner() -> None:
    codec = BitSharesCodec()
    key = ("accounts", "init0,1.2.30")
    rid, _, method, params = call(codec.subscribe_frames(key)[0])
    assert (method, params) == ("get_full_accounts", [["init0", "1.2.30"], True])
    stats17 = {"id": "2.6.17", "owner": "1.2.17", "total_ops": 1}
    stats30 = {"id": "2.6.30", "owner": "1.2.30", "total_ops": 9}
    full = [
        ["init0", {"account": {"id": "1.2.17", "name": "init0"}, "statistics": stats17}],
        ["1.2.30", {"account": {"id": "1.2.30", "name": "bob"}, "statistics": stats30}],
    ]
    initial = events(codec.decode(reply(rid, full), 1.0), key)
    assert [(e.account, e.account_id, e.initial) for e in initial] == [
        ("init0", "1.2.17", True),
        ("1.2.30", "1.2.30", True),
    ]
    update = {"id": "2.6.17", "owner": "1.2.17", "total_ops": 2}
    other = {"id": "2.6.99", "owner": "1.2.99", "total_ops": 2}
    got = events(codec.decode(notice(1, [update, other]), 2.0), key)
    assert len(got) == 1 and isinstance(got[0], AccountUpdate)
    assert (got[0].account, got[0].data["total_ops"]) == ("init0", 2)


def test_unknown_account_is_rejected() -> None:
    codec = BitSharesCodec()
    key = ("accounts", "nobody-here")
    rid = call(codec.subscribe_frames(key)[0])[0]
    (msg,) = codec.decode(reply(rid, []), 1.0)
    assert isinstance(msg, Rejected) and "nobody-here" in str(msg.error)


def test_blocks_and_pending_transactions() -> None:
    codec = BitSharesCodec()
    _, _, method, params = call(codec.subscribe_frames(("blocks", ""))[0])
    assert (method, params) == ("set_block_applied_callback", [2])
    _, _, method, params = call(codec.subscribe_frames(("transactions", ""))[0])
    assert (method, params) == ("set_pending_transaction_callback", [0])
    (block,) = events(codec.decode(notice(2, "0062f19df70ecf3a478a84b4607d9ad8b3e3b607"), 1.0))
    assert isinstance(block, BlockApplied)
    assert block.block_num == 0x0062F19D and block.block_id.startswith("0062f19d")
    tx = {"ref_block_num": 1, "operations": [[0, {}]], "signatures": ["ab"]}
    (pending,) = events(codec.decode(notice(0, tx), 1.0))
    assert isinstance(pending, PendingTransaction) and pending.data == tx
    codec.unsubscribe_frames(("blocks", ""))
    assert codec.decode(notice(2, "00000001aa"), 1.0) == []


def test_market_orders_prices_fills_and_removals() -> None:
    codec = BitSharesCodec()
    key = ("market", "BTS:USD")
    ids = open_market(codec, key)
    assert ids["callback"] == 4  # the first market takes python-bitshares' on_market slot
    # A notice racing ahead of the asset lookup is held back, then decoded; its limit orders
    # are dropped because the market's first image (get_limit_orders) covers them.
    bid = limit_order("1.7.1", (2_000_000, "1.3.0"), (10_000, "1.3.121"), 1_000_000)
    early_call = {
        "id": "1.8.3",
        "borrower": "1.2.6",
        "collateral": "100000",
        "debt": "10000",
        "call_price": {"base": {"amount": 1, "asset_id": "1.3.0"}, "quote": {"amount": 1, "asset_id": "1.3.121"}},
    }
    assert codec.decode(notice(4, [bid, "1.7.0", early_call]), 1.0) == []
    early = events(codec.decode(reply(ids["lookup_asset_symbols"], ASSETS), 1.0))
    assert [(type(e).__name__, e.order_id) for e in early] == [("CallOrderUpdate", "1.8.3")]
    image = events(codec.decode(reply(ids["get_limit_orders"], [bid]), 1.0))
    # 20 BTS for 1 USD -> 20 BTS/USD; 10 BTS for sale -> 0.5 USD.
    assert [(e.order_id, e.side, e.price, e.size, e.snapshot) for e in image] == [("1.7.1", "buy", 20.0, 0.5, True)]
    ask = limit_order("1.7.2", (30_000, "1.3.121"), (6_600_000, "1.3.0"), 30_000)
    new = events(codec.decode(notice(4, [ask]), 1.5), key)
    assert [(e.order_id, e.side, e.price, e.size, e.snapshot) for e in new] == [("1.7.2", "sell", 22.0, 3.0, False)]
    fill = [
        [
            4,
            {
                "order_id": "1.7.2",
                "account_id": "1.2.5",
                "pays": {"amount": 10_000, "asset_id": "1.3.121"},
                "receives": {"amount": 2_200_000, "asset_id": "1.3.0"},
                "is_maker": True,
            },
        ],
        [0, {}],
    ]
    call_order = {
        "id": "1.8.4",
        "borrower": "1.2.6",
        "collateral": "500000000",
        "debt": "100000",
        "call_price": {
            "base": {"amount": 1, "asset_id": "1.3.0"},
            "quote": {"amount": 1, "asset_id": "1.3.121"},
        },
    }
    got = events(codec.decode(notice(4, [fill, call_order, "1.7.2", "1.8.4"]), 2.0), key)
    f, c, removed, c_removed = got
    assert isinstance(f, OrderFill) and (f.side, f.size, f.price, f.is_maker) == ("sell", 1.0, 22.0, True)
    assert isinstance(c, CallOrderUpdate) and (c.collateral, c.debt) == (5000.0, 10.0)
    assert isinstance(removed, BookOrder) and removed.removed and (removed.side, removed.price) == ("sell", 22.0)
    assert isinstance(c_removed, CallOrderUpdate) and c_removed.removed


def test_two_markets_get_their_own_callbacks() -> None:
    codec = BitSharesCodec()
    a, b = ("market", "BTS:USD"), ("market", "BTS:CNY")
    ida = open_market(codec, a)
    frames = [call(f) for f in codec.subscribe_frames(b)]
    idb = next(params[0] for _, _, method, params in frames if method == "subscribe_to_market")
    assert ida["callback"] != idb
    codec.decode(reply(ida["lookup_asset_symbols"], ASSETS), 1.0)
    codec.decode(reply(ida["get_limit_orders"], []), 1.0)
    msgs = codec.decode(notice(ida["callback"], ["1.7.77"]), 1.0)
    assert [m.key for m in msgs if isinstance(m, Data)] == [a]
    assert codec.decode(notice(idb, ["1.7.78"]), 1.0) == []  # assets of b not known yet: held back
    unsub = [call(f)[2:] for f in codec.unsubscribe_frames(a)]
    assert unsub == [("unsubscribe_from_market", ["BTS", "USD"])]
    assert codec.decode(notice(ida["callback"], ["1.7.79"]), 1.0) == []


def test_unknown_asset_rejects_market() -> None:
    codec = BitSharesCodec()
    key = ("market", "BTS:NOPE")
    ids = open_market_any(codec, key)
    (msg,) = codec.decode(reply(ids["lookup_asset_symbols"], [ASSETS[0], None]), 1.0)
    assert isinstance(msg, Rejected) and "NOPE" in str(msg.error)


def open_market_any(codec: BitSharesCodec, key: tuple[str, str]) -> dict[str, int]:
    return {method: rid for rid, _, method, _ in (call(f) for f in codec.subscribe_frames(key))}


def test_user_calls_reply_and_rpc_errors() -> None:
    codec = BitSharesCodec()
    rid = codec.next_id()
    assert call(codec.call_frame(rid, 0, "get_chain_id", []))[1:] == (0, "get_chain_id", [])
    (ok,) = codec.decode(reply(rid, "4018d784"), 1.0)
    assert ok == Reply(rid, result="4018d784")
    err = {"code": -32601, "message": "Method not found", "data": None}
    (bad,) = codec.decode(orjson.dumps({"id": rid + 1, "jsonrpc": "2.0", "error": err}), 1.0)
    assert isinstance(bad, Reply) and isinstance(bad.error, BitSharesRPCError)
    assert (bad.error.code, bad.error.message) == (-32601, "Method not found")


def test_keep_alive_reply_is_a_pong() -> None:
    codec = BitSharesCodec()
    rid, api, method, params = call(codec.ping_frame())
    assert (api, method, params) == (0, "get_objects", [["2.8.0"]])
    assert codec.decode(reply(rid, [{"id": "2.8.0"}]), 1.0) == [Pong(rid)]


@pytest.mark.parametrize(
    "frame",
    [
        b"not json",
        b"[1,2]",
        b'{"jsonrpc":"2.0"}',
        b'{"method":"notice","params":[2,[12]]}',
        b'{"method":"notice"}',
    ],
)
def test_bad_frames_raise_frame_error(frame: bytes) -> None:
    codec = BitSharesCodec()
    codec.subscribe_frames(("blocks", ""))
    with pytest.raises(FrameError) as info:
        codec.decode(frame, 1.0)
    assert info.value.raw == frame


def test_redact_masks_only_the_password() -> None:
    codec = BitSharesCodec("alice", "s3cret")
    login = codec.on_open_frames()[0]
    assert "s3cret" in login  # the node needs it in clear
    masked = codec.redact(login)
    assert "s3cret" not in masked and call(masked)[3] == ["alice", "***"]
    other = codec.call_frame(9, 0, "get_objects", [["2.1.0"]])
    assert codec.redact(other) == other
