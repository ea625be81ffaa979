"""The transport under hostile input and faults (issue 16: defects 5, 9, 11, 13, 14, 16).

Real sockets against the scriptable line server of ``tests/transport_support.py`` (and a venue
simulator where the venue matters); waits are conditions, never sleeps.
"""

from __future__ import annotations

import logging
import math
import sys
import threading
from typing import Any

import pytest

from rxfeeds.codec import Data
from rxfeeds.errors import ConnectionFailed, FrameError, InvalidArgument, RxfeedsError, SubscriptionError
from rxfeeds.events import ConnectionState, StreamReset, VenueEvent
from rxfeeds.health import HealthTracker
from rxfeeds.transport import Backoff, Multiplexer, SocketSubject
from tests.helpers import wait_until
from tests.transport_support import (
    FAST,
    LineCodec,
    LineServer,
    values,
)
from tests.transport_support import line_subject as _subject

RETRY = Backoff(initial=0.05, max_delay=0.1, jitter="none", max_attempts=4)


# ---------------------------------------------------------------------- 5: unroutable keys


def test_a_frame_whose_symbol_is_a_list_is_a_frame_error_and_the_socket_stays(server: LineServer) -> None:
    s = _subject(server)
    errors: list[Exception] = []
    s.errors.subscribe(errors.append)
    got: list[Any] = []
    d = s.multiplex(("t", "A")).subscribe(got.append)
    wait_until(lambda: server.count("sub") == 1)
    server.broadcast('{"ch":"t","sym":["A"],"v":1}')  # the codec makes the key ("t", ["A"])
    server.broadcast('{"ch":"t","sym":{"x":1},"v":2}')
    server.publish("t", "A", 3)
    wait_until(lambda: values(got) == [3] and len(errors) == 2)
    assert all(isinstance(e, FrameError) for e in errors)
    assert "cannot route" in str(errors[0]) and '"sym":["A"]' in str(errors[0])
    assert server.connects == 1 and s.stats().reconnects == 0
    assert not any(isinstance(e, StreamReset) for e in got)
    d.dispose()
    s.close()


def test_dispatch_of_odd_messages_never_raises() -> None:
    mux = Multiplexer(LineCodec(), venue="line", url="test://")
    errors: list[Exception] = []
    mux.errors.subscribe(errors.append)
    got: list[Any] = []
    mux._open_if_needed = lambda: None  # type: ignore[method-assign]  # no driver: nothing to open
    mux._is_open = lambda: False  # type: ignore[method-assign]
    mux.multiplex(("t", "A")).subscribe(got.append)
    ev = VenueEvent("line", "A", 1.0, 1.0, kind="t", data=1)
    mux.dispatch([Data(["t", "A"], [ev]), Data(("t", "A"), [ev])])  # type: ignore[arg-type]
    mux.dispatch(None)  # type: ignore[arg-type]
    mux.dispatch([Data(("t", "A"), None)])  # type: ignore[arg-type]
    assert values(got) == [1]
    assert len(errors) == 3 and all(isinstance(e, FrameError) for e in errors)


def test_malformed_symbol_frames_from_a_simulator_keep_every_subscription() -> None:
    from rxfeeds.sim.hitbtc import HitBTCSim
    from rxfeeds.venues.hitbtc.client import HitBTC

    with HitBTCSim(seed=5, tick_interval=0.02) as sim:
        client = HitBTC(url=sim.url, backoff=FAST)
        got: list[Any] = []
        d = client.trades("ETHBTC").subscribe(got.append)
        wait_until(lambda: len(got) >= 1)
        states: list[Any] = []
        client.state.subscribe(states.append)
        sim.faults.send_malformed(
            '{"jsonrpc":"2.0","method":"updateOrderbook","params":{"ask":[],"bid":[],'
            '"symbol":["ETHBTC"],"sequence":1,"timestamp":"2021-01-01T00:00:00.000Z"}}'
        )
        sim.faults.send_malformed('{"jsonrpc":"2.0","method":"updateTrades","params":{"data":[],"symbol":{"a":1}}}')
        n = len(got)
        wait_until(lambda: len(got) > n + 3)
        assert not [st for st in states if st.state is ConnectionState.RECONNECTING]
        assert not any(isinstance(e, StreamReset) for e in got)
        d.dispose()
        client.close()


# ---------------------------------------------------------------------- 9: thread death


@pytest.mark.parametrize("raised", [SystemExit(3), KeyboardInterrupt(), GeneratorExit()])
def test_base_exception_in_a_callback_detaches_only_that_observer(server: LineServer, raised: BaseException) -> None:
    s = _subject(server)
    errors: list[Exception] = []
    good: list[Any] = []

    def bad(_: Any) -> None:
        raise raised

    d_bad = s.multiplex(("t", "A")).subscribe(bad, on_error=errors.append)
    d_good = s.multiplex(("t", "A")).subscribe(good.append)
    wait_until(lambda: server.count("sub") == 1)
    server.publish("t", "A", 1)
    server.publish("t", "A", 2)
    wait_until(lambda: values(good) == [1, 2])
    assert len(errors) == 1 and isinstance(errors[0], RxfeedsError)  # CallbackAborted
    assert errors[0].__cause__ is raised
    assert s.current_state is ConnectionState.OPEN and server.connects == 1
    d_bad.dispose()
    d_good.dispose()
    s.close()


def test_a_state_observer_calling_sys_exit_does_not_stop_the_socket(server: LineServer) -> None:
    s = _subject(server)

    def exits(status: Any) -> None:
        if status.state is ConnectionState.OPEN:
            sys.exit(1)

    s.state.subscribe(exits)
    got: list[Any] = []
    d = s.multiplex(("t", "A")).subscribe(got.append)
    wait_until(lambda: server.count("sub") == 1)
    server.publish("t", "A", 1)
    wait_until(lambda: values(got) == [1])
    d.dispose()
    s.close()


class _BrokenBackoff:
    """Passes the construction check but fails when the transport needs a delay."""

    reset_after = 0.0

    def gives_up(self, attempt: int) -> bool:
        return False

    def delay(self, attempt: int, rng: Any = None) -> float:
        raise RuntimeError("policy bug")


def test_a_reconnect_policy_that_fails_ends_in_failed_state_and_typed_errors(server: LineServer) -> None:
    s = SocketSubject(server.url, LineCodec(), backoff=_BrokenBackoff())  # type: ignore[arg-type]
    states: list[Any] = []
    s.state.subscribe(states.append)
    errors: list[Exception] = []
    s.multiplex(("t", "A")).subscribe(lambda e: None, on_error=errors.append)
    wait_until(lambda: server.count("sub") == 1)
    server.close_all()
    wait_until(lambda: errors)
    assert isinstance(errors[0], ConnectionFailed) and "policy bug" in str(errors[0])
    wait_until(lambda: states[-1].state is ConnectionState.FAILED)
    assert "policy bug" in states[-1].reason
    s.close()


@pytest.mark.parametrize("bad", [5, "fast", object(), Backoff, float("nan")])
def test_an_invalid_backoff_object_is_refused_at_construction(bad: Any) -> None:
    with pytest.raises(InvalidArgument) as info:
        SocketSubject("ws://127.0.0.1:1", LineCodec(), backoff=bad)
    assert info.value.name == "backoff"


# ---------------------------------------------------------------------- 11: slow callbacks


def test_a_callback_slower_than_the_stale_timeout_does_not_force_a_reconnect(server: LineServer) -> None:
    s = _subject(server, ping_interval=None, stale_timeout=0.8, app_ping_interval=0.1)
    states: list[Any] = []
    s.state.subscribe(states.append)
    got: list[Any] = []
    release = threading.Event()

    def slow(event: Any) -> None:
        got.append(event)
        if values(got) == [1]:
            # Simulated slow user work (the socket thread is busy): frames queue up meanwhile.
            release.wait(2.0)

    d = s.multiplex(("t", "A")).subscribe(slow)
    wait_until(lambda: server.count("sub") == 1)
    server.publish("t", "A", 1)
    wait_until(lambda: values(got) == [1])
    for v in range(2, 6):
        server.publish("t", "A", v)
    wait_until(lambda: values(got) == [1, 2, 3, 4, 5], timeout=10)
    pings = server.count("ping")
    wait_until(lambda: server.count("ping") >= pings + 12)  # well past the stale timeout
    assert server.connects == 1
    assert not [st for st in states if st.state is ConnectionState.RECONNECTING]
    stats = s.stats()
    assert stats.max_delivery_lag >= 1.5  # the slow callback is visible as delivery lag
    health = HealthTracker().report([stats])
    assert health.connections[0].max_delivery_lag >= 1.5
    d.dispose()
    s.close()


def test_delivery_lag_is_visible_while_a_callback_is_stuck(server: LineServer) -> None:
    s = _subject(server, ping_interval=None, stale_timeout=None)
    release = threading.Event()
    entered = threading.Event()

    def stuck(event: Any) -> None:
        entered.set()
        release.wait(10)

    d = s.multiplex(("t", "A")).subscribe(stuck)
    wait_until(lambda: server.count("sub") == 1)
    server.publish("t", "A", 1)
    wait_until(entered.is_set)
    wait_until(lambda: s.stats().delivery_lag >= 0.3)
    line = str(HealthTracker().report([s.stats()]).connections[0])
    assert "lag" in line
    release.set()
    d.dispose()
    s.close()


# ---------------------------------------------------------------------- 14: refusal on reconnect


def test_a_refusal_after_a_reconnect_is_retried_and_the_stream_goes_on(server: LineServer) -> None:
    s = _subject(server, resubscribe_backoff=RETRY)
    errors: list[Exception] = []
    s.errors.subscribe(errors.append)
    got: list[Any] = []
    ended: list[Exception] = []
    d = s.multiplex(("t", "A")).subscribe(got.append, on_error=ended.append)
    wait_until(lambda: server.count("sub") == 1)
    server.publish("t", "A", 1)
    wait_until(lambda: values(got) == [1])
    server.reject.add("A")  # the venue restarts and refuses for a moment
    server.close_all()
    wait_until(lambda: any(isinstance(e, SubscriptionError) for e in errors))
    server.reject.discard("A")
    wait_until(lambda: server.count("sub", "t", "A") >= 3)  # first, refused, retried
    server.publish("t", "A", 2)
    wait_until(lambda: values(got) == [1, 2])
    assert not ended
    resets = [e.reason for e in got if isinstance(e, StreamReset)]
    assert any(r.startswith("refused") and "retry 1/4" in r for r in resets)
    assert s.stats().routes[("t", "A")].refusals >= 1
    d.dispose()
    s.close()


def test_a_refusal_that_persists_errors_the_observers_after_the_retries(server: LineServer) -> None:
    s = _subject(server, resubscribe_backoff=RETRY)
    ended: list[Exception] = []
    d = s.multiplex(("t", "A")).subscribe(lambda e: None, on_error=ended.append)
    wait_until(lambda: server.count("sub") == 1)
    server.publish("t", "A", 1)
    server.reject.add("A")
    s.resubscribe(("t", "A"))
    wait_until(lambda: ended, timeout=10)
    assert isinstance(ended[0], SubscriptionError)
    assert server.count("sub", "t", "A") == 2 + 4  # first, the resync, four retries
    d.dispose()
    s.close()


def test_a_first_refusal_still_errors_at_once(server: LineServer) -> None:
    s = _subject(server, resubscribe_backoff=RETRY)
    ended: list[Exception] = []
    s.multiplex(("t", "BAD")).subscribe(lambda e: None, on_error=ended.append)
    wait_until(lambda: ended)
    assert isinstance(ended[0], SubscriptionError)
    assert server.count("sub", "t", "BAD") == 1
    s.close()


def test_a_kraken_book_survives_a_transient_refusal_after_reconnect() -> None:
    from rxfeeds import ops
    from rxfeeds.sim.kraken import KrakenSim
    from rxfeeds.venues.kraken.client import Kraken

    with KrakenSim(seed=3, tick_interval=0.02) as sim:
        client = Kraken(url=sim.url, auth_url=sim.url, backoff=FAST, resubscribe_backoff=RETRY)
        books: list[Any] = []
        ended: list[Exception] = []
        d = client.book("XBT/USD", depth=10).pipe(ops.order_book()).subscribe(books.append, on_error=ended.append)
        wait_until(lambda: any(b.synced for b in books if hasattr(b, "synced")))
        sim.faults.reject_subscriptions(["XBT/USD"])
        sim.faults.close_all()
        wait_until(lambda: sim.faults.counts["reject_subscription"] >= 1)
        sim.faults.accept_subscriptions()
        n = len(books)
        wait_until(lambda: len(books) > n + 2 and getattr(books[-1], "synced", False))
        assert not ended
        d.dispose()
        client.close()


# ---------------------------------------------------------------------- 16: back-off on a flapping link


def test_the_backoff_resets_once_every_subscription_has_data_again(server: LineServer) -> None:
    policy = Backoff(initial=0.05, max_delay=2.0, jitter="none", reset_after=60.0)
    s = _subject(server, backoff=policy)
    states: list[Any] = []
    s.state.subscribe(states.append)
    got: list[Any] = []
    d = s.multiplex(("t", "A")).subscribe(got.append)
    for flap in range(5):
        wait_until(lambda flap=flap: server.count("sub") == flap + 1)
        server.publish("t", "A", flap)
        wait_until(lambda flap=flap: values(got)[-1:] == [flap])
        server.close_all()
    wait_until(lambda: server.count("sub") == 6)
    delays = [st.delay for st in states if st.state is ConnectionState.RECONNECTING]
    assert delays == [0.05] * 5  # not 0.05, 0.1, 0.2, 0.4, 0.8
    d.dispose()
    s.close()


def test_the_backoff_keeps_growing_while_connections_bring_no_data(server: LineServer) -> None:
    policy = Backoff(initial=0.02, max_delay=2.0, jitter="none", reset_after=60.0)
    s = _subject(server, backoff=policy)
    states: list[Any] = []
    s.state.subscribe(states.append)
    d = s.multiplex(("t", "A")).subscribe(lambda e: None)
    for flap in range(4):
        wait_until(lambda flap=flap: server.count("sub") == flap + 1)
        server.close_all()
    wait_until(lambda: server.count("sub") == 5)
    delays = [st.delay for st in states if st.state is ConnectionState.RECONNECTING]
    assert delays == [0.02, 0.04, 0.08, 0.16]
    assert [st.attempt for st in states if st.state is ConnectionState.RECONNECTING] == [1, 2, 3, 4]
    # connected again: no attempt in progress (the counter itself only resets on data)
    wait_until(lambda: s.current_state is ConnectionState.OPEN)
    stats = s.stats()
    assert stats.attempt == 0
    health = HealthTracker().report([stats]).connections[0]
    assert health.attempt == 0
    d.dispose()
    s.close()


# ---------------------------------------------------------------------- 13: options at construction


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"ping_interval": math.nan}, "ping_interval"),
        ({"ping_interval": "20"}, "ping_interval"),
        ({"ping_timeout": math.inf}, "ping_timeout"),
        ({"stale_timeout": math.nan}, "stale_timeout"),
        ({"app_ping_interval": -1}, "app_ping_interval"),
        ({"min_send_interval": math.nan}, "min_send_interval"),
        ({"header": "X-A: 1"}, "header"),
        ({"sslopt": "verify"}, "sslopt"),
        ({"seed": "s"}, "seed"),
        ({"resubscribe_backoff": 3}, "resubscribe_backoff"),
    ],
)
def test_socket_options_are_checked_at_construction(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        SocketSubject("ws://127.0.0.1:1", LineCodec(), **kwargs)
    assert info.value.name == name


@pytest.mark.parametrize("url", [5, None, ["ws://x", 5], "http://x", "ws://[::1"])
def test_bad_urls_name_the_argument(url: Any) -> None:
    with pytest.raises(InvalidArgument) as info:
        SocketSubject(url, LineCodec())
    assert info.value.name == "url"


def test_backoff_fields_must_be_finite_numbers() -> None:
    for bad in ({"initial": math.nan}, {"max_delay": math.inf}, {"initial": "1"}, {"max_attempts": 1.5}):
        with pytest.raises(InvalidArgument) as info:
            Backoff(**bad)  # type: ignore[arg-type]
        assert info.value.name == next(iter(bad))


def test_hostile_frames_with_ever_new_values_log_once_and_keep_the_log_table_small(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Frame errors name the offending value: keyed by their text, every frame was a new kind
    # (a warning formatted on the socket thread per frame, and an ever-growing table).
    from rxfeeds.venues.kraken.codec import KrakenCodec

    mux = Multiplexer(KrakenCodec(), venue="kraken", url="wss://x")
    errors: list[Exception] = []
    mux.errors.subscribe(errors.append)
    with caplog.at_level(logging.WARNING, logger="rxfeeds.transport"):
        for i in range(2000):
            mux.feed(f'[0,{{"a":[["{i}.5","-1","1.0"]]}},"book-10","XBT/USD"]'.encode(), 1.0)
    assert len(errors) == 2000 and mux.stats().frame_errors == 2000
    assert len([r for r in caplog.records if r.name == "rxfeeds.transport"]) == 1
    assert len(mux._log._last) == 1
