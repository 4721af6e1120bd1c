"""Process-wide side effects of the addon, installed from ``post_load``.

:func:`post_load` installs, and :func:`uninstall` removes:

- the log filter that drops Odoo's "bad query" log of a query whose failure
  the pipeline answers itself (a constraint violation is the client's 409 or
  422, and the logged query would carry the client's values);
- the access-log filter that masks credentials sent in a URL;
- the flush of buffered usage statistics and access-log rows when a
  worker stops: at exit, and on SIGTERM in Odoo's prefork workers (a patch
  of ``odoo.service.server.Worker.start``, which resets SIGTERM to
  ``SIG_DFL``: effective for the workers forked after ``post_load``, that
  is when the addon is loaded before they start, with ``-d``/``db_name``
  (the master preloads the registry) or ``--load``);
- the optional database-list cache described below.

Database-list cache (opt-in): cache Odoo's database list for a few seconds.

With ``--db-filter`` (and without ``-d``), Odoo lists the databases on every
request that carries no session cookie, that is on every API call.
:func:`post_load` runs when the addon's code is loaded: at start-up when it is
loaded server-wide (``--load=base,web,secure_api``), else when a registry
with the addon installed is first loaded. It memoizes
``odoo.service.db.list_dbs`` for
``secure_api_dblist_ttl`` seconds when the Odoo configuration file sets it
(unset or 0: Odoo's database service is left alone), and forgets the list
whenever this server creates, duplicates, drops, renames or restores a
database. A database created by another server appears after
at most the TTL.
"""

import atexit
import functools
import logging
import re
import threading
import time

from odoo.service import db as db_service
from odoo.service import server
from odoo.tools import config

INVALIDATING = (
    "exp_create_database",
    "exp_duplicate_database",
    "exp_drop",
    "exp_rename",
    "exp_restore",
)
_memo = {}
_lock = threading.Lock()
# Set by the pipeline while this thread serves an API request.
SERVING = threading.local()


class AnsweredQueryFilter(logging.Filter):
    """Drop ``odoo.sql_db``'s log of a failed query the pipeline answers.

    Only records emitted by a thread that is serving an API request are
    dropped; unexpected failures are still logged by the pipeline, with the
    request id.
    """

    def filter(self, record):
        return not (
            getattr(SERVING, "active", False)
            and str(record.msg).startswith("bad query")
        )


class SecretRedactingFilter(logging.Filter):
    """Mask credentials a client put in a URL in the access log.

    The API refuses tokens and secrets in query strings, but the HTTP
    server logs the request line before anything answers it.
    """

    SECRET_RE = re.compile(
        r"([?&;](?:access_token|client_secret|token|refresh_token|id_token|api_?key"
        r"|password|passwd|secret|jwt|assertion|client_assertion|code|code_verifier)"
        r"(?:%5B%5D|\[\])?=)[^&;\s\"]*",
        re.IGNORECASE,
    )

    def filter(self, record):
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                self.SECRET_RE.sub(r"\1***", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        elif isinstance(record.msg, str):
            record.msg = self.SECRET_RE.sub(r"\1***", record.msg)
        return True


_LOG_FILTER = AnsweredQueryFilter()
_REDACTING_FILTER = SecretRedactingFilter()


def clear():
    with _lock:
        _memo.clear()


def cached_list_dbs(original, ttl):
    @functools.wraps(original)
    def list_dbs(force=False):
        now = time.monotonic()
        with _lock:
            hit = _memo.get(bool(force))
        if hit is not None and now - hit[0] < ttl:
            return list(hit[1])
        result = original(force)
        with _lock:
            _memo[bool(force)] = (now, list(result))
        return result

    list_dbs.secure_api_original = original
    return list_dbs


def clearing(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            clear()

    wrapper.secure_api_original = function
    return wrapper


def install(ttl=None):
    """Patch the database service once; returns whether it is active."""
    # Opt-in: it patches Odoo's database service for the whole server.
    ttl = float(config.get("secure_api_dblist_ttl") or 0 if ttl is None else ttl)
    if ttl <= 0 or hasattr(db_service.list_dbs, "secure_api_original"):
        return hasattr(db_service.list_dbs, "secure_api_original")
    db_service.list_dbs = cached_list_dbs(db_service.list_dbs, ttl)
    for name in INVALIDATING:
        if hasattr(db_service, name):
            setattr(db_service, name, clearing(getattr(db_service, name)))
    return True


def uninstall():
    """Undo :func:`post_load` (tests)."""
    for name in ("list_dbs", *INVALIDATING):
        function = getattr(db_service, name, None)
        if function is not None and hasattr(function, "secure_api_original"):
            setattr(db_service, name, function.secure_api_original)
    clear()
    logging.getLogger("odoo.sql_db").removeFilter(_LOG_FILTER)
    logging.getLogger("werkzeug").removeFilter(_REDACTING_FILTER)
    from . import flushing

    atexit.unregister(flushing.flush_all_at_exit)
    flushing.unpatch_worker_start(server.Worker)


def post_load():
    install()
    logging.getLogger("odoo.sql_db").addFilter(_LOG_FILTER)
    logging.getLogger("werkzeug").addFilter(_REDACTING_FILTER)
    from . import flushing

    # Flush what is left when a worker stops (usage statistics, access-log
    # rows), so that recycling loses nothing.
    atexit.unregister(flushing.flush_all_at_exit)
    atexit.register(flushing.flush_all_at_exit)
    # ... and when a worker gets SIGTERM (systemd sends it to every process).
    flushing.patch_worker_start(server.Worker)
