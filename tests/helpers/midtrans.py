"""A stand-in for Midtrans on a free local port, answering as its documentation says: Snap
`POST /snap/v1/transactions` → 201 `{token, redirect_url}`; Core API
`GET /v2/{order_id}/status` → the transaction as a notification carries it (404 when it
knows none). Both want HTTP basic auth with the server key and no password.

`down = True` makes it answer 503 (Midtrans unreachable, as far as the shop can tell);
`hang = True` makes it answer nothing until `release` is set (or 30 seconds pass).
`requests` keeps every (method, path, headers, JSON body) it received."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cloudstore.domain.payments import notification_signature

SERVER_KEY = "SB-Mid-server-test-key"


class FakeMidtrans:
    def __init__(self, server_key: str = SERVER_KEY) -> None:
        self.server_key = server_key
        self.down = False
        self.hang = False
        self.release = threading.Event()
        self.requests: list[tuple[str, str, dict, object]] = []
        # order_id -> the transaction_status Core API reports (and its fraud_status).
        self.statuses: dict[str, tuple[str, str | None, str]] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                expected = "Basic " + base64.b64encode(f"{fake.server_key}:".encode()).decode()
                return self.headers.get("Authorization") == expected

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                fake.requests.append(("POST", self.path, dict(self.headers), body))
                if fake.hang:
                    fake.release.wait(30)
                if fake.down:
                    return self._answer(503, {"error_messages": ["service unavailable"]})
                if not self._authorised():
                    return self._answer(401, {"error_messages": ["Access denied"]})
                if self.path != "/snap/v1/transactions":
                    return self._answer(404, {"error_messages": ["not found"]})
                token = uuid.uuid4().hex
                host = f"http://{self.headers.get('Host')}"
                self._answer(
                    201, {"token": token, "redirect_url": f"{host}/snap/v4/redirection/{token}"}
                )

            def do_GET(self):  # noqa: N802
                fake.requests.append(("GET", self.path, dict(self.headers), None))
                if fake.down:
                    return self._answer(503, {"status_message": "service unavailable"})
                if not self._authorised():
                    return self._answer(401, {"status_message": "Access denied"})
                parts = self.path.strip("/").split("/")
                if len(parts) != 3 or parts[0] != "v2" or parts[2] != "status":
                    return self._answer(404, {"status_message": "not found"})
                order_id = parts[1]
                if order_id not in fake.statuses:
                    return self._answer(
                        404, {"status_code": "404", "status_message": "Transaction doesn't exist."}
                    )
                status, fraud, amount = fake.statuses[order_id]
                self._answer(200, fake.notification(order_id, amount, status, fraud))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeMidtrans:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def settings(self) -> dict:
        """Settings overrides for a shop that takes Midtrans through this stand-in."""
        return dict(
            payment_provider="midtrans",
            midtrans_server_key=self.server_key,
            midtrans_snap_url=self.url + "/snap/v1/transactions",
            midtrans_api_url=self.url,
            public_url="https://shop.example.com",
        )

    def snap_requests(self) -> list[dict]:
        return [body for method, path, _, body in self.requests if path.startswith("/snap/")]

    def notification(
        self,
        order_id: str,
        amount: object,
        status: str = "settlement",
        fraud: str | None = "accept",
        transaction_id: str = "tx-1",
        status_code: str = "200",
    ) -> dict:
        """A notification as Midtrans sends it, signed with the server key."""
        gross = f"{Decimal(str(amount)):.2f}"
        body = {
            "transaction_time": "2026-11-30 10:00:00",
            "transaction_status": status,
            "transaction_id": transaction_id,
            "status_message": "midtrans payment notification",
            "status_code": status_code,
            "signature_key": notification_signature(order_id, status_code, gross, self.server_key),
            "payment_type": "bank_transfer",
            "order_id": order_id,
            "merchant_id": "G000000000",
            "gross_amount": gross,
            "currency": "IDR",
        }
        if fraud is not None:
            body["fraud_status"] = fraud
        return body
