"""A provider sending to one endpoint of the app under test: the genuine request and each way to get it wrong.

Every request is made by the provider's own class in webhooklab (the same
definition its verify() uses), then changed in exactly one way: the body after
signing, the secret, the timestamp, the signature header, or sent twice. The
answer comes back as a Response whose repr says which request it answers, so a
failing `assert response.status_code == 400` explains itself.
"""

from __future__ import annotations

import copy
import json
import re
import time
from dataclasses import dataclass

from werkzeug.datastructures import Headers

from .._checks import got, seconds, whole
from .._errors import UsageError, UsageTypeError
from .._providers.base import Provider
from .._providers.explain import mask
from .._sending.clock import VirtualClock
from .._sending.delivery import Attempt, Delivery

STALE_MARGIN = 60  # seconds past the provider's window: clearly too old, however the app rounds


@dataclass(frozen=True, eq=False)
class Response:
    """What the app answered, and what it was sent: `status_code`, `headers`, `content`, `text`, `json()`, `elapsed`.

    `case` says what was sent ("signed correctly", "body changed after signing", ...);
    `request_body` and `request_headers` are the exact bytes and headers; `attempt` is the wl.Attempt.
    """

    attempt: Attempt
    case: str
    provider: str
    event_type: str

    @property
    def status_code(self) -> int:
        return self.attempt.status

    @property
    def headers(self) -> Headers:
        return Headers(self.attempt.response_headers)

    @property
    def content(self) -> bytes:
        return self.attempt.response_body

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.content)

    @property
    def elapsed(self) -> float:
        """Seconds from sending to the end of the answer: a provider gives up after its timeout."""
        return self.attempt.elapsed

    @property
    def ok(self) -> bool:
        """A 2xx: what every provider counts as delivered."""
        return self.attempt.ok

    @property
    def request_body(self) -> bytes:
        return self.attempt.request_body

    @property
    def request_headers(self) -> Headers:
        return Headers(self.attempt.request_headers)

    def __repr__(self) -> str:
        answer = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return (f"<Response {self.status_code} {answer!r} to {self.provider} {self.event_type or 'event'} "
                f"({self.case}) at {self.attempt.url}>")  # fmt: skip


class Sender:
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

    # -- the genuine request and the forgeries ------------------------------------------------

    def send(self, event=None, **fields) -> Response:
        """Signed correctly with the shared secret: your endpoint should answer 2xx."""
        event = self._event(event, fields)
        return self._send(event, *self._sign(self.provider, event), "signed correctly")

    def tampered(self, event=None, **fields) -> Response:
        """Signed correctly, then one digit of the body changed, as an attacker raising an amount would: expect 400."""
        event = self._event(event, fields)
        body, headers = self._sign(self.provider, event)
        changed, where = tamper(body)
        return self._send(event, changed, headers, f"body changed after signing: {where}")

    def wrong_secret(self, event=None, **fields) -> Response:
        """Signed by the same scheme with another secret, as a forger who does not know yours: expect 400."""
        event = self._event(event, fields)
        other = _with_secret(self.provider, type(self.provider).new_secret())
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
        window = signed_window(self.provider)
        if window is None:
            defence = getattr(self.provider, "replay_defence", "") or "deduplicating on the event's id"
            raise UsageError(
                f"{self.provider.title} signs {self.provider.signs} and no timestamp, so a request signed long "
                f"ago verifies exactly like a fresh one: there is no stale case to test. Its replay defence is "
                f"{defence}; test it with duplicate()."
            )
        age = window + STALE_MARGIN if age is None else seconds(age, "age", ": how long ago the request was signed")
        event = self._event(event, fields)
        body, headers = self._sign(self.provider, event, timestamp=int(time.time() - age))
        return self._send(event, body, headers, f"signed {age:g} s ago; the window is {window:g} s")

    def forgeries(self, event=None, **fields) -> dict[str, Response]:
        """Every forgery this scheme can tell apart, by name: tampered, wrong_secret, unsigned and, with a timestamp, stale.

            assert {r.status_code for r in stripe.forgeries().values()} == {400}
        """
        cases = [self.tampered, self.wrong_secret, self.unsigned]
        if signed_window(self.provider) is not None:
            cases.append(self.stale)
        built = self._event(event, fields)  # one event for every case
        return {case.__name__: case(built) for case in cases}

    # -- at least once -------------------------------------------------------------------------

    def duplicate(self, event=None, *, times: int = 2, **fields) -> list[Response]:
        """The same event delivered `times` times with one delivery id, as a retry after a lost answer is.

        Where the provider re-signs each retry (Stripe, Standard Webhooks) each copy
        has a fresh timestamp; elsewhere the bytes are identical. Expect a 2xx each
        time and the work done once.
        """
        if whole(times, "times", "a whole number of deliveries") < 1:
            raise UsageError(f"times must be at least 1, got {times}: it is how many times the event is delivered")
        event = self._event(event, fields)
        delivery_id = self.provider.new_delivery_id()
        resigns = self.provider.policy_for(event).resigns
        signed, responses = None, []
        for number in range(1, times + 1):
            if signed is None or resigns:
                signed = self._sign(self.provider, event, delivery_id=delivery_id)
            responses.append(self._send(event, *signed, f"delivery {number} of {times}, delivery id {delivery_id}"))
        return responses

    def deliver(self, event=None, *, clock=None, policy=None, **fields) -> Delivery:
        """Delivered with retries on the provider's schedule (or `policy`), on a wl.VirtualClock unless `clock`.

        Days of retries take milliseconds; every attempt still reaches your app. The
        result is a wl.Delivery: `.status`, `.attempts` (a table), `.log`. Over HTTP it is
        the provider's own deliver(), headers of its retries included (Slack's
        X-Slack-Retry-Num); in process, the same signed requests on the same schedule.
        """
        event, clock = self._event(event, fields), clock or VirtualClock()
        if self.transport.kind == "HTTP":
            return self.provider.deliver(event, self.url, clock=clock, policy=policy)
        return _Delivery(self, event, clock=clock, policy=policy).run()

    def __repr__(self) -> str:
        return f"<Sender {self.provider.title} -> {self.transport.kind} {self.url}, secret {mask(self.provider.secret)}>"


class _Delivery(Delivery):
    """A wl.Delivery whose attempts go through the sender's transport: in process, or over HTTP."""

    def __init__(self, sender: Sender, event, **options):
        super().__init__(sender.provider, event, sender.url, **options)
        self._sender = sender

    def _sign(self) -> tuple[bytes, dict[str, str]]:
        return self._sender._sign(self.provider, self.event, delivery_id=self.delivery_id)

    def _send(self) -> Attempt:
        body, headers = self._request()
        return self._sender.transport.post(self._sender.path, body, headers,
                                           timeout=self.policy.timeout or self.provider.timeout)  # fmt: skip


def tamper(body: bytes) -> tuple[bytes, str]:
    """The body with its last digit changed (9 becomes 8, any other goes up one), so it stays valid JSON or form data."""
    digits = list(re.finditer(rb"[0-9]", body))
    if not digits:
        return body + b" ", "a space added at the end"
    at = digits[-1].start()
    old = body[at : at + 1]
    new = b"8" if old == b"9" else bytes([old[0] + 1])
    return body[:at] + new + body[at + 1 :], f"byte {at} {old.decode()} -> {new.decode()}"


def signed_window(provider: Provider) -> float | None:
    """Seconds a signed timestamp stays acceptable, or None when the scheme signs no timestamp."""
    return provider.window


def _with_secret(provider: Provider, secret: str) -> Provider:
    """The same provider signing with `secret`: made anew (keys derived from a secret are remade), with its
    public settings (a prefix, a hook id, a URL) copied over; what is private is derived, and stays the new one's."""
    other = copy.copy(provider)
    type(provider).__init__(other, secret)
    for name, value in vars(provider).items():
        if not name.startswith("_") and name != "secrets":
            setattr(other, name, value)
    return other
