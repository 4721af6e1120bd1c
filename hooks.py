"""Optional server-wide hook: cache Odoo's database list for a few seconds.

With ``--db-filter`` (and without ``-d``), Odoo lists the databases on every
request that carries no session cookie, that is on every API call.
:func:`post_load` runs when the addon's code is loaded: at start-up when it is
loaded server-wide (``--load=base,web,secure_api``), else when a registry
with the addon installed is first loaded. It memoizes
``odoo.service.db.list_dbs`` for
``secure_api_dblist_ttl`` seconds (5 by default, 0 to disable) and forgets
the list whenever this server creates, duplicates, drops, renames or
restores a database. A database created by another server appears after
at most the TTL.
"""

import functools
import threading
import time

from odoo.service import db as db_service
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
    ttl = float(config.get("secure_api_dblist_ttl", 5) if ttl is None else ttl)
    if ttl <= 0 or hasattr(db_service.list_dbs, "secure_api_original"):
        return hasattr(db_service.list_dbs, "secure_api_original")
    db_service.list_dbs = cached_list_dbs(db_service.list_dbs, ttl)
    for name in INVALIDATING:
        if hasattr(db_service, name):
            setattr(db_service, name, clearing(getattr(db_service, name)))
    return True


def uninstall():
    """Undo :func:`install` (tests)."""
    for name in ("list_dbs", *INVALIDATING):
        function = getattr(db_service, name, None)
        if function is not None and hasattr(function, "secure_api_original"):
            setattr(db_service, name, function.secure_api_original)
    clear()


def post_load():
    install()
