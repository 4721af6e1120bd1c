"""What REST needs real HTTP for: session cookies, the Host a same-origin
check compares with, streamed binaries. Everything else about the
operations is tested in process: test_search, test_reads, test_writes,
test_rpc, test_access, test_lifecycle."""

from odoo.tests import tagged

from .common import SecureApiHttpCase

PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAA"
    "AABJRU5ErkJggg=="
)


@tagged("post_install", "-at_install")
class TestRestOverHttp(SecureApiHttpCase):
    def setUp(self):
        super().setUp()
        self.base = f"/api/{self.api_plain.route}"

    def test_a_session_cookie_runs_reads_and_json_writes_as_its_user(self):
        self.authenticate("secure_api_runner", "secure_api_runner_pw")
        self.result(self.request("GET", self.base))
        response = self.request("POST", self.base, json_body={"name": "Via session"})
        self.result(response, 201)

    def test_a_same_origin_session_write_is_accepted(self):
        self.authenticate("secure_api_runner", "secure_api_runner_pw")
        response = self.request(
            "POST",
            self.base,
            json_body={"name": "Same origin"},
            headers={"Origin": self.base_url()},
        )
        self.result(response, 201)

    def test_the_binary_route_streams_the_file_with_its_mimetype(self):
        self.partner.image_1920 = PNG
        bearer = self.token()
        for api in (self.api_plain, self.api_obf):
            with self.subTest(obfuscated=api.obfuscate_ids):
                record = self.result(
                    self.request(
                        "GET",
                        f"/api/{api.route}/{self.ids(api, self.partner)}",
                        token=bearer,
                    )
                )
                response = self.request("GET", record["image_128"], token=bearer)
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.headers["Content-Type"], "image/png")
