from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    secure_api_jwt_leeway = fields.Integer(
        string="JWT Leeway (s)",
        config_parameter="secure_api.jwt_leeway",
        default=30,
        help="Clock difference tolerated between this server and the ones "
        "that check JWTs, on their exp, nbf and iat claims, in seconds: a "
        "JWT is accepted this long after it expired.",
    )
    secure_api_max_body_kb = fields.Integer(
        string="Maximum Body Size (KiB)",
        config_parameter="secure_api.max_body_kb",
        default=1024,
        help="Requests with a larger body are refused with 413 before they "
        "are read, in KiB. Raise it for APIs that receive files as base64.",
    )
    secure_api_openapi_public = fields.Boolean(
        string="Public OpenAPI Document",
        config_parameter="secure_api.openapi_public",
        help="Serve /api/openapi.json and /api/docs to anyone; "
        "otherwise to API managers only (and, for openapi.json, to a client "
        "with a token: what it may call).",
    )
    secure_api_auth_max_failures = fields.Integer(
        string="Token Failures Before Lockout",
        config_parameter="secure_api.auth_max_failures",
        default=10,
        help="Failed token requests per client ID or per address within 5 "
        "minutes before the token endpoints answer 429 to them until the 5 "
        "minutes are over.",
    )
