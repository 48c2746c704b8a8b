"""waitress, adapted to a receiver: the HTTP layer under the app.

waitress (not werkzeug's development server, which its maintainers say offers
no security guarantee) reads every connection in one event loop and hands only
complete requests to a bounded pool of threads, so a slow, malformed or hostile
client costs a socket and some buffer, never a thread. On top of it, here: the
headers kept exactly as sent, the body kept up to max_body and drained past it,
a request waitress refuses still handed to the app to record, and TLS.

Nothing waits in a thread either. A late answer (respond(delay=...)) is held by the
event loop, not a worker; a download is a file the loop sends as the client reads.
A connection must finish its headers within HEADER_TIMEOUT, and when every
connection is taken the oldest one with no request in progress makes room, so
a stranger trickling bytes on many sockets cannot keep others out. A server may
be given an `admission` (a class server's per-bin limits): it sees each request
as soon as its headers are in, may refuse it before its body is read, and its
workers are shared round-robin among tenants.
"""

from __future__ import annotations

import heapq
import json
import logging
import select
import selectors
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, get_header_lines, split_uri
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, WSGITask
from waitress.utilities import Error

from .._version import __version__

# waitress warns on stderr when requests queue or connections reach the limit: in a notebook that is
# noise under every cell, and both are expected under load. Its errors still show.
for _name in ("waitress", "waitress.queue"):
    logging.getLogger(_name).setLevel(logging.ERROR)

THREADS = 16  # requests handled at once; a late answer waits in the event loop and holds none of them
CONNECTIONS = 2000  # open connections at once, fewer where the process may open fewer files
SELECT_LIMIT = 512  # sockets select() can watch on Windows (FD_SETSIZE there), where there is no poll()
IDLE_TIMEOUT = 30  # seconds a connection may stay silent (between requests or mid-request) before it is closed
HEADER_TIMEOUT = 10  # seconds from a request's first byte (or a new connection) to the end of its headers
MIN_BODY_RATE = 1024  # bytes a second a body must average once it has taken longer than IDLE_TIMEOUT
EVICT_BATCH = 16  # connections closed at once when every connection is taken, oldest idle ones first
# A streamed answer (an export) waits for the client once this much is queued for it: memory stays flat.
OUTBUF_LIMIT = 2 * 1024**2
DRAIN_LIMIT = 1024**3  # an over-limit body is read and dropped up to here, so the sender can read our 413


@dataclass
class Ticket:
    """What an admission decided about one request, as soon as its headers were in."""

    tenant: str | None = None  # whose share of the workers and limits it counts against
    refused: tuple[int, str] | None = None  # (status, message): answered at once, its body never read
    body_cap: int | None = None  # keep at most this much of its body (a request nobody will store)
    on_release: Callable[[], None] | None = None  # once its answer is sent, or its connection closed

    def release(self) -> None:
        done, self.on_release = self.on_release, None
        if done:
            done()


class Admission:
    """The interface a server's `admission` offers (a class server's limits, _classroom/limits.py)."""

    def admit(self, method: str, path: str, length: int | None) -> Ticket:
        raise NotImplementedError


class Refusal(Error):
    """An admission's refusal, answered as JSON like every other refusal of a receiver."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code, self.reason = code, _REASONS.get(code, "Refused")

    def to_response(self, content_type="application/json"):
        body = json.dumps({"error": self.reason.lower(), "status": self.code, "why": self.body}).encode()
        return f"{self.code} {self.reason}", [("Content-Type", content_type)], body


_REASONS = {429: "Too Many Requests", 503: "Service Unavailable", 507: "Insufficient Storage", 413: "Content Too Large"}


class HTTPServer(TcpWSGIServer):
    """waitress's server on a socket we bound, with our channels, and a way to close from its own loop."""

    def __init__(self, app, listener: socket.socket, tls: ssl.SSLContext | None, max_body: int,
                 admission: Admission | None = None, connection_limit: int | None = None):  # fmt: skip
        self.tls = tls
        self._waking = threading.Lock()  # see close_everything
        self.max_body = max_body
        self.admission = admission
        self._held: list[tuple[float, int]] = []  # (when, channel): answers the loop sends late
        self._held_lock = threading.Lock()
        self.channel_class = _TLSChannel if tls else _Channel
        adjustments = Adjustments(
            threads=THREADS,
            connection_limit=connection_limit or connection_limit_for_files(),
            channel_timeout=IDLE_TIMEOUT,
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
        self.task_dispatcher.queue = _FairQueue()

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
                    ask, asked_all = list(self._map), now
                else:
                    ask = busy | (self._map.keys() - watched.keys())
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

    def hold(self, channel: _Channel, until: float) -> None:
        with self._held_lock:
            heapq.heappush(self._held, (until, id(channel)))
        self.pull_trigger()  # so the loop recomputes how long it may sleep

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


class _Parser(HTTPRequestParser):
    """waitress's request parser, also keeping the headers exactly as sent and capping the kept body."""

    raw_headers: list[tuple[str, str]] = []  # names in the case and order they were sent
    body = None  # a _CappedBuffer once the headers announce a body
    ticket: Ticket | None = None

    def __init__(self, adj, max_body: int, admission: Admission | None = None):
        super().__init__(adj)
        self.max_body = max_body
        self.admission = admission

    def parse_header(self, header_plus: bytes) -> None:
        first_line, _, block = header_plus.partition(b"\r\n")
        self.raw_headers = _header_pairs(block)
        try:
            super().parse_header(header_plus)
        except Exception:
            self._recover_request_line(first_line)  # so the rejection can still be recorded
            raise
        cap = self.max_body
        if self.admission is not None:
            chunked = self.headers.get("TRANSFER_ENCODING", "").lower().endswith("chunked")
            self.ticket = self.admission.admit(self.command, self.path, None if chunked else self.content_length)
            if self.ticket.refused:  # answered once its body is in and dropped, so the sender can read why
                self.error = Refusal(*self.ticket.refused)
                self.ticket.release()
                cap = 0
            elif self.ticket.body_cap is not None:
                cap = min(cap, self.ticket.body_cap)
        if self.body_rcv is not None:
            self.body = self.body_rcv.buf = _CappedBuffer(self.body_rcv.buf, cap + 1)

    def close(self) -> None:
        super().close()
        if self.ticket is not None:
            self.ticket.release()

    def _recover_request_line(self, line: bytes) -> None:
        method, _, rest = line.partition(b" ")
        target = rest.partition(b" ")[0]
        try:
            _, _, self.path, self.query, _ = split_uri(target)
        except Exception:
            return  # not even a request line: answered by waitress alone
        self.command, self.request_uri = method.decode("latin-1"), target.decode("latin-1")
        self.url_scheme = self.adj.url_scheme


class _CappedBuffer:
    """A body buffer that keeps its first `cap` bytes and only counts the rest."""

    def __init__(self, buffer, cap: int):
        self.buffer, self.cap, self.received = buffer, cap, 0

    def append(self, data: bytes) -> None:
        room = self.cap - len(self.buffer)
        if room > 0:
            self.buffer.append(data[:room])
        self.received += len(data)

    def __len__(self) -> int:
        return len(self.buffer)

    def __getattr__(self, name):
        return getattr(self.buffer, name)


class _Task(WSGITask):
    """A WSGI call that also hands the app the raw headers, its own address, the full body size and any rejection."""

    rejected: tuple[int, str] | None = None

    def get_environment(self) -> dict:
        environ = super().get_environment()
        request = self.request
        environ["webhooklab.raw_headers"] = request.raw_headers
        host, port = self.channel.socket.getsockname()[:2]  # where this connection reached us, proxy or not
        host = f"[{host}]" if ":" in host else host
        environ["webhooklab.local_url"] = f"{environ['wsgi.url_scheme']}://{host}:{port}"
        if request.body is not None and request.body.received > len(request.body):
            environ["webhooklab.body_size"] = request.body.received
        if self.rejected:
            environ["webhooklab.rejected"] = self.rejected
        environ["webhooklab.hold"] = 0.0  # seconds the app wants its answer held: the event loop waits, not a worker
        return environ

    def write(self, data) -> None:
        if not self.wrote_header and self.environ and self.environ.get("webhooklab.hold"):
            self.channel.hold(self.environ["webhooklab.hold"])
        super().write(data)

    def service(self) -> None:
        try:
            super().service()
        finally:
            self.channel.keep_ticket(self.request)


def _rejection(channel, request):
    """A request the HTTP layer refused: still given to the app (to record and answer) when its path is known.

    An admission's refusal (a bin over its limits) is answered here alone: recording it would spend
    what the limit protects.

    A request line waitress could not split (a raw non-ASCII byte in it: GET /café) has a method but no
    path: it gets waitress's own 400, and its connection is closed, never left waiting for an answer.
    """
    if isinstance(request.error, Refusal) or getattr(request, "command", None) is None \
            or getattr(request, "path", None) is None:  # fmt: skip
        return ErrorTask(channel, request)
    task = _Task(channel, request)
    task.rejected = (request.error.code, f"{request.error.reason}: {request.error.body}")
    task.close_on_finish = True  # after a framing error nothing more on this connection can be trusted
    return task


class _Channel(HTTPChannel):
    """waitress's channel, with a held answer, deadlines, and the tickets of answers still being sent."""

    task_class = _Task
    error_task_class = staticmethod(_rejection)
    held_until = 0.0  # time.time() before which nothing is sent

    def __init__(self, server, sock, addr, adj, map=None):
        self.started = time.time()  # when the request now arriving began (or the connection, before any)
        self.sending: list[Ticket] = []  # tickets of requests answered, but not yet wholly sent
        super().__init__(server, sock, addr, adj, map)

    def parser_class(self, adj):
        return _Parser(adj, self.server.max_body, self.server.admission)

    def received(self, data) -> bool:
        if self.request is None:
            self.started = time.time()
        return super().received(data)

    def hold(self, seconds: float) -> None:
        self.held_until = self.last_activity = time.time() + seconds  # waiting is not idleness
        self.server.hold(self, self.held_until)

    def _held(self) -> bool:
        if self.held_until and self.held_until <= time.time():
            self.held_until = 0.0  # due: sent on this turn
        return bool(self.held_until)

    def writable(self):
        return not self._held() and super().writable()

    def readable(self) -> bool:
        if self._held():
            return not self.will_close  # watched still: a sender that gives up and leaves is closed (recv's EOF)
        return super().readable()

    def _flush_some(self, do_close=True) -> bool:
        if self._held():
            return False
        return super()._flush_some(do_close=do_close)

    def keep_ticket(self, request) -> None:
        """A served request's ticket: released now, or once its answer (held, or a download) is sent."""
        ticket, request.ticket = request.ticket, None
        if ticket is None:
            return
        with self.outbuf_lock:
            if self.total_outbufs_len and self.connected:
                self.sending.append(ticket)
                return
        ticket.release()

    def handle_write(self) -> None:
        super().handle_write()
        if self.sending and not self.total_outbufs_len:
            self._release_sending()

    def handle_close(self) -> None:
        super().handle_close()
        self._release_sending()
        if self.request is not None:
            self.request.close()

    def _release_sending(self) -> None:
        with self.outbuf_lock:
            done, self.sending = self.sending, []
        for ticket in done:
            ticket.release()

    def evictable(self) -> bool:
        """Nothing owed to this connection: at most headers, or a stranger's body, still arriving."""
        ticket = self.request.ticket if self.request is not None else None
        return not (self.requests or self.total_outbufs_len or self.sending or (ticket and ticket.tenant))

    def overdue(self, now: float) -> bool:
        """Headers not in within HEADER_TIMEOUT, or a body arriving slower than MIN_BODY_RATE."""
        request, took = self.request, now - self.started
        if request is None:  # a connection that never sent a byte
            return not self.requests and self.last_activity == self.creation_time and took > HEADER_TIMEOUT
        if not request.headers_finished:
            return took > HEADER_TIMEOUT
        received = getattr(request.body, "received", 0)
        return took > IDLE_TIMEOUT and received < MIN_BODY_RATE * took


def _quiet(dispatcher) -> bool:
    """A connection that wants to read and nothing else until something happens on it."""
    return isinstance(dispatcher, _Channel) and not (
        dispatcher.requests or dispatcher.total_outbufs_len or dispatcher.will_close
        or dispatcher.close_when_flushed or dispatcher.held_until
    )  # fmt: skip


def _forget(selector, fd: int) -> None:
    try:
        selector.unregister(fd)
    except (KeyError, ValueError):
        pass


class _FairQueue:
    """waitress's queue of channels with a request to serve, taken round-robin by tenant.

    A bin that sends a hundred requests at once waits behind its own, never behind
    everyone else's: the next worker free serves the next tenant in turn.
    """

    def __init__(self):
        self._queues: dict[str | None, deque] = {}
        self._turns: deque = deque()
        self._length = 0

    def __len__(self) -> int:
        return self._length

    def append(self, channel) -> None:
        request = channel.requests[0] if channel.requests else None
        tenant = request.ticket.tenant if request is not None and request.ticket is not None else None
        if tenant not in self._queues:
            self._queues[tenant] = deque()
            self._turns.append(tenant)
        self._queues[tenant].append(channel)
        self._length += 1

    def popleft(self):
        tenant = self._turns.popleft()
        queue = self._queues[tenant]
        channel = queue.popleft()
        self._length -= 1
        if queue:
            self._turns.append(tenant)
        else:
            del self._queues[tenant]
        return channel


class _TLSChannel(_Channel):
    """The same channel over TLS: the handshake, reads and writes go through the ssl module, never blocking."""

    def __init__(self, server, sock, addr, adj, map=None):
        sock = server.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        self.handshaken = False
        super().__init__(server, sock, addr, adj, map)

    def handle_read(self) -> None:
        try:
            if not self.handshaken:
                self.socket.do_handshake()
                self.handshaken = True
            chunks = [self.socket.recv(self.adj.recv_bytes)]
            while self.socket.pending():  # decrypted bytes the poller cannot see
                chunks.append(self.socket.recv(self.socket.pending()))
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return  # the rest of a TLS record is still on its way
        except OSError:  # includes ssl.SSLError: a client that does not speak TLS, or went away
            self.handle_close()
            return
        data = b"".join(chunks)
        if not data:
            self.handle_close()
            return
        self.last_activity = time.time()
        self.received(data)

    def send(self, data, do_close=True) -> int:
        try:
            return self.socket.send(data)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return 0
        except OSError:
            if do_close:
                self.handle_close()
            return 0


def _header_pairs(block: bytes) -> list[tuple[str, str]]:
    """Header lines as (name, value) in the case and order sent; WSGI keeps only upper-cased HTTP_* keys."""
    try:
        lines = get_header_lines(block)
    except Exception:  # a bare CR or LF: waitress rejects the request; keep what splits cleanly
        lines = block.split(b"\r\n")
    pairs = []
    for line in lines:
        name, colon, value = line.partition(b":")
        if colon:
            pairs.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
    return pairs


def open_file_limit() -> int | None:
    """How many files this process may open (its soft limit), or None where that cannot be read (Windows)."""
    try:
        import resource  # Unix's: asked when a server starts, never at import
    except ImportError:
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def connection_limit_for_files(reserved: int = 128) -> int:
    """CONNECTIONS, or fewer where the process may not open that many files (a macOS kernel allows 256).

    `reserved` files are left for everything else: the kernel's own, stores, temporary files.
    Without a limit to read (Windows), the limit is what select() can watch, as waitress falls
    back on select() where there is no poll().
    """
    limit = open_file_limit()
    if limit is None:
        return CONNECTIONS if hasattr(select, "poll") else SELECT_LIMIT - 32  # room for the listener and its trigger
    return max(16, min(CONNECTIONS, limit - reserved))
