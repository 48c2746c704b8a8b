"""The class server: one process, one waitress server, a private bin per learner and the instructor's dashboard.

One WSGI app dispatches by path:

    /b/<token>/...        a learner's bin: a whole receiver app (create_app) over the learner's own
                          store, mounted at /b/<token>. Its page is /b/<token>/, its API /b/<token>/api/...,
                          webhooks go to /b/<token>/hooks/<endpoint>. The token is the capability.
    /teacher/<admin>/...  the dashboard (dashboard.py): everyone's counts, challenge scores, class exports.
    anything else         404, with a message that says to use the handout.

A token is found by a dict lookup (tokens are 192-bit random), so an unknown one
takes the time a known one would; the admin token is compared in constant time.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from hmac import compare_digest

from flask import Flask, current_app, request

from .._checks import got
from .._errors import ReceiverError
from .._event import dumps
from .._receiving.api import problem
from .._receiving.app import create_app
from .._receiving.guard import READS, behind_local_proxy
from .._receiving.relayhub import RelayHub
from .._receiving.server import BackgroundServer
from .._receiving.transport import open_file_limit
from .._receiving.verifiers import Verifiers
from .folder import ClassFolder, Learner, lan_address, numbered, read_roster
from .limits import MAX_DELAY, MB, QUOTA, ClassLimits
from .shelf import FILES_PER_STORE, BinStore, Shelf

DEFAULT_PORT = 8000
RESERVED_FILES = 64  # for the interpreter, the listener, temporary files of bodies and downloads, class.db
MIN_FILES = 128  # the reserve, a few bins' stores and a few dozen connections
RELAY_TIMEOUT = MAX_DELAY + 15  # seconds a relayed webhook waits for the learner's notebook: its longest delay, and some
MAX_REPORT = 64 * 1024  # bytes of one challenge report
MAX_SCENARIOS = 500
NOT_HERE = "this is a class server: use the bin URL on your handout"
SAFE_HEADERS = [("Content-Type", "application/json"), ("X-Content-Type-Options", "nosniff"),
                ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
                ("Referrer-Policy", "no-referrer"), ("Cache-Control", "no-store")]  # fmt: skip


@dataclass
class Bin:
    learner: Learner
    store: BinStore
    app: Flask


class Challenges:
    """Each learner's latest challenge report, in class.db (SQLite, WAL): one row a learner."""

    def __init__(self, path):
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS challenges (learner TEXT PRIMARY KEY, at TEXT, score INTEGER, "
                         "total INTEGER, scenarios TEXT)")  # fmt: skip

    def put(self, learner: str, score: int, total: int, scenarios: list[dict]) -> None:
        at = datetime.now(timezone.utc).isoformat()
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO challenges VALUES (?, ?, ?, ?, ?)",
                             (learner, at, score, total, json.dumps(scenarios)))  # fmt: skip

    def latest(self) -> dict[str, dict]:
        with self._lock:
            rows = self._db.execute("SELECT learner, at, score, total, scenarios FROM challenges").fetchall()
        return {learner: {"at": at, "score": score, "total": total,
                          "failing": [s["scenario"] for s in json.loads(scenarios) if not s["passed"]]}
                for learner, at, score, total, scenarios in rows}  # fmt: skip

    def close(self) -> None:
        with self._lock:
            self._db.close()


def submit_challenge():
    """POST /b/<token>/api/challenge {"score": int, "total": int, "scenarios": [{"scenario": str, "passed": bool}]}."""
    try:
        report = json.loads(request.get_data()) if (request.content_length or 0) <= MAX_REPORT else None
        wrong = _wrong_report(report)
    except ValueError as error:
        wrong = f"the body is not JSON ({error})"
    if wrong:
        return problem(400, wrong, request.get_data()[:200].decode("utf-8", "replace"),
                       'send {"score": 3, "total": 4, "scenarios": [{"scenario": "duplicate", "passed": true}, ...]} '
                       "with the X-Webhooklab header, as report.submit(rx) does")  # fmt: skip
    scenarios = [{"scenario": item["scenario"], "passed": item["passed"]} for item in report.get("scenarios", [])]
    current_app.extensions["webhooklab.challenges"].put(
        current_app.extensions["webhooklab.learner"], report["score"], report["total"], scenarios)
    return {"stored": True}


def _wrong_report(report) -> str | None:
    """What is wrong with a challenge report, or None when it can be stored."""
    if (request.content_length or 0) > MAX_REPORT:
        return f"a challenge report is at most {MAX_REPORT // 1024} KB of JSON, got {request.content_length} bytes"
    if not isinstance(report, dict):
        return f"the report must be a JSON object, got {got(report)}"
    score, total, scenarios = report.get("score"), report.get("total"), report.get("scenarios", [])
    for key, value in (("score", score), ("total", total)):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10_000:
            return f"{key} must be a whole number from 0 to 10000, got {got(value)}"
    if score > total:
        return f"score ({score}) cannot be more than total ({total}): score counts the scenarios passed"
    if not isinstance(scenarios, list) or len(scenarios) > MAX_SCENARIOS:
        return f"scenarios must be a list of at most {MAX_SCENARIOS}, got {got(scenarios)[:100]}"
    for item in scenarios:
        if not (isinstance(item, dict) and isinstance(item.get("scenario"), str) and 0 < len(item["scenario"]) <= 200
                and isinstance(item.get("passed"), bool)):  # fmt: skip
            return f'each scenario is {{"scenario": "<up to 200 characters>", "passed": true or false}}, got {got(item)[:100]}'
    return None


class ClassServer(BackgroundServer):
    """Every learner's bin and the dashboard, served by one waitress server (see the module's docstring).

    >>> server = ClassServer(ClassFolder("webhooklab-class", numbered(30)), host="0.0.0.0", port=8000).start()
    >>> server.class_url      # what learners reach: http://<this machine's LAN address>:8000
    >>> server.dashboard_url  # the instructor's page (its URL holds the admin token)
    """

    kind = "class server"

    def __init__(self, folder: ClassFolder, *, host: str = "127.0.0.1", port: int = 0, allowed_hosts=(),
                 quota: int = QUOTA):  # fmt: skip
        super().__init__(None, host=host, port=port)
        from .dashboard import dashboard_app

        self.folder = folder
        self.allowed_hosts = tuple(allowed_hosts)  # names learners may use for this machine, besides its address
        self.challenges = Challenges(folder.path / "class.db")
        self.files = open_file_limit()
        if self.files is not None and self.files < MIN_FILES:
            raise ReceiverError(
                f"this process may open only {self.files} files, and a class server needs at least {MIN_FILES}: "
                "every connection and every open bin is one. Raise the limit in this terminal (ulimit -n 1024 on "
                "macOS and Linux; ulimit -Hn shows how far it may go) and start again"
            )
        # Half of the files left go to stores, half to connections; with no limit to read, every store stays open.
        stores = len(folder.learners) if self.files is None else (self.files - RESERVED_FILES) // (2 * FILES_PER_STORE)
        self.shelf = Shelf(min(len(folder.learners), stores))
        self.limits = ClassLimits([learner.token for learner in folder.learners], folder.admin, folder.path,
                                  quota=quota)  # fmt: skip
        self.bins: dict[str, Bin] = {}
        for learner in folder.learners:
            store = BinStore(folder.store_file(learner), self.shelf)
            app = create_app(store, verifiers=Verifiers(default=learner.secret), owner_by_path=True, replay_to_self=True,
                             allowed_hosts=self.allowed_hosts, max_delay=MAX_DELAY,
                             relay=RelayHub(answer_timeout=RELAY_TIMEOUT))  # fmt: skip
            app.extensions["webhooklab.learner"] = learner.name
            app.extensions["webhooklab.challenges"] = self.challenges
            app.add_url_rule("/api/challenge", view_func=submit_challenge, methods=["POST"])
            self.bins[learner.token] = Bin(learner, store, app)
            self._recount(learner.token)
        self.dashboard = dashboard_app(self)
        self.app = behind_local_proxy(self.dispatch)  # a proxy's prefix first, then the bin's or dashboard's mount

    def dispatch(self, environ, start_response):
        """Hand the request to the bin or the dashboard its path names, mounted where the path says."""
        path = environ.get("PATH_INFO", "")
        kind, _, rest = path.lstrip("/").partition("/")
        token, slash, tail = rest.partition("/")
        if kind == "b" and token in self.bins:
            app = self.bins[token].app
        elif kind == "teacher" and token and compare_digest(token.encode(), self.folder.admin.encode()):
            app = self.dashboard
        elif path == "/favicon.ico":  # a browser asks the server's root for one, from a bin's page or the dashboard
            start_response("204 No Content", SAFE_HEADERS[1:])
            return [b""]
        else:
            return self._not_here(environ, start_response, path, kind)
        prefix = f"/{kind}/{token}"
        if not slash:  # the page's URLs are relative: they need the slash after the token
            location = environ.get("SCRIPT_NAME", "") + prefix + "/"
            start_response("308 Permanent Redirect", [("Location", location), *SAFE_HEADERS[1:]])
            return [b""]
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
        environ["PATH_INFO"] = "/" + tail
        if "webhooklab.local_url" in environ:  # a replay goes back to this bin, by the socket it came in on
            environ["webhooklab.local_url"] += prefix
        answer = app(environ, start_response)
        if kind == "b" and tail.startswith("hooks/"):
            self.limits.stored(token, min(int(environ.get("CONTENT_LENGTH") or 0), self.max_body))
        elif kind == "b" and environ["REQUEST_METHOD"] not in READS:
            self._recount(token)  # the bin's own change (DELETE api/events) may have freed room
        return answer

    def _recount(self, token: str) -> None:
        store = self.bins[token].store
        self.limits.count(token, store.kept_bytes(), store.endpoints())

    def _admission(self) -> ClassLimits:
        return self.limits

    def _connection_limit(self) -> int | None:
        if self.files is None:
            return None
        return max(16, self.files - RESERVED_FILES - FILES_PER_STORE * self.shelf.size)

    def _not_here(self, environ, start_response, path: str, kind: str):
        if kind in ("b", "teacher"):
            error = f"no {'bin' if kind == 'b' else 'dashboard'} has this address: check the URL on your handout"
            hint = "copy the whole URL: its token is long, and a character too many or too few is another address"
        else:
            error, hint = NOT_HERE, "bins are at /b/<token>/ (your page, and webhooks at /b/<token>/hooks/<endpoint>)"
        answer, status = problem(404, error, path[:200], hint)
        body = dumps(answer).encode()
        start_response(f"{status} Not Found", [*SAFE_HEADERS, ("Content-Length", str(len(body)))])
        return [body]

    @property
    def class_url(self) -> str:
        """The address learners use: this machine's LAN address when serving on every interface."""
        host = lan_address(self.host)
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    @property
    def dashboard_url(self) -> str:
        return f"{self.class_url}/teacher/{self.folder.admin}/"

    def bin_url(self, learner: Learner) -> str:
        return f"{self.class_url}/b/{learner.token}/"

    def close(self) -> None:
        """Stop if running, and close every store."""
        if self.running:
            self.stop()
        for one in self.bins.values():
            one.store.close()
        self.challenges.close()

    def __repr__(self) -> str:
        where = self.class_url if self.running else "stopped"
        return f"<ClassServer {where}, {len(self.bins)} learners, {self.folder.path}>"


def run(args) -> int:
    """`webhooklab classroom`: start the class server, print where everything is, serve until Ctrl-C."""
    names = numbered(args.students) if args.students is not None else read_roster(args.roster) if args.roster else []
    raise_file_limit()
    server = ClassServer(ClassFolder(args.dir, names), host=args.host, port=args.port, allowed_hosts=args.allow_host,
                         quota=args.quota_mb * MB)  # fmt: skip
    server.start()
    try:
        _announce(server)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    total = sum(one.store.count() for one in server.bins.values())
    server.close()
    print(f"\nstopped; {total} event(s) kept in {server.folder.path / 'bins'}", flush=True)
    return 0


def raise_file_limit(wanted: int = 65536) -> None:
    """Let this process open as many files as its hard limit allows (Linux and macOS start most at 1,024 or 256).

    A class server is a process of its own: every connection and every open store is a file.
    Where the hard limit is lower too (`ulimit -n 256` sets both), the server fits itself into it.
    """
    try:
        import resource
    except ImportError:  # Windows: no such limit on sockets
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        for value in (target, 10240):  # macOS refuses more than its kern.maxfilesperproc
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (min(value, target), hard))
                return
            except (ValueError, OSError):
                continue


def _announce(server: ClassServer) -> None:
    csv_file, html_file = server.folder.write_handout(server.class_url)
    print(f"webhooklab class server for {len(server.bins)} learners, listening on {server.host}:{server.port}")
    print(f"  learners reach it at  {server.class_url}   (each at their own bin: see the handout)")
    print(f"  your dashboard        {server.dashboard_url}   (keep this URL to yourself)")
    print(f"  handout               {html_file}   and {csv_file.name} (bin URL and signing secret per learner)")
    print(f"  class folder          {server.folder.path}   (start again with --dir to keep everything)")
    print("Press Ctrl-C to stop.", flush=True)
