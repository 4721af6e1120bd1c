"""The command line of ``tools/benchmark.py``: options, the run's server and
database, the sections in order, the report (or the scale run)."""

import argparse
import time

from . import limit, scale, scale_report, servers
from .common import JsonRpc, header, log, request
from .fixtures import configure
from .runner import Bench, Context, report
from .sections import SECTIONS

DESCRIPTION = """Benchmark secure_api against Odoo's own JSON-RPC on the same server.

Not a test: it starts real Odoo servers on loopback (``--workers``), seeds
10,000 partners when missing, configures an API and a client app through
JSON-RPC, then measures requests per second and latency percentiles of the
same work through both ways, in one run, and prints ratios and targets.

    python3 tools/benchmark.py --odoo-bin odoo-bin --db secure_api_bench

Every workload is bounded in time (``--duration`` seconds) and in count.
``--sections`` picks what runs (see tools/bench/sections.py): the limit
(bare routes of tools/bench_addons/secure_api_bench_limit), the simple API's
rows (core), the realistic API, hostile clients, the traffic policy's cost,
webhook deliveries, --db-filter and memory. ``--scale N`` runs the scale
benchmark instead, in a database of its own.
"""


def server_options(parser):
    parser.add_argument("--odoo-bin", default="odoo-bin")
    parser.add_argument("--odoo-python")
    parser.add_argument("--addons-path", help="extra addons directories")
    parser.add_argument("--db", default="secure_api_bench")
    parser.add_argument("--db-host", default="127.0.0.1")
    parser.add_argument("--db-port", default="5432")
    parser.add_argument("--db-user")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--admin-password", default="admin")
    parser.add_argument(
        "--port-base", type=int, help="the servers' ports start here (else any)"
    )


def section_options(parser):
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--duration", type=float, default=8.0, help="seconds per workload"
    )
    parser.add_argument("--seed", type=int, default=10000)
    parser.add_argument("--skip-dbfilter", action="store_true")
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help="comma-separated, run in this order: " + ", ".join(SECTIONS),
    )
    parser.add_argument(
        "--memory-minutes",
        type=float,
        default=10.0,
        help="minutes of random tokens and ids of the memory section",
    )
    parser.add_argument(
        "--deliveries", type=int, default=1000, help="events of the webhook section"
    )


def scale_options(parser):
    parser.add_argument(
        "--scale",
        type=int,
        help="run the scale benchmark instead (tools/bench/scale.py) with this "
        "many partners, in a database of its own (--db)",
    )
    parser.add_argument(
        "--scale-sizes", help="table sizes of the scale run (default 10k, 100k, N)"
    )
    parser.add_argument(
        "--plot", default=None, help="PNG of the scale run (docs/benchmark_scale.png)"
    )
    parser.add_argument("--results-json", help="the scale run's numbers as JSON")
    parser.add_argument(
        "--plot-from",
        help="no run: print the report and draw --plot from a --results-json file",
    )
    parser.add_argument(
        "--drop-db", action="store_true", help="drop --db at the end (scale run)"
    )


def parse(argv=None):
    parser = argparse.ArgumentParser(
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    server_options(parser)
    section_options(parser)
    scale_options(parser)
    args = parser.parse_args(argv)
    sections = [part.strip() for part in args.sections.split(",") if part.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    if args.skip_dbfilter and "dbfilter" in sections:
        sections.remove("dbfilter")
    args.sections = sections
    return args


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
    if "json" not in (header(headers, "Content-Type") or ""):
        log("Odoo 19 /json/2 is not served here (no rpc addon): compared with call_kw.")
        print(
            "\nOdoo 19's /json/2 is not served by this Odoo tree (it lacks the rpc "
            "addon), so the comparison is with /web/dataset/call_kw."
        )


def run_sections(args, command, root):
    """The sections of ``args.sections`` on one server, then the report."""
    with_limit = "limit" in args.sections
    addons = servers.addons_path(root, args.addons_path, bench_addons=with_limit)
    servers.ensure_database(
        command, args.db, addons, args.db_args, (limit.MODULE,) if with_limit else ()
    )
    version, series = servers.odoo_version(command)
    # 19.0 trees without the rpc addon cannot load the default server-wide
    # modules; --load=base,web works on every series.
    server = servers.OdooServer(
        command,
        args.db,
        addons,
        args.db_args,
        workers=args.workers,
        extra=("--load=base,web",),
    )
    started = time.time()
    try:
        admin = JsonRpc(server.url, args.db, "admin", args.admin_password)
        log("configuring ...")
        cfg = configure(admin, seed=args.seed)
        user = JsonRpc(server.url, args.db, cfg["login"], cfg["password"])
        bench = Bench(args)
        bench.sections = args.sections
        ctx = Context(
            args=args,
            bench=bench,
            server=server,
            admin=admin,
            cfg=cfg,
            user=user,
            command=command,
            addons=addons,
            series=series,
        )
        for name, section in SECTIONS.items():
            if name in args.sections:
                section(ctx)
        if series >= 19:
            json2_note(server.url)
        bench.wall = time.time() - started
        report(bench, args, version)
    finally:
        server.stop()
    return 0


def main(argv=None):
    args = parse(argv)
    if args.plot_from:
        return scale_report.plot_from(args.plot_from, args.plot)
    if args.port_base:
        servers.PORT_BASE["next"] = args.port_base
    command, root = servers.odoo_command(args.odoo_bin, args.odoo_python)
    args.db_args = servers.database_options(args)
    if args.scale:
        return scale.main(args, command, root)
    return run_sections(args, command, root)
