import os
import threading
import time

import psycopg2

from odoo import api, fields, models, sql_db

from .. import compat
from ..core.traffic import Usage

# Takes one request from every counter, all or nothing, in one statement:
# counters are taken in key order (no deadlock between requests), each only
# while it is below its limit. The first one at its limit undoes the others
# (the inner block is a subtransaction); then the answer holds what each
# counter has without this request. Row locks make it exact across every
# worker and server. Answers ``[refused position (1-based) or 0, counts...]``.
TAKE_FUNCTION = """
CREATE OR REPLACE FUNCTION secure_api_take(
    keys varchar[], starts bigint[], ends bigint[], limits int[]
) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE
    counts int[] := '{}';
    taken int;
    refused int := 0;
BEGIN
    BEGIN
        FOR i IN 1 .. coalesce(array_length(keys, 1), 0) LOOP
            taken := NULL;
            INSERT INTO secure_api_rate_counter AS c
                (key, window_start, window_end, count)
            VALUES (keys[i], starts[i], ends[i], 1)
            ON CONFLICT (key, window_start) DO UPDATE SET count = c.count + 1
            WHERE c.count < limits[i]
            RETURNING c.count INTO taken;
            IF taken IS NULL THEN
                refused := i;
                RAISE EXCEPTION USING ERRCODE = 'SA429';
            END IF;
            counts := counts || taken;
        END LOOP;
    EXCEPTION WHEN SQLSTATE 'SA429' THEN
        SELECT array_agg(coalesce(c.count, 0) ORDER BY l.i) INTO counts
          FROM unnest(keys, starts) WITH ORDINALITY AS l(key, start, i)
          LEFT JOIN secure_api_rate_counter c
                 ON c.key = l.key AND c.window_start = l.start;
    END;
    RETURN refused || counts;
END
$$
"""


class _Connections:
    """Autocommit connections to the primary for the counters, shared by
    the threads of a process: a prefork worker keeps one, a threaded server
    as many as it counts requests at once (idle ones beyond ``keep`` are
    closed). Outside Odoo's pool, so that a count never waits for, nor rolls
    back with, a request's transaction."""

    def __init__(self, keep=4):
        self.keep = keep
        self.opened = 0
        self._idle = {}
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def borrow(self, dbname):
        with self._lock:
            if self._pid != os.getpid():
                # A fork: the parent's connections are not ours to use.
                self._idle, self._pid = {}, os.getpid()
            idle = self._idle.get(dbname)
            if idle:
                return idle.pop()
        _name, info = sql_db.connection_info_for(dbname)
        cnx = psycopg2.connect(**info)
        cnx.autocommit = True
        with cnx.cursor() as cr:
            # Losing a count in a crash is better than a durable write per call.
            cr.execute("SET synchronous_commit TO OFF")
        with self._lock:
            self.opened += 1
        return cnx

    def give_back(self, dbname, cnx):
        with self._lock:
            idle = self._idle.setdefault(dbname, [])
            if not cnx.closed and len(idle) < self.keep:
                idle.append(cnx)
                return
        cnx.close()


CONNECTIONS = _Connections()


def _execute_once(dbname, query, params):
    """Run one statement on the primary, committed on its own, and return its
    single value.

    The counter rows stay locked only while the statement runs (no round
    trip to a COMMIT while other requests of the same client wait), a GET on
    a replica cursor is counted on the primary, and nothing the request rolls
    back undoes the count. A connection that broke is replaced once.
    """
    for attempt in (1, 2):
        cnx = CONNECTIONS.borrow(dbname)
        try:
            with cnx.cursor() as cr:
                cr.execute(query, params)
                value = cr.fetchone()[0]
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            cnx.close()
            if attempt == 2:
                raise
            continue
        except Exception:
            cnx.close()
            raise
        CONNECTIONS.give_back(dbname, cnx)
        return value
    return None


@compat.sql_constraints(
    ("key_window_uniq", "unique (key, window_start)", "One counter per key and window.")
)
class SecureApiRateCounter(models.Model):
    """Requests counted per limit and window, shared by every worker.

    Counted by one autocommit statement on the primary database (see
    :func:`_execute_once`), so that a read-only request (on a replica) is
    counted too, and a request rolled back (test mode, an error) stays
    counted.
    """

    _name = "secure.api.rate.counter"
    _description = "Secure API rate limit and quota counter"
    _log_access = False

    key = fields.Char(required=True)
    window_start = fields.Integer(required=True, help="Unix time")
    window_end = fields.Integer(required=True, help="Unix time")
    count = fields.Integer()

    def init(self):
        self.env.cr.execute(TAKE_FUNCTION)

    @api.model
    def _take(self, limits, now=None):
        """Count one request against every limit of ``limits``.

        Returns ``(usages, refused)``: the :class:`Usage` of each limit, and
        the limit that refused the request, or ``None``. When one refused,
        nothing was counted and the usages tell what the counters hold
        without this request (the refusing one: its limit).
        """
        now = int(now or time.time())
        ordered = sorted(limits, key=lambda limit: limit.key)
        bounds = [limit.bounds(now) for limit in ordered]
        counts = _execute_once(
            self.env.cr.dbname,
            "SELECT secure_api_take("
            "%s::varchar[], %s::bigint[], %s::bigint[], %s::int[])",
            [
                [limit.key for limit in ordered],
                [start for start, _end in bounds],
                [end for _start, end in bounds],
                [limit.limit for limit in ordered],
            ],
        )
        refused, counts = counts[0], counts[1:]
        usages = [
            Usage(limit, count, end)
            for limit, count, (_start, end) in zip(ordered, counts, bounds, strict=True)
        ]
        return usages, ordered[refused - 1] if refused else None

    @api.model
    def _counted(self, keys_and_starts):
        """``{key: count}`` of the given ``(key, window_start)`` pairs."""
        if not keys_and_starts:
            return {}
        keys, starts = zip(*keys_and_starts, strict=True)
        self.env.cr.execute(
            "SELECT c.key, c.count FROM secure_api_rate_counter c"
            " JOIN unnest(%s::varchar[], %s::bigint[]) AS l(key, start)"
            " ON c.key = l.key AND c.window_start = l.start",
            [list(keys), list(starts)],
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _cron_cleanup(self):
        """Forget windows that ended more than a day ago (the monthly quota's
        row lives until its month is over)."""
        self.env.cr.execute(
            "DELETE FROM secure_api_rate_counter WHERE window_end < %s",
            [int(time.time()) - 86400],
        )
