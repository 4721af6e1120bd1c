"""Search, read, create, update and delete on the simple API against the
same ORM work through ``/web/dataset/call_kw`` (and the limit, when it runs)."""

import json

from .common import log, request
from .simple import FIELDS, LIST_PATH, PATH

# (label, side a, side b, goal, bound, higher): see Bench.target().
TARGETS = (
    (
        "REST search, exact count vs web_search_read",
        "REST search 80x3, exact count (JWT)",
        "call_kw web_search_read 80x3 (session)",
        ">= 1.30",
        1.30,
        True,
    ),
    (
        "REST search, count=none vs search_read",
        "REST search 80x3, count=none (JWT)",
        "call_kw search_read 80x3 (session)",
        ">= 1.00",
        1.0,
        True,
    ),
    (
        "read by id vs call_kw read",
        "REST read by id",
        "call_kw read",
        ">= 1.00",
        1.0,
        True,
    ),
    (
        "create with 10 lines vs call_kw create (same commands)",
        "REST create with 10 lines",
        "call_kw create with 10 lines (Command.create)",
        ">= 0.95",
        0.95,
        True,
    ),
    (
        "bulk create of 100 vs create of 100",
        "REST bulk create of 100",
        "call_kw create of 100 (values list)",
        ">= 1.00",
        1.0,
        True,
    ),
)


def search(bench, simple):
    """Pages of 80 with and without the exact count; with related fields."""
    log("search ...")
    bench.pair(
        "REST search 80x3, exact count (JWT)",
        lambda: simple.get(LIST_PATH),
        "call_kw web_search_read 80x3 (session)",
        lambda: simple.rpc(
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
        extra=simple.lim("search exact"),
    )
    bench.pair(
        "REST search 80x3, count=none (JWT)",
        lambda: simple.get(LIST_PATH + "&count=none"),
        "call_kw search_read 80x3 (session)",
        lambda: simple.rpc(
            "res.partner",
            "search_read",
            [],
            {"domain": [], "fields": FIELDS, "limit": 80, "order": "id"},
        ),
        extra=simple.lim("search"),
    )
    bench.measure(
        "REST search 80, many2one with 2 related fields",
        lambda: simple.get(f"{PATH}-rel?limit=80&order=id"),
    )


def read(bench, simple):
    log("read ...")
    bench.pair(
        "REST read by id",
        lambda: simple.get(f"{PATH}/{simple.rest_id()}"),
        "call_kw read",
        lambda: simple.rpc("res.partner", "read", [[simple.rpc_id()], FIELDS]),
        extra=simple.lim("read"),
    )


def writes(bench, simple):
    """Create, bulk create of 100, create with 10 lines and update."""
    log("writes ...")
    bench.pair(
        "REST create",
        lambda: simple.send("POST", PATH, simple.values()),
        "call_kw create",
        lambda: simple.rpc("res.partner", "create", [simple.values()]),
        extra=simple.lim("create"),
    )
    hundred = simple.hundred()
    bench.pair(
        "REST bulk create of 100",
        lambda: simple.send("POST", PATH, hundred),
        "call_kw create of 100 (values list)",
        lambda: simple.rpc("res.partner", "create", [hundred]),
        extra=simple.lim("bulk"),
    )
    bench.pair(
        "REST create with 10 lines",
        lambda: simple.send("POST", f"{PATH}-lines", simple.with_lines()),
        "call_kw create with 10 lines (Command.create)",
        lambda: simple.rpc("res.partner", "create", [simple.with_lines(True)]),
    )
    bench.pair(
        "REST update",
        lambda: simple.send("PATCH", f"{PATH}/{simple.rest_id()}", simple.phone()),
        "call_kw write",
        lambda: simple.rpc("res.partner", "write", [[simple.rpc_id()], simple.phone()]),
        extra=simple.lim("update"),
    )


def delete(bench, simple):
    """Deletes of a pool of 1000 records made for it (at most 4 s)."""
    status, _h, raw = request(
        simple.base,
        "POST",
        PATH,
        json.dumps([{"name": f"bench doomed {i}"} for i in range(1000)]),
        simple.json,
    )
    doomed = [r["id"] for r in json.loads(raw)["result"]] if status == 201 else []

    def delete_one():
        with simple.lock:
            if not doomed:
                return 299  # pool exhausted: not an error, not counted as a delete
            rid = doomed.pop()
        return request(simple.base, "DELETE", f"{PATH}/{rid}", headers=simple.auth)[0]

    bench.measure("REST delete", delete_one, duration=min(bench.args.duration, 4))
