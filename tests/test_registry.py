"""A provider added from outside the package goes through the same registry as the built-ins.

Acme is made up: `X-Acme-Signature: <hex HMAC-SHA256 of the body>`, and
`X-Acme-Event` tells its requests apart. Defining it and registering it is
all it takes for the receiver to recognise and verify it and for the
command line to offer it.
"""

import secrets

import pytest

import webhooklab as wl
from webhooklab import _cli as cli
from webhooklab._providers import PROVIDERS, Header, Payload, Provider, identify, register, unregister


class Acme(Provider):
    """Signs the body alone, hex-encoded; the event type and delivery id travel in headers of its own."""

    name = "acme"
    title = "Acme"
    signature_header = "X-Acme-Signature"
    first_event = "widget.shipped"

    @classmethod
    def recognise(cls, headers, payload):
        if "x-acme-event" not in headers:
            return None
        return headers["x-acme-event"], headers.get("x-acme-delivery")

    @classmethod
    def new_secret(cls) -> str:
        return "acme_" + secrets.token_hex(16)

    @classmethod
    def event_types(cls) -> list[str]:
        return ["widget.shipped"]

    def event(self, event_type: str, **fields) -> Payload:
        # No datasets/acme/ folder: the payload is built here.
        return Payload({"widget": "sprocket", "count": 3, **fields}, event_type)

    def _read_header(self, headers: dict[str, str]) -> Header:
        if "x-acme-signature" not in headers:
            raise wl.SignatureError("missing_header", "there is no X-Acme-Signature header")
        return Header([headers["x-acme-signature"]])

    def _headers(self, payload, body, signatures, timestamp, delivery_id):
        return {
            "Content-Type": "application/json",
            "X-Acme-Event": payload.event_type,
            "X-Acme-Delivery": delivery_id,
            "X-Acme-Signature": signatures[0],
        }


@pytest.fixture
def acme():
    """Acme, registered for one test only, so every other test sees the built-ins alone."""
    before = dict(PROVIDERS)
    register(Acme)
    yield Acme
    unregister("acme")
    assert PROVIDERS == before


@pytest.fixture
def acme_rx(acme):
    receiver = wl.Receiver(secrets={"acme": "acme_shared_secret_0001"}).start()
    yield receiver
    receiver.close()


def test_a_registered_provider_is_recognised_and_verified_over_http(acme_rx, http):
    sender = Acme("acme_shared_secret_0001")
    body, headers = sender.sign(sender.event("widget.shipped"), delivery_id="acme-1")
    assert http.post(acme_rx.url("acme"), data=body, headers=headers, timeout=5).status_code == 200
    forged = body.replace(b'"count":3', b'"count":9')
    assert forged != body
    http.post(acme_rx.url("acme"), data=forged, headers={**headers, "X-Acme-Delivery": "acme-2"}, timeout=5)
    signed, tampered = acme_rx.wait_for(2, endpoint="acme")
    assert (signed.provider, signed.event_type, signed.delivery_id) == ("acme", "widget.shipped", "acme-1")
    assert (signed.verified, signed.reason) == (True, None)
    assert (tampered.provider, tampered.delivery_id) == ("acme", "acme-2")
    assert (tampered.verified, tampered.reason) == (False, "no_matching_signature")


def test_the_command_line_lists_and_sends_a_registered_provider(acme_rx, capsys):
    assert cli.main(["send", "--list"]) == 0
    assert "acme: widget.shipped" in capsys.readouterr().out.splitlines()
    secret, to = "acme_shared_secret_0001", acme_rx.url("acme")
    assert cli.main(["send", "acme", "widget.shipped", "--secret", secret, "--to", to]) == 0
    (event,) = acme_rx.wait_for(1, endpoint="acme")
    assert (event.provider, event.event_type, event.verified) == ("acme", "widget.shipped", True)


def test_the_built_ins_are_asked_first_and_an_unclaimed_request_has_no_provider(acme):
    both = (("X-GitHub-Event", "push"), ("X-Acme-Event", "widget.shipped"))
    assert identify(both, b"{}", "application/json")[0] == "github"
    assert identify((("X-Acme-Event", "widget.shipped"),), b"{}", "application/json")[0] == "acme"
    assert identify((), b'{"type": "widget.shipped"}', "application/json") == (None, "widget.shipped", None)


def test_a_name_already_taken_is_refused(acme):
    impostor = type("Impostor", (Acme,), {})
    with pytest.raises(ValueError, match="'acme' is already registered"):
        register(impostor)
    assert register(Acme) is Acme and PROVIDERS["acme"] is Acme  # registering the same class again changes nothing
