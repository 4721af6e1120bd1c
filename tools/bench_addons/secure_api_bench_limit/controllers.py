"""Bare JSON routes doing the ORM work of the REST calls: the benchmark's limit.

Test only. Each request must carry ``Authorization: Bearer <token>`` where
the token is the system parameter ``secure_api_bench_limit.token``, and runs
as the user of ``secure_api_bench_limit.uid`` (never as superuser).
"""

import hmac
import json

from odoo import http
from odoo.http import request

TOKEN_PARAM = "secure_api_bench_limit.token"
UID_PARAM = "secure_api_bench_limit.uid"


def _answer(data, status=200):
    return request.make_json_response(data, status=status)


def _user_env():
    """The configured user's environment, or ``None`` without the token."""
    params = request.env["ir.config_parameter"].sudo()
    token = params.get_param(TOKEN_PARAM) or ""
    uid = int(params.get_param(UID_PARAM) or 0)
    sent = request.httprequest.headers.get("Authorization") or ""
    if len(token) < 16 or not uid or not hmac.compare_digest(sent, f"Bearer {token}"):
        return None
    user_context = request.env["res.users"].sudo().with_user(uid).context_get()
    context = {"lang": user_context.get("lang"), "tz": user_context.get("tz")}
    return request.env(user=uid, su=False, context=context)


def _names(text):
    return [name for name in (text or "").split(",") if name]


def _domain(args, extra=None):
    domain = list(json.loads(args.get("domain") or "[]"))
    return domain + list(extra or [])


def _rows(records, args):
    """``search_read``'s rows of ``fields``, plus the ``related`` sub fields
    of one relational field, read in one batch."""
    fields = _names(args.get("fields"))
    rows = records._read_format(fnames=fields) if records else []
    related, _sep, subs = (args.get("related") or "").partition(":")
    if related and rows:
        field = records._fields[related]
        ids = set()
        for row in rows:
            value = row.get(related)
            if field.type == "many2one":
                if value:
                    ids.add(value[0])
            else:
                ids.update(value or [])
        found = records.env[field.comodel_name].browse(sorted(ids))
        by_id = {sub["id"]: sub for sub in found.read(_names(subs))}
        for row in rows:
            value = row.get(related)
            if field.type == "many2one":
                row[related] = value and [value[0], by_id.get(value[0], {})]
            else:
                row[related] = [by_id.get(rid, {}) for rid in value or []]
    return rows


def _fetch(model, domain, args, **kwargs):
    fields = _names(args.get("fields"))
    stored = [
        name
        for name in fields
        if model._fields[name].store and model._fields[name].type != "binary"
    ]
    return model.search_fetch(domain, stored, **kwargs)


class BenchLimit(http.Controller):
    def _serve(self, work):
        env = _user_env()
        if env is None:
            return _answer({"error": "unauthorized"}, status=401)
        args = request.httprequest.args
        model = env[args.get("model") or "res.partner"]
        return work(model, args)

    @http.route(
        "/bench_limit/search",
        type="http",
        auth="none",
        methods=["GET"],
        csrf=False,
        save_session=False,
        readonly=True,
    )
    def limit_search(self, **_kwargs):
        def work(model, args):
            domain = _domain(args)
            offset = int(args.get("offset") or 0)
            limit = int(args.get("limit") or 80)
            order = args.get("order") or None
            records = _fetch(
                model, domain, args, offset=offset, limit=limit, order=order
            )
            result = {"records": _rows(records, args)}
            if args.get("count"):
                result["length"] = model.search_count(domain)
            return _answer(result)

        return self._serve(work)

    @http.route(
        "/bench_limit/read/<int:rid>",
        type="http",
        auth="none",
        methods=["GET"],
        csrf=False,
        save_session=False,
        readonly=True,
    )
    def limit_read(self, rid, **_kwargs):
        def work(model, args):
            record = _fetch(model, _domain(args, [("id", "=", rid)]), args, limit=1)
            if not record:
                return _answer({"error": "not found"}, status=404)
            return _answer(_rows(record, args)[0])

        return self._serve(work)

    @http.route(
        "/bench_limit/create",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def limit_create(self, **_kwargs):
        def work(model, args):
            body = json.loads(request.httprequest.get_data() or b"{}")
            records = model.create(body)
            self._check_domain(model, records, args)
            if not args.get("fields"):
                ids = records.ids if isinstance(body, list) else records.id
                return _answer(ids, status=201)
            rows = _rows(records, args)
            return _answer(rows if isinstance(body, list) else rows[0], status=201)

        return self._serve(work)

    @http.route(
        "/bench_limit/write/<int:rid>",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def limit_write(self, rid, **_kwargs):
        def work(model, args):
            record = model.search(_domain(args, [("id", "=", rid)]), limit=1)
            if not record:
                return _answer({"error": "not found"}, status=404)
            record.write(json.loads(request.httprequest.get_data() or b"{}"))
            self._check_domain(model, record, args)
            if not args.get("fields"):
                return request.make_response("", status=204)
            return _answer(_rows(record, args)[0])

        return self._serve(work)

    @http.route(
        "/bench_limit/unlink/<int:rid>",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def limit_unlink(self, rid, **_kwargs):
        def work(model, args):
            record = model.search(_domain(args, [("id", "=", rid)]), limit=1)
            if not record:
                return _answer({"error": "not found"}, status=404)
            record.unlink()
            return _answer([rid])

        return self._serve(work)

    def _check_domain(self, model, records, args):
        """Writes stay inside the forced domain, as the REST side checks."""
        if args.get("domain") and records:
            inside = model.search(_domain(args, [("id", "in", records.ids)]))
            if len(inside) != len(records):
                raise ValueError("outside the domain")
