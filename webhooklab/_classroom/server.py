"""The class server: one process, one waitress server, a private bin per learner and the instructor's dashboard.

One WSGI app dispatches by path:

    /b/<token>/...        a learner's bin: a whole receiver app (create_app) over the learner's own
                          store, mounted at /b/<token>. Its page is /b/<token>/, its API /b/<token>/api/...,
                          webhooks go to /b/<token>/hooks/<endpoint>. The token is the capability.
    /teacher/<admin>/...  the dashboard (dashboard.py): everyone's counts, challenge scores, class exports.
    anything else         404, with a message that says to use the handout.

A token is found by a dict lookup (a bin's has 138 random bits, folder.py), so an
unknown one takes the time a known one would; the admin token is compared in
constant time. The bins can change while the class runs (add, rotate): `bins` is
then replaced whole, never changed in place, so a request reads one whole mapping.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from hmac import compare_digest

from flask import Flask

from .._errors import ReceiverError
from .._event import dumps
from .._receiving.api import problem
from .._receiving.app import create_app
from .._receiving.guard import READS, behind_local_proxy
from .._receiving.relayhub import RelayHub
from .._receiving.server import BackgroundServer
from .._receiving.transport import open_file_limit, raise_soft_file_limit
from .._receiving.verifiers import Verifiers
from .broadcast import Broadcaster
from .broadcast_cli import remember_url
from .folder import ClassFolder, Learner, lan_address, numbered, read_roster
from .limits import MAX_DELAY, MB, QUOTA, ClassLimits
from .progress import Challenges, Progress, submit_challenge, submit_verdict
from .shelf import FILES_PER_STORE, BinStore, Shelf

DEFAULT_PORT = 8000
RESERVED_FILES = 64  # for the interpreter, the listener, temporary files of bodies and downloads, class.db
MIN_FILES = 128  # the reserve, a few bins' stores and a few dozen connections
OPEN_FILES = 65536  # asked for at start; a lower hard limit (`ulimit -n 256` sets both) is kept, and the server fits
RELAY_TIMEOUT = MAX_DELAY + 15  # seconds a relayed webhook waits for the learner's notebook: its longest delay, and some
NOT_HERE = "this is a class server: use the bin URL on your handout"
SAFE_HEADERS = [("Content-Type", "application/json"), ("X-Content-Type-Options", "nosniff"),
                ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
                ("Referrer-Policy", "no-referrer"), ("Cache-Control", "no-store")]  # fmt: skip


@dataclass
class Bin:
    learner: Learner
    store: BinStore
    app: Flask


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
        self.progress = Progress(folder.path / "class.db")
        self.files = open_file_limit()
        if self.files is not None and self.files < MIN_FILES:
            raise ReceiverError(
                f"this process may open only {self.files} files, and a class server needs at least {MIN_FILES}: "
                "every connection and every open bin is one. Raise the limit in this terminal (ulimit -n 1024 on "
                "macOS and Linux; ulimit -Hn shows how far it may go) and start again"
            )
        # Half of the files left go to stores, half to connections; with no limit to read, every store stays open.
        self._stores = None if self.files is None else (self.files - RESERVED_FILES) // (2 * FILES_PER_STORE)
        self.shelf = Shelf(self._shelf_size(len(folder.learners)))
        self.limits = ClassLimits([learner.token for learner in folder.learners], folder.admin, folder.path,
                                  quota=quota)  # fmt: skip
        self._changing = threading.Lock()  # add, reset and rotate one at a time
        self.bins: dict[str, Bin] = {learner.token: self._bin(learner) for learner in folder.learners}
        for token in self.bins:
            self._recount(token)
        self.broadcasts = Broadcaster(self)  # the instructor's events to every bin (broadcast.py)
        self.dashboard = dashboard_app(self)
        self.app = behind_local_proxy(self.dispatch)  # a proxy's prefix first, then the bin's or dashboard's mount

    def _bin(self, learner: Learner) -> Bin:
        """A learner's bin: a receiver's app over their own store (a file only they may read), with one secret."""
        file = self.folder.store_file(learner)
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT, 0o600))  # SQLite gives its log files the same mode
        store = BinStore(file, self.shelf)
        app = create_app(store, verifiers=Verifiers(default=learner.secret), owner_by_path=True, replay_to_self=True,
                         allowed_hosts=self.allowed_hosts, max_delay=MAX_DELAY,
                         relay=RelayHub(answer_timeout=RELAY_TIMEOUT))  # fmt: skip
        app.extensions["webhooklab.learner"] = learner.name
        app.extensions["webhooklab.challenges"] = self.challenges
        app.extensions["webhooklab.progress"] = self.progress
        app.add_url_rule("/api/challenge", view_func=submit_challenge, methods=["POST"])
        app.add_url_rule("/api/verdict", view_func=submit_verdict, methods=["POST"])
        return Bin(learner, store, app)

    def _shelf_size(self, learners: int) -> int:
        return learners if self._stores is None else min(learners, self._stores)

    def dispatch(self, environ, start_response):
        """Hand the request to the bin or the dashboard its path names, mounted where the path says."""
        path = environ.get("PATH_INFO", "")
        kind, _, rest = path.lstrip("/").partition("/")
        token, slash, tail = rest.partition("/")
        one = self.bins.get(token) if kind == "b" else None  # one read: `bins` may be replaced meanwhile
        if one is not None:
            app = one.app
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
        if one is not None and tail.startswith("hooks/"):
            self.limits.stored(token, min(int(environ.get("CONTENT_LENGTH") or 0), self.max_body))
        elif one is not None and environ["REQUEST_METHOD"] not in READS:
            self._recount(token)  # the bin's own change (DELETE api/events) may have freed room
            self.progress.touch(one.learner.name)  # a verdict, a report, an endpoint's answer, a delete, a replay
        return answer

    def _recount(self, token: str) -> None:
        one = self.bins.get(token)
        if one is not None:  # else its token has just been changed (rotate), and the bin counted again
            self.limits.count(token, one.store.kept_bytes(), one.store.endpoints())

    # -- running a room: each a single method, which the dashboard's buttons call (room.py) ----------------

    def reset(self, name: str) -> Learner:
        """Empty a learner's bin: their events go, every endpoint answers a plain 200 again; their token stays."""
        with self._changing:
            one = self._find(name)
            one.store.clear()
            one.app.extensions["webhooklab"].responses.reset()
            self._recount(one.learner.token)
        return one.learner

    def add(self, name: str) -> Learner:
        """A learner more, while the class runs: a token, a secret and a store of their own; the handout rewritten."""
        with self._changing:
            learner = self.folder.add(name)
            self.limits.add(learner.token)
            self.shelf.size = self._shelf_size(len(self.bins) + 1)
            self.bins = {**self.bins, learner.token: self._bin(learner)}
            self._recount(learner.token)
            self._rewrite_handout()
        return learner

    def rotate(self, name: str) -> Learner:
        """A new token and signing secret for a learner whose URL got out: the old URL answers 404 from now on.

        The bin keeps its store (events), its endpoints' answers and its share of the server; the roster and
        the handout are rewritten. The learner joins again with the new URL (wl.join_class).
        """
        with self._changing:
            before, after = self.folder.rotate(self._find(name).learner.name)
            old = self.bins[before.token]
            old.app.extensions["webhooklab"].relay.close(  # a relay with the old URL stops, and says why
                "the instructor gave this bin a new URL (its old one had got out): join again with the new one")
            old.app.extensions["webhooklab"].verifiers = Verifiers(default=after.secret)
            self.limits.rename(before.token, after.token)
            self.bins = {(after.token if token == before.token else token):
                         (Bin(after, old.store, old.app) if token == before.token else one)
                         for token, one in self.bins.items()}  # fmt: skip
            self._rewrite_handout()
        return after

    def _find(self, name: str) -> Bin:
        learner = self.folder.find(name)
        return next(one for one in self.bins.values() if one.learner.token == learner.token)

    def _rewrite_handout(self) -> None:
        if self.running:  # else the next start writes it, for the address it serves then
            self.folder.write_handout(self.class_url)

    def _admission(self) -> ClassLimits:
        return self.limits

    def _connection_limit(self) -> int | None:
        if self.files is None:
            return None
        return max(16, self.files - RESERVED_FILES - FILES_PER_STORE * self._stores)  # the most stores ever open

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
        self.broadcasts.close()
        if self.running:
            self.stop()
        for one in self.bins.values():
            one.store.close()
        self.challenges.close()
        self.progress.close()

    def __repr__(self) -> str:
        where = self.class_url if self.running else "stopped"
        return f"<ClassServer {where}, {len(self.bins)} learners, {self.folder.path}>"


def run(args) -> int:
    """`webhooklab classroom`: start the class server, print where everything is, serve until Ctrl-C."""
    names = numbered(args.students) if args.students is not None else read_roster(args.roster) if args.roster else []
    # A process of its own, where every connection and open store is a file: as many as the hard limit allows.
    raise_soft_file_limit(OPEN_FILES)
    server = ClassServer(ClassFolder(args.dir, names), host=args.host, port=args.port, allowed_hosts=args.allow_host,
                         quota=args.quota_mb * MB)  # fmt: skip
    server.start()
    address = remember_url(server)  # for `webhooklab classroom send` (broadcast_cli.py)
    try:
        _announce(server)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    total = sum(one.store.count() for one in server.bins.values())
    address.unlink(missing_ok=True)
    server.close()
    print(f"\nstopped; {total} event(s) kept in {server.folder.path / 'bins'}", flush=True)
    return 0


def _announce(server: ClassServer) -> None:
    csv_file, html_file = server.folder.write_handout(server.class_url)
    print(f"webhooklab class server for {len(server.bins)} learners, listening on {server.host}:{server.port}")
    print(f"  learners reach it at  {server.class_url}   (each at their own bin: see the handout)")
    print(f"  your dashboard        {server.dashboard_url}   (keep this URL to yourself)")
    print(f"  handout               {html_file}   and {csv_file.name} (bin URL and signing secret per learner)")
    print(f"  class folder          {server.folder.path}   (start again with --dir to keep everything)")
    print("Press Ctrl-C to stop.", flush=True)
