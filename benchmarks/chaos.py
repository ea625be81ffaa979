"""Chaos soak: seeded faults against every venue simulator, every synced book checked against truth.

Runs :mod:`tests.chaos.harness` with a larger budget than CI and prints one table row per
venue: faults injected by kind, synced books checked, corrupted (a synced book that does not
equal the simulator's truth at its sequence or time), unmatched (books the harness could not
look up, expected 0), lost subscriptions, invisible gaps (a continuity break with no integrity
event) and recovery time after a fault (median / max seconds to the next synced book).

Venues run in parallel, each with its own seeded fault schedule (``--seed``); faults are
spread evenly over the venues chosen.  The run stops by itself: after the faults, or at
``--max-seconds`` per venue, whichever comes first.  Exit status 1 when any venue has a
corrupted or unmatched book, a lost subscription, an invisible gap or a socket torn down by
one bad frame.

Run from the project root::

    python benchmarks/chaos.py --faults 2000
    python benchmarks/chaos.py --faults 200 --seed 7 --venues kraken midchains --json
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.chaos.harness import ALL_KINDS, VENUES, run_campaign  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faults", type=int, default=2000, help="faults in total, spread over the venues")
    parser.add_argument("--seed", type=int, default=0, help="fault schedule and market seed")
    parser.add_argument("--venues", nargs="+", choices=list(VENUES), default=None, help="default: all")
    parser.add_argument("--kinds", nargs="+", choices=list(ALL_KINDS), default=None, help="default: all that apply")
    parser.add_argument("--tick", type=float, default=0.05, help="simulator market step, seconds")
    parser.add_argument("--recovery-budget", type=float, default=10.0, help="seconds before a subscription is lost")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="stop injecting after this long per venue")
    parser.add_argument("--pace", type=float, default=0.05, help="random pause (0..pace s) between faults")
    parser.add_argument(
        "--production-backoff",
        action="store_true",
        help="keep the clients' and order_book's default back-off (default: a fast one, 0.05-0.5 s)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)
    if args.faults < 1:
        parser.error("--faults must be >= 1")
    logging.disable(logging.WARNING)  # malformed frames are logged by design; the table says what matters
    result = run_campaign(
        args.faults,
        args.seed,
        args.venues,
        tick_interval=args.tick,
        recovery_budget=args.recovery_budget,
        max_seconds=args.max_seconds,
        pace=args.pace,
        kinds=args.kinds,
        production_backoff=args.production_backoff,
    )
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        print(result.table())
        for venue in result.venues:
            for line in venue.examples:
                print(f"  {venue.venue}: {line}")
    bad = any(v.corrupted or v.unmatched or v.lost or v.invisible or v.hook_errors or v.torn for v in result.venues)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
