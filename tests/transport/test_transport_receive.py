"""The socket subject's receive loop over real sockets: control frames, protocol errors, both
ways of waiting (timed reads and ``poll()``), and websocket-client used only through its public API."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from rxfeeds.events import ConnectionState
from rxfeeds.transport import socket_subject
from tests.helpers import wait_until
from tests.transport_support import LineServer, values
from tests.transport_support import line_subject as _subject


@pytest.fixture(params=["timed-reads", "poll"])
def waiting(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with the kernel-timed reads (plain sockets on Linux) and with the ``poll()``
    loop (TLS, other systems)."""
    if request.param == "poll":
        monkeypatch.setattr(socket_subject, "_can_time_reads", lambda raw: False)
    return str(request.param)


def _frame(payload: bytes, head: int) -> bytes:
    return bytes([head, len(payload)]) + payload


def _write_raw(server: LineServer, data: bytes) -> None:
    async def go() -> None:
        for ws in server.connections:
            ws.transport.write(data)

    server.run(go())


def test_timers_fire_on_time_with_either_way_of_waiting(server: LineServer, waiting: str) -> None:
    # Application pings every 0.1 s keep a quiet connection alive (their pongs are data); once
    # the server stops answering, the stale timer (0.5 s) reconnects.
    s = _subject(server, ping_interval=None, stale_timeout=0.5, app_ping_interval=0.1)
    states: list[Any] = []
    s.state.subscribe(states.append)
    got: list[Any] = []
    d = s.multiplex(("t", "A")).subscribe(got.append)
    wait_until(lambda: server.count("ping") >= 8, timeout=10)
    assert server.connects == 1
    server.stalled = True
    wait_until(lambda: server.connects == 2, timeout=10)
    reasons = [st.reason for st in states if st.state is ConnectionState.RECONNECTING]
    assert reasons and reasons[0].startswith("stale")
    server.stalled = False
    wait_until(lambda: server.count("sub") == 2)
    server.publish("t", "A", "after")
    wait_until(lambda: values(got) == ["after"])
    d.dispose()
    s.close()


def test_a_server_ping_is_answered_with_its_payload(server: LineServer, waiting: str) -> None:
    s = _subject(server, ping_interval=None)
    d = s.multiplex(("t", "A")).subscribe(lambda e: None)
    wait_until(lambda: server.count("sub") == 1)

    async def ping() -> float:
        waiter = await server.connections[0].ping(b"are you there")
        return await asyncio.wait_for(waiter, 5)  # resolves when the matching pong arrives

    assert server.run(ping()) >= 0
    d.dispose()
    s.close()


def test_a_server_close_frame_is_answered_and_its_code_reported(server: LineServer) -> None:
    s = _subject(server)
    states: list[Any] = []
    s.state.subscribe(states.append)
    got: list[Any] = []
    d = s.multiplex(("t", "A")).subscribe(got.append)
    wait_until(lambda: server.count("sub") == 1)

    async def close() -> Any:
        ws = server.connections[0]
        await ws.close(4000, "maintenance")
        return ws.close_code, ws.protocol.close_rcvd

    code, rcvd = server.run(close())
    assert code == 4000 and rcvd is not None  # the client answered the close handshake
    wait_until(lambda: server.count("sub") == 2)
    reasons = [st.reason for st in states if st.state is ConnectionState.RECONNECTING]
    assert reasons[0] == "closed by server (code 4000: maintenance)"
    server.publish("t", "A", 1)
    wait_until(lambda: values(got) == [1])
    d.dispose()
    s.close()


@pytest.mark.parametrize(
    "bad, why",
    [
        (_frame(b"x", 0x83), "reserved opcode"),
        (bytes([0x81, 0x81]) + b"\x00\x00\x00\x00x", "masked"),
        (_frame(b"x", 0xC1), "reserved bits"),
        (_frame(b"x", 0x09), "fragmented control"),
        (_frame(b"x", 0x80), "continuation"),
    ],
)
def test_a_protocol_error_drops_the_connection_and_data_flows_again(server: LineServer, bad: bytes, why: str) -> None:
    s = _subject(server)
    states: list[Any] = []
    s.state.subscribe(states.append)
    got: list[Any] = []
    d = s.multiplex(("t", "A")).subscribe(got.append)
    wait_until(lambda: server.count("sub") == 1)
    good = orjson.dumps({"ch": "t", "sym": "A", "v": "before"})
    _write_raw(server, _frame(good, 0x81) + bad)
    wait_until(lambda: server.count("sub") == 2)
    assert values(got)[:1] == ["before"]  # frames before the bad one were delivered
    reasons = [st.reason for st in states if st.state is ConnectionState.RECONNECTING]
    assert "WebSocketProtocolError" in reasons[0] and why in reasons[0]
    server.publish("t", "A", "after")
    wait_until(lambda: values(got)[-1:] == ["after"])
    d.dispose()
    s.close()


def test_fragmented_text_and_binary_messages_with_either_way_of_waiting(server: LineServer, waiting: str) -> None:
    s = _subject(server)
    got: list[Any] = []
    errors: list[Any] = []
    s.errors.subscribe(errors.append)
    d = s.multiplex(("t", "A")).subscribe(got.append)
    wait_until(lambda: server.count("sub") == 1)
    text = orjson.dumps({"ch": "t", "sym": "A", "v": "joined"})
    stream = _frame(text[:5], 0x01) + _frame(b"pp", 0x89) + _frame(text[5:9], 0x00) + _frame(text[9:], 0x80)
    stream += _frame(b"bin", 0x02) + _frame(b"ary", 0x80)  # a binary message: the codec refuses it
    _write_raw(server, stream)
    wait_until(lambda: values(got) == ["joined"] and len(errors) == 1)
    assert "binary" in str(errors[0])
    assert s.stats().reconnects == 0
    d.dispose()
    s.close()


def test_no_private_attribute_of_websocket_client_is_used() -> None:
    # websocket-client's private modules and attributes change between minor releases.
    root = Path(socket_subject.__file__).parent
    for path in root.glob("*.py"):
        text = path.read_text()
        assert not re.search(r"websocket\._", text), path
        assert not re.search(r"\bws\.(\w+\.)*_[a-z]", text), path
        assert "frame_buffer" not in text and "_stop_ping_thread" not in text, path


# ---------------------------------------------------------------------------------------- TLS


class _TlsServer:
    """A ``wss://`` line server with a self-signed certificate for 127.0.0.1: after a
    subscription it sends a burst of small frames (many per TLS record) and one large frame
    (many TLS records), so the reader must drain what OpenSSL has already decrypted."""

    def __init__(self, tmp: Path) -> None:
        import datetime
        import ipaddress
        import ssl
        import threading

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256())
        )
        self.cert_file = tmp / "cert.pem"
        self.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file = tmp / "key.pem"
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(self.cert_file, key_file)
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._serve(),), daemon=True)
        self.stop_future: asyncio.Future[None] | None = None

    async def _serve(self) -> None:
        from websockets.asyncio.server import serve

        self.stop_future = self.loop.create_future()
        async with serve(self._handler, "127.0.0.1", 0, ssl=self.ctx, ping_interval=None, max_size=None) as srv:
            self.port = srv.sockets[0].getsockname()[1]
            self.ready.set()
            await self.stop_future

    async def _handler(self, ws: Any) -> None:
        async for raw in ws:
            msg = orjson.loads(raw)
            if msg.get("op") != "sub":
                continue
            burst = b"".join(_frame(orjson.dumps({"ch": "t", "sym": "A", "v": i}), 0x81) for i in range(500))
            ws.transport.write(burst)  # one write: many frames per TLS record
            await ws.send(orjson.dumps({"ch": "t", "sym": "A", "v": "z" * 100_000}).decode())

    def __enter__(self) -> _TlsServer:
        self.thread.start()
        self.ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        def stop() -> None:
            assert self.stop_future is not None
            self.stop_future.set_result(None)

        self.loop.call_soon_threadsafe(stop)
        self.thread.join(10)


def test_tls_certificates_are_verified_by_default(tmp_path: Path) -> None:
    from rxfeeds.errors import ConnectionFailed
    from rxfeeds.transport import Backoff, SocketSubject
    from tests.transport_support import LineCodec

    with _TlsServer(tmp_path) as srv:
        s = SocketSubject(f"wss://127.0.0.1:{srv.port}", LineCodec(), backoff=Backoff(initial=0.01, max_attempts=1))
        errors: list[Any] = []
        s.multiplex(("t", "A")).subscribe(on_error=errors.append)
        wait_until(lambda: errors, timeout=10)
        assert isinstance(errors[0], ConnectionFailed) and "CERTIFICATE_VERIFY_FAILED" in str(errors[0])
        s.close()


def test_frames_over_tls_are_read_whole(tmp_path: Path) -> None:
    # TLS takes the poll() path (its reads retry inside OpenSSL, so no timed reads): a burst of
    # small frames and a frame spanning many TLS records come out whole and in order.
    from rxfeeds.transport import SocketSubject
    from tests.transport_support import LineCodec

    with _TlsServer(tmp_path) as srv:
        s = SocketSubject(f"wss://127.0.0.1:{srv.port}", LineCodec(), sslopt={"ca_certs": str(srv.cert_file)})
        got: list[Any] = []
        d = s.multiplex(("t", "A")).subscribe(got.append)
        wait_until(lambda: len(values(got)) == 501, timeout=20)
        assert values(got) == [*range(500), "z" * 100_000]
        assert s.stats().reconnects == 0
        d.dispose()
        s.close()
