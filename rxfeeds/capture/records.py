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

Bad lines (not parseable, truncated) are reported as :class:`CaptureProblem` with file and
line number, and skipped: reading goes on.

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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

import orjson

__all__ = ["CaptureRecord", "CaptureProblem", "read_capture", "merge_captures", "capture_format"]

log = logging.getLogger("rxfeeds.capture")

RecordKind = Literal["open", "in", "out", "http"]
_Problem = Callable[[int, str], None]
_KINDS = ("open", "in", "out", "http")


@dataclass(frozen=True, slots=True)
class CaptureRecord:
    """One recorded happening; ``data`` is the frame or HTTP body text (``""`` for ``open``)."""

    kind: RecordKind
    t: float
    url: str
    data: str
    source: str = ""
    line: int = 0


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
    with _open_text(Path(path)) as f:
        for line in f:
            stripped = line.strip()
            if stripped:
                return "jsonl" if stripped.startswith("{") else "text"
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

    with _open_text(path) as f:
        if fmt == "jsonl":
            yield from _read_jsonl(f, source, problem)
        else:
            yield from _read_text(f, source, problem)


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
        if kind not in _KINDS or not isinstance(t, (int, float)) or not isinstance(data, str):
            problem(n, "record needs dir (open/in/out/http), numeric t and string data")
            continue
        yield CaptureRecord(kind, float(t), str(url), data, source, n)


def _read_text(f: Iterable[str], source: str, problem: _Problem) -> Iterator[CaptureRecord]:
    url = ""
    for n, raw in enumerate(f, 1):
        line = raw.rstrip("\n")
        if not line.strip():
            continue
        try:
            if " <-> " in line and not line.lstrip().startswith(("{", "[")):
                u, _, ts = line.partition(" <-> ")
                url = u.strip()
                yield CaptureRecord("open", float(ts), url, "", source, n)
                continue
            head, sep, body = line.partition(": ")
            if not sep:
                raise ValueError("no ': ' separator")
            if " <- " in head:
                u, _, ts = head.partition(" <- ")
                yield CaptureRecord("out", float(ts), u.strip(), body, source, n)
            elif " -> " in head:
                u, _, ts = head.partition(" -> ")
                yield CaptureRecord("http", float(ts), u.strip(), body, source, n)
            else:
                yield CaptureRecord("in", float(head), url, body, source, n)
        except ValueError as exc:
            problem(n, f"unreadable line ({exc}): {line[:80]!r}")


def merge_captures(
    paths: Sequence[str | Path], problems: list[CaptureProblem] | None = None
) -> Iterator[CaptureRecord]:
    """Records of several captures merged by timestamp (each file is in time order).

    Ties keep file order, so a REST reply recorded in one file and the frames of another are
    interleaved exactly by time.
    """
    iterators = [read_capture(p, problems) for p in paths]
    streams = [_keyed(i, it) for i, it in enumerate(iterators)]
    for _, record in heapq.merge(*streams, key=lambda item: item[0]):
        yield record


def _keyed(index: int, records: Iterator[CaptureRecord]) -> Iterator[tuple[tuple[float, int, int], CaptureRecord]]:
    for seq, r in enumerate(records):
        yield (r.t, index, seq), r
