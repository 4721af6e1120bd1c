import logging
import time
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import requests
import urllib3

from odoo import _, api, fields, models

from ..compat import aggregate
from ..core import webhooks as core_webhooks
from ..core.hashid import codec as hashid_codec
from .secure_api_webhook import _notification

_logger = logging.getLogger(__name__)

PLAN_SQL = """
INSERT INTO secure_api_webhook_delivery
    (webhook_id, event_id, delivery_uuid, attempt, state, next_attempt_at,
     create_uid, write_uid, create_date, write_date)
SELECT w.id, e.id, md5(random()::text || clock_timestamp()::text || e.id || w.id),
       0, 'pending', now() AT TIME ZONE 'UTC',
       1, 1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
  FROM secure_api_event e
  JOIN secure_api_webhook w ON w.api_id = e.api_id AND w.active
       AND w.state = 'active'
       AND position(e.event in w.events) > 0
 WHERE e.id = ANY(%s)
"""
# The oldest due delivery whose record has no earlier undelivered event for
# the same subscription; rows other workers hold are skipped.
CLAIM_SQL = """
SELECT d.id FROM secure_api_webhook_delivery d
  JOIN secure_api_event e ON e.id = d.event_id
  JOIN secure_api_webhook w ON w.id = d.webhook_id AND w.active AND w.state = 'active'
 WHERE d.state = 'pending'
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
    next_attempt_at = fields.Datetime(readonly=True, index=True)
    first_attempt_at = fields.Datetime(readonly=True)
    state = fields.Selection(
        [("pending", "Pending"), ("delivered", "Delivered"), ("failed", "Failed")],
        default="pending",
        required=True,
        readonly=True,
        index=True,
    )

    def action_redeliver(self):
        """Send these deliveries again, at once, with their delivery ids."""
        self.write({"state": "pending", "next_attempt_at": fields.Datetime.now()})
        return _notification(_("Queued again for the next delivery run."))

    @api.model
    def _plan(self):
        """One pending delivery per new event and listening subscription."""
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT id FROM secure_api_event WHERE NOT dispatched ORDER BY id"
            " LIMIT 5000 FOR UPDATE SKIP LOCKED"
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        if ids:
            self.env.cr.execute(PLAN_SQL, [ids])
            self.env.cr.execute(
                "UPDATE secure_api_event SET dispatched = true WHERE id = ANY(%s)",
                [ids],
            )
        return len(ids)

    @api.model
    def _claim(self):
        self.env.flush_all()
        self.env.cr.execute(CLAIM_SQL)
        row = self.env.cr.fetchone()
        return self.browse(row[0]) if row else self.browse()

    def _send(self):
        """One attempt: render, sign, POST with a 10 s timeout, record."""
        self.ensure_one()
        hook = self.webhook_id.sudo()
        now = fields.Datetime.now()
        values = {
            "attempt": self.attempt + 1,
            "first_attempt_at": self.first_attempt_at or now,
        }
        problem, addresses = hook._destination()
        user = self.env["res.users"]._secure_api_user_state(hook.user_id.id)
        if not user["active"] or user["privileged"]:
            # Never rendered as an administrator: stopped until fixed.
            hook._pause("the payload user is archived or an administrator")
            self.write(dict(values, error="payload user not allowed"))
            return
        body = None if problem else self._payload()
        if body is None and not problem:
            # The record is outside the API or unreadable now: nothing to send.
            self.write(dict(values, state="delivered", error="not sent: not exposed"))
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
            hook.write({"failure_count": 0})
            self.write(values)
        else:
            self._retry_later(values, error or f"HTTP {status}")

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
        """The event's body, rendered by the API's own read path as the
        subscription's user, or ``None`` when that user may not see it."""
        event = self.event_id
        api_rec = event.api_id
        spec = self.env["secure.api"]._get_spec(api_rec.id)
        if spec is None:
            return None
        if event.event == "delete":
            # Recorded only for records inside the API when deleted.
            record = {"id": self._encoded_id(spec, event)}
        elif not self.env[event.model].sudo().browse(event.record_id).exists():
            # Created or changed, then deleted: its delete event tells it.
            return None
        else:
            record = self._render(spec, event)
            if record is None:
                return None
        return core_webhooks.payload(
            event.id,
            event.event,
            spec["route"],
            event.occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            record,
        )

    def _encoded_id(self, spec, event):
        return hashid_codec(
            spec["obfuscate"], spec["salt"], event.model, spec["min_length"]
        ).encode(event.record_id)

    def _render(self, spec, event):
        engine = self.env["secure.api.engine"].with_user(self.webhook_id.user_id)
        encoded = self._encoded_id(spec, event)
        path = spec["route"] + (f"/{event.model}" if spec["multi_model"] else "")
        return engine._render_event(spec, event.model, f"{path}/{encoded}")
