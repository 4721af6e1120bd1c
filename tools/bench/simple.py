"""The simple API (``/api/bench/partners``: name, email and phone) as the
core rows use it: a JWT, the same 200 seeded partners on the REST and the
call_kw side, new names from one counter, the limit's side of each row."""

import itertools
import json
import threading

from .common import request
from .fixtures import seeded_ids, seeded_rest_ids

PATH = "/api/bench/partners"
FIELDS = ["name", "email", "phone"]
# A page of 80 in id order, the three fields.
LIST_PATH = f"{PATH}?limit=80&order=id&fields={','.join(FIELDS)}"


class Simple:
    """Client state shared by the core sections' workloads (thread-safe)."""

    def __init__(self, ctx):
        self.base = ctx.base
        self.user = ctx.user
        self.auth = ctx.auth("jwt")
        self.json = {**self.auth, "Content-Type": "application/json"}
        # The same 200 seeded partners on both sides (not, say, users'
        # partners, which the bench user may not edit).
        self._rest = itertools.cycle(seeded_rest_ids(self.base, self.auth, 200))
        self._rpc = itertools.cycle(seeded_ids(self.user, 200))
        self._counter = itertools.count()
        self.lock = threading.Lock()
        # {key: (row name, fn)}: the limit's side of a row (limit.py).
        self.limit_sides = {}

    def rest_id(self):
        with self.lock:
            return next(self._rest)

    def rpc_id(self):
        with self.lock:
            return next(self._rpc)

    def number(self):
        return next(self._counter)

    def values(self):
        return {"name": f"bench new {self.number()}", "email": "n@bench.example.com"}

    def with_lines(self, commands=False):
        """A new partner with 10 contacts: the REST body, or call_kw's values
        with Command.create (``commands``)."""
        number = self.number()
        contacts = [
            {"name": f"bench new {number} line {i}", "email": "l@bench.example.com"}
            for i in range(10)
        ]
        values = {"name": f"bench new {number}", "email": "n@bench.example.com"}
        if commands:
            return {**values, "child_ids": [(0, 0, line) for line in contacts]}
        return {**values, "contacts": contacts}

    def phone(self):
        return {"phone": f"+1 {self.number()}"}

    @staticmethod
    def hundred():
        return [
            {"name": f"bench bulk {i}", "email": "b@bench.example.com"}
            for i in range(100)
        ]

    def lim(self, key):
        """The limit's side of a row, when the limit runs: ``extra`` of a pair."""
        return [self.limit_sides[key]] if key in self.limit_sides else []

    def rpc(self, model, method, args, kwargs=None):
        """A call_kw of the bench user: the HTTP status."""
        return self.user.call_raw(model, method, args, kwargs or {})[0]

    def get(self, path, headers=None):
        return request(self.base, "GET", path, headers=headers or self.auth)[0]

    def send(self, method, path, body, headers=None):
        """POST or PATCH of ``body`` (JSON-encoded here): the HTTP status."""
        body = json.dumps(body)
        return request(self.base, method, path, body, headers or self.json)[0]
