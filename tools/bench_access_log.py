#!/usr/bin/env python3
"""Time the audit question on a large access log.

Seeds ``--rows`` access-log rows (default 1,000,000) into a database that
has secure_api installed, with SQL ``generate_series``: searches of 80 ids
and reads, updates and deletes of one, over ``--ids`` record ids, spread
over 30 days. Then, through a real Odoo server and JSON-RPC, as the web
client's log list asks it, it times "which requests read or changed record
R of model M": ``web_search_read`` of the first 80 rows with their count,
for records touched often and rarely, and prints the plan of the SQL.

    python3 tools/bench_access_log.py --odoo-bin odoo-bin --db secure_api_bench

Not a test; the rows stay (``--drop`` removes them at the end).
"""

import argparse
import getpass
import statistics
import subprocess
import sys
import time

from bench.common import JsonRpc, log
from bench.servers import OdooServer, addons_path, ensure_database, odoo_command

SEED_SQL = """
INSERT INTO secure_api_log
    (timestamp, api_id, app_id, user_id, address, method, path, operation,
     status, duration_ms, request_id, model, record_ids, record_count, test_mode)
SELECT now() AT TIME ZONE 'UTC' - (n % 2592000) * interval '1 second',
       {api}, {app}, {user}, '127.0.0.1',
       CASE WHEN n % 4 = 0 THEN 'GET' WHEN n % 4 = 1 THEN 'GET'
            WHEN n % 4 = 2 THEN 'PATCH' ELSE 'DELETE' END,
       '/api/bench/partners/' || n,
       CASE WHEN n % 4 = 0 THEN 'search' WHEN n % 4 = 1 THEN 'read'
            WHEN n % 4 = 2 THEN 'update' ELSE 'delete' END,
       CASE WHEN n % 50 = 0 THEN 404 ELSE 200 END,
       5 + n % 20, md5(n::text), 'res.partner',
       CASE WHEN n % 4 = 0
            THEN ARRAY(SELECT (1 + (n * 7919 + k * 104729) % {ids})::int4
                         FROM generate_series(1, 80) k)
            ELSE ARRAY[(1 + (n * 7919) % {ids})::int4] END,
       CASE WHEN n % 4 = 0 THEN 80 ELSE 1 END,
       false
  FROM generate_series({start}::bigint, {stop}) n
"""


def psql(db_args, db, sql, capture=True):
    mapping = {"--db_host": "-h", "--db_port": "-p", "--db_user": "-U"}
    args = ["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d", db]
    for arg in db_args:
        key, _sep, value = arg.partition("=")
        if key in mapping:
            args += [mapping[key], value]
    done = subprocess.run(
        [*args, "-c", sql], capture_output=capture, text=True, check=True
    )
    return (done.stdout or "").strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--odoo-bin", default="odoo-bin")
    parser.add_argument("--odoo-python")
    parser.add_argument("--db", default="secure_api_bench")
    parser.add_argument("--db-host", default="127.0.0.1")
    parser.add_argument("--db-port", default="5432")
    parser.add_argument("--db-user", default=getpass.getuser())
    parser.add_argument("--admin-password", default="admin")
    parser.add_argument("--rows", type=int, default=1000000)
    parser.add_argument("--ids", type=int, default=200000, help="distinct record ids")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--drop", action="store_true", help="delete the rows at the end"
    )
    args = parser.parse_args()
    db_args = [
        f"--db_host={args.db_host}",
        f"--db_port={args.db_port}",
        f"--db_user={args.db_user}",
    ]
    command, root = odoo_command(args.odoo_bin, args.odoo_python)
    addons = addons_path(root)
    ensure_database(command, args.db, addons, db_args)
    api, app, user = psql(
        db_args,
        args.db,
        "SELECT (SELECT min(id) FROM secure_api), (SELECT min(id) FROM"
        " secure_api_client), (SELECT min(id) FROM res_users)",
    ).split("|")
    present = int(psql(db_args, args.db, "SELECT count(*) FROM secure_api_log"))
    if present < args.rows:
        log(f"seeding {args.rows - present} rows ...")
        started = time.time()
        chunk = 250000
        for start in range(present + 1, args.rows + 1, chunk):
            stop = min(start + chunk - 1, args.rows)
            psql(
                db_args,
                args.db,
                SEED_SQL.format(
                    api=api or "NULL",
                    app=app or "NULL",
                    user=user or "NULL",
                    ids=args.ids,
                    start=start,
                    stop=stop,
                ),
            )
        psql(db_args, args.db, "VACUUM ANALYZE secure_api_log")
        log(f"seeded in {time.time() - started:.0f} s")
    size = psql(
        db_args,
        args.db,
        "SELECT pg_size_pretty(pg_total_relation_size('secure_api_log')),"
        " pg_size_pretty(pg_relation_size('secure_api_log_record_ids_idx'))",
    )
    counts = psql(
        db_args,
        args.db,
        "SELECT count(*) FROM secure_api_log",
    )
    # A record touched often (by many searches) and one touched rarely.
    often = psql(
        db_args,
        args.db,
        "SELECT r FROM (SELECT unnest(record_ids) r FROM secure_api_log"
        " TABLESAMPLE SYSTEM (1)) s GROUP BY r ORDER BY count(*) DESC LIMIT 1",
    )
    rare = str(args.ids + 7)  # never touched
    server = OdooServer(
        command, args.db, addons, db_args, workers=1, extra=("--load=base,web",)
    )
    results = []
    try:
        admin = JsonRpc(server.url, args.db, "admin", args.admin_password)
        for label, record in (("often", often), ("never", rare)):
            domain = [("model", "=", "res.partner"), ("record_ids", "=", int(record))]
            spec = {
                name: {}
                for name in ("timestamp", "api_id", "app_id", "user_id", "status")
            }
            spec["api_id"] = spec["app_id"] = spec["user_id"] = {
                "fields": {"display_name": {}}
            }
            timings, found = [], None
            for _i in range(args.repeat + 2):
                started = time.perf_counter()
                found = admin.call(
                    "secure.api.log",
                    "web_search_read",
                    domain=domain,
                    specification=spec,
                    limit=80,
                )
                timings.append((time.perf_counter() - started) * 1000)
            timings = timings[2:]
            results.append((label, record, found["length"], statistics.median(timings)))
        # What the ORM runs on every series (see compat.id_in_subquery),
        # and, for comparison, the same condition inline, left to the planner.
        plans = [
            psql(
                db_args,
                args.db,
                "EXPLAIN (ANALYZE, TIMING ON) SELECT id FROM secure_api_log"
                f" WHERE {condition}"
                " ORDER BY timestamp DESC, id DESC LIMIT 80",
            )
            for condition in (
                "id = ANY(ARRAY(SELECT id FROM secure_api_log WHERE model ="
                f" 'res.partner' AND record_ids @> ARRAY[{int(often)}]::int4[]))",
                "model = 'res.partner' AND record_ids @> ARRAY[%d]" % int(often),
            )
        ]
    finally:
        server.stop()
    print(
        f"\n### access log audit search, {counts} rows (table+indexes, GIN): {size}\n"
    )
    print("| record | id | matching rows | web_search_read 80 + count, median ms |")
    print("|---|---:|---:|---:|")
    for label, record, length, median in results:
        print(f"| touched {label} | {record} | {length} | {median:.1f} |")
    titles = ("the ORM's query", "inline, for comparison (not used)")
    for title, plan in zip(titles, plans, strict=True):
        print(f"\nPlan of the search of the touched-often record ({title}):\n")
        print("\n".join("    " + line for line in plan.splitlines()))
    if args.drop:
        psql(db_args, args.db, "TRUNCATE secure_api_log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
