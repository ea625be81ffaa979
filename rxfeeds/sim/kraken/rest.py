"""The Kraken REST endpoints of the simulators: public asset lists and the websocket token.

``GET /0/public/Assets``, ``GET /0/public/AssetPairs[?pair=...]`` (with the simulator's pair
precisions) and ``POST /0/private/GetWebSocketsToken`` (API-Key / API-Sign HMAC-SHA512 checked,
nonces strictly increasing per key), which issues the tokens the private channels ask for.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from decimal import Decimal
from typing import Any, ClassVar

from ..server import HttpRequest, HttpResponse, json_response
from ._base import TOKEN_PATH, KrakenBase

__all__ = ["KrakenRest", "sign_request"]


def sign_request(path: str, nonce: str, body: str, secret_b64: str) -> str:
    """Kraken's ``API-Sign``: base64(HMAC-SHA512(b64decode(secret), path + SHA256(nonce + body))).

    Example:
        >>> from rxfeeds.sim.kraken import DEFAULT_API_SECRET
        >>> len(base64.b64decode(sign_request(TOKEN_PATH, "1", "nonce=1", DEFAULT_API_SECRET)))
        64
    """
    digest = hashlib.sha256((nonce + body).encode()).digest()
    mac = hmac.new(base64.b64decode(secret_b64), path.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


class KrakenRest(KrakenBase):
    """The REST endpoints and the websocket tokens of the Kraken simulators."""

    def issue_token(self) -> str:
        """A valid websocket token (what the REST endpoint hands out). Any thread."""
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return token

    def token_ok(self, token: Any) -> bool:
        return isinstance(token, str) and token in self.tokens

    #: pairs listed by ``GET /0/public/AssetPairs`` without ``pair`` (REST name -> (wsname, base, quote))
    listed_pairs: ClassVar[dict[str, tuple[str, str, str]]] = {
        "XXBTZUSD": ("XBT/USD", "XXBT", "ZUSD"),
        "XETHZUSD": ("ETH/USD", "XETH", "ZUSD"),
        "XETHXXBT": ("ETH/XBT", "XETH", "XXBT"),
    }

    def asset_pair(self, wsname: str) -> dict[str, Any]:
        """The REST ``AssetPairs`` entry of a pair, with this simulator's precisions."""
        options = self.market_options(wsname)
        decimals = max(0, -Decimal(options["tick_size"]).normalize().as_tuple().exponent)  # type: ignore[operator]
        base, _, quote = wsname.partition("/")
        asset = {"XBT": "XXBT", "BTC": "XXBT", "ETH": "XETH", "USD": "ZUSD", "EUR": "ZEUR"}
        return {
            "altname": base + quote,
            "wsname": wsname,
            "aclass_base": "currency",
            "base": asset.get(base, base),
            "aclass_quote": "currency",
            "quote": asset.get(quote, quote),
            "lot": "unit",
            "cost_decimals": max(decimals, 5),
            "pair_decimals": decimals,
            "lot_decimals": options["size_decimals"],
            "lot_multiplier": 1,
            "leverage_buy": [],
            "leverage_sell": [],
            "fees": [[0, 0.26], [50000, 0.24]],
            "fees_maker": [[0, 0.16], [50000, 0.14]],
            "fee_volume_currency": "ZUSD",
            "margin_call": 80,
            "margin_stop": 40,
            "ordermin": "0.0001",
            "costmin": "0.5",
            "tick_size": options["tick_size"],
            "status": "online",
        }

    #: ``GET /0/public/Assets``: REST asset name -> (altname, decimals, display_decimals)
    listed_assets: ClassVar[dict[str, tuple[str, int, int]]] = {
        "XXBT": ("XBT", 10, 5),
        "XETH": ("ETH", 10, 5),
        "ZUSD": ("USD", 4, 2),
        "ZEUR": ("EUR", 4, 2),
    }

    def handle_http(self, request: HttpRequest) -> HttpResponse | None:
        if request.path == "/0/public/Assets" and request.method == "GET":
            assets = {
                name: {"aclass": "currency", "altname": alt, "decimals": d, "display_decimals": dd, "status": "enabled"}
                for name, (alt, d, dd) in self.listed_assets.items()
            }
            return json_response({"error": [], "result": assets})
        if request.path == "/0/public/AssetPairs" and request.method == "GET":
            # Kraken keys the answer by the name asked for (REST name, altname or wsname).
            asked = [p for p in request.query.get("pair", "").split(",") if p]
            if not asked:
                return json_response(
                    {
                        "error": [],
                        "result": {name: self.asset_pair(ws) for name, (ws, _, _) in self.listed_pairs.items()},
                    }
                )
            result: dict[str, Any] = {}
            for name in asked:
                wsname = self.listed_pairs.get(name, (name, "", ""))[0]
                if "/" not in wsname or self.pair_error(wsname) is not None:
                    return json_response({"error": ["EQuery:Unknown asset pair"]})
                result[name] = self.asset_pair(wsname)
            return json_response({"error": [], "result": result})
        if request.path != TOKEN_PATH:
            return None
        if request.method != "POST":
            return json_response({"error": ["EGeneral:Invalid arguments"]}, 405)
        key = request.headers.get("api-key", "")
        secret = self.api_keys.get(key)
        if secret is None:
            return json_response({"error": ["EAPI:Invalid key"]})
        form = request.form()
        nonce = form.get("nonce", "")
        body = request.body.decode("utf-8", "replace")
        expected = sign_request(request.path, nonce, body, secret)
        if not hmac.compare_digest(expected, request.headers.get("api-sign", "")):
            return json_response({"error": ["EAPI:Invalid signature"]})
        if not nonce.isdigit() or int(nonce) <= self._nonces.get(key, 0):
            return json_response({"error": ["EAPI:Invalid nonce"]})
        self._nonces[key] = int(nonce)
        return json_response({"error": [], "result": {"token": self.issue_token(), "expires": 900}})
