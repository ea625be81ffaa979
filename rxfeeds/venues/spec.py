"""The venue contract: what a venue folder declares about itself, once.

A :class:`VenueSpec` names the venue (command-line names), its client, codec and simulator
(``"module:attr"`` strings, so declaring a venue imports nothing heavy), its status and its
**channel map**: each streaming channel with the event types it emits and, for a book channel,
the sync rule its books follow.  Requests (one reply) and trading calls are listed apart and are
never channels: the command line only ever opens declared channels.

Every registry in rxfeeds (clients, codecs, simulators, top-level exports, CLI choices, the docs
venue table) is derived from the specs; see :mod:`rxfeeds.venues.registry`.

Example:
    >>> ch = Channel("trades", ("Trade",))
    >>> spec = VenueSpec(
    ...     name="toy", client="toy.client:Toy", codec="toy.codec:ToyCodec", simulator=None,
    ...     status="documentation-only", channels=(ch,), symbol_example="BTCUSD")
    >>> spec.channel("trades").events, spec.channel_names()
    (('Trade',), ['trades'])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from .symbols import SymbolNotation

__all__ = ["SYNC_RULES", "Channel", "Status", "SyncRule", "VenueSpec"]

#: how a book channel's books are kept in sync (see ``rxfeeds.books.sync``)
SyncRule: TypeAlias = Literal["checksum", "sequence", "snapshot+rest", "order-level", "full-images"]
SYNC_RULES: tuple[SyncRule, ...] = ("checksum", "sequence", "snapshot+rest", "order-level", "full-images")

#: ``live``: a production endpoint answers; ``retired``: the venue or API version is gone (simulation
#: and replay only); ``documentation-only``: the format comes from documentation, never seen live
Status: TypeAlias = Literal["live", "retired", "documentation-only"]


@dataclass(frozen=True)
class Channel:
    """One streaming channel: the client method ``name(symbols, ...)`` and what it emits.

    Attributes:
        name: the client method (the common vocabulary: ``book``, ``trades``, ``ticker``, ``klines``).
        events: names of the event classes it emits (``rxfeeds.events`` or the venue's codec).
        book: the sync rule when this is a book channel (feed it to ``ops.order_book()``).
        aliases: other method names for the same channel (the seed libraries' names).
    """

    name: str
    events: tuple[str, ...]
    book: SyncRule | None = None
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.book is not None and self.book not in SYNC_RULES:
            raise ValueError(f"channel {self.name}: unknown sync rule {self.book!r}; choose one of {SYNC_RULES}")


@dataclass(frozen=True)
class VenueSpec:
    """Everything rxfeeds needs to know about one venue (see the module docstring).

    Attributes:
        name: the command-line venue name (``rxfeeds watch NAME ...``).
        client: ``"module:Class"`` of the client.
        codec: ``"module:Class"`` of the sans-I/O codec (replay decodes with it).
        simulator: ``"module:Class"`` of the simulator, or None.
        status: see :data:`Status`.
        channels: the streaming channels (symbol-taking client methods).
        symbol_example: a symbol in the venue's own spelling (help texts, the conformance suite).
        symbol_notation: how the venue spells ``BASE/QUOTE`` (channels accept both spellings).
        pair_example: ``symbol_example`` in the ``BASE/QUOTE`` notation.
        unsubscribes: whether the protocol has an unsubscribe message (sent when the last
            subscriber of a channel disposes).
        aliases: further command-line names.
        export: the name under which ``rxfeeds`` exports the client (``rxfeeds.Kraken``).
        requests: client methods that answer once (metadata, pings, RPC calls).
        trading: client methods that place, change or cancel orders, or need credentials.
        hosts: ``(host, path prefix)`` of production endpoints (tells a capture's venue apart).
        sim_client: ``"module:function"`` building the client against a running simulator
            (``function(sim, **options)``), used by the conformance suite and tools.
        docs: the venue's documentation page, relative to ``docs/``.
        title: a human name (docs and ``rxfeeds venues``).
        notes: a short status note (the generated README/docs venue tables show it).
    """

    name: str
    client: str
    codec: str
    simulator: str | None
    status: Status
    channels: tuple[Channel, ...]
    symbol_example: str
    aliases: tuple[str, ...] = ()
    export: str | None = None
    requests: tuple[str, ...] = ()
    trading: tuple[str, ...] = ()
    hosts: tuple[tuple[str, str], ...] = ()
    sim_client: str | None = None
    docs: str | None = None
    title: str = ""
    symbol_notation: SymbolNotation = field(default_factory=SymbolNotation)
    pair_example: str = ""
    unsubscribes: bool = True
    notes: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        names = [n for c in self.channels for n in (c.name, *c.aliases)]
        clash = set(names) & (set(self.requests) | set(self.trading))
        if len(names) != len(set(names)) or clash:
            raise ValueError(f"venue {self.name}: a name is declared twice or both channel and call: {sorted(clash)}")

    def channel(self, name: str) -> Channel:
        """The channel called ``name`` (or one of its aliases); KeyError when none is."""
        for ch in self.channels:
            if name == ch.name or name in ch.aliases:
                return ch
        raise KeyError(name)

    def channel_names(self, *, aliases: bool = False) -> list[str]:
        """The channels' method names (and their aliases when asked), in declaration order."""
        return [n for c in self.channels for n in ((c.name, *c.aliases) if aliases else (c.name,))]

    @property
    def book_channel(self) -> Channel | None:
        """The channel named ``book`` when the venue has one."""
        return next((c for c in self.channels if c.name == "book"), None)
