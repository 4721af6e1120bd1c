"""Deletions in sync: what the tombstones cost a delete (a core pair).

An API with ``sync_deletions`` makes every delete of its model judge the
record as each of the API's callers (one search per caller and batch) and
write a tombstone; the pair deletes one record per request with the switch
on and off."""

import json

from .common import log, request
from .servers import psql
from .simple import PATH

SYNC_ON = "REST delete, sync_deletions"
SYNC_OFF = "REST delete, no sync_deletions"
TARGETS = (
    (
        "sync_deletions cost, delete of one record (%)",
        SYNC_ON,
        SYNC_OFF,
        "<= 15 %",
        15.0,
        False,
    ),
)
# Records kept ready for each part of the pair (a part lasts a quarter of
# --duration): more than a part deletes, so that no request finds the pool
# empty.
POOL = 1500


class Doomed:
    """The pool of records the deletes take, refilled (and the API switched)
    between the parts of the pair, outside the measured time."""

    def __init__(self, ctx, simple):
        self.ctx, self.simple = ctx, simple
        self.ids, self.state, self.empty = [], None, 0

    def refill(self):
        while len(self.ids) < POOL:
            batch = [{"name": f"bench doomed sync {i}"} for i in range(500)]
            status, _h, raw = request(
                self.simple.base, "POST", PATH, json.dumps(batch), self.simple.json
            )
            if status != 201:
                raise RuntimeError(f"bulk create answered {status}: {raw[:200]!r}")
            self.ids += [r["id"] for r in json.loads(raw)["result"]]

    def switch(self, name):
        self.refill()
        want = name == SYNC_ON
        if want == self.state:
            return False
        self.ctx.admin.call(
            "secure.api", "write", [self.ctx.cfg["api"]], {"sync_deletions": want}
        )
        self.state = want
        return True

    def delete_one(self):
        with self.simple.lock:
            if not self.ids:
                self.empty += 1
                return 299
            rid = self.ids.pop()
        return request(
            self.simple.base, "DELETE", f"{PATH}/{rid}", headers=self.simple.auth
        )[0]


def deletion_cost(bench, ctx, simple):
    """Deletes of one record while the API syncs deletions, and while it
    does not; the tombstones written, checked and removed afterwards."""
    log("sync_deletions cost on deletes ...")
    doomed = Doomed(ctx, simple)
    api_id = int(ctx.cfg["api"])
    try:
        bench.pair(
            SYNC_ON,
            doomed.delete_one,
            SYNC_OFF,
            doomed.delete_one,
            switch=doomed.switch,
        )
    finally:
        doomed.switch(None)
    deleted = bench.results[SYNC_ON].statuses.get(200, 0)
    written = psql(
        ctx.args.db_args,
        ctx.args.db,
        f"SELECT count(*) FROM secure_api_tombstone WHERE api_id = {api_id}",
    )
    bench.note(
        f"tombstones: {written} written (>= {deleted} for the measured deletes "
        f"with sync_deletions, the rest from warm-ups); "
        f"{doomed.empty} requests found the pool empty"
    )
    psql(
        ctx.args.db_args,
        ctx.args.db,
        f"DELETE FROM secure_api_tombstone WHERE api_id = {api_id}",
    )
