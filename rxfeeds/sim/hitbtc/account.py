"""The HitBTC simulated accounts: login, orders (they rest, never fill), reports and balances.

``login`` with BASIC or HS256 binds a connection to an account (its API key); orders are kept per
account with v2 field names; ``send_reports`` notifies every connection of the account that
subscribed to reports.  The protocols map requests onto these methods.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, ClassVar

from ..kit.clock import iso_ms
from ..server import SimConnection
from ._base import AUTH_FAILED, AUTH_REQUIRED, HitBTCBase, RpcError, _positive

__all__ = ["HitBTCAccount"]

_BALANCES = {"BTC": "10", "ETH": "100", "USD": "100000", "USDT": "100000", "LTC": "500", "XRP": "100000"}


class HitBTCAccount(HitBTCBase):
    """Login, orders, reports and balances of the HitBTC simulators."""

    def check_login(self, conn: SimConnection, algo: Any, key: Any, secret: Any, message: Any, signature: Any) -> None:
        """Verify BASIC (secret) or HS256 (``signature`` of ``message``) and bind the account."""
        if algo not in ("BASIC", "HS256"):
            raise RpcError(1004, "Unsupported authorization method", str(algo)[:20])
        known = self.api_keys.get(key) if isinstance(key, str) else None
        if known is None:
            conn.state.pop("account", None)
            raise AUTH_FAILED
        if algo == "BASIC":
            ok = isinstance(secret, str) and hmac.compare_digest(secret, known)
        else:
            expected = hmac.new(known.encode(), str(message).encode(), hashlib.sha256).hexdigest()
            ok = isinstance(signature, str) and hmac.compare_digest(signature, expected)
        if not ok:
            conn.state.pop("account", None)
            raise AUTH_FAILED
        conn.state["account"] = key

    def account_of(self, conn: SimConnection) -> str:
        """The logged-in account of ``conn`` or the 1001 error."""
        account = conn.state.get("account")
        if account is None:
            raise AUTH_REQUIRED
        return str(account)

    def report_view(self, order: dict[str, Any]) -> dict[str, Any]:
        """An order as the wire shows it (v2: the stored v2 fields)."""
        return dict(order)

    def send_reports(self, account: str, order: dict[str, Any]) -> None:
        """The ``report`` notification to every connection of ``account`` subscribed to reports."""
        view = self.report_view(order)
        for c in self.connections:
            if c.is_open and c.state.get("account") == account and ("reports", "") in c.subscriptions:
                self.notify(c, self.report_method, view)

    report_method: ClassVar[str] = "report"
    active_orders_method: ClassVar[str] = "activeOrders"

    def place_order(
        self,
        account: str,
        client_order_id: Any,
        symbol: Any,
        side: Any,
        order_type: Any,
        time_in_force: Any,
        quantity: Any,
        price: Any,
    ) -> dict[str, Any]:
        """Validate and store a new order; returns it (v2 field names)."""
        symbol = self._require_symbol(symbol)
        if side not in ("buy", "sell"):
            raise RpcError(10001, "Validation error", "side must be buy or sell")
        order_type = order_type or "limit"
        if order_type not in ("limit", "market", "stopLimit", "stopMarket"):
            raise RpcError(10001, "Validation error", "unknown order type")
        qty = _positive(quantity)
        if qty is None:
            raise RpcError(10001, "Validation error", "quantity must be a positive number")
        px = _positive(price) if price is not None else None
        if order_type in ("limit", "stopLimit") and px is None:
            raise RpcError(10001, "Validation error", "price must be a positive number")
        book = self.orders.setdefault(account, {})
        if client_order_id is None:
            client_order_id = f"sim{next(self._order_ids)}"
        if not isinstance(client_order_id, str) or not client_order_id:
            raise RpcError(10001, "Validation error", "clientOrderId must be a string")
        if client_order_id in book:
            raise RpcError(20008, "Duplicate clientOrderId", client_order_id)
        now = iso_ms(self.clock())
        order = {
            "id": str(next(self._order_ids)),
            "clientOrderId": client_order_id,
            "symbol": symbol,
            "side": side,
            "status": "new",
            "type": order_type,
            "timeInForce": time_in_force or "GTC",
            "quantity": str(quantity),
            "price": str(price) if price is not None else None,
            "cumQuantity": "0",
            "postOnly": False,
            "createdAt": now,
            "updatedAt": now,
            "reportType": "new",
        }
        book[client_order_id] = order
        return order

    def cancel(self, account: str, client_order_id: Any) -> dict[str, Any]:
        """Remove an active order; returns its final (canceled) state."""
        order = self.orders.get(account, {}).pop(client_order_id, None) if isinstance(client_order_id, str) else None
        if order is None:
            raise RpcError(20002, "Order not found", f"{client_order_id}")
        order = {**order, "status": "canceled", "reportType": "canceled", "updatedAt": iso_ms(self.clock())}
        return order

    def replace(self, account: str, client_order_id: Any, new_id: Any, quantity: Any, price: Any) -> dict[str, Any]:
        """Replace an active order by a new one with id ``new_id``; returns the new order."""
        book = self.orders.get(account, {})
        old = book.get(client_order_id) if isinstance(client_order_id, str) else None
        if old is None:
            raise RpcError(20002, "Order not found", f"{client_order_id}")
        if not isinstance(new_id, str) or not new_id:
            raise RpcError(10001, "Validation error", "requestClientId must be a string")
        if new_id in book:
            raise RpcError(20008, "Duplicate clientOrderId", new_id)
        if _positive(quantity) is None or (price is not None and _positive(price) is None):
            raise RpcError(10001, "Validation error", "quantity and price must be positive numbers")
        del book[client_order_id]
        order = {
            **old,
            "id": str(next(self._order_ids)),
            "clientOrderId": new_id,
            "quantity": str(quantity),
            "price": str(price) if price is not None else old["price"],
            "updatedAt": iso_ms(self.clock()),
            "reportType": "replaced",
            "originalRequestClientOrderId": client_order_id,
        }
        book[new_id] = order
        return order

    def balances(self, account: str) -> list[dict[str, str]]:
        """Static balances; ``reserved`` is what the account's open orders hold (sim: 0)."""
        return [{"currency": c, "available": v, "reserved": "0"} for c, v in _BALANCES.items()]
