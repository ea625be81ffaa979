"""Thread/loop plumbing: an asyncio loop in a daemon thread, with calls into it from other threads.

:class:`LoopThread` is the base of :class:`~rxfeeds.sim.server.SimServer`: ``start()`` runs
``_startup()`` on a fresh loop in a new thread and returns once it has finished; ``stop()``
runs ``_shutdown()`` there, stops the loop and joins the thread, all within ``stop_timeout``
seconds whatever the clients or hooks do.

Example:
    >>> class Counter(LoopThread):
    ...     async def _startup(self): self.n = 0
    ...     async def _shutdown(self): pass
    >>> with Counter() as c:
    ...     c.call(lambda: setattr(c, "n", c.n + 1)); c.call(lambda: c.n)
    1
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar, Self, TypeVar

__all__ = ["LoopThread"]

log = logging.getLogger("rxfeeds.sim")

T = TypeVar("T")


class LoopThread:
    """An event loop in its own daemon thread; subclasses implement ``_startup`` and ``_shutdown``."""

    #: a name for the thread (``rxfeeds-sim-<venue>``)
    venue: ClassVar[str] = "sim"
    #: upper bound of ``stop()`` in seconds (graceful part, then forced)
    stop_timeout: ClassVar[float] = 5.0

    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    async def _startup(self) -> None:
        """Open listeners etc. on the loop (raise to fail ``start()``)."""
        raise NotImplementedError

    async def _shutdown(self) -> None:
        """Close everything on the loop; must finish within ``stop_timeout`` (it is cancelled after)."""
        raise NotImplementedError

    def _before_shutdown(self) -> None:
        """Caller's thread, before ``_shutdown``: close what lives in other threads."""

    def _abandon(self) -> None:
        """Loop thread, when the loop ends without a finished ``_shutdown``: drop every connection at once."""

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._thread is not None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop (exists between start and stop)."""
        if self._loop is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return self._loop

    def start(self) -> Self:
        """Start the loop thread; returns once ``_startup`` finished (re-raises its failure)."""
        if self._thread is not None:
            raise RuntimeError(f"{type(self).__name__} already started")
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        thread = threading.Thread(target=self._run, args=(ready,), name=f"rxfeeds-sim-{self.venue}", daemon=True)
        self._thread = thread
        thread.start()
        try:
            ready.result(timeout=30)
        except BaseException:
            thread.join(10)
            self._thread = None
            raise
        return self

    def stop(self) -> None:
        """Shut down, stop the loop and join its thread, within ``stop_timeout`` s. Idempotent.

        A hook that blocks the loop thread cannot make this hang: past the deadline the
        thread (a daemon) is left to die with the process and an error is logged.
        """
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if threading.current_thread() is thread:
            raise RuntimeError("stop() called from the simulator's own thread")
        deadline = time.monotonic() + self.stop_timeout
        try:
            self._before_shutdown()
            shutdown = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
            try:
                shutdown.result(timeout=max(0.0, deadline - time.monotonic()))
            except concurrent.futures.TimeoutError:
                shutdown.cancel()
                log.error("%s shutdown did not finish within %s s", type(self).__name__, self.stop_timeout)
        except Exception:
            log.exception("simulator shutdown failed")
        finally:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(loop.stop)
            thread.join(max(0.1, deadline - time.monotonic()))
            if thread.is_alive():
                log.error("%s thread still busy after stop(); left as a daemon", type(self).__name__)
            self._thread = None

    def __enter__(self) -> Self:
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, ready: concurrent.futures.Future[None]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            try:
                loop.run_until_complete(self._startup())
            except BaseException as exc:
                ready.set_exception(exc)
                return
            ready.set_result(None)
            loop.run_forever()
        finally:
            try:
                self._abandon()
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for t in pending:
                    t.cancel()
                if pending:
                    # cancelled tasks finish at once unless a hook ignores cancellation: bounded anyway
                    loop.run_until_complete(asyncio.wait(pending, timeout=2.0))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()
                self._loop = None

    # -- calls from other threads ----------------------------------------------------------

    def _off_loop(self) -> bool:
        return self._thread is not None and threading.current_thread() is not self._thread

    def call(self, fn: Callable[..., T], *args: Any, timeout: float = 10.0) -> T:
        """Run ``fn(*args)`` on the loop thread and return its result (direct when already there).

        Example (from a test): ``srv.call(lambda: srv.market("XBT/USD").best_bid())``.
        """
        if not self._off_loop():
            return fn(*args)

        async def run() -> T:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout)

    def run_coroutine(self, coro: Coroutine[Any, Any, T], timeout: float | None) -> T:
        """Other threads: run ``coro`` on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def _dispatch(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run on the loop: now when on the loop thread, else queued (fire and forget)."""
        if self._off_loop():
            self.loop.call_soon_threadsafe(fn, *args)
        else:
            fn(*args)
