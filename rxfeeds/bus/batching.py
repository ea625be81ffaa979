"""Batching: the events of a publisher's round routed to subjects and grouped into messages.

A round (the events taken from the publishing buffer at once) becomes *waves* of messages:
each message carries events of one subject, at most ``max_batch`` of them; a snapshot (or an
order-level image) starts a new message, so a late joiner can begin there; and a wave holds at
most one message per subject, because a subject has one message in flight at a time.  Markers
(``StreamReset``, ``IntegrityEvent``) follow the subjects their symbol's data already uses.

Example:
    >>> from rxfeeds.events import Trade
    >>> class Prefix:
    ...     prefix = "rxfeeds"
    >>> trades = [Trade("kraken", "XBT/USD", 1.0, 1.0, price=p, size=1.0) for p in (1.0, 2.0, 3.0)]
    >>> [[(subj, len(evs)) for subj, evs, _ in wave] for wave in Batcher(Prefix(), None, 2).plan([], trades)]
    [[('rxfeeds.kraken.XBT~2FUSD.trades', 2)], [('rxfeeds.kraken.XBT~2FUSD.trades', 1)]]
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, Protocol

from ..events import BookDelta, BookOrder, BookSnapshot, Event, IntegrityEvent, StreamReset, Trade, VenueEvent
from .channels import MARKERS, default_channel
from .subjects import subject

__all__ = ["Batcher", "Group"]

#: one message: its subject, its events, and whether it starts with a snapshot
Group = tuple[str, list[Any], bool]

#: event types the publisher looks at one by one (markers, snapshots, order-level images)
_SPECIAL = (StreamReset, IntegrityEvent, BookSnapshot, BookOrder)
_VENUE_SYMBOL = attrgetter("venue", "symbol")


def _TYPE_VENUE_SYMBOL(event: Any) -> tuple[Any, ...]:
    return (type(event), event.venue, event.symbol)


class _Prefixed(Protocol):
    prefix: str


class Batcher:
    """One publisher's routing state and grouping rule (see the module docstring).

    Args:
        link: where the subject prefix is read (the publisher's link).
        channel: the one channel of every event, or None for :func:`default_channel`.
        max_batch: events per message at most.
    """

    def __init__(self, link: _Prefixed, channel: str | None, max_batch: int) -> None:
        self.link = link
        self.channel = channel
        self.max_batch = max_batch
        self._subjects: dict[tuple[str, str], list[str]] = {}  # (venue, symbol) -> channels used
        self._image: dict[str, bool] = {}  # subject -> an order-level image is being sent

    def route(self, event: Any) -> list[str]:
        """Subjects of one event (markers follow the data subjects of their symbol or venue)."""
        prefix = self.link.prefix
        if self.channel is not None:
            channels = [self.channel]
        elif isinstance(event, MARKERS):
            if event.symbol:
                channels = self._subjects.get((event.venue, event.symbol)) or [
                    event.channel if isinstance(event, StreamReset) and event.channel else "events"
                ]
            else:
                pairs = [(s, c) for (v, s), cs in self._subjects.items() if v == event.venue for c in cs]
                return [subject(prefix, event.venue, s, c) for s, c in pairs] or [
                    subject(prefix, event.venue, "", "events")
                ]
        else:
            channels = [default_channel(event)]
        venue = getattr(event, "venue", "")
        symbol = getattr(event, "symbol", "")
        key = (venue, symbol)
        known = self._subjects.get(key)
        if known is None:
            known = self._subjects[key] = []
        for c in channels:
            if c not in known and not isinstance(event, MARKERS):
                known.append(c)
        return [subject(prefix, venue, symbol, c) for c in channels]

    def plan(self, resets: list[StreamReset], events: list[Any]) -> list[list[Group]]:
        """The messages of a round as waves: at most one message per subject in each wave."""
        items = [*resets, *events] if resets else events
        kinds = set(map(type, items))
        fixed = self.channel is not None
        # plain events: their subject follows from (type, venue, symbol) alone
        if all(
            issubclass(k, Event) and not issubclass(k, _SPECIAL) and (fixed or not issubclass(k, VenueEvent))
            for k in kinds
        ):
            groups = self._group_plain(items, kinds)
        else:
            groups = self._group(items)
        # one message per subject in flight at a time: send in waves
        waves: list[list[Group]] = []
        depth: dict[str, int] = {}
        for group in groups:
            d = depth.get(group[0], 0)
            depth[group[0]] = d + 1
            if d == len(waves):
                waves.append([])
            waves[d].append(group)
        return waves

    def _group_plain(self, items: list[Any], kinds: set[type[Any]]) -> list[Group]:
        """Messages of a round without snapshots or markers: split by subject at C speed where possible."""
        key_of = _VENUE_SYMBOL if self.channel is not None or len(kinds) == 1 else _TYPE_VENUE_SYMBOL
        keys = list(map(key_of, items))
        buckets: dict[Any, list[Any]]
        if len(set(keys)) == 1:
            buckets = {keys[0]: items}
        else:
            buckets = {}
            for key, ev in zip(keys, items, strict=True):
                bucket = buckets.get(key)
                if bucket is None:
                    bucket = buckets[key] = []
                bucket.append(ev)
        groups = []
        step = self.max_batch
        for evs in buckets.values():
            for subj in self.route(evs[0]):
                if self._image:
                    self._image.pop(subj, None)
                groups += [(subj, evs[i : i + step], False) for i in range(0, len(evs), step)]
        return groups

    def _group(self, items: list[Any]) -> list[Group]:
        """Messages of a round by subject; a snapshot (or an order-level image) starts a new message."""
        groups: list[Group] = []
        current: dict[str, Group] = {}
        route_cache: dict[tuple[type[Any], str, str], list[str]] = {}
        for ev in items:
            kind = type(ev)
            if kind is BookDelta or kind is Trade:
                ck = (kind, ev.venue, ev.symbol)
                subjects = route_cache.get(ck)
                if subjects is None:
                    subjects = route_cache[ck] = self.route(ev)
            else:
                subjects = self.route(ev)
            for subj in subjects:
                starts = kind is BookSnapshot
                if kind is BookOrder:
                    starts = ev.snapshot and not self._image.get(subj, False)
                    self._image[subj] = ev.snapshot
                elif self._image:
                    self._image.pop(subj, None)
                group = current.get(subj)
                if group is None or starts or len(group[1]) >= self.max_batch:
                    group = (subj, [], starts)
                    current[subj] = group
                    groups.append(group)
                group[1].append(ev)
        return groups
