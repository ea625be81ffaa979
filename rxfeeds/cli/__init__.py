"""The ``rxfeeds`` command line.

Commands live in their own modules (``rxfeeds/cli/<command>.py``) and are imported only when
used, so ``rxfeeds --help`` stays fast.  Exit codes: 0 success, 1 runtime failure, 2 usage error.

Example::

    $ rxfeeds demo --duration 10
    $ rxfeeds sim kraken --port 8765
    $ rxfeeds replay capture.jsonl --venue kraken --book --json
"""

from __future__ import annotations

import importlib
from typing import Any

import click

#: command name -> (module, short help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("rxfeeds.cli.demo", "Run a simulator in-process and show a live book and klines."),
    "sim": ("rxfeeds.cli.sim", "Serve a simulated venue until interrupted."),
    "watch": ("rxfeeds.cli.watch", "Live terminal view of a venue channel."),
    "record": ("rxfeeds.cli.record", "Record a venue channel to a capture file."),
    "replay": ("rxfeeds.cli.replay", "Replay a capture through the pipeline and summarise it."),
    "publish": ("rxfeeds.cli.publish", "Publish a venue channel's events to a message bus (NATS JetStream)."),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        command: Any = importlib.import_module(entry[0]).command
        return command  # type: ignore[no-any-return]


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rxfeeds")
def cli() -> None:
    """rxfeeds: exchange websocket feeds as ReactiveX Observables."""


def main() -> None:
    """Console-script entry point."""
    cli()
