"""Pipeline step: aggregates, grouped counts and measures.

``GET /api/<route>/aggregate`` runs one ``_read_group`` of the ORM as the
execution user, inside the API's forced domain, and reads the display names
of the relational group values in one query per such field: its cost does
not grow with the rows it groups.
"""

from odoo import models

from .. import compat
from ..core import aggregate as core_aggregate
from ..core import params as core_params


class SecureApiEngineAggregate(models.AbstractModel):
    _inherit = "secure.api.engine"

    def _op_aggregate(self, call):
        params, fields = call.params, call.model_spec["fields"]
        groupbys = core_aggregate.parse_groupby(params.get("groupby"), fields)
        measures = core_aggregate.parse_measures(params.get("measures"), fields)
        order = core_aggregate.parse_order(params.get("order"), groupbys, measures)
        # As many groups as a search has records, at most.
        max_limit = call.spec["max_limit"]
        limit = core_params.parse_limit(params.get("limit"), max_limit, max_limit)
        domain = self._forced(
            call, self._client_domain(call, params.get("domain") or "[]")
        )
        # Datetimes group by UTC days and months, as the API shows them.
        model = self._model(call).with_context(tz="UTC")
        compat.check_fields_readable(
            model, sorted({item.name for item in (*groupbys, *measures)})
        )
        specs = [groupby.spec for groupby in groupbys]
        self._aggregated(call, model, domain)
        rows = model._read_group(
            domain,
            specs,
            ["__count", *(measure.spec for measure in measures)],
            limit=limit if groupbys else None,
            order=order,
        )
        length = len(rows)
        if groupbys and length == limit:
            # A full page: how many groups there are in all, as
            # web_read_group's length says (only then a second query).
            length += len(model._read_group(domain, specs, [], offset=limit))
        names = self._group_names(groupbys, rows)
        for groupby in groupbys:
            if groupby.alias in names:
                self._shown(call, groupby.relation, sorted(names[groupby.alias]))
        relational = {
            index
            for index, groupby in enumerate(groupbys)
            if groupby.type in core_aggregate.RELATIONAL
        }
        # Relational group values come as records: their ids, False if none.
        plain = [
            tuple(
                value.id if index in relational else value
                for index, value in enumerate(row)
            )
            for row in rows
        ]
        return 200, {
            "groups": core_aggregate.render_groups(
                plain, groupbys, measures, call.codec_for, names
            ),
            "length": length,
        }

    def _aggregated(self, call, model, domain):
        """Hook: ``model`` aggregates the records of ``domain`` (the access
        log notes their ids)."""

    def _group_names(self, groupbys, rows):
        """``{alias: {id: display name}}`` of the relational group values,
        one query per field. Names are read as the system, as Odoo's own
        read_group does: the groups show what the grouped records point to,
        whoever may read those."""
        names = {}
        for index, groupby in enumerate(groupbys):
            if groupby.type not in core_aggregate.RELATIONAL:
                continue
            records = self.env[groupby.relation].browse(
                sorted({row[index].id for row in rows if row[index]})
            )
            if not records:
                continue
            # The groups' environment: the language of the request.
            records = records.with_env(rows[0][index].env).sudo()
            names[groupby.alias] = {
                record.id: record.display_name for record in records
            }
        return names
