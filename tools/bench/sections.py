"""The sections of a run: name -> ``run(ctx)`` (a ``runner.Context``), in the
order they run. A new section is one module and one entry here."""

from . import (
    access_log,
    aggregate,
    core,
    dbfilter,
    hostile,
    limit,
    memory,
    realistic,
    traffic,
    webhooks,
)

SECTIONS = {
    # First: it points the limit routes at the API's user; the core and
    # realistic rows alternate with them when it ran.
    "limit": limit.run,
    "core": core.run,
    "realistic": realistic.run,
    "aggregate": aggregate.run,
    "hostile": hostile.run,
    "traffic": traffic.run,
    "log": access_log.run,
    "webhook": webhooks.run,
    "dbfilter": dbfilter.run,
    "memory": memory.run,
}
