"""Aggregates: ``groupby``, ``measures`` and ``order`` parsed against an API's
exposed fields, and the groups rendered for the client.

``GET /api/<route>/aggregate?groupby=<alias>[:granularity],...&measures=
<alias>:<function>,...`` runs one ``_read_group`` of the ORM. Every name a
client sends is a client-facing alias, translated here to the ORM's specs
(``date:month``, ``amount:sum``); every refusal is a 400 whose data names the
parameter and the field.
"""

import re
from dataclasses import dataclass

from .exceptions import BadRequest
from .messages import _lt
from .serializer import scalar_out

GRANULARITIES = ("day", "week", "month", "quarter", "year")
# Odoo's own default for a date field grouped without a granularity.
DEFAULT_GRANULARITY = "month"
FUNCTIONS = ("sum", "avg", "min", "max", "count_distinct")
NUMERIC = ("integer", "float", "monetary")
TEMPORAL = ("date", "datetime")
RELATIONAL = ("many2one", "many2many")
# Types whose stored values group records (one2many has no column; binary
# and html values are no categories).
GROUPABLE = (
    "char",
    "text",
    "selection",
    "boolean",
    "integer",
    "float",
    "monetary",
    "date",
    "datetime",
    "many2one",
    "many2many",
)
# count_distinct counts values of a column: x2many fields have none here
# (a many2many would join its table and multiply the rows counted).
DISTINCT_COUNTABLE = tuple(t for t in GROUPABLE if t != "many2many") + ("html",)
MAX_GROUPBY = 3
MAX_MEASURES = 10
# The key of the number of records in each group.
COUNT = "count"
ORDER_ITEM = re.compile(
    r"^\s*([A-Za-z_][A-Za-z0-9_]*(?::[A-Za-z_]+)?)(?:\s+(asc|desc))?\s*\Z", re.I
)


@dataclass(frozen=True, slots=True)
class GroupBy:
    alias: str
    name: str
    type: str
    relation: str | None
    granularity: str | None

    @property
    def spec(self):
        """The ORM's group-by spec (``date:month``)."""
        return f"{self.name}:{self.granularity}" if self.granularity else self.name


@dataclass(frozen=True, slots=True)
class Measure:
    alias: str
    name: str
    type: str
    function: str

    @property
    def key(self):
        """Its key in a group of the answer (``amount:sum``)."""
        return f"{self.alias}:{self.function}"

    @property
    def spec(self):
        """The ORM's aggregate spec (``amount_total:sum``)."""
        return f"{self.name}:{self.function}"


def groupable(fspec):
    """Whether a field may group: exposed, searchable and stored, of a
    type whose values are categories."""
    return bool(
        fspec.get("searchable")
        and fspec.get("stored", True)
        and fspec["type"] in GROUPABLE
    )


def measurable(fspec, function):
    """Whether ``function`` may aggregate a field: numbers for ``sum``,
    ``avg``, ``min`` and ``max``; any stored column for ``count_distinct``."""
    if not fspec.get("stored", True):
        return False
    if function == "count_distinct":
        return fspec["type"] in DISTINCT_COUNTABLE
    return fspec["type"] in NUMERIC


def _refuse(message, parameter, field=None, name="invalid_parameter"):
    data = {"parameter": parameter}
    if field is not None:
        data["field"] = field
    return BadRequest(message, name=name, data=data)


def _items(value, parameter):
    """A comma-separated text or a JSON array of texts, as a list."""
    if value is None or value == "" or value == []:
        return []
    if isinstance(value, str):
        if len(value) > 1024:
            raise _refuse(_lt("'%(name)s' is too long", name=parameter), parameter)
        value = value.split(",")
    if not isinstance(value, list | tuple) or not all(
        isinstance(item, str) for item in value
    ):
        raise _refuse(
            _lt("'%(name)s' must be a comma-separated list", name=parameter),
            parameter,
        )
    items = [item.strip() for item in value]
    if any(not item for item in items):
        raise _refuse(
            _lt("'%(name)s' has an empty item", name=parameter),
            parameter,
        )
    return items


def _exposed(alias, fields, parameter):
    """The spec of an exposed field by its client-facing name."""
    if "." in alias:
        raise _refuse(
            _lt(
                "Field '%(field)s': '%(name)s' takes the API's own fields, "
                "not paths through relations",
                field=alias,
                name=parameter,
            ),
            parameter,
            alias,
            name="invalid_field",
        )
    fspec = next((f for f in fields if f["alias"] == alias), None)
    if fspec is None:
        raise _refuse(
            _lt("Field '%(field)s' is not exposed by this API", field=alias),
            parameter,
            alias,
            name="invalid_field",
        )
    return fspec


def parse_groupby(value, fields):
    """The :class:`GroupBy` items of ``groupby`` (at most :data:`MAX_GROUPBY`).

    ``fields`` are the exposed field specs of the model (``alias``, ``name``,
    ``type``, ``relation``, ``searchable``, ``stored``).
    """
    items = _items(value, "groupby")
    if len(items) > MAX_GROUPBY:
        raise _refuse(
            _lt(
                "At most %(count)s fields group an aggregate: '%(field)s' is one "
                "too many",
                count=MAX_GROUPBY,
                field=items[MAX_GROUPBY],
            ),
            "groupby",
            items[MAX_GROUPBY],
        )
    result = []
    for item in items:
        alias, _colon, granularity = item.partition(":")
        fspec = _exposed(alias, fields, "groupby")
        if alias == COUNT:
            raise _refuse(
                _lt(
                    "Field '%(field)s' cannot group: its name is the groups' count",
                    field=alias,
                ),
                "groupby",
                alias,
                name="invalid_field",
            )
        if not fspec.get("searchable"):
            raise _refuse(
                _lt(
                    "Field '%(field)s' is not searchable on this API: it cannot group",
                    field=alias,
                ),
                "groupby",
                alias,
                name="invalid_field",
            )
        if not groupable(fspec):
            raise _refuse(
                _lt("Field '%(field)s' cannot group records", field=alias),
                "groupby",
                alias,
                name="invalid_field",
            )
        if fspec["type"] in TEMPORAL:
            granularity = granularity or DEFAULT_GRANULARITY
            if granularity not in GRANULARITIES:
                raise _refuse(
                    _lt(
                        "Field '%(field)s' groups by day, week, month, quarter "
                        "or year, not '%(granularity)s'",
                        field=alias,
                        granularity=granularity,
                    ),
                    "groupby",
                    alias,
                )
        elif granularity:
            raise _refuse(
                _lt(
                    "Field '%(field)s' is not a date: it takes no granularity",
                    field=alias,
                ),
                "groupby",
                alias,
            )
        if any(other.alias == alias for other in result):
            raise _refuse(
                _lt("Field '%(field)s' groups twice", field=alias), "groupby", alias
            )
        result.append(
            GroupBy(
                alias,
                fspec["name"],
                fspec["type"],
                fspec.get("relation"),
                granularity or None,
            )
        )
    return result


def parse_measures(value, fields):
    """The :class:`Measure` items of ``measures`` (``<alias>:<function>``)."""
    items = list(dict.fromkeys(_items(value, "measures")))
    if len(items) > MAX_MEASURES:
        raise _refuse(_lt("At most %(count)s measures", count=MAX_MEASURES), "measures")
    result = []
    for item in items:
        alias, _colon, function = item.partition(":")
        fspec = _exposed(alias, fields, "measures")
        if function not in FUNCTIONS:
            raise _refuse(
                _lt(
                    "Measure '%(item)s': give the field and one of sum, avg, min, "
                    "max or count_distinct, as '%(field)s:sum'",
                    item=item,
                    field=alias,
                ),
                "measures",
                alias,
            )
        if not measurable(fspec, function):
            if function == "count_distinct":
                message = _lt("Field '%(field)s' has no values to count", field=alias)
            else:
                message = _lt(
                    "Field '%(field)s' is not a number: it has no %(function)s",
                    field=alias,
                    function=function,
                )
            raise _refuse(message, "measures", alias, name="invalid_field")
        result.append(Measure(alias, fspec["name"], fspec["type"], function))
    return result


def parse_order(value, groupbys, measures):
    """ORM order of the groups from ``<key> [asc|desc], ...`` over the
    group-by aliases, ``count`` and the measures' keys; ``None`` (Odoo's
    order: by the group-by values) when not given."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 512:
        raise _refuse(_lt("'order' must be text"), "order")
    terms = {groupby.alias: groupby.spec for groupby in groupbys}
    terms[COUNT] = "__count"
    terms.update({measure.key: measure.spec for measure in measures})
    items = []
    for part in value.split(","):
        match = ORDER_ITEM.match(part)
        if not match:
            raise _refuse(
                _lt("Invalid order item '%(item)s'", item=part.strip()), "order"
            )
        key, direction = match.group(1), (match.group(2) or "asc").lower()
        if key not in terms:
            raise _refuse(
                _lt(
                    "'%(field)s' is neither a group-by field, 'count' nor a "
                    "measure of this aggregate",
                    field=key,
                ),
                "order",
                key,
                name="invalid_field",
            )
        items.append(f"{terms[key]} {direction}")
    return ", ".join(items)


def _group_value(groupby, value, codec_for, names):
    if groupby.type in RELATIONAL:
        if not value:
            return []
        return [codec_for(groupby.relation).encode(value), names.get(value, "")]
    if groupby.type == "boolean":
        return bool(value)
    if value is False or value is None:
        # The group of the records without a value.
        return None
    return scalar_out(groupby.type, value)


def _measure_value(value):
    if value is False or value is None:
        return None
    return value


def render_groups(rows, groupbys, measures, codec_for, names):
    """The answer's groups from ``_read_group`` rows.

    Each row holds the group-by values (relations as ids, ``False`` when
    empty), the count, then the measures, in the order they were asked.
    ``names`` maps a relational group-by's alias to ``{id: display name}``.
    """
    groups = []
    width = len(groupbys)
    for row in rows:
        group = {
            groupby.alias: _group_value(
                groupby, row[index], codec_for, names.get(groupby.alias, {})
            )
            for index, groupby in enumerate(groupbys)
        }
        group[COUNT] = row[width] or 0
        for index, measure in enumerate(measures, start=width + 1):
            group[measure.key] = _measure_value(row[index])
        groups.append(group)
    return groups
