"""Midchains codec: the documented frames (protocols.md §2), correlation without request ids, RSA."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from rxfeeds.codec import Ack, Data, Notice, Rejected, Reply
from rxfeeds.errors import AuthError, FrameError, InvalidArgument
from rxfeeds.events import BookOrder, Trade
from rxfeeds.venues.midchains.codec import MidchainsCodec, MidchainsError, check_security, encrypt_password

# The documentation's own book example (fixed to standard JSON).
DOC_BOOK = (
    b'{"security":"LTCUSD","books":[{"side":"B","act":"U","src":"CROX","price":"184.3","qty":"2.85",'
    b'"id":120946647655360,"time":"1614331055706","mpid":"ANON","key":"NA"}],"type":"book"}'
)
DOC_TRADE = (
    b'{"security":"BTCUSD","src":"CROX","price":"150","qty":"1","time":"1614334523954","type":"trade",'
    b'"matchid":"5Z3YF5Z0N8PK","maker_side":"B"}'
)


def decoded(codec: MidchainsCodec, frame: bytes) -> list[Any]:
    return list(codec.decode(frame, 1.0))


def events(messages: list[Any]) -> list[Any]:
    return [e for m in messages if isinstance(m, Data) for e in m.events]


def test_subscribe_frame_is_the_documented_one() -> None:
    codec = MidchainsCodec()
    (frame,) = codec.subscribe_frames(("book", "BCHUSD"))
    assert orjson.loads(frame) == {
        "type": "subscribe",
        "request": [{"msg": "book", "security": "BCHUSD", "dest": "CROX"}],
    }
    assert codec.unsubscribe_frames(("book", "BCHUSD")) == []


def test_doc_book_example_decodes_to_an_order() -> None:
    codec = MidchainsCodec()
    codec.subscribe_frames(("book", "LTCUSD"))
    (order,) = events(codec.decode(DOC_BOOK, 5.0))
    assert isinstance(order, BookOrder)
    assert (order.symbol, order.order_id, order.side, order.price, order.size) == (
        "LTCUSD",
        "120946647655360",
        "buy",
        184.3,
        2.85,
    )
    assert order.time == 1614331055.706 and order.recv_time == 5.0
    assert order.snapshot and not order.removed
    # Later messages are updates; act R removes.
    removal = DOC_BOOK.replace(b'"act":"U"', b'"act":"R"')
    (gone,) = events(codec.decode(removal, 6.0))
    assert gone.removed and not gone.snapshot


def test_unsubscribed_security_is_not_routed() -> None:
    codec = MidchainsCodec()
    assert codec.decode(DOC_BOOK, 1.0) == []
    codec.subscribe_frames(("book", "*"))
    (m,) = decoded(codec, DOC_BOOK)
    assert isinstance(m, Data) and m.key == ("book", "*")
    assert [e.snapshot for e in events([m])] == [True]
    (m2,) = decoded(codec, DOC_BOOK)
    assert not m2.events[0].snapshot


def test_doc_trade_example_taker_side_is_opposite_maker() -> None:
    codec = MidchainsCodec()
    codec.subscribe_frames(("trade", "BTCUSD"))
    (trade,) = events(codec.decode(DOC_TRADE, 1.0))
    assert isinstance(trade, Trade)
    assert (trade.price, trade.size, trade.side, trade.trade_id) == (150.0, 1.0, "sell", "5Z3YF5Z0N8PK")
    assert trade.time == 1614334523.954


def test_subscription_refusal_and_ack() -> None:
    codec = MidchainsCodec()
    codec.subscribe_frames(("book", "NOPE"))
    (msg,) = decoded(codec, b'{"type":"subscribe","msg":"book","security":"NOPE","result":"unknown security"}')
    assert isinstance(msg, Rejected) and msg.key == ("book", "NOPE") and "unknown security" in str(msg.error)
    (ack,) = decoded(codec, b'{"type":"subscribe","msg":"trade","security":"BTCUSD","result":"OK"}')
    assert ack == Ack(("trade", "BTCUSD"))


def test_replies_are_correlated_by_type_security_and_refno_in_order() -> None:
    codec = MidchainsCodec()
    a, _ = codec.request_frame({"type": "addorder", "security": "BTCUSD", "side": "B", "qty": "1", "price": "10"})
    b, _ = codec.request_frame({"type": "addorder", "security": "LTCUSD", "side": "S", "qty": "1", "price": "10"})
    c, _ = codec.request_frame({"type": "addorder", "security": "BTCUSD", "side": "S", "qty": "2", "price": "11"})
    x, _ = codec.request_frame({"type": "cancelorder", "security": "BTCUSD", "refno": "R1"})
    y, _ = codec.request_frame({"type": "cancelorder", "security": "BTCUSD", "refno": "R2"})
    # The LTC reply comes first, then BTC in order; cancels out of order by refno.
    (rb,) = decoded(codec, b'{"type":"addorder","security":"LTCUSD","result":"OK","refno":"L1"}')
    (ra,) = decoded(codec, b'{"type":"addorder","security":"BTCUSD","result":"OK","refno":"B1"}')
    (rc,) = decoded(codec, b'{"type":"addorder","security":"BTCUSD","result":"price too far","refno":""}')
    (ry,) = decoded(codec, b'{"type":"cancelorder","security":"BTCUSD","refno":"R2","result":"order not found"}')
    (rx,) = decoded(codec, b'{"type":"cancelorder","security":"BTCUSD","refno":"R1","result":"OK"}')
    assert (rb.request_id, rb.result["refno"]) == (b, "L1")
    assert (ra.request_id, ra.result["refno"]) == (a, "B1")
    assert rc.request_id == c and isinstance(rc.error, MidchainsError) and "price too far" in str(rc.error)
    assert ry.request_id == y and "order not found" in str(ry.error)
    assert rx.request_id == x and rx.error is None
    # Nobody waiting: an unsolicited reply is a notice, as are undocumented pushes.
    (n,) = decoded(codec, b'{"type":"addorder","security":"BTCUSD","result":"OK"}')
    assert isinstance(n, Notice)
    assert isinstance(codec.decode(b'{"type":"position","security":"BTCUSD"}', 1.0)[0], Notice)


def test_forgotten_requests_do_not_absorb_replies() -> None:
    codec = MidchainsCodec()
    stale, _ = codec.request_frame({"type": "challenge"})
    fresh, _ = codec.request_frame({"type": "challenge"})
    codec.forget(stale)
    (m,) = decoded(codec, b'{"type":"challenge","result":"OK","key":"abc"}')
    assert isinstance(m, Reply) and m.request_id == fresh
    (n,) = decoded(codec, b'{"type":"challenge","result":"OK","key":"abc"}')
    assert isinstance(n, Notice)


def test_login_refusal_is_an_auth_error() -> None:
    codec = MidchainsCodec()
    rid, _ = codec.request_frame({"type": "login", "userid": "u", "pass": "x"})
    (m,) = decoded(codec, b'{"result":"invalid user/password","type":"login"}')
    assert isinstance(m, Reply) and m.request_id == rid and isinstance(m.error, AuthError)
    assert "invalid user/password" in str(m.error)


def test_password_encryption_round_trips_with_the_private_key() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    cipher = encrypt_password(base64.b64encode(der).decode(), "s3cret!")
    assert key.decrypt(base64.b64decode(cipher), padding.PKCS1v15()) == b"s3cret!"
    with pytest.raises(AuthError) as info:
        encrypt_password(base64.b64encode(b"garbage").decode(), "s3cret!")
    assert "s3cret" not in str(info.value)


def test_security_validation() -> None:
    assert check_security("BTCUSD") == "BTCUSD"
    assert check_security("*", allow_all=True) == "*"
    for bad in ("", "btc usd", "*", 5):
        with pytest.raises(InvalidArgument):
            check_security(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "frame", [b"{{", b"[]", b'{"no":"type"}', b'{"type":"book","security":"LTCUSD","books":[{"side":"B"}]}']
)
def test_bad_frames_raise_frame_error(frame: bytes) -> None:
    codec = MidchainsCodec()
    codec.subscribe_frames(("book", "LTCUSD"))
    with pytest.raises(FrameError) as info:
        codec.decode(frame, 1.0)
    assert info.value.raw == frame


def test_redact_masks_the_encrypted_password() -> None:
    frame = orjson.dumps({"type": "login", "userid": "u", "pass": "Y2lwaGVy"}).decode()
    assert orjson.loads(MidchainsCodec.redact(frame)) == {"type": "login", "userid": "u", "pass": "***"}
    assert MidchainsCodec.redact('{"type":"challenge"}') == '{"type":"challenge"}'
