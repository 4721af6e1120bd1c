"""The scale run (``benchmark.py --scale N``, a database of its own, --db):
the realistic API over large tables.

It seeds partners with SQL (``INSERT ... SELECT generate_series``, then
``ANALYZE``) up to each table size (10,000, 100,000 and N by default), and
measures, one request at a time:

- search pages of 10, 80 and 500 records with the two related fields, and
  the SQL queries per request (from the werkzeug log line of each request,
  which Odoo ends with its query count and SQL time);
- ``count=exact`` against ``count=estimated``;
- the page at 90 % of the table by offset against the cursor of the same
  position;
- bulk create of 1,000 (REST and call_kw).

``scale_report`` prints the table and draws the plot.
"""

import itertools
import json
import os
import platform
import re
import time
from urllib.parse import quote

from . import realistic, scale_report
from .common import JsonRpc, bearer, log, request, token
from .fixtures import configure
from .servers import (
    OdooServer,
    addons_path,
    drop_database,
    ensure_database,
    odoo_version,
    psql,
)

PAGES = scale_report.PAGES
PATH = realistic.PATH
SCALE_PREFIX = "scale partner"
# The werkzeug access line: "METHOD path HTTP/x" status size, then Odoo's
# query count, SQL time and the rest of the request's time.
ACCESS = re.compile(
    r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d+) \S+ '
    r"(?P<queries>\d+) (?P<sql>[\d.]+) (?P<other>[\d.]+)"
)
SEED_SQL = """
INSERT INTO res_partner (
    id, name, complete_name, email, phone, city, country_id,
    commercial_partner_id, type, active, is_company, employee,
    partner_share, lang, color, create_uid, write_uid, create_date,
    write_date)
SELECT n.id, n.label, n.label, 'p' || n.g || '@scale.example.com',
       '+32 2 ' || lpad(n.g::text, 7, '0'), 'City ' || (n.g % 1000),
       CASE WHEN n.g % 20 = 0 THEN NULL
            ELSE ({array})[1 + n.g % {count}] END,
       n.id, 'contact', true, false, false, true, 'en_US', 0, 1, 1,
       now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
  FROM (SELECT nextval('res_partner_id_seq') AS id, g,
               '{prefix} ' || lpad(g::text, 8, '0') AS label
          FROM generate_series({start}, {size}) AS g) AS n;
ANALYZE res_partner;
"""


def grow(args, size, countries):
    """Partners named ``scale partner N`` up to ``size``, with SQL: one
    ``INSERT ... SELECT generate_series`` with the columns res.partner needs
    (a country for 19 in 20 of them, spread over ``countries``), then
    ``ANALYZE``."""
    have = int(
        psql(
            args.db_args,
            args.db,
            f"SELECT count(*) FROM res_partner WHERE name LIKE '{SCALE_PREFIX} %'",
        )
    )
    if have >= size:
        return have
    log(f"seeding partners {have + 1} to {size} with SQL ...")
    started = time.time()
    sql = SEED_SQL.format(
        array="ARRAY[" + ",".join(str(c) for c in countries) + "]",
        count=len(countries),
        prefix=SCALE_PREFIX,
        start=have + 1,
        size=size,
    )
    psql(args.db_args, args.db, sql)
    log(f"  {size - have} rows in {time.time() - started:.0f} s")
    return size


class AccessLog:
    """The werkzeug lines a server logged since the last :meth:`mark`."""

    def __init__(self, path):
        self.path = path
        self.offset = 0

    def mark(self):
        self.offset = os.path.getsize(self.path)

    def lines(self, prefix, method="GET", exact=False):
        """``(queries, SQL s, other s)`` of each request to ``prefix``."""
        with open(self.path, errors="replace") as handle:
            handle.seek(self.offset)
            text = handle.read()
        found = []
        for match in ACCESS.finditer(text):
            path = match["path"]
            if match["method"] == method and (
                path == prefix if exact else path.startswith(prefix)
            ):
                found.append(
                    (int(match["queries"]), float(match["sql"]), float(match["other"]))
                )
        return found


def timed(fn, seconds, least=5, most=500):
    """Run ``fn`` one call at a time for ``seconds`` (at least ``least``
    calls): the latencies in ms; ``fn`` answers the HTTP status."""
    latencies, statuses = [], {}
    stop_at = time.perf_counter() + seconds
    while len(latencies) < most and (
        len(latencies) < least or time.perf_counter() < stop_at
    ):
        start = time.perf_counter()
        status = fn()
        latencies.append((time.perf_counter() - start) * 1000.0)
        statuses[status] = statuses.get(status, 0) + 1
    return latencies, statuses


def summary(latencies):
    ordered = sorted(latencies)
    return {
        "p50": ordered[len(ordered) // 2],
        "mean": sum(ordered) / len(ordered),
        "n": len(ordered),
    }


def query_stats(lines):
    """Median, least and most queries, and the mean SQL ms, of access lines."""
    queries = sorted(q for q, _s, _o in lines)
    if not queries:
        return {"queries": None, "queries_min": None, "queries_max": None}
    return {
        "queries": queries[len(queries) // 2],
        "queries_min": queries[0],
        "queries_max": queries[-1],
    }


class Scale:
    """The workloads of the run at each table size, and their rows."""

    def __init__(self, args, server, cfg):
        self.args, self.server, self.cfg = args, server, cfg
        self.base = server.url
        self.log = AccessLog(server.log.name)
        self.results = []
        self.auth = bearer(token(self.base, cfg["client"], cfg["secret"], "jwt"))
        self.json = {**self.auth, "Content-Type": "application/json"}

    def get(self, path):
        status, _h, raw = request(self.base, "GET", path, headers=self.auth)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {raw[:300]!r}")
        return json.loads(raw)["result"]

    def fetch(self, path):
        return lambda: request(self.base, "GET", path, headers=self.auth)[0]

    def alternate(self, items, seconds, rounds):
        """Each item's ``fn`` in turn, ``rounds`` times: ``{work: (latencies,
        statuses)}``."""
        for _work, fn, *_rest in items:
            for _warm in range(4):  # every worker, outside the measures
                fn()
        self.log.mark()
        part = seconds / rounds
        measured = {work: ([], {}) for work, *_rest in items}
        for _round in range(rounds):
            for work, fn, *_rest in items:
                got, codes = timed(fn, part, least=2)
                latencies, statuses = measured[work]
                latencies += got
                for code, count in codes.items():
                    statuses[code] = statuses.get(code, 0) + count
        time.sleep(0.5)  # the access line is written after the answer
        return measured

    def group(self, size, items, seconds=None, rounds=3):
        """Workloads at one table size, alternated ``rounds`` times, each
        with its queries per request.

        ``items`` are ``(work, fn, method, path, records)``: ``fn`` answers
        the HTTP status, ``path`` is the request's path (with its query,
        for GET) as the access log shows it, or the start of it for POST.
        """
        measured = self.alternate(items, seconds or self.args.duration, rounds)
        rows = []
        for work, _fn, method, path, records in items:
            latencies, statuses = measured[work]
            lines = self.log.lines(path, method, exact=method == "GET")
            row = {
                "size": size,
                "work": work,
                **summary(latencies),
                "statuses": {str(k): v for k, v in statuses.items()},
                **query_stats(lines),
                "sql_ms": (sum(s for _q, s, _o in lines) / len(lines) * 1000.0)
                if lines
                else None,
                "records": records,
            }
            self.results.append(row)
            rows.append(row)
            log(
                f"  {size:>9} {work}: p50 {row['p50']:.1f} ms, "
                f"{row['queries']} queries/request, statuses {statuses}"
            )
        return rows

    def run_size(self, size):
        self.pages(size)
        self.counts(size)
        self.deep(size)
        self.bulk(size)

    def pages(self, size):
        """Search pages of 10, 80 and 500 with the two related fields."""
        items = []
        for page in PAGES:
            path = f"{PATH}?order=id&count=none&limit={page}"
            work = f"search page of {page}, 2 related fields"
            items.append((work, self.fetch(path), "GET", path, page))
        self.group(size, items, seconds=self.args.duration * 1.5)

    def counts(self, size):
        """A page of 80 with ``count=exact`` and with ``count=estimated``."""
        items, answers = [], {}
        for mode in ("exact", "estimated"):
            path = f"{PATH}?order=id&limit=80&count={mode}"
            answers[mode] = self.get(path)
            work = f"search page of 80, count={mode}"
            items.append((work, self.fetch(path), "GET", path, 80))
        for row, mode in zip(self.group(size, items), answers, strict=True):
            row["length"] = answers[mode].get("length")
            row["length_is"] = answers[mode].get("length_is", "exact")

    def cursor_at(self, position):
        """The cursor of the page at ``position``, walking the pages before it."""
        step = next(p for p in (5000, 1000, 500, 80) if position % p == 0)
        log(f"  walking {position // step} cursor pages of {step} to {position} ...")
        cursor = ""
        for _page in range(position // step):
            result = self.get(
                f"{PATH}?cursor={quote(cursor, safe='')}&limit={step}"
                "&fields=name&count=none"
            )
            cursor = result.get("next_cursor")
        return cursor

    def deep(self, size):
        """The page at 90 % of the table: by offset, and by the cursor of
        the same position."""
        position = int(size * 0.9)
        cursor = self.cursor_at(position)
        by_cursor = f"{PATH}?cursor={quote(cursor, safe='')}&limit=80&count=none"
        by_offset = f"{PATH}?offset={position}&order=id&limit=80&count=none"
        same = [r["id"] for r in self.get(by_cursor)["records"]] == [
            r["id"] for r in self.get(by_offset)["records"]
        ]
        items = [
            (f"page of 80 at {position}, {how}", self.fetch(path), "GET", path, 80)
            for how, path in (("offset", by_offset), ("cursor", by_cursor))
        ]
        for row in self.group(size, items):
            row["same_page"] = same

    def bulk(self, size):
        """Bulk create of 1,000 by REST and by call_kw; deleted afterwards."""
        counter = itertools.count(1)

        def values(rest):
            n = next(counter)
            key = "email_address" if rest else "email"
            return [
                {"name": f"scale bulk {n} {i}", key: "b@scale.example.com"}
                for i in range(1000)
            ]

        user = JsonRpc(self.base, self.args.db, self.cfg["login"], self.cfg["password"])
        country = user.call("res.country", "search", [("code", "=", "BE")], limit=1)[0]
        rpc = "/web/dataset/call_kw/res.partner/create"
        items = [
            (
                "bulk create of 1000 (REST, full answer)",
                lambda: request(
                    self.base, "POST", PATH, json.dumps(values(True)), self.json
                )[0],
                "POST",
                PATH,
                1000,
            ),
            (
                "bulk create of 1000 (call_kw create)",
                lambda: user.call_raw(
                    "res.partner",
                    "create",
                    [[{**v, "country_id": country} for v in values(False)]],
                    {},
                )[0],
                "POST",
                rpc,
                1000,
            ),
        ]
        self.group(size, items, rounds=2)
        admin = JsonRpc(self.base, self.args.db, "admin", self.args.admin_password)
        ids = admin.call("res.partner", "search", [("name", "=like", "scale bulk %")])
        for start in range(0, len(ids), 5000):
            admin.call("res.partner", "unlink", ids[start : start + 5000])
        psql(self.args.db_args, self.args.db, "VACUUM ANALYZE res_partner")


def sizes_of(args):
    if args.scale_sizes:
        sizes = [int(float(part)) for part in args.scale_sizes.split(",")]
    else:
        sizes = [10000, 100000, args.scale]
    return sorted({size for size in sizes if size <= args.scale})


def measure(args, server):
    """Configure, then grow the table to each size and measure it: the rows."""
    admin = JsonRpc(server.url, args.db, "admin", args.admin_password)
    log("configuring ...")
    cfg = configure(admin, seed=0)
    realistic.configure(admin, cfg, max_limit=5000)
    countries = admin.call("res.country", "search", [], order="id")
    scale = Scale(args, server, cfg)
    for size in sizes_of(args):
        grow(args, size, countries)
        # Every worker sees the new statistics (and warms up).
        for _attempt in range(4):
            request(server.url, "GET", f"{PATH}?limit=1", headers=scale.auth)
        log(f"table of {size} partners ...")
        scale.run_size(size)
    return scale.results


def main(args, command, root):
    """``benchmark.py --scale N``: the scale run in --db."""
    addons = addons_path(root, args.addons_path)
    ensure_database(command, args.db, addons, args.db_args)
    version, _series = odoo_version(command)
    server = OdooServer(
        command,
        args.db,
        addons,
        args.db_args,
        workers=args.workers,
        extra=("--load=base,web", "--log-handler=werkzeug:INFO"),
    )
    started = time.time()
    try:
        results = measure(args, server)
        total = int(psql(args.db_args, args.db, "SELECT count(*) FROM res_partner"))
    finally:
        server.stop()
    data = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "version": version,
        "machine": f"{platform.python_implementation()} {platform.python_version()}; "
        f"{platform.machine()}, {os.cpu_count()} cores; --workers={args.workers}, "
        "one request at a time, loopback",
        "partners": total,
        "minutes": (time.time() - started) / 60,
        "results": results,
    }
    if args.results_json:
        with open(args.results_json, "w") as handle:
            json.dump(data, handle, indent=1)
    scale_report.print_report(data)
    scale_report.plot(data, args.plot or scale_report.PLOT)
    if args.drop_db:
        drop_database(args.db_args, args.db)
    return 0
