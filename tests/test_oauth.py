import base64
import datetime
import json
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote_plus

import jwt
import requests

from odoo.tests import tagged

from ..core import tokens as core_tokens
from .common import SecureApiHttpCase

TOKEN = "/api/oauth2/token"


def basic(client_id, secret):
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@tagged("post_install", "-at_install")
class TestTokenServer(SecureApiHttpCase):
    def creds(self, **extra):
        data = {"client_id": self.client.client_id, "client_secret": self.secret}
        data.update(extra)
        return data

    def oauth_error(self, response, status, error):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.json()["error"], error, response.text)
        self.assertEqual(response.headers["Cache-Control"], "no-store")
        self.assertNotIn(self.secret, response.text)
        return response

    def token_count(self):
        self.env.invalidate_all()
        return self.env["secure.api.token"].sudo().search_count([])

    def test_success_headers_and_shape(self):
        before = self.token_count()
        response = self.request(
            "POST", TOKEN, data=self.creds(grant_type="client_credentials")
        )
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.headers["Cache-Control"], "no-store")
        self.assertEqual(response.headers["Pragma"], "no-cache")
        body = response.json()
        self.assertEqual(
            set(body), {"access_token", "token_type", "expires_in", "scope"}
        )
        self.assertEqual(body["token_type"], "Bearer")
        self.assertEqual(body["expires_in"], 1800)
        self.assertEqual(body["scope"], "create read update delete search rpc")
        self.assertGreaterEqual(len(body["access_token"]), 43)
        self.assertEqual(self.token_count(), before + 1)
        token = self.env["secure.api.token"].sudo().search([], order="id desc", limit=1)
        self.assertEqual(token.token_hash, core_tokens.hash_token(body["access_token"]))
        # grant_type may be absent, for compatibility; multipart works too.
        self.assertEqual(
            self.request("POST", TOKEN, data=self.creds()).status_code, 200
        )
        response = self.opener.post(
            self.base_url() + TOKEN,
            files={k: (None, v) for k, v in self.creds().items()},
        )
        self.assertEqual(response.status_code, 200, response.text)

    def test_refused_requests(self):
        before = self.token_count()
        response = self.request("GET", f"{TOKEN}?client_id={self.client.client_id}")
        self.oauth_error(response, 405, "invalid_request")
        self.assertEqual(response.headers["Allow"], "POST")
        self.oauth_error(
            self.request(
                "POST",
                f"{TOKEN}?client_secret={self.secret}",
                data={"client_id": self.client.client_id},
            ),
            400,
            "invalid_request",
        )
        self.oauth_error(
            self.request(
                "POST",
                TOKEN,
                data=self.creds(),
                headers=basic(self.client.client_id, self.secret),
            ),
            400,
            "invalid_request",
        )
        self.oauth_error(
            self.request(
                "POST",
                TOKEN,
                raw=f"client_id={self.client.client_id}&client_id=x&client_secret=y",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ),
            400,
            "invalid_request",
        )
        self.oauth_error(
            self.request("POST", TOKEN, data=self.creds(grant_type="password")),
            400,
            "unsupported_grant_type",
        )
        self.oauth_error(
            self.request("POST", TOKEN, data=self.creds(scope="read admin")),
            400,
            "invalid_scope",
        )
        reader = self.creds(
            client_id=self.reader_client.client_id,
            client_secret=self.reader_secret,
            scope="read delete",
        )
        self.oauth_error(self.request("POST", TOKEN, data=reader), 400, "invalid_scope")
        self.assertEqual(self.token_count(), before)

    def test_unknown_client_and_wrong_secret_look_alike(self):
        unknown = self.request(
            "POST", TOKEN, data={"client_id": "nobody", "client_secret": "x" * 43}
        )
        wrong = self.request("POST", TOKEN, data=self.creds(client_secret="x" * 43))
        self.oauth_error(unknown, 401, "invalid_client")
        self.oauth_error(wrong, 401, "invalid_client")
        self.assertEqual(unknown.json(), wrong.json())
        self.assertNotIn("WWW-Authenticate", wrong.headers)
        with_basic = self.request(
            "POST", TOKEN, headers=basic(self.client.client_id, "nope")
        )
        self.oauth_error(with_basic, 401, "invalid_client")
        self.assertTrue(with_basic.headers["WWW-Authenticate"].startswith("Basic"))

    def test_basic_with_reserved_characters(self):
        secret = "a:b+c%d e/f=" + core_tokens.generate_secret()
        self.env["secure.api.client"]._set_demo_secret(self.client.ids, secret)
        response = self.request(
            "POST",
            TOKEN,
            headers=basic(self.client.client_id, secret),
            data={"grant_type": "client_credentials"},
        )
        self.assertEqual(response.status_code, 200, response.text)

    def test_disabled_client_and_archived_user(self):
        self.client.active = False
        self.oauth_error(
            self.request("POST", TOKEN, data=self.creds()), 401, "invalid_client"
        )
        self.client.active = True
        self.assertEqual(
            self.request("POST", TOKEN, data=self.creds()).status_code, 200
        )
        self.api_user.active = False
        self.oauth_error(
            self.request("POST", TOKEN, data=self.creds()), 401, "invalid_client"
        )

    def test_brute_force_lockout(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "secure_api.auth_max_failures", 3
        )
        for _attempt in range(3):
            self.oauth_error(
                self.request("POST", TOKEN, data=self.creds(client_secret="bad")),
                401,
                "invalid_client",
            )
        response = self.request("POST", TOKEN, data=self.creds())
        self.assertEqual(response.status_code, 429, response.text)
        self.assertGreater(int(response.headers["Retry-After"]), 0)
        self.assertEqual(
            self.request("POST", "/api/jwt/token", json_body=self.creds()).status_code,
            429,
        )

    def test_opaque_token_states(self):
        base = f"/api/{self.api_plain.route}"
        token = self.token()
        self.assertEqual(self.request("GET", base, token=token).status_code, 200)
        record = (
            self.env["secure.api.token"].sudo().search([], order="id desc", limit=1)
        )
        record.action_revoke()
        response = self.request("GET", base, token=token)
        self.error(response, 401, "invalid_token")
        self.assertIn('error="invalid_token"', response.headers["WWW-Authenticate"])
        token = self.token()
        record = (
            self.env["secure.api.token"].sudo().search([], order="id desc", limit=1)
        )
        self.env.cr.execute(
            "UPDATE secure_api_token SET expires_at = %s WHERE id = %s",
            [datetime.datetime.utcnow() - datetime.timedelta(minutes=1), record.id],
        )
        self.env.registry.clear_cache()
        self.error(self.request("GET", base, token=token), 401, "invalid_token")
        token = self.token()
        self.client.active = False
        self.error(self.request("GET", base, token=token), 401, "invalid_token")

    def test_jwt_tokens(self):
        base = f"/api/{self.api_plain.route}"
        response = self.request("POST", "/api/jwt/token", json_body=self.creds())
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.headers["Cache-Control"], "no-store")
        token = response.json()["access_token"]
        self.assertEqual(self.request("GET", base, token=token).status_code, 200)
        key = self.client.sudo().jwt_key
        self.assertNotEqual(key, self.secret)
        header, payload, signature = token.split(".")
        claims = jwt.decode(token, options={"verify_signature": False})
        self.assertEqual(
            set(claims) >= {"iss", "sub", "aud", "exp", "iat", "jti", "scope"}, True
        )
        self.assertEqual(claims["sub"], self.client.client_id)

        def b64(data):
            return (
                base64.urlsafe_b64encode(json.dumps(data).encode())
                .rstrip(b"=")
                .decode()
            )

        def flip(text):
            return text[:-2] + ("AA" if text[-2:] != "AA" else "BB")

        now = int(time.time())
        forged = {
            "alg none": b64({"alg": "none", "typ": "JWT"}) + "." + payload + ".",
            "HS512 where HS256 is pinned": jwt.encode(claims, key, algorithm="HS512"),
            "tampered payload": header
            + "."
            + b64(dict(claims, scope="delete"))
            + "."
            + signature,
            "tampered signature": f"{header}.{payload}.{flip(signature)}",
            "missing exp": jwt.encode(
                {k: v for k, v in claims.items() if k != "exp"}, key, algorithm="HS256"
            ),
            "exp as a string": jwt.encode(
                dict(claims, exp=str(claims["exp"])), key, algorithm="HS256"
            ),
            "nbf in the future": jwt.encode(
                dict(claims, nbf=now + 600), key, algorithm="HS256"
            ),
            "iat in the future": jwt.encode(
                dict(claims, iat=now + 600), key, algorithm="HS256"
            ),
            "wrong aud": jwt.encode(dict(claims, aud="other"), key, algorithm="HS256"),
            # Any iss we wrote is ours (see TestOauthIssuer); none is not.
            "empty iss": jwt.encode(dict(claims, iss=""), key, algorithm="HS256"),
            "jku header": jwt.encode(
                claims, key, algorithm="HS256", headers={"jku": "http://127.0.0.1:1/k"}
            ),
            "kid header": jwt.encode(
                claims, key, algorithm="HS256", headers={"kid": "other"}
            ),
        }
        for label, bad in forged.items():
            with self.subTest(label):
                response = self.request("GET", base, token=bad)
                self.error(response, 401, "invalid_token")
                self.assertIn(
                    'error="invalid_token"', response.headers["WWW-Authenticate"]
                )
        # Within the leeway an expired token still passes; beyond it, not.
        almost = jwt.encode(dict(claims, exp=now - 5), key, algorithm="HS256")
        self.assertEqual(self.request("GET", base, token=almost).status_code, 200)
        expired = jwt.encode(dict(claims, exp=now - 120), key, algorithm="HS256")
        self.error(self.request("GET", base, token=expired), 401, "invalid_token")
        # Key rotation kills every JWT minted before it.
        self.client.action_rotate_jwt_key()
        self.error(self.request("GET", base, token=token), 401, "invalid_token")

    def test_revocation_and_introspection(self):
        mine = self.token()
        other_client, other_secret = self.make_client("Other", self.api_user)
        other = self.token(other_client, other_secret)
        (self.api_plain).client_ids = [(4, other_client.id)]
        base = f"/api/{self.api_plain.route}"
        # Introspection needs client authentication.
        self.oauth_error(
            self.request("POST", "/api/oauth2/introspect", data={"token": mine}),
            401,
            "invalid_client",
        )
        active = self.request(
            "POST", "/api/oauth2/introspect", data=self.creds(token=mine)
        ).json()
        self.assertTrue(active["active"])
        self.assertEqual(active["client_id"], self.client.client_id)
        self.assertEqual(active["scope"], "create read update delete search rpc")
        # Another client's token introspects as inactive and cannot be revoked.
        self.assertEqual(
            self.request(
                "POST", "/api/oauth2/introspect", data=self.creds(token=other)
            ).json(),
            {"active": False},
        )
        response = self.request(
            "POST", "/api/oauth2/revoke", data=self.creds(token=other)
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.request("GET", base, token=other).status_code, 200)
        # Unknown tokens: 200 on revoke, inactive on introspection.
        self.assertEqual(
            self.request(
                "POST", "/api/oauth2/revoke", data=self.creds(token="nope")
            ).status_code,
            200,
        )
        self.assertEqual(
            self.request(
                "POST", "/api/oauth2/introspect", data=self.creds(token="nope")
            ).json(),
            {"active": False},
        )
        # Own token: revoked at once.
        self.assertEqual(
            self.request(
                "POST", "/api/oauth2/revoke", data=self.creds(token=mine)
            ).status_code,
            200,
        )
        self.error(self.request("GET", base, token=mine), 401, "invalid_token")
        self.assertEqual(
            self.request(
                "POST", "/api/oauth2/introspect", data=self.creds(token=mine)
            ).json(),
            {"active": False},
        )
        # JWTs are revocable too.
        jwt_token = self.token(kind="jwt")
        self.assertTrue(
            self.request(
                "POST", "/api/oauth2/introspect", data=self.creds(token=jwt_token)
            ).json()["active"]
        )
        self.request("POST", "/api/oauth2/revoke", data=self.creds(token=jwt_token))
        self.error(self.request("GET", base, token=jwt_token), 401, "invalid_token")

    def test_revoke_all_tokens(self):
        opaque, signed = self.token(), self.token(kind="jwt")
        self.client.action_revoke_tokens()
        base = f"/api/{self.api_plain.route}"
        self.error(self.request("GET", base, token=opaque), 401, "invalid_token")
        self.error(self.request("GET", base, token=signed), 401, "invalid_token")

    def test_concurrent_token_requests(self):
        url = self.base_url() + TOKEN
        # Read everything before the threads start: the test cursor is the
        # server's too, and must not be used from two threads at once.
        credentials = self.creds()
        self.env.flush_all()
        with self.raw_requests() as cookies:

            def fetch(_index):
                return requests.post(url, data=credentials, cookies=cookies, timeout=60)

            with ThreadPoolExecutor(max_workers=20) as pool:
                responses = list(pool.map(fetch, range(20)))
        self.assertEqual([r.status_code for r in responses], [200] * 20)
        self.assertEqual(len({r.json()["access_token"] for r in responses}), 20)

    def test_no_secret_in_logs(self):
        with self.assertLogs("odoo", level="DEBUG") as logs:
            self.request(
                "POST", TOKEN, data=self.creds(client_secret="wrong-secret-value")
            )
            token = self.token()
            self.request("GET", f"/api/{self.api_plain.route}", token=token)
        text = "\n".join(logs.output)
        for secret in ("wrong-secret-value", self.secret, token):
            self.assertNotIn(secret, text)
