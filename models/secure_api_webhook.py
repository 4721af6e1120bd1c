import logging
import socket
import time
from datetime import timedelta

import requests

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .. import i18n_messages
from ..core import webhooks as core_webhooks

_logger = logging.getLogger(__name__)
PATCHED = "secure_api_webhook_patch"
# The fields that decide which models carry the outbox hook.
HOOK_FIELDS = frozenset({"api_id", "state", "active"})


def resolve(hostname):
    """Every address ``hostname`` resolves to (empty when it does not)."""
    try:
        infos = socket.getaddrinfo(hostname, None)
    except (OSError, UnicodeError):
        return []
    return sorted({info[4][0] for info in infos})


class SecureApiWebhook(models.Model):
    """A subscription of a URL to the changes of one API's records.

    Changes are judged and rendered as the payload user and written to the
    outbox (``secure.api.event``) by the changing transaction, through a hook
    installed on the exposed models while a subscription exists (as
    ``base_automation`` does for its rules), and delivered later, as they
    were recorded, by the ``secure_api.ir_cron_webhook_deliver`` job.
    """

    _name = "secure.api.webhook"
    _inherit = ["secure.api.cache.mixin"]
    _description = "Secure API webhook subscription"
    _order = "api_id, id"

    name = fields.Char(compute="_compute_name", store=True)
    api_id = fields.Many2one(
        "secure.api", string="API", required=True, ondelete="cascade", index=True
    )
    url = fields.Char(
        string="URL",
        required=True,
        help="https:// address that receives a POST per event. Private, "
        "loopback and link-local addresses are refused (see the system "
        "parameter secure_api.webhook_allow_private for development).",
    )
    events = fields.Char(
        default="create update delete",
        required=True,
        help="The events sent: create, update and/or delete.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Payload User",
        required=True,
        ondelete="restrict",
        domain=lambda self: self.env["secure.api.client"]._execution_user_domain(),
        help="Payloads are rendered as this user, with the API's fields, "
        "aliases, ids and forced domain: a record this user may not read, or "
        "outside the API, is not sent. Never an administrator.",
    )
    secret = fields.Char(
        copy=False,
        groups=fields.NO_ACCESS,
        default=lambda self: core_webhooks.generate_secret(),
    )
    active = fields.Boolean(default=True)
    state = fields.Selection(
        [("active", "Active"), ("paused", "Paused")],
        default="active",
        required=True,
        help="Paused after failing for 24 hours; resume it once the receiver "
        "answers again.",
    )
    failure_count = fields.Integer(readonly=True, copy=False)
    last_error = fields.Char(readonly=True, copy=False)
    delivery_ids = fields.One2many(
        "secure.api.webhook.delivery", "webhook_id", string="Deliveries"
    )
    delivered_count = fields.Integer(
        string="Delivered (24 h)",
        compute="_compute_delivery_statistics",
        help="Deliveries the receiver accepted (2xx) in the last 24 hours.",
    )
    failing_count = fields.Integer(
        string="Failing",
        compute="_compute_delivery_statistics",
        help="Deliveries that failed at least once and are still retried, or "
        "were given up after 24 hours.",
    )
    pending_count = fields.Integer(
        string="Pending",
        compute="_compute_delivery_statistics",
        help="Deliveries waiting for their first or next attempt.",
    )
    average_duration_ms = fields.Float(
        string="Average Duration (ms)",
        compute="_compute_delivery_statistics",
        digits=(16, 1),
        help="Mean time the receiver took to answer, over the attempts of the "
        "last 24 hours.",
    )

    @api.depends("api_id", "url")
    def _compute_name(self):
        for hook in self:
            hook.name = (
                f"{hook.api_id.name} → {hook.url}"
                if hook.api_id and hook.url
                else _("New Webhook")
            )

    def _compute_delivery_statistics(self):
        figures = dict.fromkeys(self.ids, (0, 0, 0, 0.0))
        if self.ids:
            # One query for the whole page of subscriptions.
            self.env["secure.api.webhook.delivery"].flush_model()
            self.env.cr.execute(
                """
                SELECT webhook_id,
                       count(*) FILTER (WHERE state = 'delivered'
                           AND write_date > %(since)s),
                       count(*) FILTER (WHERE state = 'failed'
                           OR (state = 'pending' AND attempt > 0)),
                       count(*) FILTER (WHERE state = 'pending'),
                       coalesce(avg(duration_ms) FILTER (WHERE attempt > 0
                           AND write_date > %(since)s), 0)
                  FROM secure_api_webhook_delivery
                 WHERE webhook_id = ANY(%(ids)s)
                 GROUP BY webhook_id
                """,
                {
                    "ids": list(self.ids),
                    "since": fields.Datetime.now() - timedelta(days=1),
                },
            )
            figures.update({row[0]: row[1:] for row in self.env.cr.fetchall()})
        for hook in self:
            delivered, failing, pending, duration = figures.get(hook.id, (0, 0, 0, 0.0))
            hook.delivered_count = delivered
            hook.failing_count = failing
            hook.pending_count = pending
            hook.average_duration_ms = duration

    @api.constrains("events")
    def _check_events(self):
        for hook in self:
            try:
                core_webhooks.parse_events(hook.events)
            except ValueError:
                raise ValidationError(
                    _("Events are create, update and/or delete.")
                ) from None

    @api.constrains("url")
    def _check_url(self):
        for hook in self:
            problem = hook._destination_problem()
            if problem:
                raise ValidationError(
                    _(
                        "Webhook URL refused: %s",
                        i18n_messages.translate(self.env, problem),
                    )
                )

    @api.constrains("user_id")
    def _check_user_id(self):
        for hook in self:
            self.env["secure.api.client"]._check_execution_user(hook.user_id)

    @api.model_create_multi
    def create(self, vals_list):
        self.env["secure.api"]._check_privileged_edit()
        hooks = super().create(vals_list)
        self._update_registry()
        return hooks

    def write(self, vals):
        # Where events go, what they show and how they are signed are the
        # administrators' call; deliveries update their counters as sudo.
        self.env["secure.api"]._check_privileged_edit()
        result = super().write(vals)
        if HOOK_FIELDS & vals.keys():
            # Not for the counters a delivery updates: a registry reload in
            # every worker per delivery.
            self._update_registry()
        return result

    def unlink(self):
        self.env["secure.api"]._check_privileged_edit()
        result = super().unlink()
        self._update_registry()
        return result

    def action_show_secret(self):
        """Generate a new secret and show it once."""
        self.ensure_one()
        self.env["secure.api"]._check_privileged_edit()
        secret = core_webhooks.generate_secret()
        self.sudo().write({"secret": secret})
        return {
            "type": "ir.actions.act_window",
            "name": _("Webhook Secret"),
            "res_model": "secure.api.client.secret.show",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_webhook_url": self.url,
                "default_client_secret": secret,
            },
        }

    def action_open_deliveries(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "secure_api.secure_api_webhook_delivery_action"
        )
        action.update(
            domain=[("webhook_id", "=", self.id)],
            context={"default_webhook_id": self.id},
            display_name=self.name,
        )
        return action

    def action_resume(self):
        self.write({"state": "active", "failure_count": 0, "last_error": False})
        return True

    def action_send_test_event(self):
        """Queue a delivery, to this subscription alone, of the first record
        its payload user reads through the API, as an update."""
        self.ensure_one()
        # What a subscription sends is the administrators' call.
        self.env["secure.api"]._check_privileged_edit()
        self.env["secure.api.event"].sudo()._record_test(self.sudo())
        return _notification(_("A test event is queued for the next delivery run."))

    # ------------------------------------------------------------------
    # Destination checks
    # ------------------------------------------------------------------

    def _destination_problem(self):
        return self._destination()[0]

    def _destination(self):
        """``(problem, addresses)``: why the URL is refused (or ``None``) and
        the addresses it resolved to, which the delivery connects to."""
        self.ensure_one()
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("secure_api.webhook_allow_private", "")
        )
        allow = str(value).strip().lower() in ("1", "true", "yes")
        hostname = requests.utils.urlparse(self.url or "").hostname
        addresses = resolve(hostname) if hostname else []
        return core_webhooks.destination_problem(self.url, addresses, allow), addresses

    def _event_list(self):
        try:
            return core_webhooks.parse_events(self.events)
        except ValueError:
            return ()

    # ------------------------------------------------------------------
    # The outbox hook on the exposed models
    # ------------------------------------------------------------------

    def _update_registry(self):
        """Re-install the hooks here and tell the other workers to reload."""
        if self.env.registry.ready and not self.env.context.get("import_file"):
            self._unregister_hook()
            self._register_hook()
            self.env.registry.registry_invalidated = True

    def _register_hook(self):
        """Patch ``create``, ``write`` and ``unlink`` of the models that an
        API with an active subscription exposes, or an API that syncs
        deletions (its tombstones: ``secure.api.tombstone``)."""
        super()._register_hook()
        hooks = self.sudo().search([("state", "=", "active")])
        apis = hooks.api_id | self.env["secure.api"].sudo().with_context(
            active_test=False
        ).search([("sync_deletions", "=", True)])
        for model_name in sorted(
            {name for api_rec in apis for name in api_rec._get_model_names()}
        ):
            if model_name in self.env:
                _patch_model(self.env.registry[model_name])

    def _unregister_hook(self):
        for model_class in self.env.registry.values():
            for name in ("create", "write", "unlink"):
                method = model_class.__dict__.get(name)
                if getattr(method, PATCHED, False):
                    delattr(model_class, name)
        return super()._unregister_hook()

    # ------------------------------------------------------------------
    # Delivery
    # ------------------------------------------------------------------

    @api.model
    def _cron_deliver(self, limit=200):
        """Plan the deliveries of new events, then send what is due.

        Due deliveries are claimed with ``FOR UPDATE SKIP LOCKED``, so several
        cron workers and servers deliver in parallel without doubles; a
        delivery waits for the earlier events of its record (order per
        record). Subscriptions take turns: the one whose receiver has taken
        the least time in this run goes next, and one that has taken its
        share waits for the next run, so that a slow or failing receiver
        never holds back the others. Returns the number of deliveries
        attempted.
        """
        deliveries = self.env["secure.api.webhook.delivery"].sudo()
        deliveries._plan()
        attempted = 0
        started = time.monotonic()
        due = deliveries._due_subscriptions()
        spent = dict.fromkeys(due, 0.0)
        left_over = False
        # One transaction per run, bounded in count and time: the claimed rows
        # stay locked (skipped by other workers) until it commits. A run cut
        # short re-sends what it sent (at least once); the job runs again
        # at once when work is left.
        while (
            due
            and attempted < limit
            and time.monotonic() - started < core_webhooks.RUN_SECONDS
        ):
            hook_id = min(due, key=spent.__getitem__)
            delivery = deliveries._claim(hook_id)
            if not delivery:
                due.remove(hook_id)
                continue
            begun = time.monotonic()
            self._attempt(delivery)
            attempted += 1
            spent[hook_id] += time.monotonic() - begun
            if spent[hook_id] >= core_webhooks.SUBSCRIPTION_SHARE_SECONDS:
                due.remove(hook_id)
                left_over = True
        cron = self.env.ref("secure_api.ir_cron_webhook_deliver", False)
        if cron and (due or left_over):
            cron._trigger()
        return attempted

    @api.model
    def _attempt(self, delivery):
        """Send one delivery; whatever goes wrong stays with it."""
        try:
            with self.env.cr.savepoint():
                delivery._send()
        except Exception as error:  # noqa: BLE001 - one delivery, not the run
            # A subscription broken in a way no check foresaw fails its
            # own deliveries; every other one is still served.
            _logger.warning(
                "secure_api: delivery %s failed: %s",
                delivery.id,
                type(error).__name__,
            )
            delivery._failed(type(error).__name__)

    def _pause(self, error):
        self.sudo().write({"state": "paused", "last_error": error[:200]})
        _logger.warning(
            "secure_api: webhook %s paused after failing for %s",
            self.id,
            timedelta(seconds=core_webhooks.RETRY_WINDOW_SECONDS),
        )


def _notification(message):
    return {
        "type": "ir.actions.client",
        "tag": "display_notification",
        "params": {"message": message, "type": "success", "sticky": False},
    }


def _patch_model(model_class):
    """Install the outbox and tombstone writes on one registry model class
    (idempotent). Each costs a cached lookup when nothing listens."""
    if getattr(model_class.__dict__.get("create"), PATCHED, False):
        return

    @api.model_create_multi
    def create(self, vals_list, **kwargs):
        records = create.origin(self, vals_list, **kwargs)
        self.env["secure.api.event"].sudo()._record(records, "create")
        return records

    def write(self, vals, **kwargs):
        events = self.env["secure.api.event"].sudo()
        # An event of these records still to be rendered shows them as they
        # were before this change.
        events._before_change(self)
        active = self._active_name
        toggles = bool(active and active in vals)
        tombstones = self.env["secure.api.tombstone"].sudo()
        toggled = judged = None
        if toggles and tombstones._apis_for(self._name):
            # Only the records this write archives or restores.
            before = self.sudo().with_context(active_test=False)
            toggled = before.filtered(lambda r: bool(r[active]) != bool(vals[active]))
            if toggled and not vals[active]:
                # Judged before the write: who could read them until now
                # (the same write may also move them out of the domain).
                judged = tombstones._judge_all(toggled, "archived")
        result = write.origin(self, vals, **kwargs)
        archived = toggles and not vals[active]
        events._record(self, "update", archived)
        if toggled:
            if archived:
                tombstones._write(self._name, "archived", judged)
            else:
                tombstones._restore(toggled)
        return result

    def unlink(self, **kwargs):
        # Judged first, while the records still tell whether the payload
        # users and the API's callers read them; a failing unlink rolls the
        # rows back with it.
        self.env["secure.api.event"].sudo()._record(self, "delete")
        self.env["secure.api.tombstone"].sudo()._record(self, "deleted")
        return unlink.origin(self, **kwargs)

    for name, method in (("create", create), ("write", write), ("unlink", unlink)):
        method.origin = getattr(model_class, name)
        setattr(method, PATCHED, True)
        setattr(model_class, name, method)
