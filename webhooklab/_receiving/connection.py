"""One connection of the HTTP layer: waitress's parser, task and channel, adapted to a receiver.

Here: the headers kept exactly as sent, the body kept up to max_body (or an admission's cap) and
drained past it, a request waitress refuses still handed to the app to record, a late answer held
without a worker (for a time, or until another thread gives it), the deadlines a connection must keep, the ticket of each request until its
answer is sent, and TLS.
"""

from __future__ import annotations

import ssl
import time
from urllib.parse import quote_from_bytes

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError, crack_first_line, get_header_lines, split_uri
from waitress.task import ErrorTask, WSGITask

from .admission import Admission, Refusal, Ticket
from .deferred import Deferred

IDLE_TIMEOUT = 30  # seconds a connection may stay silent (between requests or mid-request) before it is closed
HEADER_TIMEOUT = 10  # seconds from a request's first byte (or a new connection) to the end of its headers
MAX_PIPELINED = 64 * 1024  # bytes of a pipelined request kept while the answer before it is deferred
MIN_BODY_RATE = 1024  # bytes a second a body must average once it has taken longer than IDLE_TIMEOUT
ASCII_PRINTABLE = bytes(range(0x21, 0x7F))  # kept as sent when a raw request line is percent-encoded
NON_ASCII = ("the request line holds raw non-ASCII bytes; HTTP wants them percent-encoded (/caf%C3%A9, not /café): "
             "a client that sent the URL as typed")  # fmt: skip


class Parser(HTTPRequestParser):
    """waitress's request parser, also keeping the headers exactly as sent and capping the kept body."""

    raw_headers: list[tuple[str, str]] = []  # names in the case and order they were sent
    close_after = False  # the request's framing is in doubt: nothing after it on the connection is read
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
            if self._recover_request_line(first_line) and not first_line.isascii():
                raise ParsingError(NON_ASCII) from None
            raise  # recorded with waitress's reason, or answered by waitress alone
        cap = self.max_body
        if self.admission is not None:
            self.ticket = self.admission.admit(self.command, self.path, None if self.chunked else self.content_length)
            if self.ticket.refused:  # answered once its body is in and dropped, so the sender can read why
                self.error = Refusal(*self.ticket.refused)
                self.ticket.release()
                cap = 0
            elif self.ticket.body_cap is not None:
                cap = min(cap, self.ticket.body_cap)
        if self.body_rcv is not None:
            self.body = self.body_rcv.buf = _CappedBuffer(self.body_rcv.buf, cap + 1)
        # Content-Length beside Transfer-Encoding: the chunks frame the body, and the connection closes after the
        # answer (RFC 9112 6.3), as a proxy in front may have framed it by the length and sent more after it.
        self.close_after = self.chunked and any(name.lower() == "content-length" for name, _ in self.raw_headers)

    def close(self) -> None:
        super().close()
        if self.ticket is not None:
            self.ticket.release()

    def _recover_request_line(self, line: bytes) -> bool:
        """Read the method and path of a refused request, so the rejection can still be recorded.

        Raw non-ASCII bytes in the target (GET /hooks/café sent as UTF-8) are percent-encoded first,
        as the client should have done: the path they spell is still known.
        """
        try:
            method, target, _ = crack_first_line(line)
            _, _, self.path, self.query, _ = split_uri(quote_from_bytes(target, safe=ASCII_PRINTABLE).encode())
        except Exception:
            method = b""
        if not method:
            self.command = self.path = None
            return False  # not even a request line: answered by waitress alone
        self.command, self.request_uri = method.decode("latin-1"), target.decode("latin-1")
        self.url_scheme = self.adj.url_scheme
        return True


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

    def __init__(self, channel, request):
        super().__init__(channel, request)
        self.close_on_finish = getattr(request, "close_after", False)

    def build_response_header(self) -> bytes:
        if self.close_on_finish:
            self.set_close_on_finish()  # and say so: Connection: close
        return super().build_response_header()

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
        environ["webhooklab.defer"] = None  # or a Deferred: an answer another thread gives later (deferred.py)
        return environ

    def write(self, data) -> None:
        deferred = self.environ.get("webhooklab.defer") if self.environ else None
        if deferred is not None:  # the app's answer is the fallback, kept until the deadline (deferred.py)
            if not self.wrote_header:
                deferred.fallback, self.wrote_header = self.build_response_header(), True
            if data and self.has_body:
                deferred.fallback += data
                self.content_bytes_written += len(data)  # written, as far as waitress's framing goes
            return
        if not self.wrote_header and self.environ and self.environ.get("webhooklab.hold"):
            self.channel.hold(self.environ["webhooklab.hold"])
        super().write(data)

    def finish(self) -> None:
        deferred = self.environ.get("webhooklab.defer") if self.environ else None
        if deferred is None:
            return super().finish()
        if not self.wrote_header:
            self.write(b"")
        self.channel.defer(deferred, self)

    def service(self) -> None:
        try:
            super().service()
        finally:
            self.channel.keep_ticket(self.request)


def _rejection(channel, request):
    """A request the HTTP layer refused: still given to the app (to record and answer) when its path is known.

    A line that is not a request line has no path: it gets waitress's own 400. Either way the connection
    is closed after the answer, never left waiting, and nothing after a framing error is read from it.
    An admission's refusal (a bin over its limits) is answered here alone: recording it would spend
    what the limit protects.
    """
    if isinstance(request.error, Refusal) or getattr(request, "command", None) is None \
            or getattr(request, "path", None) is None:  # fmt: skip
        return ErrorTask(channel, request)
    task = _Task(channel, request)
    task.rejected = (request.error.code, f"{request.error.reason}: {request.error.body}")
    task.close_on_finish = True  # after a framing error nothing more on this connection can be trusted
    return task


class Channel(HTTPChannel):
    """waitress's channel, with a held answer, deadlines, and the tickets of answers still being sent."""

    task_class = _Task
    error_task_class = staticmethod(_rejection)
    held_until = 0.0  # time.time() before which nothing is sent
    deferred: Deferred | None = None  # an answer another thread gives, or its fallback at held_until

    def __init__(self, server, sock, addr, adj, map=None):
        self.started = time.time()  # when the request now arriving began (or the connection, before any)
        self.sending: list[Ticket] = []  # tickets of requests answered, but not yet wholly sent
        self.waiting = b""  # bytes of a next request that came while an answer was deferred: read after it
        super().__init__(server, sock, addr, adj, map)

    def parser_class(self, adj):
        return Parser(adj, self.server.max_body, self.server.admission)

    def received(self, data) -> bool:
        if self.deferred is not None or self.waiting:  # answers go out in order: the next request waits its turn
            self.waiting += data
            if len(self.waiting) > MAX_PIPELINED:
                self.will_close = True
            return True
        if self.request is None:
            self.started = time.time()
        return super().received(data)

    def hold(self, seconds: float) -> None:
        self.held_until = self.last_activity = time.time() + seconds  # waiting is not idleness
        self.server.hold(self, self.held_until)

    def defer(self, deferred: Deferred, task) -> None:
        """Hold the connection until `deferred` is given an answer, or send its fallback at its deadline."""
        with self.outbuf_lock:  # so an answer given from now on finds the connection held, and releases it
            ready = deferred.bind(self, task)
            if ready is None:
                self.deferred = deferred
                self.held_until = self.last_activity = deferred.deadline
        if ready is not None:
            self.deliver(ready)
        else:
            self.server.hold(self, deferred.deadline)

    def deliver(self, data: bytes) -> bool:
        """Send a deferred answer (from any thread); False when the client has gone."""
        with self.outbuf_lock:
            self.deferred = None
            if not self.connected:
                return False
            self.outbufs[-1].append(data)
            self.current_outbuf_count += len(data)
            self.total_outbufs_len += len(data)
            self.held_until = 0.0
        self.server.touched(self)
        return True

    def _held(self) -> bool:
        if self.held_until and self.held_until <= time.time():
            deferred, self.held_until = self.deferred, 0.0  # due: sent on this turn
            if deferred is not None:
                fallback = deferred.expire()
                if fallback is not None:
                    self.deliver(fallback)
        return bool(self.held_until)

    def writable(self):
        if self._held():
            return False
        if self.requests and self.total_outbufs_len <= self.adj.outbuf_high_watermark:
            return False  # its worker is sending (asking would only spin the loop); once done, it is asked again
        return super().writable()

    def readable(self) -> bool:
        if self._held():
            return not self.will_close  # watched still: a sender that gives up and leaves is closed (recv's EOF)
        if self.waiting and self.deferred is None and not self.total_outbufs_len:
            data, self.waiting = self.waiting, b""
            self.received(data)
        return super().readable()

    def _flush_some(self, do_close=True) -> bool:
        if self._held():
            return False
        return super()._flush_some(do_close=do_close)

    def service(self) -> None:
        try:
            super().service()
        finally:
            self.server.touched(self)  # a worker changed what this connection wants: the loop asks it again

    def keep_ticket(self, request) -> None:
        """A served request's ticket: released now, or once its answer (held, or a download) is sent."""
        ticket, request.ticket = request.ticket, None
        if ticket is None:
            return
        with self.outbuf_lock:
            if (self.total_outbufs_len or self.deferred is not None) and self.connected:
                self.sending.append(ticket)
                return
        ticket.release()

    def handle_write(self) -> None:
        super().handle_write()
        if self.sending and not self.total_outbufs_len:
            self._release_sending()

    def handle_close(self) -> None:
        super().handle_close()
        if self.deferred is not None:
            self.deferred.gone()
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


class TLSChannel(Channel):
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
