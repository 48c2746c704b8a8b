"""A provider sending to one endpoint of the app under test: the genuine request and each way to forge it.

Every request is made by the provider's own class in webhooklab (the same
definition its verify() uses), then changed in exactly one way: the body after
signing, the secret, the timestamp, the signature header, or the delivery id. The
answer comes back as a Response whose repr says which request it answers, so a
failing `assert response.status_code == 400` explains itself. Sending one event
more than once (duplicates, replays, retries) is in _again.py.
"""

from __future__ import annotations

import time

from .._checks import got, seconds
from .._errors import UsageError, UsageTypeError
from .._providers.base import Provider
from .._providers.explain import mask
from ._again import Again
from ._effects import Effects, refused_genuine
from ._response import Response
from ._scheme import STALE_MARGIN, delivery_header, refuses_the_future, signed_window, tamper, with_secret


class Sender(Again):
    """One provider sending webhooks to one endpoint of your app, as the `webhook` fixture makes it.

        stripe = webhook(app, "stripe", secret="whsec_test", path="/webhooks/stripe")
        stripe.send("payment_intent.succeeded").status_code      # 200: signed correctly
        stripe.tampered("payment_intent.succeeded").status_code  # 400: one digit changed after signing

    Each method takes an event type (the provider's first one when left out) with
    fields for its payload, or an event you built with event() and kept, to
    assert on its id afterwards.
    """

    def __init__(self, transport, provider: Provider, path: str = "/"):
        if not (callable(getattr(transport, "post", None)) and hasattr(transport, "base_url")):
            raise UsageTypeError(
                f"transport must be what webhook(target, ...) makes for an app or a URL, got {got(transport)}"
            )
        if not isinstance(provider, Provider):
            raise UsageTypeError(f"provider must be a provider such as wl.Stripe('whsec_test'), got {got(provider)}")
        if not isinstance(path, str) or (path and not path.startswith("/")):
            raise (UsageError if isinstance(path, str) else UsageTypeError)(
                f"path must be the endpoint's path, starting with '/', such as '/webhooks/stripe', got {path!r}"
            )
        self.transport, self.provider, self.path = transport, provider, path
        self.accepted = False  # whether the app has accepted a correctly signed request from this sender yet

    @property
    def url(self) -> str:
        """The endpoint's full URL, as the app sees it (an app called in process is at http://testserver)."""
        return self.transport.base_url + self.path

    # -- building and signing -----------------------------------------------------------

    def event(self, event_type: str | None = None, **fields):
        """A realistic payload of this provider's, with fresh ids: provider.event(...)."""
        provider = self.provider
        return provider.event(event_type or provider.first_event or provider.event_types()[0], **fields)

    def sign(self, event=None, **options) -> tuple[bytes, dict[str, str]]:
        """The body and headers the provider would send now (timestamp=, delivery_id= as in Provider.sign)."""
        return self._sign(self.provider, self._event(event, {}), **options)

    def _sign(self, provider: Provider, event, **options):
        return provider.at(self.url).sign(event, **options)  # a scheme that signs the URL signs the one the app sees

    def _event(self, event, fields: dict):
        if event is None or isinstance(event, str):
            return self.event(event, **fields)
        if fields:
            raise UsageError(
                f"fields ({', '.join(fields)}) apply to an event type, but the event was given already built: "
                "set them in event(type, ...) instead"
            )
        return event

    def post(self, body: bytes, headers: dict[str, str], *, case: str = "as given", event_type: str = "") -> Response:
        """POST these exact bytes and headers to the endpoint, for a case the other methods do not make."""
        if not isinstance(body, bytes):
            raise UsageTypeError(f"body must be bytes, exactly as they are to arrive, got {got(body)}")
        if not hasattr(headers, "items"):
            raise UsageTypeError(f"headers must be a dict of name to value, got {got(headers)}")
        attempt = self.transport.post(self.path, body, headers, timeout=self.provider.timeout)
        if attempt.status is None:
            raise ConnectionError(f"{self.provider.title} could not deliver to {attempt.url}: {attempt.error}")
        return Response(attempt, case, self.provider.name, event_type)

    def _send(self, event, body, headers, case) -> Response:
        return self.post(body, headers, case=case, event_type=getattr(event, "event_type", "") or "")

    def _genuine(self, event, body, headers, case="signed correctly") -> Response:
        response = self._send(event, body, headers, case)
        self.accepted = self.accepted or response.ok
        return response

    # -- the genuine request and the forgeries ------------------------------------------------

    def send(self, event=None, **fields) -> Response:
        """Signed correctly with the shared secret: your endpoint should answer 2xx."""
        event = self._event(event, fields)
        return self._genuine(event, *self._sign(self.provider, event))

    def tampered(self, event=None, **fields) -> Response:
        """Signed correctly, then one digit of the body changed, as an attacker raising an amount would: expect 400."""
        event = self._event(event, fields)
        body, headers = self._sign(self.provider, event)
        changed, where = tamper(body)
        return self._send(event, changed, headers, f"body changed after signing: {where}")

    def wrong_secret(self, event=None, **fields) -> Response:
        """Signed by the same scheme with another secret, as a forger who does not know yours: expect 400."""
        event = self._event(event, fields)
        other = with_secret(self.provider, type(self.provider).new_secret())
        return self._send(event, *self._sign(other, event), f"signed with another secret, {mask(other.secret)}")

    def unsigned(self, event=None, **fields) -> Response:
        """The signature header left out, as anyone who found the URL could post: expect 400 (or 401)."""
        event = self._event(event, fields)
        body, headers = self._sign(self.provider, event)
        name = self.provider.signature_header.lower()
        return self._send(event, body, {k: v for k, v in headers.items() if k.lower() != name},
                          f"no {self.provider.signature_header} header")  # fmt: skip

    def stale(self, event=None, *, age: float | None = None, **fields) -> Response:
        """Signed correctly `age` seconds ago (the provider's window and a minute, by default), as a replay: expect 400.

        A scheme that signs no timestamp (GitHub, Shopify) has no stale case: a UsageError says so.
        """
        age = self._beyond(age, "age", "stale", ": how long ago the request was signed")
        return self._signed_at(event, fields, -age, f"signed {age:g} s ago")

    def future(self, event=None, *, ahead: float | None = None, **fields) -> Response:
        """Signed correctly with a timestamp `ahead` seconds from now (the window and a minute, by default).

        Expect 400 where the provider's verifier refuses the future (Standard Webhooks, Slack: a clock that far
        off, or a signature made to be replayed later); Stripe's libraries accept it, so expect 2xx there.
        """
        ahead = self._beyond(ahead, "ahead", "future", ": how far in the future the timestamp is")
        return self._signed_at(event, fields, ahead, f"signed {ahead:g} s in the future")

    def _beyond(self, value, name: str, case: str, hint: str) -> float:
        window = signed_window(self.provider)
        if window is None:
            defence = getattr(self.provider, "replay_defence", "") or "deduplicating on the event's id"
            raise UsageError(
                f"{self.provider.title} signs {self.provider.signs} and no timestamp, so a request signed at any "
                f"time verifies exactly like a fresh one: there is no {case} case to test. Its replay defence is "
                f"{defence}; test it with duplicate() and replayed()."
            )
        return window + STALE_MARGIN if value is None else seconds(value, name, hint)

    def _signed_at(self, event, fields, offset: float, case: str) -> Response:
        event = self._event(event, fields)
        body, headers = self._sign(self.provider, event, timestamp=int(time.time() + offset))
        return self._send(event, body, headers, f"{case}; the window is {signed_window(self.provider):g} s")

    def forgeries(self, event=None, *, effects=None, **fields) -> dict[str, Response]:
        """Every forgery this scheme can tell apart, by name, after making sure a genuine request is accepted.

            forged = stripe.forgeries(effects=lambda: len(inbox.pending))
            assert {name: r.status_code for name, r in forged.items()} == dict.fromkeys(forged, 400)

        The cases: tampered, wrong_secret, unsigned; with a signed timestamp, stale, and future where the
        provider refuses one; replayed (the genuine request with a fresh delivery id) where the id is signed.
        First a correctly signed request (a fresh event of the same type, or `event` itself when built) must be
        answered 2xx, unless this sender had one accepted already: if the app refuses everything, its refusals
        prove nothing, and an AssertionError says what to check. `effects`, a callable reading what the app
        has done (a count of rows, the queued jobs), must then change over that genuine request and stay the
        same over each forgery; an AssertionError names each forgery that changed it.
        """
        watch = Effects(effects)
        built = self._event(event, fields)  # one event for every forgery
        genuine = built if event is not None and not isinstance(event, str) else self._event(event, fields)
        signed = self._sign(self.provider, genuine)
        if watch or not self.accepted:
            before = watch.now()
            answer = self._genuine(genuine, *signed)
            if not answer.ok:
                raise refused_genuine(self, answer)
            watch.check_seen(before, answer)
        cases = {"tampered": self.tampered, "wrong_secret": self.wrong_secret, "unsigned": self.unsigned}
        if signed_window(self.provider) is not None:
            cases["stale"] = self.stale
            if refuses_the_future(self.provider.at(self.url), built):
                cases["future"] = self.future
        carrier = delivery_header(self.provider.at(self.url), built)
        if carrier is not None and carrier[1]:
            cases["replayed"] = lambda _: self._fresh_id(genuine, *signed)
        forged = {name: watch.around(name, lambda case=case: case(built)) for name, case in cases.items()}
        watch.check_unchanged()
        return forged

    def __repr__(self) -> str:
        return f"<Sender {self.provider.title} -> {self.transport.kind} {self.url}, secret {mask(self.provider.secret)}>"
