from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    secure_api_jwt_leeway = fields.Integer(
        string="JWT Leeway (s)",
        config_parameter="secure_api.jwt_leeway",
        default=30,
        help="Clock skew tolerated on exp, nbf and iat.",
    )
    secure_api_max_body_kb = fields.Integer(
        string="Maximum Body Size (KiB)",
        config_parameter="secure_api.max_body_kb",
        default=1024,
    )
    secure_api_openapi_public = fields.Boolean(
        string="Public OpenAPI Document",
        config_parameter="secure_api.openapi_public",
        help="Serve /api/openapi.json and /api/docs to anyone; "
        "otherwise to API managers only.",
    )
    secure_api_auth_max_failures = fields.Integer(
        string="Token Failures Before Lockout",
        config_parameter="secure_api.auth_max_failures",
        default=10,
    )
