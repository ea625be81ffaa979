"""Venue clients pointed at simulators, for the suites that go over every venue."""

from __future__ import annotations

from typing import Any

from rxfeeds.cli._channels import make_client
from rxfeeds.venues import client_class


def client_for(venue: str, sim: Any) -> Any:
    """The venue's client pointed at the simulator (REST included: never the real venue)."""
    if venue == "binance-spot":
        return client_class(venue)(url=sim.url, rest_url=sim.http_url)
    return make_client(venue, sim.url)
