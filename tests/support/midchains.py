"""Midchains over a raw websocket: one request/reply, and the RSA password encryption of the login."""

from __future__ import annotations

import base64
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key


def ask(ws: Any, message: Any) -> dict[str, Any]:
    ws.send(message if isinstance(message, str) else orjson.dumps(message).decode())
    reply: dict[str, Any] = orjson.loads(ws.recv())
    return reply


def encrypt(key_b64: str, password: str) -> str:
    key = load_der_public_key(base64.b64decode(key_b64))
    assert isinstance(key, rsa.RSAPublicKey)
    return base64.b64encode(key.encrypt(password.encode(), padding.PKCS1v15())).decode()
