"""SimServer base: lifecycle, hooks, HTTP, faults and blast, over real sockets with websocket-client."""

from __future__ import annotations

import http.client
import json
import socket
import struct
import threading
import time
from typing import Any

import orjson
import pytest
import websocket

from rxfeeds.errors import InvalidArgument
from rxfeeds.sim.faults import Faults
from rxfeeds.sim.server import (
    BlastServer,
    HttpRequest,
    HttpResponse,
    SimConnection,
    SimServer,
    encode_frame,
    json_response,
)
from tests.helpers import wait_until

pytestmark = pytest.mark.timeout(60)


class EchoSim(SimServer):
    """Echoes text; ``"boom"`` raises in the hook; counts ticks into subscribed connections."""

    venue = "echo"
    path = "/ws"

    def __init__(self, **options: Any) -> None:
        options.setdefault("tick_interval", None)
        super().__init__(**options)
        self.counter = 0
        self.disconnects = 0

    def on_message(self, conn: SimConnection, message: str | bytes) -> None:
        if message == "boom":
            raise RuntimeError("hook failure on purpose")
        if message == "subscribe":
            conn.subscriptions["ticks"] = True
            conn.send('{"subscribed":true}')
            return
        conn.send(message)

    def on_disconnect(self, conn: SimConnection) -> None:
        self.disconnects += 1

    def on_tick(self, now: float) -> None:
        self.counter += 1
        for conn in self.connections:
            if conn.subscriptions.get("ticks"):
                conn.send(orjson.dumps({"n": self.counter}))

    def handle_http(self, request: HttpRequest) -> HttpResponse | None:
        if request.path == "/api/ping":
            return json_response({"method": request.method, "query": request.query})
        if request.path == "/echo":
            return 201, {"X-Echo": "yes"}, request.body
        return None


def connect(srv: SimServer, timeout: float = 10.0) -> websocket.WebSocket:
    return websocket.create_connection(srv.url, timeout=timeout)


def recv_close(ws: websocket.WebSocket) -> tuple[int, str]:
    """Read until the close frame; returns (code, reason)."""
    while True:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005
            return code, data[2:].decode()


def sim_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("rxfeeds-sim")]


# -- lifecycle ---------------------------------------------------------------------------------


def test_start_stop_leaves_no_threads_and_frees_the_port() -> None:
    before = set(threading.enumerate())
    srv = EchoSim().start()
    assert srv.url == f"ws://127.0.0.1:{srv.port}/ws"
    ws = connect(srv)
    ws.send("x")
    assert ws.recv() == "x"
    port = srv.port
    srv.stop()
    assert set(threading.enumerate()) == before
    code, _ = recv_close(ws)
    assert code == 1001  # going away on shutdown
    ws.shutdown()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    srv.stop()  # idempotent


def test_context_manager_and_loopback_only() -> None:
    with pytest.raises(InvalidArgument):
        EchoSim(host="0.0.0.0")
    with EchoSim() as srv:
        assert srv.running
        assert srv._ws_server is not None
        assert {s.getsockname()[0] for s in srv._ws_server.sockets} == {"127.0.0.1"}
        assert srv._http_server is not None
        assert {s.getsockname()[0] for s in srv._http_server.sockets} == {"127.0.0.1"}
    assert not srv.running
    assert sim_threads() == []


def test_send_from_another_thread_and_connection_metadata() -> None:
    with EchoSim() as srv:
        ws = websocket.create_connection(srv.url + "?streams=a@trade/b@depth", timeout=10)
        srv.wait_for_connections(1)
        (conn,) = srv.connections
        assert conn.path == "/ws"
        assert conn.query == {"streams": "a@trade/b@depth"}
        conn.send("from the test thread")
        conn.send(b'{"bytes":"are text"}')
        assert ws.recv() == "from the test thread"
        assert ws.recv() == '{"bytes":"are text"}'
        conn.send(b"\x00\x01", binary=True)
        assert ws.recv() == b"\x00\x01"
        ws.close()
        wait_until(lambda: srv.connection_count == 0 and srv.disconnects == 1)


def test_hook_errors_are_recorded_and_the_connection_survives() -> None:
    with EchoSim() as srv:
        ws = connect(srv)
        ws.send("boom")
        ws.send("still here")
        assert ws.recv() == "still here"
        assert len(srv.hook_errors) == 1
        assert "hook failure on purpose" in srv.hook_errors[0]
        ws.close()


def test_manual_step_ticks_and_freeze() -> None:
    with EchoSim() as srv:
        ws = connect(srv)
        ws.send("subscribe")
        assert ws.recv() == '{"subscribed":true}'
        srv.step(3)
        assert [orjson.loads(ws.recv())["n"] for _ in range(3)] == [1, 2, 3]
        ws.close()


def test_automatic_ticks_and_freeze() -> None:
    with EchoSim(tick_interval=0.01) as srv:
        wait_until(lambda: srv.counter >= 3)
        srv.freeze()
        frozen_at = srv.call(lambda: srv.counter)
        srv.step(2)  # manual ticks still run while frozen
        assert srv.call(lambda: srv.counter) == frozen_at + 2
        srv.unfreeze()
        wait_until(lambda: srv.counter > frozen_at + 3)


# -- HTTP --------------------------------------------------------------------------------------


def http_request(port: int, method: str, target: str, body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, target, body=body)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def test_http_get_on_the_websocket_port_and_the_http_listener() -> None:
    with EchoSim() as srv:
        for port in (srv.port, srv.http_port):
            status, headers, body = http_request(port, "GET", "/api/ping?symbol=BTCUSDT&limit=5")
            assert status == 200
            assert headers["content-type"] == "application/json"
            assert json.loads(body) == {"method": "GET", "query": {"symbol": "BTCUSDT", "limit": "5"}}
            assert http_request(port, "GET", "/nope")[0] == 404
        assert srv.http_url == f"http://127.0.0.1:{srv.http_port}"


def test_http_post_with_a_body_and_keep_alive() -> None:
    with EchoSim() as srv:
        c = http.client.HTTPConnection("127.0.0.1", srv.http_port, timeout=10)
        for i in range(2):  # the same connection serves both
            c.request("POST", "/echo", body=f"nonce={i}".encode())
            r = c.getresponse()
            assert (r.status, r.getheader("X-Echo"), r.read()) == (201, "yes", f"nonce={i}".encode())
        c.close()


def test_http_listener_survives_garbage() -> None:
    with EchoSim() as srv:
        with socket.create_connection(("127.0.0.1", srv.http_port), timeout=10) as s:
            s.sendall(b"NONSENSE\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 400")
        assert http_request(srv.http_port, "GET", "/api/ping")[0] == 200
        assert srv.hook_errors == []


# -- bad input ---------------------------------------------------------------------------------


def test_oversize_message_closes_1009_and_the_server_keeps_serving() -> None:
    with EchoSim() as srv:
        ws = connect(srv)
        ws.send("x" * (srv.max_message_size + 1))
        assert recv_close(ws)[0] == 1009
        ws.shutdown()
        ws2 = connect(srv)
        ws2.send("ok")
        assert ws2.recv() == "ok"
        ws2.close()
        assert srv.hook_errors == []


def test_garbage_bytes_on_the_socket_never_crash_the_server() -> None:
    with EchoSim() as srv:
        ws = connect(srv)
        ws.sock.sendall(b"\xff\xff\xff\xff garbage that is no websocket frame")
        with pytest.raises((websocket.WebSocketException, OSError)):
            while True:  # the server fails the connection (close 1002 or reset)
                opcode, _ = ws.recv_data(control_frame=True)
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    raise websocket.WebSocketConnectionClosedException("closed")
        ws.shutdown()
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: banana\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 ")
        ws2 = connect(srv)
        ws2.send("ok")
        assert ws2.recv() == "ok"
        ws2.close()
        assert srv.hook_errors == []


# -- faults ------------------------------------------------------------------------------------


def test_close_all_sends_the_close_code_and_reason() -> None:
    with EchoSim() as srv:
        a, b = connect(srv), connect(srv)
        srv.wait_for_connections(2)
        assert srv.faults.close_all(4000, "maintenance") == 2
        assert recv_close(a) == (4000, "maintenance")
        assert recv_close(b) == (4000, "maintenance")
        assert srv.faults.counts["close"] == 2
        a.shutdown()  # websocket-client leaves the socket open after answering a close
        b.shutdown()
        wait_until(lambda: srv.connection_count == 0)


def test_reset_all_is_a_tcp_reset_not_a_close() -> None:
    with EchoSim() as srv:
        ws = connect(srv)
        srv.wait_for_connections(1)
        assert srv.faults.reset_all() == 1
        with pytest.raises(ConnectionResetError):
            ws.recv_data(control_frame=True)
        assert srv.faults.counts["reset"] == 1
        wait_until(lambda: srv.connection_count == 0 and srv.disconnects == 1)
        ws.close()


def test_stall_holds_frames_and_pings_then_resume_delivers_them_in_order() -> None:
    with EchoSim() as srv:
        ws = connect(srv)
        ws.send("subscribe")
        assert ws.recv() == '{"subscribed":true}'
        srv.step(2)
        assert [orjson.loads(ws.recv())["n"] for _ in range(2)] == [1, 2]
        srv.faults.stall()
        assert srv.faults.stalled
        srv.step(3)  # produced while stalled: held
        ws.ping("are you there")
        ws.settimeout(0.3)
        with pytest.raises(websocket.WebSocketTimeoutException):
            ws.recv_data(control_frame=True)  # silence: no frame, no pong
        ws.settimeout(10)
        srv.faults.resume()
        got: list[Any] = []
        while len(got) < 4:
            opcode, data = ws.recv_data(control_frame=True)
            got.append("pong" if opcode == websocket.ABNF.OPCODE_PONG else orjson.loads(data)["n"])
        assert [g for g in got if g != "pong"] == [3, 4, 5]
        assert "pong" in got
        assert srv.faults.counts["stall"] == 1
        ws.close()


def test_stall_with_a_duration_resumes_by_itself() -> None:
    with EchoSim() as srv:
        ws = connect(srv)
        srv.faults.stall(0.2)
        ws.send("after the stall")
        assert ws.recv() == "after the stall"
        assert not srv.faults.stalled
        ws.close()


def test_send_malformed_reaches_every_client() -> None:
    with EchoSim() as srv:
        a, b = connect(srv), connect(srv)
        srv.wait_for_connections(2)
        assert srv.faults.send_malformed('{"unterminated": ') == 2
        assert a.recv() == '{"unterminated": '
        assert b.recv() == '{"unterminated": '
        assert srv.faults.send_malformed(b"\x00\xffbinary", binary=True) == 2
        assert a.recv() == b"\x00\xffbinary"
        assert srv.faults.counts["malformed"] == 4
        a.close()
        b.close()


def test_protocol_fault_flags_are_one_shot_and_counted() -> None:
    with EchoSim() as srv:
        f = srv.faults
        f.skip_sequence("ETHBTC", times=2)
        assert [f.take_skip_sequence("ETHBTC") for _ in range(3)] == [True, True, False]
        assert not f.take_skip_sequence("BTCUSD")
        f.corrupt_checksum("XBT/USD")
        assert srv.call(f.take_corrupt_checksum, "XBT/USD")  # as the venue would, on the loop
        assert not f.take_corrupt_checksum("XBT/USD")
        f.reject_subscriptions("XBT/USD")
        assert f.should_reject("XBT/USD") and f.should_reject("XBT/USD")
        assert not f.should_reject("ETH/USD")
        f.reject_subscriptions(["*"])
        assert f.should_reject("ETH/USD")
        f.accept_subscriptions()
        assert not f.should_reject("XBT/USD")
        assert f.counts == {"skip_sequence": 2, "corrupt_checksum": 1, "reject_subscription": 3}


# -- truth, markets ----------------------------------------------------------------------------


class BookSim(SimServer):
    """Sends the top 5 levels of its market as text and records them as sent."""

    venue = "booksim"

    def on_step(self, symbol: str, market: Any, step: Any) -> None:
        bids = [(market.price_text(p), market.size_text(s)) for p, s in market.bids(5)]
        asks = [(market.price_text(p), market.size_text(s)) for p, s in market.asks(5)]
        self.sent_book(symbol).replace(bids, asks)
        self.broadcast(orjson.dumps({"symbol": symbol, "bids": bids, "asks": asks}))


def test_truth_is_what_was_sent_and_markets_are_seeded_per_symbol() -> None:
    with BookSim(seed=5, tick_interval=None, symbols=["A/B"]) as srv:
        ws = connect(srv)
        srv.wait_for_connections(1)
        srv.step(4)
        last = [orjson.loads(ws.recv()) for _ in range(4)][-1]
        truth = srv.truth("A/B")
        assert [(p, s) for _, _, p, s in truth.bids] == [tuple(x) for x in last["bids"]]
        assert [(p, s) for _, _, p, s in truth.asks] == [tuple(x) for x in last["asks"]]
        assert truth.bids[0][0] < truth.asks[0][0]
        assert srv.truth("unknown").bids == ()
        ws.close()
        book_a = srv.call(lambda: srv.market("A/B").bids(20))
    with BookSim(seed=5, tick_interval=None, symbols=["A/B"]) as again:
        again.step(4)
        assert again.call(lambda: again.market("A/B").bids(20)) == book_a
    with BookSim(seed=6, tick_interval=None, symbols=["A/B"]) as other:
        other.step(4)
        assert other.call(lambda: other.market("A/B").bids(20)) != book_a


# -- blast -------------------------------------------------------------------------------------


def test_encode_frame_round_trips_through_a_real_client() -> None:
    sizes = [0, 125, 126, 65535, 65536]
    frames = ["x" * n for n in sizes]
    with BlastServer(frames, repeat=1, end_frame="end") as srv:
        ws = connect(srv)
        ws.send("go")
        assert [len(ws.recv()) for _ in sizes] == sizes
        assert ws.recv() == "end"
        ws.close()
    assert encode_frame(b"\x01", binary=True) == b"\x82\x01\x01"


def test_blast_server_delivers_exactly_n_frames_then_the_end_marker() -> None:
    n = 30_000
    frames = ['{"seq":1}', '{"seq":2}']
    with BlastServer(frames, repeat=n, end_frame='{"end":true}') as srv:
        ws = connect(srv)
        ws.send("subscribe")
        count = 0
        seen_two = 0
        while True:
            msg = ws.recv()
            if msg == '{"end":true}':
                break
            count += 1
            seen_two += msg == '{"seq":2}'
        assert count == 2 * n and seen_two == n
        wait_until(lambda: srv.done == 1)
        assert list(srv.written.values()) == [2 * n + 1]
        ws.close()


def test_blast_method_from_a_test_thread() -> None:
    with EchoSim() as srv:
        ws = connect(srv)
        srv.wait_for_connections(1)
        received: list[str] = []

        def reader() -> None:
            while (msg := ws.recv()) != "done":
                received.append(msg)

        t = threading.Thread(target=reader)
        t.start()
        assert srv.blast(["a", "b", "c"], repeat=1000, end_frame="done") == 3001
        t.join(30)
        assert received == ["a", "b", "c"] * 1000
        ws.close()
    with pytest.raises(InvalidArgument):
        BlastServer("one frame", repeat=1)  # type: ignore[arg-type]


def test_many_servers_in_a_row_leave_nothing_behind() -> None:
    start = time.monotonic()
    for _ in range(5):
        with EchoSim() as srv:
            ws = connect(srv)
            ws.send("x")
            assert ws.recv() == "x"
            ws.close()
    assert sim_threads() == []
    assert time.monotonic() - start < 20


# -- stop is bounded ---------------------------------------------------------------------------


class BlockingSim(EchoSim):
    """``"block"`` blocks the loop thread until the test releases it: a hung hook."""

    stop_timeout = 2.0

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.release = threading.Event()
        self.blocked = threading.Event()

    def on_message(self, conn: SimConnection, message: str | bytes) -> None:
        if message == "block":
            self.blocked.set()
            self.release.wait(60)
            return
        super().on_message(conn, message)


def test_stop_is_fast_with_clients_that_never_answer_the_close() -> None:
    with EchoSim() as srv:
        silent = [connect(srv) for _ in range(3)]  # never read: never answer the close frame
        idle_http = http.client.HTTPConnection("127.0.0.1", srv.http_port, timeout=10)
        idle_http.request("GET", "/api/ping")
        assert idle_http.getresponse().read()  # keep-alive connection left open
        srv.wait_for_connections(3)
        start = time.monotonic()
        srv.stop()
        took = time.monotonic() - start
    assert took < 1.0 + 2.0  # min(close_timeout, 1) for the close, then dropped (2 s of slack)
    assert sim_threads() == []
    for ws in silent:
        ws.shutdown()
    idle_http.close()


def test_stop_is_bounded_even_when_a_hook_blocks_the_loop() -> None:
    srv = BlockingSim().start()
    try:
        ws = connect(srv)
        ws.send("block")
        assert srv.blocked.wait(10)
        start = time.monotonic()
        srv.stop()  # was 15 s (shutdown) + 15 s (join)
        took = time.monotonic() - start
        assert took < srv.stop_timeout + 1.5
        assert not srv.running
    finally:
        srv.release.set()
    wait_until(lambda: sim_threads() == [])  # the released thread ends on its own
    ws.shutdown()


class FakeTarget:
    """A fault target that is not a SimServer: Faults needs only the declared interface."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.stalled = False

    def close_connections(self, code: int, reason: str) -> int:
        self.calls.append(("close", code, reason))
        return 2

    def reset_connections(self) -> int:
        self.calls.append(("reset",))
        return 1

    def stall_connections(self, seconds: float | None) -> None:
        self.calls.append(("stall", seconds))
        self.stalled = True

    def resume_connections(self) -> None:
        self.calls.append(("resume",))
        self.stalled = False

    def send_frame_to_all(self, payload: str | bytes, binary: bool) -> int:
        self.calls.append(("frame", payload, binary))
        return 3


def test_faults_reach_the_server_only_through_the_fault_target_interface() -> None:
    target = FakeTarget()
    f = Faults(target)
    assert f.close_all(4000, "bye") == 2
    assert f.reset_all() == 1
    f.stall(0.5)
    assert f.stalled
    f.clear()  # resumes a stall
    assert not f.stalled
    assert f.send_malformed(b"\xff", binary=True) == 3
    assert target.calls == [
        ("close", 4000, "bye"),
        ("reset",),
        ("stall", 0.5),
        ("resume",),
        ("frame", b"\xff", True),
    ]
    assert f.counts == {"close": 2, "reset": 1, "stall": 1, "malformed": 3}
