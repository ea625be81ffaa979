"""The Kraken public book feed: the book views sent per (pair, depth), update frames and checksums.

Real Kraken book traffic is one side and one level per frame almost always, with rare two-level
and two-part frames; each frame carries the CRC32 of the book after it, computed from the exact
wire texts of the top 10 levels.  :class:`KrakenBookFeed` turns the market's steps into such
frames; the protocol modules write them in their own wire format.

Example:
    >>> _crc_segment("0.05000"), _crc_segment("50000.10000")
    ('5000', '5000010000')
"""

from __future__ import annotations

import heapq
import zlib
from typing import ClassVar, Final

from ..market import SyntheticMarket
from ._base import BookView, KrakenBase

__all__ = ["BookFrame", "KrakenBookFeed"]

_CHECKSUM_LEVELS: Final = 10


def _crc_segment(text: str) -> str:
    return text.replace(".", "").lstrip("0")


BookFrame = tuple[list[tuple[str, str]], list[tuple[str, str]], int]


class KrakenBookFeed(KrakenBase):
    """Book views, update frames and checksums of the Kraken simulators."""

    #: share of book frames that carry two levels of one side (capture: 1 of 2,779; kept a
    #: little higher so short tests meet the shape)
    two_level_share: ClassVar[float] = 0.005
    #: share of book frames with asks and bids (v1: two dicts, the checksum in the last)
    two_part_share: ClassVar[float] = 0.005

    def checksum(self, view: BookView, pair: str) -> int:
        """CRC32 of the top 10 asks then bids of what was sent (corrupted when the fault is armed)."""
        parts: list[str] = []
        for price in heapq.nsmallest(_CHECKSUM_LEVELS, view.asks):
            p, s = view.asks[price]
            parts += (_crc_segment(p), _crc_segment(s))
        for price in heapq.nlargest(_CHECKSUM_LEVELS, view.bids):
            p, s = view.bids[price]
            parts += (_crc_segment(p), _crc_segment(s))
        crc = zlib.crc32("".join(parts).encode()) & 0xFFFFFFFF
        if self.faults.take_corrupt_checksum(pair):
            crc ^= 0x5A5A
        return crc

    # ------------------------------------------------------------------ sent views and frames

    def _view(self, pair: str, depth: int) -> tuple[BookView, bool]:
        view = self._views.get((pair, depth))
        fresh = view is None
        if view is None:
            view = self._views[(pair, depth)] = BookView()
            market = self.market(pair)
            self._refresh_view(view, market, depth)
            self._record_truth(pair, depth, view)
        return view, fresh

    def _refresh_view(self, view: BookView, market: SyntheticMarket, depth: int) -> None:
        view.bids = {p: (self.price_text(market, p), self.size_text(market, u)) for p, u in market.bids(depth)}
        view.asks = {p: (self.price_text(market, p), self.size_text(market, u)) for p, u in market.asks(depth)}

    def _record_truth(self, pair: str, depth: int, view: BookView) -> None:
        book = self.sent_book((pair, depth))
        book.replace(bids=view.bids.values(), asks=view.asks.values())

    def _book_update(self, pair: str, market: SyntheticMarket, depth: int, now: float) -> list[BookFrame]:
        """The frames that bring the sent view to the market's top ``depth`` (empty: nothing to send).

        Real Kraken book traffic is one side and one level per frame almost always (2,777 of the
        2,779 updates of the shared capture), with rare two-level frames and rare two-part frames
        (asks and bids in two dicts).  So the step's changes go out one level per frame, a few
        paired, each frame with the checksum of the book *after* it, exactly as a client that
        applies the frame and truncates to ``depth`` sees it.  Deletes go first: an insert sent
        before a delete could be truncated away by the client while the book is still full.
        """
        view, fresh = self._view(pair, depth)
        if fresh:
            return []
        per_side: dict[str, list[tuple[int, tuple[str, str]]]] = {}
        for old, levels, side in (
            (view.asks, market.asks(depth), "ask"),
            (view.bids, market.bids(depth), "bid"),
        ):
            new = {p: (self.price_text(market, p), self.size_text(market, u)) for p, u in levels}
            deletes: list[tuple[int, tuple[str, str]]] = []
            sets: list[tuple[int, tuple[str, str]]] = []
            for price, texts in old.items():
                # Removed from the market: explicit delete.  Still there but pushed out of the
                # top `depth`: nothing (clients truncate), like Kraken.
                if price not in new and market.level(side, price) == 0:  # type: ignore[arg-type]
                    deletes.append((price, (texts[0], self.size_text(market, 0))))
            for price, texts in new.items():
                if old.get(price) != texts:
                    sets.append((price, texts))
            per_side[side] = deletes + sets
        asks, bids = per_side["ask"], per_side["bid"]
        if not asks and not bids:
            return []
        rng = self._shape_rng
        # Interleave the two sides in a random (seeded) order, keeping each side's own order.
        order = ["ask"] * len(asks) + ["bid"] * len(bids)
        rng.shuffle(order)
        queues = {"ask": list(reversed(asks)), "bid": list(reversed(bids))}
        frames: list[BookFrame] = []
        i = 0
        while i < len(order):
            side = order[i]
            other = "bid" if side == "ask" else "ask"
            if queues[other] and self._would_cross(view, side, queues[side][-1]):
                # A level through the other side's best goes out after that side's delete, as
                # the venue's matching engine orders them: a frame never leaves a crossed book.
                j = order.index(other, i)
                order[i], order[j] = order[j], order[i]
                side, other = other, side
            frame_asks: list[tuple[int, tuple[str, str]]] = []
            frame_bids: list[tuple[int, tuple[str, str]]] = []
            (frame_asks if side == "ask" else frame_bids).append(queues[side].pop())
            i += 1
            if i < len(order):
                nxt = order[i]
                roll = rng.random()
                if self._would_cross(view, nxt, queues[nxt][-1]):
                    pass  # sent in a frame of its own, after the delete that makes room
                elif nxt == side and roll < self.two_level_share:
                    (frame_asks if side == "ask" else frame_bids).append(queues[side].pop())
                    i += 1
                elif nxt != side and roll < self.two_part_share:
                    (frame_asks if nxt == "ask" else frame_bids).append(queues[nxt].pop())
                    i += 1
            for book, moves in ((view.asks, frame_asks), (view.bids, frame_bids)):
                for price, (p_text, s_text) in moves:
                    if s_text.strip("0.") == "":
                        book.pop(price, None)
                    else:
                        book[price] = (p_text, s_text)
            self._truncate_view(view, depth)
            if self.truth_history_size > 0:  # the chaos harness checks books at every frame boundary
                self._record_truth(pair, depth, view)
                self.record_truth((pair, depth), now + len(frames) * 1e-6)  # the time the frame carries
            frames.append(([t for _, t in frame_asks], [t for _, t in frame_bids], self.checksum(view, pair)))
        self._record_truth(pair, depth, view)
        return frames

    @staticmethod
    def _would_cross(view: BookView, side: str, move: tuple[int, tuple[str, str]]) -> bool:
        """Whether setting ``move`` on ``side`` would reach the other side's best price."""
        price, (_, s_text) = move
        if s_text.strip("0.") == "":
            return False  # a delete never crosses
        if side == "bid":
            return bool(view.asks) and price >= min(view.asks)
        return bool(view.bids) and price <= max(view.bids)

    @staticmethod
    def _truncate_view(view: BookView, depth: int) -> None:
        """What a client does after each message: keep the best ``depth`` levels per side."""
        if len(view.asks) > depth:
            for price in sorted(view.asks)[depth:]:
                del view.asks[price]
        if len(view.bids) > depth:
            for price in sorted(view.bids, reverse=True)[depth:]:
                del view.bids[price]
