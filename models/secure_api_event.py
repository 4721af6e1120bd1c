import logging

import psycopg2

from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.tools import sql

from ..core import webhooks as core_webhooks
from ..core.request import ApiRequest
from .secure_api_engine import Call

_logger = logging.getLogger(__name__)

# Finished events (and their delivery log) are kept this long.
EVENT_RETENTION_DAYS = 30
# The events of a transaction waiting to be rendered (precommit data).
PENDING = "secure_api.webhook_events"
# One INSERT per subscriptions' API and payload user and batch of records.
INSERT_SQL = """
INSERT INTO secure_api_event
    (api_id, user_id, model, event, route, webhook_id, record_id, payload,
     occurred_at, dispatched)
SELECT %s, %s, %s, %s, %s, t.webhook_id, t.record_id, t.payload,
       clock_timestamp() AT TIME ZONE 'UTC', false
  FROM unnest(%s::int[], %s::int[], %s::text[]) AS t(webhook_id, record_id, payload)
RETURNING id
"""


class SecureApiEvent(models.Model):
    """The outbox: one row per change of a record and subscription, written
    by the changing transaction itself, so that no change is lost and no
    rolled-back change is announced.

    An event is judged and rendered when it happens, as the subscription's
    payload user: a record that user could not read through the API then
    (forced domain, record rules, companies, fields) yields no row, and the
    record stored is what is delivered, whatever happens to it later.
    """

    _name = "secure.api.event"
    _description = "Secure API webhook event (outbox)"
    _order = "id"
    _log_access = False

    api_id = fields.Many2one(
        "secure.api", string="API", required=True, ondelete="cascade", index=True
    )
    webhook_id = fields.Many2one(
        "secure.api.webhook",
        string="Subscription",
        ondelete="cascade",
        index=True,
        readonly=True,
        help="The only subscription this event is sent to.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Payload User",
        ondelete="cascade",
        readonly=True,
        help="The user the record was judged and rendered as.",
    )
    model = fields.Char(required=True, readonly=True)
    record_id = fields.Integer(required=True, readonly=True)
    event = fields.Selection(
        [("create", "Create"), ("update", "Update"), ("delete", "Delete")],
        required=True,
        readonly=True,
    )
    route = fields.Char(readonly=True, help="The API's route when it happened.")
    payload = fields.Text(
        readonly=True,
        groups="base.group_system",
        help="The record as the payload user read it when the event happened "
        "(JSON), sent as it is; empty when it could not be rendered.",
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

    def write(self, vals):
        # What an event announces, and to whom, was decided when it happened.
        if vals:
            raise AccessError(_("A webhook event is kept as it happened."))
        return super().write(vals)

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

    # ------------------------------------------------------------------
    # Recording, in the writer's transaction
    # ------------------------------------------------------------------

    @api.model
    def _record(self, records, event, archived=False):
        """Record ``event`` of ``records`` for the subscriptions listening to
        it on their model: called after a create or write, and before an
        unlink, by the changing transaction.

        A delete is judged at once, while the records exist. A create or an
        update is judged and rendered when the transaction commits (before
        its COMMIT, as a precommit hook), or before the next change of the
        same records (or the next savepoint), whichever comes first: the
        values of each moment, for the cost of one batch per transaction.
        ``archived``: the write archived the records, which are then judged
        with archived records included, so that the archive of a readable
        record is announced.
        """
        if not self._subscriptions(records._name, event):
            return
        ids = [rid for rid in records._ids if isinstance(rid, int)]
        if not ids:
            return
        # What these records were before this change is told first.
        self._render_pending(records._name, ids)
        if event == "delete":
            self._write_events(records._name, event, ids)
            return
        pending = self._pending()
        entries = pending.setdefault(records._name, {})
        for rid in ids:
            entries[rid] = (event, archived)

    @api.model
    def _before_change(self, records):
        """Render the pending events of ``records`` before they change."""
        pending = self.env.cr.precommit.data.get(PENDING)
        if pending and pending.get(records._name):
            self._render_pending(records._name, records._ids)

    @api.model
    def _pending(self):
        """``{model: {record id: (event, archived)}}``: the events of this
        transaction not yet rendered, at most one per record."""
        data = self.env.cr.precommit.data
        pending = data.get(PENDING)
        if pending is None:
            # A rollback (to a savepoint, or of the transaction) clears it
            # with the other precommit hooks: no event without its change.
            pending = data[PENDING] = {}
            self.env.cr.precommit.add(self._render_pending)
        return pending

    @api.model
    def _render_pending(self, model_name=None, ids=None):
        """Judge, render and write the pending events: all of them, or those
        of ``ids`` of ``model_name``; one batch per model and kind."""
        data = self.env.cr.precommit.data
        if model_name is None:
            # All of them: a change made after this (by a later precommit
            # hook, say) starts a new batch, with its own hook.
            pending = data.pop(PENDING, None)
        else:
            pending = data.get(PENDING)
        if not pending:
            return
        batches = {}
        for name in [model_name] if model_name else list(pending):
            entries = pending.get(name)
            if not entries:
                continue
            chosen = list(entries) if ids is None else [i for i in ids if i in entries]
            for rid in chosen:
                event, archived = entries.pop(rid)
                batches.setdefault((name, event, archived), []).append(rid)
        for (name, event, archived), rids in batches.items():
            self._write_events(name, event, rids, archived)

    @api.model
    def _write_events(self, model_name, event, ids, archived=False):
        """Judge and render ``ids`` for every subscription listening to
        ``event`` on ``model_name``, and write the outbox rows."""
        if model_name not in self.env:
            return
        records = self.env[model_name].browse(ids)
        for api_id, user_id, webhook_ids in self._subscriptions(model_name, event):
            # Subscriptions of one API and payload user read the same thing:
            # judged and rendered once.
            judged = self._judge(api_id, user_id, records, event, archived)
            if judged:
                self._insert(api_id, user_id, model_name, event, webhook_ids, *judged)

    @api.model
    def _record_test(self, hook):
        """An update event of the first record the payload user of ``hook``
        reads through its API, for ``hook`` alone."""
        api_id, user_id = hook.api_id.id, hook.user_id.id
        spec = self.env["secure.api"]._get_spec(api_id)
        engine = self.env["secure.api.engine"]
        for model_name in spec["models"] if spec else ():
            call = self._read_call(spec, model_name, user_id)
            record = call.env[model_name].search(engine._forced(call), limit=1)
            if not record:
                continue
            judged = self._judge(api_id, user_id, record, "update")
            if judged and judged[1]:
                ids = self._insert(
                    api_id, user_id, model_name, "update", [hook.id], *judged
                )
                # Planned at once: the subscription shows it straight away.
                self.env["secure.api.webhook.delivery"]._plan_events(ids)
                return
        raise UserError(_("The payload user can read no record of this API."))

    @api.model
    def _judge(self, api_id, user_id, records, event, archived=False):
        """``(route, [(record id, record JSON or None)])``: the records that
        ``user_id`` reads through the API, rendered as its read operation
        renders them (``{"id": ...}`` for a delete); ``None`` when the API
        does not expose their model."""
        spec = self.env["secure.api"]._get_spec(api_id)
        if not spec or records._name not in spec["models"]:
            return None
        route = spec["route"]
        user = self.env["res.users"]._secure_api_user_state(user_id)
        if not user["active"] or user["privileged"]:
            # Never judged nor rendered as an administrator or an archived
            # user: such events are not sent, and sending them pauses the
            # subscription, which tells the administrator.
            return route, [(rid, None) for rid in records._ids]
        engine = self.env["secure.api.engine"]
        call = self._read_call(spec, records._name, user_id)
        model = call.env[records._name]
        if event == "delete" or archived:
            # Deletes and archives of the records the user reads, archived
            # ones included; forced domain, record rules and companies apply.
            model = model.with_context(active_test=False)
        domain = engine._forced(call, [("id", "in", list(records._ids))])
        try:
            if event == "delete":
                codec = call.codec_for(records._name)
                found = model.search(domain, order="id")
                return route, [
                    (rid, core_webhooks.encode_record({"id": codec.encode(rid)}))
                    for rid in found.ids
                ]
            selected = call.model_spec["fields"]
            if any(f["type"] == "binary" for f in selected):
                # As the read renders them (sizes or values), fetched by the
                # search itself, whose record rules need no second check.
                model = model.with_context(bin_size=spec["binary_mode"] == "url")
            names = [f["name"] for f in selected if model._fields[f["name"]].store]
            found = model.search_fetch(domain, names, order="id")
        except AccessError:
            # The user may not read the model at all.
            return route, []
        return route, self._render_each(engine, call, found, selected)

    @api.model
    def _render_each(self, engine, call, records, selected):
        """``[(id, JSON)]`` of ``records`` rendered in one batch, or one by
        one when the batch fails: a record the user may not read in full (a
        related record, a field) is left out, one that cannot be rendered
        for another reason is kept without its record, so that the change
        goes through and its failed delivery tells the administrator."""
        try:
            rows = engine._render(call, records, selected)
        except psycopg2.Error:
            raise
        except Exception:  # noqa: BLE001 - sorted out record by record below
            rows = None
        if rows is not None:
            return [
                (record.id, core_webhooks.encode_record(row))
                for record, row in zip(records, rows, strict=True)
            ]
        rendered = []
        for record in records:
            try:
                row = engine._render(call, record, selected)[0]
            except (AccessError, MissingError):
                continue
            except psycopg2.Error:
                raise
            except Exception as error:  # noqa: BLE001 - one record, not the change
                _logger.warning(
                    "secure_api: webhook event of %s(%s) not rendered: %s",
                    record._name,
                    record.id,
                    type(error).__name__,
                )
                rendered.append((record.id, None))
                continue
            rendered.append((record.id, core_webhooks.encode_record(row)))
        return rendered

    @api.model
    def _read_call(self, spec, model_name, user_id):
        """A read of the API as ``user_id``, as a client of the API would
        make it (the user's environment, the API's fields and ids)."""
        call = Call(request=ApiRequest.build("GET", spec["route"]), spec=spec)
        call.model, call.model_spec, call.operation = (
            model_name,
            spec["models"][model_name],
            "read",
        )
        call.principal = {"uid": user_id, "scope": None, "app": None}
        call.env = self.env["secure.api.engine"]._user_env(call)
        return call

    @api.model
    def _insert(self, api_id, user_id, model_name, event, webhook_ids, route, rendered):
        """Write the outbox rows of ``rendered`` (``[(record id, JSON)]``) for
        each of ``webhook_ids``, in one INSERT; returns their ids."""
        if not rendered:
            return []
        hooks, ids, texts = [], [], []
        for webhook_id in webhook_ids:
            for rid, text in rendered:
                hooks.append(webhook_id)
                ids.append(rid)
                texts.append(text)
        self.env.cr.execute(
            INSERT_SQL,
            [api_id, user_id, model_name, event, route, hooks, ids, texts],
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    @tools.ormcache("model_name", "event")
    def _subscriptions(self, model_name, event):
        """``((api id, payload user id, (subscription ids)), ...)``: the active
        subscriptions of active APIs on ``model_name`` that listen to
        ``event``; cleared when APIs or subscriptions change."""
        webhooks = (
            self.env["secure.api.webhook"]
            .sudo()
            .search([("state", "=", "active"), ("api_id.state", "=", "active")])
        )
        groups = {}
        for hook in webhooks:
            if event in hook._event_list() and (
                model_name in hook.api_id._get_model_names()
            ):
                key = (hook.api_id.id, hook.user_id.id)
                groups.setdefault(key, []).append(hook.id)
        return tuple(
            (api_id, user_id, tuple(ids))
            for (api_id, user_id), ids in sorted(groups.items())
        )
