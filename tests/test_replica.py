"""Read replicas: security state from the primary, read-your-writes.

The behaviour behind a real streaming replica is tested by the replica stage
of tools/test.sh (tests/replica). Here, on every series: the consistency
token of writes and reads over HTTP; and on the series with replica support
(18.0, 19.0), a lagging replica simulated by a read-only connection of its
own, which sees only committed rows, while the test's transaction plays the
primary.
"""

from odoo import SUPERUSER_ID, api
from odoo.tests import tagged

from .. import replica
from ..compat import user_groups_field
from ..controllers.main import consistency_key
from ..core import consistency
from ..core.exceptions import Unauthorized
from .common import SecureApiHttpCase, SecureApiTransactionCase

HEADER = consistency.HEADER


@tagged("post_install", "-at_install")
class TestConsistencyToken(SecureApiHttpCase):
    def setUp(self):
        super().setUp()
        self.bearer = self.token()
        self.base = f"/api/{self.api_plain.route}"

    def position(self, response):
        token = response.headers.get(HEADER)
        self.assertTrue(token, f"no {HEADER} in {dict(response.headers)}")
        return consistency.decode(token, consistency_key(self.env))

    def test_every_write_answers_a_consistency_token(self):
        created = self.request(
            "POST", self.base, token=self.bearer, json_body={"name": "Consistent"}
        )
        self.assertEqual(created.status_code, 201, created.text)
        record_id = created.json()["result"]["id"]
        first = self.position(created)
        self.assertGreater(first, 0)
        updated = self.request(
            "PATCH",
            f"{self.base}/{record_id}",
            token=self.bearer,
            json_body={"phone": "42"},
        )
        self.assertGreaterEqual(self.position(updated), first)
        deleted = self.request("DELETE", f"{self.base}/{record_id}", token=self.bearer)
        self.assertEqual(deleted.status_code, 200, deleted.text)
        self.position(deleted)

    def test_reads_and_failed_writes_answer_none(self):
        read = self.request("GET", self.base, token=self.bearer)
        self.assertEqual(read.status_code, 200, read.text)
        self.assertNotIn(HEADER, read.headers)
        refused = self.request(
            "POST", self.base, token=self.bearer, json_body={"nope": 1}
        )
        self.assertEqual(refused.status_code, 400, refused.text)
        self.assertNotIn(HEADER, refused.headers)

    def test_a_read_with_its_write_s_token_sees_the_write(self):
        created = self.request(
            "POST", self.base, token=self.bearer, json_body={"name": "Read back"}
        )
        token = created.headers[HEADER]
        record_id = created.json()["result"]["id"]
        by_header = self.request(
            "GET",
            f"{self.base}/{record_id}",
            token=self.bearer,
            headers={HEADER: token},
        )
        self.assertEqual(self.result(by_header)["name"], "Read back")
        by_parameter = self.request(
            "GET",
            f"{self.base}/{record_id}?consistent_after={token}",
            token=self.bearer,
        )
        self.assertEqual(self.result(by_parameter)["name"], "Read back")

    def test_a_token_this_server_did_not_issue_is_400(self):
        forged = consistency.encode(1 << 40, b"not the database secret")
        for headers, query in (
            ({HEADER: "0/16B374D8"}, ""),
            ({HEADER: forged}, ""),
            ({}, f"?consistent_after={forged}"),
            ({}, "?consistent_after="),
        ):
            with self.subTest(headers=headers, query=query):
                response = self.request(
                    "GET", self.base + query, token=self.bearer, headers=headers
                )
                self.assertError(response, 400, "invalid_consistency_token")

    def test_two_different_tokens_are_400(self):
        first = self.request(
            "POST", self.base, token=self.bearer, json_body={"name": "One"}
        ).headers[HEADER]
        second = self.request(
            "POST", self.base, token=self.bearer, json_body={"name": "Two"}
        ).headers[HEADER]
        response = self.request(
            "GET",
            f"{self.base}?consistent_after={first}",
            token=self.bearer,
            headers={HEADER: second},
        )
        self.assertError(response, 400, "invalid_consistency_token")

    def test_the_wait_is_a_bounded_setting(self):
        settings = self.env["secure.api"]
        params = self.env["ir.config_parameter"].sudo()
        self.assertEqual(settings._get_settings()["consistency_wait_ms"], 1000)
        for value, expected in (("250", 250), ("0", 0), ("x", 1000), ("99999", 10000)):
            params.set_param("secure_api.consistency_wait_ms", value)
            self.assertEqual(settings._get_settings()["consistency_wait_ms"], expected)


def _has_replica_support(env):
    return getattr(env.registry, "_db_readonly", None) is not None


@tagged("post_install", "-at_install")
class TestLaggingReplica(SecureApiTransactionCase):
    """Lookups on a replica cursor read the primary.

    The "replica" is a read-only connection of its own: it sees the
    committed rows only, not this test's transaction, like a replica that
    has not replayed it. The "primary" is this test's transaction (the
    registry in test mode hands out cursors on it).
    """

    def setUp(self):
        super().setUp()
        if not _has_replica_support(self.env):
            # 17.0: no read-only cursors, so nothing is read on a replica.
            self.replica_env = None
            return
        if hasattr(self, "registry_enter_test_mode"):  # 19.0
            self.registry_enter_test_mode()
        else:
            self.registry.enter_test_mode(self.cr)
            self.addCleanup(self.registry.leave_test_mode)
        replica_cr = self.registry._db_readonly.cursor()
        self.addCleanup(replica_cr.close)
        self.replica_env = api.Environment(replica_cr, SUPERUSER_ID, {})
        self.assertTrue(replica.is_replica(replica_cr))
        self.registry.clear_cache()

    def lookups(self):
        """The models to call lookups on: the replica's, where there is one."""
        return self.replica_env or self.env

    def test_only_read_only_connections_are_replicas(self):
        self.assertFalse(replica.is_replica(self.env.cr))
        if self.replica_env is not None:
            self.assertTrue(replica.is_replica(self.replica_env.cr))

    def test_a_token_issued_on_the_primary_works_at_once(self):
        # Issued in this transaction: missing from the replica.
        token = self.issue()
        found = self.lookups()["secure.api.token"].sudo()._authenticate_bearer(token)
        self.assertEqual(found["app"]["id"], self.client.id)

    def test_a_token_revoked_on_the_primary_is_refused_at_once(self):
        token = self.issue()
        tokens = self.env["secure.api.token"].sudo()
        tokens._authenticate_bearer(token)
        tokens.search([("app_id", "=", self.client.id)])._revoke()
        tokens.flush_model()
        with self.assertRaises(Unauthorized):
            self.lookups()["secure.api.token"].sudo()._authenticate_bearer(token)

    def test_client_state_is_the_primary_s_and_so_is_its_cache(self):
        self.client.active = False
        self.env.flush_all()
        clients = self.lookups()["secure.api.client"]
        self.assertFalse(clients._get_client_state_by_id(self.client.id)["active"])
        # The cache was filled from the primary: the primary sees it too.
        self.assertFalse(
            self.env["secure.api.client"]._get_client_state_by_id(self.client.id)[
                "active"
            ]
        )
        self.assertIn(self.client.client_id, clients._get_client_ids())

    def test_an_api_published_on_the_primary_is_routed_at_once(self):
        api_rec = self.make_api("test/replica", obfuscate=False)
        self.env.flush_all()
        self.registry.clear_cache()
        apis = self.lookups()["secure.api"]
        self.assertEqual(apis._get_route_map()["test/replica"], api_rec.id)
        self.assertEqual(apis._get_spec(api_rec.id)["route"], "test/replica")
        api_rec.action_deactivate()
        self.env.flush_all()
        self.assertNotIn("test/replica", apis._get_route_map())
        self.assertIsNone(apis._get_spec(api_rec.id))

    def test_an_archived_execution_user_is_seen_at_once(self):
        self.api_user.active = False
        self.env.flush_all()
        users = self.lookups()["res.users"]
        self.assertFalse(users._secure_api_user_state(self.api_user.id)["active"])

    def test_an_execution_user_made_administrator_is_seen_at_once(self):
        system = self.env.ref("base.group_system")
        self.api_user.write({user_groups_field(self.env): [(4, system.id)]})
        self.env.flush_all()
        users = self.lookups()["res.users"]
        self.assertTrue(users._secure_api_user_state(self.api_user.id)["privileged"])

    def test_settings_are_the_primary_s(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "secure_api.openapi_public", "1"
        )
        self.env.flush_all()
        self.assertTrue(self.lookups()["secure.api"]._get_settings()["openapi_public"])

    def test_a_worker_behind_the_primary_s_signals_skips_its_cache(self):
        if self.replica_env is None or not replica.signals_read_on_replica(
            self.registry
        ):
            # 17.0 and 18.0 read the signals on the primary: never behind.
            return
        apis = self.env["secure.api"]
        spec = apis._get_spec(self.api_plain.id)
        stale = dict(spec, route="stale/route")
        type(apis)._get_spec.__cache__.add_value(
            apis, self.api_plain.id, cache_value=stale
        )
        self.assertEqual(apis._get_spec(self.api_plain.id)["route"], "stale/route")
        sequences = self.registry.cache_sequences
        self.patch(self.registry, "cache_sequences", dict(sequences, default=-1))
        with replica.request_scope(self.replica_env) as scope:
            self.assertTrue(scope.behind)
            fresh = self.replica_env["secure.api"]._get_spec(self.api_plain.id)
        self.assertEqual(fresh["route"], self.api_plain.route)

    def test_a_read_with_a_token_is_served_where_the_write_is_seen(self):
        position = consistency.lsn_text(replica.current_position(self.cr))
        env = self.lookups()
        # A read-only connection to the primary has replayed everything; the
        # primary itself too.
        with replica.consistent_env(env, position, 0) as served:
            self.assertIs(served, env)
