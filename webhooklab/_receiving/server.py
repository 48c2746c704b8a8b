"""A WSGI app served from a daemon thread of this process: start, stop, a URL, a context manager.

The HTTP layer under it is waitress (_receiving/transport.py). Binding the socket here
first makes a taken port or a bad host a clear error, never a crash.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import ssl
import threading
from typing import Self

from .._checks import got, whole
from .._errors import ReceiverError, UsageError, UsageTypeError
from .admission import Admission
from .transport import HTTPServer

DEFAULT_MAX_BODY = 25 * 1024 * 1024  # GitHub's cap on a webhook payload
LOG = logging.getLogger(__name__)


class BackgroundServer:
    """Serves `app` in a daemon thread, on 127.0.0.1 and a free port by default.

    Starting twice, stopping twice, a taken port or a bad host raise a
    ReceiverError that says what to do. A request body is kept up to
    `max_body` bytes; what arrives beyond that is counted and dropped.
    """

    kind = "receiver"  # how messages name this server

    def __init__(self, app, *, host: str = "127.0.0.1", port: int = 0, ssl_context=None,
                 max_body: int = DEFAULT_MAX_BODY):  # fmt: skip
        if not isinstance(host, str) or not host.strip():
            raise (UsageError if isinstance(host, str) else UsageTypeError)(
                "host must be the address to listen on, such as '127.0.0.1' (this machine only) or "
                f"'0.0.0.0' (every network interface), got {got(host)}"
            )
        if "/" in host:
            raise UsageError(
                f"host must be an address such as '127.0.0.1', not a URL, got {host!r}: the URLs are made from it"
            )
        name, _, tail = host.rpartition(":")
        if host.count(":") == 1 and tail.isdigit():
            raise UsageError(
                f"host {host!r} includes a port: give it separately, as {type(self).__name__}(host={name!r}, port={tail})"
            )
        port = whole(port, "port", "a whole number from 0 (any free port) to 65535")
        if not 0 <= port <= 65535:
            raise UsageError(f"port must be from 0 (any free port) to 65535, got {port}: a TCP port is a 16-bit number")
        max_body = whole(max_body, "max_body", "a whole number of bytes, such as 10 * 1024 * 1024 for 10 MB")
        if max_body < 1:
            raise UsageError(
                f"max_body must be at least 1 byte, got {max_body}: it is the largest body the receiver "
                "accepts (25 MB by default, GitHub's cap on a webhook payload)"
            )
        _tls_option(ssl_context)
        self.app = app
        self.host = host
        self.requested_port = port
        self.ssl_context = ssl_context  # (certificate file, key file) or an ssl.SSLContext: serve HTTPS
        self.max_body = max_body
        self._server: HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        """Start serving and return self, so `Receiver().start()` reads well."""
        if self.running:
            raise ReceiverError(f"this {self.kind} is already running at {self.base_url}; call stop() first")
        tls = _tls_context(self.ssl_context)
        listener = _listen(self.host, self.requested_port)
        self._server = HTTPServer(self.app, listener, tls, self.max_body, self._admission(), self._connection_limit())
        self._thread = threading.Thread(
            target=self._server.run,
            name=f"webhooklab-{self.kind}-{self.port}",
            daemon=True,  # never keep a kernel or interpreter alive
        )
        self._thread.start()
        LOG.info("%s listening at %s, up to %d connections at once", self.kind, self.base_url,
                 self._server.adj.connection_limit)  # fmt: skip
        return self

    def _admission(self) -> Admission | None:
        """What decides, as each request's headers arrive, whether it may go on (none: every request may)."""
        return None

    def _connection_limit(self) -> int | None:
        """Connections open at once (None: as many as the process may open files, less a margin)."""
        return None

    def stop(self) -> None:
        """Stop serving and free the port."""
        if not self.running:
            raise ReceiverError(f"this {self.kind} is not running, so there is nothing to stop")
        server, self._server = self._server, None
        try:
            server.trigger.pull_trigger(server.close_everything)  # the event loop closes its own sockets
        except OSError:  # the loop has closed its trigger already: it is ending, or has ended
            pass
        self._thread.join(timeout=5)
        if self._thread.is_alive() or server._map:
            server.close_everything()  # the loop could not: close from here, so the port is free
        server.task_dispatcher.set_thread_count(0)  # each worker leaves after its current request
        self._thread = None
        LOG.info("%s at port %s stopped", self.kind, server.effective_port)

    def __enter__(self):
        return self if self.running else self.start()

    def __exit__(self, *exc) -> None:
        if self.running:
            self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int | None:
        return int(self._server.effective_port) if self.running else None

    @property
    def base_url(self) -> str:
        if not self.running:
            raise ReceiverError(f"this {self.kind} has no URL yet: it is not running. Call .start() first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.ssl_context else 'http'}://{host}:{self.port}"


def _tls_option(option) -> None:
    """ssl_context as given: None, an ssl.SSLContext, or (certificate file, key file), each a path."""
    if option is None or isinstance(option, ssl.SSLContext):
        return
    pair = isinstance(option, (tuple, list)) and len(option) == 2
    if not pair or not all(isinstance(part, (str, os.PathLike)) for part in option):
        raise UsageTypeError(f"ssl_context must be (certificate file, key file) or an ssl.SSLContext, got {got(option)}")


def _tls_context(option) -> ssl.SSLContext | None:
    if option is None or isinstance(option, ssl.SSLContext):
        return option
    certificate, key = option
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(certificate, key)
    except (OSError, ssl.SSLError) as error:
        raise ReceiverError(
            f"cannot serve HTTPS with certificate {certificate!r} and key {key!r}: {error}. "
            "Both must be PEM files, and the key must belong to the certificate"
        ) from None
    return context


def _listen(host: str, port: int) -> socket.socket:
    """Bind and listen ourselves, so a taken port or a bad host is a clear error here."""
    try:
        info = socket.getaddrinfo(host, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)[0]
    except socket.gaierror as error:
        raise ReceiverError(
            f"cannot listen on host {host!r}: it is not an address or a name this machine can "
            f"resolve ({error.strerror}). Use '127.0.0.1', the default"
        ) from None
    family, address = info[0], info[4]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(1024)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise ReceiverError(
                f"port {port} on {host} is already taken, by another program or another Receiver. "
                "Stop that one, or use port=0 to get a free port"
            ) from None
        if error.errno == errno.EADDRNOTAVAIL:
            raise ReceiverError(
                f"cannot listen on {host!r}: it is not an address of this machine. Use '127.0.0.1', the default"
            ) from None
        raise ReceiverError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    return sock
