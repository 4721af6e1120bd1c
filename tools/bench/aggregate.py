"""The richer queries' rows of the benchmark (section ``aggregate``).

Partners grouped by country with their count, on the realistic API (forced
domain, aliases, obfuscated ids, related fields: realistic.py's), against the
web client's own grouped read, ``web_read_group``, through call_kw as the
same user, inside the same domain.
"""

import json

from . import realistic
from .common import bearer, log, request, token

AGGREGATE_REST = "realistic: REST aggregate partners by country, count"
AGGREGATE_RPC = "call_kw web_read_group partners by country (session)"


def web_read_group_kwargs(series, limit):
    """``web_read_group`` of partners by country: 19.0 takes ``groupby`` and
    ``aggregates``; 17.0 and 18.0 take ``fields`` and ``groupby`` (lazy)."""
    domain = realistic.DOMAIN
    if series >= 19:
        return {
            "domain": domain,
            "groupby": ["country_id"],
            "aggregates": ["__count"],
            "limit": limit,
        }
    return {
        "domain": domain,
        "fields": ["country_id"],
        "groupby": ["country_id"],
        "limit": limit,
        "lazy": True,
    }


def _rpc_counts(body):
    """``{country name: count}`` of a web_read_group answer."""
    counts = {}
    for group in body["result"]["groups"]:
        count = group.get("__count", group.get("country_id_count"))
        counts[group["country_id"][1] if group["country_id"] else None] = count
    return counts


def run(ctx):
    """The ``aggregate`` section."""
    bench, base, cfg, admin, user = ctx.bench, ctx.base, ctx.cfg, ctx.admin, ctx.user
    series = ctx.series
    log("aggregates ...")
    api_id, _country = realistic.configure(admin, cfg)
    admin.call("secure.api", "write", [api_id], {"allow_aggregate": True})
    limit = admin.call("secure.api", "read", [api_id], ["max_limit"])[0]["max_limit"]
    auth = bearer(token(base, cfg["client"], cfg["secret"], "jwt"))
    path = f"{realistic.PATH}/aggregate?groupby=country_id"
    kwargs = web_read_group_kwargs(series, limit)
    # Once, outside the measures: both sides answer the same groups.
    status, _h, raw = request(base, "GET", path, headers=auth)
    _status, body = user.call_raw("res.partner", "web_read_group", [], kwargs)
    if status != 200 or "error" in body:
        bench.note(
            f"aggregate pair not measured: REST {status} {raw[:200]!r}, "
            f"web_read_group {json.dumps(body)[:200]}"
        )
        return
    rest = {
        (group["country_id"][1] if group["country_id"] else None): group["count"]
        for group in json.loads(raw)["result"]["groups"]
    }
    rpc = _rpc_counts(body)
    if rest != rpc:
        bench.note(f"aggregate groups differ: REST {rest}, web_read_group {rpc}")
    else:
        bench.note(
            f"aggregate: {len(rest)} groups of {sum(rest.values())} partners on "
            "both sides"
        )
    bench.pair(
        AGGREGATE_REST,
        lambda: request(base, "GET", path, headers=auth)[0],
        AGGREGATE_RPC,
        lambda: user.call_raw("res.partner", "web_read_group", [], kwargs)[0],
    )
    bench.target(
        "aggregate by country vs web_read_group",
        AGGREGATE_REST,
        AGGREGATE_RPC,
        ">= 1.00",
        1.0,
    )
