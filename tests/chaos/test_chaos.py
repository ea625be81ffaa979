"""The in-CI chaos campaign: a few hundred seeded faults across every venue simulator.

One campaign runs for the module (venues in parallel, ~40 faults each); each venue is then
judged by its own test so a failure names the venue.  Every book emitted with ``synced=True``
is compared with the simulator's truth at its sequence or time (see ``harness.py``); the
campaign must find 0 corrupted or unmatched synced books, 0 lost subscriptions and 0
invisible gaps, and inject exactly the planned, seeded faults.

Longer soak: ``python benchmarks/chaos.py --faults 2000``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.chaos.harness import VENUES, CampaignResult, VenueResult, plan, run_campaign, run_venue

pytestmark = pytest.mark.chaos

SEED = 16
FAULTS = 360  # 40 per venue
OPTIONS = {"tick_interval": 0.05, "recovery_budget": 10.0, "max_seconds": 75.0, "pace": 0.05}


@pytest.fixture(scope="module")
def campaign() -> Iterator[CampaignResult]:
    logging.disable(logging.WARNING)  # the malformed frames are logged by design
    try:
        yield run_campaign(FAULTS, SEED, **OPTIONS)  # type: ignore[arg-type]
    finally:
        logging.disable(logging.NOTSET)


def venue_result(campaign: CampaignResult, venue: str) -> VenueResult:
    return next(v for v in campaign.venues if v.venue == venue)


def test_fault_plan_is_seeded_and_deterministic() -> None:
    for venue in VENUES:
        first, again = plan(venue, 50, SEED), plan(venue, 50, SEED)
        assert first == again
        assert plan(venue, 50, SEED + 1) != first
        assert set(f.kind for f in first) <= set(VENUES[venue].fault_kinds)


@pytest.mark.parametrize("venue", list(VENUES))
def test_planned_faults_were_injected(campaign: CampaignResult, venue: str) -> None:
    result = venue_result(campaign, venue)
    assert not result.stopped_early, f"{venue} ran out of time after {result.injected} faults"
    planned = Counter(f.kind for f in plan(venue, result.planned, SEED, pace=OPTIONS["pace"]))
    assert result.faults == planned  # the seeded schedule, all of it
    assert len(planned) >= 4 and result.injected >= 30
    assert result.hook_errors == 0


@pytest.mark.parametrize("venue", list(VENUES))
def test_no_corrupted_synced_books(campaign: CampaignResult, venue: str) -> None:
    result = venue_result(campaign, venue)
    details = "\n".join(result.examples)
    assert result.checked >= 50, f"only {result.checked} synced books checked"
    assert result.unmatched == 0, f"{result.unmatched} synced books had no truth to compare with\n{details}"
    assert result.corrupted == 0, (
        f"{result.corrupted} of {result.checked} synced books differ from the venue's truth,"
        f" by fault in effect: {dict(result.corrupted_by_kind)}\n{details}"
    )


@pytest.mark.parametrize("venue", list(VENUES))
def test_no_lost_subscriptions(campaign: CampaignResult, venue: str) -> None:
    result = venue_result(campaign, venue)
    details = "\n".join(result.examples)
    assert result.lost == 0, f"{result.lost} lost subscriptions, by fault: {dict(result.lost_by_kind)}\n{details}"
    assert result.recoveries and max(result.recoveries) < OPTIONS["recovery_budget"]


@pytest.mark.parametrize("venue", list(VENUES))
def test_every_gap_is_visible(campaign: CampaignResult, venue: str) -> None:
    result = venue_result(campaign, venue)
    details = "\n".join(result.examples)
    assert result.invisible == 0, f"{result.invisible} invisible gaps {dict(result.invisible_by_kind)}\n{details}"


@pytest.mark.parametrize("venue", list(VENUES))
def test_one_bad_frame_never_tears_the_socket_down(campaign: CampaignResult, venue: str) -> None:
    result = venue_result(campaign, venue)
    details = "\n".join(result.examples)
    assert not result.torn, f"bad frames made the client reconnect: {dict(result.torn)}\n{details}"


def test_campaign_covers_every_fault_kind(campaign: CampaignResult) -> None:
    print(campaign.table())
    kinds: Counter[str] = Counter()
    for v in campaign.venues:
        kinds.update(v.faults)
    assert set(kinds) == {k for s in VENUES.values() for k in s.fault_kinds}
    assert sum(kinds.values()) == FAULTS


def test_recovery_stays_fast_on_a_flapping_link_with_the_default_back_off() -> None:
    # Issue 16 #16: with the clients' own back-off, repeated faults must not push recovery
    # towards the 30 s cap (the attempt counter resets once a connection or book is good again).
    logging.disable(logging.WARNING)
    try:
        result = run_venue(
            "kraken",
            12,
            SEED,
            kinds=("close", "reset"),
            production_backoff=True,
            recovery_budget=35.0,
            max_seconds=30.0,
            pace=0.05,
        )
    finally:
        logging.disable(logging.NOTSET)
    assert not result.stopped_early and result.injected == 12
    assert result.lost == 0 and result.corrupted == 0 and result.invisible == 0
    assert max(result.recoveries) < 5.0, f"recovery times {sorted(round(r, 2) for r in result.recoveries)}"
