"""How a signed request reaches the app under test: a WSGI call, an ASGI call, or real HTTP.

Each transport posts the exact body bytes and headers it is given and
records what came back as a wl.Attempt; none re-encodes the body, so what the
app verifies is byte for byte what was signed. serve() puts an app on a real
socket on 127.0.0.1, in a daemon thread, for the tests that want the wire.
"""

from __future__ import annotations

import inspect
import threading
import time
from datetime import datetime, timezone

from werkzeug.datastructures import Headers

from .._checks import got
from .._errors import ReceiverError, UsageError, UsageTypeError
from .._exports import optional
from .._sending.delivery import Attempt, post

# The address an app called in process believes it is served at: Starlette's test client's default.
BASE_URL = "http://testserver"


def transport_for(target):
    """The transport that reaches `target`: a URL, an ASGI app (FastAPI, Starlette) or a WSGI app (Flask, Django)."""
    if isinstance(target, str):
        if not target.startswith(("http://", "https://")):
            raise UsageError(
                f"expected a URL such as 'http://127.0.0.1:8000', but got {target!r}: a string is posted to over "
                "real HTTP, so it needs its scheme. To test an app in process, pass the app object itself."
            )
        return HTTPTransport(target)
    if is_asgi(target):
        return ASGITransport(target)
    if callable(target) and not isinstance(target, type):
        return WSGITransport(target)
    raise UsageTypeError(
        f"expected the app to send webhooks to: a WSGI app (a Flask app, Django's get_wsgi_application()), an "
        f"ASGI app (a FastAPI or Starlette app) or a URL, but got {got(target)}. A factory must be called first: "
        "pass create_app(...), not create_app."
    )


def is_asgi(app) -> bool:
    """ASGI apps are awaited (`async def __call__(scope, receive, send)`); WSGI apps are plain calls."""
    call = app if inspect.isroutine(app) else getattr(type(app), "__call__", None)
    return inspect.iscoroutinefunction(call)


def _attempt(url, started_at, started, status, headers, content, request_headers, body) -> Attempt:
    return Attempt(url=url, sent_at=started_at, elapsed=time.perf_counter() - started, status=status,
                   response_body=content, response_headers=dict(Headers(headers)),
                   request_headers=dict(request_headers), request_body=body)  # fmt: skip


class WSGITransport:
    """A WSGI call through werkzeug's test client: no socket, the app's own thread is the test's."""

    kind = "WSGI"
    base_url = BASE_URL

    def __init__(self, app):
        self.app = app
        self._local = threading.local()  # a client per thread: copies sent at once do not share one

    @property
    def client(self):
        from werkzeug.test import Client

        if not hasattr(self._local, "client"):
            self._local.client = Client(self.app)
        return self._local.client

    def post(self, path: str, body: bytes, headers: dict[str, str], *, timeout=None) -> Attempt:
        started_at, started = datetime.now(timezone.utc), time.perf_counter()
        reply = self.client.post(path, base_url=self.base_url, data=body, headers=list(headers.items()))
        try:
            content = reply.get_data()
        finally:
            reply.close()
        return _attempt(self.base_url + path, started_at, started, reply.status_code, reply.headers, content, headers, body)

    def close(self) -> None:
        pass


class ASGITransport:
    """An ASGI call through httpx's ASGITransport, on an event loop in a thread of its own.

    The app's lifespan startup runs before the first request and its shutdown at
    close(), as a server runs them. Its own thread lets a sync test and an async
    one (whose loop is already running) post alike.
    """

    kind = "ASGI"
    base_url = BASE_URL

    def __init__(self, app):
        import asyncio

        httpx = _asgi_package("httpx", "an ASGI app (FastAPI, Starlette) is called in process through httpx")

        self.app = app
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="webhooklab-asgi", daemon=True)
        self._thread.start()
        self._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=self.base_url)
        self._lifespan = _Lifespan(app)
        try:
            self._run(self._lifespan.startup())
        except BaseException:
            self._stop_loop()
            raise

    def _run(self, coroutine):
        import asyncio

        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def post(self, path: str, body: bytes, headers: dict[str, str], *, timeout=None) -> Attempt:
        started_at, started = datetime.now(timezone.utc), time.perf_counter()
        reply = self._run(self._client.post(path, content=body, headers=headers))
        return _attempt(self.base_url + path, started_at, started, reply.status_code, reply.headers.multi_items(),
                        reply.content, headers, body)  # fmt: skip

    def close(self) -> None:
        try:
            self._run(self._client.aclose())
            self._run(self._lifespan.shutdown())
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


class _Lifespan:
    """The ASGI lifespan protocol, as uvicorn's lifespan="auto" runs it: an app that does not speak it runs without."""

    def __init__(self, app):
        self.app = app
        self._task = None

    async def startup(self) -> None:
        import asyncio

        self._to_app, self._from_app = asyncio.Queue(), asyncio.Queue()
        await self._to_app.put({"type": "lifespan.startup"})
        self._task = asyncio.ensure_future(self._main())
        message = await self._from_app.get()
        if message["type"] == "lifespan.startup.failed":
            raise ReceiverError(f"the app's startup failed: {message.get('message') or 'it gave no reason'}")

    async def _main(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        try:
            await self.app(scope, self._to_app.get, self._from_app.put)
        except Exception:  # the app does not handle the lifespan scope: it runs without startup and shutdown
            pass
        await self._from_app.put({"type": "lifespan.ended"})

    async def shutdown(self) -> None:
        if self._task is None or self._task.done():
            return
        await self._to_app.put({"type": "lifespan.shutdown"})
        message = await self._from_app.get()
        await self._task
        if message["type"] == "lifespan.shutdown.failed":
            raise ReceiverError(f"the app's shutdown failed: {message.get('message') or 'it gave no reason'}")


class HTTPTransport:
    """Real HTTP with requests, as the provider sends: no redirects followed, the provider's timeout."""

    kind = "HTTP"

    def __init__(self, url: str):
        self.base_url = url.rstrip("/")

    def post(self, path: str, body: bytes, headers: dict[str, str], *, timeout=10.0) -> Attempt:
        return post(self.base_url + path, body, headers, timeout=timeout)

    def close(self) -> None:
        pass


class Server:
    """An app served on 127.0.0.1 and a free port from a daemon thread: WSGI on waitress, ASGI on uvicorn."""

    def __init__(self, app):
        if not callable(app) or isinstance(app, type):
            raise UsageTypeError(
                f"app must be a WSGI or ASGI app to serve, such as a Flask or FastAPI app object, got {got(app)}. "
                "A factory must be called first: pass create_app(...), not create_app."
            )
        self.app = app
        self._backend = None

    def start(self) -> Server:
        if self._backend is not None:
            raise ReceiverError(f"this server is already running at {self.url}; stop() it first")
        self._backend = (_Uvicorn(self.app) if is_asgi(self.app) else _Waitress(self.app)).start()
        return self

    def stop(self) -> None:
        backend, self._backend = self._backend, None
        if backend is not None:
            backend.stop()

    @property
    def url(self) -> str:
        if self._backend is None:
            raise ReceiverError("this server has no URL: it is not running. Call start() first")
        return self._backend.url

    def __repr__(self) -> str:
        where = self.url if self._backend else "stopped"
        return f"<Server {type(self.app).__name__} {where}>"


class _Waitress:
    def __init__(self, app):
        from .._receiving.server import BackgroundServer

        self.server = BackgroundServer(app)

    def start(self):
        self.server.start()
        self.url = self.server.base_url
        return self

    def stop(self) -> None:
        self.server.stop()


class _Uvicorn:
    """uvicorn on a socket bound here first: a request made before it is ready waits in the backlog, unrefused."""

    def __init__(self, app):
        uvicorn = _asgi_package("uvicorn", "webhook.serve() runs an ASGI app (FastAPI, Starlette) on uvicorn")

        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="auto"))
        self.error: BaseException | None = None

    def start(self):
        from .._receiving.server import _listen

        self.socket = _listen("127.0.0.1", 0)
        self.url = "http://127.0.0.1:%d" % self.socket.getsockname()[1]
        self.thread = threading.Thread(target=self._run, name=f"webhooklab-uvicorn-{self.url}", daemon=True)
        self.thread.start()
        return self

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self.socket])
        except BaseException as error:  # re-raised in the test's thread by stop()
            self.error = error

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()
        if self.error is not None:
            raise ReceiverError(f"the app's server at {self.url} failed: {self.error!r}") from self.error



def _asgi_package(name: str, why: str):
    """An ASGI extra's package, or an error that says which install brings it."""
    extra = "pip install 'webhooklab[asgi]'"
    return optional(name, lambda _: UsageError(f"{why}, which this install does not have: {extra}"))
