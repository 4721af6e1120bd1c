"""What the traffic policy costs (the ``traffic`` section): a read by id
from a client app with a rate limit and both quotas set (never reached:
each request takes three counters), against the same read from the same
kind of app without."""

import itertools
import threading

from .common import bearer, log, request, token
from .fixtures import client_app, seeded_rest_ids

CLIENT = "bench limited"
LIMITED = "REST read by id, rate limit and quotas set (opaque)"
FREE = "REST read by id, no limit (opaque)"


def limited_client(ctx):
    """The client app with a rate limit and quotas, allowed on the simple
    API: its ``Authorization`` header (an opaque token)."""
    owner = ctx.admin.call(
        "secure.api.client", "read", [ctx.cfg["client_db_id"]], ["user_id"]
    )[0]["user_id"][0]
    app_id, client, secret = client_app(
        ctx.admin,
        CLIENT,
        {
            "user_id": owner,
            "token_lifetime": 3600,
            "scope_read": True,
            "rate_limit": 10**9,
            "rate_window": 60,
            "quota_daily": 10**9,
            "quota_monthly": 10**9,
        },
    )
    ctx.admin.call(
        "secure.api", "write", [ctx.cfg["api"]], {"client_ids": [(4, app_id)]}
    )
    return bearer(token(ctx.base, client, secret))


def run(ctx):
    """The ``traffic`` section."""
    limited = limited_client(ctx)
    free = ctx.auth("opaque")
    ids = itertools.cycle(seeded_rest_ids(ctx.base, free, 200))
    lock = threading.Lock()

    def read(headers):
        with lock:
            record_id = next(ids)
        path = f"/api/bench/partners/{record_id}"
        return request(ctx.base, "GET", path, headers=headers)[0]

    log("traffic policy ...")
    ctx.bench.pair(LIMITED, lambda: read(limited), FREE, lambda: read(free))
