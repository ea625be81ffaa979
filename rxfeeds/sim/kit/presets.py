"""Plausible :class:`~rxfeeds.sim.market.SyntheticMarket` settings for a symbol, by its quote currency.

Example:
    >>> market_options_for("ETHBTC")["tick_size"]
    '0.000001'
    >>> market_options_for("BTC_USDT")["mid"]
    '50000'
"""

from __future__ import annotations

from typing import Any

__all__ = ["market_options_for"]


def market_options_for(symbol: str) -> dict[str, Any]:
    """Market keyword arguments for a ``BASEQUOTE`` symbol (``_`` and ``-`` separators ignored)."""
    s = symbol.upper().replace("_", "").replace("-", "")
    options: dict[str, Any] = {"levels": 200}
    if s.endswith(("USDT", "BUSD", "USDC", "TUSD", "USD", "EUR")):
        if s.startswith("BTC"):
            options.update(mid="50000", tick_size="0.01", size_decimals=5, base_size=0.2)
        elif s.startswith("ETH"):
            options.update(mid="3000", tick_size="0.01", size_decimals=4, base_size=2.0)
        else:
            options.update(mid="1.2345", tick_size="0.0001", size_decimals=1, base_size=500.0)
    elif s.endswith("BTC"):
        options.update(mid="0.05", tick_size="0.000001", size_decimals=4, base_size=2.0)
    elif s.endswith("ETH"):
        options.update(mid="0.002", tick_size="0.0000001", size_decimals=2, base_size=200.0)
    else:
        options.update(mid="100", tick_size="0.01", size_decimals=3, base_size=5.0)
    return options
