"""The ``--db-filter`` trap, and the addon's server-wide database-list cache
that removes it (the ``dbfilter`` section): the same search on the run's
server (``-d``), on one with ``--db-filter``, and on one with
``--db-filter`` and the cache (an opt-in of the configuration file)."""

import contextlib
import os
import time

from .common import log, request
from .servers import OdooServer

PATH = "/api/bench/partners?limit=80&fields=name,email,phone"
ONLY_D = "REST search, -d only"
FILTERED = "REST search, --db-filter"
AGAIN = "REST search, --db-filter (again)"
CACHED = "REST search, --db-filter + --load=...,secure_api"


def cache_config():
    """A configuration file that turns the database-list cache on."""
    conf = f"/tmp/secure_api_bench_dblist_{os.getpid()}.conf"
    with open(conf, "w") as handle:
        handle.write("[options]\nsecure_api_dblist_ttl = 5\n")
    return conf


def run(ctx):
    """The ``dbfilter`` section; its two servers stop at its end."""
    log("--db-filter ...")
    args = ctx.args
    conf = cache_config()
    with contextlib.ExitStack() as servers:

        def start(extra):
            server = OdooServer(
                ctx.command,
                args.db,
                ctx.addons,
                args.db_args,
                workers=args.workers,
                dbfilter=f"^{args.db}$",
                extra=extra,
            )
            servers.callback(server.stop)
            return server

        filtered = start(("--load=base,web",))
        cached = start((f"--config={conf}", "--load=base,web,secure_api"))
        servers.callback(os.unlink, conf)
        # Let the new workers load their registries before anything is measured.
        for server in (ctx.server, filtered, cached):
            server.warm()
        time.sleep(3)
        measure(ctx, filtered, cached)


def measure(ctx, filtered, cached):
    bench = ctx.bench
    auth = ctx.auth("jwt")

    def search(server):
        return lambda: request(server.url, "GET", PATH, headers=auth)[0]

    bench.pair(ONLY_D, search(ctx.server), FILTERED, search(filtered))
    bench.pair(AGAIN, search(filtered), CACHED, search(cached))
    bench.target(
        "--db-filter with the server-wide cache vs without (ratio)",
        CACHED,
        AGAIN,
        "info",
        None,
    )
    bench.target(
        "--db-filter vs -d only (ratio, information)", FILTERED, ONLY_D, "info", None
    )
