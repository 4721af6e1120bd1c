"""Values a client sends that PostgreSQL, UTF-8 or Python cannot hold.

NUL characters and lone surrogates survive JSON decoding but fail when
stored or encoded; non-finite numbers (``1e400`` parses as infinity) fail
when compared or stored. Each is the client's 400, found at the boundary
instead of deep in the ORM as a 500.
"""

import math

from .exceptions import BadRequest
from .messages import _lt

MAX_INTEGER = 2**63 - 1
# Beyond this, Odoo's float rounding overflows and digits mean nothing.
MAX_FLOAT = 1e15


def text_problem(text):
    """What makes ``text`` unstorable, or ``None``."""
    if "\x00" in text:
        return _lt("holds a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _lt("holds an invalid character (a lone surrogate)")
    return None


def number_problem(value):
    """What makes a number unstorable, or ``None``."""
    if isinstance(value, float) and not math.isfinite(value):
        return _lt("is not a finite number")
    if isinstance(value, float) and abs(value) > MAX_FLOAT:
        return _lt("is out of range")
    if isinstance(value, int) and not isinstance(value, bool):
        if not -MAX_INTEGER <= value <= MAX_INTEGER:
            return _lt("is out of range")
    return None


def value_problem(value):
    """What makes a scalar unstorable, or ``None``."""
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, int | float):
        return number_problem(value)
    return None


def check_json(value, label=None, name="invalid_value"):
    """Refuse a decoded JSON value holding an unstorable text or number
    anywhere, keys included (iteratively: no recursion to exhaust).

    ``label`` names the value in the message (a :func:`_lt` message; by
    default "The body")."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        else:
            problem = value_problem(item)
            if problem:
                raise BadRequest(
                    _lt(
                        "%(subject)s %(problem)s",
                        subject=label or _lt("The body"),
                        problem=problem,
                    ),
                    name=name,
                )
    return value
