"""Buffers of the request path, flushed in batches off the request.

The request path never writes usage statistics nor access-log rows: it adds
them to a buffer of its worker process (one per database). For each model
with such a buffer, a daemon thread of the worker flushes it every few
seconds on a transaction of its own, and :func:`flush_all_at_exit`
(registered by ``hooks.post_load``) flushes what is left when the worker
stops, so that recycling a worker or stopping the server loses nothing.

Odoo's prefork workers die on ``SIGTERM`` without running ``atexit`` (their
``Worker.start`` resets it to ``SIG_DFL``), and systemd sends it to the
master and every worker at once. :func:`patch_worker_start` makes each
worker flush first (:func:`flush_on_sigterm`, within
:data:`SIGTERM_WAIT` seconds) and then die of the signal as before.

A model with a buffer defines ``_flush_buffer()``: it drains the buffer,
writes the rows and puts them back when the write fails.
"""

import functools
import logging
import os
import signal
import threading

from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo import SUPERUSER_ID, api, sql_db

_logger = logging.getLogger(__name__)

# (pid, dbname, model name) -> flush thread of this process; its lock is
# held while a flush runs, so that the flush at exit waits for the thread's.
_FLUSHERS = {}
_LOCKS = {}
_LOCK = threading.Lock()
# How long the flush at exit waits for a flush in progress, in seconds.
EXIT_WAIT = 30
# How long a worker that got SIGTERM flushes before it dies, in seconds.
SIGTERM_WAIT = 5.0
# Set once this process flushes at exit: it is stopping already.
_EXITING = threading.Event()


def flush(dbname, model_name, timeout=-1):
    """Flush ``model_name``'s buffer for ``dbname`` in a transaction of its
    own, committed at once.

    One flush at a time per buffer and process: a flush in progress (the
    thread's, whose rows are out of the buffer) ends before the next starts,
    or within ``timeout`` seconds.
    """
    from odoo.modules.registry import Registry

    lock = _lock_for(dbname, model_name)
    if not lock.acquire(timeout=timeout):
        _logger.warning("secure_api: a flush of %s is still running", model_name)
        return
    try:
        registry = Registry(dbname)
        with registry.cursor() as cr:
            if isinstance(cr, sql_db.Cursor):
                # READ COMMITTED, not Odoo's REPEATABLE READ: a concurrent
                # upsert of the same row by another worker then waits and
                # adds, instead of failing with a serialization error. (Not
                # a test's cursor: that would end the test's transaction.)
                cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
            env = api.Environment(cr, SUPERUSER_ID, {})
            env[model_name]._flush_buffer()
    finally:
        lock.release()


def _lock_for(dbname, model_name):
    key = (os.getpid(), dbname, model_name)
    with _LOCK:
        lock = _LOCKS.get(key)
        if lock is None:
            lock = _LOCKS[key] = threading.Lock()
        return lock


def _loop(dbname, model_name, interval, pending):
    failing = False
    while True:
        threading.Event().wait(interval)
        if not pending():
            # Nothing to write: not even a connection is taken from the pool.
            continue
        try:
            flush(dbname, model_name)
        except Exception as error:  # keep the thread alive; rows were restored
            if not failing:
                _log_failure("flush", model_name, dbname, error)
            failing = True
        else:
            if failing:
                _logger.info("secure_api: flush of %s works again", model_name)
            failing = False


def _log_failure(what, model_name, dbname, error):
    """Once per failure, without a traceback nor the error's text (it may
    quote the rows' client data): the database is down or refuses the
    table, not a row (those are dropped by the model's flush)."""
    _logger.warning(
        "secure_api: %s of %s failed for %s (%s)",
        what,
        model_name,
        dbname,
        type(error).__name__,
    )


def ensure_flusher(dbname, model_name, interval, pending):
    """Start this process's flush thread of ``model_name`` for ``dbname``,
    once per process (a forked worker starts its own).

    ``pending()`` tells, without a query, whether the buffer holds anything.
    """
    key = (os.getpid(), dbname, model_name)
    if key in _FLUSHERS:
        return
    with _LOCK:
        if key in _FLUSHERS:
            return
        thread = threading.Thread(
            target=_loop,
            args=(dbname, model_name, float(interval), pending),
            name=f"secure_api.flush.{model_name}.{dbname}",
            daemon=True,
        )
        _FLUSHERS[key] = thread
        thread.start()


def flush_all_at_exit(wait=EXIT_WAIT):
    """Flush every buffer of this process (registered by ``post_load``)."""
    _EXITING.set()
    for pid, dbname, model_name in list(_FLUSHERS):
        if pid != os.getpid():
            continue
        try:
            # A flush of the thread in progress ends first (its rows are out
            # of the buffer): then what is left is written.
            flush(dbname, model_name, timeout=wait)
        except Exception as error:
            _log_failure("final flush", model_name, dbname, error)


def flush_on_sigterm(signum, _frame):
    """SIGTERM in a worker: flush every buffer, then die of the signal.

    The flush runs in a thread of its own and the handler waits for it at
    most :data:`SIGTERM_WAIT` seconds: a flush that hangs (the database),
    or a lock held by the code the signal interrupted, cannot keep the
    worker alive. A second SIGTERM meanwhile kills it at once.

    A process already flushing at exit (a worker the master stopped with
    SIGINT, as systemd's SIGTERM reached it too) is left to finish: the
    handler runs in the thread of that flush, so waiting for another one
    would only deadlock until the timeout and kill it in the middle.
    """
    if _EXITING.is_set():
        return
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    done = threading.Event()

    def run():
        try:
            flush_all_at_exit(wait=SIGTERM_WAIT)
        finally:
            done.set()

    threading.Thread(target=run, name="secure_api.flush.sigterm", daemon=True).start()
    done.wait(SIGTERM_WAIT)
    os.kill(os.getpid(), signum)


def install_sigterm_flush():
    """Make this process flush on SIGTERM; only where SIGTERM would kill it
    outright (Odoo's workers), never over a handler of Odoo's (the
    threaded server's graceful stop). Returns whether it is installed."""
    if threading.current_thread() is not threading.main_thread():
        return False
    current = signal.getsignal(signal.SIGTERM)
    if current not in (signal.SIG_DFL, flush_on_sigterm):
        return False
    signal.signal(signal.SIGTERM, flush_on_sigterm)
    return True


def patch_worker_start(worker_class):
    """Install :func:`flush_on_sigterm` in every worker ``worker_class``
    starts, right after Odoo sets the worker's signals (once)."""
    if hasattr(worker_class.start, "secure_api_original"):
        return
    original = worker_class.start

    @functools.wraps(original)
    def start(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        install_sigterm_flush()
        return result

    start.secure_api_original = original
    worker_class.start = start


def unpatch_worker_start(worker_class):
    original = getattr(worker_class.start, "secure_api_original", None)
    if original is not None:
        worker_class.start = original
