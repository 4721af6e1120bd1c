"""Pipeline step: calling a whitelisted method (RPC)."""

import inspect

from odoo import models

from ..core import rpc as core_rpc
from ..core.exceptions import BadRequest, NotFound


class SecureApiEngineRpc(models.AbstractModel):
    _inherit = "secure.api.engine"

    def _op_rpc(self, call):
        methods = call.model_spec["methods"]
        method = methods.get(call.method)
        if method is None or method["on_records"] != (call.record_id is not None):
            raise NotFound("Unknown method", name="unknown_method")
        args, kwargs = core_rpc.check_call(call.body)
        target = (
            self._find(call, call.record_id)
            if call.record_id is not None
            else self._model(call)
        )
        function = getattr(target, method["name"], None)
        if not callable(function):
            raise NotFound("Unknown method", name="unknown_method")
        try:
            inspect.signature(function).bind(*args, **kwargs)
        except TypeError as error:
            raise BadRequest(
                f"Wrong arguments: {error}", name="invalid_arguments"
            ) from None
        result = function(*args, **kwargs)
        result = self._plain(call, result)
        model_fields = call.env[call.model]._fields

        def relation_of(key):
            field = model_fields.get(key)
            return (
                field.comodel_name if field is not None and field.relational else None
            )

        encoded = core_rpc.encode_result(
            result,
            method["encoding"],
            call.model,
            call.codec_for,
            relation_of,
            method["keys"],
        )
        return 200, encoded

    def _plain(self, call, value):
        """Turn recordsets in an RPC result into (obfuscated) id lists."""
        if isinstance(value, models.BaseModel):
            codec = call.codec_for(value._name)
            return [codec.encode(rid) for rid in value.ids]
        if isinstance(value, dict):
            return {key: self._plain(call, item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self._plain(call, item) for item in value]
        return value
