"""Pipeline step: reading (search, read one record, binary download)."""

import copy
import json

from odoo import fields as odoo_fields
from odoo import models
from odoo.tools import SQL

from .. import compat
from ..core import domain as core_domain
from ..core import params as core_params
from ..core import serializer, sync
from ..core.exceptions import BadRequest, NotFound, ResyncRequired
from ..core.messages import _lt


class SecureApiEngineRead(models.AbstractModel):
    _inherit = "secure.api.engine"

    def _model(self, call):
        return call.env[call.model]

    def _forced(self, call, extra=None):
        return core_domain.and_domains(call.spec["domain"], extra or [])

    def _find(self, call, record_id_text, names=()):
        """The record of a path id inside the API's domain, or 404 alike.

        ``names`` are fetched by the same query, as ``search_read`` does.
        """
        rid = call.codec_for(call.model).decode(record_id_text)
        if rid is None:
            raise NotFound()
        domain = self._forced(call, [("id", "=", rid)])
        record = self._model(call).search_fetch(domain, list(names), limit=1)
        if not record:
            raise NotFound()
        return record

    def _find_many(self, call, ids):
        records = self._model(call).search(self._forced(call, [("id", "in", ids)]))
        if len(records) != len(ids):
            found = set(records.ids)
            index = next(i for i, rid in enumerate(ids) if rid not in found)
            raise NotFound(
                _lt("Record at index %(index)s not found", index=index),
                data={"index": index},
            )
        return records.browse(ids)

    def _render(self, call, records, selected=None):
        """Read ``records`` and render them; related fields read in batch."""
        selected = selected if selected is not None else call.model_spec["fields"]
        names = [f["name"] for f in selected]
        # Every answer that shows records, writes' included, applies the
        # user's field access (fields restricted by ``groups``).
        compat.check_fields_readable(self._model(call), names)
        if records and any(f["type"] == "binary" for f in selected):
            # URLs only need to know whether a value exists, not its bytes.
            records = records.with_context(bin_size=call.spec["binary_mode"] == "url")
        rows = records._read_format(fnames=names) if records else []
        return self._render_rows(call, rows, selected)

    def _render_rows(self, call, rows, selected):
        related_rows = self._related_rows(call, rows, selected)
        writer = serializer.RecordWriter(
            call.model_spec, call.codec_for, call.spec["id"], call.spec["binary_mode"]
        )
        return [writer.record(row, selected, related_rows) for row in rows]

    def _shown(self, call, model_name, ids):
        """Hook: the answer shows these records of ``model_name`` by id
        and name (the access log notes them)."""

    def _related_rows(self, call, rows, selected):
        """``{field name: {id: row}}``: the related fields' values of the
        records ``rows`` point to, one read per relational field."""
        related_rows = {}
        for fspec in selected:
            if fspec.get("lines") is not None:
                related_rows[fspec["name"]] = self._line_rows(call, fspec, rows)
                continue
            if not fspec.get("related"):
                continue
            ids = set()
            for row in rows:
                value = row.get(fspec["name"])
                if fspec["type"] == "many2one":
                    if value:
                        ids.add(value[0])
                else:
                    ids.update(value or [])
            if ids:
                subnames = [sub["name"] for sub in fspec["related"]]
                comodel = call.env[fspec["relation"]].with_context(bin_size=True)
                found = comodel.browse(sorted(ids))
                related_rows[fspec["name"]] = {
                    row["id"]: row for row in found.read(subnames)
                }
        return related_rows

    def _selected(self, call):
        readable = {f["alias"]: f for f in call.model_spec["fields"]}
        names = core_params.parse_fields(call.params.get("fields"), readable)
        return [readable[name] for name in names]

    def _fetchable(self, model, selected):
        """Stored plain fields to fetch with the search query itself."""
        names = [f["name"] for f in selected]
        return [
            name
            for name in names
            if model._fields[name].store and model._fields[name].type != "binary"
        ]

    def _client_domain(self, call, domain_text):
        """The client's ``domain`` in ORM terms: over the searchable fields,
        and through the configured related fields of the exposed relational
        ones (``country_id.code``)."""
        fields = call.model_spec["fields"]
        return core_domain.validate(
            core_domain.parse_literal(domain_text),
            {f["alias"]: f for f in fields if f["searchable"]},
            call.codec_for,
            call.model,
            related={f["alias"]: f for f in fields if f.get("related")},
        )

    def _op_search(self, call):
        spec, params = call.spec, call.params
        searchable = {
            f["alias"]: f for f in call.model_spec["fields"] if f["searchable"]
        }
        domain_text = params.get("domain") or "[]"
        client_domain = self._client_domain(call, domain_text)
        changed_since = params.get("changed_since")
        client_domain, removals = self._changes_since(
            call, client_domain, changed_since
        )
        domain = self._forced(call, client_domain)
        limit = core_params.parse_limit(
            params.get("limit"), spec["default_limit"], spec["max_limit"]
        )
        keyset, removed_after = self._keyset(call, domain_text, changed_since)
        if keyset is not None:
            offset, order = 0, "id asc"
            if keyset:
                domain = core_domain.and_domains(domain, [("id", ">", keyset)])
        else:
            offset = core_params.parse_offset(params.get("offset"))
            order = core_params.parse_order(
                params.get("order"),
                {alias: f["name"] for alias, f in searchable.items()},
                # Changes come in the order they happened, whatever the
                # API's default order.
                "write_date asc, id asc" if changed_since else spec["default_order"],
            )
        selected = self._selected(call)
        count = core_params.parse_count(params.get("count"))
        model = self._model(call)
        names = self._fetchable(model, selected)
        # search_fetch() split in two, so that the exact count reuses the
        # query with the domain and record rules already applied, instead of
        # parsing them again in search_count(). One more row than the page
        # tells whether a next page exists.
        query = model._search(
            domain, offset=offset, limit=limit + 1, order=order or model._order
        )
        if query.is_empty():
            records = model.browse()
        else:
            records = model._fetch_query(query, model._determine_fields_to_fetch(names))
        more = len(records) > limit
        records = records[:limit]
        result = {}
        if count != "none":
            if keyset:
                # The total of the query, not of what is left after the cursor.
                query = model._search(self._forced(call, client_domain))
                offset = 0
            result.update(
                self._search_length(
                    model, query, count, offset, records, None if keyset else more
                )
            )
        result["records"] = self._render(call, records, selected)
        walk = keyset is not None or self._orders_by_id(order, offset)
        removed_more = False
        if removals is None:
            # Cursors of searches that list no removals stay as they were.
            removed_after = None
        else:
            result["removed"], removed_after, removed_more = self._removed(
                call, removals, removed_after if walk else None, offset, limit, more
            )
        if walk:
            last = records[-1].id if records else keyset
            result["next_cursor"] = (
                self._next_cursor(call, domain_text, changed_since, last, removed_after)
                if more or removed_more
                else None
            )
        if changed_since not in (None, ""):
            result["changes_until"] = self._changes_until()
        return 200, result

    def _changes_since(self, call, client_domain, changed_since):
        """``(client domain, removals)``: the client's domain restricted to
        the records changed since ``changed_since``, and the moment since
        which removals are listed (``None`` when the answer lists none),
        checked against their retention (410)."""
        if changed_since in (None, ""):
            return client_domain, None
        moment = sync.parse_changed_since(changed_since)
        client_domain = core_domain.and_domains(
            client_domain, [("write_date", ">=", moment)]
        )
        if not call.spec.get("sync_deletions"):
            return client_domain, None
        settings = self.env["secure.api"]._get_settings()
        sync.check_retention(
            moment,
            odoo_fields.Datetime.now(),
            settings["tombstone_days"],
            since=call.spec.get("sync_deletions_since"),
            purged=settings["tombstone_purged_until"],
        )
        return client_domain, moment

    def _next_cursor(self, call, domain_text, changed_since, last, removed_after):
        """The cursor after the record ``last`` (an id, 0 or ``None`` for
        none yet) and, on APIs that sync deletions, the removal position."""
        binding = sync.query_binding(
            call.spec["id"], call.model, domain_text, changed_since
        )
        position = call.codec_for(call.model).encode(last) if last else None
        return sync.encode_cursor(
            self._cursor_key(call), binding, position, removed_after
        )

    def _removed(self, call, moment, after, offset, limit, more_records):
        """``(removed, position, more)``: the removals since ``moment`` the
        caller could read, as the answer lists them, the position of the
        last one and whether more wait.

        A walk (``after``: the cursor's removal position) lists up to
        ``limit`` removals after it on each page; until its records are
        all delivered, only those of finished transactions (see
        ``secure.api.tombstone._list``). Without a cursor, the first page
        (offset 0) lists every removal since ``moment``, at most
        ``sync.MAX_REMOVED`` (more answer 410: walk with a cursor), and the
        next pages none: offset pages of records would otherwise drop the
        removals past their last page, with no sign of them.
        """
        tombstones = self.env["secure.api.tombstone"].sudo()
        # The search's own cursor: the replica's, for a GET where one serves.
        cr = call.env.cr
        uid = call.principal["uid"]
        if after is None:
            rows = []
            if not offset:
                rows = tombstones._list_page(
                    cr, call.spec, call.model, uid, moment, sync.MAX_REMOVED + 1
                )
            if len(rows) > sync.MAX_REMOVED:
                raise ResyncRequired(sync.TOO_MANY_REMOVED)
            more = False
        else:
            rows, more = tombstones._list(
                cr,
                call.spec,
                call.model,
                uid,
                moment,
                after,
                limit,
                settled=more_records,
            )
        codec = call.codec_for(call.model)
        removed = [
            {
                "id": codec.encode(res_id),
                "removed_at": removed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            for _xid, _id, res_id, removed_at in rows
        ]
        position = (rows[-1][0], rows[-1][1]) if rows else after
        return removed, position, more

    def _changes_until(self):
        """The moment before which every change is committed and visible: the
        next ``changed_since`` of an incremental sync.

        A record's write date is its transaction's start, so a transaction
        still running may yet commit changes dated before now; this is the
        start of the oldest one (or the start of this one), minus a second.
        """
        self.env.cr.execute(
            """SELECT LEAST(
                          now(),
                          (SELECT min(xact_start) FROM pg_stat_activity
                            WHERE datname = current_database()
                              AND xact_start IS NOT NULL
                              AND pid <> pg_backend_pid()))
                      AT TIME ZONE 'UTC' - interval '1 second'"""
        )
        return self.env.cr.fetchone()[0].strftime("%Y-%m-%dT%H:%M:%SZ")

    def _keyset(self, call, domain_text, changed_since):
        """``(last id, removal position)`` of a ``cursor``: ``(0, (0, 0))``
        for an empty one, which starts a walk; ``(None, (0, 0))`` when the
        search pages by offset."""
        cursor = call.params.get("cursor")
        if cursor is None:
            return None, (0, 0)
        if call.params.get("offset") not in (None, ""):
            raise BadRequest(
                _lt("Send 'cursor' or 'offset', not both"), name="invalid_parameter"
            )
        if call.params.get("order") not in (None, "", "id", "id asc"):
            raise BadRequest(
                _lt("Cursor pages are ordered by id"), name="invalid_parameter"
            )
        if cursor == "":
            return 0, (0, 0)
        binding = sync.query_binding(
            call.spec["id"], call.model, domain_text, changed_since
        )
        return sync.decode_cursor(
            self._cursor_key(call),
            binding,
            cursor,
            call.codec_for(call.model).decode,
            with_removed=True,
        )

    def _cursor_key(self, call):
        return self._server_key("cursor", call.spec["id"])

    def _orders_by_id(self, order, offset):
        return not offset and (order or "").replace(" ", "").lower() in ("id", "idasc")

    def _search_length(self, model, query, mode, offset, records, more):
        """``length`` (and ``length_is``) of a search, as ``count`` asks."""
        exact = {"length_is": "exact"} if mode == "estimated" else {}
        if more is False and (records or not offset):
            return {"length": offset + len(records), **exact}
        total = copy.copy(query)
        total.limit = total.offset = total.order = None
        if mode == "estimated":
            estimate = self._estimate(total)
            threshold = self.env["secure.api"]._get_settings()["estimate_threshold"]
            if estimate >= threshold:
                return {"length": estimate, "length_is": "estimated"}
        return {"length": len(total), **exact}

    def _estimate(self, query):
        """PostgreSQL's planner estimate of the rows of ``query``."""
        self.env.cr.execute(SQL("EXPLAIN (FORMAT JSON) %s", query.select()))
        plan = self.env.cr.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"])

    def _op_read(self, call):
        selected = self._selected(call)
        model = self._model(call)
        record = self._find(call, call.record_id, self._fetchable(model, selected))
        rendered = self._render(call, record, selected)[0]
        tag = sync.etag(call.spec["config_version"], rendered)
        call.result_headers["ETag"] = tag
        if sync.etag_matches(call.request.headers.get("if-none-match"), tag):
            return 304, None
        return 200, rendered

    def _etag(self, call, record):
        """The ETag of a record as a full read answers it."""
        return sync.etag(call.spec["config_version"], self._render(call, record)[0])

    def _op_binary(self, call):
        """Stream one exposed binary field of a record the API may read.

        The field whitelist, forced domain and record rules apply as to
        reading the record; the answer is the field's stored file.
        """
        field_name = call.method
        fspec = next(
            (
                f
                for f in call.model_spec["fields"]
                if f["name"] == field_name and f["type"] == "binary"
            ),
            None,
        )
        if fspec is None:
            raise NotFound()
        compat.check_fields_readable(self._model(call), [field_name])
        record = self._find(call, call.record_id)
        return 200, call.env["ir.binary"]._get_stream_from(record, field_name)
