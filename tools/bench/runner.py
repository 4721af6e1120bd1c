"""Running and recording workloads: ``Bench`` (measure, pair, group, the
targets), the ``Context`` every section gets, and the markdown report."""

import dataclasses
import os
import platform
import threading
import time

from .common import JsonRpc, Workload, bearer, log, token


class Bench:
    """The rows, targets, tables and notes of one run."""

    def __init__(self, args):
        self.args = args
        self.rows = []
        self.results = {}
        self.notes = []
        self.targets = []
        self.tables = []
        self.sections = []
        self.wall = 0.0

    def note(self, message):
        """A remark printed under the tables (checks, what did not run)."""
        self.notes.append(message)
        log(f"  note: {message}")

    def measure(self, name, fn, duration=None, concurrency=None):
        work = Workload(
            fn, concurrency or self.args.concurrency, duration or self.args.duration
        ).run()
        return self._record(name, work)

    def pair(
        self, name_a, fn_a, name_b, fn_b, rounds=4, switch=None, extra=(), **kwargs
    ):
        """Alternate A and B ``rounds`` times each, to cancel the machine's drift.

        Each side gets ``--duration`` seconds in all, after a short warm-up.
        ``switch(name)``, when given, puts the server in the state of side
        ``name`` before each of its parts, and answers whether it changed
        anything; a change gets one more (unmeasured) warm-up, so that the
        workers reload what it invalidated outside the measured time.
        ``extra`` sides (the limit's) alternate with A and B.
        """
        self.group(
            [(name_a, fn_a), (name_b, fn_b), *extra],
            rounds=rounds,
            switch=switch,
            **kwargs,
        )

    def group(self, sides, rounds=4, switch=None, duration=None, background=None):
        """:meth:`pair` for any number of ``(name, fn)`` sides, in turn.

        ``duration`` overrides ``--duration`` (each side's total).
        ``background`` maps a side's name to a function that another client
        loops (one thread) while that side runs, its warm-ups included: a
        hostile client, say. Its requests are not measured.
        """
        background = background or {}

        def run_side(name, fn, seconds):
            return self._run_side(fn, seconds, background.get(name))

        def prepare(name, fn):
            if switch is not None and switch(name):
                run_side(name, fn, 1.0)

        for name, fn in sides:
            prepare(name, fn)
            run_side(name, fn, 0.5)
        part = (duration or self.args.duration) / rounds
        parts = {name: [] for name, _fn in sides}
        for _round in range(rounds):
            for name, fn in sides:
                prepare(name, fn)
                parts[name].append(run_side(name, fn, part))
        for name, works in parts.items():
            self._record(name, Workload.merged(works))

    def _run_side(self, fn, seconds, background=None):
        """``fn`` for ``seconds``, while one thread loops ``background``."""
        if background is None:
            return Workload(fn, self.args.concurrency, seconds).run()
        stop = threading.Event()

        def loop():
            while not stop.is_set():
                try:
                    background()
                except Exception:  # noqa: BLE001 - the hostile side may fail
                    time.sleep(0.01)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        try:
            return Workload(fn, self.args.concurrency, seconds).run()
        finally:
            stop.set()
            thread.join(timeout=70)

    def target(self, label, a, b, goal, bound, higher=True):
        """A target line: the ratio of ``a``'s to ``b``'s req/s (``higher``)
        or ``b``'s cost over ``a`` in percent; skipped, with a note, when a
        side did not run. ``bound`` ``None`` is information only."""
        if a not in self.results or b not in self.results:
            self.notes.append(f"not measured: {label}")
            return
        if higher:
            value = self.ratio(a, b)
        else:
            rps_b = self.results[b].rps
            value = (1 - self.results[a].rps / rps_b) * 100 if rps_b else 0.0
        self.targets.append((label, value, goal, bound, higher))

    def info(self, label, value, higher=True):
        """A target line that is information only (no goal)."""
        self.targets.append((label, value, "info", None, higher))

    def _record(self, name, work):
        bad = {
            k: v
            for k, v in work.statuses.items()
            if not (isinstance(k, int) and k < 400)
        }
        self.results[name] = work
        p50, p95, p99 = (work.percentile(q) for q in (0.5, 0.95, 0.99))
        self.rows.append(
            (name, work.rps, p50, p95, p99, len(work.latencies), sum(bad.values()))
        )
        log(f"  {name}: {work.rps:.1f} req/s, p50 {p50:.1f} ms, errors {bad or 0}")
        return work

    def ratio(self, a, b):
        return self.results[a].rps / self.results[b].rps if self.results[b].rps else 0.0


@dataclasses.dataclass
class Context:
    """What a section's ``run(ctx)`` gets: the options, the recorder, the
    server of the run and its database's setup."""

    args: object  # the parsed options (with ``db_args``)
    bench: Bench
    server: object  # servers.OdooServer
    admin: JsonRpc
    cfg: dict  # fixtures.configure()'s ids and credentials
    user: JsonRpc  # the bench user (the APIs' execution user)
    command: list  # odoo-bin's argv prefix
    addons: str  # the addons path
    series: int = 0  # Odoo's major version
    limit: object = None  # limit.Limit when the limit addon is installed

    @property
    def base(self):
        return self.server.url

    def auth(self, kind="jwt"):
        """The ``Authorization`` header of a new token of the bench client."""
        return bearer(token(self.base, self.cfg["client"], self.cfg["secret"], kind))


def print_rows(bench):
    print("| work | req/s | p50 ms | p95 ms | p99 ms | requests | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, rps, p50, p95, p99, count, errors in bench.rows:
        print(
            f"| {name} | {rps:.1f} | {p50:.1f} | {p95:.1f} | {p99:.1f} "
            f"| {count} | {errors} |"
        )


def print_tables(bench):
    for title, columns, rows in bench.tables:
        print(f"\n{title}\n")
        print("| " + " | ".join(columns) + " |")
        print("|---|" + "---:|" * (len(columns) - 1))
        for row in rows:
            print("| " + " | ".join(str(cell) for cell in row) + " |")


def print_targets(bench):
    """The target lines; the number of missed ones."""
    print("\n| target | measured | goal | result |")
    print("|---|---:|---|---|")
    missed = 0
    for label, value, goal, bound, higher in bench.targets:
        if bound is None:
            verdict = "-"
        else:
            ok = value >= bound if higher else value <= bound
            verdict = "met" if ok else "MISSED"
            missed += not ok
        print(f"| {label} | {value:.2f} | {goal} | {verdict} |")
    return missed


def report(bench, args, version):
    """The run as markdown on stdout: rows, tables, targets, notes."""
    print(
        "\n### secure_api benchmark, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n"
    )
    print(
        f"{version}; {platform.python_implementation()} {platform.python_version()}; "
        f"{platform.machine()}, {os.cpu_count()} cores; "
        f"--workers={args.workers}, concurrency {args.concurrency}, "
        f"{args.duration:g} s per workload, {args.seed} partners, loopback; "
        f"sections {','.join(bench.sections)}; "
        f"{bench.wall / 60:.1f} min.\n"
    )
    print_rows(bench)
    print_tables(bench)
    missed = print_targets(bench)
    for message in bench.notes:
        print(f"\n- {message}", end="")
    if bench.notes:
        print()
    errors = sum(row[6] for row in bench.rows)
    print(f"\n{missed} target(s) missed; {errors} error response(s) in all workloads.")
