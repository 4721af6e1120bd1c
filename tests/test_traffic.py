import threading

from psycopg2 import IntegrityError

from odoo import SUPERUSER_ID, api
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..core.request import ApiRequest
from .common import SecureApiTransactionCase

# Windows are aligned: counts that must add up use the longest window (31
# days), so that two requests of a test never fall into two windows.
WINDOW = 2678400


class TrafficCase(SecureApiTransactionCase):
    """The counters are committed on a cursor of their own, as in
    production; each test forgets its own."""

    def setUp(self):
        super().setUp()
        self.addCleanup(self.forget_counters)

    def forget_counters(self):
        apps = (self.client | self.reader_client).ids
        apis = (self.api_plain | self.api_obf).ids
        keys = [f"{kind}:{app}" for kind in ("app", "day", "month") for app in apps]
        with self.registry.cursor() as cr:
            cr.execute(
                "DELETE FROM secure_api_rate_counter WHERE key = ANY(%s)"
                " OR split_part(key, ':', 2)::int = ANY(%s) AND key LIKE 'api:%%'",
                [keys, apis],
            )

    def counters(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            return env["secure.api.rate.counter"].search_count([])

    def usage(self):
        """The client form's usage fields, read as a new request would: the
        test's own transaction does not see counters committed after it
        began."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            client = env["secure.api.client"].browse(self.client.id)
            return client.calls_today, client.calls_this_month

    def search(self, token, **values):
        return self.call("GET", "/api/test/plain?limit=1", token=token, **values)


@tagged("post_install", "-at_install")
class TestTrafficPolicy(TrafficCase):
    """Rate limits, quotas and address allowlists (CONTRACT, "Traffic
    policy")."""

    def test_the_client_rate_limit_lets_exactly_the_limit_through(self):
        self.client.write({"rate_limit": 3, "rate_window": WINDOW})
        token = self.issue()
        statuses = [self.search(token).status for _i in range(5)]
        self.assertEqual(statuses, [200, 200, 200, 429, 429])

    def test_over_the_rate_limit_answers_429_rate_limited_with_retry_after(self):
        self.client.write({"rate_limit": 1, "rate_window": WINDOW})
        token = self.issue()
        self.search(token)
        answer = self.search(token)
        self.error(answer, 429, "rate_limited")
        self.assertTrue(1 <= int(answer.headers["Retry-After"]) <= WINDOW)
        self.assertEqual(answer.headers["X-RateLimit-Remaining"], "0")

    def test_every_limited_answer_carries_the_ratelimit_headers(self):
        self.client.write({"rate_limit": 5, "rate_window": 60})
        answer = self.search(self.issue())
        self.result(answer)
        headers = answer.headers
        self.assertEqual(headers["RateLimit-Policy"], "5;w=60")
        limit, remaining, reset = headers["RateLimit"].split(", ")
        self.assertEqual((limit, remaining), ("limit=5", "remaining=4"))
        self.assertTrue(0 <= int(reset.removeprefix("reset=")) <= 60)
        self.assertEqual(headers["X-RateLimit-Limit"], "5")
        self.assertEqual(headers["X-RateLimit-Remaining"], "4")
        self.assertGreater(int(headers["X-RateLimit-Reset"]), 1_700_000_000)

    def test_without_a_limit_nothing_is_counted_and_no_header_is_sent(self):
        before = self.counters()
        answer = self.search(self.issue())
        self.result(answer)
        self.assertNotIn("RateLimit", answer.headers)
        self.assertNotIn("X-RateLimit-Limit", answer.headers)
        self.assertEqual(self.counters(), before)

    def test_the_api_limit_counts_each_client_app_apart(self):
        self.api_plain.write({"rate_limit": 2, "rate_window": WINDOW})
        full, reader = self.issue(), self.issue(self.reader_client)
        self.assertEqual([self.search(full).status for _i in range(3)], [200, 200, 429])
        self.assertEqual([self.search(reader).status for _i in range(2)], [200, 200])
        # Another API is not limited by it.
        other = self.call("GET", "/api/test/obf?limit=1", token=full)
        self.assertEqual(other.status, 200)

    def test_the_headers_describe_the_limit_with_least_remaining(self):
        self.api_plain.write({"rate_limit": 2, "rate_window": WINDOW})
        self.client.write({"rate_limit": 100, "rate_window": 60})
        answer = self.search(self.issue())
        self.assertEqual(answer.headers["RateLimit-Policy"], f"2;w={WINDOW}")
        self.assertEqual(answer.headers["X-RateLimit-Remaining"], "1")

    def test_a_public_api_counts_each_address_apart(self):
        self.api_plain.write(
            {
                "auth_mode": "public",
                "run_as_user_id": self.api_user.id,
                "rate_limit": 1,
                "rate_window": WINDOW,
            }
        )
        first = self.call("GET", "/api/test/plain?limit=1", remote_addr="192.0.2.1")
        again = self.call("GET", "/api/test/plain?limit=1", remote_addr="192.0.2.1")
        other = self.call("GET", "/api/test/plain?limit=1", remote_addr="2001:db8::5")
        self.assertEqual((first.status, again.status, other.status), (200, 429, 200))

    def test_the_daily_quota_answers_429_quota_exceeded(self):
        self.client.write({"quota_daily": 2})
        token = self.issue()
        self.search(token)
        self.search(token)
        answer = self.search(token)
        self.error(answer, 429, "quota_exceeded")
        self.assertTrue(1 <= int(answer.headers["Retry-After"]) <= 86400)
        # Quotas are enforced, not described by the rate-limit headers.
        self.assertNotIn("RateLimit", answer.headers)

    def test_the_monthly_quota_answers_429_quota_exceeded(self):
        self.client.write({"quota_monthly": 1})
        token = self.issue()
        self.search(token)
        self.error(self.search(token), 429, "quota_exceeded")

    def test_a_refused_request_counts_against_no_quota(self):
        self.client.write({"rate_limit": 2, "rate_window": WINDOW, "quota_daily": 50})
        token = self.issue()
        statuses = [self.search(token).status for _i in range(4)]
        self.assertEqual(statuses, [200, 200, 429, 429])
        self.assertEqual(self.usage(), (2, 0))

    def test_the_client_form_shows_todays_and_this_months_calls(self):
        self.client.write({"quota_daily": 10, "quota_monthly": 100})
        token = self.issue()
        for _i in range(3):
            self.search(token)
        self.assertEqual(self.usage(), (3, 3))

    def test_a_429_counts_as_an_error_in_the_statistics(self):
        self.client.write({"rate_limit": 1, "rate_window": WINDOW})
        token = self.issue()
        statistics = self.env["secure.api.statistic"]
        statistics._flush_buffer()
        self.search(token)
        self.search(token)
        statistics._flush_buffer()
        rows = statistics.search([("api_id", "=", self.api_plain.id)])
        self.assertEqual(sum(rows.mapped("calls")), 2)
        self.assertEqual(sum(rows.mapped("errors")), 1)

    def test_tokens_from_outside_the_allowlist_answer_403_ip_not_allowed(self):
        self.client.ip_allowlist = "203.0.113.0/24\n2001:db8::/32"
        token = self.issue()
        self.result(self.search(token, remote_addr="203.0.113.9"))
        self.result(self.search(token, remote_addr="2001:db8::1"))
        self.result(self.search(token, remote_addr="::ffff:203.0.113.10"))
        self.error(
            self.search(token, remote_addr="198.51.100.1"), 403, "ip_not_allowed"
        )
        self.error(self.search(token, remote_addr="2001:db9::1"), 403, "ip_not_allowed")

    def test_the_token_endpoint_refuses_other_addresses_as_invalid_client(self):
        self.client.ip_allowlist = "203.0.113.7"
        form = {"client_id": self.client.client_id, "client_secret": self.secret}
        refused = self.call(
            "POST", "/api/oauth2/token", data=form, remote_addr="192.0.2.8"
        )
        self.assertEqual(refused.status, 401, refused.body)
        self.assertEqual(refused.body["error"], "invalid_client")
        allowed = self.call(
            "POST", "/api/oauth2/token", data=form, remote_addr="203.0.113.7"
        )
        self.assertEqual(allowed.status, 200, allowed.body)

    def test_token_requests_count_against_no_limit(self):
        self.client.write({"rate_limit": 1, "rate_window": WINDOW, "quota_daily": 1})
        form = {"client_id": self.client.client_id, "client_secret": self.secret}
        for _i in range(3):
            self.assertEqual(
                self.call("POST", "/api/oauth2/token", data=form).status, 200
            )
        self.result(self.search(self.issue()))

    def test_a_bad_allowlist_line_is_refused_when_saved(self):
        with self.assertRaises(ValidationError):
            self.client.ip_allowlist = "203.0.113.7\nnot-an-address"

    def test_negative_limits_and_empty_windows_are_refused(self):
        for values in ({"rate_limit": -1}, {"rate_window": 0}, {"quota_daily": -5}):
            with (
                self.subTest(values=values),
                self.assertRaises(IntegrityError),
                mute_logger("odoo.sql_db"),
                self.cr.savepoint(),
            ):
                self.client.write(values)
                self.client.flush_recordset()


@tagged("post_install", "-at_install")
class TestTrafficPolicyAttackRun(TrafficCase):
    """What an attack run on the traffic policy found, pinned."""

    def test_a_request_odoo_replays_is_counted_once(self):
        self.client.write({"quota_daily": 5})
        request = ApiRequest.build(
            "GET",
            "test/plain",
            headers={"Authorization": f"Bearer {self.issue()}"},
            query=[("limit", "1")],
            remote_addr="127.0.0.1",
        )
        engine = self.env["secure.api.engine"].sudo()
        # A serialization failure makes Odoo serve the same HTTP request
        # again: the attempts share its memo.
        first, replay = engine._serve(request), engine._serve(request)
        self.assertEqual((first.status, replay.status), (200, 200))
        self.assertEqual(self.usage(), (1, 0))

    def test_a_quota_429_still_describes_the_rate_limit(self):
        self.client.write({"rate_limit": 100, "rate_window": WINDOW, "quota_daily": 2})
        token = self.issue()
        self.search(token)
        self.search(token)
        answer = self.search(token)
        self.error(answer, 429, "quota_exceeded")
        self.assertEqual(answer.headers["RateLimit-Policy"], f"100;w={WINDOW}")
        self.assertEqual(answer.headers["X-RateLimit-Remaining"], "98")

    def test_a_rate_429_says_remaining_zero(self):
        self.client.write({"rate_limit": 1, "rate_window": WINDOW})
        token = self.issue()
        self.search(token)
        answer = self.search(token)
        self.assertIn("remaining=0", answer.headers["RateLimit"])

    def test_the_openapi_document_refuses_tokens_from_outside_the_allowlist(self):
        self.client.ip_allowlist = "203.0.113.7"
        token = self.issue()
        outside = self.call(
            "GET", "/api/openapi.json", token=token, remote_addr="192.0.2.1"
        )
        self.error(outside, 403, "ip_not_allowed")
        inside = self.call(
            "GET", "/api/openapi.json", token=token, remote_addr="203.0.113.7"
        )
        self.assertEqual(inside.status, 200)

    def test_counting_reuses_connections_across_threads(self):
        from ..models.secure_api_rate_counter import CONNECTIONS

        self.count_once()
        opened = CONNECTIONS.opened
        # A threaded server serves each request in a thread of its own.
        for _request in range(10):
            thread = threading.Thread(target=self.count_once)
            thread.start()
            thread.join()
        self.assertEqual(CONNECTIONS.opened, opened, "one idle connection served all")
        together = [threading.Thread(target=self.count_once) for _i in range(6)]
        for thread in together:
            thread.start()
        for thread in together:
            thread.join()
        self.assertLessEqual(
            len(CONNECTIONS._idle[self.env.cr.dbname]), CONNECTIONS.keep
        )

    def count_once(self):
        from ..core.traffic import Limit

        limit = Limit(f"app:{self.client.id}", 10**6, "rate", 3600)
        self.env["secure.api.rate.counter"]._take([limit])
