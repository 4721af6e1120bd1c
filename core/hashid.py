"""Hashids codec: one per API secret salt and model.

The salt mixes the API's secret with the model name, so an id obfuscated for
one model never decodes for another, and ids of one API mean nothing to
another API. Decoding is strict: a value decodes only if re-encoding it gives
the same string back, and it must hold exactly one number in the id range.
"""

from hashids import Hashids

MAX_ID = 2**31 - 1  # PostgreSQL ``integer`` primary keys
MAX_TEXT_ID = 64  # longer inputs are refused before any work is done


class IdCodec:
    """Encode and decode record ids for one API and one model.

    With ``obfuscate`` false the codec is the identity on positive integers
    (strings of digits are accepted, since they arrive in URL paths).
    ``decode`` returns ``None`` for anything that is not a valid id; callers
    choose the error (404 for a path id, 400 for a body value).
    """

    __slots__ = ("obfuscate", "_hashids")

    def __init__(self, obfuscate=False, salt="", model="", min_length=0):
        self.obfuscate = bool(obfuscate)
        self._hashids = None
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
        return self._hashids.encode(record_id)

    def decode(self, value):
        if self.obfuscate:
            return self._decode_hashid(value)
        return self._decode_plain(value)

    def _decode_hashid(self, value):
        # A raw integer is refused when obfuscation is on: accepting it would
        # reopen the enumeration the API owner turned obfuscation on to stop.
        if not isinstance(value, str) or not value or len(value) > MAX_TEXT_ID:
            return None
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
