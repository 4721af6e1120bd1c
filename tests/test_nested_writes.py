"""One2many lines written and read with their header (contract: Nested
writes), on res.partner's contacts (child_ids), whose lines are partners."""

import json

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..core.hashid import IdCodec
from ..models.secure_api_log import buffer_for
from .common import SecureApiTransactionCase, user_groups_field


class LinesCase(SecureApiTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.contacts = cls.lines_field(cls.api_plain)
        cls.company = cls.env["res.partner"].create(
            {
                "name": "Lines Co",
                "is_company": True,
                "child_ids": [
                    Command.create({"name": "First"}),
                    Command.create({"name": "Second"}),
                ],
            }
        )
        cls.first, cls.second = cls.company.child_ids.sorted("id")
        cls.other = cls.env["res.partner"].create(
            {
                "name": "Other Co",
                "is_company": True,
                "child_ids": [Command.create({"name": "Not yours"})],
            }
        )

    @classmethod
    def lines_field(cls, api):
        field = cls.field
        return cls.env["secure.api.field"].create(
            {
                "api_id": api.id,
                "field_id": field("res.partner", "child_ids").id,
                "alias": "contacts",
                "writable": True,
                "allow_lines": True,
                "line_field_ids": [
                    Command.create(
                        {"field_id": field("res.partner", "name").id, "writable": True}
                    ),
                    Command.create(
                        {
                            "field_id": field("res.partner", "email").id,
                            "alias": "mail",
                            "writable": True,
                        }
                    ),
                    Command.create(
                        {
                            "field_id": field("res.partner", "country_id").id,
                            "alias": "country",
                            "writable": True,
                        }
                    ),
                    Command.create({"field_id": field("res.partner", "ref").id}),
                ],
            }
        )

    def setUp(self):
        super().setUp()
        self.bearer = self.issue()
        self.base = f"/api/{self.api_plain.route}"
        self.url = f"{self.base}/{self.company.id}"

    def patch(self, body, url=None, token=None):
        return self.call(
            "PATCH", url or self.url, token=token or self.bearer, json=body
        )

    def names(self, partner):
        self.env.invalidate_all()
        return sorted(partner.child_ids.mapped("name"))


@tagged("post_install", "-at_install")
class TestNestedWrites(LinesCase):
    def test_create_with_three_lines_creates_them_with_the_header(self):
        answer = self.call(
            "POST",
            self.base,
            token=self.bearer,
            json={
                "name": "New Co",
                "is_company": True,
                "contacts": [
                    {"name": "Ann", "mail": "ann@example.com"},
                    {"name": "Bob", "country": self.belgium.id},
                    {"name": "Cid"},
                ],
            },
        )
        created = self.result(answer, 201)
        partner = self.env["res.partner"].browse(created["id"])
        self.assertEqual(self.names(partner), ["Ann", "Bob", "Cid"])
        bob = partner.child_ids.filtered(lambda p: p.name == "Bob")
        self.assertEqual(bob.country_id, self.belgium)
        self.assertEqual(
            [line["name"] for line in created["contacts"]], ["Ann", "Bob", "Cid"]
        )

    def test_update_adds_updates_and_removes_lines_in_one_call(self):
        answer = self.patch(
            {
                "name": "Lines Co 2",
                "contacts": {
                    "add": [{"name": "Third"}],
                    "update": [{"id": self.first.id, "mail": "first@example.com"}],
                    "remove": [self.second.id],
                },
            }
        )
        self.result(answer)
        self.assertEqual(self.company.name, "Lines Co 2")
        self.assertEqual(self.names(self.company), ["First", "Third"])
        self.assertEqual(self.first.email, "first@example.com")
        self.assertFalse(self.second.exists())

    def test_the_access_log_names_the_lines_updated_and_removed(self):
        """The audit finds the request that deleted a line, though a
        minimal answer shows none of them."""
        self.api_plain.log_level = "all"
        log = self.env["secure.api.log"]
        buffer_for(self.env.cr.dbname).drain()
        self.addCleanup(buffer_for(self.env.cr.dbname).drain)
        answer = self.call(
            "PATCH",
            self.url,
            token=self.bearer,
            json={
                "contacts": {
                    "update": [{"id": self.first.id, "mail": "f@example.com"}],
                    "remove": [self.second.id],
                }
            },
            headers={"Prefer": "return=minimal"},
        )
        self.assertEqual(answer.status, 204)
        log._flush_buffer()
        (row,) = log.search([("api_id", "=", self.api_plain.id)])
        self.assertEqual(
            sorted(int(rid) for rid in row.record_ids.split(", ")),
            sorted([self.company.id, self.first.id, self.second.id]),
        )

    def test_a_failing_line_writes_nothing_and_names_its_path(self):
        before = self.partner_count()
        answer = self.call(
            "POST",
            self.base,
            token=self.bearer,
            json={
                "name": "Half Co",
                "contacts": [{"name": "A"}, {"name": "B"}, {"name": "C", "zip": "1"}],
            },
        )
        error = self.error(answer, 400, "invalid_field")
        self.assertEqual(error["data"]["path"], "contacts[2].zip")
        self.assertEqual(self.partner_count(), before)

    def test_a_failing_line_of_an_update_leaves_the_header_unchanged(self):
        answer = self.patch(
            {
                "name": "Renamed",
                "contacts": {
                    "add": [{"name": "Third"}],
                    "update": [{"id": self.first.id, "ref": "R"}],
                },
            }
        )
        error = self.error(answer, 400, "readonly_field")
        self.assertEqual(error["data"]["path"], "contacts.update[0].ref")
        self.assertEqual(self.company.name, "Lines Co")
        self.assertEqual(self.names(self.company), ["First", "Second"])

    def test_an_orm_refusal_of_a_line_writes_nothing(self):
        answer = self.patch(
            {"name": "Renamed", "contacts": {"add": [{"name": False}]}},
        )
        self.assertIn(self.answered(answer)[0], (400, 422))
        self.assertEqual(self.company.name, "Lines Co")
        self.assertEqual(self.names(self.company), ["First", "Second"])

    def test_a_relational_value_inside_a_line_must_exist(self):
        answer = self.patch({"contacts": {"add": [{"name": "X", "country": 99999999}]}})
        error = self.error(answer, 400, "invalid_id")
        self.assertEqual(error["data"]["path"], "contacts.add[0].country")

    def test_lines_of_another_header_are_refused(self):
        stranger = self.other.child_ids
        for body, path in (
            (
                {"update": [{"id": stranger.id, "name": "Mine"}]},
                "contacts.update[0].id",
            ),
            ({"remove": [stranger.id]}, "contacts.remove[0]"),
            ({"remove": [self.company.id]}, "contacts.remove[0]"),
        ):
            with self.subTest(body=body):
                error = self.error(self.patch({"contacts": body}), 400, "invalid_id")
                self.assertEqual(error["data"]["path"], path)
        self.assertEqual(stranger.name, "Not yours")
        self.assertTrue(stranger.exists())

    def secret_rule(self, **perms):
        """A record rule of the execution user on contacts with ref SECRET."""
        group = self.env["res.groups"].create({"name": "No secret contacts"})
        self.api_user.write({user_groups_field(self.env): [Command.link(group.id)]})
        self.env["ir.rule"].create(
            {
                "name": "No secret contacts",
                "model_id": self.env["ir.model"]._get_id("res.partner"),
                "groups": [Command.set([group.id])],
                "domain_force": "[('ref', '!=', 'SECRET')]",
                **perms,
            }
        )

    def test_a_line_the_user_cannot_write_is_refused_with_its_path(self):
        self.secret_rule(perm_read=False, perm_create=False)
        self.second.ref = "SECRET"
        answer = self.patch(
            {"contacts": {"update": [{"id": self.second.id, "name": "Mine"}]}}
        )
        error = self.error(answer, 403)
        self.assertEqual(error["data"]["path"], "contacts.update[0]")
        self.assertEqual(self.second.name, "Second")

    def test_a_line_the_user_cannot_read_is_refused_like_a_missing_one(self):
        self.secret_rule()
        self.second.ref = "SECRET"
        hidden = self.error(
            self.patch({"contacts": {"remove": [self.second.id]}}), 400, "invalid_id"
        )
        missing = self.error(
            self.patch({"contacts": {"remove": [99999999]}}), 400, "invalid_id"
        )
        self.assertEqual(hidden, missing)
        self.assertTrue(self.second.exists())
        read = self.result(self.call("GET", self.url, token=self.bearer))
        self.assertEqual([line["name"] for line in read["contacts"]], ["First"])

    def test_removing_lines_needs_the_delete_operation_and_scope(self):
        token = self.issue(scope="read search update")
        answer = self.patch({"contacts": {"remove": [self.second.id]}}, token=token)
        self.error(answer, 403, "delete_not_allowed")
        self.api_plain.allow_delete = False
        answer = self.patch({"contacts": {"remove": [self.second.id]}})
        self.error(answer, 403, "delete_not_allowed")
        self.assertTrue(self.second.exists())

    def test_a_read_renders_lines_with_their_line_fields(self):
        self.first.write({"email": "f@example.com", "country_id": self.france.id})
        read = self.result(self.call("GET", self.url, token=self.bearer))
        self.assertEqual(
            read["contacts"][0],
            {
                "id": self.first.id,
                "name": "First",
                "mail": "f@example.com",
                "country": [self.france.id, self.france.display_name],
                "ref": "",
            },
        )

    def test_bulk_create_names_the_item_and_the_line(self):
        before = self.partner_count()
        answer = self.call(
            "POST",
            self.base,
            token=self.bearer,
            json=[
                {"name": "Fine", "contacts": [{"name": "F"}]},
                {"name": "Bad", "contacts": [{"name": "A"}, {"name": "B"}, {"zip": 1}]},
            ],
        )
        error = self.error(answer, 400, "invalid_field")
        self.assertEqual(error["data"]["index"], 1)
        self.assertEqual(error["data"]["path"], "[1].contacts[2].zip")
        self.assertEqual(self.partner_count(), before)

    def test_the_line_cap_counts_every_item_of_a_request(self):
        before = self.partner_count()
        half = [{"name": "L"}] * 600
        answer = self.call(
            "POST",
            self.base,
            token=self.bearer,
            json=[{"name": "A", "contacts": half}, {"name": "B", "contacts": half}],
        )
        self.error(answer, 400, "invalid_body")
        self.assertEqual(self.partner_count(), before)

    def test_lines_added_to_many_records_count_once_per_record(self):
        before = self.partner_count()
        other = self.env["res.partner"].create({"name": "Other Co", "is_company": True})
        answer = self.patch(
            {
                "ids": [self.company.id, other.id],
                "contacts": {"add": [{"name": "L"}] * 600},
            },
            url=self.base,
        )
        self.error(answer, 400, "invalid_body")
        self.assertEqual(self.partner_count(), before + 1)

    def test_a_changed_line_field_applies_to_the_next_request(self):
        mail = self.contacts.line_field_ids.filtered(lambda f: f.alias == "mail")
        mail.writable = False
        answer = self.patch({"contacts": {"add": [{"name": "X", "mail": "x@x.x"}]}})
        error = self.error(answer, 400, "readonly_field")
        self.assertEqual(error["data"]["path"], "contacts.add[0].mail")

    def test_the_apis_defaults_of_the_line_model_fill_new_lines(self):
        self.env["secure.api.default"].create(
            {
                "api_id": self.api_plain.id,
                "field_id": self.field("res.partner", "comment").id,
                "expression": "'from the API'",
            }
        )
        created = self.result(
            self.call(
                "POST",
                self.base,
                token=self.bearer,
                json={"name": "D Co", "contacts": [{"name": "D"}]},
            ),
            201,
        )
        line = self.env["res.partner"].browse(created["contacts"][0]["id"])
        self.assertIn("from the API", line.comment)
        self.result(self.patch({"contacts": {"add": [{"name": "Added"}]}}))
        added = self.company.child_ids.filtered(lambda p: p.name == "Added")
        self.assertIn("from the API", added.comment)
        self.assertFalse(self.company.comment)


@tagged("post_install", "-at_install")
class TestNestedWritesObfuscated(LinesCase):
    def test_line_ids_are_obfuscated_with_the_line_models_codec(self):
        api = self.api_obf
        self.lines_field(api)
        partners = IdCodec(True, api.hashid_salt, "res.partner", api.hashid_min_length)
        countries = IdCodec(True, api.hashid_salt, "res.country", api.hashid_min_length)
        url = f"/api/{api.route}/{partners.encode(self.company.id)}"
        answer = self.patch(
            {
                "contacts": {
                    "update": [
                        {
                            "id": partners.encode(self.first.id),
                            "country": countries.encode(self.belgium.id),
                        }
                    ]
                }
            },
            url=url,
        )
        result = self.result(answer)
        self.assertEqual(self.first.country_id, self.belgium)
        line = result["contacts"][0]
        self.assertEqual(line["id"], partners.encode(self.first.id))
        self.assertEqual(line["country"][0], countries.encode(self.belgium.id))
        raw = self.patch({"contacts": {"remove": [self.first.id]}}, url=url)
        self.assertEqual(
            self.error(raw, 400, "invalid_id")["data"]["path"], "contacts.remove[0]"
        )


@tagged("post_install", "-at_install")
class TestNestedWritesConfiguration(LinesCase):
    def test_only_one2many_fields_have_lines(self):
        name = self.api_plain.field_ids.filtered(lambda f: f.field_id.name == "name")
        with self.assertRaises(ValidationError):
            name.allow_lines = True

    def test_line_fields_belong_to_the_line_model(self):
        with self.assertRaises(ValidationError):
            self.contacts.line_field_ids = [
                Command.create({"field_id": self.field("res.country", "code").id})
            ]

    def test_the_field_linking_a_line_to_its_header_is_not_writable(self):
        with self.assertRaises(ValidationError):
            self.contacts.line_field_ids = [
                Command.create(
                    {
                        "field_id": self.field("res.partner", "parent_id").id,
                        "writable": True,
                    }
                )
            ]

    def test_a_line_alias_is_unique_in_its_lines(self):
        with self.assertRaises(ValidationError):
            self.contacts.line_field_ids = [
                Command.create(
                    {"field_id": self.field("res.partner", "phone").id, "alias": "mail"}
                )
            ]

    def test_the_openapi_document_shows_the_line_schemas(self):
        document = self.api_plain.get_openapi_document()
        schemas = document["components"]["schemas"]
        line = schemas["TestPlainResPartnerContactsLine"]
        self.assertEqual(
            set(line["properties"]), {"id", "name", "mail", "country", "ref"}
        )
        create = schemas["TestPlainResPartnerContactsLineCreate"]
        self.assertEqual(set(create["properties"]), {"name", "mail", "country"})
        self.assertEqual(
            schemas["TestPlainResPartnerCreate"]["properties"]["contacts"]["items"],
            {"$ref": "#/components/schemas/TestPlainResPartnerContactsLineCreate"},
        )
        update = schemas["TestPlainResPartnerUpdate"]["properties"]["contacts"]
        self.assertEqual(set(update["properties"]), {"add", "update", "remove"})
        record = schemas["TestPlainResPartnerRecord"]["properties"]["contacts"]
        self.assertEqual(
            record["items"],
            {"$ref": "#/components/schemas/TestPlainResPartnerContactsLine"},
        )

    def test_the_postman_collection_creates_lines(self):
        collection = self.api_plain.get_postman_collection()
        bodies = []

        def walk(node):
            if isinstance(node, dict):
                if node.get("name", "").startswith("Create") and "request" in node:
                    bodies.append(json.loads(node["request"]["body"]["raw"]))
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(collection)
        self.assertTrue(
            any(isinstance(body.get("contacts"), list) for body in bodies), bodies
        )
