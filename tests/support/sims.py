"""Simulators written for the tests (loaded by name through ``rxfeeds sim <module:Class>``)."""

from __future__ import annotations

from rxfeeds.sim.server import SimConnection, SimServer


class EchoSim(SimServer):
    """Echo server used through ``rxfeeds sim tests.support.sims:EchoSim``."""

    venue = "echo"

    def on_message(self, conn: SimConnection, message: str | bytes) -> None:
        conn.send(message)
