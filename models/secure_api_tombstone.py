"""Tombstones: the deletions and archives that APIs with ``sync_deletions``
list under ``removed`` in their ``changed_since`` searches."""

from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError
from odoo.tools import sql

# One INSERT per API and batch of records. ``xid`` is the writing
# transaction's id, ``removed_at`` its start (as a record's write date), so
# that ``changes_until`` bounds removals as it bounds changes.
INSERT_SQL = """
INSERT INTO secure_api_tombstone
    (api_id, res_model, kind, res_id, reader_ids, removed_at, xid)
SELECT %s, %s, %s, t.res_id, t.readers::int[], now() AT TIME ZONE 'UTC',
       txid_current()
  FROM unnest(%s::int[], %s::text[]) AS t(res_id, readers)
"""
# The users who call an API and whose reads are judged: the execution users
# of its client apps, the users who granted them delegated access (live
# consents), and the run-as user of a public API. Archived apps too: one
# reactivated later resumes its sync, and must find no gap.
READERS_SQL = """
SELECT c.user_id FROM secure_api_client_rel r
  JOIN secure_api_client c ON c.id = r.client_id
 WHERE r.api_id = %(api)s
UNION
SELECT s.user_id FROM secure_api_consent s
  JOIN secure_api_client_rel r ON r.client_id = s.app_id
 WHERE r.api_id = %(api)s AND s.state = 'active'
"""


class SecureApiTombstone(models.Model):
    """One row per record of an API deleted or archived, written by the
    transaction that deletes or archives it (a rolled-back delete leaves
    none), for the callers of the API who could read it at that moment.

    Those callers are judged then, as webhook events are: the record inside
    the API's forced domain and visible to the user (access rights, record
    rules, companies). A search lists a tombstone to a caller only when the
    caller is among them (``reader_ids``, a PostgreSQL array the listing
    filters with ``= ANY``).
    """

    _name = "secure.api.tombstone"
    _description = "Secure API removed record (tombstone)"
    _order = "id"
    _log_access = False

    api_id = fields.Many2one(
        "secure.api", string="API", required=True, ondelete="cascade", readonly=True
    )
    res_model = fields.Char(string="Model", required=True, readonly=True)
    res_id = fields.Integer(string="Record ID", required=True, readonly=True)
    kind = fields.Selection(
        [("deleted", "Deleted"), ("archived", "Archived")],
        required=True,
        readonly=True,
    )
    removed_at = fields.Datetime(required=True, readonly=True, index=True)

    def init(self):
        cr = self.env.cr
        # Not ORM fields: an integer array, and the transaction id (64 bits).
        cr.execute(
            """ALTER TABLE secure_api_tombstone
                   ADD COLUMN IF NOT EXISTS reader_ids int4[] NOT NULL DEFAULT '{}',
                   ADD COLUMN IF NOT EXISTS xid int8 NOT NULL DEFAULT 0"""
        )
        # A walk reads an API's tombstones after a position; a changed_since
        # without a cursor, by time; a restore looks a record's up.
        sql.create_index(
            cr, "secure_api_tombstone_walk_idx", self._table, ["api_id", "xid", "id"]
        )
        sql.create_index(
            cr,
            "secure_api_tombstone_since_idx",
            self._table,
            ["api_id", "removed_at"],
        )
        sql.create_index(
            cr, "secure_api_tombstone_record_idx", self._table, ["res_model", "res_id"]
        )

    def write(self, vals):
        if vals:
            raise AccessError(_("A tombstone is kept as it was written."))
        return super().write(vals)

    @api.model
    def _cron_purge(self):
        """Delete the tombstones older than ``secure_api.tombstone_days``,
        and remember the newest one deleted
        (``secure_api.tombstone_purged_until``): a ``changed_since`` up to
        it answers 410 even if the retention is made longer later."""
        days = self.env["secure.api"]._get_settings()["tombstone_days"]
        self.env.cr.execute(
            """WITH purged AS (
                   DELETE FROM secure_api_tombstone
                    WHERE removed_at < (now() AT TIME ZONE 'UTC')
                                       - %s * interval '1 day'
                   RETURNING removed_at)
               SELECT count(*), max(removed_at) FROM purged""",
            [days],
        )
        count, newest = self.env.cr.fetchone()
        self.invalidate_model()
        if newest:
            params = self.env["ir.config_parameter"].sudo()
            known = self.env["secure.api"]._get_settings()["tombstone_purged_until"]
            if not known or newest > known:
                params.set_param(
                    "secure_api.tombstone_purged_until",
                    fields.Datetime.to_string(newest),
                )
        return count

    # ------------------------------------------------------------------
    # Writing, in the deleting or archiving transaction
    # ------------------------------------------------------------------

    @api.model
    @tools.ormcache("model_name")
    def _apis_for(self, model_name):
        """The ids of the APIs with ``sync_deletions`` that expose
        ``model_name``, in any state but draft (a deactivated or archived
        API published again must find no gap); cleared when APIs change."""
        apis = (
            self.env["secure.api"]
            .sudo()
            .with_context(active_test=False)
            .search([("state", "!=", "draft"), ("sync_deletions", "=", True)])
        )
        return tuple(a.id for a in apis if model_name in a._get_model_names())

    @api.model
    def _record(self, records, kind):
        """Judge and write the tombstones of ``records`` (``kind``: deleted
        or archived): called before an unlink."""
        self._write(records._name, kind, self._judge_all(records, kind))

    @api.model
    def _judge_all(self, records, kind):
        """``[(api id, {record id: {user ids}})]``: who reads each of
        ``records`` through each API that syncs their deletions, judged
        now, before the unlink or the archive removes them."""
        api_ids = self._apis_for(records._name)
        ids = [rid for rid in records._ids if isinstance(rid, int)]
        if not api_ids or not ids:
            return []
        if kind == "deleted":
            # Archived before, on an API that shows archived records: its
            # removal was told already.
            ids = self._without_tombstone(records._name, ids)
        judged = []
        for api_id in api_ids:
            readers = self._judge(api_id, records.browse(ids))
            if readers:
                judged.append((api_id, readers))
        return judged

    @api.model
    def _write(self, model_name, kind, judged):
        """One INSERT per API of the removals :meth:`_judge_all` judged."""
        for api_id, readers in judged:
            rids = sorted(readers)
            self.env.cr.execute(
                INSERT_SQL,
                [
                    api_id,
                    model_name,
                    kind,
                    rids,
                    ["{%s}" % ",".join(map(str, sorted(readers[r]))) for r in rids],
                ],
            )

    @api.model
    def _restore(self, records):
        """A record unarchived is no longer removed: its tombstones go, and
        its write (the restore) lists it again among the changes."""
        if not self._apis_for(records._name):
            return
        self.env.cr.execute(
            """DELETE FROM secure_api_tombstone
                WHERE res_model = %s AND res_id = ANY(%s)""",
            [records._name, list(records._ids)],
        )

    @api.model
    def _without_tombstone(self, model_name, ids):
        self.env.cr.execute(
            """SELECT res_id FROM secure_api_tombstone
                WHERE res_model = %s AND res_id = ANY(%s) AND kind = 'archived'""",
            [model_name, ids],
        )
        told = {row[0] for row in self.env.cr.fetchall()}
        return [rid for rid in ids if rid not in told]

    @api.model
    def _readers(self, spec):
        """The users who call the API of ``spec`` (see READERS_SQL)."""
        self.env["secure.api.client"].flush_model(["user_id", "active"])
        self.env["secure.api.consent"].flush_model(["user_id", "app_id", "state"])
        self.env.cr.execute(READERS_SQL, {"api": spec["id"]})
        users = {row[0] for row in self.env.cr.fetchall()}
        if spec["auth_mode"] == "public" and spec["run_as_uid"]:
            users.add(spec["run_as_uid"])
        return sorted(users)

    @api.model
    def _judge(self, api_id, records):
        """``{record id: {user ids}}``: who among the API's callers reads each
        of ``records`` through it now, in any of their companies, as its
        search would find them; one search per caller for the whole batch."""
        spec = self._spec(api_id)
        if not spec or records._name not in spec["models"] or not records:
            return {}
        engine = self.env["secure.api.engine"]
        events = self.env["secure.api.event"]
        users = self.env["res.users"]
        readers = {}
        for uid in self._readers(spec):
            # Archived users too (an app's user reactivated resumes its
            # sync); never an administrator, who no request runs as.
            if users._secure_api_user_state(uid)["privileged"]:
                continue
            call = events._read_call(spec, records._name, uid)
            call.env = self._every_company(call.env, uid)
            # As the API's search sees them: archived records are already
            # removed (unless its forced domain names ``active``).
            model = call.env[records._name]
            domain = engine._forced(call, [("id", "in", list(records._ids))])
            try:
                found = model.search(domain, order="id")
            except AccessError:
                # The user may not read the model at all.
                continue
            for rid in found._ids:
                readers.setdefault(rid, set()).add(uid)
        return readers

    @api.model
    def _spec(self, api_id):
        """The spec of an API, published or deactivated (cached for the
        published ones, which serve requests)."""
        apis = self.env["secure.api"]
        spec = apis._get_spec(api_id)
        if spec is None:
            record = apis.sudo().with_context(active_test=False).browse(api_id)
            if record.exists() and record.state != "draft":
                spec = record._build_spec()
        return spec

    @api.model
    def _every_company(self, env, uid):
        """``env`` with every company of ``uid`` allowed: a caller reads
        what any ``X-Company-Id`` it may send shows, and its mirror may hold
        a record of each (company record rules only widen with them)."""
        default, allowed = self.env["res.users"]._secure_api_companies(uid)
        if not allowed:
            return env
        companies = sorted(allowed, key=lambda company: company != default)
        return env(context=dict(env.context, allowed_company_ids=companies))

    # ------------------------------------------------------------------
    # Listing, in the search that asks for changes
    # ------------------------------------------------------------------

    @api.model
    def _list(self, cr, spec, model_name, uid, since, after, limit, settled=True):
        """``(rows, more)``: up to ``limit`` rows ``(xid, id, res_id,
        removed_at)`` of the removals of ``model_name`` through the API of
        ``spec`` since ``since`` that ``uid`` could read, after the position
        ``after`` (``(xid, id)``), in that order.

        ``settled``: only those of transactions that no running transaction
        precedes (or of this one), so that none committed later can fall
        behind the position; the walk's last page lists the others too.
        ``cr``: the search's own cursor (a replica's, for a GET).
        """
        cr.execute(
            """SELECT xid, id, res_id, removed_at FROM secure_api_tombstone
                WHERE api_id = %(api)s AND res_model = %(model)s
                  AND %(uid)s = ANY(reader_ids) AND removed_at >= %(since)s
                  AND (xid, id) > (%(xid)s, %(id)s)
                  AND (NOT %(settled)s
                       OR xid < txid_snapshot_xmin(txid_current_snapshot())
                       OR xid = txid_current_if_assigned())
                ORDER BY xid, id
                LIMIT %(limit)s""",
            {
                "api": spec["id"],
                "model": model_name,
                "uid": uid,
                "since": since,
                "xid": after[0],
                "id": after[1],
                "settled": settled,
                "limit": limit + 1,
            },
        )
        rows = cr.fetchall()
        return rows[:limit], len(rows) > limit

    @api.model
    def _list_page(self, cr, spec, model_name, uid, since, limit):
        """Searches without a cursor: the first ``limit`` removals in walk
        order (the engine lists them all on the first page)."""
        cr.execute(
            """SELECT xid, id, res_id, removed_at FROM secure_api_tombstone
                WHERE api_id = %s AND res_model = %s AND %s = ANY(reader_ids)
                  AND removed_at >= %s
                ORDER BY xid, id LIMIT %s""",
            [spec["id"], model_name, uid, since, limit],
        )
        return cr.fetchall()
