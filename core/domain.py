"""Client domain parsing and validation, and the structural AND.

A client domain is text in Odoo syntax. It is parsed as a literal (never
evaluated), normalized to explicit prefix form, checked against the API's
searchable fields and a fixed operator allowlist, and only then combined with
the API's forced domain, so that no client input can widen what it exposes.
"""

import ast
import datetime
import json
import re

from .exceptions import BadRequest
from .hygiene import value_problem
from .messages import _lt

MAX_DOMAIN_CHARS = 16384
MAX_LEAVES = 100
MAX_IN_VALUES = 1000
LOGIC_OPERATORS = ("&", "|", "!")
RELATION_OPERATORS = ("=", "!=", "in", "not in")
TERM_OPERATORS = (
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "like",
    "ilike",
    "not like",
    "not ilike",
    "=like",
    "=ilike",
    "in",
    "not in",
)
RELATIONAL_TYPES = ("many2one", "one2many", "many2many")
SCALAR_TYPES = (str, int, float, bool, type(None))
_TEMPORAL_RE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}:\d{2})?\Z")


def parse_literal(text, max_chars=MAX_DOMAIN_CHARS):
    """Parse domain text (Python or JSON literal syntax) into a list.

    Refuses oversize input before parsing it, and turns every parser failure
    (syntax, calls, names, nesting too deep) into :class:`BadRequest`.
    """
    if isinstance(text, list | tuple):
        return list(text)
    if not isinstance(text, str):
        raise BadRequest(_lt("The domain must be a list"), name="invalid_domain")
    if len(text) > max_chars:
        raise BadRequest(
            _lt(
                "The domain is longer than %(max_chars)s characters",
                max_chars=max_chars,
            ),
            name="invalid_domain",
        )
    text = text.strip()
    if not text:
        return []
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        try:
            value = ast.literal_eval(text)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise BadRequest(
                _lt("The domain is not a literal list of terms"), name="invalid_domain"
            ) from None
    if not isinstance(value, list | tuple):
        raise BadRequest(_lt("The domain must be a list"), name="invalid_domain")
    return list(value)


def normalize(domain):
    """Return ``domain`` in prefix form with explicit ``&`` operators.

    Raises :class:`BadRequest` on unknown tokens and on operators that lack
    operands (a dangling ``|`` would otherwise OR past the forced domain).
    """
    if not domain:
        return []
    result = []
    expected = 1
    for token in domain:
        if expected == 0:
            result[0:0] = ["&"]
            expected = 1
        if isinstance(token, list | tuple):
            expected -= 1
            result.append(list(token))
        elif isinstance(token, str) and token in ("&", "|"):
            expected += 1
            result.append(token)
        elif isinstance(token, str) and token == "!":
            result.append(token)
        else:
            raise BadRequest(_lt("Unknown token in the domain"), name="invalid_domain")
    if expected != 0:
        raise BadRequest(
            _lt("A domain operator lacks its operands"), name="invalid_domain"
        )
    return result


def and_domains(*domains):
    """AND normalized domains structurally: ``['&', *a, *b]``.

    Each operand is a complete prefix expression, so the result keeps every
    operand's meaning whatever the others contain.
    """
    parts = [normalize(d) for d in domains if d]
    if not parts:
        return []
    result = parts[-1]
    for part in reversed(parts[:-1]):
        result = ["&", *part, *result]
    return result


def _check_scalar(value):
    if not isinstance(value, SCALAR_TYPES):
        raise BadRequest(_lt("Domain values must be literals"), name="invalid_domain")
    if isinstance(value, str) and len(value) > 4096:
        raise BadRequest(_lt("A domain value is too long"), name="invalid_domain")
    problem = value_problem(value)
    if problem:
        raise BadRequest(
            _lt("A domain value %(problem)s", problem=problem), name="invalid_domain"
        )


def _decode_relation_value(value, operator, codec, label):
    def one(item):
        if item is False or item is None:
            if operator in ("=", "!="):
                return False
        decoded = codec.decode(item)
        if decoded is None:
            raise _field_error(
                _lt("Invalid id in the domain for '%(field)s'", field=label),
                label,
                name="invalid_id",
            )
        return decoded

    if operator in ("in", "not in"):
        if not isinstance(value, list | tuple):
            raise BadRequest(
                _lt("Operator '%(operator)s' needs a list", operator=operator),
                name="invalid_domain",
            )
        return [one(item) for item in value]
    return one(value)


def related_spec(label, related):
    """The field spec of a dotted leaf ``<alias>.<sub>``, or ``None``.

    ``related`` maps the aliases of exposed relational fields to their specs;
    ``<sub>`` must be one of the field's configured related fields (by its
    client-facing name, which is its name on the comodel) that the ORM can
    search. The spec returned names the ORM path ``<field>.<sub>``.
    """
    head, _dot, sub = label.partition(".")
    fspec = (related or {}).get(head)
    if fspec is None or not sub or "." in sub:
        return None
    for subspec in fspec.get("related") or ():
        if subspec["name"] == sub and subspec.get("searchable", True):
            return {
                "name": f"{fspec['name']}.{sub}",
                "type": subspec["type"],
                "relation": subspec.get("relation"),
            }
    return None


def _field_error(message, label, name="invalid_field"):
    """A 400 that names the client's field in its data too."""
    return BadRequest(message, name=name, data={"field": label})


def _term(token, searchable, codec_for, model, related=None):
    """Check one ``[field, operator, value]`` term; return it in ORM terms."""
    if len(token) != 3:
        raise BadRequest(_lt("Domain terms have three items"), name="invalid_domain")
    label, operator, value = token
    if not isinstance(label, str) or not isinstance(operator, str):
        raise BadRequest(_lt("Invalid domain term"), name="invalid_domain")
    operator = operator.lower()
    if operator not in TERM_OPERATORS:
        raise BadRequest(
            _lt("Operator '%(operator)s' is not allowed", operator=operator),
            name="invalid_domain",
        )
    if label == "id":
        spec = {"name": "id", "type": "id", "relation": None}
    elif "." in label:
        spec = related_spec(label, related)
        if spec is None:
            raise _field_error(
                _lt(
                    "Field '%(field)s' is not a related field of this API that "
                    "can be searched",
                    field=label,
                ),
                label,
            )
    else:
        spec = searchable.get(label)
    if spec is None:
        raise _field_error(
            _lt("Field '%(field)s' is not searchable on this API", field=label), label
        )
    value = _check_value(value, operator)
    _check_type(spec, operator, value, label)
    ftype = spec["type"]
    codec = codec_for(model if ftype == "id" else spec["relation"])
    comparison = operator in ("<", "<=", ">", ">=")
    if ftype == "id" and not codec.obfuscate and comparison:
        # Plain ids are ordered numbers; obfuscated ones are not.
        value = 0 if value == 0 else _decode_relation_value(value, "=", codec, label)
    elif ftype == "id" or ftype in RELATIONAL_TYPES:
        if operator not in RELATION_OPERATORS:
            raise _field_error(
                _lt(
                    "Operator '%(operator)s' is not allowed on '%(field)s'",
                    operator=operator,
                    field=label,
                ),
                label,
                name="invalid_domain",
            )
        value = _decode_relation_value(value, operator, codec, label)
    return [spec["name"], operator, value]


TEXT = ("char", "text", "html")
NUMBER = ("integer", "float", "monetary")
TEMPORAL = ("date", "datetime")
ORDERED = ("<", "<=", ">", ">=")
LIKE = ("like", "ilike", "not like", "not ilike", "=like", "=ilike")


def _check_type(spec, operator, value, label):
    """Refuse values the field's SQL type cannot compare with.

    Without this, ``("name", "<", true)`` would reach PostgreSQL as a
    varchar-to-boolean comparison and fail as a server error.
    """
    ftype = spec["type"]
    items = value if isinstance(value, list) else [value]

    def refuse(message):
        raise _field_error(message, label, name="invalid_domain")

    if ftype in ("id", "many2one", "one2many", "many2many"):
        return
    for item in items:
        if item is False or item is None:
            if operator not in ("=", "!=", "in", "not in"):
                refuse(
                    _lt(
                        "Field '%(field)s' compares with false only through = and !=",
                        field=label,
                    )
                )
            continue
        if ftype in TEXT or ftype == "selection":
            if not isinstance(item, str):
                refuse(_lt("Field '%(field)s' takes text values", field=label))
        elif ftype in NUMBER:
            if isinstance(item, bool) or not isinstance(item, int | float):
                refuse(_lt("Field '%(field)s' takes numbers", field=label))
        elif ftype == "boolean":
            if not isinstance(item, bool):
                refuse(_lt("Field '%(field)s' takes true or false", field=label))
        elif ftype in TEMPORAL:
            if not isinstance(item, str) or not _is_temporal(item):
                refuse(
                    _lt(
                        "Field '%(field)s' takes real dates as YYYY-MM-DD[ HH:MM:SS]",
                        field=label,
                    )
                )
        else:
            refuse(_lt("Field '%(field)s' cannot be searched", field=label))
    if operator in LIKE and ftype not in TEXT:
        refuse(
            _lt(
                "Field '%(field)s' does not support '%(operator)s'",
                field=label,
                operator=operator,
            )
        )
    if operator in ORDERED and ftype not in (*TEXT, *NUMBER, *TEMPORAL):
        refuse(
            _lt(
                "Field '%(field)s' does not support '%(operator)s'",
                field=label,
                operator=operator,
            )
        )


def _is_temporal(text):
    if not _TEMPORAL_RE.match(text):
        return False
    try:
        if len(text) == 10:
            datetime.date.fromisoformat(text)
        else:
            datetime.datetime.strptime(text.replace("T", " "), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return False
    return True


def _check_value(value, operator):
    many = operator in ("in", "not in")
    if isinstance(value, list | tuple):
        if not many:
            raise BadRequest(
                _lt("Operator '%(operator)s' takes a single value", operator=operator),
                name="invalid_domain",
            )
        if len(value) > MAX_IN_VALUES:
            raise BadRequest(
                _lt("Too many values in the domain"), name="invalid_domain"
            )
        for item in value:
            _check_scalar(item)
        return list(value)
    if many:
        raise BadRequest(
            _lt("Operator '%(operator)s' needs a list", operator=operator),
            name="invalid_domain",
        )
    _check_scalar(value)
    return value


def validate(domain, searchable, codec_for, model, related=None):
    """Check a client domain and translate it to ORM terms.

    ``searchable`` maps client-facing names to field specs (``name``,
    ``type``, ``relation``); ``id`` is always searchable. ``related`` maps
    the aliases of exposed relational fields to their specs, whose configured
    related fields a leaf may name as ``<alias>.<sub>`` (see
    :func:`related_spec`); nothing else may be dotted. ``codec_for(model)``
    returns the :class:`~.hashid.IdCodec` used to decode ids of a model on
    relational fields, and ``model`` names the API's own model for ``id``.
    Returns a normalized domain in real field names with decoded ids.
    """
    domain = normalize(domain)
    leaves = sum(1 for token in domain if not isinstance(token, str))
    if leaves > MAX_LEAVES:
        raise BadRequest(
            _lt("The domain has more than %(count)s terms", count=MAX_LEAVES),
            name="invalid_domain",
        )
    return [
        token
        if isinstance(token, str)
        else _term(token, searchable, codec_for, model, related)
        for token in domain
    ]


def check_forced_domain(text, field_names):
    """Validate an admin's forced domain at configuration time.

    Returns the normalized domain. Only the first segment of a dotted path is
    checked here; the ORM checks the rest when the API first runs it.
    """
    domain = normalize(parse_literal(text or "[]", max_chars=65536))
    for token in domain:
        if isinstance(token, str):
            continue
        if len(token) != 3 or not isinstance(token[0], str | int):
            raise BadRequest(
                _lt("Domain terms have three items"), name="invalid_domain"
            )
        if isinstance(token[0], int):
            # Odoo's TRUE_LEAF / FALSE_LEAF, e.g. (1, '=', 1)
            continue
        head = token[0].split(".", 1)[0]
        if head not in field_names:
            raise BadRequest(
                _lt("Unknown field '%(field)s' in the domain", field=head),
                name="invalid_field",
            )
    return domain


def field_heads(domain):
    """The first segments of the field paths a (normalized) domain tests."""
    return {
        token[0].split(".", 1)[0]
        for token in domain
        if not isinstance(token, str) and isinstance(token[0], str)
    }
