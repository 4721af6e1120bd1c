from odoo import api, models


class SecureApiCacheMixin(models.AbstractModel):
    """Clears the registry cache whenever configuration changes.

    The request path reads APIs, clients and their lines only through
    ``ormcache``d lookups; any write to a model with this mixin invalidates
    them, in every worker (Odoo signals cache invalidation through the
    database).
    """

    _name = "secure.api.cache.mixin"
    _description = "Secure API configuration cache invalidation"

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self.env.registry.clear_cache()
        return records

    def write(self, vals):
        result = super().write(vals)
        self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result
