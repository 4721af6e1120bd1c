"""The benchmark's round-2 sections (issue #17, rows of #12 and #13).

Imported by tools/benchmark.py (stdlib only):

- the limit: bare routes of the test-only addon ``secure_api_bench_limit``
  (tools/bench_addons/) doing the ORM work of each REST call;
- a realistic API beside the simple one (forced domain, a default value, an
  alias, a many2one with two related fields, obfuscated ids);
- hostile clients (token and revoke, token and introspect, bad tokens);
- webhook deliveries per second from one cron run at a time;
- the workers' memory before and after load and N minutes of random tokens
  and ids.
"""

import http.server
import itertools
import json
import random
import secrets
import string
import threading
import time
from urllib.parse import quote, urlencode

from bench_common import (
    HOST,
    LIMIT_MODULE,
    JsonRpc,
    OdooServer,
    Workload,
    free_port,
    log,
    request,
    rss_kib,
    seeded_rest_ids,
    system_param,
    token,
)

REAL_ROUTE = "bench/partners-real"
REAL_PATH = f"/api/{REAL_ROUTE}"
# The realistic API's forced domain, as the API stores it and as the limit
# routes receive it (JSON).
REAL_DOMAIN = [("type", "=", "contact"), ("country_id", "!=", False)]
REAL_FIELDS = ["name", "email", "phone", "city", "country_id"]
REAL_RELATED = "country_id:name,code"
SIMPLE_FIELDS = "name,email,phone"
HOSTILE_CLIENT = "bench hostile client"
GOAL_MINIMAL, GOAL_FULL, GOAL_LIMIT, GOAL_HOSTILE = 1.0, 0.95, 0.95, 0.90


def header(headers, name):
    return {k.lower(): v for k, v in headers.items()}.get(name.lower())


# ----------------------------------------------------------------------
# The limit
# ----------------------------------------------------------------------


class Limit:
    """The limit routes of ``secure_api_bench_limit``, as the API's user."""

    def __init__(self, base, secret):
        self.base = base
        self.auth = {"Authorization": f"Bearer {secret}"}
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

    def get(self, path, **params):
        return request(self.base, "GET", path + self.query(**params), headers=self.auth)

    def post(self, path, body, **params):
        return request(
            self.base, "POST", path + self.query(**params), json.dumps(body), self.json
        )


def setup_limit(bench, base, admin, cfg):
    """Point the limit routes at the API's execution user, behind a random
    bearer token; ``None`` (and a note) when the addon is not installed."""
    installed = admin.call(
        "ir.module.module",
        "search_count",
        [("name", "=", LIMIT_MODULE), ("state", "=", "installed")],
    )
    if not installed:
        bench.note(f"{LIMIT_MODULE} is not installed: no limit rows")
        return None
    secret = secrets.token_urlsafe(32)
    admin.call(
        "ir.config_parameter", "set_param", f"{LIMIT_MODULE}.uid", str(cfg["user_id"])
    )
    admin.call("ir.config_parameter", "set_param", f"{LIMIT_MODULE}.token", secret)
    limit = Limit(base, secret)
    time.sleep(1)
    status, _h, raw = limit.get("/bench_limit/search", fields="name", limit=1)
    refused = request(base, "GET", "/bench_limit/search?fields=name")[0]
    wrong = request(
        base,
        "GET",
        "/bench_limit/search?fields=name",
        headers={"Authorization": "Bearer " + secrets.token_urlsafe(32)},
    )[0]
    if status != 200 or refused != 401 or wrong != 401:
        bench.note(
            f"limit routes answered {status} {raw[:120]!r}; without the token "
            f"{refused}, with a wrong one {wrong} (200, 401, 401 expected)"
        )
    return limit


# ----------------------------------------------------------------------
# The realistic API
# ----------------------------------------------------------------------


def ir_field(admin, model, name):
    domain = [("model", "=", model), ("name", "=", name)]
    return admin.call("ir.model.fields", "search", domain)[0]


def configure_realistic(admin, cfg, route=REAL_ROUTE, max_limit=500):
    """res.partner with a forced domain, a default (the country), an alias
    (``email`` is ``email_address``), ``country_id`` with two related fields
    and obfuscated ids. Returns ``(api id, default country id)``."""
    country = admin.call("res.country", "search", [("code", "=", "BE")], limit=1)[0]

    def line(name, **values):
        return (0, 0, {"field_id": ir_field(admin, "res.partner", name), **values})

    lines = [
        line("name", searchable=True, writable=True),
        line("email", alias="email_address", searchable=True, writable=True),
        line("phone", writable=True),
        line("city", searchable=True, writable=True),
        line(
            "country_id",
            searchable=True,
            writable=True,
            related_field_ids=[
                (
                    6,
                    0,
                    [
                        ir_field(admin, "res.country", "name"),
                        ir_field(admin, "res.country", "code"),
                    ],
                )
            ],
        ),
    ]
    defaults = [
        (
            0,
            0,
            {
                "field_id": ir_field(admin, "res.partner", "country_id"),
                "expression": str(country),
            },
        )
    ]
    model_id = admin.call("ir.model", "search", [("model", "=", "res.partner")])[0]
    values = {
        "name": route,
        "route": route,
        "model_id": model_id,
        "auth_mode": "user",
        "obfuscate_ids": True,
        "statistics_enabled": True,
        "domain": repr(REAL_DOMAIN),
        "max_limit": max_limit,
        "default_order": "id",
        "client_ids": [(6, 0, [cfg["client_db_id"]])],
        **{
            f"allow_{op}": True
            for op in ("search", "read", "create", "update", "delete", "rpc")
        },
    }
    found = admin.call("secure.api", "search", [("route", "=", route)])
    if found:
        admin.call(
            "secure.api",
            "write",
            found,
            {
                **values,
                "field_ids": [(5, 0, 0), *lines],
                "default_ids": [(5, 0, 0), *defaults],
            },
        )
        api_id = found[0]
    else:
        api_id = admin.call(
            "secure.api",
            "create",
            {**values, "field_ids": lines, "default_ids": defaults},
        )
    admin.call("secure.api", "action_publish", [api_id])
    return api_id, country


def paired_ids(base, auth, user, count=2000):
    """``count`` seeded partners as ``[(REST id, database id)]``: the same
    records on every side, by id order."""
    seeded = quote('[("name", "=like", "bench partner%")]')
    rest = []
    for offset in range(0, count, 500):
        status, _h, raw = request(
            base,
            "GET",
            f"{REAL_PATH}?limit=500&offset={offset}&order=id&fields=name"
            f"&count=none&domain={seeded}",
            headers=auth,
        )
        if status != 200:
            raise RuntimeError(f"realistic search answered {status}: {raw[:300]!r}")
        rest += [r["id"] for r in json.loads(raw)["result"]["records"]]
    plain = user.call(
        "res.partner",
        "search",
        [("name", "=like", "bench partner%"), *REAL_DOMAIN],
        limit=count,
        order="id",
    )
    if len(rest) != len(plain):
        raise RuntimeError(f"{len(rest)} REST ids and {len(plain)} database ids")
    return list(zip(rest[:count], plain, strict=True))


def realistic_run(bench, base, cfg, admin, user, limit):
    """Read, create, update and delete on the realistic API against call_kw
    and the limit, on random records among 2,000."""
    log("realistic API ...")
    api_id, country = configure_realistic(admin, cfg)
    cfg["real_api"] = api_id
    jwt = token(base, cfg["client"], cfg["secret"], "jwt")
    auth = {"Authorization": f"Bearer {jwt}"}
    json_headers = {**auth, "Content-Type": "application/json"}
    minimal = {**json_headers, "Prefer": "return=minimal"}
    pairs = paired_ids(base, auth, user)
    counter = itertools.count()
    lim = {"domain": REAL_DOMAIN}
    full = {"fields": ",".join(REAL_FIELDS), "related": REAL_RELATED, **lim}

    def rpc(method, args_):
        return user.call_raw("res.partner", method, args_, {})[0]

    def sides(*items):
        """The sides, less the limit's when there is no limit."""
        return [(n, f) for n, f in items if limit or not n.startswith("limit")]

    # Once, outside the measures: the answer has the alias, the related
    # fields and the default.
    status, _h, raw = request(
        base,
        "POST",
        REAL_PATH,
        json.dumps({"name": "bench new real check", "email_address": "c@x.example"}),
        json_headers,
    )
    answer = json.loads(raw).get("result", {}) if status == 201 else {}
    got = answer.get("country_id")
    if not (
        isinstance(got, list)
        and got[1].get("code") == "BE"
        and "email_address" in answer
    ):
        bench.note(f"realistic create answered {status} {raw[:300]!r}")
    bench.group(
        sides(
            (
                "realistic: REST search 80, count=none",
                lambda: request(
                    base,
                    "GET",
                    f"{REAL_PATH}?limit=80&order=id&count=none",
                    headers=auth,
                )[0],
            ),
            (
                "limit: search 80 (realistic)",
                lambda: limit.get("/bench_limit/search", limit=80, order="id", **full)[
                    0
                ],
            ),
        )
    )
    bench.group(
        sides(
            (
                "realistic: REST read by id",
                lambda: request(
                    base, "GET", f"{REAL_PATH}/{random.choice(pairs)[0]}", headers=auth
                )[0],
            ),
            (
                "realistic: call_kw read",
                lambda: rpc("read", [[random.choice(pairs)[1]], REAL_FIELDS]),
            ),
            (
                "limit: read (realistic)",
                lambda: limit.get(
                    f"/bench_limit/read/{random.choice(pairs)[1]}", **full
                )[0],
            ),
        )
    )

    def rest_values():
        n = next(counter)
        return json.dumps(
            {
                "name": f"bench new real {n}",
                "email_address": f"r{n}@bench.example.com",
                "city": "Brussels",
            }
        )

    def orm_values():
        n = next(counter)
        return {
            "name": f"bench new real {n}",
            "email": f"r{n}@bench.example.com",
            "city": "Brussels",
            "country_id": country,
        }

    bench.group(
        sides(
            (
                "realistic: REST create, return=minimal",
                lambda: request(base, "POST", REAL_PATH, rest_values(), minimal)[0],
            ),
            (
                "realistic: REST create, full answer",
                lambda: request(base, "POST", REAL_PATH, rest_values(), json_headers)[
                    0
                ],
            ),
            ("realistic: call_kw create", lambda: rpc("create", [orm_values()])),
            (
                "limit: create, id only (realistic)",
                lambda: limit.post("/bench_limit/create", orm_values(), **lim)[0],
            ),
            (
                "limit: create, read back (realistic)",
                lambda: limit.post("/bench_limit/create", orm_values(), **full)[0],
            ),
        )
    )

    def phone():
        return {"phone": f"+32 {next(counter)}"}

    bench.group(
        sides(
            (
                "realistic: REST update, return=minimal",
                lambda: request(
                    base,
                    "PATCH",
                    f"{REAL_PATH}/{random.choice(pairs)[0]}",
                    json.dumps(phone()),
                    minimal,
                )[0],
            ),
            (
                "realistic: REST update, full answer",
                lambda: request(
                    base,
                    "PATCH",
                    f"{REAL_PATH}/{random.choice(pairs)[0]}",
                    json.dumps(phone()),
                    json_headers,
                )[0],
            ),
            (
                "realistic: call_kw write",
                lambda: rpc("write", [[random.choice(pairs)[1]], phone()]),
            ),
            (
                "limit: write (realistic)",
                lambda: limit.post(
                    f"/bench_limit/write/{random.choice(pairs)[1]}", phone(), **lim
                )[0],
            ),
            (
                "limit: write, read back (realistic)",
                lambda: limit.post(
                    f"/bench_limit/write/{random.choice(pairs)[1]}", phone(), **full
                )[0],
            ),
        )
    )
    delete_run(bench, base, user, limit, json_headers, auth, sides)
    bench.target(
        "realistic read by id vs call_kw read",
        "realistic: REST read by id",
        "realistic: call_kw read",
        ">= 0.95",
        GOAL_FULL,
    )
    for what, rest_min, rest_full, orm in (
        (
            "create",
            "realistic: REST create, return=minimal",
            "realistic: REST create, full answer",
            "realistic: call_kw create",
        ),
        (
            "update",
            "realistic: REST update, return=minimal",
            "realistic: REST update, full answer",
            "realistic: call_kw write",
        ),
    ):
        bench.target(
            f"realistic {what}, return=minimal vs call_kw",
            rest_min,
            orm,
            ">= 1.00",
            GOAL_MINIMAL,
        )
        bench.target(
            f"realistic {what}, full answer vs call_kw",
            rest_full,
            orm,
            ">= 0.95",
            GOAL_FULL,
        )
    bench.target(
        "realistic delete vs call_kw unlink",
        "realistic: REST delete",
        "realistic: call_kw unlink",
        ">= 1.00",
        GOAL_MINIMAL,
    )
    if limit:
        for rest, bare in (
            ("realistic: REST search 80, count=none", "limit: search 80 (realistic)"),
            ("realistic: REST read by id", "limit: read (realistic)"),
            (
                "realistic: REST create, return=minimal",
                "limit: create, id only (realistic)",
            ),
            (
                "realistic: REST create, full answer",
                "limit: create, read back (realistic)",
            ),
            ("realistic: REST update, return=minimal", "limit: write (realistic)"),
            (
                "realistic: REST update, full answer",
                "limit: write, read back (realistic)",
            ),
            ("realistic: REST delete", "limit: unlink (realistic)"),
        ):
            bench.target(
                f"{rest.replace('realistic: ', 'realistic ')} vs the limit",
                rest,
                bare,
                ">= 0.95",
                GOAL_LIMIT,
            )


def delete_run(bench, base, user, limit, json_headers, auth, sides):
    """Deletes of pooled records: REST, call_kw unlink and the limit."""
    pools = {"rest": [], "rpc": [], "limit": []}
    size = int(max(1500, bench.args.duration * 400))
    minimal = {**json_headers, "Prefer": "return=minimal"}
    country = user.call("res.country", "search", [("code", "=", "BE")], limit=1)[0]
    for start in range(0, size, 1000):
        batch = [
            {"name": f"bench doomed real {i}"}
            for i in range(start, min(size, start + 1000))
        ]
        status, _h, raw = request(base, "POST", REAL_PATH, json.dumps(batch), minimal)
        if status != 201:
            raise RuntimeError(f"pool create answered {status}: {raw[:300]!r}")
        pools["rest"] += json.loads(raw)["result"]
        values = [{**item, "country_id": country} for item in batch]
        for key in ("rpc", "limit"):
            pools[key] += user.call("res.partner", "create", values)
    lock = threading.Lock()
    exhausted = {"n": 0}

    def take(key):
        with lock:
            if not pools[key]:
                exhausted["n"] += 1
                return None
            return pools[key].pop()

    def rest_delete():
        rid = take("rest")
        if rid is None:
            return 299
        return request(base, "DELETE", f"{REAL_PATH}/{rid}", headers=auth)[0]

    def rpc_unlink():
        rid = take("rpc")
        if rid is None:
            return 299
        return user.call_raw("res.partner", "unlink", [[rid]], {})[0]

    def limit_unlink():
        rid = take("limit")
        if rid is None:
            return 299
        return limit.post(f"/bench_limit/unlink/{rid}", None, domain=REAL_DOMAIN)[0]

    # Once: what a delete answers (status and body).
    rid = take("rest")
    status, _h, raw = request(
        base,
        "DELETE",
        f"{REAL_PATH}/{rid}",
        headers={**auth, "Prefer": "return=minimal"},
    )
    bench.note(
        f"DELETE with Prefer: return=minimal answers {status} {raw[:80].decode()!r}"
    )
    bench.group(
        sides(
            ("realistic: REST delete", rest_delete),
            ("realistic: call_kw unlink", rpc_unlink),
            ("limit: unlink (realistic)", limit_unlink),
        )
    )
    if exhausted["n"]:
        bench.note(
            f"delete pools ran out {exhausted['n']} time(s): those requests "
            "(status 299) are counted; give the pools more records"
        )


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


def limit_rows(limit, counter, nxt, rpc_cycle):
    """The limit's side of each simple-API row (none without a limit)."""
    if limit is None:
        return {}

    def values():
        return {"name": f"bench new {next(counter)}", "email": "n@bench.example.com"}

    def phone():
        return {"phone": f"+1 {next(counter)}"}

    hundred = [
        {"name": f"bench bulk {i}", "email": "b@bench.example.com"} for i in range(100)
    ]
    simple = {"fields": SIMPLE_FIELDS}
    page = {"limit": 80, "order": "id", **simple}
    fns = {
        "search exact": lambda: limit.get("/bench_limit/search", count=1, **page)[0],
        "search": lambda: limit.get("/bench_limit/search", **page)[0],
        "read": lambda: limit.get(f"/bench_limit/read/{nxt(rpc_cycle)}", **simple)[0],
        "create": lambda: limit.post("/bench_limit/create", values(), **simple)[0],
        "bulk": lambda: limit.post("/bench_limit/create", hundred, **simple)[0],
        "update": lambda: limit.post(
            f"/bench_limit/write/{nxt(rpc_cycle)}", phone(), **simple
        )[0],
        "create minimal": lambda: limit.post("/bench_limit/create", values())[0],
        "update minimal": lambda: limit.post(
            f"/bench_limit/write/{nxt(rpc_cycle)}", phone()
        )[0],
    }
    return {key: (SIMPLE_VS_LIMIT[key][1], fn) for key, fn in fns.items()}


def limit_targets(bench):
    """Every simple-API REST row against its limit row, when both ran."""
    for rest, bare in SIMPLE_VS_LIMIT.values():
        if rest in bench.results and bare in bench.results:
            bench.target(f"{rest} vs the limit", rest, bare, ">= 0.95", GOAL_LIMIT)


# ----------------------------------------------------------------------
# Hostile clients
# ----------------------------------------------------------------------


def hostile_client(admin, cfg):
    """Another client app of the same user: ``(client_id, secret)``."""
    found = admin.call("secure.api.client", "search", [("name", "=", HOSTILE_CLIENT)])
    if found:
        client_id = found[0]
    else:
        client_id = admin.call(
            "secure.api.client",
            "create",
            {
                "name": HOSTILE_CLIENT,
                "user_id": cfg["user_id"],
                "token_lifetime": 3600,
                "scope_read": True,
                "scope_search": True,
            },
        )
    secret = admin.call("secure.api.client", "action_generate_secret", [client_id])
    public = admin.call("secure.api.client", "read", [client_id], ["client_id"])[0]
    return public["client_id"], secret


def random_token():
    """A bad bearer token: opaque-shaped, or JWT-shaped one time in four."""
    if random.random() < 0.25:
        return ".".join(secrets.token_urlsafe(n) for n in (27, 60, 32))
    return secrets.token_urlsafe(32)


def hostile_run(bench, base, cfg, admin):
    """A legitimate client's reads while another client loops token and
    revoke, or token and introspect; and while it sends bad tokens, random
    ones or always the same one."""
    log("hostile clients ...")
    client, secret = hostile_client(admin, cfg)
    creds = {"client_id": client, "client_secret": secret}
    form_headers = {"Content-Type": "application/x-www-form-urlencoded"}
    opaque = token(base, cfg["client"], cfg["secret"], "opaque")
    auth = {"Authorization": f"Bearer {opaque}"}
    ids = seeded_rest_ids(base, auth, 200)
    counts = {}

    def counted(kind, status):
        counts[(kind, status)] = counts.get((kind, status), 0) + 1

    def token_then(action):
        def loop():
            issued = token(base, client, secret, "opaque")
            status = request(
                base,
                "POST",
                f"/api/oauth2/{action}",
                urlencode({**creds, "token": issued}),
                form_headers,
            )[0]
            counted(action, status)

        return loop

    fixed = secrets.token_urlsafe(32)

    def bad_token(value):
        def loop():
            status = request(
                base,
                "GET",
                f"/api/bench/partners/{random.choice(ids)}",
                headers={
                    "Authorization": f"Bearer {value() if callable(value) else value}"
                },
            )[0]
            counted(
                "random bad token" if callable(value) else "fixed bad token", status
            )

        return loop

    def legit():
        return request(
            base, "GET", f"/api/bench/partners/{random.choice(ids)}", headers=auth
        )[0]

    a, b = (
        "REST read by id (opaque), other client: token + revoke",
        "REST read by id (opaque), other client: token + introspect",
    )
    bench.pair(
        a,
        legit,
        b,
        legit,
        background={a: token_then("revoke"), b: token_then("introspect")},
    )
    c, d = (
        "REST read by id (opaque), other client: random bad tokens",
        "REST read by id (opaque), other client: one fixed bad token",
    )
    bench.pair(
        c,
        legit,
        d,
        legit,
        background={c: bad_token(random_token), d: bad_token(fixed)},
    )
    bench.note(
        "hostile requests sent: "
        + ", ".join(f"{k} {s}: {n}" for (k, s), n in sorted(counts.items()))
    )
    bench.target("read while token+revoke vs token+introspect", a, b, ">= 0.90", 0.90)
    bench.target("read while random bad tokens vs one fixed", c, d, ">= 0.90", 0.90)


# ----------------------------------------------------------------------
# Webhook deliveries
# ----------------------------------------------------------------------


class Receiver:
    """A local webhook receiver: counts the deliveries, answers 204."""

    def __init__(self):
        self.count = 0
        self.seen = set()
        self.times = []
        lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - the handler's name
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                with lock:
                    receiver.count += 1
                    receiver.seen.add(self.headers.get("X-Secure-Api-Delivery"))
                    receiver.times.append(time.perf_counter())
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = http.server.ThreadingHTTPServer((HOST, free_port()), Handler)
        self.url = f"http://{HOST}:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def delivery_run(bench, base, cfg, admin, count=1000):
    """Deliveries per second of one cron run at a time to a local receiver.

    The cron job is run through ``ir.cron.method_direct_trigger`` (as the
    admin, over JSON-RPC) again and again until the receiver got ``count``
    deliveries: one delivery run at a time, as one cron worker does. Each
    run delivers up to 200 (the job's batch) in its transaction.
    """
    log(f"webhook deliveries of {count} events ...")
    receiver = Receiver()
    jwt = token(base, cfg["client"], cfg["secret"], "jwt")
    minimal = {
        "Authorization": f"Bearer {jwt}",
        "Content-Type": "application/json",
        "Prefer": "return=minimal",
    }
    cron = admin.call(
        "ir.model.data",
        "check_object_reference",
        "secure_api",
        "ir_cron_webhook_deliver",
    )[1]
    hook = None
    try:
        with system_param(admin, "secure_api.webhook_allow_private", "1"):
            hook = admin.call(
                "secure.api.webhook",
                "create",
                {
                    "api_id": cfg["api"],
                    "url": receiver.url,
                    "events": "create",
                    "user_id": cfg["user_id"],
                },
            )
            # The subscription reloads the registries: let the workers do it.
            time.sleep(2)
            for _attempt in range(10):
                request(base, "GET", "/web/login")
            for start in range(0, count, 100):
                batch = [
                    {"name": f"bench new hook {i}"}
                    for i in range(start, min(count, start + 100))
                ]
                status, _h, raw = request(
                    base, "POST", "/api/bench/partners", json.dumps(batch), minimal
                )
                if status != 201:
                    raise RuntimeError(f"bulk create answered {status}: {raw[:200]!r}")
            started = time.perf_counter()
            runs = 0
            deadline = started + 300
            while receiver.count < count and time.perf_counter() < deadline:
                admin.call("ir.cron", "method_direct_trigger", [cron])
                runs += 1
                if runs > count:  # nothing is delivered: stop
                    break
            ended = receiver.times[count - 1] if receiver.count >= count else None
    finally:
        if hook:
            admin.call("secure.api.webhook", "unlink", [hook])
        receiver.close()
    events = admin.call("secure.api.event", "search", [("api_id", "=", cfg["api"])])
    for start in range(0, len(events), 5000):
        admin.call("secure.api.event", "unlink", events[start : start + 5000])
    if ended is None:
        # Cut at the deadline: the rate of what arrived.
        ended = receiver.times[-1] if receiver.times else time.perf_counter()
        bench.note(
            f"webhook deliveries: only {receiver.count} of {count} arrived in "
            f"{runs} cron runs ({ended - started:.0f} s)"
        )
        count = receiver.count
    rate = count / (ended - started) if count else 0.0
    bench.note(
        f"webhook deliveries: {count} in {ended - started:.1f} s over {runs} cron "
        f"runs, {len(receiver.seen)} distinct delivery ids, {receiver.count} received"
    )
    bench.targets.append(
        ("webhook deliveries per second, one cron worker", rate, "info", None, True)
    )


# ----------------------------------------------------------------------
# Memory
# ----------------------------------------------------------------------


def memory_run(bench, args, command, addons, db_args, cfg):
    """VmRSS of each HTTP worker after a warm-up, after 60 s of load and
    after ``--memory-minutes`` of random tokens and random ids.

    A server of its own, whose workers are not recycled during the run
    (``--limit-request`` high): recycled workers would hide a growth.
    """
    minutes = args.memory_minutes
    log(f"memory: 60 s of load, then {minutes:g} min of random tokens and ids ...")
    server = OdooServer(
        command,
        args.db,
        addons,
        db_args,
        workers=args.workers,
        extra=("--load=base,web", "--limit-request=1000000000"),
    )
    try:
        return _memory(bench, args, server, cfg, minutes)
    finally:
        server.stop()


def _memory(bench, args, server, cfg, minutes):
    base = server.url
    user = JsonRpc(base, args.db, cfg["login"], cfg["password"])
    jwt = token(base, cfg["client"], cfg["secret"], "jwt")
    auth = {"Authorization": f"Bearer {jwt}"}
    json_headers = {**auth, "Content-Type": "application/json"}
    ids = seeded_rest_ids(base, auth, 500)
    plain = user.call(
        "res.partner", "search", [("name", "=like", "bench partner%")], limit=500
    )
    counter = itertools.count()
    alphabet = string.ascii_letters + string.digits

    def search():
        return request(
            base,
            "GET",
            f"/api/bench/partners?limit=80&fields={SIMPLE_FIELDS}",
            headers=auth,
        )[0]

    def read():
        return request(
            base, "GET", f"/api/bench/partners/{random.choice(ids)}", headers=auth
        )[0]

    def create():
        body = json.dumps({"name": f"bench new mem {next(counter)}"})
        return request(base, "POST", "/api/bench/partners", body, json_headers)[0]

    def update():
        body = json.dumps({"phone": f"+1 {next(counter)}"})
        path = f"/api/bench/partners/{random.choice(ids)}"
        return request(base, "PATCH", path, body, json_headers)[0]

    def real():
        return request(base, "GET", f"{REAL_PATH}?limit=80&count=none", headers=auth)[0]

    def rpc_read():
        return user.call_raw("res.partner", "read", [[random.choice(plain)]], {})[0]

    legit = [search] * 3 + [read] * 3 + [create, update, real, rpc_read]

    def bad_token():
        return request(
            base,
            "GET",
            f"/api/bench/partners/{random.choice(ids)}",
            headers={"Authorization": f"Bearer {random_token()}"},
        )[0]

    def random_id():
        rid = "".join(random.choice(alphabet) for _ in range(random.randint(6, 12)))
        return request(base, "GET", f"/api/bench/partners/{rid}", headers=auth)[0]

    def random_int_id():
        return user.call_raw(
            "res.partner", "read", [[random.randint(10**6, 10**9)]], {}
        )[0]

    def new_token():
        fresh = token(
            base, cfg["client"], cfg["secret"], random.choice(("opaque", "jwt"))
        )
        return request(
            base,
            "GET",
            f"/api/bench/partners/{random.choice(ids)}",
            headers={"Authorization": f"Bearer {fresh}"},
        )[0]

    def random_domain():
        prefix = "".join(random.choice(string.ascii_lowercase) for _ in range(5))
        domain = quote(f'[("name", "=like", "{prefix}%")]')
        return request(
            base, "GET", f"/api/bench/partners?limit=10&domain={domain}", headers=auth
        )[0]

    hostile = (
        [bad_token] * 4
        + [random_id] * 3
        + [new_token] * 2
        + [
            random_domain,
            random_int_id,
        ]
    )
    Workload(lambda: random.choice(legit)(), args.concurrency, 10).run()
    before = server.workers()
    samples = [("after a 10 s warm-up", time.time(), _rss(before))]
    load = Workload(lambda: random.choice(legit)(), args.concurrency, 60).run()
    samples.append(("after 60 s of load", time.time(), _rss(before)))
    statuses = dict(load.statuses)
    end = time.time() + minutes * 60
    step = max(30.0, minutes * 60 / 5)
    while time.time() < end:
        seconds = min(step, end - time.time())
        work = Workload(
            lambda: random.choice(hostile)(), args.concurrency, seconds
        ).run()
        for key, value in work.statuses.items():
            statuses[key] = statuses.get(key, 0) + value
        elapsed = minutes * 60 - (end - time.time())
        samples.append(
            (f"after {elapsed / 60:.1f} min of random ones", time.time(), _rss(before))
        )
    after = server.workers()
    if _rss(after).keys() != _rss(before).keys():
        bench.note(
            f"memory: the worker processes changed during the run ({sorted(before)} "
            f"-> {sorted(after)}): a recycled worker hides its growth"
        )
    memory_table(bench, args, minutes, before, samples, statuses)


def memory_table(bench, args, minutes, before, samples, statuses):
    """The RSS samples as a table, and the largest growth as a target line."""
    pids = sorted(pid for pid, kind in before.items() if kind == "worker")
    rows = []
    for label, _when, rss in samples:
        rows.append([label, *[_mib(rss.get(pid)) for pid in pids]])
    start, last = samples[1][2], samples[-1][2]
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
        bench.targets.append(
            (
                f"worker RSS growth over {minutes:g} min of random tokens and ids "
                "(MiB, largest)",
                max(growth) / 1024,
                "info",
                None,
                False,
            )
        )


def _rss(workers):
    return {pid: rss_kib(pid) for pid, kind in workers.items() if kind == "worker"}


def _mib(kib):
    return f"{kib / 1024:.1f}" if kib else "-"
