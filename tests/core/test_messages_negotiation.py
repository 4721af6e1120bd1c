"""Error messages in the client's language (Accept-Language)."""

from core.exceptions import NotFound, render_error
from core.messages import negotiate_language

INSTALLED = ("en_US", "fr_FR", "fr_BE", "de_DE")


def test_the_best_installed_language_is_chosen():
    assert negotiate_language("fr-BE,fr;q=0.9", INSTALLED) == "fr_BE"
    assert negotiate_language("fr-CA, de;q=0.5", INSTALLED) == "fr_FR"
    assert negotiate_language("de;q=0.3, fr;q=0.8", INSTALLED) == "fr_FR"
    assert negotiate_language("nl, *;q=0.1", INSTALLED) is None
    assert negotiate_language("", INSTALLED) is None
    assert negotiate_language(None, INSTALLED) is None
    assert negotiate_language("fr;q=0, de", INSTALLED) == "de_DE"
    assert negotiate_language("x" * 5000, INSTALLED) is None
    assert negotiate_language("fr;q=abc", INSTALLED) is None


def test_render_error_translates_the_envelope_message_only():
    french = {"Record not found": "Enregistrement introuvable"}.get
    status, _headers, body = render_error(NotFound(), gettext=french)
    assert (status, body["error"]["message"]) == (404, "Enregistrement introuvable")
    _status, _headers, oauth = render_error(NotFound(), style="oauth", gettext=french)
    # RFC 6749 5.2: error_description is ASCII, English.
    assert oauth["error_description"] == "Record not found"
