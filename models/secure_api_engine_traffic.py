"""Pipeline step: traffic policy (address allowlist, rate limits, quotas)."""

import time

from odoo import models

from ..core import traffic as core_traffic
from ..core.exceptions import IpNotAllowed, QuotaExceeded, RateLimited


class SecureApiEngineTraffic(models.AbstractModel):
    _inherit = "secure.api.engine"

    def _admit(self, call):
        """Refuse an address outside the app's allowlist (403) and a request
        over a limit (429); else count it. The rate-limit headers go on every
        answer of the request, the 429 included."""
        app = call.app
        self._check_address(app, call.request)
        memo = call.request.attempt
        if "admission" in memo:
            # Odoo replays a request after a serialization failure: it was
            # counted (and committed) on its first attempt.
            call.headers.update(memo["admission"])
            return
        limits = core_traffic.limits_for(
            call.spec["id"],
            call.spec["rate"],
            app["traffic"] if app else None,
            self._caller(call),
        )
        if not limits:
            return
        now = time.time()
        usages, refused = self.env["secure.api.rate.counter"]._take(limits, now)
        headers = core_traffic.rate_headers(usages, now)
        call.headers.update(headers)
        if refused:
            error = RateLimited if refused.kind == core_traffic.RATE else QuotaExceeded
            usage = next(usage for usage in usages if usage.limit is refused)
            raise error(retry_after=usage.reset_at - now)
        memo["admission"] = headers

    def _check_address(self, app, req):
        """403 ``ip_not_allowed`` for a client app's token used from an
        address outside its allowlist."""
        policy = app["traffic"] if app else None
        if policy and not core_traffic.address_allowed(
            policy.allowlist, req.remote_addr
        ):
            raise IpNotAllowed()

    def _caller(self, call):
        """Who an API's own limit counts: the app, the session user, or the
        address of an anonymous caller."""
        principal = call.principal
        app = principal["app"]
        return core_traffic.caller_key(
            app_id=app and app["id"],
            uid=principal["session"] and principal["uid"],
            address=call.request.remote_addr,
        )
