"""What is read where when Odoo serves read-only requests on a replica.

Odoo 18.0 and 19.0 serve the requests of read-only routes (under ``/api/``:
GET, HEAD and OPTIONS) on a PostgreSQL read replica when one is configured
(``--db_replica_host``/``--db_replica_port``). A replica replays the
primary's write-ahead log some time after the primary committed it: the lag.
17.0 has no replica support; there every cursor is on the primary and
nothing here changes anything.

Records are read where Odoo reads them (the replica, for read-only routes).
What decides who may do what is never older than the primary's:

- token rows are read on the primary on every request (:func:`primary_env`);
- the cached lookups of client apps, execution users, routes, API specs and
  settings (:func:`ormcache`) are computed on the primary when they miss on a
  replica cursor, so that every cache is filled from the primary; a miss on
  the replica would otherwise cache the replica's old snapshot for every
  request after it, on the primary too, and on 18.0 until the next unrelated
  invalidation;
- 19.0 reads Odoo's cache invalidation signals on the replica, so a worker
  hears of an invalidation only once the replica replayed it: every API
  request compares the primary's signals with the worker's
  (:func:`request_scope`) and, while the worker is behind, empties the
  caches concerned at the start of the request (the lookups above and the
  warm-up below refill theirs from the primary), leaving the signal itself
  to Odoo;
- the execution user's access rights and record rules of the models a
  request reads (Odoo's own caches) are computed on the primary before the
  request reads the replica (``secure.api.engine._warm_access``).

Read-your-writes: :func:`consistent_env` serves a request only from a cursor
that has replayed a given WAL position (see ``core.consistency``).
"""

import contextlib
import functools
import logging
import sys
import threading
import time

from odoo import SUPERUSER_ID, http, sql_db, tools

_logger = logging.getLogger(__name__)
_LOCAL = threading.local()
# Polling a paused or slow replica: from 2 ms, doubling, at most 50 ms apart.
FIRST_POLL = 0.002
LONGEST_POLL = 0.05


def is_replica(cr):
    """Whether ``cr`` reads a read-only connection: a replica.

    Never in tests, where one transaction serves every cursor (Odoo's test
    cursors), and never on 17.0, whose cursors have no read-only mode.
    """
    return isinstance(cr, sql_db.Cursor) and bool(getattr(cr, "readonly", False))


def signals_read_on_replica(registry):
    """Whether Odoo reads the cache signals of requests on a replica.

    18.0 checks them on a primary cursor at the start of every request
    (``Request._open_registry``); 19.0 on the read-only cursor it serves
    read-only routes with, a replica when one is configured.
    """
    return getattr(registry, "_db_readonly", None) is not None and not hasattr(
        http.Request, "_open_registry"
    )


class _Scope:
    """One API request: its cursor, and a primary cursor opened on demand."""

    def __init__(self, env):
        self.env = env
        self.cr = env.cr
        self.behind = False
        self._primary = None

    def primary(self):
        if self._primary is None:
            self._primary = self.env.registry.cursor()
        return self._primary

    def close(self):
        if self._primary is not None:
            self._primary.close()
            self._primary = None


def _scope_of(cr):
    scope = getattr(_LOCAL, "scope", None)
    return scope if scope is not None and scope.cr is cr else None


def _caches_behind(registry, cr):
    """The names of this worker's caches that the primary (read with ``cr``)
    invalidated and the worker has not yet: Odoo's signal sequences, and
    what each one clears (19.0's ``_CACHES_BY_KEY``)."""
    caches = registry._Registry__caches
    registry_sequence, cache_sequences = registry.get_sequences(cr)
    if registry_sequence != registry.registry_sequence:
        return set(caches)
    by_key = getattr(sys.modules[type(registry).__module__], "_CACHES_BY_KEY", {})
    names = set()
    for key, sequence in cache_sequences.items():
        if registry.cache_sequences.get(key) != sequence:
            names.update(by_key.get(key, (key,)))
    return names & set(caches)


def _empty(registry, names):
    """Empty these caches of this worker, signalling nothing: Odoo applies
    the signal itself once the replica replays it (empties them again and
    records its sequence). Until then every request empties them: they are
    only filled from the primary where it matters, and cost a refill."""
    caches = registry._Registry__caches
    for name in names:
        caches[name].clear()


@contextlib.contextmanager
def request_scope(env):
    """Around the serving of one API request on ``env``.

    Inside it, :func:`primary_env` uses one primary cursor for the whole
    request (opened at the first need, closed at the end). Where Odoo read
    the cache signals on a replica (19.0), the primary's are checked once
    here: one indexed query.
    """
    scope = _Scope(env)
    previous = getattr(_LOCAL, "scope", None)
    _LOCAL.scope = scope
    try:
        # Test cursors share one transaction: no signal to check there.
        if isinstance(env.cr, sql_db.Cursor) and signals_read_on_replica(env.registry):
            cr = scope.primary() if is_replica(env.cr) else env.cr
            behind = _caches_behind(env.registry, cr)
            if behind:
                _empty(env.registry, behind)
                scope.behind = True
        yield scope
    finally:
        _LOCAL.scope = previous
        scope.close()


def _on(env, cr):
    """``env`` on ``cr``. A transaction needs a user to flush as (19.0):
    requests of ``auth="none"`` routes have none, so there it is the
    superuser, which every caller here reads as anyway."""
    return env(cr=cr) if env.uid else env(cr=cr, user=SUPERUSER_ID)


@contextlib.contextmanager
def primary_env(env):
    """``env`` on the primary database: ``env`` itself unless its cursor
    reads a replica. Plain values only may leave the block: the cursor may
    close at its end."""
    if not is_replica(env.cr):
        yield env
        return
    scope = _scope_of(env.cr)
    if scope is not None:
        yield _on(env, scope.primary())
        return
    with contextlib.closing(env.registry.cursor()) as cr:
        yield _on(env, cr)


def ormcache(*keys, **options):
    """``tools.ormcache`` for the lookups that decide who may do what: a
    miss is computed on the primary (:func:`primary_env`), so the cache is
    never filled from a replica. The decorated method returns plain values.
    """

    def decorate(method):
        @functools.wraps(method)
        def compute(self, *args, **kwargs):
            with primary_env(self.env) as env:
                return method(self.with_env(env), *args, **kwargs)

        return tools.ormcache(*keys, **options)(compute)

    return decorate


def current_position(cr):
    """The primary's WAL insert position, as an int: at or after the end
    of every record written so far, commit records included."""
    cr.execute("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn")
    return int(cr.fetchone()[0])


def after_commit(cr, callback):
    """Run ``callback`` once ``cr``'s transaction committed; at once on a
    test cursor, which never commits (nor runs post-commit hooks)."""
    if isinstance(cr, sql_db.Cursor):
        cr.postcommit.add(callback)
    else:
        callback()


def _replayed(cr, position_text, wait_ms):
    """Whether the server behind ``cr`` has replayed the WAL up to
    ``position_text``, polling for at most ``wait_ms``. A server that is not
    in recovery (a primary) has everything committed."""
    deadline = time.monotonic() + wait_ms / 1000.0
    pause = FIRST_POLL
    while True:
        cr.execute(
            "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= %s::pg_lsn",
            [position_text],
        )
        in_recovery, replayed = cr.fetchone()
        if not in_recovery or replayed:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(pause, left))
        pause = min(pause * 2, LONGEST_POLL)


@contextlib.contextmanager
def consistent_env(env, position_text, wait_ms):
    """An environment whose reads see every commit up to the WAL position
    ``position_text`` (``None``: ``env`` as it is).

    ``env`` itself when its cursor is on the primary, or once its replica
    replayed that position (waiting at most ``wait_ms``); then its
    transaction starts again, since its snapshot may predate the replay.
    Else a primary cursor, for the block only.
    """
    if position_text is None or not is_replica(env.cr):
        yield env
        return
    if _replayed(env.cr, position_text, wait_ms):
        env.cr.rollback()
        yield env
        return
    _logger.debug(
        "secure_api: replica behind %s, reading on the primary", position_text
    )
    with contextlib.closing(env.registry.cursor()) as cr:
        yield _on(env, cr)
