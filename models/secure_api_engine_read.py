"""Pipeline step: reading (search, read one record, binary download)."""

import copy

from odoo import models

from .. import compat
from ..core import domain as core_domain
from ..core import params as core_params
from ..core import serializer
from ..core.exceptions import NotFound


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
            raise NotFound(f"Record at index {index} not found", data={"index": index})
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
        related_rows = {}
        for fspec in selected:
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
        writer = serializer.RecordWriter(
            call.model_spec, call.codec_for, call.spec["id"], call.spec["binary_mode"]
        )
        return [writer.record(row, selected, related_rows) for row in rows]

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

    def _op_search(self, call):
        spec, params = call.spec, call.params
        searchable = {
            f["alias"]: f for f in call.model_spec["fields"] if f["searchable"]
        }
        client_domain = core_domain.validate(
            core_domain.parse_literal(params.get("domain") or "[]"),
            searchable,
            call.codec_for,
            call.model,
        )
        domain = self._forced(call, client_domain)
        limit = core_params.parse_limit(
            params.get("limit"), spec["default_limit"], spec["max_limit"]
        )
        offset = core_params.parse_offset(params.get("offset"))
        order = core_params.parse_order(
            params.get("order"),
            {alias: f["name"] for alias, f in searchable.items()},
            spec["default_order"],
        )
        selected = self._selected(call)
        count = core_params.parse_count(params.get("count"))
        model = self._model(call)
        names = self._fetchable(model, selected)
        # search_fetch() split in two, so that the exact count reuses the
        # query with the domain and record rules already applied, instead of
        # parsing them again in search_count().
        query = model._search(
            domain, offset=offset, limit=limit, order=order or model._order
        )
        if query.is_empty():
            records = model.browse()
        else:
            records = model._fetch_query(query, model._determine_fields_to_fetch(names))
        result = {}
        if count == "exact":
            if len(records) < limit and (records or not offset):
                length = offset + len(records)
            else:
                total = copy.copy(query)
                total.limit = total.offset = total.order = None
                length = len(total)
            result["length"] = length
        result["records"] = self._render(call, records, selected)
        return 200, result

    def _op_read(self, call):
        selected = self._selected(call)
        model = self._model(call)
        record = self._find(call, call.record_id, self._fetchable(model, selected))
        return 200, self._render(call, record, selected)[0]

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
