"""Sans-I/O reader of server-to-client websocket frames (RFC 6455, no extensions).

:class:`FrameReader` owns one reusable receive buffer.  The caller fills it in place (a socket's
``recv_into(reader.room())`` then ``reader.filled(n)``, or :meth:`FrameReader.feed` with bytes)
and takes the complete frames out with :meth:`FrameReader.frames`.  No I/O, no clock, no
threads: the socket subject drives it, and tests feed it bytes cut anywhere.

Each frame comes out as ``(head, payload)``: ``head`` is the frame's first byte (FIN bit and
opcode; the reserved bits are always zero), so the common case, a whole text frame, is one
comparison: ``head == TEXT``.  Fragmented messages are joined by :class:`Reassembler`.

A frame a client must refuse (masked, reserved bits or opcode, a control frame over 125 bytes or
fragmented, a length over ``max_size``) raises :class:`WebSocketProtocolError`; the caller drops
the connection.

Example:
    >>> r = FrameReader()
    >>> r.feed(b"\\x81\\x02hi\\x89\\x00\\x81")  # a text frame, a ping, half of the next frame
    >>> [(hex(head), payload) for head, payload in r.frames()]
    [('0x81', b'hi'), ('0x89', b'')]
    >>> r.feed(b"\\x01!")
    >>> list(r.frames())
    [(129, b'!')]
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import RxfeedsError

__all__ = [
    "BINARY",
    "CLOSE",
    "DEFAULT_MAX_SIZE",
    "FrameReader",
    "PING",
    "PONG",
    "Reassembler",
    "TEXT",
    "WebSocketProtocolError",
    "close_args",
]

#: first byte of a final (unfragmented) text frame
TEXT = 0x81
#: first byte of a final binary frame
BINARY = 0x82
#: first bytes of the control frames (always final)
CLOSE = 0x88
PING = 0x89
PONG = 0x8A

#: Largest frame (and reassembled message) accepted: a hostile length field must not make the
#: reader allocate without bound.  Far above any venue's snapshot.
DEFAULT_MAX_SIZE = 64 << 20

#: Size of the receive buffer allocated once per reader.  ``recv_into`` fills it in place, so a
#: read allocates nothing (a fresh 256 KiB block per ``recv`` went through glibc's mmap path:
#: three extra system calls per wake-up); large reads serve a burst with one system call.
BUFFER_SIZE = 262144
#: Move a partial frame to the front when less room than this is left at the end.
MIN_ROOM = 4096

_CONTROL_OPCODES = (8, 9, 10)


class WebSocketProtocolError(RxfeedsError):
    """The server broke the websocket protocol (the connection cannot go on)."""


class FrameReader:
    """Complete websocket frames out of a reused buffer (see the module docstring).

    Args:
        size: initial buffer size; a frame larger than it grows the buffer while it is read,
            which shrinks back once it is consumed.
        max_size: largest payload accepted (``WebSocketProtocolError`` beyond it).
    """

    __slots__ = ("_buf", "_view", "_start", "_end", "_size", "max_size")

    def __init__(self, size: int = BUFFER_SIZE, max_size: int = DEFAULT_MAX_SIZE) -> None:
        self._size = size
        self._buf = bytearray(size)
        self._view = memoryview(self._buf)
        #: unread bytes are ``_buf[_start:_end]``
        self._start = 0
        self._end = 0
        self.max_size = max_size

    @property
    def buffered(self) -> int:
        """Bytes received but not yet taken out as frames."""
        return self._end - self._start

    def room(self) -> memoryview:
        """The free end of the buffer, to fill in place (``sock.recv_into(reader.room())``);
        report how much was written with :meth:`filled`.  Never empty."""
        end = self._end
        if end == 0:
            return self._view
        if self._start == end:  # everything consumed: start over at the front, no copy
            self._start = self._end = 0
            if len(self._buf) > self._size:
                self._resize(self._size)
            return self._view
        free = len(self._buf) - end
        need = self._need()
        if need > len(self._buf) - self._start or free < MIN_ROOM:
            self._compact(max(need, end - self._start + MIN_ROOM))
        return self._view[self._end :]

    def filled(self, n: int) -> None:
        """``n`` bytes were written at the start of the last :meth:`room`."""
        self._end += n

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Copy ``data`` into the buffer (tests, or a transport that reads into bytes)."""
        data = memoryview(data)
        while len(data):
            room = self.room()
            n = min(len(room), len(data))
            room[:n] = data[:n]
            self.filled(n)
            data = data[n:]

    def frames(self) -> Iterator[tuple[int, bytes]]:
        """Yield ``(head, payload)`` for every complete frame buffered, in order.

        Raises :class:`WebSocketProtocolError` at the first frame a client must refuse; the
        frames before it have been yielded.  Stopping the iteration early is fine: frames not
        yet yielded stay buffered.
        """
        buf = self._buf
        view = self._view
        pos = self._start
        n = self._end
        max_size = self.max_size
        while n - pos >= 2:
            b0 = buf[pos]
            b1 = buf[pos + 1]
            length = b1
            head = 2
            limit = max_size
            if b1 & 0x80 or b0 & 0x70 or (b0 & 0x0F) > 2:
                self._check_head(b0, b1)
                limit = 125  # a control frame (the only other kind _check_head lets through)
            if length > 125:
                if length == 126:
                    if n - pos < 4:
                        return
                    length = (buf[pos + 2] << 8) | buf[pos + 3]
                    head = 4
                else:
                    if n - pos < 10:
                        return
                    length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                    head = 10
                if length > limit:
                    raise WebSocketProtocolError(
                        "control frame longer than 125 bytes"
                        if limit == 125
                        else f"frame of {length} bytes exceeds the {max_size}-byte limit"
                    )
            end = pos + head + length
            if end > n:
                return
            payload = view[pos + head : end].tobytes()
            pos = end
            self._start = pos
            yield b0, payload

    @staticmethod
    def _check_head(b0: int, b1: int) -> None:
        """Refuse a frame with unusual header bits unless it is a well-formed control frame
        (its size is checked by the caller)."""
        if b1 & 0x80:
            raise WebSocketProtocolError("masked frame from the server")
        if b0 & 0x70:
            raise WebSocketProtocolError(f"reserved bits set (0x{b0 & 0x70:02x}) without an extension")
        opcode = b0 & 0x0F
        if opcode not in _CONTROL_OPCODES:
            raise WebSocketProtocolError(f"reserved opcode 0x{opcode:x}")
        if not b0 & 0x80:
            raise WebSocketProtocolError("fragmented control frame")

    def _need(self) -> int:
        """Size of the incomplete frame at the front, when its header is complete (else 0)."""
        buf, pos, avail = self._buf, self._start, self._end - self._start
        if avail < 2:
            return 0
        length = buf[pos + 1] & 0x7F
        if length == 126:
            return 4 + ((buf[pos + 2] << 8) | buf[pos + 3]) if avail >= 4 else 0
        if length == 127:
            size = int.from_bytes(buf[pos + 2 : pos + 10], "big") if avail >= 10 else 0
            return 10 + size if 0 < size <= self.max_size else 0
        return 2 + length

    def _compact(self, need: int) -> None:
        """Move the unread bytes to the front, growing the buffer when ``need`` bytes would
        not fit."""
        start, end = self._start, self._end
        if need > len(self._buf):
            self._resize(max(self._size, 1 << (need - 1).bit_length()))
            return
        self._buf[: end - start] = bytes(self._view[start:end])
        self._start = 0
        self._end = end - start

    def _resize(self, size: int) -> None:
        start, end = self._start, self._end
        grown = bytearray(size)
        grown[: end - start] = self._view[start:end]
        self._buf = grown
        self._view = memoryview(grown)
        self._start = 0
        self._end = end - start


class Reassembler:
    """Joins fragmented data frames into messages (control frames never reach it).

    Example:
        >>> r = Reassembler()
        >>> r.add(0x01, b"he"), r.add(0x00, b"l"), r.add(0x80, b"lo")
        (None, None, (1, b'hello'))
    """

    __slots__ = ("_opcode", "_parts", "_size", "max_size")

    def __init__(self, max_size: int = DEFAULT_MAX_SIZE) -> None:
        self._opcode = 0
        self._parts: list[bytes] = []
        self._size = 0
        self.max_size = max_size

    def add(self, head: int, payload: bytes) -> tuple[int, bytes] | None:
        """A data frame's head and payload; the whole message ``(opcode, payload)`` once its
        final fragment arrives, else None."""
        opcode = head & 0x0F
        if opcode:  # the first frame of a message
            if self._opcode:
                raise WebSocketProtocolError("new message before the fragmented one ended")
            if head & 0x80:
                return opcode, payload
            self._opcode = opcode
            self._parts = [payload]
            self._size = len(payload)
            return None
        if not self._opcode:
            raise WebSocketProtocolError("continuation frame without a message to continue")
        self._size += len(payload)
        if self._size > self.max_size:
            raise WebSocketProtocolError(f"message of over {self.max_size} bytes")
        self._parts.append(payload)
        if not head & 0x80:
            return None
        opcode, self._opcode = self._opcode, 0
        parts, self._parts = self._parts, []
        return opcode, b"".join(parts)


def close_args(payload: bytes) -> tuple[int | None, str]:
    """``(code, reason)`` of a close frame's payload (``None`` when it carries no code).

    Example:
        >>> close_args(b"\\x03\\xe8bye")
        (1000, 'bye')
        >>> close_args(b"")
        (None, '')
    """
    if len(payload) < 2:
        return None, ""
    return int.from_bytes(payload[:2], "big"), payload[2:].decode("utf-8", "replace")
