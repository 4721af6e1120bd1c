from odoo import fields, models


class SecureApiClientSecretShow(models.AbstractModel):
    """Shows a new secret once. Abstract: the secret is never stored."""

    _name = "secure.api.client.secret.show"
    _description = "Show Client Secret"

    # ``id`` is needed by the form's onchange that returns the defaults.
    id = fields.Id()
    client_id = fields.Char(
        string="Client ID",
        readonly=True,
        help="The app's public identifier, sent with the secret to get a token.",
    )
    client_secret = fields.Char(
        string="Secret",
        readonly=True,
        help="Shown only now: store it where the app keeps its credentials. "
        "Lost, it can only be replaced by a new one.",
    )
    # Set for a webhook's signing secret, which the server keeps (it signs
    # with it) but never shows again.
    webhook_url = fields.Char(
        string="Webhook URL",
        readonly=True,
        help="The receiver that checks each delivery's signature with this secret.",
    )
