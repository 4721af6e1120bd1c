"""The CORS decision for one API, as a pure function."""

DEFAULT_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
DEFAULT_HEADERS = "Authorization, Content-Type, X-Requested-With"


def parse_origins(text):
    """Origins one per line (or comma-separated); ``*`` allows any origin."""
    items = []
    for line in (text or "").replace(",", "\n").splitlines():
        origin = line.strip().rstrip("/")
        if origin:
            items.append(origin)
    return tuple(items)


def cors_headers(origin, settings, preflight=False):
    """Return the CORS headers for a request from ``origin``.

    ``settings``: ``{"enabled", "origins", "methods", "headers", "max_age"}``.
    A refused or absent origin gets no ``Access-Control-Allow-Origin``. An
    allowlisted origin is echoed with ``Vary: Origin``; ``*`` answers ``*``
    and never allows credentials.
    """
    if not settings or not settings.get("enabled") or not origin:
        return {}
    # The answer depends on Origin whatever it is: shared caches must know.
    headers = {"Vary": "Origin"}
    origins = settings.get("origins") or ()
    if origin.rstrip("/") in origins:
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Allow-Credentials"] = "true"
    elif "*" in origins:
        headers["Access-Control-Allow-Origin"] = "*"
    else:
        return headers
    if preflight:
        headers["Access-Control-Allow-Methods"] = (
            settings.get("methods") or DEFAULT_METHODS
        )
        headers["Access-Control-Allow-Headers"] = (
            settings.get("headers") or DEFAULT_HEADERS
        )
        headers["Access-Control-Max-Age"] = str(int(settings.get("max_age") or 0))
    else:
        headers["Access-Control-Expose-Headers"] = (
            "X-Request-Id, X-Test-Mode, X-Consistency-Token"
        )
    return headers


def origin_allowed(origin, settings):
    """Whether ``origin`` is explicitly allowlisted (``*`` does not count)."""
    if not settings or not settings.get("enabled") or not origin:
        return False
    return origin.rstrip("/") in (settings.get("origins") or ())
