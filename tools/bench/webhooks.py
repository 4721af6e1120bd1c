"""Webhooks: what the outbox costs a bulk create (a core pair), and the
deliveries per second of one cron worker (the ``webhook`` section)."""

import http.server
import json
import threading
import time

from .common import log, request
from .fixtures import cleanup, delete_outbox, system_param
from .servers import HOST, free_port
from .simple import PATH

HOOK_ON = "REST bulk create of 100, webhook subscribed"
HOOK_OFF = "REST bulk create of 100, no webhook"
# A port where nothing listens: deliveries would fail, but none run during
# the benchmark (the servers run with --max-cron-threads=0).
HOOK_URL = f"http://{HOST}:9/"
ALLOW_PRIVATE = "secure_api.webhook_allow_private"
TARGETS = (
    (
        "webhook outbox cost, bulk create of 100 (%)",
        HOOK_ON,
        HOOK_OFF,
        "<= 15 %",
        15.0,
        False,
    ),
)


def subscribe(admin, cfg, url, events):
    return admin.call(
        "secure.api.webhook",
        "create",
        {
            "api_id": cfg["api"],
            "url": url,
            "events": events,
            "user_id": cfg["user_id"],
        },
    )


class Outbox:
    """The subscription switch of the outbox pair, and the outbox rows
    each side wrote."""

    def __init__(self, admin, cfg):
        self.admin, self.cfg = admin, cfg
        self.hook = self.side = None
        self.events = 0
        self.written = {HOOK_ON: 0, HOOK_OFF: 0}

    def count(self):
        domain = [("api_id", "=", self.cfg["api"])]
        return self.admin.call("secure.api.event", "search_count", domain)

    def switch(self, name):
        """Subscribe for ``HOOK_ON``, unsubscribe otherwise: whether it changed."""
        # The outbox rows written since the last switch are the last side's.
        total = self.count()
        if self.side:
            self.written[self.side] += total - self.events
        self.side, self.events = name, total
        want = name == HOOK_ON
        if want == (self.hook is not None):
            return False
        if want:
            self.hook = subscribe(
                self.admin, self.cfg, HOOK_URL, "create update delete"
            )
        else:
            self.admin.call("secure.api.webhook", "unlink", [self.hook])
            self.hook = None
        # Counted again: deleting a subscription may delete its events.
        self.events = self.count()
        return True


def outbox_cost(bench, admin, cfg, simple):
    """Bulk creates while the API's model has a webhook subscription, and
    while it has none.

    A subscription installs the outbox hook on the model in every worker (a
    registry reload), so the pair switches it on and off between its parts,
    outside the measured time, and deletes it, its outbox rows and the
    private-address permission afterwards.
    """
    log("webhook outbox ...")
    hundred = [
        {"name": f"bench bulk hook {i}", "email": "b@bench.example.com"}
        for i in range(100)
    ]
    outbox = Outbox(admin, cfg)
    with system_param(admin, ALLOW_PRIVATE, "1"):
        try:
            bench.pair(
                HOOK_ON,
                lambda: simple.send("POST", PATH, hundred),
                HOOK_OFF,
                lambda: simple.send("POST", PATH, hundred),
                switch=outbox.switch,
            )
        finally:
            outbox.switch(None)
    created = bench.results[HOOK_ON].statuses.get(201, 0) * 100
    written = outbox.written
    if written[HOOK_OFF] or written[HOOK_ON] < created:
        bench.note(
            f"outbox rows: {written[HOOK_ON]} while subscribed (at least "
            f"{created} expected), {written[HOOK_OFF]} without (0 expected)"
        )
    else:
        bench.note(
            f"outbox rows: {written[HOOK_ON]} while subscribed (>= {created} "
            f"for the measured creates, the rest from warm-ups), 0 without"
        )
    delete_outbox(admin, cfg["api"])


class Receiver:
    """A local webhook receiver: counts the deliveries, answers 204."""

    def __init__(self):
        self.count = 0
        self.seen = set()
        self.times = []
        lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - the handler's name
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                with lock:
                    receiver.count += 1
                    receiver.seen.add(self.headers.get("X-Secure-Api-Delivery"))
                    receiver.times.append(time.perf_counter())
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = http.server.ThreadingHTTPServer((HOST, free_port()), Handler)
        self.url = f"http://{HOST}:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def create_events(ctx, count):
    """``count`` partners created by bulks of 100: as many ``create`` events."""
    minimal = {
        **ctx.auth("jwt"),
        "Content-Type": "application/json",
        "Prefer": "return=minimal",
    }
    for start in range(0, count, 100):
        batch = [
            {"name": f"bench new hook {i}"}
            for i in range(start, min(count, start + 100))
        ]
        status, _h, raw = request(ctx.base, "POST", PATH, json.dumps(batch), minimal)
        if status != 201:
            raise RuntimeError(f"bulk create answered {status}: {raw[:200]!r}")


def deliver(ctx, receiver, count):
    """Run the delivery job until the receiver got ``count`` deliveries (or
    5 minutes passed): ``(started, ended or None, job runs)``."""
    cron = ctx.admin.call(
        "ir.model.data",
        "check_object_reference",
        "secure_api",
        "ir_cron_webhook_deliver",
    )[1]
    started = time.perf_counter()
    runs = 0
    deadline = started + 300
    while receiver.count < count and time.perf_counter() < deadline:
        ctx.admin.call("ir.cron", "method_direct_trigger", [cron])
        runs += 1
        if runs > count:  # nothing is delivered: stop
            break
    ended = receiver.times[count - 1] if receiver.count >= count else None
    return started, ended, runs


def run(ctx):
    """The ``webhook`` section: deliveries per second of one cron run at a
    time to a local receiver.

    The cron job is run through ``ir.cron.method_direct_trigger`` (as the
    admin, over JSON-RPC) again and again until the receiver got
    ``--deliveries`` deliveries: one delivery run at a time, as one cron
    worker does. Each run delivers up to 200 (the job's batch) in its
    transaction.
    """
    count = ctx.args.deliveries
    cleanup(ctx)
    log(f"webhook deliveries of {count} events ...")
    receiver = Receiver()
    hook = None
    try:
        with system_param(ctx.admin, ALLOW_PRIVATE, "1"):
            hook = subscribe(ctx.admin, ctx.cfg, receiver.url, "create")
            # The subscription reloads the registries: let the workers do it.
            time.sleep(2)
            ctx.server.warm(10)
            create_events(ctx, count)
            started, ended, runs = deliver(ctx, receiver, count)
    finally:
        if hook:
            ctx.admin.call("secure.api.webhook", "unlink", [hook])
        receiver.close()
    delete_outbox(ctx.admin, ctx.cfg["api"])
    report(ctx.bench, receiver, count, started, ended, runs)
    cleanup(ctx)


def report(bench, receiver, count, started, ended, runs):
    if ended is None:
        # Cut at the deadline: the rate of what arrived.
        ended = receiver.times[-1] if receiver.times else time.perf_counter()
        bench.note(
            f"webhook deliveries: only {receiver.count} of {count} arrived in "
            f"{runs} cron runs ({ended - started:.0f} s)"
        )
        count = receiver.count
    rate = count / (ended - started) if count else 0.0
    bench.note(
        f"webhook deliveries: {count} in {ended - started:.1f} s over {runs} cron "
        f"runs, {len(receiver.seen)} distinct delivery ids, {receiver.count} received"
    )
    bench.info("webhook deliveries per second, one cron worker", rate)
