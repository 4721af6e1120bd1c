"""Behind a lagging read replica: security state is the primary's at once,
and a write's consistency token reads it back.

Each test pauses the replica's replay (it then lags by whatever the primary
writes next), checks what clients get, and checks on the replica itself that
it really still held the old state (so that the test proves something).
"""

import threading
import time

import pytest
import requests
from conftest import REPEAT, TIMEOUT, token_hash

HEADER = "X-Consistency-Token"
# secure_api.consistency_wait_ms, by default.
WAIT = 1.0


def token_row_on_replica(cluster, token, column="coalesce(revoked, false)"):
    where = f"token_hash = '{token_hash(token)}'"
    return cluster.on_replica(f"SELECT {column} FROM secure_api_token WHERE {where}")


# --------------------------------------------------------------------------
# Tokens: their rows are read on the primary
# --------------------------------------------------------------------------


def test_a_revoked_opaque_token_is_refused_while_the_replica_lags(cluster, make_app):
    app = make_app()
    token = app.token()
    assert app.statuses("GET", token=token) == {200}
    cluster.pause()
    revoked = requests.post(
        f"{app.url}/api/oauth2/revoke",
        data={"token": token, "client_id": app.client_id, "client_secret": app.secret},
        timeout=TIMEOUT,
    )
    assert revoked.status_code == 200, revoked.text
    assert token_row_on_replica(cluster, token) == "f"
    assert app.statuses("GET", token=token) == {401}


def test_a_revoked_jwt_is_refused_while_the_replica_lags(cluster, admin, make_app):
    app = make_app()
    token = app.token("jwt")
    assert app.statuses("GET", token=token) == {200}
    row = admin.call(
        "secure.api.token",
        "search",
        [("app_id", "=", app.app_id), ("token_type", "=", "jwt")],
    )
    cluster.pause()
    admin.call("secure.api.token", "action_revoke", row)
    assert token_row_on_replica(cluster, token) == "f"
    assert app.statuses("GET", token=token) == {401}


@pytest.mark.parametrize("kind", ["opaque", "jwt"])
def test_a_token_issued_while_the_replica_lags_works_at_once(cluster, make_app, kind):
    app = make_app()
    app.statuses("GET", token=app.token(kind))  # every cache warm
    cluster.pause()
    token = app.token(kind)
    assert token_row_on_replica(cluster, token, "count(*)") == "0"
    assert app.statuses("GET", token=token) == {200}


# --------------------------------------------------------------------------
# Client apps, execution users, APIs: cached, and filled from the primary
# --------------------------------------------------------------------------


def test_an_archived_client_gets_no_token_and_its_tokens_stop(cluster, admin, make_app):
    app = make_app()
    token = app.token()
    assert app.statuses("GET", token=token) == {200}
    cluster.pause()
    admin.call("secure.api.client", "write", [app.app_id], {"active": False})
    assert (
        cluster.on_replica(
            f"SELECT active FROM secure_api_client WHERE id = {app.app_id}"
        )
        == "t"
    )
    assert app.statuses("GET", token=token) == {401}
    refused = app.request_token()
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"] == "invalid_client"


def test_a_removed_scope_is_refused_while_the_replica_lags(cluster, admin, make_app):
    app = make_app()
    token = app.token()
    record = app.call("POST", token=token, json={"name": "Scoped"})
    assert record.status_code == 201, record.text
    path = f"/{record.json()['result']['id']}"
    cluster.catch_up()
    assert app.statuses("GET", path, token=token) == {200}
    cluster.pause()
    admin.call("secure.api.client", "write", [app.app_id], {"scope_read": False})
    assert (
        cluster.on_replica(
            f"SELECT scope_read FROM secure_api_client WHERE id = {app.app_id}"
        )
        == "t"
    )
    assert app.statuses("GET", path, token=token) == {403}
    answer = app.call("GET", path, token=token).json()
    assert answer["error"]["data"]["name"] == "insufficient_scope"


def test_an_unpublished_api_answers_404_while_the_replica_lags(
    cluster, admin, make_app
):
    app = make_app()
    token = app.token()
    assert app.statuses("GET", token=token) == {200}
    cluster.pause()
    admin.call("secure.api", "action_deactivate", [app.api_id])
    assert (
        cluster.on_replica(f"SELECT state FROM secure_api WHERE id = {app.api_id}")
        == "active"
    )
    assert app.statuses("GET", token=token) == {404}


def test_a_removed_field_is_neither_read_nor_written_while_the_replica_lags(
    cluster, admin, make_app
):
    app = make_app()
    token = app.token()
    created = app.call("POST", token=token, json={"name": "Fields", "phone": "1"})
    assert created.status_code == 201, created.text
    path = f"/{created.json()['result']['id']}"
    cluster.catch_up()
    assert "phone" in app.call("GET", path, token=token).json()["result"]
    line = app.lines["phone"]
    cluster.pause()
    admin.call("secure.api.field", "unlink", [line])
    assert (
        cluster.on_replica(f"SELECT count(*) FROM secure_api_field WHERE id = {line}")
        == "1"
    )
    for _ in range(REPEAT):
        read = app.call("GET", path, token=token)
        assert read.status_code == 200, read.text
        assert "phone" not in read.json()["result"]
    written = app.call("PATCH", path, token=token, json={"phone": "2"})
    assert written.status_code == 400, written.text


def test_an_archived_execution_user_is_refused_while_the_replica_lags(
    cluster, admin, make_app
):
    app = make_app(own_user=True)
    token = app.token()
    assert app.statuses("GET", token=token) == {200}
    cluster.pause()
    admin.call("res.users", "write", [app.user_id], {"active": False})
    assert (
        cluster.on_replica(f"SELECT active FROM res_users WHERE id = {app.user_id}")
        == "t"
    )
    assert app.statuses("GET", token=token) == {401}
    assert app.request_token().status_code == 401


# --------------------------------------------------------------------------
# No cache keeps the replica's old state once it caught up
# --------------------------------------------------------------------------


def test_an_archived_client_stays_refused_after_the_replica_catches_up(
    cluster, admin, make_app
):
    app = make_app()
    token = app.token()
    assert app.statuses("GET", token=token) == {200}
    cluster.pause()
    admin.call("secure.api.client", "write", [app.app_id], {"active": False})
    # Requests during the lag fill the caches the write emptied.
    app.statuses("GET", token=token)
    cluster.resume()
    assert app.request_token().status_code == 401
    assert app.statuses("GET", token=token) == {401}


def test_an_unpublished_api_stays_404_after_the_replica_catches_up(
    cluster, admin, make_app
):
    app = make_app()
    token = app.token()
    assert app.statuses("GET", token=token) == {200}
    cluster.pause()
    admin.call("secure.api", "action_deactivate", [app.api_id])
    app.statuses("GET", token=token)
    cluster.resume()
    assert app.statuses("GET", token=token) == {404}
    assert app.statuses("POST", token=token, json={"name": "Nope"}) == {404}


# --------------------------------------------------------------------------
# Read-your-writes with the consistency token
# --------------------------------------------------------------------------


def timed(function):
    started = time.monotonic()
    result = function()
    return result, time.monotonic() - started


def test_a_created_record_is_read_back_with_its_token(cluster, make_app):
    app = make_app()
    token = app.token()
    cluster.pause()
    created = app.call("POST", token=token, json={"name": "Created in the lag"})
    assert created.status_code == 201, created.text
    consistency = created.headers[HEADER]
    path = f"/{created.json()['result']['id']}"
    # Without the token, reads stay on the replica, which has no such record.
    assert app.statuses("GET", path, token=token) == {404}
    read, elapsed = timed(
        lambda: app.call("GET", path, token=token, headers={HEADER: consistency})
    )
    assert read.status_code == 200, read.text
    assert read.json()["result"]["name"] == "Created in the lag"
    # It waited for the paused replica, then read on the primary.
    assert elapsed >= WAIT * 0.9


def test_an_update_is_read_back_with_its_token(cluster, make_app):
    app = make_app()
    token = app.token()
    created = app.call("POST", token=token, json={"name": "Before"})
    path = f"/{created.json()['result']['id']}"
    cluster.catch_up()
    cluster.pause()
    updated = app.call("PATCH", path, token=token, json={"name": "After"})
    assert updated.status_code == 200, updated.text
    consistency = updated.headers[HEADER]
    for _ in range(REPEAT):
        stale = app.call("GET", path, token=token)
        assert stale.json()["result"]["name"] == "Before"
    fresh = app.call("GET", path, token=token, params={"consistent_after": consistency})
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["result"]["name"] == "After"


def test_a_deleted_record_is_gone_with_its_token(cluster, make_app):
    app = make_app()
    token = app.token()
    created = app.call("POST", token=token, json={"name": "Deleted in the lag"})
    path = f"/{created.json()['result']['id']}"
    cluster.catch_up()
    cluster.pause()
    deleted = app.call("DELETE", path, token=token)
    assert deleted.status_code == 200, deleted.text
    consistency = deleted.headers[HEADER]
    assert app.statuses("GET", path, token=token) == {200}
    gone = app.call("GET", path, token=token, headers={HEADER: consistency})
    assert gone.status_code == 404, gone.text


def test_a_read_waits_for_the_replica_to_replay_its_write(cluster, make_app):
    app = make_app()
    token = app.token()
    cluster.pause()
    created = app.call("POST", token=token, json={"name": "Replayed"})
    consistency = created.headers[HEADER]
    path = f"/{created.json()['result']['id']}"
    resume = threading.Timer(0.2, cluster.resume, kwargs={"catch_up": False})
    resume.start()
    try:
        read, elapsed = timed(
            lambda: app.call("GET", path, token=token, headers={HEADER: consistency})
        )
    finally:
        resume.join()
    assert read.status_code == 200, read.text
    # Served once the replica replayed the write: after the resume, well
    # before the wait was over (when the primary would have answered).
    assert 0.15 <= elapsed < WAIT * 0.8, elapsed


def test_the_wait_is_a_setting(cluster, admin, make_app):
    app = make_app()
    token = app.token()
    admin.call(
        "ir.config_parameter", "set_param", "secure_api.consistency_wait_ms", "300"
    )
    try:
        cluster.pause()
        created = app.call("POST", token=token, json={"name": "Short wait"})
        path = f"/{created.json()['result']['id']}"
        read, elapsed = timed(
            lambda: app.call(
                "GET", path, token=token, headers={HEADER: created.headers[HEADER]}
            )
        )
        assert read.status_code == 200, read.text
        assert 0.27 <= elapsed < WAIT * 0.9, elapsed
    finally:
        cluster.resume()
        admin.call(
            "ir.config_parameter", "set_param", "secure_api.consistency_wait_ms", False
        )


def test_a_bad_consistency_token_is_400(make_app):
    app = make_app()
    token = app.token()
    for headers, params in (
        ({HEADER: "0/16B374D8"}, None),
        ({HEADER: "A" * 28}, None),
        (None, {"consistent_after": "not-a-token"}),
    ):
        answer = app.call("GET", token=token, headers=headers, params=params)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["data"]["name"] == "invalid_consistency_token"
