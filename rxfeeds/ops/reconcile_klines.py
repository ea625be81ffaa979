"""``reconcile_klines``: compare our bars with the venue's own kline stream, emit the mismatches.

Marble sketch (``ours.pipe(reconcile_klines(venue_klines))``; ``k@M`` a bar opening at minute M,
``k'`` one with different OHLCV)::

    ours:     ---k@0-------k@1---------k@2-------------|
    theirs:   -----k@0--k@1'------k@2------k@3---------|
    output:   -------------------x@1-------------------|

    k@0 agrees: nothing; k@1 differs: one KlineMismatch once both sides are final; k@2 agrees.

A bucket is compared once both sides are *final* for it:

* ours: a closed bar for it arrived, or a closed bar of a later bucket of the same series did
  (then we had no trades in it).  Open bars (``closed=False``) are ignored.
* theirs: their bar for it says ``closed=True``, or a bar of a later bucket arrived (venues
  update the current candle until it ends), or a later bucket arrived and they had no bar for it.

Rules:

* Series are matched by ``(symbol, interval)`` (the interval normalised with
  :func:`~rxfeeds.intervals.parse_interval`, so ``"M1"`` matches ``"1m"``); the venue name is not
  compared (our bars carry the trade venue, theirs the kline channel's).
* Numbers are equal when ``math.isclose(a, b, rel_tol=tolerance, abs_tol=abs_tolerance)``;
  ``fields`` names what is compared (default open, high, low, close, volume; ``quote_volume`` and
  ``trades`` can be added and are skipped when either side lacks them).
* A bucket with volume on one side and no bar (or a zero-volume bar) on the other is a mismatch
  with ``fields=("missing_ours",)`` or ``("missing_theirs",)``.  Buckets before the first bar of
  either side are not compared, nor (with ``skip_first=True``, the default) our first bucket of a
  series, which usually started mid-bucket.
* A corrected bar (our ``revision`` + 1, or a venue re-send) re-compares its bucket; a mismatch
  is emitted again only when the differing fields or the bars changed.  Agreement emits nothing.
* The last ``history`` compared buckets per series are kept for such corrections.
* When our stream completes, buckets still open on one side are compared as they are (a final
  check), then the output completes.  Errors of either stream pass through.

Example:
    >>> import reactivex
    >>> from rxfeeds.events import Kline
    >>> def bar(minute, close, volume=1.0, venue="ours"):
    ...     return Kline(venue, "BTC", 0.0, 0.0, interval="1m", open_time=60.0 * minute,
    ...                  close_time=60.0 * minute + 60, open=1.0, high=max(1.0, close), low=1.0,
    ...                  close=close, volume=volume)
    >>> ours = reactivex.of(bar(0, 1.0), bar(1, 2.0), bar(2, 3.0), bar(3, 4.0))
    >>> theirs = reactivex.of(*(bar(m, c, venue="x") for m, c in [(0, 1.0), (1, 2.0), (2, 3.5), (3, 4.0)]))
    >>> out = []
    >>> _ = ours.pipe(reconcile_klines(theirs)).subscribe(out.append)
    >>> [(m.open_time, m.fields, m.ours.close, m.theirs.close) for m in out]
    [(120.0, ('high', 'close'), 3.0, 3.5)]
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import reactivex
from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable

from rxfeeds.errors import InvalidArgument
from rxfeeds.events import Kline
from rxfeeds.intervals import parse_interval

__all__ = ["KlineMismatch", "reconcile_klines"]

_NUMERIC_FIELDS = ("open", "high", "low", "close", "volume", "quote_volume", "trades", "vwap")


@dataclass(frozen=True, slots=True)
class KlineMismatch:
    """One bucket where our bar and the venue's differ.

    ``fields`` names the differing fields, or is ``("missing_ours",)`` / ``("missing_theirs",)``
    when one side has volume and the other no bar.  ``ours`` / ``theirs`` are the bars compared
    (``None`` for the missing side).

    Example:
        >>> KlineMismatch("BTC", "1m", 0.0, ("close",), None, None).fields
        ('close',)
    """

    symbol: str
    interval: str
    open_time: float
    fields: tuple[str, ...]
    ours: Kline | None
    theirs: Kline | None


class _Series:
    __slots__ = ("done", "our_first", "our_latest", "ours", "their_first", "their_latest", "theirs")

    def __init__(self) -> None:
        self.ours: dict[float, Kline] = {}
        self.theirs: dict[float, Kline] = {}
        self.done: dict[float, tuple[Any, ...]] = {}  # compared buckets -> signature last emitted
        self.our_first = self.their_first = math.inf
        self.our_latest = self.their_latest = -math.inf


def _empty(k: Kline | None) -> bool:
    return k is None or k.volume == 0


def reconcile_klines(
    exchange_klines: Observable[Any],
    *,
    tolerance: float = 1e-9,
    abs_tolerance: float = 1e-12,
    fields: Sequence[str] = ("open", "high", "low", "close", "volume"),
    skip_first: bool = True,
    history: int = 1000,
) -> Callable[[Observable[Any]], Observable[KlineMismatch]]:
    """Compare our klines (the piped stream) with ``exchange_klines``; emit :class:`KlineMismatch`.

    Args:
        exchange_klines: the venue's own kline stream (non-:class:`Kline` items are ignored).
        tolerance: relative tolerance of number comparisons.
        abs_tolerance: absolute tolerance (for values near zero).
        fields: the fields compared (from open, high, low, close, volume, quote_volume, trades, vwap).
        skip_first: do not compare our first bucket of each series (usually partial).
        history: compared buckets kept per series to re-check corrections.

    Raises:
        InvalidArgument: for bad options, when called.

    Example:
        >>> op = reconcile_klines(reactivex.empty(), tolerance=1e-6)
        >>> callable(op)
        True
    """
    if isinstance(tolerance, bool) or not tolerance >= 0:
        raise InvalidArgument("tolerance", tolerance, "must be a number >= 0")
    if isinstance(abs_tolerance, bool) or not abs_tolerance >= 0:
        raise InvalidArgument("abs_tolerance", abs_tolerance, "must be a number >= 0")
    names = tuple(fields)
    unknown = [f for f in names if f not in _NUMERIC_FIELDS]
    if not names or unknown:
        raise InvalidArgument("fields", fields, f"must name some of {', '.join(_NUMERIC_FIELDS)}")
    if isinstance(history, bool) or not isinstance(history, int) or history < 1:
        raise InvalidArgument("history", history, "must be an int >= 1")

    def operator(source: Observable[Any]) -> Observable[KlineMismatch]:
        def subscribe(
            observer: abc.ObserverBase[KlineMismatch], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            lock = threading.RLock()
            series: dict[tuple[str, str], _Series] = {}
            interval_names: dict[str, str] = {}
            finished = False

            def interval_of(name: str) -> str:
                found = interval_names.get(name)
                if found is None:
                    try:
                        found = parse_interval(name).name
                    except InvalidArgument:
                        found = name
                    interval_names[name] = found
                return found

            def differing(o: Kline, t: Kline) -> tuple[str, ...]:
                out = []
                for name in names:
                    a, b = getattr(o, name), getattr(t, name)
                    if a is None or b is None:
                        continue
                    if not math.isclose(a, b, rel_tol=tolerance, abs_tol=abs_tolerance):
                        out.append(name)
                return tuple(out)

            def check(key: tuple[str, str], s: _Series, start: float, final: bool = False) -> bool:
                """Compare one bucket if both sides are final; True when it was compared."""
                o = s.ours.get(start)
                t = s.theirs.get(start)
                ours_final = o is not None or s.our_latest > start or final
                theirs_final = (t is not None and t.closed) or s.their_latest > start or final
                if not (ours_final and theirs_final):
                    return False
                if start < s.their_first or start < s.our_first or (skip_first and start == s.our_first):
                    return True
                if _empty(o) and _empty(t):
                    return True
                if _empty(o):
                    diff: tuple[str, ...] = ("missing_ours",)
                elif _empty(t):
                    diff = ("missing_theirs",)
                else:
                    assert o is not None and t is not None
                    diff = differing(o, t)
                signature = (diff, o, t)
                if diff and s.done.get(start) != signature:
                    s.done[start] = signature
                    observer.on_next(KlineMismatch(key[0], key[1], start, diff, None if _empty(o) else o, t))
                elif not diff:
                    s.done[start] = signature
                return True

            def settle(key: tuple[str, str], s: _Series, final: bool = False) -> None:
                pending = sorted((set(s.ours) | set(s.theirs)) - set(s.done))
                for start in pending:
                    if check(key, s, start, final):
                        s.done.setdefault(start, ((), None, None))
                if len(s.done) > history:
                    for start in sorted(s.done)[: len(s.done) - history]:
                        del s.done[start]
                        s.ours.pop(start, None)
                        s.theirs.pop(start, None)

            def get(k: Kline) -> tuple[tuple[str, str], _Series]:
                key = (k.symbol, interval_of(k.interval))
                s = series.get(key)
                if s is None:
                    s = series[key] = _Series()
                return key, s

            def on_ours(k: Any) -> None:
                if not isinstance(k, Kline) or not k.closed:
                    return
                with lock:
                    if finished:
                        return
                    key, s = get(k)
                    start = k.open_time
                    s.ours[start] = k
                    s.our_first = min(s.our_first, start)
                    s.our_latest = max(s.our_latest, start)
                    if start in s.done:
                        check(key, s, start)  # a correction of a compared bucket
                    settle(key, s)

            def on_theirs(k: Any) -> None:
                if not isinstance(k, Kline):
                    return
                with lock:
                    if finished:
                        return
                    key, s = get(k)
                    start = k.open_time
                    s.theirs[start] = k
                    s.their_first = min(s.their_first, start)
                    s.their_latest = max(s.their_latest, start)
                    if start in s.done:
                        check(key, s, start)
                    settle(key, s)

            def on_error(error: Exception) -> None:
                nonlocal finished
                with lock:
                    if not finished:
                        finished = True
                        observer.on_error(error)

            def on_completed() -> None:
                nonlocal finished
                with lock:
                    if finished:
                        return
                    for key, s in series.items():
                        settle(key, s, final=True)
                    finished = True
                    observer.on_completed()

            theirs_sub = exchange_klines.subscribe(on_theirs, on_error, scheduler=scheduler)
            ours_sub = source.subscribe(on_ours, on_error, on_completed, scheduler=scheduler)
            return CompositeDisposable(theirs_sub, ours_sub)

        return reactivex.create(subscribe)

    return operator
