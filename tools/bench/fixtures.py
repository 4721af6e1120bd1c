"""What a run configures through JSON-RPC as the admin: the bench user, the
seeded partners, the simple APIs and the client app; temporary system
parameters; and the cleanup of what the write workloads created."""

import contextlib
import json
from urllib.parse import quote

from .common import log, request
from .servers import psql

SCOPES = ("search", "read", "create", "update", "delete", "rpc")
# The partners the benchmark seeds: writes touch these only (the bench user
# may not edit, say, users' partners).
SEEDED_DOMAIN = '[("name", "=like", "bench partner%")]'
# Names of the records the write workloads create, deleted by cleanup().
CREATED = ("bench new %", "bench bulk %", "bench doomed %")


def ir_field(admin, model, name):
    """The ``ir.model.fields`` id of ``model.name``."""
    domain = [("model", "=", model), ("name", "=", name)]
    return admin.call("ir.model.fields", "search", domain)[0]


def xmlid(admin, module, name):
    return admin.call("ir.model.data", "check_object_reference", module, name)[1]


def bench_user(admin, login, password):
    """An internal user who may edit partners; its id."""
    groups = [
        xmlid(admin, "base", "group_user"),
        xmlid(admin, "base", "group_partner_manager"),
    ]
    user_fields = admin.call("res.users", "fields_get", [], attributes=["type"])
    groups_field = "group_ids" if "group_ids" in user_fields else "groups_id"
    users = admin.call("res.users", "search", [("login", "=", login)])
    if users:
        user_id = users[0]
    else:
        user_id = admin.call(
            "res.users",
            "create",
            {"name": "Bench user", "login": login, groups_field: [(6, 0, groups)]},
        )
    admin.call("res.users", "write", [user_id], {"password": password})
    return user_id


def seed_partners(admin, prefix, seed):
    """Partners ``<prefix> partner NNNNN`` up to ``seed``, by batches of 1000."""
    have = admin.call(
        "res.partner", "search_count", [("name", "=like", f"{prefix} partner %")]
    )
    countries = admin.call("res.country", "search", [], limit=50)
    while have < seed:
        batch = min(1000, seed - have)
        admin.call(
            "res.partner",
            "create",
            [
                {
                    "name": f"{prefix} partner {have + i:05d}",
                    "email": f"p{have + i}@{prefix}.example.com",
                    "phone": f"+32 2 {have + i:06d}",
                    "country_id": countries[(have + i) % len(countries)],
                }
                for i in range(batch)
            ],
        )
        have += batch


def client_app(admin, name, values):
    """The client app named ``name`` (created or rewritten with ``values``)
    with a new secret: ``(database id, client_id, secret)``."""
    found = admin.call("secure.api.client", "search", [("name", "=", name)])
    if found:
        app_id = found[0]
        admin.call("secure.api.client", "write", [app_id], values)
    else:
        app_id = admin.call("secure.api.client", "create", {"name": name, **values})
    secret = admin.call("secure.api.client", "action_generate_secret", [app_id])
    public = admin.call("secure.api.client", "read", [app_id], ["client_id"])[0]
    return app_id, public["client_id"], secret


def publish_api(admin, values, lines, **replace):
    """The API of ``values['route']``, created or rewritten with ``values``
    and field ``lines`` (and the one2many ``replace`` lists), published."""
    found = admin.call("secure.api", "search", [("route", "=", values["route"])])
    if found:
        replaced = {key: [(5, 0, 0), *items] for key, items in replace.items()}
        admin.call(
            "secure.api",
            "write",
            found,
            {**values, "field_ids": [(5, 0, 0), *lines], **replaced},
        )
        api_id = found[0]
    else:
        api_id = admin.call(
            "secure.api", "create", {**values, "field_ids": lines, **replace}
        )
    admin.call("secure.api", "action_publish", [api_id])
    return api_id


def api_values(admin, route, client_id, **values):
    """An API of res.partner for the bench user and ``client_id``: every
    operation allowed, obfuscated ids, pages up to 500 in id order."""
    model_id = admin.call("ir.model", "search", [("model", "=", "res.partner")])[0]
    return {
        "name": route,
        "route": route,
        "model_id": model_id,
        "auth_mode": "user",
        "obfuscate_ids": True,
        "max_limit": 500,
        "default_order": "id",
        "client_ids": [(6, 0, [client_id])],
        **{f"allow_{op}": True for op in SCOPES},
        **values,
    }


def simple_apis(admin, prefix, client_id):
    """``{key: api id}`` of the simple APIs: name, email and phone of
    partners (``api``), the same with ``country_id`` and two related fields
    (``rel_api``), with contacts written as lines (``lines_api``) and
    without statistics (``nostats_api``)."""

    def line(model, name, **values):
        return (0, 0, {"field_id": ir_field(admin, model, name), **values})

    lines = [
        line("res.partner", "name", searchable=True, writable=True),
        line("res.partner", "email", searchable=True, writable=True),
        line("res.partner", "phone", writable=True),
    ]
    country = line(
        "res.partner",
        "country_id",
        related_field_ids=[
            (
                6,
                0,
                [ir_field(admin, "res.country", n) for n in ("name", "code")],
            )
        ],
    )
    # Contacts written with their company (nested writes): name and email.
    contacts = line(
        "res.partner",
        "child_ids",
        alias="contacts",
        writable=True,
        allow_lines=True,
        line_field_ids=[
            (0, 0, {"field_id": ir_field(admin, "res.partner", n), "writable": True})
            for n in ("name", "email")
        ],
    )
    routes = (
        ("api", f"{prefix}/partners", lines, True),
        ("lines_api", f"{prefix}/partners-lines", [*lines, contacts], True),
        ("rel_api", f"{prefix}/partners-rel", [*lines, country], True),
        ("nostats_api", f"{prefix}/partners-nostats", lines, False),
    )
    return {
        key: publish_api(
            admin,
            api_values(admin, route, client_id, statistics_enabled=statistics),
            api_lines,
        )
        for key, route, api_lines, statistics in routes
    }


def configure(admin, prefix="bench", seed=10000, user_password="bench-user-pw"):
    """Users, partners, APIs and a client app for the workloads: the ``cfg``
    dict of a run (ids, client credentials, the user's login)."""
    login = f"{prefix}_user"
    user_id = bench_user(admin, login, user_password)
    seed_partners(admin, prefix, seed)
    app_id, client, secret = client_app(
        admin,
        f"{prefix} client",
        {
            "user_id": user_id,
            "token_lifetime": 3600,
            **{f"scope_{s}": True for s in SCOPES},
        },
    )
    return {
        "user_id": user_id,
        "client": client,
        "secret": secret,
        "client_db_id": app_id,
        **simple_apis(admin, prefix, app_id),
        "login": login,
        "password": user_password,
    }


@contextlib.contextmanager
def system_param(admin, key, value):
    """Set the system parameter ``key`` for the ``with`` block, then restore it.

    Parameters feed the settings caches, which Odoo clears (in every worker)
    when a parameter changes. An unset parameter is removed again afterwards.
    """
    previous = admin.call("ir.config_parameter", "get_param", key)
    admin.call("ir.config_parameter", "set_param", key, value)
    try:
        yield previous
    finally:
        admin.call("ir.config_parameter", "set_param", key, previous)


def seeded_rest_ids(base, auth, limit, path="/api/bench/partners"):
    """The ids (as the API shows them) of the first ``limit`` seeded
    partners, in id order."""
    status, _headers, raw = request(
        base,
        "GET",
        f"{path}?limit={limit}&order=id&fields=name&domain={quote(SEEDED_DOMAIN)}",
        headers=auth,
    )
    if status != 200:
        raise RuntimeError(f"seeded search answered {status}: {raw[:300]!r}")
    return [record["id"] for record in json.loads(raw)["result"]["records"]]


def seeded_ids(user, limit):
    """The database ids of the first ``limit`` seeded partners, in id order."""
    domain = [("name", "=like", "bench partner%")]
    return user.call("res.partner", "search", domain, limit=limit, order="id")


def delete_outbox(admin, api_id):
    """The outbox events of ``api_id`` (their deliveries go with them)."""
    ids = admin.call("secure.api.event", "search", [("api_id", "=", api_id)])
    for start in range(0, len(ids), 5000):
        admin.call("secure.api.event", "unlink", ids[start : start + 5000])


def cleanup(ctx):
    """Delete what the write workloads created, so later pairs see 10k rows."""
    log("cleaning up the records the writes created ...")
    for pattern in CREATED:
        ids = ctx.admin.call("res.partner", "search", [("name", "=like", pattern)])
        for start in range(0, len(ids), 2000):
            ctx.admin.call("res.partner", "unlink", ids[start : start + 2000])
    # The outbox too: the delivery claim walks the event table (dead rows of
    # deleted events included) until it is vacuumed.
    psql(
        ctx.args.db_args,
        ctx.args.db,
        "VACUUM ANALYZE res_partner, secure_api_event, secure_api_webhook_delivery",
        check=False,
    )
