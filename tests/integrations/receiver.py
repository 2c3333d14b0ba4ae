"""A local webhook receiver for tests: a threaded HTTP server on 127.0.0.1 that records every
request and answers from a per-path plan (status codes, or "hang" until released)."""

import threading
from collections import defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):
        receiver: Receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with receiver.lock:
            receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
            plan = receiver.plan[self.path]
            action = plan.pop(0) if plan else 200
            receiver.arrived.notify_all()
        if action == "hang":
            receiver.release.wait(timeout=60)
            action = 200
        try:
            self.send_response(action)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(f"answer {action}".encode())
        except OSError:
            pass  # the sender went away (timed out or was killed)


class Receiver:
    def __init__(self):
        self.requests: list[Received] = []
        self.plan: dict[str, list] = defaultdict(list)
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.receiver = self
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def received(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def wait_for(self, path: str, count: int, timeout: float = 30) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(
                lambda: len([r for r in self.requests if r.path == path]) >= count, timeout
            )
        return self.received(path)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
