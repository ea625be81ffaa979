"""``of_channel``: keep one stream type (channel) out of a mixed stream.

Some venues multiplex several stream types on one subscription: a Binance DEX account stream
carries ``orders``, ``accounts`` and ``transfers``; a BitShares connection carries block,
object and market notices.  ``of_channel(*names)`` keeps the elements whose channel is one
of ``names``.

What counts as the channel of an element (an element may have two; it matches when either is
among ``names``):

* its ``channel`` attribute when that is a string - :class:`~rxfeeds.events.StreamReset`
  (so the reset markers of the kept channel pass through) and any venue event type that
  declares a ``channel`` field;
* ``kind`` for a :class:`~rxfeeds.events.VenueEvent` (or subclass): ``"orders"``,
  ``"accounts"``, ``"transfers"``, ``"block"``, ...

Anything else (``Trade``, ``BookDelta``, ``IntegrityEvent``...) has no channel and is dropped;
select those with ``of_type``, or pass ``channel_of`` to define channels yourself.

Marble sketch (``o`` = VenueEvent(kind="orders"), ``a`` = kind "accounts",
``r`` = StreamReset(channel="orders"))::

    source:              -o-a-r-a-o-|
    of_channel("orders"): -o---r---o-|

Example:
    >>> import reactivex as rx
    >>> from rxfeeds.events import VenueEvent
    >>> evs = [VenueEvent("binance-dex", "", 1.0, 1.0, kind=k) for k in ("orders", "accounts", "orders")]
    >>> got = []
    >>> _ = rx.from_iterable(evs).pipe(of_channel("orders")).subscribe(got.append)
    >>> [e.kind for e in got]
    ['orders', 'orders']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from reactivex import Observable
from reactivex import operators as rx_ops

from ..errors import InvalidArgument
from ..events import VenueEvent

__all__ = ["of_channel", "channels_of"]

_T = TypeVar("_T")


def channels_of(element: Any) -> tuple[str, ...]:
    """The channel names of ``element`` as :func:`of_channel` sees them (see the module docstring).

    Example:
        >>> from rxfeeds.events import StreamReset
        >>> channels_of(StreamReset("kraken", "XBT/USD", 1.0, 1.0, channel="book-10", reason="reconnect"))
        ('book-10',)
    """
    channel = getattr(element, "channel", None)
    names: tuple[str, ...] = (channel,) if isinstance(channel, str) else ()
    if isinstance(element, VenueEvent):
        names += (element.kind,)
    return names


def of_channel(
    *names: str, channel_of: Callable[[Any], str | None] | None = None
) -> Callable[[Observable[_T]], Observable[_T]]:
    """Keep elements whose channel is one of ``names``.

    Args:
        names: channel names, matched exactly (case matters).
        channel_of: optional function giving an element's channel (or ``None``); replaces the
            default rules of the module docstring.

    Raises:
        InvalidArgument: no names, or a name that is not a non-empty string.

    Example::

        orders = dex.account(address).pipe(ops.of_channel("orders"))
    """
    if not names:
        raise InvalidArgument("names", names, "give at least one channel name")
    for name in names:
        if not isinstance(name, str) or not name:
            raise InvalidArgument("names", name, "each channel name must be a non-empty string")
    wanted = frozenset(names)

    if channel_of is not None:
        custom = channel_of

        def keep(element: Any) -> bool:
            return custom(element) in wanted

    else:

        def keep(element: Any) -> bool:
            channel = getattr(element, "channel", None)
            if isinstance(channel, str) and channel in wanted:
                return True
            return isinstance(element, VenueEvent) and element.kind in wanted

    return rx_ops.filter(keep)
