"""Record, read and replay captures.

Example::

    from rxfeeds.capture import Recorder, read_capture, replay

    with Recorder("session.jsonl.gz").attach(client):
        ...
    for record in read_capture("session.jsonl.gz"):
        print(record.kind, record.t)
"""

from __future__ import annotations

from .recorder import Recorder
from .records import (
    CaptureProblem,
    CaptureRecord,
    ClockRepair,
    capture_format,
    merge_captures,
    merge_timed,
    read_capture,
)
from .replay import ReplaySession, ReplayTransport, replay

__all__ = [
    "CaptureProblem",
    "CaptureRecord",
    "ClockRepair",
    "Recorder",
    "ReplaySession",
    "ReplayTransport",
    "capture_format",
    "merge_captures",
    "merge_timed",
    "read_capture",
    "replay",
]
