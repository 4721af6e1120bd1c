from odoo import api, fields, models, tools
from odoo.tools import sql

from ..core import domain as core_domain

# Finished events (and their delivery log) are kept this long.
EVENT_RETENTION_DAYS = 30


class SecureApiEvent(models.Model):
    """The outbox: one row per change of a record that an API with webhook
    subscriptions exposes, written by the changing transaction itself, so
    that no change is lost and no rolled-back change is announced."""

    _name = "secure.api.event"
    _description = "Secure API webhook event (outbox)"
    _order = "id"
    _log_access = False

    api_id = fields.Many2one(
        "secure.api", string="API", required=True, ondelete="cascade", index=True
    )
    model = fields.Char(required=True, readonly=True)
    record_id = fields.Integer(required=True, readonly=True)
    event = fields.Selection(
        [("create", "Create"), ("update", "Update"), ("delete", "Delete")],
        required=True,
        readonly=True,
    )
    occurred_at = fields.Datetime(
        required=True, readonly=True, default=fields.Datetime.now
    )
    dispatched = fields.Boolean(
        readonly=True, index=True, help="Its deliveries have been planned."
    )
    delivery_ids = fields.One2many(
        "secure.api.webhook.delivery", "event_id", string="Deliveries"
    )

    def init(self):
        # Deliveries go out in order per record: claiming one looks up the
        # earlier events of its record, which must not scan the outbox.
        sql.create_index(
            self.env.cr,
            "secure_api_event_model_record_idx",
            self._table,
            ["model", "record_id", "id"],
        )

    @api.autovacuum
    def _gc_finished_events(self):
        """Forget events older than the retention whose deliveries are all
        finished (delivered, or given up): their delivery log goes with
        them. Events still retried stay."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            DELETE FROM secure_api_event e
             WHERE e.dispatched
               AND e.occurred_at < (now() AT TIME ZONE 'UTC') - %s * interval '1 day'
               AND NOT EXISTS (
                   SELECT 1 FROM secure_api_webhook_delivery d
                    WHERE d.event_id = e.id AND d.state = 'pending')
            """,
            [EVENT_RETENTION_DAYS],
        )
        self.invalidate_model()
        self.env["secure.api.webhook.delivery"].invalidate_model()

    @api.model
    def _record(self, records, event):
        """Add one outbox row per (subscribed API, record): one INSERT.

        Deletions are recorded before the records go, and only for those
        inside the API's forced domain: afterwards nothing tells where they
        were. Creations and updates are filtered when delivered.
        """
        api_ids = self._subscribed_apis(records._name, event)
        if not api_ids or not records:
            return
        rows = []
        for api_id in api_ids:
            ids = records._ids
            if event == "delete":
                ids = self._inside(api_id, records)
            rows += [(api_id, rid) for rid in ids]
        if not rows:
            return
        values = ", ".join(
            ["(%s, %s, %s, %s, now() AT TIME ZONE 'UTC', false)"] * len(rows)
        )
        params = [
            item for api_id, rid in rows for item in (api_id, records._name, rid, event)
        ]
        self.env.cr.execute(
            "INSERT INTO secure_api_event"
            " (api_id, model, record_id, event, occurred_at, dispatched)"
            f" VALUES {values}",  # noqa: S608 - placeholders only
            params,
        )

    @api.model
    def _inside(self, api_id, records):
        spec = self.env["secure.api"]._get_spec(api_id)
        if not spec or not spec["domain"]:
            return records._ids
        domain = core_domain.and_domains(spec["domain"], [("id", "in", records.ids)])
        return records.sudo().with_context(active_test=False).search(domain).ids

    @api.model
    @tools.ormcache("model_name", "event")
    def _subscribed_apis(self, model_name, event):
        """Ids of the active APIs on ``model_name`` whose active subscriptions
        listen to ``event``; cleared when APIs or subscriptions change."""
        webhooks = (
            self.env["secure.api.webhook"]
            .sudo()
            .search([("state", "=", "active"), ("api_id.state", "=", "active")])
        )
        return tuple(
            sorted(
                {
                    hook.api_id.id
                    for hook in webhooks
                    if event in hook._event_list()
                    and model_name in hook.api_id._get_model_names()
                }
            )
        )
