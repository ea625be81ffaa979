"""``Recorder.close()`` returns only once its flusher thread has ended.

A caller that checks for leaked threads after closing a recorder (as ``test_sim_server`` does for
its own threads) must not see the recorder's thread still winding down.
"""

from __future__ import annotations

import threading
from pathlib import Path

from rxfeeds.capture import Recorder


def recorder_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "rxfeeds-recorder" and t.is_alive()}


def test_close_joins_the_flusher_thread(tmp_path: Path) -> None:
    for n in range(20):  # the race is short: repeat so the old behaviour shows
        before = recorder_threads()
        rec = Recorder(tmp_path / f"r{n}.jsonl", flush_interval=0.05)
        rec.frame_in("ws://h", "{}", 1.0)
        mine = recorder_threads() - before
        assert len(mine) == 1
        rec.close()
        assert not any(t.is_alive() for t in mine)


def test_close_twice_and_from_a_context_manager(tmp_path: Path) -> None:
    before = recorder_threads()
    with Recorder(tmp_path / "r.jsonl") as rec:
        rec.frame_in("ws://h", "{}", 1.0)
        mine = recorder_threads() - before
    rec.close()
    assert len(mine) == 1 and not any(t.is_alive() for t in mine)
