"""What statistics cost: the same search on the simple API and on its twin
whose statistics are off."""

from .common import log
from .simple import LIST_PATH, PATH

TARGETS = (
    (
        "statistics on cost vs off (%)",
        "REST search, statistics on",
        "REST search, statistics off",
        "<= 3 %",
        3.0,
        False,
    ),
)


def cost(bench, simple):
    log("statistics on/off ...")
    twin = LIST_PATH.replace(f"{PATH}?", f"{PATH}-nostats?")
    bench.pair(
        "REST search, statistics on",
        lambda: simple.get(LIST_PATH),
        "REST search, statistics off",
        lambda: simple.get(twin),
    )
