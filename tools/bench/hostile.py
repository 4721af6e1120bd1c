"""Hostile clients (the ``hostile`` section): a legitimate client's reads
by id while another client app loops "token, revoke" against "token,
introspect", and while it sends random bad tokens against one fixed bad
token (one thread each)."""

import random
import secrets
import threading
from urllib.parse import urlencode

from .common import bearer, log, request, token
from .fixtures import client_app, seeded_rest_ids

CLIENT = "bench hostile client"
GOAL = 0.90
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
REVOKE = "REST read by id (opaque), other client: token + revoke"
INTROSPECT = "REST read by id (opaque), other client: token + introspect"
RANDOM = "REST read by id (opaque), other client: random bad tokens"
FIXED = "REST read by id (opaque), other client: one fixed bad token"


def random_token():
    """A bad bearer token: opaque-shaped, or JWT-shaped one time in four."""
    if random.random() < 0.25:
        return ".".join(secrets.token_urlsafe(n) for n in (27, 60, 32))
    return secrets.token_urlsafe(32)


class Hostile:
    """The other client app, its request loops and what they were answered."""

    def __init__(self, ctx, ids):
        self.base, self.ids = ctx.base, ids
        _app, self.client, self.secret = client_app(
            ctx.admin,
            CLIENT,
            {
                "user_id": ctx.cfg["user_id"],
                "token_lifetime": 3600,
                "scope_read": True,
                "scope_search": True,
            },
        )
        self.counts = {}
        self.lock = threading.Lock()

    def counted(self, kind, status):
        with self.lock:
            self.counts[(kind, status)] = self.counts.get((kind, status), 0) + 1

    def token_then(self, action):
        """A loop body: a new token, then ``revoke`` or ``introspect`` it."""
        creds = {"client_id": self.client, "client_secret": self.secret}

        def loop():
            issued = token(self.base, self.client, self.secret, "opaque")
            body = urlencode({**creds, "token": issued})
            status = request(self.base, "POST", f"/api/oauth2/{action}", body, FORM)
            self.counted(action, status[0])

        return loop

    def bad_token(self, kind, value):
        """A loop body: a read by id with the bad token ``value()``."""

        def loop():
            path = f"/api/bench/partners/{random.choice(self.ids)}"
            status = request(self.base, "GET", path, headers=bearer(value()))[0]
            self.counted(kind, status)

        return loop

    def summary(self):
        return ", ".join(f"{k} {s}: {n}" for (k, s), n in sorted(self.counts.items()))


def run(ctx):
    """The ``hostile`` section."""
    log("hostile clients ...")
    bench, base = ctx.bench, ctx.base
    auth = ctx.auth("opaque")
    ids = seeded_rest_ids(base, auth, 200)
    hostile = Hostile(ctx, ids)
    fixed = secrets.token_urlsafe(32)

    def legit():
        path = f"/api/bench/partners/{random.choice(ids)}"
        return request(base, "GET", path, headers=auth)[0]

    bench.pair(
        REVOKE,
        legit,
        INTROSPECT,
        legit,
        background={
            REVOKE: hostile.token_then("revoke"),
            INTROSPECT: hostile.token_then("introspect"),
        },
    )
    bench.pair(
        RANDOM,
        legit,
        FIXED,
        legit,
        background={
            RANDOM: hostile.bad_token("random bad token", random_token),
            FIXED: hostile.bad_token("fixed bad token", lambda: fixed),
        },
    )
    bench.note(f"hostile requests sent: {hostile.summary()}")
    bench.target(
        "read while token+revoke vs token+introspect",
        REVOKE,
        INTROSPECT,
        ">= 0.90",
        GOAL,
    )
    bench.target(
        "read while random bad tokens vs one fixed", RANDOM, FIXED, ">= 0.90", GOAL
    )
