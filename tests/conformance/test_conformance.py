"""The venue conformance suite: every declared venue against its own spec and simulator.

Parametrized over the registry (:mod:`rxfeeds.venues.registry`), so a venue enters the suite by
being declared.  Over real sockets, against the venue's simulator:

* every declared channel, alias, request and trading call exists on the client;
* every streaming channel, opened the way the CLI opens it, delivers all its declared event types
  and nothing else;
* the ``book`` channel through ``ops.order_book()`` converges on the simulator's truth after the
  market moves;
* disposing the last subscriber sends the venue's unsubscribe (where its protocol has one);
* a dropped connection resubscribes every active channel;
* record then replay reproduces the live events;
* a malformed ``BASE/QUOTE`` pair is a clear ``InvalidArgument``, and the common notation reaches
  the venue's spelling;
* the CLI resolves every name, and the docs have the venue's page, nav entry and table rows.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rxfeeds import ops
from rxfeeds.cli._channels import open_channel
from rxfeeds.errors import InvalidArgument
from rxfeeds.transport import FrameTap
from rxfeeds.venues import client_class, codec_class, load
from rxfeeds.venues.registry import spec, specs
from rxfeeds.venues.spec import VenueSpec
from tests.helpers import wait_until

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]
ALL = list(specs().values())
SIMULATED = [v for v in ALL if v.simulator and v.sim_client]
#: levels compared with the simulator's truth, and the size tolerance (BitShares sizes come from
#: integer amounts and price ratios, Midchains levels are float sums of orders)
TOP = 5
TOL = 1e-6


def ids(v: VenueSpec) -> str:
    return v.name


@pytest.fixture
def running(request: pytest.FixtureRequest) -> Iterator[tuple[VenueSpec, Any, Any]]:
    venue: VenueSpec = request.param
    ticking = request.node.get_closest_marker("ticking") is not None
    assert venue.simulator is not None and venue.sim_client is not None
    sim = load(venue.simulator)(seed=7, tick_interval=0.05 if ticking else None)
    with sim:
        client = load(venue.sim_client)(sim)
        try:
            yield venue, sim, client
        finally:
            client.close()


@pytest.mark.parametrize("venue", ALL, ids=ids)
def test_declared_names_exist_on_the_client(venue: VenueSpec) -> None:
    cls = client_class(venue.name)
    assert cls is load(venue.client) and getattr(cls, "venue", venue.name) == venue.name
    for name in (*venue.channel_names(aliases=True), *venue.requests, *venue.trading):
        assert callable(getattr(cls, name, None)), f"{venue.name}: {cls.__name__}.{name} is declared but missing"
    assert codec_class(venue.name)().venue == venue.name
    for name in (venue.name, *venue.aliases):
        assert spec(name) is venue


@pytest.mark.parametrize("venue", ALL, ids=ids)
def test_docs_mention_the_venue(venue: VenueSpec) -> None:
    assert venue.docs is not None, f"{venue.name} declares no docs page"
    assert (ROOT / "docs" / venue.docs).is_file()
    # the nav entry and the README/docs table rows are generated from the spec: tests/unit/test_venue_tables.py


def _channel_cases() -> list[Any]:
    return [pytest.param(v, c.name, id=f"{v.name}-{c.name}") for v in SIMULATED for c in v.channels]


@pytest.mark.ticking
@pytest.mark.parametrize(("running", "channel"), _channel_cases(), indirect=["running"])
def test_each_channel_delivers_its_declared_event_types(running: tuple[VenueSpec, Any, Any], channel: str) -> None:
    venue, _sim, client = running
    declared = set(venue.channel(channel).events)
    seen: set[str] = set()
    errors: list[Exception] = []
    lock = threading.Lock()

    def on_next(event: Any) -> None:
        with lock:
            seen.add(type(event).__name__)

    subscription = open_channel(client, channel, [venue.symbol_example]).subscribe(on_next, errors.append)
    try:
        wait_until(lambda: errors or declared <= seen, timeout=60)
    finally:
        subscription.dispose()
    assert not errors, errors[0]
    assert seen == declared, f"{venue.name} {channel}: declared {sorted(declared)}, delivered {sorted(seen)}"


def _truth(sim: Any, symbol: str) -> Any:
    """The simulator's sent book for ``symbol`` (venues key it by symbol or by (symbol, depth))."""
    for key in (symbol, (symbol, 10)):
        truth = sim.truth(key)
        if truth.bids or truth.asks:
            return truth
    return None


def _same(book: Any, truth: Any) -> bool:
    if truth is None or book is None:
        return False
    for mine, theirs in ((book.bids, truth.bids), (book.asks, truth.asks)):
        n = min(TOP, len(theirs))
        if len(mine) < n or n == 0:
            return False
        for (p, s, *_), (tp, ts, *_) in zip(mine[:n], theirs[:n], strict=True):
            if p != tp or abs(s - ts) > TOL * max(1.0, ts):
                return False
    return True


@pytest.mark.parametrize("running", [v for v in SIMULATED if v.book_channel], ids=ids, indirect=True)
def test_book_matches_the_simulator_truth(running: tuple[VenueSpec, Any, Any]) -> None:
    venue, sim, client = running
    books: list[Any] = []
    errors: list[Exception] = []
    subscription = client.book(venue.symbol_example).pipe(ops.order_book()).subscribe(books.append, errors.append)
    try:
        # venues that send a first book only when the market moves get a tick per poll
        wait_until(lambda: errors or books or sim.step(), timeout=30, interval=0.05)
        sim.step(30)  # the market moves: deltas (or new images) follow the first book
        wait_until(lambda: errors or _same(books[-1], _truth(sim, venue.symbol_example)), timeout=30)
    finally:
        subscription.dispose()
    assert not errors, errors[0]


@pytest.mark.parametrize("venue", ALL, ids=ids)
def test_the_common_notation_maps_to_the_venue_spelling(venue: VenueSpec) -> None:
    assert venue.pair_example, f"{venue.name} declares no BASE/QUOTE example"
    assert venue.symbol_notation.to_venue(venue.pair_example) == venue.symbol_example
    assert venue.symbol_notation.to_venue(venue.symbol_example) == venue.symbol_example  # own spelling kept
    assert venue.symbol_notation.from_venue(venue.symbol_example) == venue.pair_example.upper()  # and back


@pytest.mark.parametrize("bad", ["BTC/USD/EUR", "BTC/", "/USD", "BTC/U SD"])
@pytest.mark.parametrize("venue", SIMULATED, ids=ids)
def test_a_malformed_pair_is_a_clear_invalid_argument(venue: VenueSpec, bad: str) -> None:
    client = client_class(venue.name)(url="ws://127.0.0.1:1")
    try:
        for channel in venue.channels:
            with pytest.raises(InvalidArgument, match="expected BASE/QUOTE"):
                getattr(client, channel.name)(bad)
    finally:
        client.close()


@pytest.mark.ticking
@pytest.mark.parametrize("running", SIMULATED, ids=ids, indirect=True)
def test_trades_in_the_common_notation_keep_the_venue_spelling(running: tuple[VenueSpec, Any, Any]) -> None:
    venue, _sim, client = running
    got: list[Any] = []
    errors: list[Exception] = []
    subscription = open_channel(client, "trades", [venue.pair_example]).subscribe(got.append, errors.append)
    try:
        wait_until(lambda: errors or got, timeout=60)
    finally:
        subscription.dispose()
    assert not errors, errors[0]
    assert {e.symbol.upper() for e in got} == {venue.symbol_example.upper()}
    # events keep the venue spelling and carry the common instrument (cross-venue group-by key)
    assert {e.instrument for e in got} == {venue.pair_example.upper()}


class _Out(FrameTap):
    def __init__(self) -> None:
        self.frames: list[str] = []

    def frame_out(self, url: str, data: str, t: float) -> None:
        self.frames.append(data)


@pytest.mark.ticking
@pytest.mark.parametrize("running", [v for v in SIMULATED if v.unsubscribes], ids=ids, indirect=True)
def test_disposing_the_last_subscriber_sends_the_unsubscribe(running: tuple[VenueSpec, Any, Any]) -> None:
    venue, _sim, client = running
    out = _Out()
    client.add_tap(out)
    got: list[Any] = []
    subscription = client.trades(venue.symbol_example).subscribe(got.append)
    wait_until(lambda: got, timeout=60)
    before = len(out.frames)
    subscription.dispose()
    wait_until(lambda: any("unsub" in f.lower() for f in out.frames[before:]), timeout=30)


@pytest.mark.ticking
@pytest.mark.parametrize("running", SIMULATED, ids=ids, indirect=True)
def test_a_dropped_connection_resubscribes_every_active_channel(running: tuple[VenueSpec, Any, Any]) -> None:
    venue, sim, client = running
    counts = {c.name: 0 for c in venue.channels}
    lock = threading.Lock()

    def counter(name: str) -> Any:
        def on_next(_: Any) -> None:
            with lock:
                counts[name] += 1

        return on_next

    subscriptions = [open_channel(client, name, [venue.symbol_example]).subscribe(counter(name)) for name in counts]
    try:
        wait_until(lambda: all(counts.values()), timeout=60)
        old = {c.id for c in sim.connections}
        assert sim.faults.close_all(1012, "conformance drop") >= 1
        # the client is back on every endpoint it had (new connection ids, as many as before)
        wait_until(lambda: len({c.id for c in sim.connections} - old) >= len(old), timeout=60)
        with lock:
            marks = dict(counts)
        wait_until(lambda: all(counts[n] > marks[n] for n in counts), timeout=60)
    finally:
        for subscription in subscriptions:
            subscription.dispose()


def _trade_key(e: Any) -> Any:
    return (type(e).__name__, e.symbol, e.price, e.size, getattr(e, "side", None), getattr(e, "trade_id", None))


@pytest.mark.ticking
@pytest.mark.parametrize("running", SIMULATED, ids=ids, indirect=True)
def test_record_then_replay_reproduces_the_events(running: tuple[VenueSpec, Any, Any], tmp_path: Path) -> None:
    import rxfeeds
    from rxfeeds.capture import Recorder

    venue, _sim, client = running
    path = tmp_path / f"{venue.name}.jsonl"
    live: list[Any] = []
    recorder = Recorder(path, venue=venue.name).attach(client)
    subscription = client.trades(venue.symbol_example).subscribe(live.append)
    try:
        wait_until(lambda: len(live) >= 5, timeout=60)
    finally:
        subscription.dispose()
        client.close()
        recorder.close()
    session = rxfeeds.replay(path, venue=venue.name)
    replayed: list[Any] = []
    session.trades(venue.symbol_example).subscribe(replayed.append)
    session.run()
    # frames that arrived between dispose and close were recorded too: the replay may go on a little
    assert [_trade_key(e) for e in replayed[: len(live)]] == [_trade_key(e) for e in live]
