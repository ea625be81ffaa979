"""The socket subject over real sockets (a local `websockets` server, websocket-client stack)."""

from __future__ import annotations

import asyncio
import random
import socket
import threading
import time
import tracemalloc
from typing import Any

import orjson
import pytest

from rxfeeds.errors import ConnectionFailed, FrameError, InvalidArgument, RequestTimeout, SubscriptionError
from rxfeeds.events import ConnectionState, StreamReset, VenueEvent
from rxfeeds.transport import Backoff, SocketSubject
from tests.helpers import wait_until
from tests.transport_support import (
    FAST,
    LineCodec,
    LineServer,
    values,
)
from tests.transport_support import line_subject as _subject


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("rxfeeds-") or "_send_ping" in t.name}


def test_subscribe_and_unsubscribe_frames_go_out_once_per_key(server: LineServer) -> None:
    s = _subject(server)
    seen: list[list[Any]] = [[] for _ in range(5)]
    subs = [s.multiplex(("t", "A")).subscribe(seen[i].append) for i in range(5)]
    other = s.multiplex(("t", "B")).subscribe(lambda e: None)
    wait_until(lambda: server.count("sub", "t", "A") == 1 and server.count("sub", "t", "B") == 1)
    server.publish("t", "A", 7)
    wait_until(lambda: all(values(x) == [7] for x in seen))
    for d in subs[:4]:
        d.dispose()
    time.sleep(0.05)  # give a wrongly sent unsubscribe the chance to arrive
    assert server.count("unsub", "t", "A") == 0
    subs[4].dispose()
    wait_until(lambda: server.count("unsub", "t", "A") == 1)
    assert server.count("sub", "t", "A") == 1
    assert server.count("unsub", "t", "B") == 0
    other.dispose()
    s.close()


def test_server_close_reconnects_resubscribes_and_marks_the_gap(server: LineServer) -> None:
    s = _subject(server)
    got: list[Any] = []
    d = s.multiplex(("t", "A")).subscribe(got.append)
    wait_until(lambda: server.count("sub") == 1)
    server.publish("t", "A", 1)
    wait_until(lambda: values(got) == [1])
    server.close_all()
    wait_until(lambda: server.count("sub") == 2)
    server.publish("t", "A", 2)
    wait_until(lambda: values(got) == [1, 2])
    kinds = [type(e).__name__ for e in got]
    assert kinds == ["VenueEvent", "StreamReset", "VenueEvent"]
    reset = got[1]
    assert isinstance(reset, StreamReset) and reset.reason == "reconnect" and reset.channel == "t"
    assert s.stats().reconnects == 1
    d.dispose()
    s.close()


def test_tcp_reset_reconnects_and_resubscribes(server: LineServer) -> None:
    s = _subject(server)
    got: list[Any] = []
    d = s.multiplex(("t", "A")).subscribe(got.append)
    wait_until(lambda: server.count("sub") == 1)
    server.reset_all()
    wait_until(lambda: server.count("sub") == 2)
    server.publish("t", "A", 3)
    wait_until(lambda: values(got) == [3])
    assert any(isinstance(e, StreamReset) for e in got)
    d.dispose()
    s.close()


def test_silent_stall_triggers_the_stale_timer(server: LineServer) -> None:
    # No websocket pings (the server would answer them); the stale timer alone must notice.
    s = _subject(server, ping_interval=None, stale_timeout=0.3)
    states: list[Any] = []
    s.state.subscribe(states.append)
    d = s.multiplex(("t", "A")).subscribe(lambda e: None)
    wait_until(lambda: server.count("sub") == 1)
    wait_until(lambda: server.count("sub") == 2, timeout=5)
    reasons = [st.reason for st in states if st.state is ConnectionState.RECONNECTING]
    assert reasons and reasons[0].startswith("stale")
    d.dispose()
    s.close()


def test_application_ping_keeps_a_quiet_connection_alive(server: LineServer) -> None:
    s = _subject(server, ping_interval=None, stale_timeout=0.5, app_ping_interval=0.1)
    d = s.multiplex(("t", "A")).subscribe(lambda e: None)
    wait_until(lambda: server.count("ping") >= 8, timeout=5)
    assert server.connects == 1  # pongs kept the stale timer from firing
    d.dispose()
    s.close()


def test_websocket_pongs_keep_a_quiet_connection_alive_without_a_ping_thread(server: LineServer) -> None:
    # The socket thread sends the websocket pings itself (no websocket-client ping thread);
    # the server's pongs are data for the stale timer, so a silent venue is not stale.
    s = _subject(server, ping_interval=0.2, ping_timeout=0.1, stale_timeout=0.6)
    states: list[Any] = []
    s.state.subscribe(states.append)
    d = s.multiplex(("t", "A")).subscribe(lambda e: None)
    wait_until(lambda: server.count("sub") == 1)
    assert not [t.name for t in threading.enumerate() if "_send_ping" in t.name]
    t0 = time.monotonic()
    wait_until(lambda: time.monotonic() - t0 > 2.0, timeout=10)  # 3+ stale periods of silence
    assert server.connects == 1
    assert not [st for st in states if st.state is ConnectionState.RECONNECTING]
    d.dispose()
    s.close()


def test_raising_callback_detaches_only_that_observer(server: LineServer) -> None:
    s = _subject(server)
    good: list[Any] = []
    errors: list[Exception] = []

    def bad(_: Any) -> None:
        raise RuntimeError("user bug")

    d_bad = s.multiplex(("t", "A")).subscribe(bad, on_error=errors.append)
    d_good = s.multiplex(("t", "A")).subscribe(good.append)
    d_other = s.multiplex(("t", "B")).subscribe(good.append)
    wait_until(lambda: server.count("sub") == 2)
    server.publish("t", "A", 1)
    server.publish("t", "B", 2)
    server.publish("t", "A", 3)
    wait_until(lambda: values(good) == [1, 2, 3])
    assert len(errors) == 1 and str(errors[0]) == "user bug"
    assert s.stats().callback_errors == 1
    assert s.current_state is ConnectionState.OPEN
    for d in (d_bad, d_good, d_other):
        d.dispose()
    s.close()


def test_malformed_and_binary_frames_reach_the_errors_stream(server: LineServer) -> None:
    s = _subject(server)
    errors: list[Exception] = []
    s.errors.subscribe(errors.append)
    got: list[Any] = []
    d = s.multiplex(("t", "A")).subscribe(got.append)
    wait_until(lambda: server.count("sub") == 1)
    server.broadcast("{not json")
    server.broadcast(b"\x00\x01binary")
    server.broadcast('{"what": 1}')
    server.publish("t", "A", 9)
    wait_until(lambda: values(got) == [9] and len(errors) == 3)
    assert all(isinstance(e, FrameError) for e in errors)
    assert errors[0].raw == b"{not json"
    assert "binary" in str(errors[1])
    assert s.stats().frame_errors == 3 and server.connects == 1
    d.dispose()
    s.close()


def test_large_and_fragmented_frames_are_delivered(server: LineServer) -> None:
    s = _subject(server)
    got: list[Any] = []
    d = s.multiplex(("t", "A")).subscribe(got.append)
    wait_until(lambda: server.count("sub") == 1)
    big = "x" * 200_000  # 64-bit length header
    server.publish("t", "A", big)

    async def fragmented() -> None:
        for ws in server.connections:
            await ws.send(iter(['{"ch":"t",', '"sym":"A",', '"v":"frag"}']))

    server.run(fragmented())
    wait_until(lambda: values(got) == [big, "frag"])
    d.dispose()
    s.close()


def _server_frame(payload: bytes, opcode: int = 1) -> bytes:
    """An unmasked, final server frame (written raw, so chunk boundaries are ours to choose)."""
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, n])
    elif n < 65536:
        head = bytes([0x80 | opcode, 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 127]) + n.to_bytes(8, "big")
    return head + payload


def _write_raw(server: LineServer, data: bytes, chunk: int) -> None:
    async def go() -> None:
        for ws in server.connections:
            for i in range(0, len(data), chunk):
                ws.transport.write(data[i : i + chunk])
                await asyncio.sleep(0)  # separate writes: the client sees ragged reads

    server.run(go())


def test_frames_straddling_reads_larger_than_the_buffer_and_pings_arrive_in_order(server: LineServer) -> None:
    # The receive buffer is reused: frames cut at every possible point by the reads, frames
    # much larger than the buffer, and control frames between them must come out whole.
    s = _subject(server)
    got: list[Any] = []
    d = s.multiplex(("t", "A")).subscribe(got.append)
    wait_until(lambda: server.count("sub") == 1)
    expected: list[Any] = []
    stream = bytearray()

    def add(v: Any) -> None:
        expected.append(v)
        stream.extend(_server_frame(orjson.dumps({"ch": "t", "sym": "A", "v": v})))

    for i in range(10_000):  # ~350 KB of small frames: more than one buffer's worth
        add(i)
    add("y" * 300_000)  # grows the buffer
    stream.extend(_server_frame(b"hello", opcode=9))  # ping between data frames
    for i in range(500):
        add(-i)
    add("z" * 600_000)
    add("after")
    _write_raw(server, bytes(stream), 7919)  # a prime: headers split across reads
    wait_until(lambda: len(values(got)) == len(expected), timeout=30)
    assert values(got) == expected
    server.publish("t", "A", "still connected")
    wait_until(lambda: values(got)[-1:] == ["still connected"])
    assert s.stats().reconnects == 0
    d.dispose()
    s.close()


def test_reading_small_frames_allocates_no_read_sized_block(server: LineServer) -> None:
    # Regression (issue 25): each read allocated a 256 KiB block (glibc's mmap path: mmap,
    # mremap, munmap per wake-up); the receive buffer is now allocated once per connection.
    s = _subject(server)
    got: list[Any] = []
    d = s.multiplex(("t", "A")).subscribe(got.append)
    wait_until(lambda: server.count("sub") == 1)
    server.publish("t", "A", -1)
    wait_until(lambda: len(got) == 1)  # connected, buffer in place
    tracemalloc.start()
    try:
        for i in range(50):
            server.publish("t", "A", i)  # one write each: one read each
        wait_until(lambda: len(got) == 51)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 128 * 1024, f"peak {peak} bytes while reading small frames"
    d.dispose()
    s.close()


def test_rejected_subscription_errors_only_that_key(server: LineServer) -> None:
    s = _subject(server)
    errors: list[Exception] = []
    good: list[Any] = []
    s.multiplex(("t", "BAD")).subscribe(lambda e: None, on_error=errors.append)
    d = s.multiplex(("t", "A")).subscribe(good.append)
    wait_until(lambda: len(errors) == 1)
    assert isinstance(errors[0], SubscriptionError) and "unknown symbol" in str(errors[0])
    server.publish("t", "A", 1)
    wait_until(lambda: values(good) == [1])
    d.dispose()
    s.close()


def test_requests_correlate_by_id_and_time_out(server: LineServer) -> None:
    s = _subject(server)
    results: list[Any] = []
    done: list[bool] = []
    s.request('{"op":"req","id":5}', 5).subscribe(results.append, on_completed=lambda: done.append(True))
    wait_until(lambda: results == [10] and done == [True])
    errors: list[Exception] = []
    s.request('{"op":"noreply"}', "x", timeout=0.2).subscribe(results.append, on_error=errors.append)
    wait_until(lambda: len(errors) == 1)
    assert isinstance(errors[0], RequestTimeout) and "0.2" in str(errors[0])
    wait_until(lambda: s.current_state is ConnectionState.CLOSED)  # nothing pending: closed
    s.close()


def test_inject_delivers_into_the_stream_in_order(server: LineServer) -> None:
    s = _subject(server)
    got: list[Any] = []
    d = s.multiplex(("t", "A")).subscribe(got.append)
    wait_until(lambda: server.count("sub") == 1)
    marker = VenueEvent("line", "A", 0.0, 0.0, kind="t", data="injected")
    assert s.inject(("t", "A"), marker)
    assert not s.inject(("t", "nobody"), marker)
    server.publish("t", "A", 1)
    wait_until(lambda: values(got) == ["injected", 1])
    d.dispose()
    s.close()


def test_resubscribe_sends_unsubscribe_then_subscribe_and_marks(server: LineServer) -> None:
    s = _subject(server)
    got: list[Any] = []
    d = s.multiplex(("t", "A")).subscribe(got.append)
    wait_until(lambda: server.count("sub") == 1)
    assert s.resubscribe(("t", "A"))
    wait_until(lambda: server.count("sub") == 2 and server.count("unsub") == 1)
    assert isinstance(got[0], StreamReset) and got[0].reason == "resync"
    assert s.stats().routes[("t", "A")].resyncs == 1
    d.dispose()
    s.close()


def test_dispose_everything_closes_the_socket_and_threads(server: LineServer) -> None:
    before = _threads()
    s = _subject(server)
    subs = [s.multiplex(("t", k)).subscribe(lambda e: None) for k in "ABC"]
    wait_until(lambda: server.count("sub") == 3)
    assert _threads() - before
    for d in subs:
        d.dispose()
    wait_until(lambda: s.current_state is ConnectionState.CLOSED)
    wait_until(lambda: not (_threads() - before))
    wait_until(lambda: not server.connections)


def test_close_completes_subscribers_and_joins_the_thread(server: LineServer) -> None:
    before = _threads()
    s = _subject(server)
    completed: list[bool] = []
    s.multiplex(("t", "A")).subscribe(lambda e: None, on_completed=lambda: completed.append(True))
    wait_until(lambda: server.count("sub") == 1)
    s.close()
    assert completed == [True]
    wait_until(lambda: not (_threads() - before))


def test_gives_up_after_max_attempts_with_connection_failed() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    s = SocketSubject(
        f"ws://127.0.0.1:{port}", LineCodec(), backoff=Backoff(initial=0.01, max_delay=0.02, max_attempts=3)
    )
    states: list[Any] = []
    s.state.subscribe(states.append)
    errors: list[Exception] = []
    s.multiplex(("t", "A")).subscribe(lambda e: None, on_error=errors.append)
    wait_until(lambda: errors)
    assert isinstance(errors[0], ConnectionFailed) and "3 attempts" in str(errors[0])
    reconnecting = [st for st in states if st.state is ConnectionState.RECONNECTING]
    assert [st.attempt for st in reconnecting] == [1, 2, 3]
    assert states[-1].state is ConnectionState.FAILED


def test_fails_over_to_the_next_url(server: LineServer) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"ws://127.0.0.1:{probe.getsockname()[1]}"
    s = SocketSubject([dead, server.url], LineCodec(), backoff=FAST)
    got: list[Any] = []
    d = s.multiplex(("t", "A")).subscribe(got.append)
    wait_until(lambda: server.count("sub") == 1)
    assert s.url == server.url
    d.dispose()
    s.close()


def test_reconnect_delays_grow_are_capped_and_jittered() -> None:
    policy = Backoff(initial=1.0, max_delay=10.0, factor=2.0, jitter="full")
    rng = random.Random(42)
    bases = [policy.base_delay(n) for n in range(1, 8)]
    assert bases == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]
    samples = [[policy.delay(n, rng) for _ in range(300)] for n in range(1, 8)]
    for base, draws in zip(bases, samples, strict=True):
        assert all(0.0 <= x <= base for x in draws)
        assert max(draws) > 0.8 * base and min(draws) < 0.2 * base  # really spread over [0, base]
    equal = Backoff(initial=1.0, max_delay=10.0, jitter="equal")
    assert all(2.0 <= equal.delay(3, rng) <= 4.0 for _ in range(100))
    assert not policy.gives_up(10**6)
    assert Backoff(max_attempts=2).gives_up(3) and not Backoff(max_attempts=2).gives_up(2)


def test_reconnect_published_delays_follow_the_policy() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"ws://127.0.0.1:{probe.getsockname()[1]}"
    policy = Backoff(initial=0.001, max_delay=0.004, jitter="none", max_attempts=5)
    s = SocketSubject(url, LineCodec(), backoff=policy)
    states: list[Any] = []
    s.state.subscribe(states.append)
    s.multiplex(("t", "A")).subscribe(lambda e: None, on_error=lambda e: None)
    wait_until(lambda: states and states[-1].state is ConnectionState.FAILED)
    delays = [st.delay for st in states if st.state is ConnectionState.RECONNECTING]
    assert delays == [0.001, 0.002, 0.004, 0.004, 0.004]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"url": "http://example.com"}, "url"),
        ({"url": []}, "url"),
        ({"url": "ws://"}, "url"),
        ({"url": "ws://x", "ping_interval": -1}, "ping_interval"),
        ({"url": "ws://x", "stale_timeout": 0}, "stale_timeout"),
        ({"url": "ws://x", "min_send_interval": -1}, "min_send_interval"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict[str, Any], name: str) -> None:
    url = kwargs.pop("url")
    with pytest.raises(InvalidArgument) as info:
        SocketSubject(url, LineCodec(), **kwargs)
    assert info.value.name == name


def test_bad_key_and_backoff_arguments() -> None:
    s = SocketSubject("ws://127.0.0.1:1", LineCodec())
    with pytest.raises(InvalidArgument, match="key"):
        s.multiplex("trade")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="timeout"):
        s.request("{}", 1, timeout=0)
    for bad in ({"initial": -1}, {"max_delay": 0.1, "initial": 1}, {"jitter": "some"}, {"max_attempts": 0}):
        with pytest.raises(InvalidArgument):
            Backoff(**bad)  # type: ignore[arg-type]


def test_subscribing_while_the_connection_opens_sends_each_key_once(server: LineServer) -> None:
    # Many keys subscribed from another thread while the socket is opening: each subscribe
    # frame must go out exactly once (either from the open handler or from the subscriber).
    for _ in range(5):
        s = _subject(server)
        before = server.count("sub")
        first = s.multiplex(("t", "K0")).subscribe(lambda e: None)
        subs = [s.multiplex(("t", f"K{i}")).subscribe(lambda e: None) for i in range(1, 30)]
        wait_until(lambda before=before: server.count("sub") - before >= 30)
        time.sleep(0.05)
        assert server.count("sub") - before == 30
        for d in [first, *subs]:
            d.dispose()
        s.close()


def test_malformed_frames_are_logged_once_per_kind(server: LineServer, caplog: pytest.LogCaptureFixture) -> None:
    s = _subject(server)
    errors: list[Exception] = []
    s.errors.subscribe(errors.append)
    d = s.multiplex(("t", "A")).subscribe(lambda e: None)
    wait_until(lambda: server.count("sub") == 1)
    with caplog.at_level("WARNING", logger="rxfeeds.transport"):
        for _ in range(20):
            server.broadcast("{not json")
        wait_until(lambda: len(errors) == 20)
    logged = [r for r in caplog.records if "malformed JSON" in r.getMessage()]
    assert len(logged) == 1  # every error is on the stream; the log is rate-limited
    d.dispose()
    s.close()
