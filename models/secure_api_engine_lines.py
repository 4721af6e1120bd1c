"""Pipeline step: one2many lines written and read with their header.

core.lines turns a lines field's value into x2many commands; here they are
checked against the database, as the execution user (never sudo): the ids
inside the lines must be visible (and inside the API when of its model),
the lines updated or removed must be lines of that very header that the
user may read and write (or delete), and removing needs the delete
operation and scope. Every error names the line by its path in the body.
"""

from odoo import models
from odoo.exceptions import AccessError

from .. import compat
from ..core import lines
from ..core.exceptions import BadRequest, to_api_error
from ..core.messages import _lt

OPERATION = {lines.UPDATE: "write", lines.DELETE: "unlink"}


class SecureApiEngineLines(models.AbstractModel):
    _inherit = "secure.api.engine"

    def _checked_as_lines(self, call, fspec, vals_list, records, targets):
        """Whether ``fspec`` is written with its lines, checked here."""
        if fspec.get("lines") is None:
            return False
        self._check_lines(call, fspec, vals_list, records, targets)
        return True

    def _check_lines(self, call, fspec, vals_list, records, targets):
        """``records``: those every item writes (``None`` on create);
        ``targets``: the record each item writes, on bulk updates by item."""
        many = len(vals_list) > 1
        entries = []
        for index, vals in enumerate(vals_list):
            commands = vals.get(fspec["name"]) or []
            paths = lines.command_paths(fspec["alias"], commands, records is None)
            entries += [
                (index, path, command)
                for path, command in zip(paths, commands, strict=True)
            ]
        if not entries:
            return
        self._check_line_relations(call, fspec, entries, many)
        owned = [entry for entry in entries if entry[2][0] != lines.CREATE]
        if owned:
            self._check_line_headers(call, fspec, owned, records, targets, many)
            self._check_line_access(call, fspec, owned, many)
        if any(entry[2][0] == lines.DELETE for entry in owned):
            self._check_removal_allowed(call, fspec)

    def _line_error(self, error, index, path, many):
        error.at_path(path)
        return error.at_index(index) if many else error

    def _check_line_relations(self, call, fspec, entries, many):
        """Relational values inside lines, checked like a header's: visible
        to the user, and inside the forced domain when of the API's model."""
        for lspec in fspec["lines"]:
            if lspec["type"] not in ("many2one", "many2many"):
                continue
            wanted = [
                (
                    index,
                    f"{path}.{lspec['alias']}",
                    self._relation_ids(lspec["type"], command[2][lspec["name"]]),
                )
                for index, path, command in entries
                if command[0] != lines.DELETE and lspec["name"] in command[2]
            ]
            ids = {rid for _index, _path, item in wanted for rid in item}
            if not ids:
                continue
            domain = [("id", "in", sorted(ids))]
            if lspec["relation"] == call.model:
                domain = self._forced(call, domain)
            found = set(call.env[lspec["relation"]].search(domain, order="id").ids)
            for index, path, item in wanted:
                if not set(item) <= found:
                    error = BadRequest(
                        _lt("Invalid id for field '%(field)s'", field=lspec["alias"]),
                        name="invalid_id",
                    )
                    raise self._line_error(error, index, path, many)

    def _check_line_headers(self, call, fspec, owned, records, targets, many):
        """Lines updated or removed must be lines of the very record the
        item writes, that the user can read; others, hidden and missing
        ones alike, are an invalid id."""
        inverse = call.env[call.model]._fields[fspec["name"]].inverse_name
        comodel = call.env[fspec["relation"]]
        ids = sorted({command[1] for _index, _path, command in owned})
        found = comodel.search_fetch([("id", "in", ids)], [inverse])
        header_of = {line.id: line[inverse].id for line in found}
        for index, path, command in owned:
            if targets is not None:
                header = targets[index]
            elif records is not None and len(records) == 1:
                header = records.id
            else:
                # A line belongs to one header: not to each of several.
                header = None
            if header is None or header_of.get(command[1]) != header:
                if command[0] == lines.UPDATE:
                    path = f"{path}.id"
                error = BadRequest(
                    _lt("Invalid line id for field '%(field)s'", field=fspec["alias"]),
                    name="invalid_id",
                )
                raise self._line_error(error, index, path, many)
        # Written or deleted by the request: the audit must find it.
        self._shown(call, fspec["relation"], ids)

    def _check_line_access(self, call, fspec, owned, many):
        """The user's rights on the lines updated (write) and removed
        (unlink), checked before anything is written so that the refusal
        names the line."""
        comodel = call.env[fspec["relation"]]
        for kind, operation in OPERATION.items():
            subset = [entry for entry in owned if entry[2][0] == kind]
            if not subset:
                continue
            if self._may(comodel.browse([entry[2][1] for entry in subset]), operation):
                continue
            # Refused: one by one, to name the line.
            for index, path, command in subset:
                try:
                    compat.check_access(comodel.browse(command[1]), operation)
                except AccessError as refusal:
                    error = to_api_error(refusal)
                    raise self._line_error(error, index, path, many) from None

    def _may(self, records, operation):
        try:
            compat.check_access(records, operation)
        except AccessError:
            return False
        return True

    def _remaining(self, call, records, vals):
        """``records`` less the lines ``vals`` removed (one query, only
        when some are): what is left to check inside the API."""
        removes = any(
            command[0] == lines.DELETE
            for fspec in call.model_spec["fields"]
            if fspec.get("lines") is not None
            for command in vals.get(fspec["name"]) or ()
        )
        return records.exists() if removes else records

    def _line_rows(self, call, fspec, rows):
        """``{id: row}`` of the lines of ``rows`` that the user may read,
        with their line fields."""
        ids = {rid for row in rows for rid in row.get(fspec["name"]) or ()}
        if not ids:
            return {}
        names = [lspec["name"] for lspec in fspec["lines"]]
        comodel = call.env[fspec["relation"]].with_context(active_test=False)
        compat.check_fields_readable(comodel, names)
        found = comodel.search([("id", "in", sorted(ids))], order="id")
        return {row["id"]: row for row in found._read_format(fnames=names)}
