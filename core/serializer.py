"""Conversion between ORM values and the client-facing JSON of an API.

Specs are plain dicts built by the Odoo layer from an API's configuration:

``model spec``: ``{"model": str, "fields": [field spec, ...]}``

``field spec``: ``{"name", "alias", "type", "relation", "writable",
"searchable", "selection": [keys] or None, "related": [sub spec, ...],
"lines": [field spec, ...] or None}`` where a sub spec is ``{"name",
"type", "relation"}`` on the comodel, and ``lines`` (one2many fields written
with their lines) are field specs of the comodel.

``codec_for(model)`` returns the :class:`~.hashid.IdCodec` of a model.
"""

import base64
import binascii
import datetime
import re

from .exceptions import BadRequest
from .hygiene import MAX_FLOAT
from .messages import _lt

RELATIONAL = ("many2one", "one2many", "many2many")
TEXT_TYPES = ("char", "text", "html")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")
DATETIME_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.\d+)?Z?\Z")
MAX_BULK = 1000


def binary_url(api_id, model, encoded_id, field):
    return f"/api/image/{api_id}/{model}/{encoded_id}/{field}"


def scalar_out(ftype, value):
    """Render a non-relational ORM value; ``False`` means empty in Odoo."""
    if ftype == "boolean":
        return bool(value)
    if value is False or value is None:
        if ftype in TEXT_TYPES:
            return ""
        if ftype in ("integer", "float", "monetary"):
            return 0
        return None
    if isinstance(value, datetime.datetime):
        # isoformat pads the year to four digits, as the input format needs.
        return value.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("ascii")
    return value


def related_out(subspecs, row, codec_for):
    """Render a comodel row restricted to its configured sub fields."""
    out = {}
    for sub in subspecs:
        value = row.get(sub["name"], False)
        stype = sub["type"]
        if stype == "many2one":
            out[sub["name"]] = (
                [codec_for(sub["relation"]).encode(value[0]), value[1]] if value else []
            )
        elif stype in ("one2many", "many2many"):
            codec = codec_for(sub["relation"])
            out[sub["name"]] = [codec.encode(v) for v in (value or [])]
        elif stype == "binary":
            out[sub["name"]] = "" if not value else scalar_out(stype, value)
        else:
            out[sub["name"]] = scalar_out(stype, value)
    return out


class RecordWriter:
    """Render ORM ``read`` rows into client records for one model spec.

    ``related_rows`` maps a field name to ``{id: comodel row}``, read in batch
    by the caller for the fields that have related sub fields.
    """

    def __init__(self, spec, codec_for, api_id, binary_mode="url"):
        self.spec = spec
        self.codec_for = codec_for
        self.codec = codec_for(spec["model"])
        self.api_id = api_id
        self.binary_mode = binary_mode

    def record(self, row, selected, related_rows=None):
        related_rows = related_rows or {}
        encoded_id = self.codec.encode(row["id"])
        out = {"id": encoded_id}
        for fspec in selected:
            value = row.get(fspec["name"], False)
            out[fspec["alias"]] = self._field(fspec, value, encoded_id, related_rows)
        return out

    def _field(self, fspec, value, encoded_id, related_rows):
        ftype = fspec["type"]
        if ftype == "many2one":
            if not value:
                return []
            rid = value[0] if isinstance(value, list | tuple) else value
            encoded = self.codec_for(fspec["relation"]).encode(rid)
            if fspec.get("related"):
                sub = related_rows.get(fspec["name"], {}).get(rid, {})
                return [encoded, related_out(fspec["related"], sub, self.codec_for)]
            name = value[1] if isinstance(value, list | tuple) else ""
            return [encoded, name]
        if ftype in ("one2many", "many2many"):
            codec = self.codec_for(fspec["relation"])
            ids = value or []
            if fspec.get("lines") is not None:
                return self._lines(fspec, ids, related_rows.get(fspec["name"], {}))
            if fspec.get("related"):
                rows = related_rows.get(fspec["name"], {})
                result = []
                for rid in ids:
                    item = {"id": codec.encode(rid)}
                    item.update(
                        related_out(fspec["related"], rows.get(rid, {}), self.codec_for)
                    )
                    result.append(item)
                return result
            return [codec.encode(rid) for rid in ids]
        if ftype == "binary":
            if not value:
                return ""
            if self.binary_mode == "url":
                return binary_url(
                    self.api_id, self.spec["model"], encoded_id, fspec["name"]
                )
            return scalar_out(ftype, value)
        return scalar_out(ftype, value)

    def _lines(self, fspec, ids, rows):
        """The lines of a one2many with their line fields; ``rows`` are
        those the user may read (the others are left out)."""
        writer = RecordWriter(
            {"model": fspec["relation"], "fields": fspec["lines"]},
            self.codec_for,
            self.api_id,
        )
        return [writer.record(rows[rid], fspec["lines"]) for rid in ids if rid in rows]


def _decode_id(codec, value, label):
    decoded = codec.decode(value)
    if decoded is None:
        raise BadRequest(
            _lt("Invalid id for field '%(field)s'", field=label), name="invalid_id"
        )
    return decoded


def _invalid(message):
    return BadRequest(message, name="invalid_value")


def _many2one_in(fspec, value, codec_for):
    if value in (None, False, [], ""):
        return False
    return _decode_id(codec_for(fspec["relation"]), value, fspec["alias"])


def _x2many_in(fspec, value, codec_for):
    if value is None or value is False:
        value = []
    if not isinstance(value, list):
        raise _invalid(
            _lt("Field '%(field)s' takes a list of ids", field=fspec["alias"])
        )
    if any(isinstance(item, list | tuple | dict) for item in value):
        # x2many commands could create, edit or unlink records of the
        # comodel behind the API's back: only plain id lists are taken.
        raise _invalid(
            _lt(
                "Field '%(field)s' takes a list of ids, not commands",
                field=fspec["alias"],
            )
        )
    codec = codec_for(fspec["relation"])
    return [(6, 0, [_decode_id(codec, item, fspec["alias"]) for item in value])]


def _boolean_in(fspec, value):
    if not isinstance(value, bool):
        raise _invalid(
            _lt("Field '%(field)s' takes true or false", field=fspec["alias"])
        )
    return value


def _integer_in(fspec, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(_lt("Field '%(field)s' takes an integer", field=fspec["alias"]))
    if not -(2**31) <= value < 2**31:
        raise _invalid(_lt("Field '%(field)s' is out of range", field=fspec["alias"]))
    return value


def _float_in(fspec, value):
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid(_lt("Field '%(field)s' takes a number", field=fspec["alias"]))
    if value != value or value in (float("inf"), float("-inf")):
        raise _invalid(
            _lt("Field '%(field)s' takes a finite number", field=fspec["alias"])
        )
    if abs(value) > MAX_FLOAT:
        raise _invalid(_lt("Field '%(field)s' is out of range", field=fspec["alias"]))
    return value


def _text_in(fspec, value):
    if not isinstance(value, str):
        raise _invalid(_lt("Field '%(field)s' takes text", field=fspec["alias"]))
    if "\x00" in value:
        raise _invalid(
            _lt("Field '%(field)s' holds a NUL character", field=fspec["alias"])
        )
    return value


def _selection_in(fspec, value):
    allowed = fspec.get("selection") or []
    if value is False or value == "":
        return False
    if value not in allowed:
        raise _invalid(
            _lt(
                "Field '%(field)s' takes one of: %(values)s",
                field=fspec["alias"],
                values=", ".join(map(str, allowed)),
            )
        )
    return value


def _date_in(fspec, value):
    if not isinstance(value, str) or not DATE_RE.match(value):
        raise _invalid(
            _lt("Field '%(field)s' takes a date YYYY-MM-DD", field=fspec["alias"])
        )
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        raise _invalid(
            _lt("Field '%(field)s' is not a valid date", field=fspec["alias"])
        ) from None
    return value


def _datetime_in(fspec, value):
    match = isinstance(value, str) and DATETIME_RE.match(value)
    if not match:
        raise _invalid(
            _lt(
                "Field '%(field)s' takes a datetime YYYY-MM-DD HH:MM:SS (UTC)",
                field=fspec["alias"],
            )
        )
    text = f"{match.group(1)} {match.group(2)}"
    try:
        datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise _invalid(
            _lt("Field '%(field)s' is not a valid datetime", field=fspec["alias"])
        ) from None
    return text


def _binary_in(fspec, value):
    if value in ("", False):
        return False
    if not isinstance(value, str):
        raise _invalid(_lt("Field '%(field)s' takes base64 text", field=fspec["alias"]))
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid(
            _lt("Field '%(field)s' is not valid base64", field=fspec["alias"])
        ) from None
    return value


SCALAR_CONVERTERS = {
    "boolean": _boolean_in,
    "integer": _integer_in,
    "float": _float_in,
    "monetary": _float_in,
    "char": _text_in,
    "text": _text_in,
    "html": _text_in,
    "selection": _selection_in,
    "date": _date_in,
    "datetime": _datetime_in,
    "binary": _binary_in,
}


def _value_in(fspec, value, codec_for):
    ftype = fspec["type"]
    if ftype == "many2one":
        return _many2one_in(fspec, value, codec_for)
    if ftype in ("one2many", "many2many"):
        return _x2many_in(fspec, value, codec_for)
    converter = SCALAR_CONVERTERS.get(ftype)
    if converter is None:
        raise BadRequest(
            _lt(
                "Field '%(field)s' cannot be written through this API",
                field=fspec["alias"],
            ),
            name="invalid_field",
        )
    if value is None or (value is False and ftype != "boolean"):
        # null, and Odoo's own false, both mean "empty".
        if fspec.get("required"):
            raise _invalid(_lt("Field '%(field)s' is required", field=fspec["alias"]))
        return False
    return converter(fspec, value)


def field_in(by_alias, key, value, codec_for):
    """``(name, ORM value)`` of one client key among the fields ``by_alias``.

    Unknown and read-only keys are a :class:`BadRequest`.
    """
    fspec = by_alias.get(key)
    if fspec is None:
        raise BadRequest(
            _lt("Unknown field '%(field)s'", field=key), name="invalid_field"
        )
    if not fspec.get("writable"):
        raise BadRequest(
            _lt("Field '%(field)s' is not writable", field=key),
            name="readonly_field",
        )
    return fspec["name"], _value_in(fspec, value, codec_for)


def values_in(payload, spec, codec_for, creating=False):
    """Translate one client payload to ORM values for ``spec``'s model.

    Only exposed, writable fields are accepted, by their client-facing name.
    Anything else (``id``, ``context``, unknown or read-only fields) is a
    :class:`BadRequest`: nothing a client sends is silently dropped.
    One2many fields written with their lines (``lines`` in their spec) take
    a list of lines when ``creating``, else changes of lines (core.lines).
    """
    if not isinstance(payload, dict):
        raise BadRequest(_lt("Each record must be a JSON object"), name="invalid_body")
    by_alias = {f["alias"]: f for f in spec["fields"]}
    vals = {}
    for key, value in payload.items():
        fspec = by_alias.get(key)
        if fspec is not None and fspec.get("lines") is not None and fspec["writable"]:
            # Imported here: core.lines converts each line with field_in.
            from .lines import lines_in

            vals[fspec["name"]] = lines_in(fspec, value, codec_for, creating)
            continue
        name, converted = field_in(by_alias, key, value, codec_for)
        vals[name] = converted
    return vals


def decode_ids(values, codec, label="ids"):
    """Decode a client list of record ids; refuse duplicates and bad ids."""
    if not isinstance(values, list) or not values:
        raise BadRequest(
            _lt("'%(name)s' must be a non-empty list of ids", name=label),
            name="invalid_body",
        )
    if len(values) > MAX_BULK:
        raise BadRequest(
            _lt("At most %(count)s ids per request", count=MAX_BULK),
            name="invalid_body",
        )
    ids = []
    for index, value in enumerate(values):
        decoded = codec.decode(value)
        if decoded is None:
            raise BadRequest(
                _lt("Invalid id at index %(index)s", index=index),
                name="invalid_id",
                data={"index": index},
            )
        ids.append(decoded)
    if len(set(ids)) != len(ids):
        raise BadRequest(
            _lt("'%(name)s' holds the same id twice", name=label),
            name="invalid_body",
        )
    return ids
