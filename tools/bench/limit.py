"""The limit: bare ``type="http"`` routes of the test-only addon
``secure_api_bench_limit`` (tools/bench_addons/) that do the ORM work of each
REST call and nothing else. The ``limit`` section points them at the API's
execution user; the core and realistic rows then alternate with them."""

import json
import secrets
import time
from urllib.parse import urlencode

from .common import bearer, request

MODULE = "secure_api_bench_limit"
GOAL = 0.95
SIMPLE_FIELDS = "name,email,phone"
# The limit's row beside each simple-API REST row.
SIMPLE_VS_LIMIT = {
    "search exact": (
        "REST search 80x3, exact count (JWT)",
        "limit: search_read 80x3 + search_count",
    ),
    "search": ("REST search 80x3, count=none (JWT)", "limit: search_read 80x3"),
    "read": ("REST read by id", "limit: read"),
    "create": ("REST create", "limit: create, read back"),
    "bulk": ("REST bulk create of 100", "limit: create of 100, read back"),
    "update": ("REST update", "limit: write, read back"),
    "create minimal": ("REST create, Prefer: return=minimal", "limit: create, id only"),
    "update minimal": ("REST update, Prefer: return=minimal", "limit: write"),
}


class Limit:
    """The limit routes of ``secure_api_bench_limit``, as the API's user."""

    def __init__(self, base, secret):
        self.base = base
        self.auth = bearer(secret)
        self.json = {**self.auth, "Content-Type": "application/json"}

    @staticmethod
    def query(fields=None, related=None, domain=None, **params):
        values = dict(params)
        if fields:
            values["fields"] = fields
        if related:
            values["related"] = related
        if domain:
            values["domain"] = json.dumps([list(leaf) for leaf in domain])
        return "?" + urlencode(values) if values else ""

    def fetch(self, path, **params):
        """GET: ``(status, headers, body)``."""
        return request(self.base, "GET", path + self.query(**params), headers=self.auth)

    def get(self, path, **params):
        """GET: the HTTP status."""
        return self.fetch(path, **params)[0]

    def post(self, path, body, **params):
        """POST of ``body`` (JSON-encoded here): the HTTP status."""
        path += self.query(**params)
        return request(self.base, "POST", path, json.dumps(body), self.json)[0]


def run(ctx):
    """The ``limit`` section: point the limit routes at the API's execution
    user, behind a random bearer token (``ctx.limit``); a note and no limit
    rows when the addon is not installed."""
    installed = ctx.admin.call(
        "ir.module.module",
        "search_count",
        [("name", "=", MODULE), ("state", "=", "installed")],
    )
    if not installed:
        ctx.bench.note(f"{MODULE} is not installed: no limit rows")
        return
    secret = secrets.token_urlsafe(32)
    param = ("ir.config_parameter", "set_param")
    ctx.admin.call(*param, f"{MODULE}.uid", str(ctx.cfg["user_id"]))
    ctx.admin.call(*param, f"{MODULE}.token", secret)
    ctx.limit = Limit(ctx.base, secret)
    time.sleep(1)
    check(ctx.bench, ctx.limit)


def check(bench, limit):
    """Once: the routes answer with the token, and refuse without it."""
    status, _h, raw = limit.fetch("/bench_limit/search", fields="name", limit=1)
    path = "/bench_limit/search?fields=name"
    refused = request(limit.base, "GET", path)[0]
    wrong = bearer(secrets.token_urlsafe(32))
    wrong = request(limit.base, "GET", path, headers=wrong)[0]
    if status != 200 or refused != 401 or wrong != 401:
        bench.note(
            f"limit routes answered {status} {raw[:120]!r}; without the token "
            f"{refused}, with a wrong one {wrong} (200, 401, 401 expected)"
        )


def simple_sides(limit, simple):
    """``{key: (row name, fn)}``: the limit's side of each simple-API row
    (none without a limit); ``simple`` is the core rows' ``Simple``."""
    if limit is None:
        return {}
    fields = {"fields": SIMPLE_FIELDS}
    page = {"limit": 80, "order": "id", **fields}
    hundred = simple.hundred()
    fns = {
        "search exact": lambda: limit.get("/bench_limit/search", count=1, **page),
        "search": lambda: limit.get("/bench_limit/search", **page),
        "read": lambda: limit.get(f"/bench_limit/read/{simple.rpc_id()}", **fields),
        "create": lambda: limit.post("/bench_limit/create", simple.values(), **fields),
        "bulk": lambda: limit.post("/bench_limit/create", hundred, **fields),
        "update": lambda: limit.post(
            f"/bench_limit/write/{simple.rpc_id()}", simple.phone(), **fields
        ),
        "create minimal": lambda: limit.post("/bench_limit/create", simple.values()),
        "update minimal": lambda: limit.post(
            f"/bench_limit/write/{simple.rpc_id()}", simple.phone()
        ),
    }
    return {key: (SIMPLE_VS_LIMIT[key][1], fn) for key, fn in fns.items()}


def simple_targets(bench):
    """Every simple-API REST row against its limit row, when both ran."""
    for rest, bare in SIMPLE_VS_LIMIT.values():
        if rest in bench.results and bare in bench.results:
            bench.target(f"{rest} vs the limit", rest, bare, ">= 0.95", GOAL)
