"""Webhooks (contract: "Webhooks"): a transactional outbox, signed deliveries
to a local receiver, retries, order per record and destination checks."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import TransactionCase, tagged

from ..compat import user_groups_field
from ..core import webhooks as core_webhooks
from ..models import secure_api_webhook as webhook_module
from .common import SecureApiTransactionCase, internal_user, run_threads


class Undo(Exception):
    pass


class Receiver:
    """A local HTTP endpoint that records what it receives and answers the
    statuses it is told to, in order (then 200)."""

    def __init__(self, delay=0):
        self.received = []
        self.statuses = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                # A slow receiver: answers within the 10 s, but late.
                time.sleep(delay)
                receiver.received.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def bodies(self):
        return [json.loads(body) for _headers, body in self.received]


@tagged("post_install", "-at_install")
class TestWebhooks(SecureApiTransactionCase):
    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param(
            "secure_api.webhook_allow_private", "1"
        )
        self.receiver = Receiver()
        self.addCleanup(self.receiver.close)
        self.hook = self.env["secure.api.webhook"].create(
            {
                "api_id": self.api_plain.id,
                "url": self.receiver.url,
                "user_id": self.api_user.id,
            }
        )
        self.addCleanup(self.hook._unregister_hook)
        self.secret = self.hook.sudo().secret
        self.partners = self.env["res.partner"]

    def deliver(self):
        return self.env["secure.api.webhook"]._cron_deliver()

    def outbox(self, domain=()):
        """The outbox as this transaction would commit it."""
        self.env.cr.flush()
        return self.env["secure.api.event"].search(list(domain))

    def test_orm_changes_are_delivered_signed_in_order(self):
        partner = self.partners.create({"name": "Hooked"})
        partner.phone = "123"
        self.assertEqual(self.deliver(), 2)
        partner.unlink()
        self.assertEqual(self.deliver(), 1)
        bodies = self.receiver.bodies()
        self.assertEqual([b["event"] for b in bodies], ["create", "update", "delete"])
        self.assertEqual(bodies[0]["record"]["name"], "Hooked")
        self.assertEqual(bodies[1]["record"]["phone"], "123")
        self.assertEqual(bodies[2]["record"], {"id": partner.id})
        self.assertEqual(bodies[0]["api"], self.api_plain.route)
        for headers, body in self.receiver.received:
            self.assertTrue(
                core_webhooks.verify(
                    self.secret, headers["X-Secure-Api-Signature"], body, time.time()
                )
            )
            self.assertIn(headers["X-Secure-Api-Event"], ("create", "update", "delete"))

    def test_rest_changes_are_delivered_with_the_apis_fields(self):
        answer = self.call(
            "POST",
            f"/api/{self.api_obf.route}",
            token=self.issue(),
            json={"name": "Via REST", "mail": "rest@example.com"},
        )
        self.result(answer, 201)
        self.hook.api_id = self.api_obf
        self.outbox().unlink()
        created = self.call(
            "POST",
            f"/api/{self.api_obf.route}",
            token=self.issue(),
            json={"name": "Obfuscated", "mail": "o@example.com"},
        )
        record = self.result(created, 201)
        self.deliver()
        body = self.receiver.bodies()[-1]
        self.assertEqual(body["record"]["id"], record["id"])
        self.assertEqual(body["record"]["mail"], "o@example.com")
        self.assertNotIn("email", body["record"])

    def test_a_rolled_back_change_is_never_announced(self):
        with self.assertRaises(Undo), self.env.cr.savepoint():
            self.partners.create({"name": "Rolled back"})
            raise Undo()
        answer = self.call(
            "POST",
            f"/api/{self.api_plain.route}",
            token=self.issue(),
            json=[{"name": "Bulk ok"}, {"name": False}],
        )
        self.assertEqual(answer.status, 422)
        self.api_plain.test_mode = True
        self.call(
            "POST",
            f"/api/{self.api_plain.route}",
            token=self.issue(),
            json={"name": "T"},
        )
        self.assertEqual(self.deliver(), 0)
        self.assertEqual(self.receiver.received, [])

    def test_failures_are_retried_with_the_same_delivery_id(self):
        self.receiver.statuses = [500, 503]
        self.partners.create({"name": "Flaky"})
        deliveries = self.env["secure.api.webhook.delivery"]
        for _attempt in range(3):
            self.deliver()
            deliveries.search([]).write({"next_attempt_at": "2000-01-01 00:00:00"})
        ids = {
            headers["X-Secure-Api-Delivery"] for headers, _b in self.receiver.received
        }
        self.assertEqual(len(self.receiver.received), 3)
        self.assertEqual(len(ids), 1)
        delivery = deliveries.search([])
        self.assertEqual((delivery.state, delivery.attempt), ("delivered", 3))
        self.assertEqual(self.hook.failure_count, 0)

    def test_a_subscription_failing_for_a_day_is_paused(self):
        self.receiver.statuses = [500] * 5
        self.partners.create({"name": "Down"})
        self.deliver()
        delivery = self.env["secure.api.webhook.delivery"].search([])
        delivery.write(
            {
                "first_attempt_at": "2000-01-01 00:00:00",
                "next_attempt_at": "2000-01-01 00:00:00",
            }
        )
        with self.assertLogs("odoo.addons.secure_api", "WARNING") as logs:
            self.deliver()
        self.assertIn("paused", logs.output[0])
        self.assertEqual(delivery.state, "failed")
        self.assertEqual(self.hook.state, "paused")

    def test_private_destinations_are_refused_at_save_and_at_delivery(self):
        parameters = self.env["ir.config_parameter"].sudo()
        parameters.set_param("secure_api.webhook_allow_private", "")
        for url in (
            "http://example.com/hook",
            "https://127.0.0.1/hook",
            "https://10.1.2.3/hook",
            "https://169.254.169.254/latest",
            "https://[::1]/hook",
        ):
            with self.subTest(url=url), self.assertRaises(ValidationError):
                self.env["secure.api.webhook"].create(
                    {
                        "api_id": self.api_plain.id,
                        "url": url,
                        "user_id": self.api_user.id,
                    }
                )
        self.partners.create({"name": "Not sent"})
        self.deliver()
        self.assertEqual(self.receiver.received, [])
        delivery = self.env["secure.api.webhook.delivery"].search([])
        self.assertEqual(delivery.error, "the URL must use https")
        self.assertEqual(delivery.state, "pending")

    def test_models_without_subscriptions_are_not_hooked(self):
        self.hook.unlink()
        partner_class = type(self.partners)
        self.assertFalse(
            getattr(
                partner_class.__dict__.get("create"), "secure_api_webhook_patch", False
            )
        )
        self.partners.create({"name": "Quiet"})
        self.assertFalse(self.outbox())

    def test_only_administrators_edit_subscriptions(self):
        manager = self.manager()
        hook = self.hook.with_user(manager)
        for action in (
            lambda: hook.write({"url": "https://attacker.example/hook"}),
            lambda: hook.write({"api_id": self.api_obf.id}),
            hook.action_show_secret,
            hook.unlink,
        ):
            with self.assertRaises(AccessError):
                action()

    def test_paused_and_archived_subscriptions_deliver_nothing(self):
        self.partners.create({"name": "Held"})
        self.env["secure.api.webhook.delivery"].sudo()._plan()
        for vals in ({"state": "paused"}, {"active": False, "state": "active"}):
            with self.subTest(vals=vals):
                self.hook.write(vals)
                self.assertEqual(self.deliver(), 0)
        self.assertEqual(self.receiver.received, [])

    def test_a_payload_user_made_administrator_pauses_the_subscription(self):
        self.partners.create({"name": "Watched"})
        self.api_user.write(
            {
                user_groups_field(self.env): [
                    Command.link(self.env.ref("base.group_system").id)
                ]
            }
        )
        with self.assertLogs("odoo.addons.secure_api", "WARNING"):
            self.deliver()
        self.assertEqual(self.receiver.received, [])
        self.assertEqual(self.hook.state, "paused")

    def test_deleting_a_record_outside_the_api_is_not_announced(self):
        hidden = self.partners.create({"name": "Hidden", "ref": "HIDDEN"})
        self.outbox().unlink()
        hidden.unlink()
        self.assertFalse(self.outbox())

    def test_created_updated_and_deleted_before_the_run_yields_three_deliveries(
        self,
    ):
        gone = self.partners.create({"name": "Short-lived"})
        gone.phone = "555"
        gone_id = gone.id
        gone.unlink()
        self.assertEqual(self.deliver(), 3)
        bodies = self.receiver.bodies()
        self.assertEqual([b["event"] for b in bodies], ["create", "update", "delete"])
        self.assertEqual(bodies[0]["record"]["name"], "Short-lived")
        self.assertFalse(bodies[0]["record"]["phone"])
        self.assertEqual(bodies[1]["record"]["phone"], "555")
        self.assertEqual(bodies[2]["record"], {"id": gone_id})

    def test_the_payload_is_the_record_as_the_user_read_it_when_it_happened(self):
        # Renamed and moved out of the API before the run: the create is
        # still delivered, with the name it had; the move is not announced.
        partner = self.partners.create({"name": "Before"})
        partner.write({"name": "After", "ref": "HIDDEN"})
        self.assertEqual(self.deliver(), 1)
        (body,) = self.receiver.bodies()
        self.assertEqual((body["event"], body["record"]["name"]), ("create", "Before"))

    def test_records_outside_the_api_yield_no_event_at_all(self):
        hidden = self.partners.create({"name": "Hidden here", "ref": "HIDDEN"})
        hidden.phone = "1"
        hidden.active = False
        hidden.unlink()
        self.assertFalse(self.outbox())
        self.assertEqual(self.deliver(), 0)

    def test_records_of_another_company_yield_no_event_at_all(self):
        # Inside the forced domain, but the payload user's company rules
        # hide it: neither its changes nor its delete are announced.
        other = self.env["res.company"].create({"name": "Elsewhere Ltd"})
        foreign = self.partners.create({"name": "Foreign", "company_id": other.id})
        self.assertFalse(
            self.partners.with_user(self.api_user).search([("id", "=", foreign.id)])
        )
        foreign.phone = "2"
        foreign.active = False
        foreign.unlink()
        self.assertFalse(self.outbox([("record_id", "=", foreign.id)]))
        self.deliver()
        self.assertNotIn(
            foreign.id, [body["record"]["id"] for body in self.receiver.bodies()]
        )

    def test_archiving_a_readable_record_is_announced(self):
        partner = self.partners.create({"name": "Retired"})
        self.deliver()
        partner.active = False
        self.assertEqual(self.deliver(), 1)
        body = self.receiver.bodies()[-1]
        self.assertEqual((body["event"], body["record"]["id"]), ("update", partner.id))

    def test_managers_may_redeliver_a_delivery_and_nothing_else(self):
        other = self.env["secure.api.webhook"].create(
            {
                "api_id": self.api_obf.id,
                "url": self.receiver.url,
                "user_id": self.api_user.id,
                "events": "delete",
            }
        )
        manager = self.manager()
        guarded = self.partners.create({"name": "Guarded"})
        self.deliver()
        delivery = self.hook.delivery_ids.filtered(
            lambda d: d.event_id.record_id == guarded.id
        ).with_user(manager)
        event = delivery.event_id
        for action in (
            lambda: delivery.write({"webhook_id": other.id}),
            lambda: delivery.write({"event_id": event.id}),
            lambda: delivery.write({"state": "pending"}),
            delivery.unlink,
            lambda: delivery.create({"webhook_id": other.id, "event_id": event.id}),
            lambda: event.write({"api_id": self.api_obf.id}),
            event.unlink,
            lambda: event.read(["payload"]),
        ):
            with self.assertRaises(AccessError):
                action()
        delivery.action_redeliver()
        self.assertEqual(delivery.state, "pending")
        self.assertEqual(self.deliver(), 1)
        headers, body = self.receiver.received[-1]
        self.assertEqual(headers["X-Secure-Api-Delivery"], delivery.delivery_uuid)
        self.assertEqual(json.loads(body)["record"]["name"], "Guarded")

    def test_an_event_goes_only_to_its_own_subscription(self):
        # Rows tampered with in the database (by SQL or an administrator's
        # code): an event is never sent to another API's subscription, nor
        # to one that does not listen to its kind.
        elsewhere = Receiver()
        self.addCleanup(elsewhere.close)
        other = self.env["secure.api.webhook"].create(
            {
                "api_id": self.api_obf.id,
                "url": elsewhere.url,
                "user_id": self.api_user.id,
                "events": "delete",
            }
        )
        self.partners.create({"name": "Misdirected"})
        deliveries = self.env["secure.api.webhook.delivery"]
        deliveries._plan()
        moved = deliveries.search([("webhook_id", "=", self.hook.id)])
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE secure_api_webhook_delivery SET webhook_id = %s WHERE id = %s",
            [other.id, moved.id],
        )
        moved.invalidate_recordset()
        grafted = deliveries.create(
            {"webhook_id": other.id, "event_id": moved.event_id.id}
        )
        with self.assertLogs(
            "odoo.addons.secure_api.models.secure_api_webhook_delivery", "WARNING"
        ) as logged:
            self.assertEqual(self.deliver(), 2)
        self.assertEqual(len(logged.output), 2, logged.output)
        self.assertTrue(all("another subscription" in line for line in logged.output))
        self.assertEqual(elsewhere.received, [])
        self.assertEqual(self.receiver.received, [])
        for delivery in moved | grafted:
            self.assertEqual(delivery.state, "failed")
            self.assertTrue(delivery.error)

    def test_only_administrators_send_test_events(self):
        with self.assertRaises(AccessError):
            self.hook.with_user(self.manager()).action_send_test_event()
        self.assertFalse(self.outbox([("webhook_id", "=", self.hook.id)]))

    def test_a_slow_receiver_does_not_hold_back_other_subscriptions(self):
        # A backlog on a receiver that takes 9 s an answer, longer than a
        # run lasts; the other subscription's deliveries still all go out
        # in the first run.
        slow = Receiver(delay=9)
        self.addCleanup(slow.close)
        self.hook.url = slow.url
        for index in range(6):
            self.partners.create({"name": f"Backlog {index}"})
        self.env["secure.api.webhook.delivery"]._plan()
        fast = self.env["secure.api.webhook"].create(
            {
                "api_id": self.api_plain.id,
                "url": self.receiver.url,
                "user_id": self.api_user.id,
            }
        )
        self.partners.create({"name": "Fresh 1"})
        self.partners.create({"name": "Fresh 2"})
        self.deliver()
        self.assertEqual(
            [b["record"]["name"] for b in self.receiver.bodies()],
            ["Fresh 1", "Fresh 2"],
        )
        self.assertEqual(set(fast.delivery_ids.mapped("state")), {"delivered"})

    def test_redeliver_sends_the_same_delivery_again(self):
        self.partners.create({"name": "Again"})
        self.deliver()
        delivery = self.env["secure.api.webhook.delivery"].search([])
        delivery.action_redeliver()
        self.deliver()
        ids = [
            headers["X-Secure-Api-Delivery"] for headers, _b in self.receiver.received
        ]
        self.assertEqual(len(ids), 2)
        self.assertEqual(ids[0], ids[1])

    def test_delivery_connects_to_the_address_that_was_checked(self):
        # DNS rebinding: a name that resolves to a public address when
        # checked and to a private one when connected. The delivery resolves
        # once, checks, and connects to that very address.
        lookups = []

        def resolve(hostname):
            lookups.append(hostname)
            return ["127.0.0.1"]

        port = self.receiver.server.server_address[1]
        with patch.object(webhook_module, "resolve", resolve):
            self.hook.url = f"http://rebind.invalid:{port}/hook"
            lookups.clear()
            self.partners.create({"name": "Pinned"})
            self.assertEqual(self.deliver(), 1)
        self.assertEqual(lookups, ["rebind.invalid"])
        self.assertEqual(len(self.receiver.received), 1)
        headers = self.receiver.received[0][0]
        self.assertEqual(headers["Host"], f"rebind.invalid:{port}")
        delivery = self.env["secure.api.webhook.delivery"].search([])
        self.assertEqual(delivery.state, "delivered")

    def test_send_test_event_delivers_at_the_next_run(self):
        self.hook.action_send_test_event()
        self.assertEqual(self.deliver(), 1)
        self.assertEqual([b["event"] for b in self.receiver.bodies()], ["update"])
        self.assertNotEqual(self.receiver.bodies()[0]["record"].get("ref"), "HIDDEN")

    def test_urls_that_parsers_read_differently_are_refused(self):
        # urlsplit reads the backslash as user info, HTTP clients as the end
        # of the host: such a URL could reach what the check never saw.
        port = self.receiver.server.server_address[1]
        for url in (
            f"http://127.0.0.1:{port}\\@example.com/hook",
            f"http://user:pw@127.0.0.1:{port}/hook",
        ):
            with self.subTest(url=url), self.assertRaises(ValidationError):
                self.hook.url = url

    def test_one_broken_subscription_does_not_stop_the_others(self):
        # A URL saved before a check existed, or edited in the database: its
        # deliveries fail alone, and every other subscription is served.
        broken = self.env["secure.api.webhook"].create(
            {
                "api_id": self.api_plain.id,
                "url": self.receiver.url,
                "user_id": self.api_user.id,
            }
        )
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE secure_api_webhook SET url = %s WHERE id = %s",
            ["https://1.1.1.1:443:80/h", broken.id],
        )
        broken.invalidate_recordset()
        self.partners.create({"name": "Served anyway"})
        self.assertEqual(self.deliver(), 2)
        self.assertEqual(len(self.receiver.received), 1)
        failed = broken.delivery_ids
        self.assertEqual((failed.state, failed.attempt), ("pending", 1))
        self.assertTrue(failed.error)

    def test_an_unforeseen_failure_stays_with_its_delivery(self):
        deliveries = type(self.env["secure.api.webhook.delivery"])
        original = deliveries._payload

        def payload(delivery):
            if delivery.event_id.record_id == doomed.id:
                raise RuntimeError("unforeseen")
            return original(delivery)

        doomed = self.partners.create({"name": "Doomed"})
        self.partners.create({"name": "Fine"})
        with (
            patch.object(deliveries, "_payload", payload),
            self.assertLogs("odoo.addons.secure_api", "WARNING") as logs,
        ):
            self.assertEqual(self.deliver(), 2)
        self.assertIn("RuntimeError", logs.output[0])
        self.assertEqual(
            [b["record"]["name"] for b in self.receiver.bodies()], ["Fine"]
        )
        failed = self.env["secure.api.webhook.delivery"].search(
            [("event_id.record_id", "=", doomed.id)]
        )
        self.assertEqual(
            (failed.state, failed.attempt, failed.error), ("pending", 1, "RuntimeError")
        )

    def test_events_of_a_record_are_found_by_index(self):
        # Ordering deliveries per record looks up the earlier events of the
        # same record: an index, not a scan of the whole outbox.
        self.env.cr.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'secure_api_event'"
        )
        definitions = " ".join(row[0] for row in self.env.cr.fetchall())
        self.assertIn("(model, record_id", definitions)

    def test_finished_events_are_forgotten_after_the_retention(self):
        self.partners.create({"name": "Old news"})
        self.partners.create({"name": "Still failing"})
        self.receiver.statuses = [200, 500]
        self.deliver()
        events = self.env["secure.api.event"].sudo().search([])
        self.env.cr.execute(
            "UPDATE secure_api_event SET occurred_at = now() - interval '40 days'"
        )
        events.invalidate_recordset()
        self.env["secure.api.event"]._gc_finished_events()
        # The delivered one is gone; the one still retried stays.
        remaining = self.env["secure.api.event"].sudo().search([])
        self.assertEqual(len(remaining), 1)
        self.assertEqual(remaining.delivery_ids.state, "pending")

    def test_subscription_shows_its_delivery_statistics(self):
        self.receiver.statuses = [500]
        self.partners.create({"name": "Fails once"})
        self.partners.create({"name": "Goes through"})
        self.deliver()
        self.hook.invalidate_recordset()
        self.assertEqual(self.hook.delivered_count, 1)
        self.assertEqual(self.hook.failing_count, 1)
        self.assertEqual(self.hook.pending_count, 1)
        self.assertGreater(self.hook.average_duration_ms, 0)
        action = self.hook.action_open_deliveries()
        self.assertEqual(action["res_model"], "secure.api.webhook.delivery")
        self.assertEqual(
            self.env[action["res_model"]].search(action["domain"]),
            self.hook.delivery_ids,
        )
        # The deliveries have graph and pivot views, grouped by day.
        views = self.env["secure.api.webhook.delivery"].get_views(
            [(False, "graph"), (False, "pivot")]
        )["views"]
        self.assertIn('interval="day"', views["graph"]["arch"])
        self.assertIn('type="measure"', views["pivot"]["arch"])


@tagged("post_install", "-at_install")
class TestConcurrentDeliveries(TransactionCase):
    """4 writers x 25 creates, then two cron workers delivering at once, on
    committed data as several workers and servers would: every event is
    delivered exactly once."""

    def setUp(self):
        super().setUp()
        self.receiver = Receiver()
        self.addCleanup(self.receiver.close)
        self.tag = uuid.uuid4().hex[:10]
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            parameters = env["ir.config_parameter"]
            self.previous = parameters.get_param("secure_api.webhook_allow_private")
            parameters.set_param("secure_api.webhook_allow_private", "1")
            user = internal_user(
                env, f"Hooks {self.tag}", f"secure_api_hooks_{self.tag}"
            )
            api_rec = env["secure.api"].create(
                {
                    "name": f"Hooks {self.tag}",
                    "route": f"test/hooks-{self.tag}",
                    "model_id": env["ir.model"]._get_id("res.partner"),
                    "obfuscate_ids": False,
                    "domain": f"[('ref', '=like', '{self.tag}%')]",
                    "field_ids": [
                        Command.create(
                            {
                                "field_id": env["ir.model.fields"]
                                ._get("res.partner", "ref")
                                .id
                            }
                        )
                    ],
                }
            )
            api_rec.action_publish()
            hook = env["secure.api.webhook"].create(
                {"api_id": api_rec.id, "url": self.receiver.url, "user_id": user.id}
            )
            self.ids = (api_rec.id, hook.id, user.id)
        self.addCleanup(self.remove_committed)

    def remove_committed(self):
        api_id, hook_id, user_id = self.ids
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["secure.api.webhook"].browse(hook_id).unlink()
            env["res.partner"].search([("ref", "=like", f"{self.tag}%")]).unlink()
            env["secure.api"].browse(api_id).unlink()
            user = env["res.users"].browse(user_id)
            partner = user.partner_id
            user.unlink()
            partner.unlink()
            env["ir.config_parameter"].set_param(
                "secure_api.webhook_allow_private", self.previous or ""
            )

    def in_transaction(self, function):
        with self.registry.cursor() as cr:
            return function(api.Environment(cr, SUPERUSER_ID, {}))

    def test_every_event_is_delivered_once_by_two_workers(self):
        def write(index):
            for item in range(25):
                self.in_transaction(
                    lambda env, item=item: env["res.partner"].create(
                        {
                            "name": f"Hooked {index}-{item}",
                            "ref": f"{self.tag}-{index}-{item}",
                        }
                    )
                )

        run_threads(self.registry, 4, write)

        def deliver(_index):
            total = 0
            for _round in range(20):
                done = self.in_transaction(
                    lambda env: env["secure.api.webhook"]._cron_deliver(limit=10)
                )
                total += done
                if not done:
                    break
            return total

        attempted = run_threads(self.registry, 2, deliver)
        refs = [
            json.loads(body)["record"]["ref"] for _h, body in self.receiver.received
        ]
        self.assertEqual(len(refs), 100, attempted)
        self.assertEqual(len(set(refs)), 100)
