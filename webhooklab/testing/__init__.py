"""A pytest plugin for testing your own webhook endpoint with the providers' real signatures.

Installing webhooklab registers the plugin (pytest11 entry point); without it,
`pytest -p webhooklab.testing` loads it. It gives one fixture, `webhook`:

    @pytest.fixture
    def stripe(webhook, app):
        return webhook(app, "stripe", secret="whsec_test", path="/webhooks/stripe")

    def test_a_signed_event_is_accepted(stripe):
        assert stripe.send("payment_intent.succeeded").status_code == 200

    def test_a_tampered_body_is_refused(stripe):
        assert stripe.tampered("payment_intent.succeeded").status_code == 400

Why this shape: a provider is bound to one endpoint once, where the app and its
secret are (a fixture in conftest.py), and each test then names only the case
it is about. `stripe.tampered(...)` reads as the sentence the test states; the
app, the provider, the secret and the path are not repeated in every test, and
one fixture parametrized over targets runs the same tests in process and over
real HTTP.

`webhook(target, provider, *, secret, path="/")` returns a Sender:
  target    a WSGI app (Flask, Django: called through werkzeug's test client), an
            ASGI app (FastAPI, Starlette: through httpx's ASGITransport, lifespan
            included), or a URL (real HTTP);
  provider  any registered provider's name ("stripe", "github", ... and any
            provider registered later), a wl.Provider class, or an instance;
  secret    the secret your app verifies with.
`webhook.serve(app)` serves an app on 127.0.0.1 from a thread, until the test ends,
and returns its URL, to pass as the target.

A Sender's methods take an event type (or an event built with `.event(...)`)
and return a Response (`status_code`, `headers`, `text`, `json()`, `elapsed`,
and the request that was sent):
  send()          signed correctly: expect 2xx
  tampered()      one digit of the body changed after signing: expect 400
  wrong_secret()  signed with another secret: expect 400
  unsigned()      no signature header: expect 400
  stale()         signed long ago, past the provider's window: expect 400
  forgeries()     each of those that applies to the scheme, by name
  duplicate()     one event delivered twice with one delivery id: expect 2xx both times, work done once
  deliver()       retries on the provider's schedule on a virtual clock: a wl.Delivery

Requests an app called in process sees come from http://testserver. An error
your app does not handle is raised in the test, as the framework's test client
raises it (Flask with TESTING, httpx's ASGITransport always); over real HTTP it is a 500.
With Django, allow the host 'testserver' in ALLOWED_HOSTS for the tests.
"""

from .._exports import claim as _claim
from ._plugin import Webhooks, pytest_report_header, webhook
from ._sender import Response, Sender
from ._transports import Server

__all__ = ["Response", "Sender", "Server", "Webhooks", "pytest_report_header", "webhook"]

_claim(globals(), __name__)  # each name says where a learner finds it, not a private module
