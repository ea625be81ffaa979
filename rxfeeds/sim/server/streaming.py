"""Throughput: stream many copies of pre-encoded frames to one connection with flow control.

The block of frames is encoded once and written in ~1 MiB chunks, waiting for the socket
to drain between chunks, so a benchmark measures the client, not the server.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...errors import InvalidArgument
from .connection import SimConnection
from .frames import encode_frame

__all__ = ["stream_frames"]


async def stream_frames(
    conn: SimConnection,
    frames: Sequence[str | bytes],
    repeat: int = 1,
    end_frame: str | bytes | None = None,
    *,
    chunk_bytes: int = 1 << 20,
) -> int:
    """Coroutine (loop thread): write ``repeat`` copies of ``frames`` (then ``end_frame``) to ``conn``.

    Returns the number of frames written (less than asked if the connection closed).
    """
    if isinstance(frames, (str, bytes)):
        raise InvalidArgument("frames", frames, "must be a sequence of frames, not one frame")
    if repeat < 0:
        raise InvalidArgument("repeat", repeat, "must be >= 0")
    block = b"".join(encode_frame(f) for f in frames)
    per_block = len(frames)
    written = 0
    if block and repeat:
        copies = max(1, min(repeat, chunk_bytes // len(block)))
        chunk = block * copies
        conn.ws.transport.set_write_buffer_limits(high=4 * chunk_bytes)
        left = repeat
        while left > 0:
            if not conn.is_open:
                return written
            n = min(copies, left)
            conn.write(chunk if n == copies else block * n, n * per_block)
            written += n * per_block
            left -= n
            await conn.ws.drain()
    if end_frame is not None and conn.is_open:
        conn.write(encode_frame(end_frame), 1)
        written += 1
    return written
