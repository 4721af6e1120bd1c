"""Search parameters parsed against an API's settings.

Values come from a query string or form body (text) or from a JSON body
(already typed); both are accepted. Every name a client sends is a
client-facing alias and is translated to the real field name here.
"""

import json
import re

from .exceptions import BadRequest, CompanyNotAllowed
from .hygiene import check_json
from .messages import _lt

MAX_OFFSET = 10**9
ORDER_ITEM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)(?:\s+(asc|desc))?\s*\Z", re.I)
COUNT_MODES = ("exact", "estimated", "none")
# The query parameters the API reads (searches, reads, aggregates, sync):
# the access log keeps the values of these only.
QUERY_PARAMS = frozenset(
    {
        "domain",
        "fields",
        "order",
        "limit",
        "offset",
        "count",
        "cursor",
        "changed_since",
        "groupby",
        "measures",
    }
)


def parse_int(value, label, minimum=0, maximum=None):
    if isinstance(value, bool):
        raise BadRequest(
            _lt("'%(name)s' must be an integer", name=label),
            name="invalid_parameter",
        )
    if isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[+-]?\d{1,18}", text):
            raise BadRequest(
                _lt("'%(name)s' must be an integer", name=label),
                name="invalid_parameter",
            )
        value = int(text)
    if not isinstance(value, int):
        raise BadRequest(
            _lt("'%(name)s' must be an integer", name=label),
            name="invalid_parameter",
        )
    if value < minimum:
        raise BadRequest(
            _lt("'%(name)s' must be at least %(minimum)s", name=label, minimum=minimum),
            name="invalid_parameter",
        )
    if maximum is not None and value > maximum:
        raise BadRequest(
            _lt("'%(name)s' must be at most %(maximum)s", name=label, maximum=maximum),
            name="invalid_parameter",
        )
    return value


def parse_limit(value, default_limit, max_limit):
    """``limit`` defaults to the API's default and is clamped to its maximum."""
    if value is None or value == "":
        return min(default_limit, max_limit)
    return min(parse_int(value, "limit", minimum=1, maximum=None), max_limit)


def parse_offset(value):
    if value is None or value == "":
        return 0
    return parse_int(value, "offset", minimum=0, maximum=MAX_OFFSET)


def _as_name_list(value, label):
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                raise BadRequest(
                    _lt("'%(name)s' must be a list of names", name=label),
                    name="invalid_parameter",
                ) from None
        else:
            value = [item.strip() for item in text.split(",") if item.strip()]
    if not isinstance(value, list | tuple) or not all(
        isinstance(item, str) for item in value
    ):
        raise BadRequest(
            _lt("'%(name)s' must be a list of names", name=label),
            name="invalid_parameter",
        )
    return list(value)


def parse_fields(value, readable):
    """Return the selected client-facing names, all readable ones by default.

    ``readable`` is an ordered mapping of client-facing names.
    """
    if value is None or value == "" or value == []:
        return list(readable)
    names = _as_name_list(value, "fields")
    unknown = [name for name in names if name not in readable and name != "id"]
    if unknown:
        raise BadRequest(
            _lt("Unknown field '%(field)s' in 'fields'", field=unknown[0]),
            name="invalid_field",
        )
    return [name for name in dict.fromkeys(names) if name != "id"]


def parse_order(value, sortable, default_order=None):
    """Translate ``field [asc|desc], ...`` over sortable aliases to ORM order.

    ``sortable`` maps client-facing names to real field names; ``id`` is
    always sortable. ``default_order`` is the admin's setting, trusted as is.
    """
    if value is None or value == "":
        return default_order or None
    if not isinstance(value, str) or len(value) > 512:
        raise BadRequest(_lt("'order' must be text"), name="invalid_parameter")
    items = []
    for part in value.split(","):
        match = ORDER_ITEM.match(part)
        if not match:
            raise BadRequest(
                _lt("Invalid order item '%(item)s'", item=part.strip()),
                name="invalid_parameter",
            )
        label, direction = match.group(1), (match.group(2) or "asc").lower()
        if label == "id":
            real = "id"
        elif label in sortable:
            real = sortable[label]
        else:
            raise BadRequest(
                _lt("Field '%(field)s' cannot be used in 'order'", field=label),
                name="invalid_field",
            )
        items.append(f"{real} {direction}")
    return ", ".join(items)


def parse_count(value):
    if value is None or value == "":
        return "exact"
    if value not in COUNT_MODES:
        raise BadRequest(
            _lt("'count' must be 'exact', 'estimated' or 'none'"),
            name="invalid_parameter",
        )
    return value


MAX_COMPANIES = 32
COMPANY_HEADER = "X-Company-Id"


def parse_company_ids(header, codec):
    """The company ids of an ``X-Company-Id`` header, in its order.

    ``<id>[,<id>...]``, each as the API shows ``res.company`` ids (``codec``
    decodes them). A malformed list is 400; an id that does not decode is a
    company the caller may not use, as one of another user's: 403, the same
    answer, so that the header tells nothing about other companies.
    """
    items = [item.strip() for item in header.split(",")] if header else [""]
    if len(header or "") > 2048 or len(items) > MAX_COMPANIES or not all(items):
        raise BadRequest(
            _lt(
                "'%(name)s' is a comma-separated list of at most %(count)s company ids",
                name=COMPANY_HEADER,
                count=MAX_COMPANIES,
            ),
            name="invalid_parameter",
            data={"parameter": COMPANY_HEADER},
        )
    ids = []
    for item in items:
        company_id = codec.decode(item)
        if company_id is None:
            raise CompanyNotAllowed(data={"parameter": COMPANY_HEADER})
        if company_id not in ids:
            ids.append(company_id)
    return ids


def collect_params(*sources):
    """Merge parameter sources into one dict, refusing any repeated key.

    Each source is an iterable of ``(key, value)`` pairs (a query string, a
    form body) or a dict (a JSON body). A key given twice is ambiguous, so it
    is an error rather than a silent first-or-last pick.
    """
    merged = {}
    for source in sources:
        pairs = source.items() if isinstance(source, dict) else source
        for key, value in pairs:
            check_json((key, value), _lt("A parameter"), name="invalid_parameter")
            if key in merged:
                raise BadRequest(
                    _lt("Parameter '%(name)s' is repeated", name=key),
                    name="invalid_parameter",
                )
            merged[key] = value
    return merged
