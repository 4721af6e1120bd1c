import base64
import json

from odoo import _, api, fields, models
from odoo.exceptions import UserError

try:  # YAML only where PyYAML is already installed with Odoo
    import yaml
except ImportError:  # pragma: no cover - depends on the server
    yaml = None


class SecureApiExportWizard(models.TransientModel):
    _name = "secure.api.export.wizard"
    _description = "Export APIs as Postman or OpenAPI"

    api_ids = fields.Many2many(
        "secure.api",
        string="APIs",
        domain=[("state", "=", "active")],
        help="The published APIs to describe; every published API when empty.",
    )
    export_format = fields.Selection(
        [("openapi", "OpenAPI 3"), ("postman", "Postman collection v2.1")],
        string="Format",
        default="openapi",
        required=True,
        help="OpenAPI 3: the standard description, for code generators and "
        "API tools. Postman: a collection of ready-to-send requests, with "
        "the token request first.",
    )
    file_type = fields.Selection(
        selection="_selection_file_type",
        default="json",
        required=True,
        help="The file's syntax: JSON, or YAML where the server has PyYAML.",
    )
    data = fields.Binary(
        string="File",
        readonly=True,
        attachment=False,
        help="The exported document, downloaded at once.",
    )
    filename = fields.Char(readonly=True, help="The name of the exported file.")

    @api.model
    def _selection_file_type(self):
        types = [("json", "JSON")]
        if yaml is not None:
            types.append(("yaml", "YAML"))
        return types

    def action_export(self):
        """Build the document, attach it to the wizard and download it."""
        self.ensure_one()
        apis = self.api_ids.filtered(lambda a: a.state == "active")
        if self.api_ids and not apis:
            raise UserError(_("Only active APIs can be exported: publish them first."))
        if self.export_format == "postman":
            document = apis.get_postman_collection()
        else:
            document = apis.get_openapi_document()
        if self.file_type == "yaml" and yaml is not None:
            content = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
        else:
            content = json.dumps(document, indent=2, ensure_ascii=False)
        stem = "postman_collection" if self.export_format == "postman" else "openapi"
        self.write(
            {
                "data": base64.b64encode(content.encode("utf-8")),
                "filename": f"secure_api_{stem}.{self.file_type}",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self._name}/{self.id}/data/{self.filename}"
            "?download=true",
            "target": "self",
        }
