#!/usr/bin/env python3
"""The scale run of the benchmark: the realistic API over large tables.

Run through ``tools/benchmark.py --scale N`` (a database of its own, --db):
it seeds partners with SQL (``INSERT ... SELECT generate_series``, then
``ANALYZE``) up to each table size (10,000, 100,000 and N by default), and
measures, one request at a time:

- search pages of 10, 80 and 500 records with the two related fields, and
  the SQL queries per request (from the werkzeug log line of each request,
  which Odoo ends with its query count and SQL time);
- ``count=exact`` against ``count=estimated``;
- the page at 90 % of the table by offset against the cursor of the same
  position;
- bulk create of 1,000 (REST and call_kw).

It prints a table, writes the numbers as JSON (--results-json) and plots
them (--plot, a PNG) when matplotlib is installed; otherwise it says so, and
``python3 tools/bench_scale.py --plot-from results.json --plot out.png``
draws the plot later from the JSON, wherever matplotlib is.
"""

import argparse
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
from urllib.parse import quote

from bench_common import (
    JsonRpc,
    OdooServer,
    addons_path,
    configure,
    log,
    request,
    token,
)
from bench_more import REAL_PATH, configure_realistic

PAGES = (10, 80, 500)
SCALE_PREFIX = "scale partner"
# The werkzeug access line: "METHOD path HTTP/x" status size, then Odoo's
# query count, SQL time and the rest of the request's time.
ACCESS = re.compile(
    r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d+) \S+ '
    r"(?P<queries>\d+) (?P<sql>[\d.]+) (?P<other>[\d.]+)"
)


def psql(args, db, sql):
    from benchmark import psql_args

    return subprocess.run(
        ["psql", *psql_args(args.db_args), "-d", db, "-v", "ON_ERROR_STOP=1"]
        + ["-qAtc", sql],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def grow(args, size, countries):
    """Partners named ``scale partner N`` up to ``size``, with SQL: one
    ``INSERT ... SELECT generate_series`` with the columns res.partner needs
    (a country for 19 in 20 of them, spread over ``countries``), then
    ``ANALYZE``."""
    have = int(
        psql(
            args,
            args.db,
            f"SELECT count(*) FROM res_partner WHERE name LIKE '{SCALE_PREFIX} %'",
        )
    )
    if have >= size:
        return have
    log(f"seeding partners {have + 1} to {size} with SQL ...")
    started = time.time()
    array = "ARRAY[" + ",".join(str(c) for c in countries) + "]"
    psql(
        args,
        args.db,
        f"""
        INSERT INTO res_partner (
            id, name, complete_name, email, phone, city, country_id,
            commercial_partner_id, type, active, is_company, employee,
            partner_share, lang, color, create_uid, write_uid, create_date,
            write_date)
        SELECT n.id, n.label, n.label, 'p' || n.g || '@scale.example.com',
               '+32 2 ' || lpad(n.g::text, 7, '0'), 'City ' || (n.g % 1000),
               CASE WHEN n.g % 20 = 0 THEN NULL
                    ELSE ({array})[1 + n.g % {len(countries)}] END,
               n.id, 'contact', true, false, false, true, 'en_US', 0, 1, 1,
               now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
          FROM (SELECT nextval('res_partner_id_seq') AS id, g,
                       '{SCALE_PREFIX} ' || lpad(g::text, 8, '0') AS label
                  FROM generate_series({have + 1}, {size}) AS g) AS n;
        ANALYZE res_partner;
        """,
    )
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


class Scale:
    def __init__(self, args, server, cfg):
        self.args, self.server, self.cfg = args, server, cfg
        self.base = server.url
        self.log = AccessLog(server.log.name)
        self.results = []
        jwt = token(self.base, cfg["client"], cfg["secret"], "jwt")
        self.auth = {"Authorization": f"Bearer {jwt}"}
        self.json = {**self.auth, "Content-Type": "application/json"}

    def get(self, path):
        status, _h, raw = request(self.base, "GET", path, headers=self.auth)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {raw[:300]!r}")
        return json.loads(raw)["result"]

    def group(self, size, items, seconds=None, rounds=3):
        """Workloads at one table size, alternated ``rounds`` times, each
        with its queries per request.

        ``items`` are ``(work, fn, method, path, records)``: ``fn`` answers
        the HTTP status, ``path`` is the request's path (with its query,
        for GET) as the access log shows it, or the start of it for POST.
        """
        for _work, fn, *_rest in items:
            for _warm in range(4):  # every worker, outside the measures
                fn()
        self.log.mark()
        part = (seconds or self.args.duration) / rounds
        latencies = {work: [] for work, *_rest in items}
        statuses = {work: {} for work, *_rest in items}
        for _round in range(rounds):
            for work, fn, *_rest in items:
                got, codes = timed(fn, part, least=2)
                latencies[work] += got
                for code, count in codes.items():
                    statuses[work][code] = statuses[work].get(code, 0) + count
        time.sleep(0.5)  # the access line is written after the answer
        rows = []
        for work, _fn, method, path, records in items:
            lines = self.log.lines(path, method, exact=method == "GET")
            queries = sorted(q for q, _s, _o in lines)
            row = {
                "size": size,
                "work": work,
                **summary(latencies[work]),
                "statuses": {str(k): v for k, v in statuses[work].items()},
                "queries": queries[len(queries) // 2] if queries else None,
                "queries_min": queries[0] if queries else None,
                "queries_max": queries[-1] if queries else None,
                "sql_ms": (sum(s for _q, s, _o in lines) / len(lines) * 1000.0)
                if lines
                else None,
                "records": records,
            }
            self.results.append(row)
            rows.append(row)
            log(
                f"  {size:>9} {work}: p50 {row['p50']:.1f} ms, "
                f"{row['queries']} queries/request, statuses {statuses[work]}"
            )
        return rows

    def fetch(self, path):
        return lambda: request(self.base, "GET", path, headers=self.auth)[0]

    def run_size(self, size):
        items = []
        for page in PAGES:
            path = f"{REAL_PATH}?order=id&count=none&limit={page}"
            items.append(
                (
                    f"search page of {page}, 2 related fields",
                    self.fetch(path),
                    "GET",
                    path,
                    page,
                )
            )
        self.group(size, items, seconds=self.args.duration * 1.5)
        items, answers = [], {}
        for mode in ("exact", "estimated"):
            path = f"{REAL_PATH}?order=id&limit=80&count={mode}"
            answers[mode] = self.get(path)
            items.append(
                (f"search page of 80, count={mode}", self.fetch(path), "GET", path, 80)
            )
        for row, mode in zip(self.group(size, items), answers, strict=True):
            row["length"] = answers[mode].get("length")
            row["length_is"] = answers[mode].get("length_is", "exact")
        self.deep(size)
        self.bulk(size)

    def deep(self, size):
        """The page at 90 % of the table: by offset, and by the cursor of
        the same position (found once, walking the pages before it)."""
        position = int(size * 0.9)
        step = next(p for p in (5000, 1000, 500, 80) if position % p == 0)
        log(f"  walking {position // step} cursor pages of {step} to {position} ...")
        cursor = ""
        for _page in range(position // step):
            result = self.get(
                f"{REAL_PATH}?cursor={quote(cursor, safe='')}&limit={step}"
                "&fields=name&count=none"
            )
            cursor = result.get("next_cursor")
        by_cursor = f"{REAL_PATH}?cursor={quote(cursor, safe='')}&limit=80&count=none"
        by_offset = f"{REAL_PATH}?offset={position}&order=id&limit=80&count=none"
        same = [r["id"] for r in self.get(by_cursor)["records"]] == [
            r["id"] for r in self.get(by_offset)["records"]
        ]
        rows = self.group(
            size,
            [
                (
                    f"page of 80 at {position}, offset",
                    self.fetch(by_offset),
                    "GET",
                    by_offset,
                    80,
                ),
                (
                    f"page of 80 at {position}, cursor",
                    self.fetch(by_cursor),
                    "GET",
                    by_cursor,
                    80,
                ),
            ],
        )
        for row in rows:
            row["same_page"] = same

    def bulk(self, size):
        """Bulk create of 1,000 by REST and by call_kw; deleted afterwards."""
        counter = [0]

        def values(rest):
            counter[0] += 1
            key = "email_address" if rest else "email"
            return [
                {"name": f"scale bulk {counter[0]} {i}", key: "b@scale.example.com"}
                for i in range(1000)
            ]

        user = JsonRpc(self.base, self.args.db, self.cfg["login"], self.cfg["password"])
        country = user.call("res.country", "search", [("code", "=", "BE")], limit=1)[0]
        self.group(
            size,
            [
                (
                    "bulk create of 1000 (REST, full answer)",
                    lambda: request(
                        self.base,
                        "POST",
                        REAL_PATH,
                        json.dumps(values(True)),
                        self.json,
                    )[0],
                    "POST",
                    REAL_PATH,
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
                    "/web/dataset/call_kw/res.partner/create",
                    1000,
                ),
            ],
            rounds=2,
        )
        admin = JsonRpc(self.base, self.args.db, "admin", self.args.admin_password)
        ids = admin.call("res.partner", "search", [("name", "=like", "scale bulk %")])
        for start in range(0, len(ids), 5000):
            admin.call("res.partner", "unlink", ids[start : start + 5000])
        psql(self.args, self.args.db, "VACUUM ANALYZE res_partner")


def sizes_of(args):
    if args.scale_sizes:
        sizes = [int(float(part)) for part in args.scale_sizes.split(",")]
    else:
        sizes = [10000, 100000, args.scale]
    return sorted({size for size in sizes if size <= args.scale})


def main(args, command, root):
    """``benchmark.py --scale N``: the scale run in --db."""
    from benchmark import ensure_database

    addons = addons_path(root, args.addons_path)
    ensure_database(command, args.db, addons, args.db_args)
    version = subprocess.run(
        [*command, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
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
        admin = JsonRpc(server.url, args.db, "admin", args.admin_password)
        log("configuring ...")
        cfg = configure(admin, seed=0)
        configure_realistic(admin, cfg, max_limit=5000)
        countries = admin.call("res.country", "search", [], order="id")
        scale = Scale(args, server, cfg)
        for size in sizes_of(args):
            grow(args, size, countries)
            # Every worker sees the new statistics (and warms up).
            for _attempt in range(4):
                request(server.url, "GET", f"{REAL_PATH}?limit=1", headers=scale.auth)
            log(f"table of {size} partners ...")
            scale.run_size(size)
        total = int(psql(args, args.db, "SELECT count(*) FROM res_partner"))
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
        "results": scale.results,
    }
    if args.results_json:
        with open(args.results_json, "w") as handle:
            json.dump(data, handle, indent=1)
    print_report(data)
    plot(data, args.plot or "docs/benchmark_scale.png")
    if args.drop_db:
        log(f"dropping {args.db} ...")
        from benchmark import psql_args

        subprocess.run(["dropdb", *psql_args(args.db_args), args.db], check=False)
    return 0


def _fmt(value, pattern="{:.1f}"):
    return "-" if value is None else pattern.format(value)


def print_report(data):
    print(f"\n### secure_api scale benchmark, {data['when']}\n")
    print(
        f"{data['version']}; {data['machine']}; the realistic API (forced domain, "
        "a default, an alias, country_id with 2 related fields, obfuscated ids); "
        f"{data['minutes']:.0f} min.\n"
    )
    print(
        "| partners | work | p50 ms | mean ms | ms per record | queries/request "
        "| SQL ms/request | requests |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for row in data["results"]:
        per_record = row["p50"] / row["records"] if row.get("records") else None
        queries = row["queries"]
        if queries is not None and row["queries_min"] != row["queries_max"]:
            spread = f"{queries:.1f} ({row['queries_min']}-{row['queries_max']})"
        else:
            spread = _fmt(queries, "{:.0f}")
        print(
            f"| {row['size']:,} | {row['work']} | {row['p50']:.1f} | "
            f"{row['mean']:.1f} | {_fmt(per_record, '{:.3f}')} | {spread} | "
            f"{_fmt(row['sql_ms'])} | {row['n']} |"
        )
    print("\n| target | measured | goal | result |\n|---|---:|---|---|")
    for label, value, goal, ok in targets(data):
        print(f"| {label} | {value} | {goal} | {ok} |")
    notes = [
        f"{row['size']:,}: count={row['work'].rsplit('=', 1)[1]} answered "
        f"{row.get('length')} ({row.get('length_is')})"
        for row in data["results"]
        if "length" in row
    ]
    notes += [
        f"{row['size']:,}: the cursor page and the offset page differ"
        for row in data["results"]
        if row.get("same_page") is False
    ]
    for note in notes:
        print(f"- {note}")


def targets(data):
    """(label, measured, goal, verdict) of the scale run."""
    out = []
    by = {(row["size"], row["work"]): row for row in data["results"]}
    sizes = sorted({row["size"] for row in data["results"]})
    pages = [
        by.get((size, f"search page of {page}, 2 related fields"))
        for size in sizes
        for page in PAGES
    ]
    counts = [row["queries"] for row in pages if row and row["queries"] is not None]
    if counts:
        flat = max(counts) == min(counts)
        out.append(
            (
                "queries per search request (median), pages of 10/80/500, every size",
                f"{min(counts)}-{max(counts)}",
                "flat",
                "met" if flat else "MISSED",
            )
        )
    for size in sizes:
        exact = by.get((size, "search page of 80, count=exact"))
        estimated = by.get((size, "search page of 80, count=estimated"))
        if exact and estimated:
            ratio = exact["p50"] / estimated["p50"]
            out.append(
                (
                    f"{size:,}: count=estimated vs exact (speed-up)",
                    f"{ratio:.2f}",
                    ">= 1.00",
                    "met" if ratio >= 1.0 else "MISSED",
                )
            )
        position = int(size * 0.9)
        offset = by.get((size, f"page of 80 at {position}, offset"))
        cursor = by.get((size, f"page of 80 at {position}, cursor"))
        if offset and cursor:
            ratio = offset["p50"] / cursor["p50"]
            out.append(
                (
                    f"{size:,}: cursor vs offset at {position:,} (speed-up)",
                    f"{ratio:.2f}",
                    ">= 1.00",
                    "met" if ratio >= 1.0 else "MISSED",
                )
            )
    if len(sizes) > 1:
        first = by.get((sizes[0], "search page of 80, 2 related fields"))
        last = by.get((sizes[-1], "search page of 80, 2 related fields"))
        if first and last:
            ratio = last["p50"] / first["p50"]
            out.append(
                (
                    f"page of 80 at {sizes[-1]:,} vs at {sizes[0]:,} (time ratio)",
                    f"{ratio:.2f}",
                    "info",
                    "-",
                )
            )
    return out


def plot(data, path):
    """Time per request against page size and against table size (PNG)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        log(
            "matplotlib is not installed: no plot. Install it (pip install "
            "matplotlib) and draw it from the JSON: python3 tools/bench_scale.py "
            f"--plot-from <results.json> --plot {path}"
        )
        print("\nNo plot: matplotlib is not installed here.")
        return False
    rows = data["results"]
    sizes = sorted({row["size"] for row in rows})
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    for size in sizes:
        points = [
            (page, row["p50"])
            for page in PAGES
            for row in rows
            if row["size"] == size
            and row["work"] == f"search page of {page}, 2 related fields"
        ]
        if points:
            left.plot(
                *zip(*points, strict=True), marker="o", label=f"{size:,} partners"
            )
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xticks(PAGES, [str(p) for p in PAGES])
    left.set_xlabel("page size (records, 2 related fields)")
    left.set_ylabel("ms per request (p50)")
    left.set_title("Search: time per request against page size")
    left.grid(True, which="both", alpha=0.3)
    left.legend()
    series = {
        "page of 80": "search page of 80, 2 related fields",
        "page of 80, count=exact": "search page of 80, count=exact",
        "page of 80, count=estimated": "search page of 80, count=estimated",
        "page at 90 %, offset": "offset",
        "page at 90 %, cursor": "cursor",
        "bulk create of 1000 (REST)": "bulk create of 1000 (REST, full answer)",
    }
    for label, work in series.items():
        points = []
        for size in sizes:
            for row in rows:
                if row["size"] != size:
                    continue
                deep = work in ("offset", "cursor")
                if (deep and row["work"].endswith(f", {work}")) or row["work"] == work:
                    points.append((size, row["p50"]))
        if points:
            right.plot(*zip(*points, strict=True), marker="o", label=label)
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("partners in the table")
    right.set_ylabel("ms per request (p50)")
    right.set_title("Time per request against table size")
    right.grid(True, which="both", alpha=0.3)
    right.legend(fontsize=8)

    def minor(value, _position):
        """Label 2, 3 and 5 times a power of ten; leave the others blank."""
        lead = round(value / 10 ** math.floor(math.log10(value)))
        return f"{value:g}" if lead in (2, 3, 5) else ""

    for axis in (left.yaxis, right.yaxis):
        axis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        axis.set_minor_formatter(matplotlib.ticker.FuncFormatter(minor))
    fig.suptitle(
        f"secure_api scale run, {data['version']}, {data['when']}", fontsize=10
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    log(f"plot written to {path}")
    return True


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--plot-from", required=True, help="a --results-json file")
    parser.add_argument("--plot", default="docs/benchmark_scale.png")
    cli = parser.parse_args()
    with open(cli.plot_from) as handle:
        loaded = json.load(handle)
    print_report(loaded)
    sys.exit(0 if plot(loaded, cli.plot) else 1)
