"""The pytest side: the `webhook` fixture, which makes senders and servers and closes them after each test."""

from __future__ import annotations

import pytest

from .._checks import got
from .._errors import UsageError, UsageTypeError
from .._providers.base import Provider
from .._providers.registry import PROVIDERS, one_of
from ._sender import Sender
from ._transports import Server, transport_for


class Webhooks:
    """What the `webhook` fixture gives a test: call it for a Sender, `serve()` an app on a real socket.

        stripe = webhook(app, "stripe", secret="whsec_test", path="/webhooks/stripe")
        url = webhook.serve(app)                     # http://127.0.0.1:<free port>, until the test ends
        github = webhook(url, "github", secret="s3cret", path="/hooks/github")
    """

    def __init__(self):
        self._transports: dict[int, tuple[object, object]] = {}  # id(target) -> (target, transport)
        self._servers: list[Server] = []

    def __call__(self, target, provider: str | Provider | type[Provider], *, secret: str | list[str] | None = None,
                 path: str = "/") -> Sender:  # fmt: skip
        """A Sender: `provider` (a registered name, a class, or an instance that has its secret) posting to `target`.

        `target` is a WSGI app (Flask, Django), an ASGI app (FastAPI, Starlette) or a
        URL; `secret` is the one your app verifies with; `path` the endpoint's path.
        """
        return Sender(self._transport(target), _provider(provider, secret), path)

    def serve(self, app) -> str:
        """Serve `app` on 127.0.0.1 and a free port, from a daemon thread, until the test ends; its base URL.

        WSGI apps run on waitress, ASGI apps on uvicorn: the request crosses a real socket.
        """
        server = Server(app).start()
        self._servers.append(server)
        return server.url

    @property
    def providers(self) -> list[str]:
        """Every provider a sender can be: the registry's names, built-in or registered later."""
        return list(PROVIDERS)

    def _transport(self, target):
        key = target if isinstance(target, str) else id(target)
        if key not in self._transports:
            self._transports[key] = (target, transport_for(target))
        return self._transports[key][1]

    def close(self) -> None:
        """Close every client (an ASGI app's shutdown runs here) and stop every server."""
        transports, self._transports = self._transports, {}
        servers, self._servers = self._servers, []
        for _, transport in transports.values():
            transport.close()
        for server in servers:
            server.stop()

    def __repr__(self) -> str:
        return f"<webhook fixture: {len(self._transports)} app(s), {len(self._servers)} server(s); providers {one_of(PROVIDERS)}>"


def _provider(provider, secret) -> Provider:
    if isinstance(provider, Provider):
        if secret is not None:
            raise UsageError(
                f"{provider!r} already has its secret: pass either a provider with its secret or a name with secret=..."
            )
        return provider
    if isinstance(provider, str):
        cls = PROVIDERS.get(provider.lower())
        if cls is None:
            raise UsageError(f"expected a provider's name, one of {one_of(PROVIDERS)}, but got {provider!r}")
    elif isinstance(provider, type) and issubclass(provider, Provider):
        cls = provider
    else:
        raise UsageTypeError(f"expected a provider: a name such as 'stripe', a wl.Provider class or instance; got {got(provider)}")
    if secret is None:
        raise UsageError(
            f"{cls.title} signs with a secret your app also holds: pass secret=..., the one your app verifies "
            f"with in this test (webhook(app, {cls.name!r}, secret=...)). A secret only the test knew would make "
            "every request look forged."
        )
    return cls(secret)


@pytest.fixture
def webhook():
    """Sign any registered provider's webhooks and post them to your app: see webhooklab.testing."""
    webhooks = Webhooks()
    yield webhooks
    webhooks.close()

