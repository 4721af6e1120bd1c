"""Talking to a server: HTTP, the web client's JSON-RPC, tokens, and the
threaded ``Workload`` that runs a request function for a bounded time."""

import http.client
import json
import sys
import threading
import time
from urllib.parse import urlencode


def log(message):
    """Progress on stderr (stdout is the report)."""
    print(message, file=sys.stderr, flush=True)


def request(base, method, path, body=None, headers=None, timeout=60):
    """One HTTP request on a fresh connection: ``(status, headers, body bytes)``."""
    host, port = base.split("//", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def header(headers, name):
    """A response header, whatever the case the server sent it in."""
    return {k.lower(): v for k, v in headers.items()}.get(name.lower())


class JsonRpc:
    """The web client's JSON-RPC, with a session cookie."""

    def __init__(self, base, db, login, password):
        self.base = base
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"db": db, "login": login, "password": password},
        }
        status, headers, raw = request(
            base,
            "POST",
            "/web/session/authenticate",
            json.dumps(body),
            {"Content-Type": "application/json"},
        )
        result = json.loads(raw)
        if status != 200 or "error" in result:
            raise RuntimeError(f"login failed for {login}: {raw[:300]!r}")
        self.session = (header(headers, "Set-Cookie") or "").split(";", 1)[0]
        self.uid = result["result"]["uid"]

    def call(self, model, method, *args, **kwargs):
        status, body = self.call_raw(model, method, list(args), kwargs)
        if status != 200 or "error" in body:
            raise RuntimeError(f"{model}.{method} failed: {json.dumps(body)[:500]}")
        return body["result"]

    def call_raw(self, model, method, args, kwargs):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "model": model,
                "method": method,
                "args": args,
                "kwargs": kwargs,
            },
        }
        status, _h, raw = request(
            self.base,
            "POST",
            f"/web/dataset/call_kw/{model}/{method}",
            json.dumps(payload),
            {"Content-Type": "application/json", "Cookie": self.session},
        )
        return status, json.loads(raw)


def token(base, client, secret, kind="opaque"):
    """An access token of the client app: ``opaque`` (OAuth 2.0) or ``jwt``."""
    if kind == "jwt":
        status, _h, raw = request(
            base,
            "POST",
            "/api/jwt/token",
            json.dumps({"client_id": client, "client_secret": secret}),
            {"Content-Type": "application/json"},
        )
    else:
        status, _h, raw = request(
            base,
            "POST",
            "/api/oauth2/token",
            urlencode({"client_id": client, "client_secret": secret}),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
    if status != 200:
        raise RuntimeError(f"token request failed: {status} {raw[:200]!r}")
    return json.loads(raw)["access_token"]


def bearer(value):
    """The ``Authorization`` header of a bearer token."""
    return {"Authorization": f"Bearer {value}"}


class Workload:
    """Run ``fn()`` from ``concurrency`` threads for ``duration`` seconds.

    ``fn`` returns the HTTP status. Bounded in time and in count.
    """

    def __init__(self, fn, concurrency, duration, max_requests=200000):
        self.fn, self.concurrency, self.duration = fn, concurrency, duration
        self.max_requests = max_requests
        self.latencies, self.statuses = [], {}
        self.elapsed = 0.0
        self.lock = threading.Lock()

    def run(self):
        stop_at = time.perf_counter() + self.duration
        count = [0]

        def worker():
            while time.perf_counter() < stop_at:
                with self.lock:
                    if count[0] >= self.max_requests:
                        return
                    count[0] += 1
                start = time.perf_counter()
                try:
                    status = self.fn()
                except Exception as error:  # noqa: BLE001 - a failed request is a result
                    status = f"exc:{type(error).__name__}"
                elapsed = time.perf_counter() - start
                with self.lock:
                    self.latencies.append(elapsed)
                    self.statuses[status] = self.statuses.get(status, 0) + 1

        started = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(self.concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.elapsed = time.perf_counter() - started
        return self

    @classmethod
    def merged(cls, works):
        """One workload of the parts ``works`` (latencies, statuses, time)."""
        merged = cls(None, 0, 0)
        for work in works:
            merged.latencies += work.latencies
            for key, value in work.statuses.items():
                merged.statuses[key] = merged.statuses.get(key, 0) + value
            merged.elapsed += work.elapsed
        return merged

    @property
    def rps(self):
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, q):
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return (
            ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000.0
        )
