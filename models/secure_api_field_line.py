from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .secure_api_field import ALIAS_RE, SUPPORTED_TYPES, field_spec, orm_field

# Line fields: no nested lines, and no binaries (their URL route serves the
# API's own fields only).
LINE_TYPES = tuple(t for t in SUPPORTED_TYPES if t not in ("binary", "one2many"))


class SecureApiFieldLine(models.Model):
    """A field of the lines of a one2many written with its header."""

    _name = "secure.api.field.line"
    _inherit = ["secure.api.cache.mixin", "secure.api.privileged.mixin"]
    _description = "Exposed Field of API Lines"
    _order = "api_field_id, sequence, id"
    # Like the exposed fields: administrators decide them on public APIs.
    _privileged_public_only = True

    api_field_id = fields.Many2one(
        "secure.api.field",
        string="Lines Field",
        required=True,
        ondelete="cascade",
        index=True,
        help="The one2many field whose lines have this field.",
    )
    api_id = fields.Many2one(
        related="api_field_id.api_id", string="API", help="The API of the lines."
    )
    sequence = fields.Integer(default=10, help="Order of the fields in a line.")
    line_model = fields.Char(
        related="api_field_id.relation",
        string="Line Model",
        help="The technical name of the lines' model.",
    )
    field_id = fields.Many2one(
        "ir.model.fields",
        required=True,
        ondelete="cascade",
        domain="[('model', '=', line_model), ('ttype', 'in', %s)]"
        % (list(LINE_TYPES),),
        help="A field of the lines' model (its technical name in brackets).",
    )
    field_type = fields.Selection(
        related="field_id.ttype",
        string="Type",
        help="The field's Odoo type: it decides the JSON type clients get.",
    )
    alias = fields.Char(
        help="Client-facing name in a line; the technical name when empty."
    )
    writable = fields.Boolean(
        help="Accepted in the lines of create and update bodies; other "
        "fields sent are refused (400)."
    )
    public_name = fields.Char(compute="_compute_public_name", string="Name in API")

    @api.depends("alias", "field_id")
    def _compute_public_name(self):
        for line in self:
            line.public_name = line.alias or line.field_id.name

    @api.constrains("alias", "field_id", "api_field_id")
    def _check_alias(self):
        for line in self:
            if line.alias and not ALIAS_RE.match(line.alias):
                raise ValidationError(
                    _("The alias '%s' is not a valid identifier.", line.alias)
                )
            if line.public_name == "id" or line.field_id.name == "id":
                raise ValidationError(_("The line id is always exposed as 'id'."))
            same = line.api_field_id.line_field_ids.filtered(
                lambda other, line=line: (
                    other != line and other.public_name == line.public_name
                )
            )
            if same:
                raise ValidationError(
                    _(
                        "The name '%s' is exposed twice in these lines.",
                        line.public_name,
                    )
                )

    @api.constrains("field_id", "api_field_id", "writable")
    def _check_field(self):
        for line in self:
            header = line.api_field_id
            if line.field_id.model != header.field_id.relation:
                raise ValidationError(
                    _(
                        "Field %(field)s is not a field of the lines (%(model)s).",
                        field=line.field_id.display_name,
                        model=header.field_id.relation,
                    )
                )
            if line.field_id.ttype not in LINE_TYPES:
                raise ValidationError(
                    _("Fields of type %s cannot be line fields.", line.field_id.ttype)
                )
            if line.writable and not line._is_writable_line_field():
                raise ValidationError(
                    _(
                        "Field %s of the lines is read-only, or links a line to "
                        "its header, and cannot be writable.",
                        line.field_id.name,
                    )
                )

    def _orm_field(self):
        self.ensure_one()
        return orm_field(self.env, self.field_id)

    def _is_writable_line_field(self):
        """Writable like an exposed field, except the field that links the
        line to its header: writing it would move the line to another."""
        self.ensure_one()
        header = self.api_field_id._orm_field()
        if header is not None and self.field_id.name == header.inverse_name:
            return False
        return self.api_field_id._is_writable_field(self._orm_field())

    def _spec(self, model_fields):
        """The line field spec the core serializer works on (or ``None``)."""
        self.ensure_one()
        field = model_fields.get(self.field_id.name)
        if field is None or field.type not in LINE_TYPES:
            return None
        return {
            **field_spec(self.env, field, self.alias),
            "searchable": False,
            "stored": bool(field.store),
            "upsert_key": False,
            "writable": self.writable and self._is_writable_line_field(),
            "related": [],
            "lines": None,
        }
