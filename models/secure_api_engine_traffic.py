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
        policy = app["traffic"] if app else None
        if policy and not core_traffic.address_allowed(
            policy.allowlist, call.request.remote_addr
        ):
            raise IpNotAllowed()
        limits = core_traffic.limits_for(
            call.spec["id"], call.spec["rate"], policy, self._caller(call)
        )
        if not limits:
            return
        now = time.time()
        usages, refused = self.env["secure.api.rate.counter"]._take(limits, now)
        call.headers.update(core_traffic.rate_headers(usages, now))
        if refused:
            error = RateLimited if refused.kind == core_traffic.RATE else QuotaExceeded
            raise error(retry_after=usages[0].reset_at - now)

    def _caller(self, call):
        """Who an API's own limit counts: the app, the session user, or the
        address of an anonymous caller."""
        principal = call.principal
        if principal["app"]:
            return f"app:{principal['app']['id']}"
        if principal["session"]:
            return f"user:{principal['uid']}"
        return f"ip:{call.request.remote_addr or '-'}"
