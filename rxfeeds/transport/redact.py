"""Credential redaction for recordings and logs: frames are parsed, fields are matched by name.

Every venue puts its credentials in named JSON fields (Kraken ``token``, HitBTC v2 ``pKey`` /
``sKey`` / ``signature`` / ``nonce``, HitBTC v3 ``api_key`` / ``secret_key`` / ``signature``,
Midchains ``userid`` / ``pass``) or, for positional JSON-RPC (BitShares ``login``), where only
the codec knows: a codec with a ``redact(frame)`` method is asked first.  Then the frame is
parsed as JSON and the value of every field whose *name* says it is a credential becomes
``"***"``, at any depth and whatever the value (string, number, object).  Names are compared
case-, ``_``- and ``-``-insensitively (``secret_key``, ``secretKey`` and ``Secret-Key`` alike);
JSON escapes in names or values do not hide anything, since the parser has already undone them.

A frame that holds nothing to hide is returned unchanged (the very same text).  A redacted
frame is re-serialised compactly with every other value kept exactly as written (numbers keep
their digits).  A frame that cannot be parsed but mentions a credential-like word is replaced
by a marker, ``<redacted: unparseable frame, N chars>``: never half-masked, never leaked.

Two name lists:

* frames **sent** (:func:`redact`): every credential and everything that identifies or replays
  a login (``key``, ``api_key``, ``pKey``, ``userid``, ``nonce``, ``signature``, ``sign``...);
* frames **received** and REST bodies (:func:`redact_received`): only secrets proper (tokens,
  secrets, passwords), so that replaying a capture decodes the same market data.

Example:
    >>> redact('{"method":"login","params":{"type":"BASIC","api_key":"k","secret_key":"s\\\\"x"},"id":1}')
    '{"method":"login","params":{"type":"BASIC","api_key":"***","secret_key":"***"},"id":1}'
    >>> redact('{"event":"ping","reqid":7}')
    '{"event":"ping","reqid":7}'
    >>> redact_url("https://h/api?symbol=BTCUSDT&signature=abc")
    'https://h/api?symbol=BTCUSDT&signature=***'
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["MASK", "redact", "redact_received", "redact_url", "is_secret_field"]

#: what a credential's value becomes
MASK: Final = "***"

# Normalised (lower case, no "_" or "-") names of fields that hold a secret proper.
_SECRETS: Final = frozenset(
    {
        "token",
        "accesstoken",
        "authtoken",
        "refreshtoken",
        "sessiontoken",
        "wstoken",
        "secret",
        "secretkey",
        "apisecret",
        "clientsecret",
        "skey",
        "password",
        "pass",
        "passwd",
        "pwd",
        "passphrase",
        "privatekey",
        "privkey",
        "wif",
        "mnemonic",
        "seed",
        "otp",
        "totp",
        "apisign",
    }
)
# ...plus, in frames sent, what identifies the account or lets a login be replayed.
_SENT: Final = _SECRETS | frozenset(
    {
        "key",
        "apikey",
        "pkey",
        "publickey",
        "userid",
        "user",
        "username",
        "login",
        "nonce",
        "signature",
        "sign",
        "sig",
        "authorization",
        "auth",
        "credentials",
    }
)
# Names ending like these are secrets too (``apiSecret``, ``x_password``, ``ws_auth_token``).
_SECRET_SUFFIXES: Final = ("secret", "password", "passwd", "passphrase", "secretkey", "privatekey", "token")

# Cheap pre-checks on the lower-cased frame: one that matches none of these cannot name a
# credential field (``\\u``: a name written with JSON escapes).  Received frames are checked on
# the socket thread (about 1 us for a 200-byte frame), so the received check is narrow; the
# sent one is wide (few frames are sent).
_HINT_RECEIVED: Final = re.compile(r"token|secret|pass|pwd|s[-_]?key|priv|wif|mnemonic|seed|otp|sign|\\u")
_HINT_SENT: Final = re.compile(
    r"key|token|secret|pass|pwd|priv|wif|mnemonic|seed|otp|sig|user|login|nonce|auth|credential|\\u"
)


def _normal(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def is_secret_field(name: str, *, sent: bool = True) -> bool:
    """Whether a field called ``name`` holds a credential (in a frame sent, or received).

    Example:
        >>> is_secret_field("secret_key"), is_secret_field("sKey"), is_secret_field("price")
        (True, True, False)
        >>> is_secret_field("api_key"), is_secret_field("api_key", sent=False)
        (True, False)
    """
    n = _normal(name)
    return n in (_SENT if sent else _SECRETS) or n.endswith(_SECRET_SUFFIXES)


class _Num(str):
    """A JSON number (or NaN/Infinity) kept as its source text, so re-serialising changes no digit."""

    __slots__ = ()


def _parse(text: str) -> Any:
    return json.loads(text, parse_float=_Num, parse_int=_Num, parse_constant=_Num)


def _mask(value: Any, names: frozenset[str]) -> tuple[Any, bool]:
    """``value`` with every credential field masked, and whether anything was."""
    if isinstance(value, dict):
        changed = False
        out: dict[str, Any] = {}
        for k, v in value.items():
            n = _normal(k)
            if n in names or n.endswith(_SECRET_SUFFIXES):
                out[k] = MASK
                changed = True
            else:
                out[k], c = _mask(v, names)
                changed = changed or c
        return out, changed
    if isinstance(value, list):
        items = [_mask(v, names) for v in value]
        return [v for v, _ in items], any(c for _, c in items)
    return value, False


def _dump(value: Any) -> str:
    if isinstance(value, _Num):
        return str.__str__(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dump(v) for v in value) + "]"
    return json.dumps(value)  # true, false, null


def _marker(frame: str) -> str:
    return f"<redacted: unparseable frame, {len(frame)} chars>"


def _redact_json(frame: str, names: frozenset[str], hint: re.Pattern[str]) -> str:
    if not hint.search(frame.lower()):
        return frame
    try:
        masked, changed = _mask(_parse(frame), names)
        return _dump(masked) if changed else frame
    except (ValueError, RecursionError):  # not JSON (or absurdly deep): keep nothing that may hide a secret
        return _marker(frame)


def redact(frame: str, codec_redact: Callable[[str], str] | None = None) -> str:
    """A frame to be **sent**, with credentials masked, for recordings and logs.

    The codec's own ``redact`` runs first when it has one (it knows where its protocol puts
    positional secrets, e.g. a JSON-RPC ``login``); then every field named like a credential
    or a login's identity/nonce/signature is masked (see the module docstring).  A codec
    ``redact`` that raises counts as unparseable: the frame becomes the marker.

    Example:
        >>> redact('{"event":"subscribe","subscription":{"name":"ownTrades","token":"abc"}}')
        '{"event":"subscribe","subscription":{"name":"ownTrades","token":"***"}}'
    """
    if codec_redact is not None:
        try:
            frame = codec_redact(frame)
        except Exception:
            return _marker(frame)
    return _redact_json(frame, _SENT, _HINT_SENT)


def redact_received(frame: str) -> str:
    """A frame **received** (or a REST body) with secrets proper masked; market data is untouched.

    Example:
        >>> redact_received('{"result":{"token":"t0k","expires":900}}')
        '{"result":{"token":"***","expires":900}}'
        >>> redact_received('[1,{"a":[["5541.3","2.5","1534614248.1"]]},"book-10","XBT/USD"]')
        '[1,{"a":[["5541.3","2.5","1534614248.1"]]},"book-10","XBT/USD"]'
    """
    return _redact_json(frame, _SECRETS, _HINT_RECEIVED)


def redact_url(url: str) -> str:
    """``url`` with credential query parameters masked (signed REST requests).

    Example:
        >>> redact_url("https://api/x?apiKey=k&symbol=A&timestamp=1")
        'https://api/x?apiKey=***&symbol=A&timestamp=1'
    """
    if "?" not in url and "@" not in url:
        return url
    try:
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        netloc = parts.netloc
        if "@" in netloc:  # user:password@host
            netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
        if not any(is_secret_field(k) for k, _ in query):
            if netloc == parts.netloc:
                return url  # nothing to hide: the very same text
            masked = parts.query
        else:
            masked = urlencode([(k, MASK if is_secret_field(k) else v) for k, v in query], safe="*")
        return urlunsplit((parts.scheme, netloc, parts.path, masked, parts.fragment))
    except ValueError:
        return _marker(url)
