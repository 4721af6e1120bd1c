"""The hot path's view of APIs: plain data built once per API version,
cached per registry (``replica.ormcache``) and cleared on every write of the
configuration (``secure.api.cache.mixin``)."""

import hashlib

from odoo import api, fields, models

from .. import replica
from ..core import domain as core_domain
from ..core.cors import parse_origins


def _datetime(text):
    """A setting's UTC datetime, or ``None`` when unset or malformed."""
    try:
        return fields.Datetime.to_datetime(text) if text else None
    except ValueError:
        return None


def _bounded_int(text, default, low, high):
    """A setting's integer within ``[low, high]``; ``default`` when unset
    or not an integer (a typo must not stop every request)."""
    try:
        value = int(text) if text not in (None, False, "") else default
    except ValueError:
        value = default
    return min(max(value, low), high)


class SecureApiSpec(models.Model):
    _inherit = "secure.api"

    @api.model
    @replica.ormcache()
    def _get_route_map(self):
        """``{route: api id}`` of the active APIs, read on the primary (see
        ``replica``), as are the settings and specs below."""
        apis = self.sudo().search_read([("state", "=", "active")], ["route"])
        return {row["route"]: row["id"] for row in apis}

    @api.model
    @replica.ormcache()
    def _get_settings(self):
        """Global settings of the request path (cleared when parameters change).

        Read from the table, not through ``get_param``, whose cache any
        read-only request may have filled on a replica.
        """
        self.env["ir.config_parameter"].flush_model(["key", "value"])
        self.env.cr.execute(
            "SELECT key, value FROM ir_config_parameter WHERE key LIKE %s",
            ["secure\\_api.%"],
        )
        param = dict(self.env.cr.fetchall()).get
        return {
            "max_body": int(param("secure_api.max_body_kb", 1024) or 1024) * 1024,
            "jwt_leeway": int(param("secure_api.jwt_leeway", 30) or 30),
            "auth_max_failures": int(param("secure_api.auth_max_failures", 10) or 10),
            "openapi_public": bool(param("secure_api.openapi_public")),
            # Below this many rows (by the planner's estimate), count=estimated
            # answers the exact count.
            "estimate_threshold": int(
                param("secure_api.estimate_threshold", 100000) or 100000
            ),
            # How long a read with a consistency token waits for the replica
            # to replay its write before it reads on the primary.
            "consistency_wait_ms": _bounded_int(
                param("secure_api.consistency_wait_ms"), 1000, 0, 10000
            ),
            # How long APIs that sync deletions keep their tombstones.
            "tombstone_days": _bounded_int(
                param("secure_api.tombstone_days"), 30, 1, 36500
            ),
            # The newest removal the purge forgot: a longer retention set
            # later must not make a changed_since before it look complete.
            "tombstone_purged_until": _datetime(
                param("secure_api.tombstone_purged_until")
            ),
        }

    @api.model
    @replica.ormcache("api_id")
    def _get_spec(self, api_id):
        """The plain description of one API that the engine runs on.

        Everything the request path needs is here, so that serving a request
        reads no configuration from the database once the cache is warm.
        """
        record = self.sudo().browse(api_id).exists()
        if not record or record.state != "active":
            return None
        return record._build_spec()

    def _build_spec(self):
        self.ensure_one()
        models_spec = {}
        for model_name in self._get_model_names():
            if model_name not in self.env:
                continue
            model_fields = self.env[model_name]._fields
            lines = self.field_ids.filtered(
                lambda line, m=model_name: line.model_name == m
            )
            field_specs = [
                line._spec(model_fields) for line in lines.sorted("sequence")
            ]
            field_specs = [spec for spec in field_specs if spec]
            defaults = [
                {"name": line.field_id.name, "expression": line.expression}
                for line in self.default_ids
                if line.field_id.model == model_name
            ]
            methods = {
                line.name: {
                    "name": line.name,
                    "on_records": line.on_records,
                    "encoding": line.response_encoding,
                    "keys": tuple(
                        k.strip()
                        for k in (line.encoded_keys or "").split(",")
                        if k.strip()
                    ),
                }
                for line in self.method_ids
                if not line.model_id or line.model_id.model == model_name
            }
            models_spec[model_name] = {
                "model": model_name,
                "fields": field_specs,
                "defaults": defaults,
                "methods": methods,
                "has_active": "active" in model_fields,
            }
        endpoints = {
            endpoint.operation: {"id": endpoint.id, "active": endpoint.active}
            for endpoint in self.with_context(active_test=False).endpoint_ids
        }
        spec = {
            "id": self.id,
            "name": self.name,
            "route": self.route,
            "multi_model": self.multi_model,
            "model": None if self.multi_model else self.model_id.model,
            "models": models_spec,
            "operations": tuple(self._enabled_operations()),
            "endpoints": endpoints,
            "auth_mode": self.auth_mode,
            "run_as_uid": self.run_as_user_id.id or None,
            "domain": core_domain.normalize(
                core_domain.parse_literal(self.domain or "[]", max_chars=65536)
            ),
            "obfuscate": self.obfuscate_ids,
            "salt": self.hashid_salt or "",
            "min_length": self.hashid_min_length,
            "binary_mode": self.binary_mode,
            "default_limit": self.default_limit,
            "max_limit": self.max_limit,
            "default_order": self.default_order or None,
            "cors": {
                "enabled": self.cors_enabled,
                "origins": parse_origins(self.cors_origins),
                "methods": self.cors_methods,
                "headers": self.cors_headers,
                "max_age": self.cors_max_age,
            },
            "log_level": self.log_level,
            "log_bodies": self.log_bodies,
            "statistics": self.statistics_enabled,
            "test_mode": self.test_mode,
            "sync_deletions": self.sync_deletions,
            "sync_deletions_since": self.sync_deletions_since or None,
            "client_ids": frozenset(self.client_ids.ids),
            "rate": (self.rate_limit, self.rate_window),
        }
        # Part of every ETag: changing what the API shows changes them all.
        spec["config_version"] = hashlib.sha256(
            repr((spec["models"], spec["binary_mode"], spec["obfuscate"])).encode()
        ).hexdigest()[:16]
        return spec
