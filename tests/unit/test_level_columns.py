"""Batched level conversion (numeric.level_columns) agrees with the per-level checks on any input."""

from __future__ import annotations

import random

import pytest

from rxfeeds.numeric import BATCH_LEVELS, MAX_TEXT, BadValue, level_columns, text_level_sides, text_levels
from rxfeeds.venues.hitbtc._common import book_levels


def per_level(prices: list[object], sizes: list[object]) -> tuple[object, ...] | type[BadValue]:
    out = []
    try:
        for p, s in zip(prices, sizes, strict=True):
            fp, fs = float(p), float(s)  # type: ignore[arg-type]
            if not (0.0 < fp < 1e15 and 0.0 <= fs < 1e18) or len(p) > MAX_TEXT or len(s) > MAX_TEXT:  # type: ignore[arg-type]
                return BadValue
            out.append((fp, fs, p, s))
    except (ValueError, TypeError):
        return BadValue
    return tuple(out)


TRICKY = [
    "1,2",
    '"',
    '1"',
    "nan",
    "NaN",
    "inf",
    "-1",
    "-0",
    "1e5",
    "1E5",
    "0x10",
    "1_000",
    " 1",
    "1 ",
    ".5",
    "00.5",
    "0",
    "[1]",
    "1]",
    "[1",
    "1e999",
    "9" * 16,
    "0." + "0" * 45 + "1",
    "",
    "1,[2",
    "true",
    "null",
]


def test_random_plain_numbers_convert_exactly_as_float() -> None:
    rng = random.Random(7)
    for _ in range(300):
        n = rng.randint(1, 60)
        prices = [f"{rng.uniform(0.0000001, 1e6):.{rng.randint(0, 12)}f}" for _ in range(n)]
        sizes = [f"{rng.uniform(0, 1e4):.{rng.randint(0, 8)}f}" for _ in range(n)]
        got = level_columns(prices, sizes, False)
        want = per_level(prices, sizes)
        if want is BadValue:
            assert got is None
        else:
            assert got == want
            assert got is not None and all(type(lv[0]) is float and type(lv[1]) is float for lv in got)


@pytest.mark.parametrize("bad", TRICKY)
def test_a_tricky_text_never_passes_unchecked(bad: str) -> None:
    for where in range(4):
        # enough levels for text_levels to take the batch first
        prices = [f"1.{9 - i % 9}{i}" for i in range(BATCH_LEVELS)]
        sizes = [str(i + 1) for i in range(BATCH_LEVELS)]
        (prices if where % 2 else sizes)[where] = bad
        got = level_columns(prices, sizes, False)
        want = per_level(prices, sizes)
        # the batch either agrees exactly or declines (the per-level path then decides)
        assert got is None or got == want
        # the public helpers always agree with the per-level reference
        raw = [[p, s] for p, s in zip(prices, sizes, strict=True)]
        if want is BadValue:
            with pytest.raises((BadValue, ValueError, TypeError)):
                text_levels(raw)
        else:
            assert text_levels(raw) == want


def test_injected_separators_that_keep_the_count_are_refused() -> None:
    # '"a' + 'b"' merge into one JSON string while '1,2' splits into two numbers: same count
    prices = ['"a', 'b"', "1,2", "1.0"]
    sizes = ["1", "1", "1", "1"]
    assert level_columns(prices, sizes, False) is None
    with pytest.raises(ValueError):
        text_levels([[p, s] for p, s in zip(prices, sizes, strict=True)])


def test_non_strings_and_long_texts_go_to_the_checked_path() -> None:
    assert level_columns([1.5, "1.4", "1.3", "1.2"], ["1"] * 4, False) is None  # type: ignore[list-item]
    long = "1." + "0" * MAX_TEXT
    assert level_columns([long, "1.4", "1.3", "1.2"], ["1"] * 4, False) is None
    with pytest.raises(BadValue):
        book_levels([{"price": long, "size": "1"}] + [{"price": "1", "size": "1"}] * 4, False)


def test_snapshot_zero_sizes_are_skipped_in_both_paths() -> None:
    raw = [{"price": f"1.{i:02d}", "size": "0" if i % 2 else "2.5"} for i in range(1, 3 * BATCH_LEVELS)]
    batched = book_levels(raw, True)  # one batch
    assert [lv[2] for lv in batched] == [f"1.{i:02d}" for i in range(2, 3 * BATCH_LEVELS, 2)]
    per_level = [book_levels(raw[i : i + 2], True) for i in range(0, len(raw), 2)]  # below the batch size
    assert batched == tuple(lv for part in per_level for lv in part)


@pytest.mark.parametrize("bad", TRICKY)
@pytest.mark.parametrize("bad_side", ["bids", "asks"])
def test_both_sides_in_one_batch_agree_with_each_side_alone(bad: str, bad_side: str) -> None:
    rng = random.Random(11)
    for _ in range(20):
        sides = {
            name: [[f"{rng.uniform(0.001, 1e5):.{rng.randint(0, 8)}f}", f"{rng.uniform(0, 50):.4f}"] for _ in range(n)]
            for name, n in (("bids", rng.randint(1, 20)), ("asks", rng.randint(1, 20)))
        }
        want = (text_levels(sides["bids"]), text_levels(sides["asks"]))
        assert text_level_sides(sides["bids"], sides["asks"]) == want  # split at the right place
        broken = sides[bad_side]
        broken[rng.randrange(len(broken))][rng.randrange(2)] = bad
        try:
            expected: object = (text_levels(sides["bids"]), text_levels(sides["asks"]))
        except (BadValue, ValueError, TypeError) as error:
            expected = type(error)
        try:
            got: object = text_level_sides(sides["bids"], sides["asks"])
        except (BadValue, ValueError, TypeError) as error:
            got = type(error)
        assert got == expected  # a bad text on either side: the same outcome as side by side
