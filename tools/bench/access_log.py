"""What the access log costs (the ``log`` section): the same read by id and
search of 80 with the API's ``log_level`` at ``all`` and at ``none``. Rows
are buffered per worker and flushed by a thread every 2 s (one multi-row
INSERT). The audit search over a million rows is tools/bench_access_log.py."""

import itertools
import threading

from .common import log, request
from .fixtures import seeded_rest_ids
from .servers import psql

SEARCH = "/api/bench/partners?limit=80&order=id&fields=name,email,phone"


def run(ctx):
    """The ``log`` section."""
    auth = ctx.auth("opaque")
    ids = itertools.cycle(seeded_rest_ids(ctx.base, auth, 200))
    lock = threading.Lock()
    level = {"current": None}

    def switch(name):
        wanted = "all" if name.endswith("log all") else "none"
        if level["current"] == wanted:
            return False
        ctx.admin.call("secure.api", "write", [ctx.cfg["api"]], {"log_level": wanted})
        level["current"] = wanted
        return True

    def read():
        with lock:
            record_id = next(ids)
        path = f"/api/bench/partners/{record_id}"
        return request(ctx.base, "GET", path, headers=auth)[0]

    def search():
        return request(ctx.base, "GET", SEARCH, headers=auth)[0]

    log("access log ...")
    for label, fn in (("read by id", read), ("search 80", search)):
        on, off = f"REST {label}, log all", f"REST {label}, log none"
        ctx.bench.pair(on, fn, off, fn, switch=switch)
        ctx.bench.target(
            f"access log all cost vs none, {label} (%)",
            on,
            off,
            "<= 5 %",
            5.0,
            higher=False,
        )
    switch("none")
    counted = psql(ctx.args.db_args, ctx.args.db, "SELECT count(*) FROM secure_api_log")
    ctx.bench.note(f"access log: {counted} rows written by the log-all sides")
    psql(ctx.args.db_args, ctx.args.db, "TRUNCATE secure_api_log")
