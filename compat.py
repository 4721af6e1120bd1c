"""What differs between the supported Odoo series (17.0, 18.0, 19.0), in one
place, detected by feature rather than by version number.

Everything else in the addon is written once for all three.
"""

import re

from lxml import etree

from odoo import fields, models
from odoo.tools import sql

LOG_COLUMNS = ("id", "create_uid", "create_date", "write_uid", "write_date")


def sql_constraints(*constraints):
    """Class decorator declaring ``(name, definition, message)`` constraints.

    19.0 declares them as ``models.Constraint`` attributes named ``_<name>``;
    18.0 as the ``_sql_constraints`` list. Both name the database constraint
    ``<table>_<name>``.
    """

    def decorate(cls):
        if hasattr(models, "Constraint"):
            for name, definition, message in constraints:
                constraint = models.Constraint(definition, message)
                setattr(cls, f"_{name}", constraint)
                constraint.__set_name__(cls, f"_{name}")
        else:
            cls._sql_constraints = [*getattr(cls, "_sql_constraints", []), *constraints]
        return cls

    return decorate


def user_groups_field(env):
    """``res.users``' groups: ``group_ids`` in 19.0, ``groups_id`` before."""
    return "group_ids" if "group_ids" in env["res.users"]._fields else "groups_id"


def group_users_field(env):
    """``res.groups``' users: ``user_ids`` in 19.0, ``users`` before."""
    return "user_ids" if "user_ids" in env["res.groups"]._fields else "users"


def setup_groups(env, groups, category, users):
    """File ``groups`` under the application ``category`` and give the last
    (the highest) group to ``users``.

    19.0 groups belong to a privilege of the category; before, to the
    category itself.
    """
    if "privilege_id" in env["res.groups"]._fields:
        privileges = env["res.groups.privilege"].sudo()
        privilege = privileges.search([("category_id", "=", category.id)], limit=1)
        if not privilege:
            privilege = privileges.create(
                {"name": category.name, "category_id": category.id}
            )
        groups.write({"privilege_id": privilege.id})
    else:
        groups.write({"category_id": category.id})
    groups[-1:].write({group_users_field(env): [(4, user.id) for user in users]})


def create_unique_index(cr, name, table, expressions):
    """A unique index on expressions; 19.0 folded it into ``create_index``."""
    if "unique" in sql.create_index.__code__.co_varnames:
        sql.create_index(cr, name, table, expressions, unique=True)
    else:
        sql.create_unique_index(cr, name, table, expressions)


def check_fields_readable(model, names):
    """Raise AccessError unless the user may read these fields of ``model``."""
    if hasattr(model, "_check_field_access"):  # 19.0
        for name in names:
            model._check_field_access(model._fields[name], "read")
    else:
        model.check_field_access_rights("read", names)


def werkzeug_request(httprequest):
    """The werkzeug request behind Odoo's ``HTTPRequest`` wrapper.

    The wrapper exposes neither the input stream nor the cached form, which
    reading the body once within a limit needs.
    """
    return getattr(httprequest, "_HTTPRequest__wrapped", httprequest)


def check_access(records, operation):
    """Raise AccessError unless the user may ``operation`` these records
    (ACLs and record rules); 17.0 checks them in two calls."""
    if hasattr(records, "check_access"):
        records.check_access(operation)
    else:
        records.check_access_rights(operation)
        records.check_access_rule(operation)


def aggregate(operator):
    """The field keyword of the group-by aggregate: ``aggregator`` since
    18.0, ``group_operator`` in 17.0."""
    name = "aggregator" if hasattr(fields.Field, "aggregator") else "group_operator"
    return {name: operator}


LIST_TAG_RE = re.compile(r"<(/?)list(?=[\s>/])")


def has_list_views(env):
    """Whether ``list`` is a view type (18.0+); 17.0 names it ``tree``."""
    return "list" in dict(env["ir.ui.view"]._fields["type"].selection)


def tree_arch(arch):
    """A view architecture written with ``<list>`` in 17.0's ``<tree>``."""
    if isinstance(arch, str) and "<list" in arch:
        return LIST_TAG_RE.sub(r"<\1tree", arch)
    return arch


def kanban_box_arch(arch):
    """A kanban architecture written with the ``card`` template of 18.0 and
    19.0 in 17.0's ``kanban-box``.

    17.0 knows no ``card`` (and 19.0 no ``kanban-box``): the card's content
    goes into the single root ``div`` a ``kanban-box`` needs, which opens the
    record on click (``oe_kanban_global_click``) as a card does.
    """
    if not isinstance(arch, str) or 't-name="card"' not in arch:
        return arch
    root = etree.fromstring(arch.encode("utf-8") if arch.startswith("<?") else arch)
    for card in root.iterfind(".//templates/t[@t-name='card']"):
        card.set("t-name", "kanban-box")
        box = etree.Element(
            "div", {"class": "oe_kanban_global_click d-flex flex-column"}
        )
        box.text, card.text = card.text, None
        box.extend(list(card))
        card.append(box)
    return etree.tostring(root, encoding="unicode")


def tree_view_mode(view_mode):
    """An action's view modes with ``list`` in 17.0's name, ``tree``."""
    if not isinstance(view_mode, str):
        return view_mode
    return ",".join("tree" if mode == "list" else mode for mode in view_mode.split(","))


def action_url(xmlid):
    """The web client's URL of a window action: ``/odoo/action-<xmlid>``
    since 18.0, ``/web#action=<xmlid>`` in 17.0."""
    from odoo.addons.web.controllers.home import Home

    routes = getattr(Home.web_client, "original_routing", {}).get("routes") or []
    if any(route.startswith("/odoo") for route in routes):
        return f"/odoo/action-{xmlid}"
    return f"/web#action={xmlid}"


def id_in_subquery(subquery, negative=False):
    """A domain of the rows whose id the SQL ``subquery`` selects (not
    selects, with ``negative``).

    Rendered ``id = ANY(ARRAY(subquery))``: PostgreSQL runs the subquery once,
    first (an InitPlan), so that its selective index (a GIN index, whose
    selectivity the planner cannot estimate) is used, then fetches the rows by
    primary key; an ``IN``/``EXISTS`` could instead be planned as a walk of
    the whole table in the list's order. 19.0 takes the SQL as a custom
    domain; before, ``('id', '=', SQL)`` renders its value as is.
    """
    from odoo.tools import SQL

    array = SQL("ARRAY(%s)", subquery)
    quantified = SQL("ALL(%s)", array) if negative else SQL("ANY(%s)", array)
    try:
        from odoo.orm.domains import Domain
    except ImportError:
        Domain = None  # noqa: N806
    if Domain is not None and hasattr(Domain, "custom"):
        operator = "<>" if negative else "="
        return Domain.custom(
            to_sql=lambda _model, alias, _query: SQL(
                f"%s {operator} %s", SQL.identifier(alias, "id"), quantified
            )
        )
    return [("id", "!=" if negative else "=", quantified)]


def setup_extra_group(env, group, category, privilege_name):
    """File ``group`` under the application ``category`` beside its main
    groups: in 19.0, as a privilege of its own (``privilege_name``), so that
    the user form offers it apart from the main selection; before, in the
    category itself."""
    if "privilege_id" in env["res.groups"]._fields:
        privileges = env["res.groups.privilege"].sudo()
        privilege = privileges.search(
            [("category_id", "=", category.id), ("name", "=", privilege_name)], limit=1
        )
        if not privilege:
            privilege = privileges.create(
                {"name": privilege_name, "category_id": category.id, "sequence": 200}
            )
        group.write({"privilege_id": privilege.id})
    else:
        group.write({"category_id": category.id})
