"""The simulator toolkit: generic pieces every venue simulator may use (venue simulators never import each other).

* :mod:`.truth` — the book a venue has sent (:class:`~.truth.SentBook`), its immutable copies
  and history, for tests to compare clients with;
* :mod:`.orders` — an order-level book model over a price-level market;
* :mod:`.klines` — candle bars built from the market's trades;
* :mod:`.clock` — wire time formats (milliseconds, ISO 8601) written from the venues' docs.

The price-level market itself is :mod:`rxfeeds.sim.market`.
"""
