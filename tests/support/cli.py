"""Command-line helpers: ``rxfeeds`` in a child process (the e2e and venue CLI tests share them)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers import ROOT


def rxfeeds_process(*args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-c", "from rxfeeds.cli import main; main()", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class SimProcess:
    """``rxfeeds sim ...`` in a child process; reads its URL lines and collects the rest."""

    def __init__(self, *args: str, rest: bool = True) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from rxfeeds.cli import main; main()", "sim", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        assert " simulator: ws://127.0.0.1:" in first, first + (self.proc.stderr.read() if self.proc.stderr else "")
        self.url = first.split(": ", 1)[1].strip()
        self.rest_url = ""
        if rest:  # venues with REST endpoints print their address on the second line
            line = self.proc.stdout.readline()
            assert line.startswith("REST: http://127.0.0.1:"), line
            self.rest_url = line.split(": ", 1)[1].strip()
        self.lines: list[str] = []
        self._reader = __import__("threading").Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def stop(self) -> int:
        """Terminate the simulator (kill it after 60 s); its exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()
