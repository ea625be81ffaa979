"""Server->client websocket frames, encoded by the ``websockets`` package's own frame model.

Example:
    >>> encode_frame("hi")
    b'\\x81\\x02hi'
    >>> len(encode_frame(b"x" * 200, binary=True))  # 2 + 2 length bytes + 200
    204
"""

from __future__ import annotations

from websockets.frames import Frame, Opcode

__all__ = ["encode_frame"]


def encode_frame(payload: str | bytes, *, binary: bool = False) -> bytes:
    """One unmasked, unfragmented server->client websocket frame (text unless ``binary``).

    Text payloads given as ``bytes`` are sent as they are (they must be UTF-8: a malformed
    one is a fault tests inject on purpose).

    Example:
        >>> encode_frame(b"\\x01", binary=True)
        b'\\x82\\x01\\x01'
    """
    data = payload.encode() if isinstance(payload, str) else bytes(payload)
    return Frame(Opcode.BINARY if binary else Opcode.TEXT, data).serialize(mask=False)
