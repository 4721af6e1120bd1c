"""Worker memory (the ``memory`` section): VmRSS of each HTTP worker after a
warm-up, after 60 s of load, and every few minutes of ``--memory-minutes``
of random bad tokens, random ids, new tokens used once and random search
domains, on a server of its own whose workers are not recycled."""

import itertools
import json
import random
import string
import time
from urllib.parse import quote

from .common import JsonRpc, Workload, bearer, log, request, token
from .fixtures import cleanup, seeded_rest_ids
from .hostile import random_token
from .realistic import PATH as REAL_PATH
from .servers import OdooServer, rss_kib

PATH = "/api/bench/partners"


class Mix:
    """The request mixes of the run: ``legit`` ones and ``hostile`` ones."""

    def __init__(self, ctx, base):
        cfg = ctx.cfg
        self.base, self.cfg = base, cfg
        self.user = JsonRpc(base, ctx.args.db, cfg["login"], cfg["password"])
        self.auth = bearer(token(base, cfg["client"], cfg["secret"], "jwt"))
        self.json = {**self.auth, "Content-Type": "application/json"}
        self.ids = seeded_rest_ids(base, self.auth, 500)
        self.plain = self.user.call(
            "res.partner", "search", [("name", "=like", "bench partner%")], limit=500
        )
        self.counter = itertools.count()
        self.legit = [self.search] * 3 + [self.read] * 3
        self.legit += [self.create, self.update, self.real, self.rpc_read]
        self.hostile = [self.bad_token] * 4 + [self.random_id] * 3
        self.hostile += [self.new_token] * 2 + [self.random_domain, self.random_int_id]

    def get(self, path, headers=None):
        return request(self.base, "GET", path, headers=headers or self.auth)[0]

    def search(self):
        return self.get(f"{PATH}?limit=80&fields=name,email,phone")

    def read(self):
        return self.get(f"{PATH}/{random.choice(self.ids)}")

    def create(self):
        body = json.dumps({"name": f"bench new mem {next(self.counter)}"})
        return request(self.base, "POST", PATH, body, self.json)[0]

    def update(self):
        body = json.dumps({"phone": f"+1 {next(self.counter)}"})
        path = f"{PATH}/{random.choice(self.ids)}"
        return request(self.base, "PATCH", path, body, self.json)[0]

    def real(self):
        return self.get(f"{REAL_PATH}?limit=80&count=none")

    def rpc_read(self):
        record = random.choice(self.plain)
        return self.user.call_raw("res.partner", "read", [[record]], {})[0]

    def bad_token(self):
        return self.get(f"{PATH}/{random.choice(self.ids)}", bearer(random_token()))

    def random_id(self):
        alphabet = string.ascii_letters + string.digits
        rid = "".join(random.choice(alphabet) for _ in range(random.randint(6, 12)))
        return self.get(f"{PATH}/{rid}")

    def random_int_id(self):
        record = random.randint(10**6, 10**9)
        return self.user.call_raw("res.partner", "read", [[record]], {})[0]

    def new_token(self):
        kind = random.choice(("opaque", "jwt"))
        fresh = token(self.base, self.cfg["client"], self.cfg["secret"], kind)
        return self.get(f"{PATH}/{random.choice(self.ids)}", bearer(fresh))

    def random_domain(self):
        prefix = "".join(random.choice(string.ascii_lowercase) for _ in range(5))
        domain = quote(f'[("name", "=like", "{prefix}%")]')
        return self.get(f"{PATH}?limit=10&domain={domain}")


def run(ctx):
    """The ``memory`` section.

    A server of its own, whose workers are not recycled during the run
    (``--limit-request`` high): recycled workers would hide a growth.
    """
    args = ctx.args
    minutes = args.memory_minutes
    log(f"memory: 60 s of load, then {minutes:g} min of random tokens and ids ...")
    server = OdooServer(
        ctx.command,
        args.db,
        ctx.addons,
        args.db_args,
        workers=args.workers,
        extra=("--load=base,web", "--limit-request=1000000000"),
    )
    try:
        sample(ctx, server, Mix(ctx, server.url), minutes)
    finally:
        server.stop()
    cleanup(ctx)


def sample(ctx, server, requests, minutes):
    """Load, then the hostile mix by steps; the workers' RSS after each."""
    concurrency = ctx.args.concurrency

    def mix(items, seconds):
        return Workload(lambda: random.choice(items)(), concurrency, seconds).run()

    mix(requests.legit, 10)
    before = server.workers()
    samples = [("after a 10 s warm-up", rss(before))]
    statuses = dict(mix(requests.legit, 60).statuses)
    samples.append(("after 60 s of load", rss(before)))
    end = time.time() + minutes * 60
    step = max(30.0, minutes * 60 / 5)
    while time.time() < end:
        work = mix(requests.hostile, min(step, end - time.time()))
        for key, value in work.statuses.items():
            statuses[key] = statuses.get(key, 0) + value
        elapsed = minutes * 60 - (end - time.time())
        samples.append((f"after {elapsed / 60:.1f} min of random ones", rss(before)))
    after = server.workers()
    if rss(after).keys() != rss(before).keys():
        ctx.bench.note(
            f"memory: the worker processes changed during the run ({sorted(before)} "
            f"-> {sorted(after)}): a recycled worker hides its growth"
        )
    table(ctx.bench, ctx.args, minutes, before, samples, statuses)


def table(bench, args, minutes, before, samples, statuses):
    """The RSS samples as a table, and the largest growth as a target line."""
    pids = sorted(pid for pid, kind in before.items() if kind == "worker")
    rows = [[label, *[mib(kib.get(pid)) for pid in pids]] for label, kib in samples]
    start, last = samples[1][1], samples[-1][1]
    growth = [
        last[pid] - start[pid] for pid in pids if last.get(pid) and start.get(pid)
    ]
    rows.append(
        [
            f"growth during the {minutes:g} min",
            *[
                f"{(last.get(p) or 0) / 1024 - (start.get(p) or 0) / 1024:+.1f}"
                for p in pids
            ],
        ]
    )
    bench.tables.append(
        (
            f"Worker memory (VmRSS, MiB), --workers={args.workers}, "
            f"concurrency {args.concurrency}",
            ["moment", *[f"worker {i + 1} (pid {pid})" for i, pid in enumerate(pids)]],
            rows,
        )
    )
    bench.note(
        "memory run statuses: "
        + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items(), key=str))
    )
    if growth:
        bench.info(
            f"worker RSS growth over {minutes:g} min of random tokens and ids "
            "(MiB, largest)",
            max(growth) / 1024,
            higher=False,
        )


def rss(workers):
    """``{pid: VmRSS KiB}`` of the HTTP workers among ``workers``."""
    return {pid: rss_kib(pid) for pid, kind in workers.items() if kind == "worker"}


def mib(kib):
    return f"{kib / 1024:.1f}" if kib else "-"
