"""The realistic API beside the simple one: res.partner with a forced
domain, a default value (the country), an alias (``email`` is
``email_address``), ``country_id`` with two related fields and obfuscated
ids. Read, create, update and delete on random records among 2,000 against
call_kw and the limit (the ``realistic`` section); the scale run uses the
same API."""

import itertools
import json
import random
import threading
from urllib.parse import quote

from .common import log, request
from .fixtures import SEEDED_DOMAIN, api_values, cleanup, ir_field, publish_api

ROUTE = "bench/partners-real"
PATH = f"/api/{ROUTE}"
# The forced domain, as the API stores it and as the limit routes receive it.
DOMAIN = [("type", "=", "contact"), ("country_id", "!=", False)]
FIELDS = ["name", "email", "phone", "city", "country_id"]
RELATED = "country_id:name,code"
GOAL_MINIMAL, GOAL_FULL, GOAL_LIMIT = 1.0, 0.95, 0.95
# (REST row, call_kw row, limit row) of each operation; goals below.
SEARCH = ("realistic: REST search 80, count=none", None, "limit: search 80 (realistic)")
READ = (
    "realistic: REST read by id",
    "realistic: call_kw read",
    "limit: read (realistic)",
)
CREATE_MIN = (
    "realistic: REST create, return=minimal",
    "realistic: call_kw create",
    "limit: create, id only (realistic)",
)
CREATE_FULL = (
    "realistic: REST create, full answer",
    "realistic: call_kw create",
    "limit: create, read back (realistic)",
)
UPDATE_MIN = (
    "realistic: REST update, return=minimal",
    "realistic: call_kw write",
    "limit: write (realistic)",
)
UPDATE_FULL = (
    "realistic: REST update, full answer",
    "realistic: call_kw write",
    "limit: write, read back (realistic)",
)
DELETE = (
    "realistic: REST delete",
    "realistic: call_kw unlink",
    "limit: unlink (realistic)",
)


def configure(admin, cfg, route=ROUTE, max_limit=500):
    """The realistic API (created or rewritten, published) for the bench
    client: ``(api id, default country id)``."""
    country = admin.call("res.country", "search", [("code", "=", "BE")], limit=1)[0]

    def line(name, **values):
        return (0, 0, {"field_id": ir_field(admin, "res.partner", name), **values})

    related = [ir_field(admin, "res.country", n) for n in ("name", "code")]
    lines = [
        line("name", searchable=True, writable=True),
        line("email", alias="email_address", searchable=True, writable=True),
        line("phone", writable=True),
        line("city", searchable=True, writable=True),
        line(
            "country_id",
            searchable=True,
            writable=True,
            related_field_ids=[(6, 0, related)],
        ),
    ]
    default = {
        "field_id": ir_field(admin, "res.partner", "country_id"),
        "expression": str(country),
    }
    values = api_values(
        admin,
        route,
        cfg["client_db_id"],
        statistics_enabled=True,
        domain=repr(DOMAIN),
        max_limit=max_limit,
    )
    api_id = publish_api(admin, values, lines, default_ids=[(0, 0, default)])
    return api_id, country


def paired_ids(base, auth, user, count=2000):
    """``count`` seeded partners as ``[(REST id, database id)]``: the same
    records on every side, by id order."""
    rest = []
    for offset in range(0, count, 500):
        status, _h, raw = request(
            base,
            "GET",
            f"{PATH}?limit=500&offset={offset}&order=id&fields=name"
            f"&count=none&domain={quote(SEEDED_DOMAIN)}",
            headers=auth,
        )
        if status != 200:
            raise RuntimeError(f"realistic search answered {status}: {raw[:300]!r}")
        rest += [r["id"] for r in json.loads(raw)["result"]["records"]]
    plain = user.call(
        "res.partner",
        "search",
        [("name", "=like", "bench partner%"), *DOMAIN],
        limit=count,
        order="id",
    )
    if len(rest) != len(plain):
        raise RuntimeError(f"{len(rest)} REST ids and {len(plain)} database ids")
    return list(zip(rest[:count], plain, strict=True))


class Real:
    """Client state of the realistic rows: tokens, the paired records, the
    default country, new names from one counter, the limit (or ``None``)."""

    def __init__(self, ctx, country):
        self.base, self.user, self.limit = ctx.base, ctx.user, ctx.limit
        self.auth = ctx.auth("jwt")
        self.json = {**self.auth, "Content-Type": "application/json"}
        self.minimal = {**self.json, "Prefer": "return=minimal"}
        self.pairs = paired_ids(self.base, self.auth, self.user)
        self.country = country
        self.counter = itertools.count()
        self.lim = {"domain": DOMAIN}
        self.full = {"fields": ",".join(FIELDS), "related": RELATED, **self.lim}

    def sides(self, *items):
        """The sides, less the limit's when there is no limit."""
        return [(n, f) for n, f in items if self.limit or not n.startswith("limit")]

    def rpc(self, method, args):
        return self.user.call_raw("res.partner", method, args, {})[0]

    def rest_id(self):
        return random.choice(self.pairs)[0]

    def db_id(self):
        return random.choice(self.pairs)[1]

    def rest(self, method, path, body=None, headers=None):
        return request(self.base, method, path, body, headers or self.auth)[0]

    def rest_values(self):
        n = next(self.counter)
        return json.dumps(
            {
                "name": f"bench new real {n}",
                "email_address": f"r{n}@bench.example.com",
                "city": "Brussels",
            }
        )

    def orm_values(self):
        n = next(self.counter)
        return {
            "name": f"bench new real {n}",
            "email": f"r{n}@bench.example.com",
            "city": "Brussels",
            "country_id": self.country,
        }

    def phone(self):
        return {"phone": f"+32 {next(self.counter)}"}


def check_create(bench, real):
    """Once, outside the measures: the answer has the alias, the related
    fields and the default."""
    body = {"name": "bench new real check", "email_address": "c@x.example"}
    status, _h, raw = request(real.base, "POST", PATH, json.dumps(body), real.json)
    answer = json.loads(raw).get("result", {}) if status == 201 else {}
    got = answer.get("country_id")
    if not (
        isinstance(got, list)
        and got[1].get("code") == "BE"
        and "email_address" in answer
    ):
        bench.note(f"realistic create answered {status} {raw[:300]!r}")


def reads(bench, real):
    limit, full = real.limit, real.full
    bench.group(
        real.sides(
            (
                SEARCH[0],
                lambda: real.rest("GET", f"{PATH}?limit=80&order=id&count=none"),
            ),
            (
                SEARCH[2],
                lambda: limit.get("/bench_limit/search", limit=80, order="id", **full),
            ),
        )
    )
    bench.group(
        real.sides(
            (READ[0], lambda: real.rest("GET", f"{PATH}/{real.rest_id()}")),
            (READ[1], lambda: real.rpc("read", [[real.db_id()], FIELDS])),
            (
                READ[2],
                lambda: limit.get(f"/bench_limit/read/{real.db_id()}", **full),
            ),
        )
    )


def creates(bench, real):
    limit = real.limit
    bench.group(
        real.sides(
            (
                CREATE_MIN[0],
                lambda: real.rest("POST", PATH, real.rest_values(), real.minimal),
            ),
            (
                CREATE_FULL[0],
                lambda: real.rest("POST", PATH, real.rest_values(), real.json),
            ),
            (CREATE_MIN[1], lambda: real.rpc("create", [real.orm_values()])),
            (
                CREATE_MIN[2],
                lambda: limit.post(
                    "/bench_limit/create", real.orm_values(), **real.lim
                ),
            ),
            (
                CREATE_FULL[2],
                lambda: limit.post(
                    "/bench_limit/create", real.orm_values(), **real.full
                ),
            ),
        )
    )


def updates(bench, real):
    limit = real.limit

    def write(params):
        path = f"/bench_limit/write/{real.db_id()}"
        return limit.post(path, real.phone(), **params)

    bench.group(
        real.sides(
            (
                UPDATE_MIN[0],
                lambda: real.rest(
                    "PATCH",
                    f"{PATH}/{real.rest_id()}",
                    json.dumps(real.phone()),
                    real.minimal,
                ),
            ),
            (
                UPDATE_FULL[0],
                lambda: real.rest(
                    "PATCH",
                    f"{PATH}/{real.rest_id()}",
                    json.dumps(real.phone()),
                    real.json,
                ),
            ),
            (
                UPDATE_MIN[1],
                lambda: real.rpc("write", [[real.db_id()], real.phone()]),
            ),
            (UPDATE_MIN[2], lambda: write(real.lim)),
            (UPDATE_FULL[2], lambda: write(real.full)),
        )
    )


class Pools:
    """Records made to be deleted: one pool per side, taken one at a time."""

    def __init__(self, bench, real):
        self.pools = {"rest": [], "rpc": [], "limit": []}
        self.exhausted = 0
        self.lock = threading.Lock()
        size = int(max(1500, bench.args.duration * 400))
        for start in range(0, size, 1000):
            batch = [
                {"name": f"bench doomed real {i}"}
                for i in range(start, min(size, start + 1000))
            ]
            status, _h, raw = request(
                real.base, "POST", PATH, json.dumps(batch), real.minimal
            )
            if status != 201:
                raise RuntimeError(f"pool create answered {status}: {raw[:300]!r}")
            self.pools["rest"] += json.loads(raw)["result"]
            values = [{**item, "country_id": real.country} for item in batch]
            for key in ("rpc", "limit"):
                self.pools[key] += real.user.call("res.partner", "create", values)

    def take(self, key):
        with self.lock:
            if not self.pools[key]:
                self.exhausted += 1
                return None
            return self.pools[key].pop()

    def delete(self, key, fn):
        """A workload function deleting one record of pool ``key`` with ``fn``
        (status 299 once the pool is empty)."""

        def one():
            rid = self.take(key)
            return 299 if rid is None else fn(rid)

        return one


def deletes(bench, real):
    """Deletes of pooled records: REST, call_kw unlink and the limit."""
    pools = Pools(bench, real)
    # Once: what a delete answers (status and body).
    status, _h, raw = request(
        real.base,
        "DELETE",
        f"{PATH}/{pools.take('rest')}",
        headers={**real.auth, "Prefer": "return=minimal"},
    )
    bench.note(
        f"DELETE with Prefer: return=minimal answers {status} {raw[:80].decode()!r}"
    )
    bench.group(
        real.sides(
            (
                DELETE[0],
                pools.delete("rest", lambda r: real.rest("DELETE", f"{PATH}/{r}")),
            ),
            (DELETE[1], pools.delete("rpc", lambda r: real.rpc("unlink", [[r]]))),
            (
                DELETE[2],
                pools.delete(
                    "limit",
                    lambda r: real.limit.post(
                        f"/bench_limit/unlink/{r}", None, domain=DOMAIN
                    ),
                ),
            ),
        )
    )
    if pools.exhausted:
        bench.note(
            f"delete pools ran out {pools.exhausted} time(s): those requests "
            "(status 299) are counted; give the pools more records"
        )


def targets(bench, with_limit):
    """Against call_kw: minimal answers >= 1.00, full ones >= 0.95 (reads and
    deletes have one form); against the limit: >= 0.95."""
    bench.target(
        "realistic read by id vs call_kw read", *READ[:2], ">= 0.95", GOAL_FULL
    )
    for what, minimal, full in (
        ("create", CREATE_MIN, CREATE_FULL),
        ("update", UPDATE_MIN, UPDATE_FULL),
    ):
        bench.target(
            f"realistic {what}, return=minimal vs call_kw",
            *minimal[:2],
            ">= 1.00",
            GOAL_MINIMAL,
        )
        bench.target(
            f"realistic {what}, full answer vs call_kw", *full[:2], ">= 0.95", GOAL_FULL
        )
    bench.target(
        "realistic delete vs call_kw unlink", *DELETE[:2], ">= 1.00", GOAL_MINIMAL
    )
    if not with_limit:
        return
    for rest, _rpc, bare in (
        SEARCH,
        READ,
        CREATE_MIN,
        CREATE_FULL,
        UPDATE_MIN,
        UPDATE_FULL,
        DELETE,
    ):
        label = f"{rest.replace('realistic: ', 'realistic ')} vs the limit"
        bench.target(label, rest, bare, ">= 0.95", GOAL_LIMIT)


def run(ctx):
    """The ``realistic`` section."""
    log("realistic API ...")
    api_id, country = configure(ctx.admin, ctx.cfg)
    ctx.cfg["real_api"] = api_id
    real = Real(ctx, country)
    check_create(ctx.bench, real)
    reads(ctx.bench, real)
    creates(ctx.bench, real)
    updates(ctx.bench, real)
    deletes(ctx.bench, real)
    targets(ctx.bench, ctx.limit is not None)
    cleanup(ctx)
