"""The ``core`` section: the simple API's rows, in this order: search, read
and writes against call_kw (``crud``), safe retries (``sync``), the webhook
outbox's cost, deletes and what sync_deletions adds to them
(``tombstones``), deep pages and totals (``sync``), token issuance and
authentication modes (``auth``), statistics (``stats``); the limit's side of
each row when the ``limit`` section ran."""

from . import auth, crud, limit, stats, sync, tombstones, webhooks
from .fixtures import cleanup
from .simple import Simple

# The target lines of the core rows, in the order they are printed.
TARGETS = (
    crud.TARGETS
    + auth.TARGETS
    + stats.TARGETS
    + sync.TARGETS
    + webhooks.TARGETS
    + tombstones.TARGETS
)


def run(ctx):
    bench = ctx.bench
    simple = Simple(ctx)
    simple.limit_sides = limit.simple_sides(ctx.limit, simple)
    crud.search(bench, simple)
    crud.read(bench, simple)
    crud.writes(bench, simple)
    sync.retries(bench, simple)
    webhooks.outbox_cost(bench, ctx.admin, ctx.cfg, simple)
    crud.delete(bench, simple)
    tombstones.deletion_cost(bench, ctx, simple)
    cleanup(ctx)
    sync.paging(bench, ctx.admin, simple)
    auth.issuance(bench, ctx.base, ctx.cfg)
    auth.modes(bench, ctx, simple)
    stats.cost(bench, simple)
    for line in TARGETS:
        bench.target(*line)
    limit.simple_targets(bench)
