"""A local fake of the few Stripe API endpoints billing calls, served over HTTP in a thread, so
the official `stripe` library is exercised end to end with no network; and webhook payloads
signed with Stripe's scheme (`t=<unix time>,v1=<HMAC-SHA256 of "t.body">`)."""

import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

WEBHOOK_SECRET = "whsec_test_lyceum"
SECRET_KEY = "sk_test_lyceum"


def sign(body: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


_ids = itertools.count(1)


def event(event_type: str, obj: dict, *, event_id: str | None = None) -> dict:
    return {
        "id": event_id or f"evt_test_{next(_ids)}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "type": event_type,
        "livemode": False,
        "data": {"object": obj},
    }


@dataclass
class Call:
    method: str
    path: str
    form: dict
    headers: dict


@dataclass
class FakeStripe:
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    fail_with: tuple[int, dict] | None = None  # the next answer, e.g. a card error
    invoices: dict[str, dict] = field(default_factory=dict)  # GET /v1/invoices/<id> answers

    def paths(self) -> list[str]:
        return [f"{c.method} {c.path}" for c in self.calls]


def _answer(fake: FakeStripe, method: str, path: str, form: dict) -> tuple[int, dict]:
    if fake.fail_with is not None:
        answer, fake.fail_with = fake.fail_with, None
        return answer
    n = next(_ids)
    if method == "POST" and path == "/v1/checkout/sessions":
        session_id = f"cs_test_{n}"
        return 200, {
            "id": session_id,
            "object": "checkout.session",
            "mode": form.get("mode"),
            "url": f"https://checkout.stripe.test/c/pay/{session_id}",
            "currency": form.get("line_items[0][price_data][currency]"),
            "amount_total": int(form.get("line_items[0][price_data][unit_amount]", 0)),
            "client_reference_id": form.get("client_reference_id"),
            "payment_status": "unpaid",
            "status": "open",
        }
    if method == "POST" and path == "/v1/refunds":
        return 200, {
            "id": f"re_test_{n}",
            "object": "refund",
            "amount": int(form.get("amount", 0)),
            "payment_intent": form.get("payment_intent"),
            "status": "succeeded",
        }
    if method == "POST" and path == "/v1/products":
        return 200, {"id": f"prod_test_{n}", "object": "product", "name": form.get("name")}
    if method == "GET" and path.startswith("/v1/invoices/"):
        invoice_id = path.rsplit("/", 1)[1]
        if invoice_id in fake.invoices:
            return 200, {"id": invoice_id, "object": "invoice", **fake.invoices[invoice_id]}
    if path.startswith("/v1/subscriptions/"):
        subscription_id = path.rsplit("/", 1)[1]
        status = "canceled" if method == "DELETE" else "active"
        return 200, {
            "id": subscription_id,
            "object": "subscription",
            "status": status,
            "cancel_at_period_end": form.get("cancel_at_period_end") == "true",
            "items": {
                "object": "list",
                "data": [{"id": f"si_{subscription_id}", "object": "subscription_item"}],
            },
        }
    return 404, {"error": {"type": "invalid_request_error", "message": f"no {method} {path}"}}


def start() -> tuple[FakeStripe, ThreadingHTTPServer]:
    fake = FakeStripe()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            form = dict(parse_qsl(raw, keep_blank_values=True))
            path = self.path.split("?", 1)[0]
            fake.calls.append(Call(self.command, path, form, dict(self.headers)))
            status, body = _answer(fake, self.command, path, form)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", f"req_test_{next(_ids)}")
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_GET = do_DELETE = _handle

        def log_message(self, *args):
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server
