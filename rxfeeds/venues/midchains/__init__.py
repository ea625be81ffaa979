"""Midchains websocket API: codec and the :class:`Midchains` client.

Provenance note: every frame format in this package comes from Midchains' **documentation only**
(no capture or open-source client exists; see ``protocols.md`` §2).  Documented: subscribe,
book and trade messages, ``act:"R"`` removals, challenge/login/logout and order entry with its
``result`` texts.  Inferred and marked ``[INF]`` in the codec: order-level book semantics, the
first book message being the full image, the shape of a refused subscription, and the absence
of an unsubscribe message.  Replies carry no request id; they are matched by type, security
and refno in order.

Example::

    import rxfeeds
    mc = rxfeeds.Midchains()
    mc.trades("BTCUSD").subscribe(print)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .codec import MidchainsCodec, MidchainsError, encrypt_password

__all__ = ["MidchainsCodec", "MidchainsError", "encrypt_password"]

# imported on first use: the venue registry reads this package's spec.py without loading the client
_LAZY = {
    "MidchainsCodec": "codec",
    "MidchainsError": "codec",
    "encrypt_password": "codec",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rxfeeds.venues.midchains' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
