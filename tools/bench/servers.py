"""Odoo processes on loopback and their databases: ports, the command and
addons path, a server that stops on exit, database creation and psql."""

import getpass
import os
import re
import shutil
import socket
import subprocess
import time

from .common import log, request

HOST = "127.0.0.1"
TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The addon itself: the repository root.
ADDON = os.path.dirname(TOOLS)
# Test-only addons of the benchmark (the limit's): on the addons path only
# when a section needs them.
BENCH_ADDONS = os.path.join(TOOLS, "bench_addons")

# Where the servers' ports start (--port-base), else any free port.
PORT_BASE = {"next": None}


def free_port():
    """A free loopback port: from ``PORT_BASE`` upward when it is set."""
    start = PORT_BASE["next"]
    for port in range(start, start + 100) if start else (0,):
        with socket.socket() as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
            found = sock.getsockname()[1]
        if start:
            PORT_BASE["next"] = found + 1
        return found
    raise RuntimeError(f"no free port from {start}")


def odoo_command(odoo_bin, python=None):
    """``(argv prefix, tree root)`` of odoo-bin, with the tree's .venv
    interpreter when it has one and ``python`` is not given."""
    real = os.path.realpath(shutil.which(odoo_bin) or odoo_bin)
    root = os.path.dirname(real)
    venv = os.path.join(root, ".venv", "bin", "python")
    if python:
        return [python, real], root
    if os.path.exists(os.path.join(root, "odoo", "release.py")) and os.path.exists(
        venv
    ):
        return [venv, real], root
    return [real], root


def odoo_version(command):
    """``(the version line, the major series as an int or 0)``."""
    version = subprocess.run(
        [*command, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    found = re.search(r"(\d+)\.\d+", version)
    return version, int(found.group(1)) if found else 0


def database_options(args):
    """Odoo's database options from ``--db-host``, ``--db-port``, ``--db-user``."""
    return [
        f"--db_host={args.db_host}",
        f"--db_port={args.db_port}",
        f"--db_user={args.db_user or getpass.getuser()}",
    ]


def addons_path(root, extra=None, bench_addons=False):
    """The addons path: secure_api (through a link named after it), the
    tree's addons, ``extra`` and, with ``bench_addons``, tools/bench_addons."""
    link_dir = os.path.join("/tmp", f"secure_api_bench_addons_{os.getuid()}")
    os.makedirs(link_dir, exist_ok=True)
    link = os.path.join(link_dir, "secure_api")
    if not os.path.islink(link) or os.path.realpath(link) != ADDON:
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(ADDON, link)
    paths = [link_dir]
    if os.path.isdir(os.path.join(root, "addons")):
        paths.append(os.path.join(root, "addons"))
    if extra:
        paths.append(extra)
    if bench_addons:
        paths.append(BENCH_ADDONS)
    return ",".join(paths)


class OdooServer:
    """An Odoo server process on loopback, stopped on exit."""

    def __init__(
        self, command, db, addons, db_args, workers=2, dbfilter=None, extra=()
    ):
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        args = [
            *command,
            *db_args,
            f"--addons-path={addons}",
            f"--http-interface={HOST}",
            f"--http-port={self.port}",
            f"--workers={workers}",
            "--max-cron-threads=0",
            "--log-level=warn",
            "--limit-time-real=600",
            "--limit-time-cpu=600",
            *extra,
        ]
        args += [f"--db-filter={dbfilter}"] if dbfilter else ["-d", db]
        self.log = open(f"/tmp/secure_api_bench_{self.port}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                status, _h, _b = request(self.url, "GET", "/web/login")
                if status in (200, 303):
                    return
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"Odoo did not start on {self.url}; see {self.log.name}")

    def warm(self, requests=20):
        """Requests to every worker, so that each loads its registry."""
        for _attempt in range(requests):
            request(self.url, "GET", "/web/login")

    def workers(self):
        """``{pid: kind}`` of the server's child processes: ``worker`` (HTTP
        or cron) or ``gevent`` (the websocket server), read from /proc."""
        found = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    stat = handle.read()
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    cmdline = (
                        handle.read().replace(b"\0", b" ").decode(errors="replace")
                    )
            except OSError:
                continue
            # The second field (the name) may hold spaces: split after it.
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid != self.process.pid:
                continue
            found[int(entry)] = "gevent" if "gevent" in cmdline else "worker"
        return found

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


def rss_kib(pid):
    """The resident set size of a process in KiB (VmRSS), or ``None``."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def psql_args(db_args):
    """psql's connection options from Odoo's database options."""
    mapping = {"--db_host": "-h", "--db_port": "-p", "--db_user": "-U"}
    out = []
    for arg in db_args:
        key, _sep, value = arg.partition("=")
        if key in mapping:
            out += [mapping[key], value]
    return out


def psql(db_args, db, sql, check=True):
    """Run ``sql`` in ``db``; its unaligned output, stripped."""
    return subprocess.run(
        ["psql", *psql_args(db_args), "-d", db, "-v", "ON_ERROR_STOP=1"]
        + ["-qAtc", sql],
        capture_output=True,
        text=True,
        check=check,
    ).stdout.strip()


def ensure_database(command, db, addons, db_args, modules=()):
    """Create ``db`` with secure_api (and ``modules``), or update it."""
    exists = psql(
        db_args, "postgres", f"SELECT 1 FROM pg_database WHERE datname='{db}'", False
    )
    args = [
        *command,
        *db_args,
        f"--addons-path={addons}",
        "-d",
        db,
        "--stop-after-init",
        "--log-level=warn",
        "--load=base,web",
    ]
    if exists:
        # -i of an installed module does nothing: it installs the new ones.
        args += ["-u", "secure_api"] + (["-i", ",".join(modules)] if modules else [])
    else:
        wanted = ",".join(["base", "web", "secure_api", *modules])
        args += ["-i", wanted, "--without-demo=all"]
    log(f"preparing database {db} ...")
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def drop_database(db_args, db):
    log(f"dropping {db} ...")
    subprocess.run(["dropdb", *psql_args(db_args), db], check=False)
