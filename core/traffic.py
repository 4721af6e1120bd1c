"""Traffic policy: rate limits, quotas and address allowlists.

A limit is a counter key, a number of requests and a window. Rate windows
are aligned fixed windows (``[k * window, (k + 1) * window)`` in Unix time):
a counter per key and window, incremented in PostgreSQL only while it is
below the limit, so no window ever lets more than the limit through, across
every worker and server. Quotas use the UTC day and the calendar month.

This module decides what to count and what to answer; the counting itself is
``secure.api.rate.counter``'s.
"""

import calendar
import ipaddress
import time
from dataclasses import dataclass

from .messages import _lt

RATE, DAILY, MONTHLY = "rate", "daily", "monthly"
# A rolling window would need a log per request; an aligned one needs one row.
MAX_WINDOW = 31 * 86400


@dataclass(frozen=True, slots=True)
class Limit:
    """One counter to take a request from."""

    key: str
    limit: int
    kind: str = RATE
    window: int = 0  # seconds; rate limits only

    def bounds(self, now):
        """``(start, end)`` of the window holding ``now`` (Unix seconds)."""
        now = int(now)
        if self.kind == RATE:
            start = now - now % self.window
            return start, start + self.window
        if self.kind == DAILY:
            start = now - now % 86400
            return start, start + 86400
        moment = time.gmtime(now)
        year, month = moment.tm_year, moment.tm_mon
        start = calendar.timegm((year, month, 1, 0, 0, 0))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return start, calendar.timegm((year, month, 1, 0, 0, 0))


@dataclass(frozen=True, slots=True)
class ClientPolicy:
    """A client app's traffic settings, as the request path reads them."""

    rate_limit: int = 0
    rate_window: int = 60
    quota_daily: int = 0
    quota_monthly: int = 0
    allowlist: tuple = ()

    @property
    def limited(self):
        return bool(self.rate_limit or self.quota_daily or self.quota_monthly)


@dataclass(frozen=True, slots=True)
class Usage:
    """What a counter said of one request: taken, or refused."""

    limit: Limit
    count: int  # requests counted in the window, this one included
    reset_at: int  # Unix seconds

    @property
    def remaining(self):
        return max(0, self.limit.limit - self.count)


def limits_for(api_id, api_rate, client, caller):
    """The counters a request takes from.

    ``api_rate`` is the API's ``(limit, window)``; ``client`` the caller's
    :class:`ClientPolicy` (or ``None``); ``caller`` names who is counted
    under the API's own limit: ``app:<id>``, ``user:<id>`` or ``ip:<address>``.
    """
    limits = []
    api_limit, api_window = api_rate
    if api_limit:
        limits.append(Limit(f"api:{api_id}:{caller}", api_limit, RATE, api_window))
    if client is not None:
        app = caller.split(":", 1)[1]
        if client.rate_limit:
            limits.append(
                Limit(f"app:{app}", client.rate_limit, RATE, client.rate_window)
            )
        if client.quota_daily:
            limits.append(Limit(quota_key(DAILY, app), client.quota_daily, DAILY))
        if client.quota_monthly:
            limits.append(Limit(quota_key(MONTHLY, app), client.quota_monthly, MONTHLY))
    return tuple(limits)


def quota_key(kind, app_id):
    return f"{'day' if kind == DAILY else 'month'}:{app_id}"


def quota_counters(app_id, now):
    """``{kind: (key, window_start)}`` of an app's quota counters now."""
    return {
        kind: (quota_key(kind, app_id), Limit("", 1, kind).bounds(now)[0])
        for kind in (DAILY, MONTHLY)
    }


def rate_headers(usages, now):
    """The RateLimit headers of the rate limit with the least remaining
    (quotas are enforced, not described), or ``{}``."""
    rates = [usage for usage in usages if usage.limit.kind == RATE]
    if not rates:
        return {}
    usage = min(rates, key=lambda u: (u.remaining, u.reset_at))
    limit, reset = usage.limit, max(0, usage.reset_at - int(now))
    return {
        "RateLimit-Policy": f"{limit.limit};w={limit.window}",
        "RateLimit": f"limit={limit.limit}, remaining={usage.remaining}, reset={reset}",
        "X-RateLimit-Limit": str(limit.limit),
        "X-RateLimit-Remaining": str(usage.remaining),
        "X-RateLimit-Reset": str(usage.reset_at),
    }


# ----------------------------------------------------------------------
# Address allowlists
# ----------------------------------------------------------------------


def parse_allowlist(text):
    """The networks of an allowlist (one address or CIDR per line; ``#``
    starts a comment). Raises ``ValueError`` naming the bad line.

    IPv4 entries written in IPv6 (``::ffff:192.0.2.1``) mean their IPv4
    network, as addresses do in :func:`address_allowed`; zone ids are
    refused (a zone is not part of the address that is compared)."""
    networks = []
    for number, line in enumerate((text or "").splitlines(), 1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        try:
            if "%" in entry:
                raise ValueError(entry)
            networks.append(_unmapped(ipaddress.ip_network(entry, strict=False)))
        except ValueError:
            raise ValueError(
                _lt(
                    "Line %(number)s of the address allowlist is not an IPv4 or "
                    "IPv6 address or network: %(entry)s",
                    number=number,
                    entry=entry[:64],
                )
            ) from None
    return tuple(networks)


def _unmapped(network):
    """An IPv4-mapped IPv6 network as the IPv4 network it maps."""
    mapped = ipaddress.ip_network("::ffff:0:0/96")
    if network.version == 6 and network.subnet_of(mapped) and network.prefixlen >= 96:
        first = network.network_address.ipv4_mapped
        return ipaddress.ip_network(f"{first}/{network.prefixlen - 96}")
    return network


def caller_key(app_id=None, uid=None, address=None):
    """Who an API's own limit counts: ``app:<id>``, ``user:<id>``, or the
    address of an anonymous caller. IPv6 callers count per /64, the block a
    single host is given: otherwise one host could take a counter per
    address it picks."""
    if app_id:
        return f"app:{app_id}"
    if uid:
        return f"user:{uid}"
    try:
        ip = ipaddress.ip_address((address or "").split("%", 1)[0])
    except ValueError:
        return "ip:-"
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.version == 6:
        return f"ip:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"ip:{ip}"


def address_allowed(networks, address):
    """Whether ``address`` is in one of ``networks`` (an empty list allows
    everything). IPv4 addresses mapped into IPv6 count as IPv4."""
    if not networks:
        return True
    try:
        ip = ipaddress.ip_address((address or "").split("%", 1)[0])
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)
