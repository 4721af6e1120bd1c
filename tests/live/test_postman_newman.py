"""The Postman collection that the export wizard downloads runs green as a
whole in newman: it gets a token, then searches, creates, reads, updates and
deletes one record per API, with a test on each request.

newman is looked up, in order: ``$SECURE_API_NEWMAN`` (an executable), a
``newman`` on PATH, the cache ``${XDG_CACHE_HOME:-~/.cache}/secure_api/newman``
(installed there with npm when missing: outside the addon, whose every file
Odoo's translation export reads). Without node and npm, the test is skipped,
loudly.
"""

import json
import os
import shutil
import subprocess

import pytest
from conftest import CONTACTS, PARTNERS, TIMEOUT

NEWMAN_VERSION = "6.2.2"
# What the collection does per API, in this order (CONTRACT.md).
CHAIN = ("Search", "Create", "Read", "Update", "Delete")


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "secure_api", "newman")


def find_newman():
    """The newman command, installing it into the cache when needed."""
    explicit = os.environ.get("SECURE_API_NEWMAN")
    if explicit:
        assert os.access(explicit, os.X_OK), (
            f"SECURE_API_NEWMAN={explicit} is no executable"
        )
        return [explicit]
    if not shutil.which("node"):
        pytest.skip(
            "!!! node is not installed: the exported Postman collection was NOT "
            "run in newman (install node and npm to run it) !!!"
        )
    on_path = shutil.which("newman")
    if on_path:
        return [on_path]
    prefix = cache_dir()
    cached = os.path.join(prefix, "node_modules", ".bin", "newman")
    if not os.access(cached, os.X_OK):
        npm = shutil.which("npm")
        if not npm:
            pytest.skip(
                "!!! npm is not installed: newman cannot be installed, the exported "
                "Postman collection was NOT run in newman !!!"
            )
        os.makedirs(prefix, exist_ok=True)
        install = subprocess.run(
            [
                npm,
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
                prefix,
                f"newman@{NEWMAN_VERSION}",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert install.returncode == 0 and os.access(cached, os.X_OK), (
            f"npm could not install newman into {prefix}:\n"
            f"{install.stdout}\n{install.stderr}"
        )
    return [cached]


def export_collection(admin, server, api_ids):
    """The export wizard, as the form's Export button runs it, then the
    download its action points to."""
    wizard = admin.call(
        "secure.api.export.wizard",
        "create",
        {
            "api_ids": [(6, 0, api_ids)],
            "export_format": "postman",
            "file_type": "json",
        },
    )
    action = admin.call("secure.api.export.wizard", "action_export", [wizard])
    assert action["type"] == "ir.actions.act_url", action
    response = admin.http.get(f"{server['url']}{action['url']}", timeout=TIMEOUT)
    assert response.status_code == 200, response.text[:500]
    assert "attachment" in response.headers.get("Content-Disposition", "")
    return response.json()


def count_partners(admin):
    return admin.call("res.partner", "search_count", [], context={"active_test": False})


def test_exported_collection_runs_green_in_newman(
    admin, server, live, tmp_path_factory
):
    newman = find_newman()
    apis = [live["partners_api"], live["contacts_api"]]
    collection = export_collection(admin, server, apis)
    assert collection["info"]["schema"].endswith("/v2.1.0/collection.json")
    folders = {folder["name"]: folder["item"] for folder in collection["item"]}
    assert set(folders) == {"Authentication", "Live partners", "Live contacts"}
    for name in ("Live partners", "Live contacts"):
        # The contract's chain, in order (the collection may show more between).
        steps = iter(item["name"].split(" ", 1)[0] for item in folders[name])
        assert all(step in steps for step in CHAIN), [
            item["name"] for item in folders[name]
        ]
    paths = {
        item["request"]["url"]["raw"].split("?")[0]
        for items in folders.values()
        for item in items
    }
    for route in (PARTNERS, CONTACTS):
        assert "{{base_url}}/api/" + route in paths
    expected_requests = sum(len(items) for items in folders.values())

    work = tmp_path_factory.mktemp("newman")
    source = work / "collection.json"
    source.write_text(json.dumps(collection), encoding="utf-8")
    report = work / "report.json"
    before = count_partners(admin)
    run = subprocess.run(
        [
            *newman,
            "run",
            str(source),
            # Only the credentials and the address are filled in, as a user
            # of the collection would.
            "--env-var",
            f"base_url={server['url']}",
            "--env-var",
            f"client_id={live['client_id']}",
            "--env-var",
            f"client_secret={live['client_secret']}",
            "--reporters",
            "cli,json",
            "--reporter-json-export",
            str(report),
            "--color",
            "off",
            "--disable-unicode",
            "--timeout-request",
            str(TIMEOUT * 1000),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"newman failed (exit {run.returncode}):\n{output}"
    stats = json.loads(report.read_text(encoding="utf-8"))["run"]["stats"]
    assert stats["requests"]["total"] == expected_requests, output
    assert stats["requests"]["failed"] == 0, output
    assert stats["assertions"]["failed"] == 0, output
    # At least one test on each request, and none failed.
    assert stats["assertions"]["total"] >= expected_requests, output
    assert stats["testScripts"]["failed"] == 0, output
    # Each record the collection created, it deleted.
    assert count_partners(admin) == before
