import pytest

from core.hashid import MAX_ID, IdCodec


def test_round_trip_and_min_length():
    codec = IdCodec(True, "salt", "res.partner", 8)
    for number in (1, 2, 42, 10**6, MAX_ID):
        text = codec.encode(number)
        assert isinstance(text, str) and len(text) >= 8
        assert codec.decode(text) == number


def test_model_and_salt_separate_ids():
    partner = IdCodec(True, "salt", "res.partner", 5)
    country = IdCodec(True, "salt", "res.country", 5)
    other_api = IdCodec(True, "other", "res.partner", 5)
    text = partner.encode(7)
    assert text != country.encode(7)
    assert country.decode(text) != 7
    assert other_api.decode(text) != 7


def test_raw_integers_refused_when_obfuscated():
    codec = IdCodec(True, "salt", "res.partner", 5)
    assert codec.decode(7) is None
    assert codec.decode(True) is None
    assert codec.decode(None) is None


@pytest.mark.parametrize("value", ["", "x" * 10_000, "!!!!", "abc def"])
def test_garbage_refused(value):
    assert IdCodec(True, "salt", "m.m", 5).decode(value) is None


def test_multi_value_and_out_of_range_refused():
    from hashids import Hashids

    raw = Hashids(salt="salt:m.m", min_length=5)
    assert IdCodec(True, "salt", "m.m", 5).decode(raw.encode(1, 2)) is None
    assert IdCodec(True, "salt", "m.m", 5).decode(raw.encode(0)) is None
    assert IdCodec(True, "salt", "m.m", 5).decode(raw.encode(2**31)) is None


def test_non_canonical_form_refused():
    codec = IdCodec(True, "salt", "m.m", 0)
    from hashids import Hashids

    padded = Hashids(salt="salt:m.m", min_length=12).encode(5)
    # Decodes to 5 with the raw library, but is not this codec's spelling.
    assert codec.decode(padded) is None


def test_plain_codec():
    codec = IdCodec(False)
    assert codec.encode(5) == 5
    assert codec.decode(5) == 5
    assert codec.decode("5") == 5
    for bad in (
        0,
        -1,
        2**31,
        "0",
        "2147483648",
        "1e3",
        " 5",
        "٣",
        True,
        5.0,
        [5],
        "9" * 10_000,
    ):
        assert codec.decode(bad) is None, bad


def test_obfuscating_codec_needs_salt():
    with pytest.raises(ValueError):
        IdCodec(True, "", "m.m")
    with pytest.raises(TypeError):
        IdCodec(False).encode("1")


def test_shared_codecs_memoize_and_stay_correct():
    from core.hashid import MEMO_SIZE, codec

    first = codec(True, "salt", "m.m", 5)
    assert codec(True, "salt", "m.m", 5) is first
    assert codec(True, "other", "m.m", 5) is not first
    values = [first.encode(n) for n in range(1, MEMO_SIZE + 10)]
    assert first.decode(values[-1]) == MEMO_SIZE + 9
    assert first.decode(values[0]) == 1
    assert first.decode("!!") is None and first.decode("!!") is None
    fresh = IdCodec(True, "salt", "m.m", 5)
    assert [fresh.encode(n) for n in (1, 2, 3)] == values[:3]
