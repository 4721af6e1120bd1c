"""What the ``/api/docs`` page shows of one API and model, as plain data.

The endpoints come from :data:`core.operations.OPERATIONS` (method and path
shape), the example bodies from the same field types the Postman collection
uses, so that the page, the collection and the OpenAPI document agree.
"""

import json
import shlex

from . import operations
from .messages import _lt
from .postman import EXAMPLES, example_body

# Plain values for a shell: Postman's dynamic variables mean nothing there.
DOC_EXAMPLES = dict(
    EXAMPLES, char="Example", text="Example text", email="someone@example.com"
)


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


def endpoints(spec, model_spec, base, base_url):
    """One entry per HTTP endpoint of the API's active operations on one
    model: method, path, scope, a curl line with an example body, and the
    path a logged-in reader may try from the page."""
    public = spec["auth_mode"] == "public"
    active = {op for op, e in spec["endpoints"].items() if e.get("active")}
    fields = model_spec["fields"]
    create_body = example_body(fields, DOC_EXAMPLES)
    update_body = dict(list(create_body.items())[:1])
    keys = [f["alias"] for f in fields if f.get("upsert_key")]
    result = []
    for operation in operations.OPERATIONS:
        if operation.name == "binary" or operation.switch not in active:
            continue
        if operation.name not in spec["operations"] and operation.generated:
            continue
        if operation.name == "upsert" and not keys:
            continue
        if operation.name == "rpc":
            paths = [
                f"{base}/{{id}}/{name}"
                if method["on_records"]
                else f"{base}/call/{name}"
                for name, method in sorted(model_spec["methods"].items())
            ]
        elif operation.name == "upsert":
            paths = [f"{base}/by/{key}/{{value}}" for key in keys]
        else:
            paths = [base + operation.path_suffix]
        method = operation.http_method
        body = {
            "create": create_body,
            "update": update_body,
            "upsert": create_body,
            "rpc": {"args": [], "kwargs": {}},
        }.get(operation.name)
        query = "?limit=10" if operation.name == "search" else ""
        headers = ()
        if not public and operation.writes and operation.name != "rpc":
            headers = (("Idempotency-Key", "$(uuidgen)"),)
        for path in paths:
            result.append(
                {
                    "operation": operation.name,
                    "label": operation.label,
                    "method": method,
                    "path": path,
                    "scope": operation.scope,
                    "body": json.dumps(body, indent=2) if body is not None else "",
                    "curl": curl_line(
                        method,
                        base_url + path + query,
                        bearer=not public,
                        body_text=None if body is None else json.dumps(body),
                        headers=headers,
                    ),
                    "try_path": (path + query)
                    if method == "GET" and "{" not in path
                    else "",
                }
            )
    return result


def sync_notes(spec):
    """The safe-retry and synchronisation features this API offers, as
    ``(header or parameter, what it does)`` pairs."""
    public = spec["auth_mode"] == "public"
    active = {op for op, e in spec["endpoints"].items() if e.get("active")}
    notes = []
    if "search" in active:
        notes += [
            (
                "cursor",
                _lt(
                    "Keyset pages: send cursor= (empty) first, then the "
                    "next_cursor of each answer until it is null."
                ),
            ),
            (
                "changed_since",
                _lt(
                    "Only records changed since this UTC time (ISO 8601), in "
                    "change order; the next call sends the answer's changes_until."
                ),
            ),
            (
                "count=estimated",
                _lt("The planner's estimate on large tables (length_is tells which)."),
            ),
        ]
    if "read" in active:
        notes.append(
            (
                "ETag / If-None-Match",
                _lt(
                    "A read answers an ETag; sending it back answers 304 when "
                    "nothing changed."
                ),
            )
        )
    if active & {"update", "delete"}:
        notes.append(
            (
                "If-Match",
                _lt(
                    "Update or delete only if the record still has this ETag; "
                    "otherwise 412 and nothing is written."
                ),
            )
        )
    if not public and active & {"create", "update", "delete"}:
        notes.append(
            (
                "Idempotency-Key",
                _lt(
                    "A retried write with the same key replays the first answer "
                    "for 24 hours instead of running twice."
                ),
            )
        )
    if active & {"create", "update"}:
        notes.append(
            (
                "Prefer: return=minimal",
                _lt(
                    "201 with Location and the id, or 204, instead of the whole record."
                ),
            )
        )
    return notes
