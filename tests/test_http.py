"""What only real HTTP shows: body encodings and limits, the one route."""

import base64
import logging
import socket
from urllib.parse import urlsplit

from odoo.tests import tagged

from .. import hooks
from .common import SecureApiHttpCase

LIMIT_KB = 16


@tagged("post_install", "-at_install")
class TestHttpBoundary(SecureApiHttpCase):
    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param(
            "secure_api.max_body_kb", str(LIMIT_KB)
        )
        self.big = "x" * (LIMIT_KB * 1024 + 1)
        self.routes = (
            f"/api/{self.api_plain.route}",
            "/api/oauth2/token",
            "/api/jwt/token",
            "/api/oauth2/revoke",
            "/api/oauth2/introspect",
        )

    def assert_413(self, response):
        self.assertEqual(response.status_code, 413, response.text[:300])
        self.assertIn("X-Request-Id", response.headers)
        self.assertTrue(response.headers["Content-Type"].startswith("application/json"))

    def test_form_body_over_the_limit_is_413_on_every_route(self):
        for path in self.routes:
            with self.subTest(path=path):
                self.assert_413(self.request("POST", path, data={"name": self.big}))
        # The product page's search sends a form body on GET.
        self.assert_413(
            self.request("GET", self.routes[0], data={"domain": self.big}, token="x")
        )

    def test_multipart_body_over_the_limit_is_413(self):
        for path in self.routes:
            with self.subTest(path=path):
                response = self.opener.post(
                    self.base_url() + path,
                    files={"client_id": (None, self.big)},
                    timeout=30,
                )
                self.assert_413(response)

    def test_chunked_body_over_the_limit_is_413_on_every_route(self):
        def chunks():
            for _index in range(LIMIT_KB + 1):
                yield b"x" * 1024
            yield b"y"

        for path in self.routes:
            with self.subTest(path=path):
                response = self.opener.post(
                    self.base_url() + path,
                    data=chunks(),
                    headers={"Content-Type": "application/json"},
                    timeout=30,
                )
                self.assert_413(response)

    def _raw_post(self, path, head, body):
        """A POST written by hand: what a client library would refuse to
        send (a malformed chunk, a body shorter than its Content-Length)."""
        host, port = urlsplit(self.base_url()).hostname, urlsplit(self.base_url()).port
        with (
            self.raw_requests() as jar,
            socket.create_connection((host, port), timeout=30) as sock,
        ):
            # The test server's cookie (19.0 refuses requests without it).
            cookies = "; ".join(f"{k}={v}" for k, v in jar.items() if v)
            request_head = (
                f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Content-Type: application/json\r\n{head}"
                + (f"Cookie: {cookies}\r\n" if cookies else "")
                + "Connection: close\r\n\r\n"
            )
            sock.sendall(request_head.encode() + body)
            if "Content-Length" in head:
                # The client stops sending: the server sees a short body.
                sock.shutdown(socket.SHUT_WR)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        status_line, _rest = answer.split(b"\r\n", 1)
        return int(status_line.split()[1]), answer

    def test_a_body_that_cannot_be_read_is_400_not_500(self):
        path = f"/api/{self.api_plain.route}"
        for head, body in (
            ("Transfer-Encoding: chunked\r\n", b"zz\r\n{}\r\n0\r\n\r\n"),
            ("Content-Length: 100\r\n", b'{"a": 1}'),
        ):
            with self.subTest(head=head):
                status, answer = self._raw_post(path, head, body)
                self.assertEqual(status, 400, answer[:300])
                self.assertIn(b"invalid_body", answer)
                self.assertIn(b"X-Request-Id", answer)

    def test_json_body_over_the_limit_is_413_and_creates_nothing(self):
        before = self.partner_count()
        response = self.request(
            "POST", self.routes[0], token=self.issue(), json_body={"name": self.big}
        )
        self.error(response, 413)
        self.assertEqual(self.partner_count(), before)

    def test_chunked_body_within_the_limit_is_read(self):
        # Read before sending: the generator runs while the server holds the
        # test cursor.
        client_id, secret = self.client.client_id.encode(), self.secret.encode()

        def chunks():
            yield b'{"client_id": "'
            yield client_id
            yield b'", "client_secret": "'
            yield secret
            yield b'"}'

        response = self.opener.post(
            self.base_url() + "/api/jwt/token",
            data=chunks(),
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        self.assertEqual(response.status_code, 200, response.text)

    def test_form_body_is_read_once_for_search(self):
        token = self.token()
        response = self.request(
            "GET",
            self.routes[0],
            data={"domain": '[("name", "=", "Azure Interior API Test")]'},
            token=token,
        )
        self.assertEqual(self.result(response)["length"], 1)

    def test_token_server_refuses_nul_characters_as_json(self):
        response = self.request(
            "POST",
            "/api/oauth2/token",
            data={"client_id": "a\x00b", "client_secret": "x"},
        )
        self.assertIn(response.status_code, (400, 401), response.text[:300])
        self.assertEqual(response.headers["Cache-Control"], "no-store")
        self.assertIn("X-Request-Id", response.headers)
        self.assertIn("error", response.json())


PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAA"
    "AABJRU5ErkJggg=="
)


@tagged("post_install", "-at_install")
class TestBinaryRoute(SecureApiHttpCase):
    """The binary route is an operation of the pipeline like any other."""

    def setUp(self):
        super().setUp()
        self.partner.image_1920 = PNG
        self.url = (
            f"/api/image/{self.api_plain.id}/res.partner/{self.partner.id}/image_128"
        )
        self.bearer = self.token()

    def test_binary_streams_the_file_then_404_once_read_is_off(self):
        response = self.request("GET", self.url, token=self.bearer)
        self.assertEqual(response.status_code, 200, response.text[:200])
        self.assertEqual(response.headers["Content-Type"], "image/png")
        self.assertIn("X-Request-Id", response.headers)
        self.api_plain.endpoint_ids.filtered(
            lambda e: e.operation == "read"
        ).active = False
        self.error(self.request("GET", self.url, token=self.bearer), 404)

    def test_a_satisfiable_range_answers_206_with_the_part(self):
        response = self.request(
            "GET", self.url, token=self.bearer, headers={"Range": "bytes=0-3"}
        )
        self.assertEqual(response.status_code, 206, response.text[:200])
        self.assertEqual(response.content, b"\x89PNG")

    def test_an_unsatisfiable_range_is_416_with_the_file_size(self):
        size = len(base64.b64decode(self.partner.image_128))
        response = self.request(
            "GET", self.url, token=self.bearer, headers={"Range": "bytes=100000-"}
        )
        self.error(response, 416, "range_not_satisfiable")
        self.assertEqual(response.headers["Content-Range"], f"bytes */{size}")

    def test_binary_download_is_counted_in_statistics(self):
        statistic = self.env["secure.api.statistic"]
        statistic._flush_buffer()
        response = self.request("GET", self.url, token=self.bearer)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(statistic._flush_buffer(), 1)

    def test_binary_answers_cors_headers_like_any_route(self):
        self.api_plain.write(
            {"cors_enabled": True, "cors_origins": "https://app.example"}
        )
        response = self.request(
            "GET",
            self.url,
            token=self.bearer,
            headers={"Origin": "https://app.example"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response.headers["Access-Control-Allow-Origin"], "https://app.example"
        )


@tagged("post_install", "-at_install")
class TestHttpHygiene(SecureApiHttpCase):
    def test_credentials_in_the_url_never_reach_the_access_log(self):
        token = self.token()
        access_log = logging.getLogger("werkzeug")
        self.assertIn(hooks._REDACTING_FILTER, access_log.filters)
        text = ""
        for line in (
            f"GET /api/{self.api_plain.route}?access_token={token} HTTP/1.1",
            f"POST /api/oauth2/token?client_id=x&client_secret={self.secret} HTTP/1.1",
        ):
            # What the HTTP server logs for each request line.
            record = access_log.makeRecord(
                "werkzeug",
                logging.INFO,
                __file__,
                0,
                '"%s" %s %s',
                (line, 401, "-"),
                None,
            )
            self.assertTrue(hooks._REDACTING_FILTER.filter(record))
            text += record.getMessage()
        self.assertNotIn(token, text)
        self.assertNotIn(self.secret, text)
        self.assertIn("access_token=***", text)
        self.assertIn("client_secret=***", text)

    def test_every_path_and_method_under_api_answers_json(self):
        for method, path in (
            ("GET", "/api/"),
            ("GET", "/api"),
            ("TRACE", f"/api/{self.api_plain.route}"),
            ("PROPFIND", f"/api/{self.api_plain.route}/1"),
        ):
            with self.subTest(method=method, path=path):
                response = self.request(method, path)
                self.assertTrue(
                    response.headers["Content-Type"].startswith("application/json"),
                    response.text[:200],
                )
                self.assertIn("X-Request-Id", response.headers)

    def test_paths_the_router_cannot_match_are_404_without_an_error_log(self):
        # A newline is no path character for the router: werkzeug's own 404,
        # which must neither become a 500 nor fill the error log.
        for path in ("/api/anything%0A", f"/api/{self.api_plain.route}%0A"):
            with self.subTest(path=path):
                with self.assertNoLogs("odoo.addons.secure_api", "ERROR"):
                    response = self.request("GET", path)
                self.error(response, 404, "unknown_route")
