#!/usr/bin/env python3
"""Benchmark secure_api against Odoo's own JSON-RPC on the same server.

Not a test: it starts real Odoo servers on loopback (``--workers``), seeds
10,000 partners when missing, configures an API and a client app through
JSON-RPC, then measures requests per second and latency percentiles of the
same work through both ways, in one run, and prints ratios and targets.

    python3 tools/benchmark.py --odoo-bin odoo-bin --db secure_api_bench

Every workload is bounded in time (``--duration`` seconds) and in count.
"""

import argparse
import itertools
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from urllib.parse import quote, urlencode

from bench_common import (
    JsonRpc,
    OdooServer,
    Workload,
    addons_path,
    configure,
    log,
    odoo_command,
    request,
    token,
)

FIELDS = ["name", "email", "phone"]


def ensure_database(command, db, addons, db_args):
    exists = subprocess.run(
        [
            "psql",
            *psql_args(db_args),
            "-d",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname='{db}'",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    modules = "base,web,secure_api"
    args = [
        *command,
        *db_args,
        f"--addons-path={addons}",
        "-d",
        db,
        "--stop-after-init",
        "--log-level=warn",
        "--load=base,web",
    ]
    if exists:
        args += ["-u", "secure_api"]
    else:
        args += ["-i", modules, "--without-demo=all"]
    log(f"preparing database {db} ...")
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def psql_args(db_args):
    mapping = {"--db_host": "-h", "--db_port": "-p", "--db_user": "-U"}
    out = []
    for arg in db_args:
        key, _sep, value = arg.partition("=")
        if key in mapping:
            out += [mapping[key], value]
    return out


class Bench:
    def __init__(self, args):
        self.args = args
        self.rows = []
        self.results = {}

    def measure(self, name, fn, duration=None, concurrency=None):
        work = Workload(
            fn, concurrency or self.args.concurrency, duration or self.args.duration
        ).run()
        return self._record(name, work)

    def pair(self, name_a, fn_a, name_b, fn_b, rounds=4):
        """Alternate A and B ``rounds`` times each, to cancel the machine's drift.

        Each side gets ``--duration`` seconds in all, after a short warm-up.
        """
        for fn in (fn_a, fn_b):
            Workload(fn, self.args.concurrency, 0.5).run()
        part = self.args.duration / rounds
        parts = {name_a: [], name_b: []}
        for _round in range(rounds):
            for name, fn in ((name_a, fn_a), (name_b, fn_b)):
                parts[name].append(Workload(fn, self.args.concurrency, part).run())
        for name, works in parts.items():
            merged = Workload(None, 0, 0)
            merged.latencies = [x for w in works for x in w.latencies]
            merged.statuses = {}
            for w in works:
                for k, v in w.statuses.items():
                    merged.statuses[k] = merged.statuses.get(k, 0) + v
            merged.elapsed = sum(w.elapsed for w in works)
            self._record(name, merged)

    def _record(self, name, work):
        bad = {
            k: v
            for k, v in work.statuses.items()
            if not (isinstance(k, int) and k < 400)
        }
        self.results[name] = work
        p50, p95, p99 = (work.percentile(q) for q in (0.5, 0.95, 0.99))
        self.rows.append(
            (name, work.rps, p50, p95, p99, len(work.latencies), sum(bad.values()))
        )
        log(f"  {name}: {work.rps:.1f} req/s, p50 {p50:.1f} ms, errors {bad or 0}")
        return work

    def ratio(self, a, b):
        return self.results[a].rps / self.results[b].rps if self.results[b].rps else 0.0


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--odoo-bin", default="odoo-bin")
    parser.add_argument("--odoo-python")
    parser.add_argument("--addons-path", help="extra addons directories")
    parser.add_argument("--db", default="secure_api_bench")
    parser.add_argument("--db-host", default="127.0.0.1")
    parser.add_argument("--db-port", default="5432")
    parser.add_argument("--db-user")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--duration", type=float, default=8.0, help="seconds per workload"
    )
    parser.add_argument("--seed", type=int, default=10000)
    parser.add_argument("--admin-password", default="admin")
    parser.add_argument("--skip-dbfilter", action="store_true")
    args = parser.parse_args()

    command, root = odoo_command(args.odoo_bin, args.odoo_python)
    addons = addons_path(root, args.addons_path)
    import getpass

    args.db_args = db_args = [
        f"--db_host={args.db_host}",
        f"--db_port={args.db_port}",
        f"--db_user={args.db_user or getpass.getuser()}",
    ]
    ensure_database(command, args.db, addons, db_args)
    version = subprocess.run(
        [*command, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    found = re.search(r"(\d+)\.\d+", version)
    series = int(found.group(1)) if found else 0
    # 19.0 trees without the rpc addon cannot load the default server-wide
    # modules; --load=base,web works on every series.
    load = ("--load=base,web",)
    server = OdooServer(
        command, args.db, addons, db_args, workers=args.workers, extra=load
    )
    servers = [server]
    try:
        admin = JsonRpc(server.url, args.db, "admin", args.admin_password)
        log("configuring ...")
        cfg = configure(admin, seed=args.seed)
        bench = Bench(args)
        run(bench, server.url, args, cfg, admin)
        if not args.skip_dbfilter:
            dbfilter_run(bench, args, cfg, server, servers, command, addons, db_args)
        if series >= 19:
            json2_note(server.url)
        report(bench, args, version)
    finally:
        for item in servers:
            item.stop()


def json2_note(base):
    """Odoo 19's /json/2 needs the rpc addon; say whether this tree has it.

    Without it, Odoo answers the path with its HTML fallback (a 404 or a
    redirect to the login page), never with JSON.
    """
    _status, headers, _raw = request(
        base,
        "POST",
        "/json/2/res.partner/search_read",
        "{}",
        {"Content-Type": "application/json"},
    )
    content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    if "json" not in content_type:
        log("Odoo 19 /json/2 is not served here (no rpc addon): compared with call_kw.")
        print(
            "\nOdoo 19's /json/2 is not served by this Odoo tree (it lacks the rpc "
            "addon), so the comparison is with /web/dataset/call_kw."
        )


def dbfilter_run(bench, args, cfg, server, servers, command, addons, db_args):
    """The --db-filter trap, and the addon's server-wide cache that removes it."""
    dbfilter = f"^{args.db}$"
    filtered = OdooServer(
        command,
        args.db,
        addons,
        db_args,
        workers=args.workers,
        dbfilter=dbfilter,
        extra=("--load=base,web",),
    )
    servers.append(filtered)
    cached = OdooServer(
        command,
        args.db,
        addons,
        db_args,
        workers=args.workers,
        dbfilter=dbfilter,
        extra=("--load=base,web,secure_api",),
    )
    servers.append(cached)
    # Let the new workers load their registries before anything is measured.
    for item in (server, filtered, cached):
        for _attempt in range(20):
            request(item.url, "GET", "/web/login")
    time.sleep(3)
    jwt = token(filtered.url, cfg["client"], cfg["secret"], "jwt")
    auth = {"Authorization": f"Bearer {jwt}"}
    path = "/api/bench/partners?limit=80&fields=name,email,phone"
    bench.pair(
        "REST search, -d only",
        lambda: request(server.url, "GET", path, headers=auth)[0],
        "REST search, --db-filter",
        lambda: request(filtered.url, "GET", path, headers=auth)[0],
    )
    bench.pair(
        "REST search, --db-filter (again)",
        lambda: request(filtered.url, "GET", path, headers=auth)[0],
        "REST search, --db-filter + --load=...,secure_api",
        lambda: request(cached.url, "GET", path, headers=auth)[0],
    )


def cleanup(admin, args):
    """Delete what the write workloads created, so later pairs see 10k rows."""
    log("cleaning up the records the writes created ...")
    for pattern in ("bench new %", "bench bulk %", "bench doomed %"):
        ids = admin.call("res.partner", "search", [("name", "=like", pattern)])
        for start in range(0, len(ids), 2000):
            admin.call("res.partner", "unlink", ids[start : start + 2000])
    psql = [
        "psql",
        *psql_args(args.db_args),
        "-d",
        args.db,
        "-qc",
        "VACUUM ANALYZE res_partner",
    ]
    subprocess.run(psql, check=False, capture_output=True)


def run(bench, base, args, cfg, admin):
    jwt = token(base, cfg["client"], cfg["secret"], "jwt")
    opaque = token(base, cfg["client"], cfg["secret"], "opaque")
    user = JsonRpc(base, args.db, cfg["login"], cfg["password"])
    auth = {"Authorization": f"Bearer {jwt}"}
    json_headers = {**auth, "Content-Type": "application/json"}
    list_path = "/api/bench/partners?limit=80&order=id&fields=name,email,phone"
    # The same 200 seeded partners on both sides (not, say, users' partners,
    # which the bench user may not edit).
    seeded = quote('[("name", "=like", "bench partner%")]')
    status, _h, raw = request(
        base,
        "GET",
        f"/api/bench/partners?limit=200&order=id&fields=name&domain={seeded}",
        headers=auth,
    )
    rest_ids = [r["id"] for r in json.loads(raw)["result"]["records"]]
    rpc_ids = user.call(
        "res.partner",
        "search",
        [("name", "=like", "bench partner%")],
        limit=200,
        order="id",
    )
    rest_cycle, rpc_cycle = itertools.cycle(rest_ids), itertools.cycle(rpc_ids)
    lock = threading.Lock()
    counter = itertools.count()

    def nxt(cycle):
        with lock:
            return next(cycle)

    def rpc(model, method, args_, kwargs):
        return user.call_raw(model, method, args_, kwargs)[0]

    log("search ...")
    bench.pair(
        "REST search 80x3, exact count (JWT)",
        lambda: request(base, "GET", list_path, headers=auth)[0],
        "call_kw web_search_read 80x3 (session)",
        lambda: rpc(
            "res.partner",
            "web_search_read",
            [],
            {
                "domain": [],
                "specification": {f: {} for f in FIELDS},
                "limit": 80,
                "order": "id",
            },
        ),
    )
    bench.pair(
        "REST search 80x3, count=none (JWT)",
        lambda: request(base, "GET", list_path + "&count=none", headers=auth)[0],
        "call_kw search_read 80x3 (session)",
        lambda: rpc(
            "res.partner",
            "search_read",
            [],
            {"domain": [], "fields": FIELDS, "limit": 80, "order": "id"},
        ),
    )
    bench.measure(
        "REST search 80, many2one with 2 related fields",
        lambda: request(
            base, "GET", "/api/bench/partners-rel?limit=80&order=id", headers=auth
        )[0],
    )
    log("read ...")
    bench.pair(
        "REST read by id",
        lambda: request(
            base, "GET", f"/api/bench/partners/{nxt(rest_cycle)}", headers=auth
        )[0],
        "call_kw read",
        lambda: rpc("res.partner", "read", [[nxt(rpc_cycle)], FIELDS], {}),
    )
    log("writes ...")
    bench.pair(
        "REST create",
        lambda: request(
            base,
            "POST",
            "/api/bench/partners",
            json.dumps(
                {"name": f"bench new {next(counter)}", "email": "n@bench.example.com"}
            ),
            json_headers,
        )[0],
        "call_kw create",
        lambda: rpc(
            "res.partner",
            "create",
            [{"name": f"bench new {next(counter)}", "email": "n@bench.example.com"}],
            {},
        ),
    )
    hundred = [
        {"name": f"bench bulk {i}", "email": "b@bench.example.com"} for i in range(100)
    ]
    bench.pair(
        "REST bulk create of 100",
        lambda: request(
            base, "POST", "/api/bench/partners", json.dumps(hundred), json_headers
        )[0],
        "call_kw create of 100 (values list)",
        lambda: rpc("res.partner", "create", [hundred], {}),
    )
    bench.pair(
        "REST update",
        lambda: request(
            base,
            "PATCH",
            f"/api/bench/partners/{nxt(rest_cycle)}",
            json.dumps({"phone": f"+1 {next(counter)}"}),
            json_headers,
        )[0],
        "call_kw write",
        lambda: rpc(
            "res.partner",
            "write",
            [[nxt(rpc_cycle)], {"phone": f"+1 {next(counter)}"}],
            {},
        ),
    )
    pool_status, _h, raw = request(
        base,
        "POST",
        "/api/bench/partners",
        json.dumps([{"name": f"bench doomed {i}"} for i in range(1000)]),
        json_headers,
    )
    doomed = [r["id"] for r in json.loads(raw)["result"]] if pool_status == 201 else []

    def delete_one():
        with lock:
            if not doomed:
                return 299  # pool exhausted: not an error, not counted as a delete
            rid = doomed.pop()
        return request(base, "DELETE", f"/api/bench/partners/{rid}", headers=auth)[0]

    bench.measure("REST delete", delete_one, duration=min(bench.args.duration, 4))
    cleanup(admin, args)
    log("tokens ...")
    form = urlencode({"client_id": cfg["client"], "client_secret": cfg["secret"]})
    bench.pair(
        "token: opaque (OAuth 2.0)",
        lambda: request(
            base,
            "POST",
            "/api/oauth2/token",
            form,
            {"Content-Type": "application/x-www-form-urlencoded"},
        )[0],
        "token: JWT",
        lambda: request(
            base,
            "POST",
            "/api/jwt/token",
            json.dumps({"client_id": cfg["client"], "client_secret": cfg["secret"]}),
            {"Content-Type": "application/json"},
        )[0],
    )
    log("authentication modes ...")
    session = {"Cookie": user.session}
    bench.pair(
        "REST search, JWT",
        lambda: request(base, "GET", list_path, headers=auth)[0],
        "REST search, session",
        lambda: request(base, "GET", list_path, headers=session)[0],
    )
    bench.pair(
        "REST search, opaque token",
        lambda: request(
            base, "GET", list_path, headers={"Authorization": f"Bearer {opaque}"}
        )[0],
        "REST search, session (again)",
        lambda: request(base, "GET", list_path, headers=session)[0],
    )
    log("statistics on/off ...")
    twin = list_path.replace("/api/bench/partners?", "/api/bench/partners-nostats?")
    bench.pair(
        "REST search, statistics on",
        lambda: request(base, "GET", list_path, headers=auth)[0],
        "REST search, statistics off",
        lambda: request(base, "GET", twin, headers=auth)[0],
    )


def report(bench, args, version):
    print(
        "\n### secure_api benchmark, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n"
    )
    print(
        f"{version}; {platform.python_implementation()} {platform.python_version()}; "
        f"{platform.machine()}, {os.cpu_count()} cores; "
        f"--workers={args.workers}, concurrency {args.concurrency}, "
        f"{args.duration:g} s per workload, {args.seed} partners, loopback.\n"
    )
    print("| work | req/s | p50 ms | p95 ms | p99 ms | requests | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, rps, p50, p95, p99, count, errors in bench.rows:
        print(
            f"| {name} | {rps:.1f} | {p50:.1f} | {p95:.1f} | {p99:.1f} "
            f"| {count} | {errors} |"
        )
    r = bench.results

    def cost(a, b):
        return (1 - r[a].rps / r[b].rps) * 100 if r[b].rps else 0.0

    stats_off = r["REST search, statistics off"].rps
    stats_on = r["REST search, statistics on"].rps
    targets = [
        (
            "REST search, exact count vs web_search_read",
            bench.ratio(
                "REST search 80x3, exact count (JWT)",
                "call_kw web_search_read 80x3 (session)",
            ),
            ">= 1.30",
            1.30,
            True,
        ),
        (
            "REST search, count=none vs search_read",
            bench.ratio(
                "REST search 80x3, count=none (JWT)",
                "call_kw search_read 80x3 (session)",
            ),
            ">= 1.00",
            1.0,
            True,
        ),
        (
            "read by id vs call_kw read",
            bench.ratio("REST read by id", "call_kw read"),
            ">= 1.00",
            1.0,
            True,
        ),
        (
            "bulk create of 100 vs create of 100",
            bench.ratio(
                "REST bulk create of 100", "call_kw create of 100 (values list)"
            ),
            ">= 1.00",
            1.0,
            True,
        ),
        (
            "JWT cost vs session (%)",
            cost("REST search, JWT", "REST search, session"),
            "<= 5 %",
            5.0,
            False,
        ),
        (
            "opaque cost vs session (%)",
            cost("REST search, opaque token", "REST search, session (again)"),
            "<= 5 %",
            5.0,
            False,
        ),
        (
            "statistics on cost vs off (%)",
            (1 - stats_on / stats_off) * 100 if stats_off else 0.0,
            "<= 3 %",
            3.0,
            False,
        ),
    ]
    if "REST search, --db-filter + --load=...,secure_api" in r:
        targets.append(
            (
                "--db-filter with the server-wide cache vs without (ratio)",
                bench.ratio(
                    "REST search, --db-filter + --load=...,secure_api",
                    "REST search, --db-filter (again)",
                ),
                "info",
                None,
                True,
            )
        )
    if "REST search, --db-filter" in r:
        targets.append(
            (
                "--db-filter vs -d only (ratio, information)",
                bench.ratio("REST search, --db-filter", "REST search, -d only"),
                "info",
                None,
                True,
            )
        )
    print("\n| target | measured | goal | result |")
    print("|---|---:|---|---|")
    missed = 0
    for label, value, goal, bound, higher in targets:
        if bound is None:
            verdict = "-"
        else:
            ok = value >= bound if higher else value <= bound
            verdict = "met" if ok else "MISSED"
            missed += not ok
        print(f"| {label} | {value:.2f} | {goal} | {verdict} |")
    errors = sum(row[6] for row in bench.rows)
    print(f"\n{missed} target(s) missed; {errors} error response(s) in all workloads.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
