import signal
import threading
from unittest.mock import patch

from odoo.service import db as db_service
from odoo.service import server
from odoo.tests import TransactionCase, tagged
from odoo.tools import config

from .. import flushing, hooks


@tagged("post_install", "-at_install")
class TestDatabaseListCache(TransactionCase):
    def test_list_is_cached_then_cleared(self):
        # post_load ran when the registry loaded the addon: start from the
        # unpatched service and put things back as they were afterwards.
        was_installed = hasattr(db_service.list_dbs, "secure_api_original")
        hooks.uninstall()
        original, drop = db_service.list_dbs, db_service.exp_drop
        calls = []

        def fake_list_dbs(force=False):
            calls.append(force)
            return ["one", "two"]

        db_service.list_dbs = fake_list_dbs
        db_service.exp_drop = lambda name: True
        try:
            self.assertTrue(hooks.install(ttl=60))
            self.assertEqual(db_service.list_dbs(True), ["one", "two"])
            self.assertEqual(db_service.list_dbs(True), ["one", "two"])
            self.assertEqual(len(calls), 1, "the second call is served from memory")
            db_service.exp_drop("one")
            db_service.list_dbs(True)
            self.assertEqual(len(calls), 2, "dropping a database forgets the list")
            self.assertTrue(hooks.install(ttl=60), "installing twice is harmless")
            hooks.uninstall()
            self.assertIs(db_service.list_dbs, fake_list_dbs)
            self.assertFalse(hooks.install(ttl=0), "a TTL of 0 disables the cache")
            configured = config.get("secure_api_dblist_ttl")
            config["secure_api_dblist_ttl"] = None
            try:
                self.assertFalse(hooks.install(), "without a configured TTL: off")
                self.assertIs(db_service.list_dbs, fake_list_dbs)
            finally:
                config["secure_api_dblist_ttl"] = configured
        finally:
            hooks.uninstall()
            db_service.list_dbs, db_service.exp_drop = original, drop
            # Put back what post_load sets up (log filters, exit flush), and
            # the cache only where the configuration asks for it.
            hooks.post_load()
            self.assertEqual(
                hasattr(db_service.list_dbs, "secure_api_original"), was_installed
            )


@tagged("post_install", "-at_install")
class TestSigtermFlush(TransactionCase):
    def test_sigterm_during_the_exit_flush_lets_it_finish(self):
        """A worker stopped by SIGINT (the master's graceful stop) flushes
        at exit; a SIGTERM arriving then (systemd signals every process)
        must not kill it in the middle of that flush: the handler returns
        and the exit goes on."""
        killed = []
        with (
            patch.object(flushing, "_EXITING", threading.Event()),
            patch.object(flushing.os, "kill", lambda pid, sig: killed.append(sig)),
        ):
            flushing._EXITING.set()
            flushing.flush_on_sigterm(signal.SIGTERM, None)
        self.assertEqual(killed, [])

    def test_odoo_workers_flush_on_sigterm_once_the_addon_is_loaded(self):
        # post_load ran: every worker forked from now on installs the flush.
        self.assertTrue(hasattr(server.Worker.start, "secure_api_original"))
        flushing.patch_worker_start(server.Worker)
        self.assertFalse(
            hasattr(server.Worker.start.secure_api_original, "secure_api_original"),
            "patched once",
        )
