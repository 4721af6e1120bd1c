"""Pipeline step: calling a whitelisted method (RPC)."""

import inspect
import logging

from odoo import models

from ..core import rpc as core_rpc
from ..core.exceptions import BadRequest, NotFound
from ..core.messages import _lt
from .secure_api_method import is_exposable_method

_logger = logging.getLogger(__name__)
# What a method raises when handed values of the wrong type or shape.
ARGUMENT_ERRORS = (TypeError, ValueError, AttributeError, KeyError, IndexError)


class SecureApiEngineRpc(models.AbstractModel):
    _inherit = "secure.api.engine"

    def _op_rpc(self, call):
        methods = call.model_spec["methods"]
        method = methods.get(call.method)
        if method is None or method["on_records"] != (call.record_id is not None):
            raise NotFound(_lt("Unknown method"), name="unknown_method")
        args, kwargs = core_rpc.check_call(call.body)
        target = (
            self._find(call, call.record_id)
            if call.record_id is not None
            else self._model(call)
        )
        # Checked again here: a line saved before the allowlist tightened
        # must not open a generic ORM method.
        if not is_exposable_method(target, method["name"]):
            raise NotFound(_lt("Unknown method"), name="unknown_method")
        function = getattr(target, method["name"])
        # What the method may change besides its record (its contacts).
        neighbours = (
            self._neighbours(call, target)
            if call.record_id is not None
            else self._model(call).browse()
        )
        try:
            inspect.signature(function).bind(*args, **kwargs)
        except TypeError as error:
            raise BadRequest(
                _lt("Wrong arguments: %(error)s", error=str(error)),
                name="invalid_arguments",
            ) from None
        self._begin(call)
        try:
            result = function(*args, **kwargs)
        except ARGUMENT_ERRORS:
            if not (args or kwargs):
                raise
            # The client's values did not suit the method: its 400, not ours.
            _logger.info("secure_api: %s refused its arguments", method["name"])
            raise BadRequest(
                _lt("The method refused its arguments"), name="invalid_arguments"
            ) from None
        # The method may change its record and its contacts, and return or
        # create records of the model: all must be inside the API.
        touched = neighbours
        if call.record_id is not None:
            touched |= target
        if isinstance(result, models.BaseModel) and result._name == call.model:
            touched |= result.with_env(touched.env)
        self._check_in_domain(call, touched.exists())
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
