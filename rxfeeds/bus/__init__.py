"""Carry feeds over a message broker: publish normalized events, consume them anywhere.

One publisher process per venue pipes its feeds through :func:`rxfeeds.ops.publish`; any
number of consumers (other processes, machines or languages) read them back with
:meth:`Bus.source` as the very same event values, so ``bus.source(...).pipe(ops.order_book())``
rebuilds and re-verifies the books remotely.  The broker is NATS JetStream
(:class:`NatsBus`); the broker-neutral part (:mod:`rxfeeds.bus.base`) keeps the adapter
interface small.

* Subjects: ``<prefix>.<venue>.<symbol>.<channel>``, tokens escaped (:mod:`rxfeeds.bus.subjects`).
* Messages: batches of events of one subject in a versioned orjson envelope
  (:mod:`rxfeeds.bus.envelope`), acknowledged by the broker, de-duplicated by message id in the
  broker and by ``(publisher, subject, seq)`` in consumers.
* Integrity: snapshots, sequences, checksums, level texts and ``StreamReset`` markers travel
  as they are; a lost message shows as a ``StreamReset``; a late joiner starts from the newest
  snapshot per subject (``start="last"``).
* Raw frames (optional, :mod:`rxfeeds.bus.raw`): the wire traffic on a stream of its own, so
  history can be decoded again after a codec fix.

Example::

    import rxfeeds
    from rxfeeds import ops
    from rxfeeds.bus import NatsBus

    bus = NatsBus("nats://127.0.0.1:4222")
    rxfeeds.Kraken().book("XBT/USD", depth=10).pipe(ops.publish(bus, channel="book")).subscribe()
    # elsewhere:
    NatsBus("nats://broker:4222").source("kraken", "XBT/USD", "book", start="last").pipe(
        ops.order_book()).subscribe(print)
"""

from __future__ import annotations

from .base import Bus, Publisher, PublishStats, SourceStats, default_channel
from .envelope import decode_batch, encode_batch
from .jetstream import NatsBus
from .raw import RawFrame, RawFrames, raw_capture
from .subjects import escape_token, parse_subject, subject, unescape_token

__all__ = [
    "Bus",
    "NatsBus",
    "Publisher",
    "PublishStats",
    "RawFrame",
    "RawFrames",
    "SourceStats",
    "connect",
    "decode_batch",
    "default_channel",
    "encode_batch",
    "escape_token",
    "parse_subject",
    "raw_capture",
    "subject",
    "unescape_token",
]


def connect(url: str, **options: object) -> Bus:
    """A bus for ``url``: ``nats://...`` gives a :class:`NatsBus` (options go to it).

    Raises:
        InvalidArgument: an unsupported URL scheme.

    Example:
        >>> connect("redis://localhost")
        Traceback (most recent call last):
        ...
        rxfeeds.errors.InvalidArgument: url='redis://localhost': unsupported bus; use nats://host:port
    """
    from ..errors import InvalidArgument

    if isinstance(url, str) and (url.startswith("nats://") or url.startswith("tls://")):
        return NatsBus(url, **options)  # type: ignore[arg-type]
    raise InvalidArgument("url", url, "unsupported bus; use nats://host:port")
