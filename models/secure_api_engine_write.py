"""Pipeline step: writing (create, update, delete, defaults, relations)."""

import logging

import psycopg2

from odoo import api, models, tools
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError

from .. import compat
from ..core import lines, serializer
from ..core.exceptions import BadRequest, Forbidden, Unprocessable, to_api_error
from ..core.messages import _lt

_logger = logging.getLogger(__name__)
RELATIONAL = serializer.RELATIONAL

MAX_BULK = serializer.MAX_BULK
# What the ORM raises when it refuses one item's values: mapped to 4xx.
ORM_REFUSALS = (
    ValidationError,
    UserError,
    AccessError,
    MissingError,
    psycopg2.IntegrityError,
)


class SecureApiEngineWrite(models.AbstractModel):
    _inherit = "secure.api.engine"

    def _values(self, call, payload, index=None, creating=False):
        try:
            return serializer.values_in(
                payload, call.model_spec, call.codec_for, creating=creating
            )
        except BadRequest as error:
            if index is not None:
                error.at_index(index)
            raise

    def _apply_line_defaults(self, call, vals, model_spec=None):
        """The API's default values of the lines' model (when the API has
        it) on the lines ``vals`` create, on create and update alike."""
        for fspec in (model_spec or call.model_spec)["fields"]:
            line_spec = call.spec["models"].get(fspec["relation"])
            if fspec.get("lines") is None or not line_spec:
                continue
            for command in vals.get(fspec["name"]) or ():
                if command[0] == lines.CREATE:
                    self._apply_defaults(call, command[2], line_spec)
        return vals

    def _apply_defaults(self, call, vals, model_spec=None):
        """The API's default values of the model on ``vals`` (and on the
        lines they create)."""
        model_spec = model_spec or call.model_spec
        self._apply_line_defaults(call, vals, model_spec)
        defaults = model_spec["defaults"]
        if not defaults:
            return vals
        evaluator = call.env["secure.api.default"]
        for line in defaults:
            if line["name"] not in vals:
                try:
                    vals[line["name"]] = evaluator._evaluate(line["expression"])
                except Exception:  # noqa: BLE001 - the admin's expression failed
                    _logger.exception("secure_api: default of %s failed", line["name"])
                    raise Unprocessable(
                        _lt(
                            "The default value of '%(field)s' could not be computed",
                            field=line["name"],
                        ),
                        name="default_failed",
                    ) from None
        return vals

    def _check_relations(self, call, vals_list, records=None, targets=None):
        """Relational values may only name records the API lets the client
        reach, so that a write cannot link, reveal, move or detach others.

        Every id must be visible to the execution user and, for relations to
        the API's own model, inside the forced domain: hidden and missing
        ids get the same 400. Lines added to a one2many must be writable by
        the user and may only be taken from records of the API; lines
        removed from one (which may delete them) need the delete operation
        and scope. Returns the records of the API's model that the write
        moves, for the caller to check they stay inside the API.
        """
        moved = self._model(call).browse()
        # ``targets``: the record each of ``vals_list`` writes (bulk updates
        # of several records with values of their own); else ``records`` all
        # take every value. Either way one query per field, not per record.
        if targets is not None:
            records = self._model(call).browse(targets)
        for fspec in call.model_spec["fields"]:
            name, ftype = fspec["name"], fspec["type"]
            if (
                ftype not in RELATIONAL
                or not any(name in v for v in vals_list)
                or self._checked_as_lines(call, fspec, vals_list, records, targets)
            ):
                continue
            wanted = [self._relation_ids(ftype, v.get(name)) for v in vals_list]
            ids = {rid for item in wanted for rid in item}
            comodel = call.env[fspec["relation"]]
            if ids:
                domain = [("id", "in", list(ids))]
                if fspec["relation"] == call.model:
                    domain = self._forced(call, domain)
                found = set(comodel.search(domain, order="id").ids)
                for index, item in enumerate(wanted):
                    if not set(item) <= found:
                        raise self._invalid_id(fspec, index, len(wanted))
            if ftype == "many2one" and fspec["relation"] == call.model:
                # The new and the former target change too (their children,
                # their computed fields): they must stay inside the API.
                moved |= comodel.browse(sorted(ids))
                former = records.mapped(name) if records else comodel.browse()
                if former:
                    # Only those the API exposed before: others were never
                    # inside, and may stay outside.
                    moved |= comodel.search(
                        self._forced(call, [("id", "in", former.ids)]), order="id"
                    )
            if ftype != "one2many":
                continue
            if ids:
                lines = comodel.browse(sorted(ids))
                compat.check_access(lines, "write")
                self._check_line_owners(call, fspec, lines, records)
                if fspec["relation"] == call.model:
                    moved |= lines
            if not records:
                continue
            if targets is not None:
                current = {record.id: set(record[name].ids) for record in records}
                removes = any(
                    name in vals and current[rid] - set(item)
                    for rid, vals, item in zip(targets, vals_list, wanted, strict=True)
                )
            else:
                kept = set(wanted[0]) if len(wanted) == 1 else ids
                removes = bool(set(records.mapped(name).ids) - kept)
            if removes:
                self._check_removal_allowed(call, fspec)
        return moved

    def _check_line_owners(self, call, fspec, lines, records):
        """Lines may be taken from records of the API only: taking one from
        a record the API does not expose would change that record."""
        inverse = call.env[call.model]._fields[fspec["name"]].inverse_name
        if not inverse:
            return
        owners = set(lines.mapped(inverse).ids) - set(records.ids if records else ())
        if owners and self._model(call).search_count(
            self._forced(call, [("id", "in", sorted(owners))])
        ) != len(owners):
            raise self._invalid_id(fspec, 0, 1)

    @api.model
    @tools.ormcache("model_name")
    def _row_fields(self, model_name):
        """The columns Odoo reads of a record before writing it (its
        prefetched stored fields), less those restricted to groups: the same
        for every request, so computed once per model."""
        return tuple(
            name
            for name, field in self.env[model_name]._fields.items()
            if field.store
            and field.column_type
            and field.prefetch is True
            and not field.groups
            and field.type != "binary"
        )

    def _invalid_id(self, fspec, index, count):
        error = BadRequest(
            _lt("Invalid id for field '%(field)s'", field=fspec["alias"]),
            name="invalid_id",
        )
        return error.at_index(index) if count > 1 else error

    def _relation_ids(self, ftype, value):
        if ftype == "many2one":
            return [value] if value else []
        # serializer.values_in gives x2many values as one Command.set.
        return list(value[0][2]) if value else []

    def _check_removal_allowed(self, call, fspec):
        scope = call.principal["scope"]
        if "delete" not in call.spec["operations"] or (
            scope is not None and "delete" not in scope
        ):
            raise Forbidden(
                _lt(
                    "Removing lines from '%(field)s' needs the delete operation "
                    "and scope",
                    field=fspec["alias"],
                ),
                name="delete_not_allowed",
            )

    def _neighbours(self, call, records):
        """The records of the API that a write to ``records`` may change
        through Odoo's own synchronisation (a partner's address and
        commercial fields flow down to its contacts): on hierarchical
        models, their descendants inside the forced domain, as they are
        before the write, to be checked again after it."""
        model = self._model(call)
        if (
            not call.spec["domain"]
            or not records
            or not model._parent_name
            or model._parent_name not in model._fields
        ):
            return model.browse()
        # Most records have no children: one query tells, before the walk.
        if not model.search([(model._parent_name, "in", records.ids)], limit=1):
            return model.browse()
        return model.search(
            self._forced(
                call,
                [("id", "child_of", records.ids), ("id", "not in", records.ids)],
            ),
            order="id",
        )

    def _check_in_domain(self, call, records):
        """Writes may not move records outside what the API exposes.

        Always one query: which fields a write really changes cannot be told
        from the fields it was given (inverse methods, ``write`` overrides
        and synchronised fields change others).
        """
        if not call.spec["domain"] or not records:
            return
        inside = set(
            self._model(call)
            .search(self._forced(call, [("id", "in", records.ids)]), order="id")
            .ids
        )
        outside = [index for index, rid in enumerate(records.ids) if rid not in inside]
        if outside:
            error = Unprocessable(
                _lt("The values would put the record outside this API"),
                name="outside_domain",
            )
            raise error.at_index(outside[0]) if len(records) > 1 else error

    def _batch(self, call, items, action):
        """Run ``action(item)`` for each item; name the failing index.

        The fast path runs them in one go. When it fails, each item is
        replayed in its own savepoint to find which one the ORM refused; the
        caller's savepoint then rolls everything back.
        """
        if len(items) == 1:
            # Nothing to tell apart: the operation's own savepoint rolls back.
            result = action(items)
            call.env.flush_all()
            return result
        try:
            with self.env.cr.savepoint():
                result = action(items)
                call.env.flush_all()
                return result
        except ORM_REFUSALS as error:
            first_error = error
        for index, item in enumerate(items):
            try:
                with self.env.cr.savepoint():
                    action([item])
                    call.env.flush_all()
            except ORM_REFUSALS as error:
                raise to_api_error(error).at_index(index) from None
        raise first_error

    def _op_create(self, call):
        body = call.body
        bulk = isinstance(body, list)
        items = body if bulk else [body]
        if not isinstance(body, list | dict):
            raise BadRequest(
                _lt("The body must be a JSON object or an array of objects"),
                name="invalid_body",
            )
        if not items or len(items) > MAX_BULK:
            raise BadRequest(
                _lt("Send between 1 and %(max)s records", max=MAX_BULK),
                name="invalid_body",
            )
        vals_list = [
            self._values(call, item, index if bulk else None, creating=True)
            for index, item in enumerate(items)
        ]
        moved = self._check_relations(call, vals_list)
        for vals in vals_list:
            self._apply_defaults(call, vals)
        model = self._model(call)
        self._begin(call)
        records = self._batch(call, vals_list, model.create)
        self._check_in_domain(call, records | moved)
        return self._created(call, records, bulk)

    def _op_update(self, call):
        body = call.body
        if call.record_id is not None:
            # The row the write itself would read first comes with the search.
            record = self._find(call, call.record_id, self._row_fields(call.model))
            self._check_if_match(call, record)
            vals = self._values(call, body)
            moved = self._check_relations(call, [vals], record)
            self._apply_line_defaults(call, vals)
            moved |= self._neighbours(call, record)
            self._begin(call)
            record.write(vals)
            self._check_in_domain(call, self._remaining(call, record | moved, vals))
            return self._updated(call, record, one=True)
        codec = call.codec_for(call.model)
        self._refuse_if_match_on_many(call)
        if isinstance(body, dict):
            values = dict(body)
            ids = serializer.decode_ids(values.pop("ids", None), codec)
            vals = self._values(call, values)
            records = self._find_many(call, ids)
            moved = self._check_relations(call, [vals], records)
            self._apply_line_defaults(call, vals)
            moved |= self._neighbours(call, records)
            self._begin(call)
            self._batch(call, [records], lambda chunk: chunk[0].write(vals))
        elif isinstance(body, list) and body:
            if len(body) > MAX_BULK:
                raise BadRequest(
                    _lt("At most %(max)s records per request", max=MAX_BULK),
                    name="invalid_body",
                )
            pairs = []
            for index, item in enumerate(body):
                if not isinstance(item, dict):
                    raise BadRequest(
                        _lt("Item %(index)s is not an object", index=index),
                        name="invalid_body",
                        data={"index": index},
                    )
                values = dict(item)
                rid = codec.decode(values.pop("id", None))
                if rid is None:
                    raise BadRequest(
                        _lt("Item %(index)s has no valid id", index=index),
                        name="invalid_id",
                        data={"index": index},
                    )
                pairs.append((rid, self._values(call, values, index)))
            ids = [rid for rid, _vals in pairs]
            if len(set(ids)) != len(ids):
                raise BadRequest(_lt("The same id appears twice"), name="invalid_body")
            records = self._find_many(call, ids)
            moved = self._check_relations(
                call, [vals for _rid, vals in pairs], targets=ids
            )
            for _rid, vals in pairs:
                self._apply_line_defaults(call, vals)
            moved |= self._neighbours(call, records)
            model = self._model(call)
            self._begin(call)
            self._batch(
                call,
                pairs,
                lambda chunk: [model.browse(rid).write(vals) for rid, vals in chunk],
            )
        else:
            raise BadRequest(
                _lt('Bulk update takes {"ids": [...], ...} or [{"id": ..., ...}, ...]'),
                name="invalid_body",
            )
        self._check_in_domain(call, (records | moved).exists())
        return self._updated(call, records, one=False)

    def _op_delete(self, call):
        codec = call.codec_for(call.model)
        if call.record_id is not None:
            records = self._find(call, call.record_id)
            self._check_if_match(call, records)
        else:
            self._refuse_if_match_on_many(call)
            body = call.body
            if not isinstance(body, dict) or set(body) != {"ids"}:
                raise BadRequest(
                    _lt('Bulk delete takes {"ids": [...]}'), name="invalid_body"
                )
            records = self._find_many(call, serializer.decode_ids(body["ids"], codec))
        ids = records.ids
        self._begin(call)
        records.unlink()
        return 200, [codec.encode(rid) for rid in ids]
