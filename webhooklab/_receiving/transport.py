"""waitress, adapted to a receiver: the HTTP layer under the app.

waitress (not werkzeug's development server, which its maintainers say offers
no security guarantee) reads every connection in one event loop and hands only
complete requests to a bounded pool of threads, so a slow, malformed or hostile
client costs a socket and some buffer, never a thread. On top of it, here: the
headers kept exactly as sent, the body kept up to max_body and drained past it,
a request waitress refuses still handed to the app to record, and TLS.
"""

from __future__ import annotations

import logging
import select
import socket
import ssl
import threading
import time
from urllib.parse import quote_from_bytes

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError, crack_first_line, get_header_lines, split_uri
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, WSGITask

from .._version import __version__

# waitress warns on stderr when requests queue or connections reach the limit: in a notebook that is
# noise under every cell, and both are expected under load. Its errors still show.
for _name in ("waitress", "waitress.queue"):
    logging.getLogger(_name).setLevel(logging.ERROR)

THREADS = 16  # requests handled at once; each respond(delay=...) holds one while it waits
CONNECTIONS = 2000  # open connections at once, fewer where the process may open fewer files
SELECT_LIMIT = 512  # sockets select() can watch on Windows (FD_SETSIZE there), where there is no poll()
IDLE_TIMEOUT = 30  # seconds a connection may stay silent (between requests or mid-request) before it is closed
# A streamed answer (an export) waits for the client once this much is queued for it: memory stays flat.
OUTBUF_LIMIT = 2 * 1024**2
ASCII_PRINTABLE = bytes(range(0x21, 0x7F))  # kept as sent when a raw request line is percent-encoded
NON_ASCII = ("the request line holds raw non-ASCII bytes; HTTP wants them percent-encoded (/caf%C3%A9, not /café): "
             "a client that sent the URL as typed")  # fmt: skip
DRAIN_LIMIT = 1024**3  # an over-limit body is read and dropped up to here, so the sender can read our 413


class HTTPServer(TcpWSGIServer):
    """waitress's server on a socket we bound, with our channels, and a way to close from its own loop."""

    def __init__(self, app, listener: socket.socket, tls: ssl.SSLContext | None, max_body: int):
        self.tls = tls
        self._waking = threading.Lock()  # see close_everything
        self.max_body = max_body
        self.channel_class = _TLSChannel if tls else _Channel
        adjustments = Adjustments(
            threads=THREADS,
            connection_limit=_connection_limit(),
            channel_timeout=IDLE_TIMEOUT,
            cleanup_interval=min(IDLE_TIMEOUT, 10),
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


class _Parser(HTTPRequestParser):
    """waitress's request parser, also keeping the headers exactly as sent and capping the kept body."""

    raw_headers: list[tuple[str, str]] = []  # names in the case and order they were sent
    close_after = False  # the request's framing is in doubt: nothing after it on the connection is read
    body = None  # a _CappedBuffer once the headers announce a body

    def __init__(self, adj, max_body: int):
        super().__init__(adj)
        self.max_body = max_body

    def parse_header(self, header_plus: bytes) -> None:
        first_line, _, block = header_plus.partition(b"\r\n")
        self.raw_headers = _header_pairs(block)
        try:
            super().parse_header(header_plus)
        except Exception:
            if self._recover_request_line(first_line) and not first_line.isascii():
                raise ParsingError(NON_ASCII) from None
            raise  # recorded with waitress's reason, or answered by waitress alone
        if self.body_rcv is not None:
            self.body = self.body_rcv.buf = _CappedBuffer(self.body_rcv.buf, self.max_body + 1)
        # Content-Length beside Transfer-Encoding: the chunks frame the body, and the connection closes after the
        # answer (RFC 9112 6.3), as a proxy in front may have framed it by the length and sent more after it.
        self.close_after = self.chunked and any(name.lower() == "content-length" for name, _ in self.raw_headers)

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
        return environ


def _rejection(channel, request):
    """A request the HTTP layer refused: still given to the app (to record and answer) when its path is known.

    A line that is not a request line has no path: it gets waitress's own 400. Either way the connection
    is closed after the answer, never left waiting, and nothing after a framing error is read from it.
    """
    if getattr(request, "command", None) is None or getattr(request, "path", None) is None:
        return ErrorTask(channel, request)
    task = _Task(channel, request)
    task.rejected = (request.error.code, f"{request.error.reason}: {request.error.body}")
    task.close_on_finish = True  # after a framing error nothing more on this connection can be trusted
    return task


class _Channel(HTTPChannel):
    task_class = _Task
    error_task_class = staticmethod(_rejection)

    def parser_class(self, adj):
        return _Parser(adj, self.server.max_body)


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


def _connection_limit() -> int:
    """CONNECTIONS, or fewer where the process may not open that many files (a macOS kernel allows 256).

    Asked when a server starts, never at import: `resource` is Unix's. Without it (Windows), the limit is
    what select() can watch, as waitress falls back on select() where there is no poll().
    """
    try:
        import resource
    except ImportError:
        return CONNECTIONS if hasattr(select, "poll") else SELECT_LIMIT - 32  # room for the listener and its trigger
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return CONNECTIONS
    return max(16, min(CONNECTIONS, soft - 128))  # leave room for the kernel's own files and sockets
