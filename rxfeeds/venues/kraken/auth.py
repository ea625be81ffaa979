"""Kraken websocket tokens: REST ``GetWebSocketsToken`` with the HMAC-SHA512 ``API-Sign``.

Private websocket channels and order entry need a token obtained over REST with an API key that
has the "WebSocket interface" permission.  The signature is (``protocols.md`` §5.6)::

    API-Sign = base64(HMAC-SHA512(key=base64decode(secret),
                                  msg=url_path + SHA256(nonce + post_body)))

A token must be used within 15 minutes to subscribe; :class:`KrakenToken` fetches one lazily and
again once it is older than ``max_age``, so pass it as ``token=`` to the clients and every
(re)subscription after a reconnect gets a usable token.  Secrets and tokens never appear in
reprs, logs or exception messages.

Example::

    from rxfeeds.venues.kraken.auth import KrakenToken
    token = KrakenToken(api_key, api_secret)
    Kraken().own_trades(token).subscribe(print)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Final

from ...errors import AuthError, InvalidArgument, RequestError
from ...transport.redact import redact_url
from ..base import check_secure_url

__all__ = ["API_URL", "TOKEN_PATH", "api_sign", "get_websockets_token", "KrakenToken"]

API_URL: Final = "https://api.kraken.com"
TOKEN_PATH: Final = "/0/private/GetWebSocketsToken"
_VENUE: Final = "kraken"


def api_sign(path: str, nonce: str, body: str, secret: str) -> str:
    """Kraken's ``API-Sign`` header value for one private REST call.

    Args:
        path: the URL path (``"/0/private/GetWebSocketsToken"``).
        nonce: the nonce as sent in the body.
        body: the url-encoded POST body (it contains ``nonce=...``).
        secret: the API secret as Kraken shows it (base64).

    Example:
        >>> sig = api_sign("/0/private/GetWebSocketsToken", "1", "nonce=1", base64.b64encode(b"k").decode())
        >>> len(base64.b64decode(sig))
        64
    """
    try:
        key = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidArgument("secret", "<hidden>", "must be the base64 API secret Kraken gave you") from None
    message = path.encode() + hashlib.sha256((nonce + body).encode()).digest()
    return base64.b64encode(hmac.new(key, message, hashlib.sha512).digest()).decode()


def _nonce() -> str:
    return str(time.time_ns() // 1000)


def get_websockets_token(
    key: str,
    secret: str,
    *,
    base_url: str = API_URL,
    timeout: float = 10.0,
    nonce: str | None = None,
    allow_insecure: bool = False,
) -> tuple[str, float]:
    """Fetch a websocket token; returns ``(token, expires_in_seconds)``.

    Raises:
        InvalidArgument: empty key, non-base64 secret, non-http(s) base URL, or a plain
            ``http://`` URL to a host that is not this machine (the API key and signature would
            travel unencrypted) without ``allow_insecure=True``.
        AuthError: Kraken refused the key or signature (its ``EAPI:...`` text, no secrets).
        RequestError: network failure or an unexpected reply.

    Example::

        token, expires = get_websockets_token(api_key, api_secret)
    """
    if not isinstance(key, str) or not key:
        raise InvalidArgument("key", "<hidden>", "must be a non-empty API key")
    parsed = urllib.parse.urlparse(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise InvalidArgument("base_url", base_url, "must be an http(s) URL")
    check_secure_url("base_url", base_url, allow_insecure)
    nonce = nonce or _nonce()
    body = urllib.parse.urlencode({"nonce": nonce})
    path = (parsed.path.rstrip("/") or "") + TOKEN_PATH
    headers = {
        "API-Key": key,
        "API-Sign": api_sign(path, nonce, body, secret),
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "User-Agent": "rxfeeds",
    }
    url = base_url.rstrip("/") + TOKEN_PATH
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # TLS verified by default
            reply: Any = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise RequestError(_VENUE, f"GetWebSocketsToken: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise RequestError(_VENUE, f"GetWebSocketsToken failed: {type(exc).__name__}") from None
    errors = reply.get("error") if isinstance(reply, dict) else None
    if errors:
        raise AuthError(_VENUE, "; ".join(str(e) for e in errors))
    result = reply.get("result") if isinstance(reply, dict) else None
    if not isinstance(result, dict) or not isinstance(result.get("token"), str):
        raise RequestError(_VENUE, "GetWebSocketsToken: unexpected reply")
    return result["token"], float(result.get("expires", 900))


class KrakenToken:
    """A token provider for the clients' ``token=`` argument: fetched lazily, refreshed when old.

    Kraken requires a token to be *used* within its lifetime (15 minutes) to subscribe; once
    subscribed it stays valid for the connection.  Calling the provider returns the cached token
    while younger than ``max_age`` (default: 80 % of the lifetime Kraken reported), else fetches a
    new one.

    Example::

        token = KrakenToken(api_key, api_secret, base_url=sim.http_url)
        token()        # -> "..." (never printed by repr)
    """

    def __init__(
        self,
        key: str,
        secret: str,
        *,
        base_url: str = API_URL,
        timeout: float = 10.0,
        max_age: float | None = None,
        allow_insecure: bool = False,
    ) -> None:
        api_sign(TOKEN_PATH, "0", "nonce=0", secret)  # validates the secret now, not on first use
        check_secure_url("base_url", base_url, allow_insecure)
        self.allow_insecure = allow_insecure
        self._key = key
        self._secret = secret
        self.base_url = base_url
        self.timeout = timeout
        self.max_age = max_age
        self._token: str | None = None
        self._fetched = 0.0
        self._lifetime = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            age = time.monotonic() - self._fetched
            limit = self.max_age if self.max_age is not None else 0.8 * self._lifetime
            if self._token is None or age >= limit:
                self._token, self._lifetime = get_websockets_token(
                    self._key,
                    self._secret,
                    base_url=self.base_url,
                    timeout=self.timeout,
                    allow_insecure=self.allow_insecure,
                )
                self._fetched = time.monotonic()
            return self._token

    def __repr__(self) -> str:
        return f"KrakenToken(base_url={redact_url(self.base_url)!r}, key=<hidden>, secret=<hidden>)"
