"""The pure parts of the pipeline: registry, request value, error mapping."""

import pytest

from core import operations, routing
from core.exceptions import (
    Conflict,
    Forbidden,
    InsufficientScope,
    InternalError,
    OAuthError,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
    is_retryable,
    render_error,
    to_api_error,
)
from core.request import ApiRequest


def test_every_generated_operation_has_a_scope_and_an_endpoint_shape():
    for name in operations.GENERATED:
        operation = operations.get(name)
        assert operation.scope in operations.SCOPES
        assert operation.path_suffix in ("", "/{id}", "/{id}/{method}", "/aggregate")
    # Every scope has its operation; aggregates go by the search scope.
    assert set(operations.GENERATED) == set(operations.SCOPES) | {"aggregate"}
    assert operations.get("aggregate").scope == "search"


def test_binary_is_governed_by_the_read_switch_and_scope():
    binary = operations.get("binary")
    assert (binary.switch, binary.scope, binary.generated) == ("read", "read", False)


def test_routes_come_from_the_registry():
    assert operations.for_route("record", "PUT").name == "update"
    assert operations.for_route("collection", "PUT") is None
    assert operations.methods_of("record") == (
        "DELETE",
        "GET",
        "HEAD",
        "OPTIONS",
        "PATCH",
        "PUT",
    )
    assert operations.methods_of("record", {"read"}) == ("GET", "HEAD", "OPTIONS")


def test_endpoint_values_follow_the_operation():
    assert operations.endpoint_values("rpc", "/api/x") == {
        "http_method": "POST",
        "path": "/api/x/{id}/{method}",
    }


def test_fixed_routes_are_recognized():
    assert routing.fixed_route("oauth2/token") == "token"
    assert routing.fixed_route("openapi.json") == "openapi"
    assert routing.fixed_route("image/1/res.partner/abc/image_128") == "binary"
    assert routing.fixed_route("partner/rest") is None
    assert routing.binary_parts("image/7/res.partner/abc/image_128") == (
        7,
        "res.partner",
        "abc",
        "image_128",
    )
    for bad in ("image/x/res.partner/1/f", "image/1/Res/1/f", "image/1/res.partner/1"):
        with pytest.raises(Exception) as info:
            routing.binary_parts(bad)
        assert info.value.status == 404


def test_request_value_is_immutable_and_parses_its_body_once():
    req = ApiRequest.build(
        "post",
        "x",
        headers={"Content-Type": "application/json"},
        body=b'{"a": 1}',
    )
    assert req.method == "POST" and req.media_type == "application/json"
    assert req.payload == ("json", {"a": 1})
    assert req.payload is req.payload
    with pytest.raises(AttributeError):
        req.method = "GET"


def test_form_request_value_gives_its_pairs():
    req = ApiRequest.build("GET", "x", form=[("limit", "5")])
    assert req.payload == ("form", [("limit", "5")])


def test_request_over_the_limit_is_413_naming_the_limit():
    req = ApiRequest.build("POST", "x", body_too_large=True)
    with pytest.raises(PayloadTooLarge) as caught:
        req.check_body_size(1024)
    assert caught.value.message == "The body is larger than 1024 bytes"


def test_request_within_the_limit_passes_the_size_check():
    ApiRequest.build("POST", "x", body=b"{}").check_body_size(1024)


def test_foreign_errors_map_by_class_name_without_importing_them():
    UserError = _foreign("odoo.exceptions", "UserError")  # noqa: N806
    AccessError = _foreign("odoo.exceptions", "AccessError", UserError)  # noqa: N806
    assert isinstance(to_api_error(AccessError("x")), Forbidden)
    assert isinstance(to_api_error(UserError("no")), Unprocessable)
    assert to_api_error(UserError("no")).message == "no"


def _foreign(module, name, *bases):
    klass = type(name, bases or (Exception,), {})
    klass.__module__ = module
    return klass


# psycopg2's hierarchy, by name, as the mapping sees it.
IntegrityError = _foreign("psycopg2", "IntegrityError")
UniqueViolation = _foreign("psycopg2.errors", "UniqueViolation", IntegrityError)
NotNullViolation = _foreign("psycopg2.errors", "NotNullViolation", IntegrityError)


def test_postgres_errors_map_to_their_statuses():
    unique = UniqueViolation()
    not_null = NotNullViolation()
    assert isinstance(to_api_error(unique), Conflict)
    assert isinstance(to_api_error(not_null), Unprocessable)
    assert to_api_error(not_null).status == 422


def test_unknown_errors_become_a_generic_500():
    assert isinstance(to_api_error(KeyError("SELECT secret")), InternalError)
    status, _headers, body = render_error(KeyError("SELECT secret"), "r1")
    assert status == 500 and "SELECT" not in str(body) and "r1" in str(body)


def test_unauthorized_builds_its_own_challenge():
    assert Unauthorized().headers["WWW-Authenticate"] == 'Bearer realm="secure_api"'
    invalid = Unauthorized("Invalid token", name="invalid_token")
    assert 'error="invalid_token"' in invalid.headers["WWW-Authenticate"]
    scope = InsufficientScope("delete")
    assert scope.status == 403 and 'scope="delete"' in scope.headers["WWW-Authenticate"]


def test_oauth_style_renders_rfc_6749_bodies():
    status, headers, body = render_error(
        OAuthError("invalid_scope", "too much"), "r", "oauth"
    )
    assert (status, body) == (
        400,
        {"error": "invalid_scope", "error_description": "too much"},
    )
    status, headers, body = render_error(TooManyRequests(9), "r", "oauth")
    assert status == 429 and headers["Retry-After"] == "9"
    assert body["error"] == "too_many_requests"
    status, _headers, body = render_error(RuntimeError("x"), "r7", "oauth")
    assert status == 500 and body["error"] == "server_error"
    assert "r7" in body["error_description"]
    status, _headers, body = render_error(PayloadTooLarge(), "r", "oauth")
    assert status == 413 and body["error"] == "invalid_request"


def test_only_concurrency_errors_are_retried():
    class Serialization(Exception):
        pgcode = "40001"

    assert is_retryable(Serialization())
    assert not is_retryable(UniqueViolation())


def test_if_match_compares_strongly_if_none_match_weakly():
    from core.sync import etag_matches

    assert etag_matches('W/"a"', '"a"') is True
    assert etag_matches('W/"a"', '"a"', strong=True) is False
    assert etag_matches('"b", "a"', '"a"', strong=True) is True
    assert etag_matches("*", None, strong=True) is False
    assert etag_matches(None, '"a"') is None
