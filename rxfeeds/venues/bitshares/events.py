"""The BitShares events: chain objects, account statistics, blocks, pending transactions,
fills and margin (call) orders.  Limit orders are the common :class:`~rxfeeds.events.BookOrder`.

Example:
    >>> BlockApplied("bitshares", "", 1.0, 1.0, kind="block", block_id="00000005ab", block_num=5).block_num
    5
"""

from __future__ import annotations

from dataclasses import dataclass

from ...events import Side, VenueEvent

__all__ = ["AccountUpdate", "BlockApplied", "CallOrderUpdate", "ObjectUpdate", "OrderFill", "PendingTransaction"]


@dataclass(frozen=True, slots=True)
class ObjectUpdate(VenueEvent):
    """A chain object changed (``data`` is the full object) or was removed (``data`` is None).

    ``initial`` marks the current state returned when the subscription was made.

    Example:
        >>> ObjectUpdate("bitshares", "2.1.0", 1.0, 1.0, kind="object", data={"id": "2.1.0"},
        ...              object_id="2.1.0").object_id
        '2.1.0'
    """

    object_id: str = ""
    removed: bool = False
    initial: bool = False


@dataclass(frozen=True, slots=True)
class AccountUpdate(VenueEvent):
    """Account statistics (``2.6.x``) of ``account`` (the name or id as subscribed).

    Example:
        >>> AccountUpdate("bitshares", "init0", 1.0, 1.0, kind="account", data={"total_ops": 5},
        ...               account="init0", account_id="1.2.17").data["total_ops"]
        5
    """

    account: str = ""
    account_id: str = ""
    initial: bool = False


@dataclass(frozen=True, slots=True)
class BlockApplied(VenueEvent):
    """A block was applied; ``block_num`` is the first four bytes of the block id.

    Example:
        >>> BlockApplied("bitshares", "", 1.0, 1.0, kind="block", data="00000005ab",
        ...              block_id="00000005ab", block_num=5).block_num
        5
    """

    block_id: str = ""
    block_num: int = 0


@dataclass(frozen=True, slots=True)
class PendingTransaction(VenueEvent):
    """A signed transaction entered the node's pending pool (``data`` is the transaction).

    Example:
        >>> PendingTransaction("bitshares", "", 1.0, 1.0, kind="transaction", data={"operations": []}).kind
        'transaction'
    """


@dataclass(frozen=True, slots=True)
class OrderFill(VenueEvent):
    """A ``fill_order`` operation (op 4) seen in a subscribed market.

    Each match fills two orders, so a match produces two fills (one per side).  ``side`` is the
    filled order's side in this market (``"buy"`` pays base for quote); ``price`` is in base per
    quote and ``size`` in quote units.

    Example:
        >>> OrderFill("bitshares", "BTS:USD", 1.0, 1.0, kind="fill", order_id="1.7.5", side="buy",
        ...           price=0.5, size=10.0).size
        10.0
    """

    order_id: str = ""
    account_id: str = ""
    side: Side | None = None
    price: float = 0.0
    size: float = 0.0
    is_maker: bool | None = None


@dataclass(frozen=True, slots=True)
class CallOrderUpdate(VenueEvent):
    """A margin (call) order ``1.8.x`` changed or was removed; amounts in asset units.

    Example:
        >>> CallOrderUpdate("bitshares", "BTS:USD", 1.0, 1.0, kind="call_order", order_id="1.8.1",
        ...                 borrower="1.2.5", collateral=100.0, debt=1.0).debt
        1.0
    """

    order_id: str = ""
    borrower: str = ""
    collateral: float = 0.0
    debt: float = 0.0
    removed: bool = False
