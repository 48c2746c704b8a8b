"""A WSGI app served from a daemon thread of this process: start, stop, a URL, a context manager."""

from __future__ import annotations

import errno
import socket
import threading

from werkzeug.serving import WSGIRequestHandler, make_server, select_address_family

from .errors import ReceiverError


class BackgroundServer:
    """Serves `app` on werkzeug's threaded server, in a daemon thread, on 127.0.0.1 and a free port by default.

    Starting twice, stopping twice, a taken port or a bad host raise a
    ReceiverError that says what to do: never werkzeug's sys.exit() in a kernel.
    """

    kind = "receiver"  # how messages name this server

    def __init__(self, app, *, host: str = "127.0.0.1", port: int = 0, ssl_context=None):
        self.app = app
        self.host = host
        self.requested_port = port
        self.ssl_context = ssl_context  # (certificate file, key file) or an ssl.SSLContext: serve HTTPS
        self._server = None
        self._thread: threading.Thread | None = None

    def start(self):
        """Start serving and return self, so `Receiver().start()` reads well."""
        if self.running:
            raise ReceiverError(f"this {self.kind} is already running at {self.base_url}; call stop() first")
        listener = _listen(self.host, self.requested_port)
        try:
            self._server = make_server(
                self.host, self.requested_port, self.app,
                threaded=True, request_handler=_Handler, fd=listener.fileno(), ssl_context=self.ssl_context,
            )  # fmt: skip
        finally:
            listener.close()  # the server holds its own duplicate of the socket
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how quickly stop() is noticed
            name=f"webhooklab-{self.kind}-{self.port}",
            daemon=True,  # never keep a kernel or interpreter alive
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if not self.running:
            raise ReceiverError(f"this {self.kind} is not running, so there is nothing to stop")
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

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
        return self._server.port if self.running else None

    @property
    def base_url(self) -> str:
        if not self.running:
            raise ReceiverError(f"this {self.kind} has no URL yet: it is not running. Call .start() first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.ssl_context else 'http'}://{host}:{self.port}"


class _Handler(WSGIRequestHandler):
    """Werkzeug's handler, quiet per request and keeping header names exactly as sent."""

    def log_request(self, code="-", size="-") -> None:
        pass  # one line per request would spill into the notebook's output

    def make_environ(self):
        environ = super().make_environ()
        # WSGI keeps headers only as HTTP_* keys, which loses their case and order.
        environ["webhooklab.raw_headers"] = list(self.headers.items())
        return environ


def _listen(host: str, port: int) -> socket.socket:
    """Bind and listen ourselves, so a taken port is an error here and not werkzeug's sys.exit()."""
    family = select_address_family(host, port)
    try:
        address = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)[0][4]
    except socket.gaierror as error:
        raise ReceiverError(
            f"cannot listen on host {host!r}: it is not an address or a name this machine can "
            f"resolve ({error.strerror}). Use '127.0.0.1', the default"
        ) from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
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
