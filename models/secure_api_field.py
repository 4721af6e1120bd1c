import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .. import compat

ALIAS_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}\Z")
RELATIONAL = ("many2one", "one2many", "many2many")
# Fields the engine renders and accepts; others (e.g. properties, reference)
# have no stable JSON shape in the contract.
SUPPORTED_TYPES = (
    "char",
    "text",
    "html",
    "integer",
    "float",
    "monetary",
    "boolean",
    "selection",
    "date",
    "datetime",
    "binary",
    "many2one",
    "one2many",
    "many2many",
)


# Fields whose value in a URL path identifies a record.
UPSERT_TYPES = ("char", "integer", "selection")


def orm_field(env, ir_field):
    """The ORM field an ``ir.model.fields`` record describes (or ``None``)."""
    model = env.get(ir_field.model)
    return model._fields.get(ir_field.name) if model is not None else None


def field_spec(env, field, alias):
    """What a spec says of the ORM field itself, for an exposed field and a
    line field alike; each adds what its configuration decides."""
    selection = None
    if field.type == "selection":
        selection = [key for key, _label in field._description_selection(env)]
    return {
        "name": field.name,
        "alias": alias or field.name,
        "type": field.type,
        "relation": field.comodel_name if field.type in RELATIONAL else None,
        "string": field.string,
        "help": field.help or "",
        "required": bool(field.required),
        # Odoo fills it on create when the body leaves it out.
        "has_default": field.default is not None,
        "selection": selection,
    }


class SecureApiField(models.Model):
    _name = "secure.api.field"
    _inherit = ["secure.api.cache.mixin", "secure.api.privileged.mixin"]
    _description = "Exposed API Field"
    _order = "api_id, sequence, id"
    # What anonymous callers read and write: administrators decide it on
    # public APIs, managers on the others.
    _privileged_public_only = True

    api_id = fields.Many2one(
        "secure.api",
        string="API",
        required=True,
        ondelete="cascade",
        index=True,
        help="The API that exposes this field.",
    )
    sequence = fields.Integer(
        default=10,
        help="Order of the fields in answers and in the documentation.",
    )
    field_id = fields.Many2one(
        "ir.model.fields",
        required=True,
        ondelete="cascade",
        domain="[('ttype', 'in', %s)]" % (list(SUPPORTED_TYPES),),
        help="The Odoo field exposed (its technical name in brackets). "
        "Clients read it; they write it only if it is writable.",
    )
    model_name = fields.Char(
        related="field_id.model",
        store=True,
        string="Model",
        help="The technical name of the field's model: several-models APIs "
        "expose fields of each allowed model.",
    )
    field_name = fields.Char(
        related="field_id.name",
        string="Technical Name",
        help="The field's technical name, used in the API when no alias is given.",
    )
    field_type = fields.Selection(
        related="field_id.ttype",
        string="Type",
        help="The field's Odoo type: it decides the JSON type clients get.",
    )
    relation = fields.Char(
        related="field_id.relation",
        string="Related Model",
        help="For relational fields, the technical name of the model they point to.",
    )
    alias = fields.Char(
        help="Client-facing name; the technical name when empty. Changing "
        "it breaks the clients that use the previous name."
    )
    searchable = fields.Boolean(
        help="Usable in the client's domain and order. Other fields in a "
        "domain or order are refused (400)."
    )
    upsert_key = fields.Boolean(
        help="Clients may create or update a record by this field's value: "
        "PUT /api/<route>/by/<name>/<value>. The field must be searchable.",
    )
    writable = fields.Boolean(
        help="Accepted in create and update bodies; other fields sent are "
        "refused (400)."
    )
    write_lines = fields.Boolean(
        string="Allow Linking Lines",
        help="One2many fields only: let clients set which records are linked "
        "(a list of ids; see Allow Writing Lines to write the lines themselves). "
        "Only records the execution user may write, and inside the API when "
        "they are of its model, are accepted; removing lines (which may "
        "delete them) needs the delete operation and scope.",
    )
    allow_lines = fields.Boolean(
        string="Allow Writing Lines",
        help="One2many fields only: clients create, update and remove the "
        "lines with their header, in one call, through the line fields "
        "below; reads show the lines with these fields. Removing lines needs "
        "the delete operation and scope.",
    )
    line_field_ids = fields.One2many(
        "secure.api.field.line",
        "api_field_id",
        string="Line Fields",
        copy=True,
        help="The fields of the lines that clients read and, when writable, write.",
    )
    related_field_ids = fields.Many2many(
        "ir.model.fields",
        "secure_api_field_related_rel",
        "line_id",
        "field_id",
        string="Related Fields",
        domain="[('model', '=', relation), ('ttype', 'in', %s)]"
        % (list(SUPPORTED_TYPES),),
        help="Fields of the related record returned inside this field's value.",
    )
    public_name = fields.Char(compute="_compute_public_name", string="Name in API")

    @api.depends("alias", "field_id")
    def _compute_public_name(self):
        for line in self:
            line.public_name = line.alias or line.field_id.name

    @api.constrains("alias", "field_id", "api_id")
    def _check_alias(self):
        for line in self:
            name = line.public_name
            if line.alias and not ALIAS_RE.match(line.alias):
                raise ValidationError(
                    _("The alias '%s' is not a valid identifier.", line.alias)
                )
            if name == "id" or line.field_id.name == "id":
                raise ValidationError(_("The record id is always exposed as 'id'."))
            same = line.api_id.field_ids.filtered(
                lambda other, line=line: (
                    other != line
                    and other.model_name == line.model_name
                    and other.public_name == line.public_name
                )
            )
            if same:
                raise ValidationError(
                    _("The name '%s' is exposed twice in this API.", name)
                )

    @api.constrains("field_id", "api_id")
    def _check_model(self):
        for line in self:
            if line.field_id.model not in line.api_id._get_model_names():
                raise ValidationError(
                    _(
                        "Field %(field)s does not belong to a model of the API.",
                        field=line.field_id.display_name,
                    )
                )
            if line.field_id.ttype not in SUPPORTED_TYPES:
                raise ValidationError(
                    _("Fields of type %s cannot be exposed.", line.field_id.ttype)
                )

    @api.constrains("upsert_key", "searchable", "field_id")
    def _check_upsert_key(self):
        for line in self:
            field = line._orm_field()
            if line.upsert_key and (
                not line.searchable
                or line.field_id.ttype not in UPSERT_TYPES
                or field is None
                or not field.store
                or field.translate
            ):
                raise ValidationError(
                    _(
                        "An upsert key must be a searchable, stored, untranslated "
                        "field of type text, integer or selection."
                    )
                )

    @api.constrains("writable", "field_id")
    def _check_writable(self):
        for line in self:
            if line.writable and not line._is_writable_field():
                raise ValidationError(
                    _(
                        "Field %s is read-only and cannot be writable.",
                        line.field_id.name,
                    )
                )

    @api.constrains("related_field_ids", "field_id")
    def _check_related_fields(self):
        for line in self:
            if not line.related_field_ids:
                continue
            if line.field_id.ttype not in RELATIONAL:
                raise ValidationError(_("Only relational fields have related fields."))
            wrong = line.related_field_ids.filtered(
                lambda f, line=line: f.model != line.field_id.relation
            )
            if wrong:
                raise ValidationError(
                    _("Related fields must belong to %s.", line.field_id.relation)
                )

    @api.constrains("allow_lines", "field_id")
    def _check_allow_lines(self):
        for line in self:
            if line.allow_lines and line.field_id.ttype != "one2many":
                raise ValidationError(
                    _(
                        "Only one2many fields have lines to write (%s).",
                        line.public_name,
                    )
                )

    def action_open_lines(self):
        """The line fields of this one2many, in a dialog."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Line Fields"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [
                (self.env.ref("secure_api.secure_api_field_lines_view_form").id, "form")
            ],
            "target": "new",
        }

    def _orm_field(self):
        self.ensure_one()
        return orm_field(self.env, self.field_id)

    def _is_writable_field(self, field=None):
        field = field if field is not None else self._orm_field()
        if field is None or field.name in compat.LOG_COLUMNS:
            return False
        if field.readonly and not field.inverse:
            return False
        return not (field.compute and not field.inverse and not field.store)

    def _spec(self, model_fields):
        """The plain field spec the core serializer works on (or ``None``)."""
        self.ensure_one()
        field = model_fields.get(self.field_id.name)
        if field is None:
            return None
        related = []
        if field.type in RELATIONAL and self.related_field_ids:
            comodel_fields = self.env[field.comodel_name]._fields
            for sub in self.related_field_ids:
                sub_field = comodel_fields.get(sub.name)
                if sub_field is not None:
                    related.append(
                        {
                            "name": sub.name,
                            "type": sub_field.type,
                            "relation": sub_field.comodel_name,
                            # A domain may filter through it (country_id.code).
                            "searchable": bool(sub_field.store or sub_field.search),
                        }
                    )
        return {
            **field_spec(self.env, field, self.alias),
            "searchable": self.searchable and bool(field.store or field.search),
            # Only stored fields (or those inherited from a stored parent's,
            # as res.users' from res.partner) group records and have measures.
            "stored": bool(
                field.store or (field.inherited and field.related_field.store)
            ),
            "upsert_key": self.upsert_key
            and self.searchable
            and field.type in UPSERT_TYPES
            and bool(field.store)
            and not field.translate,
            "writable": self.writable
            and self._is_writable_field()
            and (field.type != "one2many" or self.write_lines or self.allow_lines),
            "related": related,
            "lines": self._lines_spec(field),
        }

    def _lines_spec(self, field):
        """The line field specs of a one2many written with its lines, or
        ``None``: its value is then a list of ids, as before."""
        if field.type != "one2many" or not self.allow_lines:
            return None
        comodel_fields = self.env[field.comodel_name]._fields
        specs = [
            line._spec(comodel_fields)
            for line in self.line_field_ids.sorted("sequence")
        ]
        return [spec for spec in specs if spec]
