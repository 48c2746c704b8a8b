"""A pytest plugin for testing your own webhook endpoint with the providers' real signatures.

Installing webhooklab registers the plugin (pytest11 entry point); without it,
`pytest -p webhooklab.testing` loads it. It gives one fixture, `webhook`. Bind a
provider to your endpoint once, in conftest.py, under a name that hides no library
(`hooks` or `stripe_hooks`: a fixture named `stripe` would hide the stripe package
inside the test), with a second fixture that reads what your app has done:

    @pytest.fixture
    def hooks(webhook, app):
        return webhook(app, "stripe", secret="whsec_test", path="/webhooks/stripe")

    @pytest.fixture
    def work(inbox):
        return lambda: len(inbox.pending)      # read before and after a request

    def test_every_forgery_is_refused_and_changes_nothing(hooks, work):
        forged = hooks.forgeries(effects=work)
        assert {name: r.status_code for name, r in forged.items()} == dict.fromkeys(forged, 400)

Why this shape: a provider is bound to one endpoint once, where the app and its
secret are, and each test then names only the case it is about; the same tests
run for any provider, in process and over real HTTP.

`webhook(target, provider, *, secret, path="/")` returns a Sender:
  target    a WSGI app (Flask, Django: called through werkzeug's test client), an
            ASGI app (FastAPI, Starlette: through httpx's ASGITransport, lifespan
            included), or a URL (real HTTP);
  provider  any registered provider's name ("stripe", "github", ... and any
            provider registered later), a wl.Provider class, or an instance;
  secret    the secret your app verifies with.
`webhook.serve(app)` serves an app on 127.0.0.1 from a thread, until the test ends,
and returns its URL, to pass as the target.

A Sender's methods take an event type (the provider's first when left out, fields
as keywords), an event built with `.event(...)`, a plain dict, or the body as bytes,
and return a Response (`status_code`, `.ok` for a 2xx, `headers`, `text`, `json()`,
`elapsed`, `case`, and the request that was sent):
  send()          signed correctly: expect 2xx
  tampered()      one digit of the body changed after signing: expect 400
  wrong_secret()  signed with another secret: expect 400
  unsigned()      no signature header: expect 400
  stale(age=)     signed `age` s ago (default: past the provider's window): expect 400
  future(ahead=)  signed `ahead` s in the future: expect 400 where the provider refuses it (Standard
                  Webhooks, Slack); Stripe's libraries accept it
  forgeries(effects=)  first a genuine request, which must be accepted (else an AssertionError: check
                  ALLOWED_HOSTS, the secret, the path); then each forgery of the scheme, by name:
                  tampered, wrong_secret, unsigned, stale, future, replayed; `effects` must change
                  over the genuine request and over no forgery (an AssertionError names the case)
  duplicate(times=)    one delivery id, sent one after another: expect 2xx each, work done once
  concurrent(times=)   one delivery, `times` copies sent at the same moment from threads: the same
  replayed()      the genuine request, then its signed body with a fresh delivery id: 2xx where the
                  id is not signed (GitHub, Shopify: dedupe on the body, not the header), 400 where
                  it is (Standard Webhooks); work done once either way
  deliver()       retries on the provider's schedule on a virtual clock: a wl.Delivery

Requests an app called in process sees come from http://testserver. An error
your app does not handle is raised in the test, as the framework's test client
raises it (Flask with TESTING, httpx's ASGITransport always); over real HTTP it is a 500.
With Django, allow the host 'testserver' (and '127.0.0.1' over HTTP) in ALLOWED_HOSTS
for the tests, or every request is refused with a 400.
"""

from .._exports import claim as _claim
from ._plugin import Webhooks, webhook
from ._response import Response
from ._sender import Sender
from ._transports import Server

__all__ = ["Response", "Sender", "Server", "Webhooks", "webhook"]

_claim(globals(), __name__)  # each name says where a learner finds it, not a private module
