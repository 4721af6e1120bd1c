#!/usr/bin/env python3
"""Load test: a bounded mixed workload on loopback, then an audit.

Starts Odoo with ``--workers`` (2) on loopback, configures a fresh API for
this run, and runs ``--duration`` (60) seconds of token issuance, searches,
reads, creates, bulk creates, updates and deliberate bad requests at
``--concurrency`` (8). Then it checks, and fails loudly unless:

- no response was a 5xx (serialization failures included);
- the records created equal the 201 answers (bulk items included);
- the statistics, after a flush, equal the API requests sent.

    python3 tools/loadtest.py --odoo-bin odoo-bin --db secure_api_bench
"""

import argparse
import getpass
import itertools
import json
import random
import subprocess
import sys
import threading
import time
import uuid
from urllib.parse import quote, urlencode

from bench.common import JsonRpc, Workload, log, request, token
from bench.fixtures import configure
from bench.servers import OdooServer, addons_path, ensure_database, odoo_command


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--odoo-bin", default="odoo-bin")
    parser.add_argument("--odoo-python")
    parser.add_argument("--addons-path")
    parser.add_argument("--db", default="secure_api_bench")
    parser.add_argument("--db-host", default="127.0.0.1")
    parser.add_argument("--db-port", default="5432")
    parser.add_argument("--db-user")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=10000)
    parser.add_argument("--admin-password", default="admin")
    parser.add_argument("--stats-interval", type=float, default=5.0)
    args = parser.parse_args()

    command, root = odoo_command(args.odoo_bin, args.odoo_python)
    addons = addons_path(root, args.addons_path)
    db_args = [
        f"--db_host={args.db_host}",
        f"--db_port={args.db_port}",
        f"--db_user={args.db_user or getpass.getuser()}",
    ]
    ensure_database(command, args.db, addons, db_args)
    conf = f"/tmp/secure_api_load_{uuid.uuid4().hex[:6]}.conf"
    with open(conf, "w") as handle:
        handle.write(f"[options]\nsecure_api_stats_interval = {args.stats_interval}\n")
    server = OdooServer(
        command,
        args.db,
        addons,
        db_args,
        workers=args.workers,
        extra=(f"--config={conf}", "--load=base,web"),
    )
    try:
        return run(server, args)
    finally:
        server.stop()
        subprocess.run(["rm", "-f", conf], check=False)


def run(server, args):
    base = server.url
    admin = JsonRpc(base, args.db, "admin", args.admin_password)
    cfg = configure(admin, seed=args.seed)
    tag = uuid.uuid4().hex[:8]
    route = f"load/{tag}"
    copied = admin.call(
        "secure.api", "copy", cfg["api"], {"route": route, "name": f"Load {tag}"}
    )
    api_id = copied[0] if isinstance(copied, list) else copied
    admin.call(
        "secure.api",
        "write",
        [api_id],
        {"client_ids": [(6, 0, [cfg["client_db_id"]])], "statistics_enabled": True},
    )
    admin.call("secure.api", "action_publish", [api_id])
    jwt = token(base, cfg["client"], cfg["secret"], "jwt")
    auth = {"Authorization": f"Bearer {jwt}"}
    json_headers = {**auth, "Content-Type": "application/json"}
    lock = threading.Lock()
    tally = {"api": 0, "api_errors": 0, "created": 0, "5xx": 0, "kinds": {}}
    counter = itertools.count()
    form = urlencode({"client_id": cfg["client"], "client_secret": cfg["secret"]})

    def api_call(kind, method, path, body=None, headers=auth, expect=(200,)):
        status, _h, raw = request(base, method, path, body, headers)
        with lock:
            tally["api"] += 1
            tally["api_errors"] += status >= 400
            key = f"{kind} {status}"
            tally["kinds"][key] = tally["kinds"].get(key, 0) + 1
            if status >= 500:
                tally["5xx"] += 1
        if status not in expect:
            log(f"unexpected {kind}: {status} {raw[:200]!r}")
        return status, raw

    # Seeded partners only: the bench user may not edit users' partners.
    seeded = quote('[("name", "=like", "bench partner%")]')
    _status, raw = api_call(
        "setup search",
        "GET",
        f"/api/{route}?limit=200&order=id&fields=name&domain={seeded}",
    )
    ids = [r["id"] for r in json.loads(raw)["result"]["records"]]

    def create_one():
        status, raw = api_call(
            "create",
            "POST",
            f"/api/{route}",
            json.dumps({"name": f"load {tag} {next(counter)}"}),
            json_headers,
            (201,),
        )
        if status == 201:
            with lock:
                tally["created"] += 1
        return status

    def create_bulk():
        items = [{"name": f"load {tag} {next(counter)}"} for _ in range(5)]
        status, raw = api_call(
            "bulk", "POST", f"/api/{route}", json.dumps(items), json_headers, (201,)
        )
        if status == 201:
            with lock:
                tally["created"] += len(json.loads(raw)["result"])
        return status

    def issue_token():
        status, _h, _raw = request(
            base,
            "POST",
            "/api/oauth2/token",
            form,
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        with lock:
            tally["kinds"][f"token {status}"] = (
                tally["kinds"].get(f"token {status}", 0) + 1
            )
            tally["5xx"] += status >= 500
        return status

    bad = [
        lambda: api_call(
            "bad domain", "GET", f"/api/{route}?domain=__import__('os')", expect=(400,)
        )[0],
        lambda: api_call(
            "bad token",
            "GET",
            f"/api/{route}",
            headers={"Authorization": "Bearer nope"},
            expect=(401,),
        )[0],
        lambda: api_call(
            "unknown id", "GET", f"/api/{route}/zzzzzzzzzz", expect=(404,)
        )[0],
        lambda: api_call(
            "bad body",
            "POST",
            f"/api/{route}",
            json.dumps({"nope": 1}),
            json_headers,
            (400,),
        )[0],
        lambda: api_call(
            "bulk item 2 bad",
            "POST",
            f"/api/{route}",
            json.dumps([{"name": "ok"}, {"name": "ok"}, {"email": 5}]),
            json_headers,
            (400,),
        )[0],
    ]
    mix = (
        [issue_token] * 10
        + [
            lambda: api_call(
                "search", "GET", f"/api/{route}?limit=20&fields=name,email"
            )[0]
        ]
        * 35
        + [lambda: api_call("read", "GET", f"/api/{route}/{random.choice(ids)}")[0]]
        * 20
        + [create_one] * 12
        + [create_bulk] * 3
        + [
            lambda: api_call(
                "update",
                "PATCH",
                f"/api/{route}/{random.choice(ids)}",
                json.dumps({"phone": str(next(counter))}),
                json_headers,
            )[0]
        ]
        * 10
        + bad * 2
    )
    log(f"running {args.duration:g} s at concurrency {args.concurrency} ...")
    work = Workload(lambda: random.choice(mix)(), args.concurrency, args.duration).run()
    log("waiting for the statistics flush ...")
    time.sleep(args.stats_interval * 3)
    created = admin.call(
        "res.partner", "search_count", [("name", "=like", f"load {tag} %")]
    )
    stats = admin.call(
        "secure.api.statistic",
        "read_group",
        [("api_id", "=", api_id)],
        ["calls:sum", "errors:sum"],
        [],
    )
    calls = stats[0]["calls"] if stats else 0
    errors = stats[0]["errors"] if stats else 0
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"\n### secure_api load test, {when}\n")
    p50, p95, p99 = (work.percentile(q) for q in (0.5, 0.95, 0.99))
    print(
        f"{args.duration:g} s, concurrency {args.concurrency}, "
        f"--workers={args.workers}, loopback; {len(work.latencies)} requests, "
        f"{work.rps:.1f} req/s, p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms.\n"
    )
    print("| request and status | count |\n|---|---:|")
    for key in sorted(tally["kinds"]):
        print(f"| {key} | {tally['kinds'][key]} |")
    checks = [
        ("5xx responses", tally["5xx"], 0),
        ("records created vs items answered 201", created, tally["created"]),
        ("statistics calls vs API requests sent", calls, tally["api"]),
        ("statistics errors vs API 4xx/5xx answers", errors, tally["api_errors"]),
    ]
    print("\n| check | measured | expected | result |\n|---|---:|---:|---|")
    failed = 0
    for label, measured, expected in checks:
        ok = measured == expected
        failed += not ok
        print(f"| {label} | {measured} | {expected} | {'ok' if ok else 'FAILED'} |")
    print(f"\nload test: {len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
