"""Capture records and the readers for both capture formats.

A capture is a time-ordered list of :class:`CaptureRecord`: a connection opened (``open``), a
frame received (``in``), a frame sent (``out``), or an HTTP response the client fetched
(``http``: a REST snapshot).  Two file formats are read, detected automatically:

* **rxfeeds JSON lines** (what :class:`~rxfeeds.capture.recorder.Recorder` writes; optionally
  gzip): one object per line, ``{"t": 1618678133.29, "dir": "in", "url": "wss://...",
  "data": "<frame text>"}``, with ``dir`` one of ``open``, ``in``, ``out``, ``http``.  The first
  line is a header ``{"rxfeeds_capture": 1, "venue": ..., "created": ...}``.
* **plain text** (the format of the public cryptofeed ``sample_data`` recordings):
  ``URL <-> TS`` opens a connection, ``URL <- TS: FRAME`` is a sent frame, ``TS: FRAME`` a
  received frame (on the connection opened last), ``URL -> TS: BODY`` an HTTP response.

Bad lines (not parseable, truncated, a timestamp that is not a finite time such as ``nan``,
``inf`` or ``1e300``) are reported as :class:`CaptureProblem` with file and line number, and
skipped: reading goes on.  A truncated or corrupt gzip file yields every record before the
damage, then one problem saying where reading stopped.

A clock that steps back inside a file (an NTP correction on the recording machine) is not an
error: :func:`merge_timed` gives each record a non-decreasing replay time (a record stamped
before the latest time seen is replayed at that time) and counts the steps in a
:class:`ClockRepair`.

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.capture"
    >>> _ = p.write_text('wss://a <-> 1.0\\n2.5: {"event":"heartbeat"}\\nbroken line\\n')
    >>> problems = []
    >>> [(r.kind, r.t) for r in read_capture(p, problems)]
    [('open', 1.0), ('in', 2.5)]
    >>> problems[0].line
    3
"""

from __future__ import annotations

import gzip
import heapq
import io
import logging
import math
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

import orjson

from ..events import fast_init

__all__ = [
    "CaptureRecord",
    "CaptureProblem",
    "ClockRepair",
    "read_capture",
    "merge_captures",
    "merge_timed",
    "capture_format",
]

log = logging.getLogger("rxfeeds.capture")

RecordKind = Literal["open", "in", "out", "http"]
_Problem = Callable[[int, str], None]
_KINDS = ("open", "in", "out", "http")
#: timestamps a record may carry: finite, from 1970 to before year 10000 (what datetime can hold)
_T_MAX = 253402300799.0
# what reading a damaged gzip stream raises
_DAMAGED = (EOFError, gzip.BadGzipFile, zlib.error, OSError)


def _valid_time(t: float) -> bool:
    return math.isfinite(t) and 0.0 <= t <= _T_MAX


@fast_init  # one record per captured frame: the replay paths read tens of thousands a second
@dataclass(frozen=True, slots=True)
class CaptureRecord:
    """One recorded happening; ``data`` is the frame or HTTP body text (``""`` for ``open``)."""

    kind: RecordKind
    t: float
    url: str
    data: str
    source: str = ""
    line: int = 0


@dataclass(slots=True)
class ClockRepair:
    """How a capture's clock went back: ``steps_back`` (records stamped before the record just
    before them), ``max_step_back`` (the largest such step, seconds) and ``held`` (records
    replayed later than stamped because the clock had been further on).

    Example:
        >>> r = ClockRepair()
        >>> [t for t, _ in merge_timed([], repair=r)], r.steps_back
        ([], 0)
    """

    steps_back: int = 0
    max_step_back: float = 0.0
    held: int = 0


@dataclass(frozen=True, slots=True)
class CaptureProblem:
    """A line that could not be read: where it is and why."""

    source: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"


def _open_text(path: Path) -> IO[str]:
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def capture_format(path: str | Path) -> Literal["jsonl", "text"]:
    """``"jsonl"`` for rxfeeds captures, ``"text"`` for the plain-text format."""
    try:
        with _open_text(Path(path)) as f:
            for line in f:
                stripped = line.strip()
                if stripped:
                    return "jsonl" if stripped.startswith("{") else "text"
    except _DAMAGED:
        pass  # damaged before the first line: read_capture reports it
    return "jsonl"


def read_capture(path: str | Path, problems: list[CaptureProblem] | None = None) -> Iterator[CaptureRecord]:
    """Yield the records of one capture file (either format, gzip or not).

    Unreadable lines are appended to ``problems`` (when given), logged, and skipped.
    """
    path = Path(path)
    fmt = capture_format(path)
    source = str(path)

    def problem(line_no: int, reason: str) -> None:
        p = CaptureProblem(source, line_no, reason)
        log.warning("%s", p)
        if problems is not None:
            problems.append(p)

    lines = _Lines()
    try:
        with _open_text(path) as f:
            if fmt == "jsonl":
                yield from _read_jsonl(lines.count(f), source, problem)
            else:
                yield from _read_text(f, source, problem, lines)
    except _DAMAGED as exc:
        # truncated or corrupt (gzip) stream: what came before was yielded; say where it stopped
        problem(lines.n + 1, f"unreadable from here on, capture truncated or corrupt ({type(exc).__name__}: {exc})")


class _Lines:
    """Counts the lines handed out, so a read error can name the line where it happened."""

    def __init__(self) -> None:
        self.n = 0

    def count(self, f: Iterable[str]) -> Iterator[str]:
        for line in f:
            self.n += 1
            yield line


def _read_jsonl(f: Iterable[str], source: str, problem: _Problem) -> Iterator[CaptureRecord]:
    for n, line in enumerate(f, 1):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            problem(n, f"not JSON ({exc})")
            continue
        if not isinstance(obj, dict):
            problem(n, "not a JSON object")
            continue
        if "rxfeeds_capture" in obj:
            continue  # header
        kind, t, url, data = obj.get("dir"), obj.get("t"), obj.get("url", ""), obj.get("data", "")
        if kind not in _KINDS or isinstance(t, bool) or not isinstance(t, (int, float)) or not isinstance(data, str):
            problem(n, "record needs dir (open/in/out/http), numeric t and string data")
            continue
        if not _valid_time(float(t)):
            problem(n, f"timestamp {t!r} is not a time")
            continue
        yield CaptureRecord(kind, float(t), str(url), data, source, n)


def _read_text(f: Iterable[str], source: str, problem: _Problem, lines: _Lines) -> Iterator[CaptureRecord]:
    url = ""
    n = 0
    isfinite = math.isfinite
    for raw in f:
        n += 1
        lines.n = n  # a plain store per line (a counting generator layer cost more)
        line = raw.rstrip("\n")
        head, sep, body = line.partition(": ")
        if sep and " " not in head and " <-> " not in line:
            # hot path, a received frame "<time>: <frame>": the checks below reach the same end
            try:
                t = float(head)
            except ValueError as exc:
                problem(n, f"unreadable line ({exc}): {line[:80]!r}")
                continue
            if isfinite(t) and 0.0 <= t <= _T_MAX:
                yield CaptureRecord("in", t, url, body, source, n)
            else:
                problem(n, f"unreadable line (timestamp {head.strip()!r} is not a time): {line[:80]!r}")
            continue
        if not line.strip():
            continue
        try:
            if " <-> " in line and not line.lstrip().startswith(("{", "[")):
                u, _, ts = line.partition(" <-> ")
                url = u.strip()
                yield CaptureRecord("open", _time(ts), url, "", source, n)
                continue
            if not sep:
                raise ValueError("no ': ' separator")
            if " <- " in head:
                u, _, ts = head.partition(" <- ")
                yield CaptureRecord("out", _time(ts), u.strip(), body, source, n)
            elif " -> " in head:
                u, _, ts = head.partition(" -> ")
                yield CaptureRecord("http", _time(ts), u.strip(), body, source, n)
            else:
                yield CaptureRecord("in", _time(head), url, body, source, n)
        except ValueError as exc:
            problem(n, f"unreadable line ({exc}): {line[:80]!r}")


def _time(text: str) -> float:
    t = float(text)
    if not _valid_time(t):
        raise ValueError(f"timestamp {text.strip()!r} is not a time")
    return t


def merge_captures(
    paths: Sequence[str | Path], problems: list[CaptureProblem] | None = None, repair: ClockRepair | None = None
) -> Iterator[CaptureRecord]:
    """Records of several captures merged by timestamp (see :func:`merge_timed`)."""
    for _, record in merge_timed(paths, problems, repair):
        yield record


def merge_timed(
    paths: Sequence[str | Path], problems: list[CaptureProblem] | None = None, repair: ClockRepair | None = None
) -> Iterator[tuple[float, CaptureRecord]]:
    """``(replay_time, record)`` of several captures merged by time; replay times never decrease.

    Each file keeps its own order.  Inside a file, a record stamped before the latest time
    seen so far (the recording clock stepped back) is replayed at that time, counted in
    ``repair``; ``record.t`` stays as recorded.  Ties keep file order, so a REST reply recorded
    in one file and the frames of another are interleaved exactly by time.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.capture"
        >>> _ = p.write_text("wss://a <-> 10.0\\n12.0: a\\n10.0: b\\n11.0: c\\n13.0: d\\n")
        >>> r = ClockRepair()
        >>> [(t, rec.t) for t, rec in merge_timed([p], repair=r)]
        [(10.0, 10.0), (12.0, 12.0), (12.0, 10.0), (12.0, 11.0), (13.0, 13.0)]
        >>> r.steps_back, r.max_step_back, r.held
        (1, 2.0, 2)
    """
    repair = repair if repair is not None else ClockRepair()
    if len(paths) == 1:  # nothing to merge: the repaired clock alone
        yield from _timed(read_capture(paths[0], problems), repair)
        return
    streams = [_keyed(i, read_capture(p, problems), repair) for i, p in enumerate(paths)]
    for (t, _, _), record in heapq.merge(*streams, key=lambda item: item[0]):
        yield t, record


def _timed(records: Iterator[CaptureRecord], repair: ClockRepair) -> Iterator[tuple[float, CaptureRecord]]:
    """``(replay_time, record)`` of one file: :func:`_keyed` without the merge keys."""
    clock = previous = -math.inf
    for r in records:
        t = r.t
        if t < previous:
            repair.steps_back += 1
            repair.max_step_back = max(repair.max_step_back, previous - t)
        previous = t
        if t < clock:
            repair.held += 1
        else:
            clock = t
        yield clock, r


def _keyed(
    index: int, records: Iterator[CaptureRecord], repair: ClockRepair
) -> Iterator[tuple[tuple[float, int, int], CaptureRecord]]:
    clock = previous = -math.inf
    for seq, r in enumerate(records):
        if r.t < previous:
            repair.steps_back += 1
            repair.max_step_back = max(repair.max_step_back, previous - r.t)
        previous = r.t
        if r.t < clock:
            repair.held += 1
        else:
            clock = r.t
        yield (clock, index, seq), r
