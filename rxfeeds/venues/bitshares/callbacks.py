"""Callback bookkeeping of the BitShares codec: what is subscribed and where node pushes go.

The node pushes every change through a callback id the client chose: objects and account
statistics through :data:`~rxfeeds.venues.bitshares.constants.OBJECT_CALLBACK`, blocks and pending
transactions through their own ids, each market through its own id.  :class:`Routes` keeps the
registered keys (they survive reconnects: the socket subject re-sends their frames) and the
routing indexes built from them.  User threads (un)register while the socket thread reads:
indexes are rebuilt under a lock and swapped in whole, never half-built.

Example:
    >>> routes = Routes()
    >>> routes.add_objects(("objects", "1.2.0,1.7.x"), ["1.2.0", "1.7.x"])
    >>> routes.exact["1.2.0"], routes.wild["1.7."]
    ((('objects', '1.2.0,1.7.x'),), (('objects', '1.2.0,1.7.x'),))
"""

from __future__ import annotations

import itertools
import threading

from ...codec import Key
from .constants import FIRST_MARKET_CALLBACK
from .ids import is_object_id
from .market import Market

__all__ = ["Routes"]


class Routes:
    """Registered subscriptions and the routing indexes of node pushes (see the module docstring).

    Attributes:
        object_keys / account_keys: key -> the ids / account names it watches.
        markets / market_by_callback: a market's state by key and by its callback id.
        blocks / transactions: whether block / pending-transaction notices are wanted.
        exact / wild: object id (or ``a.b.`` prefix of a wildcard) -> keys watching it.
        owners: account id -> ``(key, spelling)`` pairs of the account subscriptions naming it.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.object_keys: dict[Key, list[str]] = {}
        self.account_keys: dict[Key, list[str]] = {}
        self.markets: dict[Key, Market] = {}
        self.market_by_callback: dict[int, Market] = {}
        self._market_callbacks = itertools.count(FIRST_MARKET_CALLBACK)
        self.blocks = False
        self.transactions = False
        self.exact: dict[str, tuple[Key, ...]] = {}
        self.wild: dict[str, tuple[Key, ...]] = {}
        self.owners: dict[str, tuple[tuple[Key, str], ...]] = {}
        # Account names resolved to ids by get_full_accounts replies (kept across reconnects).
        self._resolved: dict[str, list[tuple[Key, str]]] = {}

    def add_objects(self, key: Key, ids: list[str]) -> None:
        """Watch the objects ``ids`` (``a.b.x`` wildcards included) for ``key``."""
        with self.lock:
            self.object_keys[key] = ids
            self._reindex()

    def add_accounts(self, key: Key, names: list[str]) -> None:
        """Watch the statistics of the accounts ``names`` (names or ``1.2.x`` ids) for ``key``."""
        with self.lock:
            self.account_keys[key] = names
            self._reindex()

    def resolve_accounts(self, key: Key, resolved: list[tuple[str, str]]) -> None:
        """Route the statistics of ``(name, account_id)`` pairs (a ``get_full_accounts`` reply) to ``key``."""
        with self.lock:
            for name, account_id in resolved:
                entries = self._resolved.setdefault(account_id, [])
                if (key, name) not in entries:
                    entries.append((key, name))
            self._reindex()

    def add_market(self, key: Key) -> Market:
        """A fresh market state for ``key`` with its own callback id (a resubscription keeps the assets)."""
        market = Market(key, next(self._market_callbacks))
        with self.lock:
            old = self.markets.get(key)
            if old is not None:
                self.market_by_callback.pop(old.callback, None)
                market.base, market.quote = old.base, old.quote
            self.markets[key] = market
            self.market_by_callback[market.callback] = market
        return market

    def remove(self, key: Key) -> None:
        """Stop routing to ``key``."""
        channel = key[0]
        with self.lock:
            if channel == "objects":
                self.object_keys.pop(key, None)
            elif channel == "accounts":
                self.account_keys.pop(key, None)
            elif channel == "blocks":
                self.blocks = False
            elif channel == "transactions":
                self.transactions = False
            elif channel == "market":
                market = self.markets.pop(key, None)
                if market is not None:
                    self.market_by_callback.pop(market.callback, None)
            self._reindex()

    def _reindex(self) -> None:
        # Caller holds the lock; readers see a complete new table (never a half-built one).
        exact: dict[str, tuple[Key, ...]] = {}
        wild: dict[str, tuple[Key, ...]] = {}
        for key, ids in self.object_keys.items():
            for oid in ids:
                if oid.endswith(".x"):
                    prefix = oid[:-1]
                    wild[prefix] = (*wild.get(prefix, ()), key)
                else:
                    exact[oid] = (*exact.get(oid, ()), key)
        owners: dict[str, tuple[tuple[Key, str], ...]] = {}
        for key, names in self.account_keys.items():
            for name in names:
                if is_object_id(name, wildcard=False):
                    owners[name] = (*owners.get(name, ()), (key, name))
        for account_id, entries in self._resolved.items():
            for key, name in entries:
                if key in self.account_keys:
                    owners[account_id] = (*owners.get(account_id, ()), (key, name))
        self.exact, self.wild, self.owners = exact, wild, owners
