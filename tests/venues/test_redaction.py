"""Credentials never reach a capture file (issue 16, defect 2).

Per venue: the client's real login runs against its simulator over real sockets with a
:class:`~rxfeeds.capture.Recorder` attached; the capture file's bytes must hold no secret (in
any escaping) and every line must be valid JSON.  Secrets carry ``"`` and ``\\`` on purpose:
a regex that stops at an escaped quote half-leaks them and breaks the line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import rxfeeds
from rxfeeds.capture import Recorder, read_capture
from rxfeeds.transport.redact import MASK, is_secret_field, redact, redact_received, redact_url
from tests.helpers import FAST, wait_until

# Distinctive pieces: each must be absent from the file whatever escaping was applied.
SECRET = 'Zq9SECRETpart1"Q\\Wpart2TAIL'
PIECES = ("Zq9SECRETpart1", "Wpart2TAIL")


def forms(secret: str) -> set[str]:
    """``secret`` as written raw, inside one JSON string, and inside a JSON string in a JSON string."""
    once = json.dumps(secret)[1:-1]
    return {secret, once, json.dumps(once)[1:-1]}


def assert_clean(path: Path, *secrets: str) -> list[dict[str, Any]]:
    raw = path.read_bytes()
    for secret in secrets:
        for form in forms(secret):
            assert form.encode() not in raw, f"secret {secret[:6]}... leaked into {path.name}"
    for piece in PIECES:
        assert piece.encode() not in raw
    lines = [json.loads(line) for line in raw.splitlines()]  # every line is valid JSON
    for obj in lines[1:]:
        for secret in secrets:
            assert secret not in obj["data"]
    return lines


def sent(lines: list[dict[str, Any]]) -> list[Any]:
    """The frames the client sent, parsed (every one is JSON for these venues)."""
    return [json.loads(obj["data"]) for obj in lines[1:] if obj["dir"] == "out"]


# ---------------------------------------------------------------- per venue, real logins


@pytest.mark.parametrize("algo", ["BASIC", "HS256"])
def test_hitbtc_v2_login(tmp_path: Path, algo: str) -> None:
    from rxfeeds.sim.hitbtc import HitBTCSim
    from rxfeeds.venues.hitbtc.client import HitBTC

    key = "pub-KEY-0001"
    path = tmp_path / "hitbtc.jsonl"
    with HitBTCSim(seed=3, tick_interval=None, api_keys={key: SECRET}) as sim:
        client = HitBTC(sim.public_url, trading_url=sim.trading_url, key=key, secret=SECRET, algo=algo)
        recorder = Recorder(path, venue="hitbtc").attach(client)
        d = client.reports().subscribe(lambda _: None, lambda _: None)
        wait_until(lambda: sim.call(lambda: [c.state.get("account") for c in sim.connections]) == [key])
        d.dispose()
        client.close()
        recorder.close()
    lines = assert_clean(path, SECRET, key)
    (login,) = [f for f in sent(lines) if f.get("method") == "login"]
    masked = {"sKey", "pKey"} if algo == "BASIC" else {"pKey", "nonce", "signature"}
    assert {k for k, v in login["params"].items() if v == MASK} == masked


@pytest.mark.parametrize("algo", ["BASIC", "HS256"])
def test_hitbtc_v3_login(tmp_path: Path, algo: str) -> None:
    from rxfeeds.sim.hitbtc_v3 import HitBTCV3Sim
    from rxfeeds.venues.hitbtc.client_v3 import HitBTCV3

    key = "pub-KEY-0003"
    path = tmp_path / "hitbtc3.jsonl.gz"
    with HitBTCV3Sim(seed=3, tick_interval=None, api_keys={key: SECRET}) as sim:
        client = HitBTCV3(sim.public_url, trading_url=sim.trading_url, key=key, secret=SECRET, algo=algo)
        recorder = Recorder(path, venue="hitbtc-v3").attach(client)
        d = client.reports().subscribe(lambda _: None, lambda _: None)
        wait_until(lambda: sim.call(lambda: [c.state.get("account") for c in sim.connections]) == [key])
        d.dispose()
        client.close()
        recorder.close()
    plain = tmp_path / "hitbtc3.jsonl"
    import gzip

    plain.write_bytes(gzip.decompress(path.read_bytes()))
    lines = assert_clean(plain, SECRET, key)
    (login,) = [f for f in sent(lines) if f.get("method") == "login"]
    masked = {"api_key", "secret_key"} if algo == "BASIC" else {"api_key", "signature"}
    assert {k for k, v in login["params"].items() if v == MASK} == masked


def test_kraken_v1_token_in_subscriptions_and_orders(tmp_path: Path) -> None:
    from rxfeeds.sim.kraken import KrakenSim

    path = tmp_path / "kraken.jsonl"
    with KrakenSim(seed=1, tick_interval=None) as sim:
        token = sim.issue_token()
        client = rxfeeds.Kraken(url=sim.url, auth_url=sim.url)
        recorder = Recorder(path, venue="kraken").attach(client)
        got: list[Any] = []
        d = client.own_trades(token).subscribe(got.append, got.append)
        placed = client.add_order(token, "XBT/USD", "buy", "limit", "0.01", price="1000").run()
        assert placed
        d.dispose()
        client.close()
        recorder.close()
    lines = assert_clean(path, token)
    frames = sent(lines)
    tokens = [f["subscription"]["token"] for f in frames if f.get("event") == "subscribe"]
    tokens += [f["token"] for f in frames if f.get("event") == "addOrder"]
    assert len(tokens) >= 2 and set(tokens) == {MASK}


def test_kraken_v2_token_in_subscriptions_and_orders(tmp_path: Path) -> None:
    from rxfeeds.sim.kraken_v2 import KrakenV2Sim

    path = tmp_path / "kraken2.jsonl"
    with KrakenV2Sim(seed=1, tick_interval=None) as sim:
        token = sim.issue_token()
        client = rxfeeds.KrakenV2(url=sim.url, auth_url=sim.url)
        recorder = Recorder(path, venue="kraken-v2").attach(client)
        got: list[Any] = []
        d = client.executions(token).subscribe(got.append, got.append)
        assert client.add_order(token, "BTC/USD", "buy", "limit", 0.01, limit_price=1000).run()
        d.dispose()
        client.close()
        recorder.close()
    lines = assert_clean(path, token)
    params = [f["params"] for f in sent(lines) if isinstance(f.get("params"), dict) and "token" in f["params"]]
    assert len(params) >= 2 and {p["token"] for p in params} == {MASK}


def test_midchains_login_userid_and_encrypted_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rxfeeds.sim.midchains import MidchainsSim
    from rxfeeds.venues.midchains import client as mc_client
    from rxfeeds.venues.midchains.client import Midchains

    encrypted: list[str] = []
    real = mc_client.encrypt_password

    def spy(key: str, password: str) -> str:
        encrypted.append(real(key, password))
        return encrypted[-1]

    monkeypatch.setattr(mc_client, "encrypt_password", spy)
    path = tmp_path / "midchains.jsonl"
    with MidchainsSim(seed=11, tick_interval=None, users={"carol-ID": SECRET}) as sim:
        client = Midchains(sim.url)
        recorder = Recorder(path, venue="midchains").attach(client)
        assert client.login("carol-ID", SECRET).run() is True
        client.close()
        recorder.close()
    assert encrypted
    lines = assert_clean(path, SECRET, *encrypted)
    (login,) = [f for f in sent(lines) if f.get("type") == "login"]
    assert login["pass"] == MASK and login["userid"] == MASK


def test_bitshares_positional_login(tmp_path: Path) -> None:
    from rxfeeds.sim.bitshares import BitSharesSim
    from rxfeeds.venues.bitshares.client import BitShares

    path = tmp_path / "bitshares.jsonl"
    with BitSharesSim(seed=3, tick_interval=0.02, credentials={"alice": SECRET}) as sim:
        client = BitShares(sim.url, user="alice", password=SECRET, backoff=FAST)
        recorder = Recorder(path, venue="bitshares").attach(client)
        assert client.login().run() is True
        client.close()
        recorder.close()
    lines = assert_clean(path, SECRET)
    logins = [f for f in sent(lines) if f.get("params", [None, None])[1] == "login"]
    assert logins and all(f["params"][2][-1] == MASK for f in logins)


# ---------------------------------------------------------------- the redaction rules themselves


def test_escaped_quotes_and_escaped_names_are_masked_whole() -> None:
    frame = json.dumps({"method": "login", "params": {"algo": "BASIC", "pKey": "k", "sKey": SECRET}, "id": 1})
    out = redact(frame)
    assert json.loads(out)["params"] == {"algo": "BASIC", "pKey": MASK, "sKey": MASK}
    # a name written with JSON escapes is still the name
    sneaky = '{"s\\u004bey":"' + "hidden-XYZ" + '","price":1.10}'
    assert "hidden-XYZ" not in redact(sneaky) and "hidden-XYZ" not in redact_received(sneaky)
    # other values keep their exact text (digits included)
    assert redact('{"token":"t","px":1.10,"n":12345678901234567890123,"q":1e-7}') == (
        '{"token":"***","px":1.10,"n":12345678901234567890123,"q":1e-7}'
    )


@pytest.mark.parametrize(
    "name",
    ["token", "secret", "secret_key", "secretKey", "Secret-Key", "sKey", "password", "pass", "apiSecret", "auth_token"],
)
def test_secret_names_in_any_spelling_and_any_depth_and_value_type(name: str) -> None:
    frame = json.dumps({"a": [{"b": {name: SECRET}}, {name: 123}, {name: {"x": SECRET}}]})
    for fn in (redact, redact_received):
        out = fn(frame)
        assert SECRET not in out and "123" not in out
        assert json.loads(out)["a"][1][name] == MASK


def test_sent_frames_also_hide_identity_nonce_and_signature_but_received_market_data_is_kept() -> None:
    for name in ("api_key", "pKey", "key", "userid", "nonce", "signature", "sign", "API-Key", "API-Sign"):
        assert is_secret_field(name)
        assert json.loads(redact(json.dumps({name: "v"})))[name] == MASK
    received = '{"key":"ETHBTC","nonce":5,"signature":"s","sign":-1}'
    assert redact_received(received) is received


def test_unparseable_frames_that_may_hold_a_secret_become_a_marker() -> None:
    broken = '{"sKey":"' + SECRET + '"'  # truncated
    assert redact(broken).startswith("<redacted: unparseable frame")
    assert redact_received("token=abc&x=1").startswith("<redacted")
    assert redact("plain ping") == "plain ping"  # nothing credential-like: kept
    deep = '{"token":' + "[" * 100_000 + "]" * 100_000 + "}"
    assert redact(deep).startswith("<redacted")


def test_a_codec_redact_runs_first_and_a_raising_one_hides_the_frame() -> None:
    from rxfeeds.venues.bitshares.codec import BitSharesCodec

    codec = BitSharesCodec("bob", SECRET)
    assert SECRET not in redact(codec.login_frame(1), codec.redact)

    # a login with extra positional parameters hides all of them
    extra = codec.call_frame(3, 1, "login", ["bob", SECRET, "otp-654321"])
    assert SECRET not in redact(extra, codec.redact) and "654321" not in redact(extra, codec.redact)

    def broken(frame: str) -> str:
        raise RuntimeError("codec bug")

    assert redact(codec.login_frame(2), broken).startswith("<redacted")


def test_urls_lose_credential_parameters_and_userinfo() -> None:
    assert redact_url("wss://u:pw@host/ws?token=abc&pair=XBT") == "wss://***@host/ws?token=***&pair=XBT"
    url = "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000"
    assert redact_url(url) is url


def test_received_frames_of_every_shared_capture_are_left_untouched(captures_dir: Path) -> None:
    """No false positives: replaying a capture must decode the same market data."""
    checked = 0
    for path in sorted(captures_dir.glob("*.capture")):
        for record in read_capture(path):
            if record.kind in ("in", "http"):
                assert redact_received(record.data) == record.data, (path.name, record.line)
                checked += 1
    assert checked > 1000


def test_received_simulator_frames_are_left_untouched() -> None:
    from rxfeeds.sim.hitbtc import HitBTCSim
    from rxfeeds.transport.multiplexer import FrameTap
    from rxfeeds.venues.hitbtc.client import HitBTC

    frames: list[str] = []

    class Tap(FrameTap):
        def frame_in(self, url: str, data: bytes | str, t: float) -> None:
            frames.append(data if isinstance(data, str) else data.decode())

    with HitBTCSim(seed=2, tick_interval=0.01) as sim:
        client = HitBTC(sim.public_url, trading_url=sim.trading_url)
        client.add_tap(Tap())
        d = client.orderbook("ETHBTC").subscribe(lambda _: None)
        t = client.trades("ETHBTC").subscribe(lambda _: None)
        wait_until(lambda: len(frames) > 100)
        d.dispose()
        t.dispose()
        client.close()
    assert all(redact_received(f) is f for f in list(frames))


def test_recorder_repr_and_records_hold_no_secret(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    rec = Recorder(path)
    rec.frame_out("wss://h?token=abc", json.dumps({"token": SECRET}), 1.0)
    rec.frame_in("wss://h?token=abc", json.dumps({"result": {"token": SECRET}}), 2.0)
    rec.http("https://h/x?signature=sig123", json.dumps({"secret": SECRET}), 3.0)
    rec.close()
    assert_clean(path, SECRET, "sig123")
    records = list(read_capture(path))
    assert len(records) == 3 and all("abc" not in repr(r) and SECRET not in repr(r) for r in records)
    assert SECRET not in repr(rec)
