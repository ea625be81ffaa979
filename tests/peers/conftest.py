"""Peer-client conformance suite: real third-party client libraries pointed at the simulators.

Install with ``pip install -e '.[peers]'`` and run with ``pytest -m peers tests/peers``.  Each
module skips when its library is not installed.
"""

from __future__ import annotations
