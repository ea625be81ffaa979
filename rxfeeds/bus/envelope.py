"""The wire format of the bus: a compact, versioned orjson envelope of event batches.

One bus message carries a batch of events of one subject::

    [1, "publisher-id", seq, [[tag, [[field1, field2, ...], ...]], ...]]

* ``1`` is the format version; a decoder refuses versions it does not know.
* ``publisher-id`` names one publishing operator instance (random per subscription) and ``seq``
  numbers its messages per subject from 1: consumers drop what they have seen (at-least-once
  delivery made exactly-once) and see a lost message as a gap.
* events come in runs of one class, in their order: the class's tag, then each event's
  dataclass fields in declaration order (a run costs one tag; encoding and decoding a run
  work at C speed where the fields need no conversion).  Core events have one-letter tags;
  other event dataclasses defined in ``rxfeeds`` modules (venue events such as BitShares
  ``ObjectUpdate``, ``ops.stale_after``'s ``Stale``) travel as
  ``"module:QualName"`` and are rebuilt as the same class.

Floats round-trip exactly (orjson writes the shortest representation that parses back to the
same double); book levels come back as tuples, so a decoded event equals the original.  Free-form
payloads (``VenueEvent.data``, ``OrderUpdate.raw``) travel as JSON values: tuples in them come
back as lists.  Non-finite floats (never produced by the codecs) would come back as ``None``.

Example:
    >>> from rxfeeds.events import BookDelta, Trade
    >>> events = [Trade("kraken", "XBT/USD", 1.5, 1.6, price=0.1 + 0.2, size=3.0, side="buy"),
    ...           BookDelta("kraken", "XBT/USD", 2.0, 2.1, bids=((99.5, 1.0, "99.5", "1.0"),), asks=(),
    ...                     checksum=123)]
    >>> data = encode_batch("p1", 7, events)
    >>> decode_batch(data) == ("p1", 7, events)
    True
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import typing
from collections.abc import Callable, Sequence
from itertools import groupby, starmap
from operator import attrgetter
from typing import Any

import orjson

from .. import events as _ev
from ..errors import FrameError

__all__ = ["VERSION", "encode_batch", "decode_batch", "encode_events", "tag_of"]

VERSION = 1

_CORE: dict[str, type[Any]] = {
    "t": _ev.Trade,
    "q": _ev.Quote,
    "x": _ev.Ticker,
    "k": _ev.Kline,
    "s": _ev.BookSnapshot,
    "d": _ev.BookDelta,
    "o": _ev.BookOrder,
    "u": _ev.OrderUpdate,
    "v": _ev.VenueEvent,
    "r": _ev.StreamReset,
    "i": _ev.IntegrityEvent,
    "c": _ev.ConnectionStatus,
}

#: class -> (tag, getter of the field values as a tuple)
_ENCODERS: dict[type[Any], tuple[str, Callable[[Any], tuple[Any, ...]]]] = {}
#: tag -> builder of a run of events from their field lists
_DECODERS: dict[str, Callable[[list[list[Any]]], list[Any]]] = {}


def _levels(value: Any) -> tuple[tuple[Any, ...], ...]:
    return tuple(map(tuple, value))


def _converters(cls: type[Any]) -> list[tuple[int, Callable[[Any], Any]]]:
    """Positions of fields whose JSON form differs from the value: level tuples and enums."""
    hints = typing.get_type_hints(cls, vars(_ev))
    out: list[tuple[int, Callable[[Any], Any]]] = []
    for i, f in enumerate(dataclasses.fields(cls)):
        hint = hints.get(f.name)
        if hint == tuple[_ev.Level, ...]:
            out.append((i, _levels))
        elif isinstance(hint, type) and issubclass(hint, enum.Enum):
            out.append((i, hint))
    return out


def _builder(cls: type[Any]) -> Callable[[list[list[Any]]], list[Any]]:
    """Rebuilds a run of ``cls`` events from their field lists."""
    conv = _converters(cls)
    if not conv:
        return lambda rows: list(starmap(cls, rows))
    if [i for i, _ in conv] == [4, 5] and conv[0][1] is _levels and conv[1][1] is _levels:
        # book snapshots and deltas: the hot decode path
        def book(rows: list[list[Any]]) -> list[Any]:
            for row in rows:
                row[4] = tuple(map(tuple, row[4]))
                row[5] = tuple(map(tuple, row[5]))
            return list(starmap(cls, rows))

        return book

    def build(rows: list[list[Any]]) -> list[Any]:
        for row in rows:
            for i, fn in conv:
                row[i] = fn(row[i])
        return list(starmap(cls, rows))

    return build


for _tag, _cls in _CORE.items():
    _ENCODERS[_cls] = (_tag, attrgetter(*(f.name for f in dataclasses.fields(_cls))))
    _DECODERS[_tag] = _builder(_cls)


def tag_of(cls: type[Any]) -> tuple[str, Callable[[Any], tuple[Any, ...]]]:
    """The tag and field getter of an event class (registered on first use).

    Raises:
        FrameError: not a dataclass defined in an ``rxfeeds`` module.
    """
    found = _ENCODERS.get(cls)
    if found is not None:
        return found
    if not dataclasses.is_dataclass(cls) or not cls.__module__.startswith("rxfeeds."):
        raise FrameError(f"the bus carries rxfeeds event dataclasses only, not {cls.__module__}.{cls.__qualname__}")
    tag = f"{cls.__module__}:{cls.__qualname__}"
    names = [f.name for f in dataclasses.fields(cls)]
    getter: Callable[[Any], tuple[Any, ...]]
    if len(names) == 1:
        single = attrgetter(names[0])
        getter = lambda ev: (single(ev),)  # noqa: E731
    else:
        getter = attrgetter(*names)
    _ENCODERS[cls] = (tag, getter)
    _DECODERS[tag] = _builder(cls)
    return tag, getter


def _decoder(tag: str) -> Callable[[list[list[Any]]], list[Any]]:
    found = _DECODERS.get(tag)
    if found is not None:
        return found
    module, _, qualname = tag.partition(":")
    # only rxfeeds' own modules are imported: a message must not choose arbitrary code to load
    if not module.startswith("rxfeeds.") or not qualname:
        raise FrameError(f"unknown event tag {tag[:80]!r}")
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise FrameError(f"unknown event type {tag[:80]!r}") from exc
    if not isinstance(obj, type) or not dataclasses.is_dataclass(obj):
        raise FrameError(f"{tag[:80]!r} is not an event dataclass")
    tag_of(obj)
    return _DECODERS[tag]


def encode_events(events: Sequence[Any]) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """The JSON-ready runs of ``events``: ``(tag, [fields, ...])`` per run of one class."""
    encoders = _ENCODERS
    out = []
    for cls, run in groupby(events, type):
        enc = encoders.get(cls)
        if enc is None:
            enc = tag_of(cls)
        out.append((enc[0], list(map(enc[1], run))))
    return out


def encode_batch(publisher: str, seq: int, events: Sequence[Any]) -> bytes:
    """One bus message: ``events`` (of one subject) as message ``seq`` of ``publisher``."""
    return orjson.dumps((VERSION, publisher, seq, encode_events(events)))


def decode_batch(data: bytes | str) -> tuple[str, int, list[Any]]:
    """``(publisher, seq, events)`` of one bus message.

    Raises:
        FrameError: not a bus message of a known version, or an event that cannot be rebuilt.
    """
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise FrameError(f"bus message is not JSON: {exc}") from None
    if not isinstance(doc, list) or len(doc) != 4 or doc[0] != VERSION:
        raise FrameError(f"not an rxfeeds bus message of version {VERSION}")
    _, publisher, seq, items = doc
    if not isinstance(publisher, str) or not isinstance(seq, int) or not isinstance(items, list):
        raise FrameError("malformed rxfeeds bus message header")
    decoders = _DECODERS
    out: list[Any] = []
    try:
        for tag, rows in items:
            dec = decoders.get(tag)
            if dec is None:
                dec = _decoder(tag)
            out += dec(rows)
    except FrameError:
        raise
    except Exception as exc:
        raise FrameError(f"bus event cannot be rebuilt: {type(exc).__name__}: {exc}") from None
    return publisher, seq, out
