"""The /api/docs explorer's fixed parts: the pinned Swagger UI files it
loads and the policy it is served under; and the curl lines of the live-test
wizard."""

import re
import shlex
from pathlib import Path

from core.docs import (
    DOCS_PAGE_POLICY,
    SWAGGER_UI_VERSION,
    curl_line,
    docs_page_headers,
)

ADDON = Path(__file__).resolve().parents[2]
SWAGGER = ADDON / "static" / "lib" / "swagger-ui"
TEMPLATE = ADDON / "views" / "secure_api_docs_templates.xml"


def test_the_pinned_swagger_ui_files_are_all_there_with_their_license():
    for name in (
        "swagger-ui-bundle.js",
        "swagger-ui-bundle.js.LICENSE.txt",
        "swagger-ui.css",
        "LICENSE",
        "NOTICE",
        "README.md",
    ):
        assert (SWAGGER / name).stat().st_size > 0, name
    assert "Apache License" in (SWAGGER / "LICENSE").read_text()
    readme = (SWAGGER / "README.md").read_text()
    assert f"swagger-ui-dist@{SWAGGER_UI_VERSION}" in readme
    assert "Apache-2.0" in readme


def test_the_page_loads_swagger_ui_from_the_addon_only():
    template = TEMPLATE.read_text()
    urls = re.findall(r'(?:src|href)="([^"]+)"', template)
    assert "/secure_api/static/src/js/secure_api_docs.js" in urls
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
    assert "cdn" not in template.lower()
    # No inline script: every script element only names its file.
    scripts = re.findall(r"<script\b[^>]*>", template)
    assert len(scripts) == 2
    assert all(tag.endswith("/>") for tag in scripts), scripts


def test_the_page_policy_allows_this_server_only():
    policy = docs_page_headers()["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives == DOCS_PAGE_POLICY
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    sources = " ".join(directives.values()).split()
    assert set(sources) <= {"'self'", "'none'", "data:"}
    assert "unsafe" not in policy


def test_the_page_headers_forbid_sniffing_framing_and_caching():
    headers = docs_page_headers()
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"


def test_curl_lines_split_back_into_what_they_send():
    line = curl_line(
        "POST",
        "https://odoo.example/api/shop?domain=[('name','=','x')]",
        bearer=True,
        body_text='{"name": "O\'Neil"}',
        headers=(("Idempotency-Key", "$(uuidgen)"),),
    )
    assert shlex.split(line) == [
        "curl",
        "-g",
        "-X",
        "POST",
        "-H",
        "Authorization: Bearer $TOKEN",
        "-H",
        "Idempotency-Key: $(uuidgen)",
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"name": "O\'Neil"}',
        "https://odoo.example/api/shop?domain=[('name','=','x')]",
    ]
    # The shell expands the token and the key: they sit in double quotes.
    assert '"Authorization: Bearer $TOKEN"' in line
