"""Encoding of ids inside RPC results, per the method's response encoding.

The Odoo layer first turns recordsets into lists of ids of their model (and
obfuscates them); this module handles plain ids under dict keys:

- ``none``: nothing is encoded;
- ``manual``: the configured keys hold ids of the API's model (``*``: every
  key, for answers whose keys the client chooses);
- ``suffix``: ``id``, and keys ending in ``_id`` or ``_ids``;
- ``model``: ``id``, and keys that are relational fields of the API's model;
  a bare id, list of ids or ``(id, name)`` pair is taken as the API's model's.

``relation_of(key)`` gives the comodel of a key (or ``None``); ids of keys
without a known comodel are encoded with the API's model.
"""

from .exceptions import BadRequest
from .messages import _lt

MAX_ARGS = 32


def check_call(body):
    """Validate an RPC body and return ``(args, kwargs)``."""
    if body is None:
        return [], {}
    if not isinstance(body, dict):
        raise BadRequest(
            _lt('The body is {"args": [...], "kwargs": {...}}'), name="invalid_body"
        )
    unknown = set(body) - {"args", "kwargs"}
    if unknown:
        raise BadRequest(
            _lt("Unknown key '%(key)s' in the body", key=sorted(unknown)[0]),
            name="invalid_body",
        )
    args = body.get("args", [])
    kwargs = body.get("kwargs", {})
    if not isinstance(args, list) or len(args) > MAX_ARGS:
        raise BadRequest(_lt("'args' must be a list"), name="invalid_body")
    if not isinstance(kwargs, dict) or len(kwargs) > MAX_ARGS:
        raise BadRequest(_lt("'kwargs' must be an object"), name="invalid_body")
    for key in kwargs:
        if not key.isidentifier() or key.startswith("_") or key == "context":
            raise BadRequest(
                _lt("Keyword '%(key)s' is not accepted", key=key),
                name="invalid_body",
            )
    return args, kwargs


def _encode_ids(value, codec):
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return codec.encode(value) if value > 0 else value
    if isinstance(value, list | tuple):
        if len(value) == 2 and isinstance(value[0], int) and isinstance(value[1], str):
            # many2one pair (id, display name)
            return [codec.encode(value[0]), value[1]]
        return [_encode_ids(item, codec) for item in value]
    return value


def encode_result(value, encoding, model, codec_for, relation_of, keys=()):
    if encoding == "none" or not codec_for(model).obfuscate:
        return value

    def target(key):
        if key == "id":
            return model
        if encoding == "manual":
            return model if key in keys or "*" in keys else None
        if encoding == "suffix":
            if key.endswith("_id") or key.endswith("_ids"):
                return relation_of(key) or model
            return None
        return relation_of(key)

    def walk(item):
        if isinstance(item, dict):
            out = {}
            for key, child in item.items():
                comodel = target(key) if isinstance(key, str) else None
                out[key] = (
                    _encode_ids(child, codec_for(comodel)) if comodel else walk(child)
                )
            return out
        if isinstance(item, list | tuple):
            return [walk(child) for child in item]
        return item

    if encoding == "model" and _is_ids(value):
        return _encode_ids(value, codec_for(model))
    return walk(value)


def _is_ids(value):
    def is_id(item):
        return isinstance(item, int) and not isinstance(item, bool)

    if is_id(value):
        return True
    if isinstance(value, list | tuple) and value:
        pair = len(value) == 2 and is_id(value[0]) and isinstance(value[1], str)
        return pair or all(is_id(item) for item in value)
    return False
