"""The ``/api/docs`` explorer's fixed parts, and curl lines.

``/api/docs`` is Swagger UI (static/lib/swagger-ui, a pinned copy of the
``swagger-ui-dist`` package) over ``/api/openapi.json``: the document says
what each operation takes and answers, so the page holds no API data of its
own. What is fixed here is what the page may load: this server's files
only.
"""

import shlex

# The swagger-ui-dist version copied into static/lib/swagger-ui (its
# README.md says how to update it); the page asks for its files with it, so
# that browsers do not keep an older copy from their cache.
SWAGGER_UI_VERSION = "5.36.0"

# What the page and Swagger UI need, from this server only: its scripts and
# styles, the document and the operations it runs (same origin), and the
# data: images of Swagger UI's style sheet. No inline script, no eval, no
# other host; nothing may frame it but this server's own pages.
DOCS_PAGE_POLICY = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'self'",
}


def docs_page_headers():
    """The security headers of the ``/api/docs`` page."""
    return {
        "Content-Security-Policy": "; ".join(
            f"{directive} {sources}" for directive, sources in DOCS_PAGE_POLICY.items()
        ),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "SAMEORIGIN",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


def curl_line(method, url, *, bearer=False, body_text=None, headers=()):
    """A curl command that runs as shown when pasted into a shell.

    Values are single-quoted, except the ``Authorization`` header and
    ``headers``, which are double-quoted on purpose: they name shell
    expansions (``$TOKEN``, ``$(uuidgen)``). ``-g``: the brackets of a
    domain in the URL are no curl glob.
    """
    parts = ["curl", "-g", "-X", shlex.quote(method)]
    if bearer:
        parts.append('-H "Authorization: Bearer $TOKEN"')
    parts.extend(f'-H "{name}: {value}"' for name, value in headers)
    if body_text is not None:
        parts += [
            "-H",
            shlex.quote("Content-Type: application/json"),
            "-d",
            shlex.quote(body_text),
        ]
    parts.append(shlex.quote(url))
    return " ".join(parts)
