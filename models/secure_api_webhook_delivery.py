import logging
import time
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import requests
import urllib3

from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from .. import compat
from ..compat import aggregate
from ..core import webhooks as core_webhooks
from .secure_api_webhook import _notification

_logger = logging.getLogger(__name__)

# One pending delivery per new event, to its own subscription, while that
# subscription still belongs to the event's API, listens to its kind and
# renders as the same payload user.
PLAN_SQL = r"""
INSERT INTO secure_api_webhook_delivery
    (webhook_id, event_id, delivery_uuid, attempt, state, next_attempt_at,
     create_uid, write_uid, create_date, write_date)
SELECT w.id, e.id, md5(random()::text || clock_timestamp()::text || e.id || w.id),
       0, 'pending', now() AT TIME ZONE 'UTC',
       1, 1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
  FROM secure_api_event e
  JOIN secure_api_webhook w ON w.id = e.webhook_id AND w.api_id = e.api_id
       AND w.user_id = e.user_id AND w.active
       AND e.event = ANY(regexp_split_to_array(btrim(w.events), '[\s,]+'))
 WHERE e.id = ANY(%s)
"""
# The subscriptions with due deliveries, the one waiting longest first.
DUE_SQL = """
SELECT d.webhook_id FROM secure_api_webhook_delivery d
  JOIN secure_api_webhook w ON w.id = d.webhook_id AND w.active AND w.state = 'active'
 WHERE d.state = 'pending'
   AND d.next_attempt_at <= clock_timestamp() AT TIME ZONE 'UTC'
 GROUP BY d.webhook_id
 ORDER BY min(d.event_id)
"""
# The oldest due delivery of one subscription whose record has no earlier
# undelivered event for it; rows other workers hold are skipped.
CLAIM_SQL = """
SELECT d.id FROM secure_api_webhook_delivery d
  JOIN secure_api_event e ON e.id = d.event_id
  JOIN secure_api_webhook w ON w.id = d.webhook_id AND w.active AND w.state = 'active'
 WHERE d.webhook_id = %s
   AND d.state = 'pending'
   AND d.next_attempt_at <= clock_timestamp() AT TIME ZONE 'UTC'
   AND NOT EXISTS (
       SELECT 1 FROM secure_api_webhook_delivery d2
         JOIN secure_api_event e2 ON e2.id = d2.event_id
        WHERE d2.webhook_id = d.webhook_id AND d2.state = 'pending'
          AND e2.model = e.model AND e2.record_id = e.record_id
          AND e2.id < e.id)
 ORDER BY e.id
 LIMIT 1
 FOR UPDATE OF d SKIP LOCKED
"""
# What makes a delivery: never changed once planned.
IDENTITY = frozenset({"webhook_id", "event_id", "delivery_uuid"})


class PinnedHostAdapter(requests.adapters.HTTPAdapter):
    """HTTPS to an address while TLS (SNI and the certificate check) uses
    the host name the address was resolved from."""

    def __init__(self, hostname):
        self._hostname = hostname
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        kwargs.update(server_hostname=self._hostname, assert_hostname=self._hostname)
        return super().init_poolmanager(*args, **kwargs)


class SecureApiWebhookDelivery(models.Model):
    """One event sent to one subscription: its attempts and their outcome."""

    _name = "secure.api.webhook.delivery"
    _description = "Secure API webhook delivery"
    _order = "id desc"

    webhook_id = fields.Many2one(
        "secure.api.webhook", required=True, ondelete="cascade", index=True
    )
    event_id = fields.Many2one(
        "secure.api.event", required=True, ondelete="cascade", index=True
    )
    event = fields.Selection(related="event_id.event", string="Event Type")
    delivery_uuid = fields.Char(
        string="Delivery ID",
        required=True,
        readonly=True,
        default=lambda self: uuid.uuid4().hex,
        help="Sent as X-Secure-Api-Delivery; the same on every attempt.",
    )
    attempt = fields.Integer(readonly=True)
    status_code = fields.Integer(readonly=True)
    duration_ms = fields.Float(
        string="Duration (ms)",
        readonly=True,
        help="Time the receiver took to answer the last attempt.",
        **aggregate("avg"),
    )
    error = fields.Char(readonly=True)
    next_attempt_at = fields.Datetime(
        readonly=True, index=True, default=fields.Datetime.now
    )
    first_attempt_at = fields.Datetime(readonly=True)
    state = fields.Selection(
        [("pending", "Pending"), ("delivered", "Delivered"), ("failed", "Failed")],
        default="pending",
        required=True,
        readonly=True,
        index=True,
    )

    def write(self, vals):
        # A delivery is one event for one subscription: pointing it at
        # another would send one API's record to another's receiver.
        if IDENTITY & vals.keys():
            raise AccessError(
                _("A delivery's subscription, event and id never change.")
            )
        return super().write(vals)

    def action_redeliver(self):
        """Send these deliveries again, at once, with their delivery ids:
        all that a manager may do to a delivery."""
        if not self.env.su and not self.env.user.has_group(
            "secure_api.group_secure_api_manager"
        ):
            raise AccessError(_("Only Secure API managers may redeliver."))
        compat.check_access(self, "read")
        self.sudo().write(
            {"state": "pending", "next_attempt_at": fields.Datetime.now()}
        )
        return _notification(_("Queued again for the next delivery run."))

    @api.model
    def _plan(self):
        """One pending delivery per new event, to its subscription."""
        # The events of this very transaction too (a test, a manual run).
        self.env["secure.api.event"]._render_pending()
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT id FROM secure_api_event WHERE NOT dispatched ORDER BY id"
            " LIMIT 5000 FOR UPDATE SKIP LOCKED"
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        self._plan_events(ids)
        return len(ids)

    @api.model
    def _plan_events(self, ids):
        """The deliveries of the events ``ids``, which are then dispatched."""
        if not ids:
            return
        self.env.cr.execute(PLAN_SQL, [ids])
        self.env.cr.execute(
            "UPDATE secure_api_event SET dispatched = true WHERE id = ANY(%s)",
            [ids],
        )
        self.env["secure.api.webhook"].invalidate_model(["delivery_ids"])
        self.env["secure.api.event"].invalidate_model(["dispatched", "delivery_ids"])

    @api.model
    def _due_subscriptions(self):
        """Ids of the subscriptions with due deliveries, the one waiting
        longest first."""
        self.env.flush_all()
        self.env.cr.execute(DUE_SQL)
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _claim(self, webhook_id):
        self.env.flush_all()
        self.env.cr.execute(CLAIM_SQL, [webhook_id])
        row = self.env.cr.fetchone()
        return self.browse(row[0]) if row else self.browse()

    def _send(self):
        """One attempt: check, sign, POST the stored payload with a 10 s
        timeout, record."""
        self.ensure_one()
        hook = self.webhook_id.sudo()
        now = fields.Datetime.now()
        values = {
            "attempt": self.attempt + 1,
            "first_attempt_at": self.first_attempt_at or now,
        }
        misdirected = self._misdirected()
        if misdirected:
            # Rows changed behind the ORM's back: never sent, whatever they
            # say, and no fault of the receiver's.
            _logger.warning(
                "secure_api: delivery %s not sent: %s", self.id, misdirected
            )
            self.write(dict(values, state="failed", error=misdirected))
            return
        user = self.env["res.users"]._secure_api_user_state(hook.user_id.id)
        if not user["active"] or user["privileged"]:
            # Never rendered as an administrator: stopped until fixed.
            hook._pause("the payload user is archived or an administrator")
            self.write(dict(values, error="payload user not allowed"))
            return
        problem, addresses = hook._destination()
        body = None if problem else self._payload()
        if body is None and not problem:
            self.write(
                dict(
                    values,
                    state="failed",
                    error="not sent: not rendered when it happened",
                )
            )
            return
        started = time.perf_counter()
        status, error = 0, problem
        if not problem:
            status, error = self._post(hook, body, addresses[0])
        values.update(
            status_code=status,
            duration_ms=round((time.perf_counter() - started) * 1000.0, 1),
            error=error or False,
        )
        if 200 <= status < 300:
            values["state"] = "delivered"
            if hook.failure_count:
                hook.write({"failure_count": 0})
            self.write(values)
        else:
            self._retry_later(values, error or f"HTTP {status}")

    def _misdirected(self):
        """Why this delivery may not be sent to its subscription (``None``
        when it may): an event goes only to the subscription it was judged
        for, while that one is of its API, listens to its kind and renders
        as the same payload user."""
        event = self.event_id.sudo()
        hook = self.webhook_id.sudo()
        if not event.webhook_id:
            return "not sent: recorded before events were rendered when they happen"
        if event.webhook_id != hook:
            return "not sent: the event is another subscription's"
        if event.api_id != hook.api_id:
            return "not sent: the event is another API's"
        if event.event not in hook._event_list():
            return f"not sent: the subscription does not listen to {event.event}"
        if event.user_id != hook.user_id:
            return "not sent: the event was rendered for another payload user"
        return None

    def _failed(self, error):
        """Record an attempt that could not even be made: retried like any
        failed attempt."""
        now = fields.Datetime.now()
        values = {
            "attempt": self.attempt + 1,
            "first_attempt_at": self.first_attempt_at or now,
            "error": error[:200],
        }
        self._retry_later(values, error)

    def _retry_later(self, values, error):
        """Record a failed attempt (``values``): due again after the backoff,
        or given up, and its subscription paused, once it has failed for the
        whole retry window."""
        hook = self.webhook_id.sudo()
        now = fields.Datetime.now()
        window = timedelta(seconds=core_webhooks.RETRY_WINDOW_SECONDS)
        if now - values["first_attempt_at"] >= window:
            values["state"] = "failed"
            hook._pause(error)
        else:
            delay = core_webhooks.next_delay(values["attempt"])
            values["next_attempt_at"] = now + timedelta(seconds=delay)
        hook.write({"failure_count": hook.failure_count + 1})
        self.write(values)

    def _post(self, hook, body, address):
        """POST ``body`` to ``address``, the checked address of the hook's
        host: the name is not resolved a second time."""
        started = time.monotonic()
        timestamp = int(time.time())
        url, host = core_webhooks.pinned(hook.url, address)
        if urllib3.util.parse_url(url).host.strip("[]") != address:
            # Whatever the URL holds, the connection goes to the checked
            # address or nowhere.
            return 0, "address mismatch"
        headers = {
            "Host": host,
            "Content-Type": "application/json",
            "User-Agent": "secure_api-webhooks",
            "X-Secure-Api-Event": self.event_id.event,
            "X-Secure-Api-Delivery": self.delivery_uuid,
            "X-Secure-Api-Signature": core_webhooks.sign(hook.secret, timestamp, body),
        }
        session = requests.Session()
        session.trust_env = False  # no proxy: it would resolve the name again
        session.mount("https://", PinnedHostAdapter(urlsplit(hook.url).hostname))
        try:
            with session.post(
                url,
                data=body,
                headers=headers,
                timeout=core_webhooks.TIMEOUT_SECONDS,
                allow_redirects=False,
                stream=True,
            ) as response:
                # A bounded part of the answer, within the same 10 s in all:
                # a receiver trickling its body must not hold the worker.
                deadline = started + core_webhooks.TIMEOUT_SECONDS
                received = 0
                for chunk in response.iter_content(4096):
                    received += len(chunk)
                    if time.monotonic() > deadline:
                        return 0, "timeout"
                    if received >= core_webhooks.MAX_RESPONSE_BYTES:
                        break
                return response.status_code, (
                    None if response.ok else f"HTTP {response.status_code}"
                )
        except requests.RequestException as error:
            return 0, type(error).__name__
        finally:
            session.close()

    def _payload(self):
        """The body of the event as it was rendered when it happened, or
        ``None`` when it could not be."""
        event = self.event_id.sudo()
        if not event.payload:
            return None
        return core_webhooks.body(
            event.id,
            event.event,
            event.route,
            event.occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            event.payload,
        )
