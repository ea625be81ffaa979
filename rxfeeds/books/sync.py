"""Per-symbol book state machine: the sync strategies of every venue family in one place.

:class:`SymbolBook` keeps one ``(venue, symbol)`` book and applies that venue's book events.
The strategy is chosen from the data itself, message by message, so the operator stays
venue-agnostic:

``checksum`` (Kraken v1 and v2, OKX)
    A message carrying ``checksum`` is verified after it was applied and both sides were
    truncated to the venue's depth: CRC32 over the top 10 asks then bids, built from the level
    wire texts (:mod:`rxfeeds.books.checksum`).  v1 snapshots carry no checksum (the book is
    trusted and the next update checks it), v2 snapshots do.  The CRC is recomputed only when
    the top 10 of a side may have changed (:attr:`BookSide.top_dirty`); otherwise the
    previous value is reused.  Venues with another checksum (OKX: CRC32 over the top 25 bids and
    asks interleaved) register a :class:`~rxfeeds.books.checksum.ChecksumScheme` for their venue
    name; their books recompute it from the top levels' wire texts after every checksummed
    message and keep no Kraken fragments.
``sequence`` (HitBTC ``sequence``, Binance spot ``U``/``u``/``lastUpdateId``)
    Deltas that arrive before a snapshot are buffered (bounded, oldest dropped).  A snapshot
    sets ``last = sequence``; buffered and later deltas with ``sequence <= last`` are dropped as
    stale; the first applied delta must bridge, ``first_sequence <= last + 1 <= sequence``
    (HitBTC has ``first_sequence == sequence``, so it must be exactly ``last + 1``); after that
    strictly ``first_sequence == last + 1``.  Anything else is a gap.  A later snapshot
    replaces the book; a snapshot older than the synced book (``sequence < last``) is ignored.
    A snapshot at the synced book's own sequence (``sequence == last``, no checksum: HitBTC's
    unsolicited re-snapshot carries the last update's sequence) describes the book already held:
    it is not reloaded, only spot-checked (same best level per side, same venue depth) and the
    book is published again with the snapshot's times; when the spot check disagrees, or the
    book is not synced, it is a real snapshot and replaces the book.
``orders`` (Midchains, BitShares: order-level books)
    :class:`~rxfeeds.events.BookOrder` events are aggregated by order id into price levels
    (sum of the sizes of the orders at a price).  Orders come in venue messages; the last
    order of a message has ``frame_end=True`` and only then is a book published, so no value
    ever shows a half-applied message.  The ``snapshot=True`` orders of one message are a full
    image: the first of them clears the book, and the book is synced once the whole image is
    applied (these venues number nothing).  Orders that are not part of an image are dropped
    while the book is not synced (before the first image, after a ``StreamReset`` or an
    integrity failure); after an order that cannot be applied the rest of its message is
    skipped.
``plain`` (everything else)
    Snapshot, then deltas; deltas before the first snapshot are dropped.

Frozen books (``sequence``): a snapshot whose sequence is ahead of the stream (a corrupt or
foreign ``lastUpdateId``) would make every later update look stale for ever.  When the updates
since a snapshot are all stale, at least :data:`STALE_RUN` of them, and at their pace they would
not reach the snapshot's sequence within :data:`STALE_SPAN` seconds (or they have been stale
that long), the book fails with ``gap`` and is resynced.  A few stale updates right after a
snapshot (the usual REST-snapshot race) are normal and stay silent.

All strategies: sizes are absolute, size 0 removes, removing an unknown level is fine; a
snapshot's zero-size levels are ignored; every other price and size must be a finite number
with ``0 < x < MAX_NUMBER``, else the book fails with ``invalid`` (a NaN level could never be
removed again); after every message each side is truncated to the
venue depth (``BookSnapshot.depth`` when the codec knows it, else ``max_depth``, and for
checksum books the view ``depth``), and a crossed book (best bid >= best ask) is an integrity
failure.

Integrity news is appended to :attr:`SymbolBook.notes` (``IntegrityEvent`` values) for the
operator to emit; ``needs_resync`` tells it to ask the venue for a fresh snapshot.  A
:class:`~rxfeeds.events.StreamReset` marks the book unsynced and empties the buffer but asks for
no resync (the transport already resubscribed).

Example:
    >>> from rxfeeds.events import BookDelta, BookSnapshot
    >>> sb = SymbolBook("hitbtc", "ETHBTC")
    >>> book = sb.on_snapshot(BookSnapshot("hitbtc", "ETHBTC", 1.0, 1.0,
    ...     bids=((99.0, 1.0, "99", "1"),), asks=((101.0, 1.0, "101", "1"),), sequence=5))
    >>> book.synced, [n.kind for n in sb.notes]
    (True, ['synced'])
    >>> sb.notes.clear()
    >>> book = sb.on_delta(BookDelta("hitbtc", "ETHBTC", 2.0, 2.0, bids=(), asks=(), sequence=7,
    ...                              first_sequence=7))
    >>> book.synced, [n.kind for n in sb.notes], sb.needs_resync
    (False, ['gap'], True)
"""

from __future__ import annotations

from collections import deque
from typing import Final, Literal

from ..events import BookDelta, BookOrder, BookSnapshot, IntegrityEvent, IntegrityKind, StreamReset
from .book import OrderBook
from .checksum import CHECKSUM_DEPTH, checksum_scheme, checksum_segment, crc32
from .side import MAX_NUMBER, BadLevel, BookSide, level_problem

__all__ = ["MAX_NUMBER", "STALE_RUN", "STALE_SPAN", "Strategy", "SymbolBook"]

Strategy = Literal["plain", "checksum", "sequence", "orders"]

#: Stale updates in a row after a snapshot before the book may be declared frozen.
STALE_RUN: Final = 10
#: Seconds (receive time) within which stale updates must be able to catch up with a snapshot.
STALE_SPAN: Final = 30.0


def _segment(price_text: str, size_text: str) -> str:
    # on_delta inlines this expression: it runs once per changed level
    return checksum_segment(price_text) + checksum_segment(size_text)


def _top_text(side: BookSide) -> str:
    """Checksum text of a side's top levels; fills in fragments not known yet (snapshot levels)."""
    side.top_dirty = False
    try:
        return "".join(side.top_segments(CHECKSUM_DEPTH))  # type: ignore[arg-type]
    except TypeError:  # a level whose fragment is not known yet (None)
        side.fill_segments(CHECKSUM_DEPTH, _segment)
        return "".join(side.top_segments(CHECKSUM_DEPTH))  # type: ignore[arg-type]


class SymbolBook:
    """The book of one ``(venue, symbol)`` and its sync state (see the module docstring).

    Args:
        venue: venue name (for emitted values).
        symbol: instrument (for emitted values).
        depth: levels per side held by emitted values (None: every level kept).
        max_depth: levels per side kept when the venue does not say (None: all).
        max_buffer: deltas buffered while waiting for a snapshot.
    """

    def __init__(
        self,
        venue: str,
        symbol: str,
        depth: int | None = None,
        max_depth: int | None = None,
        max_buffer: int = 10_000,
    ) -> None:
        self.venue = venue
        self.symbol = symbol
        self.depth = depth
        self.max_depth = max_depth
        self.bids = BookSide(descending=True)
        self.asks = BookSide(descending=False)
        #: strategy seen in the data so far
        self.strategy: Strategy = "plain"
        #: the book is complete and continuous
        self.synced = False
        #: integrity events waiting to be emitted by the operator
        self.notes: list[IntegrityEvent] = []
        #: an integrity failure asks for a fresh snapshot of this symbol
        self.needs_resync = False
        #: consecutive resync attempts without a clean message since (kept by the operator)
        self.resync_attempts = 0
        #: last problem seen, for error messages
        self.last_problem = ""
        self.last_sequence: int | None = None
        self.last_checksum: int | None = None
        self.last_book: OrderBook | None = None
        self.buffer: deque[BookDelta] = deque(maxlen=max_buffer)
        # counters (for reports and tests)
        self.checksum_ok = 0
        self.checksum_failed = 0
        self.gaps = 0
        self.stale = 0
        self.dropped = 0
        self.repeats = 0  # snapshots found to repeat the synced book (not reloaded)
        self._venue_depth: int | None = None
        self._keep: int | None = max_depth  # levels kept per side
        self._bridged = False
        self._segments = False  # checksum mode started
        self._scheme = checksum_scheme(venue)  # None: Kraken's checksum
        self._fragments = False  # Kraken fragments kept with the levels (checksum mode, no scheme)
        self._crc = -1
        self._ask_text = ""
        self._bid_text = ""
        self._orders: dict[str, tuple[bool, float, float]] = {}
        self._order_levels: dict[tuple[bool, float], dict[str, float]] = {}
        self._in_order_image = False  # applying the snapshot orders of one message
        self._skip_frame = False  # an order failed: ignore the rest of its message
        self._stale_first: tuple[int, float] | None = None  # first stale update since the snapshot
        self._stale_count = 0

    # --- events -------------------------------------------------------------------------------

    def on_snapshot(self, ev: BookSnapshot) -> OrderBook | None:
        """Replace the book with ``ev``; replays buffered deltas in sequence mode."""
        if ev.sequence is not None:
            self.strategy = "sequence"
            if self.synced and self.last_sequence is not None and ev.sequence <= self.last_sequence:
                if ev.sequence < self.last_sequence:
                    self.stale += 1
                    return None
                if ev.checksum is None and self._same_image(ev):
                    # the book already is this image (HitBTC's unsolicited re-snapshot): no reload
                    self.repeats += 1
                    if self.resync_attempts:
                        self.resync_attempts = 0
                    return self._publish(ev.time, ev.recv_time)
        if ev.depth is not None:
            self._venue_depth = ev.depth
        if ev.checksum is not None:
            self._start_segments()
        # checksum fragments of snapshot levels are filled in lazily, when a level reaches the top
        try:
            self.bids.load(ev.bids)
            self.asks.load(ev.asks)
        except BadLevel as problem:  # a NaN, infinite, negative or absurd number
            self._fail("invalid", f"snapshot {problem}", ev)
            return self._unsynced()
        self._update_keep()
        self._truncate()
        self.last_sequence = ev.sequence
        self._bridged = False
        self._stale_first = None
        was_synced = self.synced
        self.synced = True
        if ev.checksum is not None and not self._verify(ev.checksum, ev):
            return self._unsynced()
        if self._crossed(ev):
            return self._unsynced()
        if self.buffer:
            buffered = list(self.buffer)
            self.buffer.clear()
            time, recv_time = ev.time, ev.recv_time
            for i, delta in enumerate(buffered):
                if not self._apply_delta(delta):
                    if not self.synced:
                        self.buffer.extend(buffered[i + 1 :])
                        return self._unsynced()
                    continue
                time, recv_time = delta.time, delta.recv_time
            if self._crossed(ev):
                return self._unsynced()
            if not was_synced:
                self._note("synced", self._sync_detail(), ev)
            return self._publish(time, recv_time)
        if not was_synced:
            self._note("synced", self._sync_detail(), ev)
        elif self.resync_attempts:  # a clean snapshot replacing a healthy book (snapshot-only venues)
            self.resync_attempts = 0
        return self._publish(ev.time, ev.recv_time)

    def on_delta(self, ev: BookDelta) -> OrderBook | None:
        """Apply one delta; returns the new value, the last good one marked unsynced, or None.

        This is the hot path: it inlines what :meth:`_apply_delta` does for buffered deltas.
        """
        if not self.synced:
            if ev.sequence is not None:
                self.strategy = "sequence"
                self.buffer.append(ev)
            else:
                self.dropped += 1
            return None
        seq = ev.sequence
        if seq is not None and not self._continues(ev, seq):
            if self.synced:  # stale; all of them since the snapshot may mean a frozen book
                return None if self._bridged else self._stale_after_snapshot(ev, seq)
            return self._unsynced()
        checksum = ev.checksum
        if checksum is not None and not self._segments:
            self._start_segments()
        bids, asks = self.bids, self.asks
        levels = ev.bids
        if levels:
            bad = bids.apply(levels)
            if bad is not None:
                return self._bad_level("bid", bad[0], bad[1], ev)
        levels = ev.asks
        if levels:
            bad = asks.apply(levels)
            if bad is not None:
                return self._bad_level("ask", bad[0], bad[1], ev)
        keep = self._keep
        if keep is not None:
            if bids.count > keep:
                bids.truncate(keep)
            if asks.count > keep:
                asks.truncate(keep)
        if checksum is not None:
            if asks.top_dirty or bids.top_dirty or self._scheme is not None:
                self._refresh_crc()
            if self._crc != checksum:
                self._checksum_failed(checksum, ev)
                return self._unsynced()
            self.checksum_ok += 1
            self.last_checksum = checksum
        bid_entries, ask_entries = bids._entries, asks._entries
        if bid_entries and ask_entries and bid_entries[0][0] >= ask_entries[0][0] and self._crossed(ev):
            return self._unsynced()
        if self.resync_attempts:
            self.resync_attempts = 0
        depth = self.depth
        book = self.last_book = OrderBook(
            self.venue,
            self.symbol,
            ev.time,
            ev.recv_time,
            bids.freeze(depth),
            asks.freeze(depth),
            True,
            self.last_sequence,
            self.last_checksum,
            self.depth,
        )
        return book

    def on_order(self, ev: BookOrder) -> OrderBook | None:
        """Apply one order of an order-level book; a book is returned only at a message end.

        Example:
            >>> sb = SymbolBook("demo", "X")
            >>> image = [BookOrder("demo", "X", 1.0, 1.0, order_id="1", side="buy", price=9.0, size=1.0,
            ...                    snapshot=True, frame_end=False),
            ...          BookOrder("demo", "X", 1.0, 1.0, order_id="2", side="sell", price=11.0, size=2.0,
            ...                    snapshot=True)]
            >>> [sb.on_order(o) for o in image][0] is None  # mid-message: nothing published
            True
            >>> sb.last_book.bids, sb.last_book.asks, sb.last_book.synced
            (((9.0, 1.0),), ((11.0, 2.0),), True)
        """
        self.strategy = "orders"
        if self._skip_frame:
            self._skip_frame = not ev.frame_end
            self.dropped += 1
            return None
        if ev.snapshot:
            if not self._in_order_image:  # a new image replaces the book
                self._in_order_image = True
                self._orders.clear()
                self._order_levels.clear()
                self.bids.clear()
                self.asks.clear()
        elif self._in_order_image:  # the image's message ended without its mark: it was whole
            self._image_done(ev)
        elif not self.synced:
            self.dropped += 1  # only an image (re)starts the book
            return None
        order_id = ev.order_id
        old = self._orders.pop(order_id, None)
        if old is not None:
            self._order_level_change(old[0], old[1], order_id, None)
        if not ev.removed:
            price, size = ev.price, ev.size
            if size != 0:
                if not (0.0 < price < MAX_NUMBER and 0.0 < size < MAX_NUMBER):  # False for NaN too
                    return self._bad_level("bid" if ev.side == "buy" else "ask", price, size, ev)
                is_bid = ev.side == "buy"
                self._orders[order_id] = (is_bid, price, size)
                self._order_level_change(is_bid, price, order_id, size)
        if not ev.frame_end:
            return None
        image = self._in_order_image
        if image:
            self._image_done(ev)
        self._truncate()
        if self._crossed(ev):
            return self._unsynced()
        if not image and self.resync_attempts:
            self.resync_attempts = 0
        return self._publish(ev.time, ev.recv_time)

    def on_reset(self, ev: StreamReset) -> OrderBook | None:
        """The stream restarted: forget continuity, wait for the next snapshot (no resync)."""
        self.buffer.clear()
        self._bridged = False
        self._in_order_image = False
        self._skip_frame = False
        self._stale_first = None
        self._note("reset", ev.reason, ev)
        if not self.synced:
            return None
        self.synced = False
        return self.last_book.with_synced(False) if self.last_book is not None else None

    def invalid(self, ev: BookSnapshot | BookDelta | BookOrder | StreamReset, error: Exception) -> OrderBook | None:
        """``ev`` raised ``error`` while being applied: an integrity failure (``invalid``) of this book.

        The operator calls it for errors a malformed event causes (wrong field types); the book
        is unsynced, a resync is asked, and the rest of an order message is skipped.

        Example:
            >>> sb = SymbolBook("demo", "X")
            >>> sb.invalid(BookDelta("demo", "X", 1.0, 1.0, bids=(), asks=()), TypeError("bad")) is None
            True
            >>> [(n.kind, n.detail) for n in sb.notes], sb.needs_resync
            ([('invalid', 'BookDelta could not be applied: TypeError: bad')], True)
        """
        if type(ev) is BookOrder and not ev.frame_end:
            self._skip_frame = True
        self._in_order_image = False
        text = f"{type(ev).__name__} could not be applied: {type(error).__name__}: {error}"
        self._fail("invalid", text if len(text) <= 300 else text[:300] + "...", ev)
        return self._unsynced()

    # --- internals ------------------------------------------------------------------------------

    def _bad_level(
        self, side: str, price: object, size: object, ev: BookDelta | BookOrder | BookSnapshot
    ) -> OrderBook | None:
        """A level that must never reach the book (NaN, infinite, negative, absurd)."""
        if type(ev) is BookOrder and not ev.frame_end:
            self._skip_frame = True
        self._in_order_image = False
        self._fail("invalid", f"{side} {level_problem(price, size)}", ev)
        return self._unsynced()

    def _image_done(self, ev: BookOrder) -> None:
        self._in_order_image = False
        if not self.synced:
            self.synced = True
            self._note("synced", f"order-level image of {len(self._orders)} orders", ev)

    def _same_image(self, ev: BookSnapshot) -> bool:
        """Spot check of a snapshot at the synced book's sequence: same depth and best levels.

        Under the sequence rule such a snapshot describes the book already held, so only its
        best level per side is compared (a mismatch makes it a real snapshot, loaded in full).
        """
        if ev.depth is not None and ev.depth != self._venue_depth:
            return False
        for side, levels in ((self.bids, ev.bids), (self.asks, ev.asks)):
            if type(levels) is not tuple:  # malformed: the full load reports it
                return False
            best = side.best()
            if not levels:
                if best is not None:
                    return False
            elif best is None or levels[0][0] != best[0] or levels[0][1] != best[1]:
                return False
        return True

    def _stale_after_snapshot(self, ev: BookDelta, seq: int) -> OrderBook | None:
        """Every update since the snapshot was stale: fail when they cannot catch up (frozen book)."""
        first = self._stale_first
        if first is None:
            self._stale_first = (seq, ev.recv_time)
            self._stale_count = 1
            return None
        self._stale_count += 1
        if self._stale_count < STALE_RUN:
            return None
        first_seq, first_time = first
        span = ev.recv_time - first_time
        last = self.last_sequence
        assert last is not None
        if span < STALE_SPAN:
            if not span > 0.0:  # no time has passed (a burst): keep watching
                return None
            advanced = seq - first_seq
            if advanced > 0 and (last - seq) * span / advanced <= STALE_SPAN:
                return None  # catching up with the snapshot soon: the usual REST-snapshot race
        self.gaps += 1
        self._fail(
            "gap",
            f"snapshot sequence {last} is ahead of the stream: the {self._stale_count} updates since "
            f"(up to {seq}) were all older",
            ev,
        )
        self._stale_first = None
        return self._unsynced()

    def _continues(self, ev: BookDelta, seq: int) -> bool:
        """Sequence rules for ``ev``: True to apply it; False when stale or a gap (then failed)."""
        last = self.last_sequence
        if last is not None:
            if seq <= last:
                self.stale += 1
                return False
            first = ev.first_sequence if ev.first_sequence is not None else seq
            # first applied delta after a snapshot may bridge it; then strictly contiguous
            if first != last + 1 and (self._bridged or first > last + 1):
                self.gaps += 1
                self._fail("gap", f"expected {last + 1}, got {first}..{seq}", ev)
                self.buffer.append(ev)
                return False
        self.last_sequence = seq
        self._bridged = True
        return True

    def _apply_delta(self, ev: BookDelta) -> bool:
        """Apply a buffered ``ev``; False when it was stale or broke integrity."""
        if ev.sequence is not None and not self._continues(ev, ev.sequence):
            return False
        checksum = ev.checksum
        if checksum is not None and not self._segments:
            self._start_segments()
        seg = self._fragments
        for name, side, levels in (("bid", self.bids, ev.bids), ("ask", self.asks, ev.asks)):
            for p, s, pt, st in levels:
                if s == 0:
                    side.remove(p)
                elif 0.0 < p < MAX_NUMBER and 0.0 < s < MAX_NUMBER:
                    side.set(p, s, pt, st, _segment(pt, st) if seg else None)
                else:
                    self._bad_level(name, p, s, ev)
                    return False
        self._truncate()
        return checksum is None or self._verify(checksum, ev)

    def _update_keep(self) -> None:
        depth = self._venue_depth
        if depth is None:
            depth = self.max_depth
            if depth is None and self.strategy == "checksum":
                depth = self.depth
        self._keep = depth

    def _truncate(self) -> None:
        keep = self._keep
        if keep is not None:
            if self.bids.count > keep:
                self.bids.truncate(keep)
            if self.asks.count > keep:
                self.asks.truncate(keep)

    def _start_segments(self) -> None:
        """Checksums from now on (a v2 snapshot, or the first checksummed update after a v1 one)."""
        self.strategy = "checksum"
        self._segments = True
        self._fragments = self._scheme is None
        self.bids.track_segments(self._fragments)
        self.asks.track_segments(self._fragments)
        self._update_keep()
        self.bids.top_dirty = self.asks.top_dirty = True

    def _verify(self, checksum: int, ev: BookSnapshot | BookDelta) -> bool:
        if self.asks.top_dirty or self.bids.top_dirty or self._scheme is not None:
            self._refresh_crc()
        if self._crc == checksum:
            self.checksum_ok += 1
            self.last_checksum = checksum
            return True
        self._checksum_failed(checksum, ev)
        return False

    def _checksum_failed(self, checksum: int, ev: BookSnapshot | BookDelta) -> None:
        self.checksum_failed += 1
        self._fail("checksum", f"venue {checksum}, local {self._crc}", ev)

    def _refresh_crc(self) -> None:
        """CRC32 over the top asks then bids; a side's text is re-joined only when its top changed."""
        asks, bids = self.asks, self.bids
        scheme = self._scheme
        if scheme is not None:  # the venue's own checksum over its top levels (texts at index 2, 3)
            asks.top_dirty = bids.top_dirty = False
            self._crc = scheme.compute(bids.top(scheme.depth), asks.top(scheme.depth))
            return
        if asks.top_dirty:
            self._ask_text = _top_text(asks)
        if bids.top_dirty:
            self._bid_text = _top_text(bids)
        # one call over both texts: a CRC call costs about as much for 180 bytes as for 360
        self._crc = crc32((self._ask_text + self._bid_text).encode("ascii"))

    def _crossed(self, ev: BookSnapshot | BookDelta | BookOrder) -> bool:
        bid, ask = self.bids.best(), self.asks.best()
        if bid is None or ask is None or bid[0] < ask[0]:
            return False
        self._fail("crossed", f"best bid {bid[2] or bid[0]} >= best ask {ask[2] or ask[0]}", ev)
        return True

    def _fail(self, kind: IntegrityKind, detail: str, ev: BookSnapshot | BookDelta | BookOrder | StreamReset) -> None:
        self.synced = False
        self._bridged = False
        self.needs_resync = True
        self.last_problem = f"{kind}: {detail}"
        self._note(kind, detail, ev)

    def _unsynced(self) -> OrderBook | None:
        book = self.last_book
        if book is None or not book.synced:
            return None
        book = book.with_synced(False)
        self.last_book = book
        return book

    def _note(self, kind: IntegrityKind, detail: str, ev: BookSnapshot | BookDelta | BookOrder | StreamReset) -> None:
        self.notes.append(IntegrityEvent(self.venue, self.symbol, ev.time, ev.recv_time, kind=kind, detail=detail))

    def _sync_detail(self) -> str:
        if self.last_sequence is not None:
            return f"snapshot at sequence {self.last_sequence}"
        return "snapshot"

    def _publish(self, time: float, recv_time: float) -> OrderBook:
        book = OrderBook(
            self.venue,
            self.symbol,
            time,
            recv_time,
            self.bids.freeze(self.depth),
            self.asks.freeze(self.depth),
            self.synced,
            self.last_sequence,
            self.last_checksum,
            self.depth,
        )
        self.last_book = book
        return book

    def _order_level_change(self, is_bid: bool, price: float, order_id: str, size: float | None) -> None:
        orders = self._order_levels.setdefault((is_bid, price), {})
        if size is None:
            orders.pop(order_id, None)
        else:
            orders[order_id] = size
        side = self.bids if is_bid else self.asks
        total = sum(orders.values())
        if not orders or total <= 0:
            self._order_levels.pop((is_bid, price), None)
            side.remove(price)
        else:
            side.set(price, total, "", "", None)
