"""The ``rxfeeds`` command line.

Commands live in their own modules (``rxfeeds/cli/<command>.py``) and are imported only when
used, so ``rxfeeds --help`` stays fast.  Exit codes: 0 success, 1 runtime failure, 2 usage error.

Every failure ends in one line on stderr (``Error: <problem>; <fix>``); ``--debug`` (anywhere on
the command line) shows the traceback instead.

Example::

    $ rxfeeds demo --duration 10
    $ rxfeeds sim kraken --port 8765
    $ rxfeeds replay capture.jsonl --venue kraken --book --json
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from .. import __version__
from ..errors import InvalidArgument, RxfeedsError

#: command name -> (module, short help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("rxfeeds.cli.demo", "Run a simulator in-process and show a live book and klines."),
    "sim": ("rxfeeds.cli.sim", "Serve a simulated venue until interrupted."),
    "watch": ("rxfeeds.cli.watch", "Live terminal view of a venue channel."),
    "record": ("rxfeeds.cli.record", "Record a venue channel to a capture file."),
    "replay": ("rxfeeds.cli.replay", "Replay a capture through the pipeline and summarise it."),
    "publish": ("rxfeeds.cli.publish", "Publish a venue channel's events to a message bus (NATS JetStream)."),
    "venues": ("rxfeeds.cli.venues", "List every venue: status, channels, symbols, simulator."),
}


#: InvalidArgument names that are command-line arguments or options
_CLI_NAMES = {
    "url": "--url",
    "urls": "--url",
    "rest_url": "--rest-url",
    "symbol": "SYMBOL",
    "symbols": "SYMBOL",
    "security": "SYMBOL",
    "market": "SYMBOL",
    "pair": "SYMBOL",
    "pairs": "SYMBOL",
}


class _UsageProblem(click.ClickException):
    """A one-line error that ends the command as a usage error (exit code 2)."""

    exit_code = 2


def one_line_error(exc: BaseException) -> click.ClickException:
    """The one-line CLI error for ``exc`` (exit code 2 for bad arguments, 1 otherwise).

    Example:
        >>> one_line_error(InvalidArgument("url", "x", "must be a ws:// or wss:// URL")).format_message()
        "--url 'x': must be a ws:// or wss:// URL"
    """
    if isinstance(exc, InvalidArgument):
        why = str(exc).split(": ", 1)[-1]
        return _UsageProblem(f"{_CLI_NAMES.get(exc.name, exc.name)} {exc.value!r}: {why}")
    if isinstance(exc, OSError) and exc.filename is not None:
        return click.ClickException(f"{exc.filename}: {exc.strerror or exc}")
    if isinstance(exc, RxfeedsError):
        return click.ClickException(str(exc))
    return click.ClickException(f"{type(exc).__name__}: {exc} (rxfeeds --debug ... shows the traceback)")


class _LazyGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            raise one_line_error(exc) from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        command: Any = importlib.import_module(entry[0]).command
        return command  # type: ignore[no-any-return]


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="rxfeeds")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs instead of one-line errors.")
def cli(debug: bool) -> None:
    """rxfeeds: exchange websocket feeds as ReactiveX Observables."""
    import logging

    # library warnings (reconnects and their reasons) reach the terminal; --debug shows everything
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not debug:
        # websocket-client logs every dropped socket at ERROR ("... - goodbye"), also at a clean
        # shutdown; rxfeeds already reports connection trouble in its own words
        logging.getLogger("websocket").setLevel(logging.CRITICAL)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (``--debug`` is accepted anywhere on the command line)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--debug" in args[1:]:
        args = ["--debug", *(a for a in args if a != "--debug")]
    cli(args, prog_name="rxfeeds")
