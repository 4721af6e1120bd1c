"""Hashids codec: one per API secret salt and model.

The salt mixes the API's secret with the model name, so an id obfuscated for
one model never decodes for another, and ids of one API mean nothing to
another API. Decoding is strict: a value decodes only if re-encoding it gives
the same string back, and it must hold exactly one number in the id range.
"""

import functools

from hashids import Hashids

MAX_ID = 2**31 - 1  # PostgreSQL ``integer`` primary keys
MAX_TEXT_ID = 64  # longer inputs are refused before any work is done
MEMO_SIZE = 65536  # per codec; the hashids algorithm is costly in pure Python


class IdCodec:
    """Encode and decode record ids for one API and one model.

    With ``obfuscate`` false the codec is the identity on positive integers
    (strings of digits are accepted, since they arrive in URL paths).
    ``decode`` returns ``None`` for anything that is not a valid id; callers
    choose the error (404 for a path id, 400 for a body value).
    """

    __slots__ = ("obfuscate", "_hashids", "_encoded", "_decoded")

    def __init__(self, obfuscate=False, salt="", model="", min_length=0):
        self.obfuscate = bool(obfuscate)
        self._hashids = None
        # Encodings never change for a given salt, so they are memoized;
        # the memo is bounded and simply starts afresh when full.
        self._encoded = {}
        self._decoded = {}
        if self.obfuscate:
            if not salt:
                raise ValueError("an obfuscating codec needs a secret salt")
            self._hashids = Hashids(
                salt=f"{salt}:{model}", min_length=max(0, int(min_length or 0))
            )

    def encode(self, record_id):
        if not isinstance(record_id, int) or isinstance(record_id, bool):
            raise TypeError("record ids are integers")
        if not self.obfuscate:
            return record_id
        text = self._encoded.get(record_id)
        if text is None:
            if len(self._encoded) >= MEMO_SIZE:
                self._encoded = {}
            text = self._encoded[record_id] = self._hashids.encode(record_id)
        return text

    def decode(self, value):
        if self.obfuscate:
            return self._decode_hashid(value)
        return self._decode_plain(value)

    def _decode_hashid(self, value):
        # A raw integer is refused when obfuscation is on: accepting it would
        # reopen the enumeration the API owner turned obfuscation on to stop.
        if not isinstance(value, str) or not value or len(value) > MAX_TEXT_ID:
            return None
        if value in self._decoded:
            return self._decoded[value]
        number = self._decode_new(value)
        if number is not None:
            if len(self._decoded) >= MEMO_SIZE:
                self._decoded = {}
            self._decoded[value] = number
        return number

    def _decode_new(self, value):
        numbers = self._hashids.decode(value)
        if len(numbers) != 1:
            return None
        number = numbers[0]
        if not 0 < number <= MAX_ID:
            return None
        if self._hashids.encode(number) != value:
            return None
        return number

    @staticmethod
    def _decode_plain(value):
        if isinstance(value, bool):
            return None
        if isinstance(value, str):
            if not value.isascii() or not value.isdigit() or len(value) > 10:
                return None
            value = int(value)
        if not isinstance(value, int):
            return None
        return value if 0 < value <= MAX_ID else None


@functools.lru_cache(maxsize=512)
def codec(obfuscate, salt, model, min_length):
    """The shared codec of an API salt and a model (cached per process)."""
    return IdCodec(obfuscate, salt, model, min_length)
