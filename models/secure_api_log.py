"""The access log: one row per logged API request.

Rows never come from the request's own transaction: the request path adds
them to a buffer of its worker (:func:`buffer_for`), which a thread flushes
every ``secure_api_log_interval`` seconds (default 2) on a transaction of its
own, and which is flushed when the worker stops, SIGTERM included (see
``flushing``). So a row exists even when its request failed or was rolled
back (test mode), a read-only request stays read-only, and a worker that
stops loses nothing; a worker killed outright (SIGKILL, a hard memory or
time limit, a crash of the machine) loses at most the rows of its last
interval.

The ids of the records a request returned, wrote or deleted are kept in an
integer array column with a GIN index, searched with ``@>``: which requests
touched record 12 is one indexed query, and 12 never matches 123.
"""

import logging
import re
import threading
from collections.abc import Collection
from datetime import timedelta

import psycopg2
from psycopg2.extras import execute_values

from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from .. import compat, flushing
from ..core import operations
from ..core.access_log import LEVELS, LogBuffer

_logger = logging.getLogger(__name__)

# One buffer per database in each worker process.
_BUFFERS = {}
_BUFFERS_LOCK = threading.Lock()
# At most this many rows wait in one worker while the database refuses them;
# older ones are dropped (and counted in the server log) past it.
MAX_BUFFERED = 100000
DEFAULT_RETENTION_DAYS = 30
# Errors of a row's values (a NUL, a value out of range): the row can never
# be written, unlike when the database fails (then every row is kept).
ROW_ERRORS = (psycopg2.DataError, psycopg2.IntegrityError, ValueError)
# A model's name in a searched value ("res.partner"), not an id.
MODEL_NAME_RE = re.compile(r"[A-Za-z_][\w.]*")
AUDIT_GROUPS = ("secure_api.group_secure_api_auditor", "base.group_system")

LEVEL_SELECTION = [
    ("none", "None"),
    ("errors", "Errors only"),
    ("all", "All requests"),
]
assert tuple(key for key, _label in LEVEL_SELECTION) == LEVELS

# The columns a flush writes, in the order of a buffered row.
COLUMNS = (
    "timestamp",
    "api_id",
    "app_id",
    "user_id",
    "address",
    "method",
    "path",
    "operation",
    "status",
    "error_name",
    "duration_ms",
    "request_id",
    "model",
    "record_ids",
    "related_refs",
    "record_count",
    "test_mode",
    "request_headers",
    "request_body",
    "response_body",
    "api_route",
    "api_name",
    "app_client_id",
    "app_name",
    "user_login",
)
CASTS = {
    "timestamp": "timestamp",
    "api_id": "int4",
    "app_id": "int4",
    "user_id": "int4",
    "status": "int4",
    "duration_ms": "float8",
    "record_ids": "int4[]",
    "related_refs": "text[]",
    "record_count": "int4",
    "test_mode": "bool",
}
# Rows name their API, client app and user by id; one deleted meanwhile is
# written as empty (the foreign keys would refuse the row). Their names,
# as the request saw them (else as the flush finds them), are kept as text:
# deleting the configuration later erases neither who nor what.
INSERT_SQL = """
INSERT INTO secure_api_log ({columns})
SELECT {selected}
  FROM (VALUES %s) AS r({columns})
  LEFT JOIN secure_api a ON a.id = r.api_id
  LEFT JOIN secure_api_client c ON c.id = r.app_id
  LEFT JOIN res_users u ON u.id = r.user_id
""".format(
    columns=", ".join(COLUMNS),
    selected=", ".join(
        {
            "api_id": "a.id",
            "app_id": "c.id",
            "user_id": "u.id",
            "related_refs": "COALESCE(r.related_refs, '{}')",
            "api_route": "COALESCE(r.api_route, a.route)",
            "app_client_id": "COALESCE(r.app_client_id, c.client_id)",
            "app_name": "COALESCE(r.app_name, c.name)",
            "user_login": "COALESCE(r.user_login, u.login)",
        }.get(name, f"r.{name}")
        for name in COLUMNS
    ),
)
TEMPLATE = (
    "(" + ", ".join(f"%s::{CASTS.get(name, 'varchar')}" for name in COLUMNS) + ")"
)


def buffer_for(dbname):
    with _BUFFERS_LOCK:
        buffer = _BUFFERS.get(dbname)
        if buffer is None:
            buffer = _BUFFERS[dbname] = LogBuffer()
        return buffer


class SecureApiLog(models.Model):
    _name = "secure.api.log"
    _description = "API Access Log"
    _order = "timestamp desc, id desc"
    _rec_name = "request_id"
    _log_access = False

    timestamp = fields.Datetime(
        required=True,
        readonly=True,
        index=True,
        help="When the request arrived (UTC, shown in your time zone).",
    )
    api_id = fields.Many2one(
        "secure.api",
        string="API",
        readonly=True,
        index=True,
        ondelete="set null",
        help="The API that was called; empty once the API is deleted (its "
        "route and name stay).",
    )
    api_route = fields.Char(
        string="API Route",
        readonly=True,
        help="The route of the API that was called, when it was called.",
    )
    api_name = fields.Char(
        string="API Name",
        readonly=True,
        help="The name of the API that was called, when it was called.",
    )
    app_id = fields.Many2one(
        "secure.api.client",
        string="Client App",
        readonly=True,
        index=True,
        ondelete="set null",
        help="The client app whose token made the request; empty for public "
        "APIs, Odoo sessions and requests refused before a valid token.",
    )
    app_client_id = fields.Char(
        string="Client ID",
        readonly=True,
        help="The client ID of the client app, kept when the app is deleted.",
    )
    app_name = fields.Char(
        string="Client App Name",
        readonly=True,
        help="The name of the client app when it called, kept when the app is deleted.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Execution User",
        readonly=True,
        index=True,
        ondelete="set null",
        help="The user the request ran as: the client app's user, the session "
        "user, or the public API's run-as user.",
    )
    user_login = fields.Char(
        string="Execution User Login",
        readonly=True,
        help="The login of the execution user, kept when the user is deleted.",
    )
    address = fields.Char(
        readonly=True, help="The client's address, as Odoo saw it (proxy_mode)."
    )
    method = fields.Char(
        string="HTTP Method", readonly=True, help="GET, POST, PATCH, PUT or DELETE."
    )
    path = fields.Char(
        readonly=True,
        help="The path and query of the request; only the API's own query "
        "parameters keep their values.",
    )
    operation = fields.Selection(
        [(op.name, op.label) for op in operations.OPERATIONS],
        readonly=True,
        help="What the request asked for; empty when it was refused before "
        "its operation was known (unknown route, method not allowed).",
    )
    status = fields.Integer(
        readonly=True,
        help="The HTTP status of the answer.",
        **compat.aggregate(None),
    )
    error_name = fields.Char(
        string="Error",
        readonly=True,
        help="The error's name in the answer (data.name), e.g. not_found.",
    )
    duration_ms = fields.Float(
        string="Duration (ms)",
        readonly=True,
        help="Time to answer, in milliseconds.",
        **compat.aggregate("avg"),
    )
    request_id = fields.Char(
        string="Request ID",
        readonly=True,
        index=True,
        help="The X-Request-Id header of the answer: what a client quotes.",
    )
    model = fields.Char(
        readonly=True,
        index=True,
        help="The technical name of the model the request addressed.",
    )
    record_ids = fields.Char(
        string="Touched Records",
        compute="_compute_record_ids",
        search="_search_record_ids",
        help="Database ids of the records the request returned, wrote or "
        "deleted, and of the records of its model that the answer showed "
        "through related fields (none when it failed). Search 12, or "
        "res.partner,12 (which also finds the related records below).",
    )
    related_refs = fields.Char(
        string="Related Records",
        compute="_compute_record_ids",
        help="Records of other models that the answer showed through related "
        "fields, as model,id.",
    )
    record_count = fields.Integer(
        string="Records",
        readonly=True,
        help="How many records the request returned, wrote or deleted.",
        **compat.aggregate("sum"),
    )
    test_mode = fields.Boolean(
        readonly=True,
        help="The request ran in test mode: what it wrote was rolled back.",
    )
    request_headers = fields.Text(
        readonly=True,
        help="The request's headers; only harmless ones keep their values "
        "(APIs that keep bodies).",
    )
    request_body = fields.Text(
        readonly=True,
        help="The request's body, secrets masked, cut at 16 KiB; a body that "
        "does not parse is not kept (APIs that keep bodies).",
    )
    response_body = fields.Text(
        readonly=True,
        help="The answer's body, secrets masked, cut at 16 KiB (APIs that "
        "keep bodies).",
    )

    def init(self):
        cr = self.env.cr
        # The ids of the touched records: an array column that Odoo does not
        # manage, with a GIN index for @> (contains) searches.
        cr.execute(
            "ALTER TABLE secure_api_log"
            " ADD COLUMN IF NOT EXISTS record_ids int4[] NOT NULL DEFAULT '{}'"
        )
        cr.execute(
            "CREATE INDEX IF NOT EXISTS secure_api_log_record_ids_idx"
            " ON secure_api_log USING gin (record_ids)"
        )
        # Records of other models shown through related fields, "model,id".
        cr.execute(
            "ALTER TABLE secure_api_log"
            " ADD COLUMN IF NOT EXISTS related_refs text[] NOT NULL DEFAULT '{}'"
        )
        cr.execute(
            "CREATE INDEX IF NOT EXISTS secure_api_log_related_refs_idx"
            " ON secure_api_log USING gin (related_refs)"
        )

    # ------------------------------------------------------------------
    # Touched records
    # ------------------------------------------------------------------

    def _compute_record_ids(self):
        rows = {}
        if self.ids:
            self.env.cr.execute(
                "SELECT id, record_ids, related_refs FROM secure_api_log"
                " WHERE id IN %s",
                [tuple(self.ids)],
            )
            rows = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        for log in self:
            ids, refs = rows.get(log.id) or ([], [])
            log.record_ids = ", ".join(str(rid) for rid in ids or [])
            log.related_refs = ", ".join(refs or [])

    def _search_record_ids(self, operator, value):
        """``('record_ids', '=', 12)``: the rows whose array holds 12
        (``record_ids @> ARRAY[12]``, the GIN index); ``in`` takes several
        ids (any of them). Text values are ids typed in the search box, or
        ``model,id`` (``res.partner,12``), which also filters the model.
        With a model, the rows that showed the record through a related
        field match too (``related_refs``, its own GIN index). One query,
        fast at millions of rows (see compat.id_in_subquery)."""
        negative = operator in ("!=", "not in", "not ilike", "not like")
        if operator not in ("=", "!=", "in", "not in", "ilike", "not ilike"):
            raise UserError(_("Search the touched records by id."))
        model, ids = self._parse_record_search(value)
        if not ids:
            return [] if negative else [("id", "in", [])]
        contains = "&&" if len(ids) > 1 else "@>"
        test = SQL(f"record_ids {contains} %s::int4[]", ids)
        if model:
            refs = [f"{model},{rid}" for rid in ids]
            test = SQL(
                f"(model = %s AND %s) OR related_refs {contains} %s::text[]",
                model,
                test,
                refs,
            )
        return compat.id_in_subquery(
            SQL("SELECT id FROM secure_api_log WHERE %s", test), negative=negative
        )

    @api.model
    def _parse_record_search(self, value):
        """``(model or None, [ids])`` of a searched value: an id, ids,
        text typed in the search box (``12``, ``res.partner,12``), or a
        model and an id (``[active_model, active_id]``). 19.0 hands ``=``
        over as ``in`` with one value."""
        if isinstance(value, str) or not isinstance(value, Collection):
            value = [value]
        models_, ids = set(), set()
        for item in value:
            if isinstance(item, str) and MODEL_NAME_RE.fullmatch(item.strip()):
                # [active_model, active_id]: the model of the ids with it.
                models_.add(item.strip())
                continue
            model, rid = self._parse_record_item(item)
            if rid is None:
                continue
            if model:
                models_.add(model)
            ids.add(rid)
        model = models_.pop() if len(models_) == 1 else None
        return model, sorted(ids)

    @api.model
    def _parse_record_item(self, item):
        if isinstance(item, bool):
            return None, None
        if isinstance(item, int):
            return None, item if 0 < item < 2**31 else None
        if not isinstance(item, str):
            return None, None
        text, model = item.strip(), None
        for separator in (",", "/", " "):
            if separator in text:
                model, text = (part.strip() for part in text.rsplit(separator, 1))
                break
        if not text.isdigit() or not 0 < int(text) < 2**31:
            return None, None
        return model or None, int(text)

    # ------------------------------------------------------------------
    # Written by the system only, never edited
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        self._refuse_edit(_("Access log rows are written by the system only."))
        return super().create(vals_list)

    def write(self, vals):
        self._refuse_edit(_("Access log rows cannot be changed."))
        return super().write(vals)

    def unlink(self):
        self._refuse_edit(
            _("Access log rows cannot be deleted: the retention job removes them.")
        )
        return super().unlink()

    @api.model
    def _refuse_edit(self, message):
        """For everyone, the superuser included: rows are evidence. The
        flush inserts and the retention job deletes them in SQL."""
        raise AccessError(message)

    # ------------------------------------------------------------------
    # The buffer and its flush
    # ------------------------------------------------------------------

    @api.model
    def _buffer_row(self, row):
        """Keep one row (a tuple in :data:`COLUMNS` order) for the next
        flush; never touches the database."""
        dbname = self.env.cr.dbname
        buffer = buffer_for(dbname)
        buffer.add(row)
        if not tools.config.get("test_enable"):
            # Test runs flush explicitly, inside their own transaction.
            flushing.ensure_flusher(
                dbname,
                self._name,
                tools.config.get("secure_api_log_interval") or 2,
                buffer.__len__,
            )

    @api.model
    def _flush_buffer(self):
        """Write this worker's buffered rows; returns how many were written.

        A row the database refuses (whatever it holds) is dropped, counted
        in one warning, and blocks no other row: a failed batch is split in
        halves until the refused rows are alone. When the database itself
        fails (connection lost), every row goes back into the buffer.
        """
        buffer = buffer_for(self.env.cr.dbname)
        rows = buffer.drain()
        if not rows:
            return 0
        try:
            written, refused = self._insert_rows(rows)
        except Exception:
            dropped = max(0, len(rows) + len(buffer) - MAX_BUFFERED)
            if dropped:
                _logger.warning("secure_api: %s access-log rows dropped", dropped)
            buffer.restore(rows[dropped:])
            raise
        if refused:
            # Neither the rows nor the error: they may hold client data.
            _logger.warning(
                "secure_api: %s access-log rows could not be stored and were "
                "dropped (%s)",
                len(refused),
                ", ".join(sorted({type(error).__name__ for error in refused})),
            )
        self.invalidate_model()
        return written

    @api.model
    def _insert_rows(self, rows):
        """Insert ``rows``, bisecting a batch that a row's value fails;
        returns ``(rows written, errors of the refused rows)``."""
        try:
            with self.env.cr.savepoint():
                execute_values(
                    self.env.cr._obj,
                    INSERT_SQL,
                    rows,
                    template=TEMPLATE,
                    page_size=1000,
                )
            return len(rows), []
        except ROW_ERRORS as error:
            if len(rows) == 1:
                return 0, [error]
        half = len(rows) // 2
        first, first_refused = self._insert_rows(rows[:half])
        second, second_refused = self._insert_rows(rows[half:])
        return first + second, first_refused + second_refused

    # ------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------

    @api.model
    def _retention_days(self):
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("secure_api.log_retention_days")
        )
        if value in (None, False, ""):
            return DEFAULT_RETENTION_DAYS
        try:
            return int(value)
        except ValueError:
            return DEFAULT_RETENTION_DAYS

    @api.model
    def _cron_cleanup(self):
        """Delete the rows older than ``secure_api.log_retention_days``
        (default 30; 0 or less keeps them all). The only way rows go."""
        days = self._retention_days()
        if days <= 0:
            return 0
        self.env.cr.execute(
            "DELETE FROM secure_api_log WHERE timestamp < %s",
            [fields.Datetime.now() - timedelta(days=days)],
        )
        self.invalidate_model()
        return self.env.cr.rowcount

    # ------------------------------------------------------------------
    # Who reads the log
    # ------------------------------------------------------------------

    @api.model
    def _setup_auditor_group(self):
        """Data hook: file the Auditor group under "Secure API"."""
        compat.setup_extra_group(
            self.env,
            self.env.ref("secure_api.group_secure_api_auditor"),
            self.env.ref("secure_api.module_category_secure_api"),
            "Secure API Audit",
        )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    @api.model
    def _may_read(self):
        return self.env["ir.model.access"].check(
            self._name, "read", raise_exception=False
        )

    @api.model
    def _action(self, domain, context=None):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "secure_api.secure_api_log_action"
        )
        action["domain"] = domain
        action["context"] = context or {}
        return action

    @api.model
    def action_for_record(self, model, res_id):
        """The log rows of the requests that touched one record."""
        return self._action([("record_ids", "in", [model, int(res_id)])])
