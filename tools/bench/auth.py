"""Authentication on the simple API: issuing an opaque token against a JWT,
and a search authenticated by JWT, by opaque token and by session."""

import json
from urllib.parse import urlencode

from .common import log, request
from .simple import LIST_PATH

TARGETS = (
    (
        "JWT cost vs session (%)",
        "REST search, JWT",
        "REST search, session",
        "<= 5 %",
        5.0,
        False,
    ),
    (
        "opaque cost vs session (%)",
        "REST search, opaque token",
        "REST search, session (again)",
        "<= 5 %",
        5.0,
        False,
    ),
)


def issuance(bench, base, cfg):
    """Tokens issued per second: opaque (OAuth 2.0) against JWT."""
    log("tokens ...")
    form = urlencode({"client_id": cfg["client"], "client_secret": cfg["secret"]})
    creds = json.dumps({"client_id": cfg["client"], "client_secret": cfg["secret"]})
    bench.pair(
        "token: opaque (OAuth 2.0)",
        lambda: request(
            base,
            "POST",
            "/api/oauth2/token",
            form,
            {"Content-Type": "application/x-www-form-urlencoded"},
        )[0],
        "token: JWT",
        lambda: request(
            base, "POST", "/api/jwt/token", creds, {"Content-Type": "application/json"}
        )[0],
    )


def modes(bench, ctx, simple):
    """The same search by JWT, opaque token and session cookie."""
    log("authentication modes ...")
    session = {"Cookie": ctx.user.session}
    opaque = ctx.auth("opaque")
    bench.pair(
        "REST search, JWT",
        lambda: simple.get(LIST_PATH),
        "REST search, session",
        lambda: simple.get(LIST_PATH, session),
    )
    bench.pair(
        "REST search, opaque token",
        lambda: simple.get(LIST_PATH, opaque),
        "REST search, session (again)",
        lambda: simple.get(LIST_PATH, session),
    )
