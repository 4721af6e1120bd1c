"""Richer queries: dotted domain leaves through related fields, aggregates,
the companies of a request (X-Company-Id) and the language of its values
(Accept-Language), on an API configured like the benchmark's realistic one
(forced domain, aliases, obfuscated ids, related fields)."""

import json
from datetime import date, datetime
from urllib.parse import urlencode

from odoo import Command
from odoo.tests import tagged

from ..compat import user_groups_field
from ..core.hashid import IdCodec
from .common import SecureApiTransactionCase, internal_user

try:
    import openapi_spec_validator
except ImportError:  # a test-only dependency
    openapi_spec_validator = None

# The benchmark's realistic API (tools/bench_more.py configure_realistic).
REAL_DOMAIN = [("type", "=", "contact"), ("country_id", "!=", False)]
MINE = [("name", "=like", "Q-%")]


@tagged("post_install", "-at_install")
class TestRicherQueries(SecureApiTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        field = cls.field
        cls.germany = env.ref("base.de")
        cls.gold, cls.silver = env["res.partner.category"].create(
            [{"name": "Q-Gold"}, {"name": "Q-Silver"}]
        )
        cls.company_a = env.ref("base.main_company")
        cls.company_b = env["res.company"].create({"name": "Q Company B"})
        cls.company_c = env["res.company"].create({"name": "Q Company C"})
        cls.api_user.write(
            {
                "company_ids": [Command.link(cls.company_b.id)],
                "company_id": cls.company_a.id,
            }
        )

        def partner(name, country, color, **values):
            return {
                "name": name,
                "country_id": country.id if country else False,
                "color": color,
                "partner_latitude": color * 1.5,
                "email": f"{name.lower()}@example.com",
                **values,
            }

        be, fr, de = cls.belgium, cls.france, cls.germany
        cls.partners = env["res.partner"].create(
            [
                partner("Q-BE-1", be, 1, category_id=[Command.set(cls.gold.ids)]),
                partner("Q-BE-2", be, 2, category_id=[Command.set(cls.gold.ids)]),
                partner(
                    "Q-BE-3",
                    be,
                    3,
                    category_id=[Command.set((cls.gold | cls.silver).ids)],
                    email="q-be-1@example.com",
                ),
                partner("Q-FR-1", fr, 4, category_id=[Command.set(cls.silver.ids)]),
                partner("Q-FR-2", fr, 5, category_id=[Command.set(cls.silver.ids)]),
                partner("Q-DE-1", de, 0),
            ]
        )
        # Outside the forced domain, and in a company of its own.
        cls.outside = env["res.partner"].create(
            [
                partner("Q-NONE", None, 7),
                partner("Q-INV", be, 7, type="invoice"),
            ]
        )
        cls.in_b = env["res.partner"].create(
            partner("Q-B-1", be, 9, company_id=cls.company_b.id)
        )
        env.cr.execute(
            "UPDATE res_partner SET create_date = %s WHERE id IN %s",
            [datetime(2024, 3, 2, 23, 30), tuple(cls.partners[:3].ids)],
        )
        env.cr.execute(
            "UPDATE res_partner SET create_date = %s WHERE id IN %s",
            [datetime(2024, 5, 9, 8, 0), tuple(cls.partners[3:].ids)],
        )
        env["res.partner"].invalidate_model(["create_date"])

        def line(model, name, **values):
            return Command.create({"field_id": field(model, name).id, **values})

        cls.api = cls.make_api(
            "test/real",
            obfuscate=True,
            domain=repr(REAL_DOMAIN),
            allow_aggregate=True,
            default_limit=20,
            max_limit=50,
            field_ids=[
                line("res.partner", "name", searchable=True, writable=True),
                line(
                    "res.partner",
                    "email",
                    alias="email_address",
                    searchable=True,
                    writable=True,
                ),
                line("res.partner", "phone", writable=True),
                line("res.partner", "city", searchable=True, writable=True),
                line(
                    "res.partner",
                    "country_id",
                    searchable=True,
                    writable=True,
                    related_field_ids=[
                        Command.set(
                            [
                                field("res.country", "name").id,
                                field("res.country", "code").id,
                                field("res.country", "currency_id").id,
                            ]
                        )
                    ],
                ),
                line(
                    "res.partner",
                    "category_id",
                    alias="tags",
                    searchable=True,
                    related_field_ids=[
                        Command.set([field("res.partner.category", "name").id])
                    ],
                ),
                line("res.partner", "color", searchable=True),
                line("res.partner", "partner_latitude", alias="latitude"),
                line("res.partner", "create_date", alias="created", searchable=True),
                line("res.partner", "is_company", searchable=True),
                line("res.partner", "company_id", searchable=True),
            ],
            default_ids=[
                Command.create(
                    {
                        "field_id": field("res.partner", "company_id").id,
                        "expression": "company_id",
                    }
                )
            ],
        )
        # Dates grouped by day, month and year: currency rates (res.partner
        # has no date field on every series), in the user's companies.
        cls.currency = env["res.currency"].create(
            {"name": "QQQ", "symbol": "Q", "rounding": 0.01}
        )
        cls.rates = env["res.currency.rate"].create(
            [
                {
                    "name": day,
                    "rate": rate,
                    "currency_id": cls.currency.id,
                    "company_id": company.id,
                }
                for day, rate, company in (
                    (date(2023, 12, 30), 1.0, cls.company_a),
                    (date(2024, 1, 5), 2.0, cls.company_a),
                    (date(2024, 1, 20), 4.0, cls.company_a),
                    (date(2024, 2, 1), 8.0, cls.company_a),
                    (date(2024, 2, 2), 16.0, cls.company_b),
                )
            ]
        )
        cls.rates_api = cls.env["secure.api"].create(
            {
                "name": "Q rates",
                "route": "test/rates",
                "model_id": env["ir.model"]._get_id("res.currency.rate"),
                "obfuscate_ids": False,
                "allow_aggregate": True,
                "domain": repr([("currency_id.name", "=", "QQQ")]),
                "client_ids": [Command.set([cls.client.id])],
                "field_ids": [
                    line("res.currency.rate", "name", alias="day", searchable=True),
                    line("res.currency.rate", "rate"),
                    line("res.currency.rate", "company_id", searchable=True),
                ],
            }
        )
        cls.rates_api.action_publish()
        cls.api.client_ids = [Command.set([cls.client.id, cls.reader_client.id])]

    def setUp(self):
        super().setUp()
        self.token = self.issue()
        self.admin_env = self.env(user=self.env.ref("base.user_admin"), su=False)

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------

    def get(self, path, headers=None, token=None, route=None, **query):
        route = route or self.api.route
        url = f"/api/{route}{path}" + (f"?{urlencode(query)}" if query else "")
        return self.call("GET", url, token=token or self.token, headers=headers)

    def search_ids(self, domain, **query):
        answer = self.get("", domain=json.dumps(domain), limit=50, **query)
        return {record["id"] for record in self.answer_result(answer)["records"]}

    def admin_ids(self, domain):
        """The ids (as the API shows them) of what search_read gives an
        administrator inside the forced domain."""
        rows = self.admin_env["res.partner"].search_read(
            [*REAL_DOMAIN, *domain], ["id"]
        )
        return {self.encode("res.partner", row["id"]) for row in rows}

    def encode(self, model, record_id, api=None):
        api = api or self.api
        if not api.obfuscate_ids:
            return record_id
        return IdCodec(True, api.hashid_salt, model, api.hashid_min_length).encode(
            record_id
        )

    def aggregate(self, headers=None, route=None, **query):
        answer = self.get("/aggregate", headers=headers, route=route, **query)
        return self.answer_result(answer)

    def read_group(self, domain, groupby, aggregates=(), env=None, **kwargs):
        """What ``_read_group`` gives an administrator inside the forced
        domain, in UTC."""
        model = (env or self.admin_env)["res.partner"].with_context(tz="UTC")
        return model._read_group(
            [*REAL_DOMAIN, *domain], groupby, ["__count", *aggregates], **kwargs
        )

    def relation(self, model, record):
        return [self.encode(model, record.id), record.display_name] if record else []

    def refused(self, answer, field, name=None):
        error = self.answer_error(answer, 400, name)
        self.assertEqual(error["data"].get("field"), field, error)
        self.assertIn(field, error["message"])
        return error

    # ------------------------------------------------------------------
    # Dotted domain leaves
    # ------------------------------------------------------------------

    def test_a_dotted_leaf_filters_through_a_configured_related_field(self):
        domain = [("country_id.code", "=", "BE"), *MINE]
        found = self.search_ids(domain)
        self.assertEqual(found, self.admin_ids(domain))
        self.assertEqual(found, {self.ids(self.api, p) for p in self.partners[:3]})
        # The records as search_read gives them to an administrator.
        answer = self.get(
            "", domain=json.dumps(domain), order="id", fields="name,email_address"
        )
        rows = self.admin_env["res.partner"].search_read(
            [*REAL_DOMAIN, *domain], ["name", "email"], order="id"
        )
        self.assertEqual(
            [
                (r["id"], r["name"], r["email_address"])
                for r in self.answer_result(answer)["records"]
            ],
            [
                (self.encode("res.partner", row["id"]), row["name"], row["email"])
                for row in rows
            ],
        )

    def test_a_dotted_leaf_on_an_x2many_alias_matches_any_related_record(self):
        domain = [("tags.name", "=", "Q-Silver")]
        found = self.search_ids(domain)
        expected = self.admin_ids([("category_id.name", "=", "Q-Silver")])
        self.assertEqual(found, expected)
        self.assertEqual(len(found), 3)
        # The ORM's semantics of a path: any tag whose name differs.
        found = self.search_ids([("tags.name", "!=", "Q-Silver"), *MINE])
        self.assertEqual(
            found, self.admin_ids([("category_id.name", "!=", "Q-Silver"), *MINE])
        )

    def test_a_dotted_leaf_decodes_the_ids_of_the_related_model(self):
        euro = self.env.ref("base.EUR")
        self.belgium.currency_id = euro
        domain = [
            ("country_id.currency_id", "in", [self.encode("res.currency", euro.id)]),
            *MINE,
        ]
        found = self.search_ids(domain)
        self.assertEqual(
            found, self.admin_ids([("country_id.currency_id", "in", [euro.id]), *MINE])
        )
        self.assertTrue(found)
        answer = self.get(
            "", domain=json.dumps([("country_id.currency_id", "=", euro.id)])
        )
        error = self.answer_error(answer, 400, "invalid_id")
        self.assertEqual(error["data"]["field"], "country_id.currency_id")

    def test_dotted_leaves_stay_inside_the_forced_domain(self):
        found = self.search_ids([("country_id.code", "=", "BE"), *MINE])
        outside = {self.ids(self.api, p) for p in self.outside | self.in_b}
        self.assertFalse(found & outside)

    def test_other_dotted_leaves_are_refused_naming_the_field(self):
        for label, value in (
            ("country_id.phone_code", 32),  # not a configured related field
            ("tags.color", 1),
            ("country_id.code.x", "BE"),  # nothing else dotted
            ("name.x", "a"),
            ("phone.x", "a"),
            ("parent_id.name", "a"),  # not exposed
        ):
            with self.subTest(label=label):
                answer = self.get("", domain=json.dumps([(label, "=", value)]))
                self.refused(answer, label, "invalid_field")

    def test_dotted_leaves_check_values_of_the_sub_field_type(self):
        answer = self.get("", domain=json.dumps([("country_id.code", "=", 5)]))
        self.refused(answer, "country_id.code", "invalid_domain")
        answer = self.get("", domain=json.dumps([("country_id.code", ">", True)]))
        self.refused(answer, "country_id.code", "invalid_domain")

    # ------------------------------------------------------------------
    # Aggregates
    # ------------------------------------------------------------------

    def test_aggregate_counts_like_read_group(self):
        result = self.aggregate(groupby="country_id", domain=json.dumps(MINE))
        expected = [
            {"country_id": self.relation("res.country", country), "count": count}
            for country, count in self.read_group(MINE, ["country_id"])
        ]
        self.assertEqual(result, {"groups": expected, "length": 3})
        counts = {tuple(g["country_id"])[1]: g["count"] for g in result["groups"]}
        self.assertEqual(counts, {"Belgium": 3, "France": 2, "Germany": 1})

    def test_aggregate_measures_like_read_group(self):
        measures = "color:sum,latitude:avg,color:min,color:max"
        measures += ",email_address:count_distinct"
        result = self.aggregate(
            groupby="country_id", measures=measures, domain=json.dumps(MINE)
        )
        rows = self.read_group(
            MINE,
            ["country_id"],
            [
                "color:sum",
                "partner_latitude:avg",
                "color:min",
                "color:max",
                "email:count_distinct",
            ],
        )
        expected = [
            {
                "country_id": self.relation("res.country", country),
                "count": count,
                "color:sum": total,
                "latitude:avg": latitude,
                "color:min": low,
                "color:max": high,
                "email_address:count_distinct": emails,
            }
            for country, count, total, latitude, low, high, emails in rows
        ]
        self.assertEqual(result["groups"], expected)
        belgium = next(g for g in result["groups"] if g["country_id"][1] == "Belgium")
        self.assertEqual(
            (belgium["color:sum"], belgium["email_address:count_distinct"]), (6, 2)
        )

    def test_aggregate_groups_by_tags_as_read_group(self):
        result = self.aggregate(groupby="tags,country_id", domain=json.dumps(MINE))
        expected = [
            {
                "tags": self.relation("res.partner.category", tag),
                "country_id": self.relation("res.country", country),
                "count": count,
            }
            for tag, country, count in self.read_group(
                MINE, ["category_id", "country_id"]
            )
        ]
        self.assertEqual(result["groups"], expected)
        self.assertIn(
            {
                "tags": self.relation("res.partner.category", self.silver),
                "country_id": self.relation("res.country", self.france),
                "count": 2,
            },
            result["groups"],
        )

    def test_aggregate_groups_datetimes_by_utc_periods(self):
        for granularity in ("day", "week", "month", "quarter", "year"):
            with self.subTest(granularity=granularity):
                result = self.aggregate(
                    groupby=f"created:{granularity}", domain=json.dumps(MINE)
                )
                expected = [
                    {"created": moment.isoformat(sep=" "), "count": count}
                    for moment, count in self.read_group(
                        MINE, [f"create_date:{granularity}"]
                    )
                ]
                self.assertEqual(result["groups"], expected)
        days = self.aggregate(groupby="created:day", domain=json.dumps(MINE))
        self.assertEqual(
            days["groups"],
            [
                {"created": "2024-03-02 00:00:00", "count": 3},
                {"created": "2024-05-09 00:00:00", "count": 3},
            ],
        )

    def test_aggregate_groups_dates_by_period_month_by_default(self):
        rates = self.env["res.currency.rate"].with_user(self.api_user)
        domain = [("currency_id", "=", self.currency.id)]
        for groupby, spec in (
            ("day:year", "name:year"),
            ("day", "name:month"),
            ("day:day", "name:day"),
        ):
            with self.subTest(groupby=groupby):
                result = self.aggregate(
                    route=self.rates_api.route, groupby=groupby, measures="rate:sum"
                )
                expected = [
                    {"day": day.isoformat(), "count": count, "rate:sum": total}
                    for day, count, total in rates.with_context(
                        allowed_company_ids=[self.company_a.id]
                    )._read_group(domain, [spec], ["__count", "rate:sum"])
                ]
                self.assertEqual(result["groups"], expected)
        months = self.aggregate(
            route=self.rates_api.route, groupby="day", measures="rate:sum"
        )
        self.assertEqual(
            months["groups"],
            [
                {"day": "2023-12-01", "count": 1, "rate:sum": 1.0},
                {"day": "2024-01-01", "count": 2, "rate:sum": 6.0},
                {"day": "2024-02-01", "count": 1, "rate:sum": 8.0},
            ],
        )

    def test_aggregate_orders_limits_and_counts_every_group(self):
        result = self.aggregate(
            groupby="country_id", order="count desc", limit=2, domain=json.dumps(MINE)
        )
        self.assertEqual([g["count"] for g in result["groups"]], [3, 2])
        self.assertEqual(result["length"], 3)
        expected = self.read_group(MINE, ["country_id"], order="__count desc", limit=2)
        self.assertEqual(
            [g["country_id"][0] for g in result["groups"]],
            [self.encode("res.country", country.id) for country, _count in expected],
        )
        result = self.aggregate(
            groupby="country_id", measures="color:sum", order="color:sum asc"
        )
        sums = [g["color:sum"] for g in result["groups"]]
        self.assertEqual(sums, sorted(sums))
        # Groups are bounded by the API's maximum page.
        result = self.aggregate(groupby="name", limit=1000)
        self.assertLessEqual(len(result["groups"]), 50)

    def test_aggregate_without_groupby_counts_everything(self):
        result = self.aggregate(measures="color:sum", domain=json.dumps(MINE))
        self.assertEqual(
            result, {"groups": [{"count": 6, "color:sum": 15}], "length": 1}
        )

    def test_aggregate_applies_the_forced_and_dotted_domains(self):
        result = self.aggregate(
            groupby="country_id",
            domain=json.dumps([("country_id.code", "in", ["BE", "FR"]), *MINE]),
        )
        self.assertEqual(
            [g["count"] for g in result["groups"]],
            [
                count
                for _country, count in self.read_group(
                    [("country_id.code", "in", ["BE", "FR"]), *MINE], ["country_id"]
                )
            ],
        )
        # Q-NONE and Q-INV lie outside the forced domain, Q-B-1 in company B.
        everything = self.aggregate(domain=json.dumps(MINE))
        self.assertEqual(everything["groups"], [{"count": 6}])

    def test_aggregate_refusals_name_the_field(self):
        cases = [
            ({"groupby": "phone"}, "phone", "invalid_field"),  # not searchable
            ({"groupby": "nope"}, "nope", "invalid_field"),
            ({"groupby": "created:hour"}, "created", "invalid_parameter"),
            ({"groupby": "name:month"}, "name", "invalid_parameter"),
            ({"groupby": "country_id.code"}, "country_id.code", "invalid_field"),
            (
                {"groupby": "name,city,color,is_company"},
                "is_company",
                "invalid_parameter",
            ),
            ({"measures": "name:sum"}, "name", "invalid_field"),  # not a number
            ({"measures": "tags:count_distinct"}, "tags", "invalid_field"),
            ({"measures": "color:median"}, "color", "invalid_parameter"),
            ({"measures": "nope:sum"}, "nope", "invalid_field"),
            (
                {"groupby": "country_id", "order": "name desc"},
                "name",
                "invalid_field",
            ),
            (
                {"domain": json.dumps([("country_id.phone_code", "=", 32)])},
                "country_id.phone_code",
                "invalid_field",
            ),
        ]
        for query, field, name in cases:
            with self.subTest(query=query):
                self.refused(self.get("/aggregate", **query), field, name)

    def test_aggregate_is_an_operation_of_its_own(self):
        # Not enabled: 405, with what the path answers.
        answer = self.call(
            "GET", f"/api/{self.api_obf.route}/aggregate", token=self.token
        )
        self.answer_error(answer, 405, "method_not_allowed")
        self.assertEqual(answer.headers["Allow"], "OPTIONS")
        self.api_obf.allow_aggregate = True
        endpoint = self.api_obf.endpoint_ids.filtered(
            lambda e: e.operation == "aggregate"
        )
        self.assertEqual(
            (endpoint.http_method, endpoint.path),
            ("GET", f"/api/{self.api_obf.route}/aggregate"),
        )
        answer = self.call(
            "GET", f"/api/{self.api_obf.route}/aggregate", token=self.token
        )
        self.assertEqual(answer.status, 200, answer.body)
        # Its endpoint switched off: 404, the search still answers.
        endpoint.active = False
        answer = self.call(
            "GET", f"/api/{self.api_obf.route}/aggregate", token=self.token
        )
        self.answer_error(answer, 404)
        self.assertEqual(
            self.call("GET", f"/api/{self.api_obf.route}", token=self.token).status,
            200,
        )
        # The search scope governs it.
        reader = self.issue(self.reader_client)
        self.assertEqual(self.get("/aggregate", token=reader).status, 200)
        reader_only = self.issue(self.reader_client, scope="read")
        answer = self.get("/aggregate", token=reader_only)
        self.answer_error(answer, 403, "insufficient_scope")

    def test_aggregate_on_a_model_of_a_several_models_api(self):
        multi = self.env["secure.api"].create(
            {
                "name": "Q multi",
                "route": "test/qmulti",
                "multi_model": True,
                "allowed_model_ids": [
                    Command.set(
                        [
                            self.env["ir.model"]._get_id("res.country"),
                            self.env["ir.model"]._get_id("res.partner"),
                        ]
                    )
                ],
                "allow_aggregate": True,
                "client_ids": [Command.set([self.client.id])],
                "field_ids": [
                    Command.create(
                        {
                            "field_id": self.field("res.country", "code").id,
                            "searchable": True,
                        }
                    ),
                    Command.create({"field_id": self.field("res.partner", "name").id}),
                ],
            }
        )
        multi.action_publish()
        endpoint = multi.endpoint_ids.filtered(lambda e: e.operation == "aggregate")
        self.assertEqual(endpoint.path, "/api/test/qmulti/{model}/aggregate")
        result = self.aggregate(
            route="test/qmulti/res.country",
            groupby="code",
            domain=json.dumps([("code", "in", ["BE", "FR"])]),
        )
        self.assertEqual(
            result,
            {
                "groups": [{"code": "BE", "count": 1}, {"code": "FR", "count": 1}],
                "length": 2,
            },
        )
        # The partner model exposes no searchable field: nothing groups it.
        answer = self.get("/aggregate", route="test/qmulti/res.partner", groupby="name")
        self.refused(answer, "name", "invalid_field")

    def test_aggregate_is_never_read_as_a_record_id(self):
        answer = self.get("/aggregate", groupby="country_id")
        self.assertIn("groups", self.answer_result(answer))
        answer = self.call(
            "PATCH",
            f"/api/{self.api.route}/aggregate",
            token=self.token,
            json={"name": "x"},
        )
        self.answer_error(answer, 405)
        self.assertEqual(answer.headers["Allow"], "GET, HEAD, OPTIONS")
        self.assertEqual(
            self.call(
                "HEAD", f"/api/{self.api.route}/aggregate", token=self.token
            ).status,
            200,
        )

    def test_aggregate_runs_as_the_execution_user(self):
        # A record rule of the execution user's hides the color-5 partner.
        group = self.env["res.groups"].create({"name": "Q no color 5"})
        runner = internal_user(self.env, "Q Runner", "q_runner")
        runner.write({user_groups_field(self.env): [Command.link(group.id)]})
        self.env["ir.rule"].create(
            {
                "name": "Q no color 5",
                "model_id": self.env["ir.model"]._get_id("res.partner"),
                "domain_force": "[('color', '!=', 5)]",
                "groups": [Command.set(group.ids)],
            }
        )
        client, _secret = self.make_client("Q runner app", runner)
        self.api.client_ids = [Command.link(client.id)]
        result = self.aggregate(
            headers=None, groupby="country_id", domain=json.dumps(MINE)
        )
        self.assertEqual(sum(g["count"] for g in result["groups"]), 6)
        answer = self.get(
            "/aggregate",
            token=self.issue(client),
            groupby="country_id",
            domain=json.dumps(MINE),
        )
        groups = self.answer_result(answer)["groups"]
        runner_env = self.env(user=runner, su=False)
        self.assertEqual(
            [g["count"] for g in groups],
            [
                count
                for _c, count in self.read_group(MINE, ["country_id"], env=runner_env)
            ],
        )
        self.assertEqual(sum(g["count"] for g in groups), 5)

    def test_aggregate_costs_one_query_whatever_the_rows_it_groups(self):
        self.env["res.partner"].create(
            [{"name": f"Q-MANY-{i}", "country_id": self.belgium.id} for i in range(60)]
        )

        route = self.api.route

        def run(pattern):
            query = {
                "groupby": "country_id",
                "measures": "color:sum",
                "domain": json.dumps([("name", "=like", pattern)]),
            }
            return self.aggregate(route=route, **query)

        run("Q-%")  # warm the route, API, token and codec caches
        counts = []
        for pattern in ("Q-FR-%", "Q-%"):
            self.env.flush_all()
            self.env.invalidate_all()
            start = self.env.cr.sql_log_count
            result = run(pattern)
            counts.append(self.env.cr.sql_log_count - start)
        self.assertEqual(counts[0], counts[1], "the cost must not grow with rows")
        self.assertEqual(sum(g["count"] for g in result["groups"]), 66)
        self.env.invalidate_all()
        # The token's row, the current company (Odoo's multi-company record
        # rule reads it, as for a search), the one read_group query and the
        # countries' names.
        with self.assertQueryCount(4):
            run("Q-%")

    # ------------------------------------------------------------------
    # X-Company-Id
    # ------------------------------------------------------------------

    def company_header(self, *companies, api=None):
        return {
            "X-Company-Id": ",".join(
                str(self.encode("res.company", c.id, api)) for c in companies
            )
        }

    def test_without_the_header_the_default_company_applies(self):
        found = self.search_ids(MINE + [("name", "=", "Q-B-1")])
        self.assertEqual(found, set())
        answer = self.get(
            "",
            headers=self.company_header(self.company_b),
            domain=json.dumps([("name", "=", "Q-B-1")]),
        )
        records = self.answer_result(answer)["records"]
        self.assertEqual([r["name"] for r in records], ["Q-B-1"])
        answer = self.get(
            "",
            headers=self.company_header(self.company_a, self.company_b),
            domain=json.dumps(MINE),
            limit=50,
        )
        self.assertEqual(len(self.answer_result(answer)["records"]), 7)

    def test_the_first_company_of_the_header_is_the_current_one(self):
        for companies in (
            (self.company_b, self.company_a),
            (self.company_a, self.company_b),
        ):
            with self.subTest(current=companies[0].name):
                answer = self.call(
                    "POST",
                    f"/api/{self.api.route}",
                    token=self.token,
                    json={
                        "name": "Q-Created",
                        "country_id": self.encode("res.country", self.belgium.id),
                    },
                    headers=self.company_header(*companies),
                )
                created = self.answer_result(answer, 201)
                self.assertEqual(
                    created["company_id"][0],
                    self.encode("res.company", companies[0].id),
                )
        answer = self.call(
            "POST",
            f"/api/{self.api.route}",
            token=self.token,
            json={
                "name": "Q-Default",
                "country_id": self.encode("res.country", self.belgium.id),
            },
        )
        created = self.answer_result(answer, 201)
        self.assertEqual(
            created["company_id"][0], self.encode("res.company", self.company_a.id)
        )

    def test_record_rules_follow_the_chosen_companies_in_aggregates(self):
        route = self.rates_api.route
        default = self.aggregate(route=route, groupby="company_id")
        self.assertEqual(
            default["groups"],
            [{"company_id": [self.company_a.id, self.company_a.name], "count": 4}],
        )
        both = self.aggregate(
            route=route,
            groupby="company_id",
            headers=self.company_header(
                self.company_b, self.company_a, api=self.rates_api
            ),
        )
        self.assertEqual(
            sorted((g["company_id"][0], g["count"]) for g in both["groups"]),
            sorted([(self.company_a.id, 4), (self.company_b.id, 1)]),
        )

    def test_a_company_the_user_is_not_in_is_403(self):
        for header in (
            self.company_header(self.company_c),
            self.company_header(self.company_a, self.company_c),
            # Plain ids where the API obfuscates them, and garbage.
            {"X-Company-Id": str(self.company_a.id)},
            {"X-Company-Id": "zzzzzzzzz"},
        ):
            with self.subTest(header=header):
                answer = self.get("", headers=header)
                error = self.answer_error(answer, 403, "company_not_allowed")
                self.assertEqual(error["data"]["parameter"], "X-Company-Id")
        for operation in ("/aggregate", f"/{self.ids(self.api, self.partners[0])}"):
            answer = self.get(operation, headers=self.company_header(self.company_c))
            self.answer_error(answer, 403, "company_not_allowed")
        answer = self.get("", headers={"X-Company-Id": "a,,b"})
        self.answer_error(answer, 400, "invalid_parameter")

    # ------------------------------------------------------------------
    # Accept-Language
    # ------------------------------------------------------------------

    def translate_belgium(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.belgium.with_context(lang="fr_FR").name = "Belgique"
        self.gold.with_context(lang="fr_FR").name = "Q-Or"

    def test_accept_language_selects_the_language_of_values(self):
        self.translate_belgium()
        path = f"/{self.ids(self.api, self.partners[0])}"
        answer = self.get(path, headers={"Accept-Language": "fr-FR,fr;q=0.9"})
        record = self.answer_result(answer)
        self.assertEqual(record["country_id"][1]["name"], "Belgique")
        self.assertEqual(answer.headers["Content-Language"], "fr-FR")
        answer = self.get(path)
        self.assertEqual(self.answer_result(answer)["country_id"][1]["name"], "Belgium")
        self.assertEqual(answer.headers["Content-Language"], "en-US")
        # Not installed: the execution user's language.
        answer = self.get(path, headers={"Accept-Language": "de-DE"})
        self.assertEqual(self.answer_result(answer)["country_id"][1]["name"], "Belgium")
        self.assertEqual(answer.headers["Content-Language"], "en-US")

    def test_accept_language_applies_to_domains_and_groups(self):
        self.translate_belgium()
        french = {"Accept-Language": "fr"}
        answer = self.get(
            "",
            headers=french,
            domain=json.dumps([("country_id.name", "=", "Belgique"), *MINE]),
            limit=50,
        )
        self.assertEqual(len(self.answer_result(answer)["records"]), 3)
        result = self.aggregate(headers=french, groupby="tags", domain=json.dumps(MINE))
        names = {g["tags"][1] for g in result["groups"] if g["tags"]}
        self.assertEqual(names, {"Q-Or", "Q-Silver"})
        result = self.aggregate(groupby="tags", domain=json.dumps(MINE))
        names = {g["tags"][1] for g in result["groups"] if g["tags"]}
        self.assertEqual(names, {"Q-Gold", "Q-Silver"})

    # ------------------------------------------------------------------
    # Documents and the live-test wizard
    # ------------------------------------------------------------------

    def test_openapi_documents_the_aggregate_and_the_headers(self):
        document = self.api.get_openapi_document()
        if openapi_spec_validator is not None:
            openapi_spec_validator.validate(document)
        path = document["paths"][f"/api/{self.api.route}/aggregate"]
        operation = path["get"]
        self.assertEqual(operation["operationId"], "test_real_aggregate")
        self.assertEqual(
            [p["name"] for p in operation["parameters"]],
            ["groupby", "measures", "domain", "order", "limit"],
        )
        self.assertIn("country_id.code", operation["parameters"][2]["description"])
        headers = {p["name"] for p in path["parameters"]}
        self.assertEqual(headers, {"X-Company-Id", "Accept-Language"})
        group = document["components"]["schemas"]["TestRealResPartnerGroup"]
        self.assertTrue(
            {"country_id", "tags", "created", "count"} <= set(group["properties"])
        )
        # The registry's statuses: 403 for a company the user is not in.
        self.assertIn("403", operation["responses"])

    def test_the_live_test_wizard_runs_an_aggregate(self):
        endpoint = self.api.endpoint_ids.filtered(lambda e: e.operation == "aggregate")
        query = urlencode(
            {
                "groupby": "country_id",
                "measures": "color:sum",
                "domain": json.dumps(MINE),
            }
        )
        wizard = self.env["secure.api.test.wizard"].create(
            {
                "api_id": self.api.id,
                "endpoint_id": endpoint.id,
                "auth_type": "app",
                "app_id": self.client.id,
                "query": query,
            }
        )
        wizard.action_run()
        self.assertEqual(wizard.response_status, 200, wizard.response_body)
        direct = self.aggregate(
            groupby="country_id", measures="color:sum", domain=json.dumps(MINE)
        )
        self.assertEqual(json.loads(wizard.response_body)["result"], direct)
        self.assertIn(f"/api/{self.api.route}/aggregate?groupby=", wizard.curl)
