"""waitress, adapted to a receiver: the HTTP layer under the app.

waitress (not werkzeug's development server, which its maintainers say offers
no security guarantee) reads every connection in one event loop and hands only
complete requests to a bounded pool of threads, so a slow, malformed or hostile
client costs a socket and some buffer, never a thread. What each connection
does is in connection.py; who a request counts against is in admission.py.

Nothing waits in a thread either. A late answer (respond(delay=...)) is held by the
event loop, not a worker; a download is a file the loop sends as the client reads.
A connection must finish its headers in time (connection.py), and when every
connection is taken the oldest one with no request in progress makes room, so
a stranger trickling bytes on many sockets cannot keep others out. A server may
be given an `admission` (a class server's per-bin limits): it sees each request
as soon as its headers are in, may refuse it before its body is read, and its
workers are shared round-robin among tenants.
"""

from __future__ import annotations

import heapq
import logging
import select
import selectors
import socket
import ssl
import threading
import time

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.server import TcpWSGIServer

from .._version import __version__
from . import connection
from .admission import Admission, FairQueue
from .connection import Channel, TLSChannel

LOG = logging.getLogger(__name__)  # under "webhooklab", whose NullHandler keeps it quiet until logging is configured
WAITRESS_LOG = logging.getLogger("waitress")
THREADS = 16  # requests handled at once; a late answer waits in the event loop and holds none of them
CONNECTIONS = 2000  # open connections at once, fewer where the process may open fewer files
SELECT_LIMIT = 512  # sockets select() can watch on Windows (FD_SETSIZE there), where there is no poll()
EVICT_BATCH = 16  # connections closed at once when every connection is taken, oldest idle ones first
# A streamed answer (an export) waits for the client once this much is queued for it: memory stays flat.
OUTBUF_LIMIT = 2 * 1024**2
DRAIN_LIMIT = 1024**3  # an over-limit body is read and dropped up to here, so the sender can read our 413


class HTTPServer(TcpWSGIServer):
    """waitress's server on a socket we bound, with our channels, and a way to close from its own loop."""

    def __init__(self, app, listener: socket.socket, tls: ssl.SSLContext | None, max_body: int,
                 admission: Admission | None = None, connection_limit: int | None = None):  # fmt: skip
        self.tls = tls
        self._waking = threading.Lock()  # see close_everything
        self.max_body = max_body
        self.admission = admission if admission is None else _Logged(admission)
        self._held: list[tuple[float, int]] = []  # (when, channel): answers the loop sends late
        self._held_lock = threading.Lock()
        self._touched: set[int] = set()  # connections a worker has served since the loop last asked them
        self.channel_class = TLSChannel if tls else Channel
        self.logger = SERVER_LOG  # this server's own, and its task dispatcher's below: waitress's loggers stay
        adjustments = Adjustments(
            threads=THREADS,
            connection_limit=connection_limit or connection_limit_for_files(),
            channel_timeout=connection.IDLE_TIMEOUT,
            cleanup_interval=2,  # how often the deadlines are checked
            max_request_body_size=max(DRAIN_LIMIT, max_body + 1),
            outbuf_high_watermark=OUTBUF_LIMIT,
            asyncore_use_poll=True,  # select() cannot watch more than 1,024 sockets
            url_scheme="https" if tls else "http",
            ident=f"webhooklab/{__version__}",
            log_socket_errors=False,
            expose_tracebacks=False,
            clear_untrusted_proxy_headers=False,  # _guard decides which proxy to believe, and captures keep all
        )
        sockinfo = (listener.family, listener.type, listener.proto, listener.getsockname())
        super().__init__(app, {}, _sock=listener, adj=adjustments, bind_socket=False, sockinfo=sockinfo)
        self.task_dispatcher.queue = FairQueue()
        self.task_dispatcher.logger = self.task_dispatcher.queue_logger = SERVER_LOG

    def close_everything(self) -> None:
        """Close every connection and the listener; the loop ends once nothing is left to watch.

        A connection is closed through handle_close(), which marks it disconnected under the lock a
        worker writes under, so a request still being answered never writes to a closed socket.
        The closed trigger is never written to again: its file number may belong to another file by then.
        """
        for dispatcher in list(self._map.values()):
            if dispatcher is not self and dispatcher is not self.trigger:
                dispatcher.handle_close()
        with self._waking:  # a worker that is waking the loop finishes first; none wakes it after
            self.trigger._physical_pull = lambda: None
        self.close()

    def pull_trigger(self) -> None:
        with self._waking:
            self.trigger.pull_trigger()

    def run(self) -> None:
        """waitress's loop on the system's selector (epoll, kqueue), waking in time for the next held answer.

        waitress asks every connection, at every turn, whether it wants to read or write: a thousand
        idle connections made each turn cost milliseconds. Here a connection with nothing in progress is
        asked again only once something happens on it, and everyone is asked once a second.
        """
        selector = selectors.DefaultSelector()
        watched: dict[int, tuple[object, int]] = {}  # file number -> (dispatcher, events it is registered for)
        busy: set[int] = set()
        asked_all = 0.0
        try:
            while self._map:
                now = time.time()
                for fd in watched.keys() - self._map.keys():  # closed since the last turn
                    del watched[fd]
                    _forget(selector, fd)
                if now - asked_all >= 1:
                    ask, asked_all = set(self._map), now
                else:
                    ask = busy | (self._map.keys() - watched.keys())
                with self._held_lock:
                    ask, self._touched = ask | self._touched, set()
                busy = set()
                for fd in ask:
                    dispatcher = self._map.get(fd)
                    if dispatcher is None:
                        continue
                    events = selectors.EVENT_READ if dispatcher.readable() else 0
                    if dispatcher.writable() and not dispatcher.accepting:
                        events |= selectors.EVENT_WRITE
                    known = watched.get(fd)
                    if known is None or known[0] is not dispatcher or known[1] != events:  # new, reused or changed
                        _forget(selector, fd)
                        if events:
                            selector.register(fd, events)
                        watched[fd] = (dispatcher, events)
                    if not _quiet(dispatcher):
                        busy.add(fd)
                for key, events in selector.select(self._next_wait()):
                    dispatcher = self._map.get(key.fd)
                    if dispatcher is None:
                        continue
                    busy.add(key.fd)
                    if events & selectors.EVENT_READ:
                        wasyncore.read(dispatcher)
                    if events & selectors.EVENT_WRITE and self._map.get(key.fd) is dispatcher:
                        wasyncore.write(dispatcher)
        finally:
            selector.close()

    def hold(self, channel: Channel, until: float) -> None:
        with self._held_lock:
            heapq.heappush(self._held, (until, id(channel)))
        self.pull_trigger()  # so the loop recomputes how long it may sleep

    def touched(self, channel) -> None:
        """Called by a worker once it has served `channel`: on the loop's next turn, it is asked again."""
        with self._held_lock:
            self._touched.add(channel._fileno)
        self.pull_trigger()

    def _next_wait(self) -> float:
        now, wait = time.time(), self.adj.asyncore_loop_timeout
        with self._held_lock:
            while self._held and self._held[0][0] <= now:
                heapq.heappop(self._held)  # due: writable() lets it out on this pass
            if self._held:
                wait = min(wait, self._held[0][0] - now)
        return max(wait, 0.0)

    def readable(self) -> bool:
        if len(self._map) >= self.adj.connection_limit:
            self._make_room()
        return super().readable()

    def _make_room(self) -> None:
        """Close the connections that have waited longest with no request in progress, so a new one gets in."""
        idle = [channel for channel in list(self.active_channels.values()) if channel.evictable()]
        for channel in heapq.nsmallest(EVICT_BATCH, idle, key=lambda channel: channel.started):
            channel.handle_close()

    def maintenance(self, now: float) -> None:
        """waitress's idle timeout, the deadlines of a request's headers and its body, and closing them.

        waitress only marks a channel to close the next time it can write, which a client that
        stopped reading never lets happen: a connection no worker is using is closed here and now.
        """
        super().maintenance(now)
        for channel in list(self.active_channels.values()):
            if channel.overdue(now):
                channel.will_close = True
            if channel.will_close and not channel.requests:
                channel.handle_close()


def _quiet(dispatcher) -> bool:
    """A connection that wants to read and nothing else until something happens on it."""
    return isinstance(dispatcher, Channel) and not (
        dispatcher.requests or dispatcher.total_outbufs_len or dispatcher.will_close
        or dispatcher.close_when_flushed or dispatcher.held_until
    )  # fmt: skip


def _forget(selector, fd: int) -> None:
    try:
        selector.unregister(fd)
    except (KeyError, ValueError):
        pass


def open_file_limit() -> int | None:
    """How many files this process may open (its soft limit), or None where that cannot be read (Windows)."""
    try:
        import resource  # Unix's: asked when a server starts, never at import
    except ImportError:
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def raise_soft_file_limit(wanted: int) -> None:
    """Raise this process's soft limit on open files toward `wanted`, as far as its hard limit allows.

    macOS starts a process at 256 and most Linux desktops at 1,024, with a hard limit far above: the
    soft one is a default, not a decision (Go and Node raise it likewise). A lower hard limit (`ulimit -n 256`
    sets both) is kept, and the servers fit themselves into it.
    """
    try:
        import resource
    except ImportError:  # Windows: no such limit on sockets
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return
    for value in (target, 10240):  # macOS refuses more than its kern.maxfilesperproc
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(value, target), hard))
        except (ValueError, OSError):
            continue
        LOG.debug("raised this process's limit on open files from %d to %d", soft, min(value, target))
        return


def connection_limit_for_files(reserved: int = 128) -> int:
    """CONNECTIONS, or fewer where the process may not open that many files (a macOS kernel allows 256).

    The soft limit is raised first, as far as the hard one allows. `reserved` files are left for
    everything else: the kernel's own, stores, temporary files. Without a limit to read (Windows),
    the limit is what select() can watch, as waitress falls back on select() where there is no poll().
    """
    raise_soft_file_limit(CONNECTIONS + reserved)
    limit = open_file_limit()
    if limit is None:
        return CONNECTIONS if hasattr(select, "poll") else SELECT_LIMIT - 32  # room for the listener and its trigger
    return max(16, min(CONNECTIONS, limit - reserved))


class _ServerLog:
    """The logger waitress's server and task dispatcher use, set on our instances only.

    Waitress warns when requests queue or connections reach the limit, both expected under load
    (in a notebook, noise under every cell): those and its other messages below ERROR go to our
    logger, which shows nothing unless the application configures logging. Its errors go to its own.
    waitress's loggers themselves (level, handlers, filters) are never touched: other servers keep theirs.
    """

    def log(self, level: int, msg, *args, **kwargs) -> None:
        (WAITRESS_LOG if level >= logging.ERROR else LOG).log(level, msg, *args, **kwargs)

    def debug(self, msg, *args, **kwargs) -> None:
        self.log(logging.DEBUG, msg, *args, **kwargs)

    def info(self, msg, *args, **kwargs) -> None:
        self.log(logging.INFO, msg, *args, **kwargs)

    def warning(self, msg, *args, **kwargs) -> None:
        self.log(logging.WARNING, msg, *args, **kwargs)

    def error(self, msg, *args, **kwargs) -> None:
        self.log(logging.ERROR, msg, *args, **kwargs)

    def exception(self, msg, *args, exc_info=True, **kwargs) -> None:
        self.log(logging.ERROR, msg, *args, exc_info=exc_info, **kwargs)

    def critical(self, msg, *args, **kwargs) -> None:
        self.log(logging.CRITICAL, msg, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(WAITRESS_LOG, name)  # isEnabledFor() and the rest, as waitress's own logger answers


SERVER_LOG = _ServerLog()


class _Logged(Admission):
    """An admission whose refusals are logged: which request, and the answer its sender reads."""

    def __init__(self, admission: Admission):
        self.admission = admission

    def admit(self, method: str, path: str, length: int | None):
        ticket = self.admission.admit(method, path, length)
        if ticket.refused:
            # Not its path, which holds a bin's token.
            LOG.info("refused a %s request for a limit: %d %s", method, *ticket.refused)
        return ticket

    def __getattr__(self, name):
        return getattr(self.admission, name)
