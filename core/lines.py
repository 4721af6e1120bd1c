"""Lines of a one2many written with their header (contract: Nested writes).

A one2many field spec with ``lines`` (field specs of the comodel) takes, on
create, a list of lines, and on update, changes of lines::

    {"<alias>": [{...}, {...}]}
    {"<alias>": {"add": [{...}], "update": [{"id": <line id>, ...}],
                 "remove": [<line id>, ...]}}

Each line is converted like a record (whitelist, aliases, ids of their own
model) into Odoo's x2many commands. An error names the line by its path in
the body (``data.path``: ``child_ids[2].email``, ``child_ids.update[0].id``).
Whether update and remove ids are lines of the header, and visible, is the
Odoo layer's question: it has the database.
"""

from .exceptions import BadRequest
from .messages import _lt
from .serializer import MAX_BULK, field_in

# The values of odoo.fields.Command (core never imports Odoo).
CREATE, UPDATE, DELETE = 0, 1, 2
CHANGES = ("add", "update", "remove")


def lines_in(fspec, value, codec_for, creating):
    """The x2many commands of a lines field's client value."""
    alias = fspec["alias"]
    if creating:
        if not isinstance(value, list):
            raise BadRequest(
                _lt("Field '%(field)s' takes a list of lines", field=alias),
                name="invalid_value",
            ).at_path(alias)
        _check_count(alias, len(value))
        return [
            (CREATE, 0, line_in(fspec, item, codec_for, f"{alias}[{index}]"))
            for index, item in enumerate(value)
        ]
    if not isinstance(value, dict) or not set(value) <= set(CHANGES):
        raise BadRequest(
            _lt(
                "Field '%(field)s' takes an object of 'add', 'update' and "
                "'remove' lists",
                field=alias,
            ),
            name="invalid_value",
        ).at_path(alias)
    changes = {}
    for key in CHANGES:
        items = value.get(key, [])
        if not isinstance(items, list):
            path = f"{alias}.{key}"
            raise BadRequest(
                _lt("'%(key)s' takes a list", key=key), name="invalid_value"
            ).at_path(path)
        changes[key] = items
    _check_count(alias, sum(len(items) for items in changes.values()))
    commands = [
        (CREATE, 0, line_in(fspec, item, codec_for, f"{alias}.add[{index}]"))
        for index, item in enumerate(changes["add"])
    ]
    codec = codec_for(fspec["relation"])
    seen = set()
    for index, item in enumerate(changes["update"]):
        path = f"{alias}.update[{index}]"
        if not isinstance(item, dict):
            raise _not_an_object(path)
        values = dict(item)
        rid = _line_id(codec, values.pop("id", None), f"{path}.id", seen)
        commands.append((UPDATE, rid, line_in(fspec, values, codec_for, path)))
    for index, raw in enumerate(changes["remove"]):
        rid = _line_id(codec, raw, f"{alias}.remove[{index}]", seen)
        commands.append((DELETE, rid, 0))
    return commands


def line_in(fspec, payload, codec_for, path):
    """ORM values of one line, every error named by its ``path``."""
    if not isinstance(payload, dict):
        raise _not_an_object(path)
    by_alias = {line["alias"]: line for line in fspec["lines"]}
    vals = {}
    for key, value in payload.items():
        try:
            name, converted = field_in(by_alias, key, value, codec_for)
        except BadRequest as error:
            error.at_path(f"{path}.{key}")
            raise
        vals[name] = converted
    return vals


def command_paths(alias, commands, creating):
    """The body path of each command :func:`lines_in` returned, in order."""
    if creating:
        return [f"{alias}[{index}]" for index in range(len(commands))]
    counts = dict.fromkeys(CHANGES, 0)
    paths = []
    for command in commands:
        key = CHANGES[command[0]]
        paths.append(f"{alias}.{key}[{counts[key]}]")
        counts[key] += 1
    return paths


def _check_count(alias, count):
    if count > MAX_BULK:
        raise BadRequest(
            _lt("At most %(count)s lines per request", count=MAX_BULK),
            name="invalid_body",
        ).at_path(alias)


def _not_an_object(path):
    return BadRequest(
        _lt("Each line must be a JSON object"), name="invalid_body"
    ).at_path(path)


def _line_id(codec, raw, path, seen):
    rid = codec.decode(raw) if raw is not None else None
    if rid is None:
        raise BadRequest(_lt("Invalid line id"), name="invalid_id").at_path(path)
    if rid in seen:
        raise BadRequest(
            _lt("The same line appears twice"), name="invalid_body"
        ).at_path(path)
    seen.add(rid)
    return rid
