"""The signature demo: change one byte of a signed webhook, or its secret, or its age, and watch the check fail."""

from __future__ import annotations

import json
import time

from .._providers import Stripe
from .._receiving.receiver import Receiver
from .._sending.delivery import post
from ._frame import Demo, escaped, mark, rows, slider, toggles

SECRET = "whsec_glossary_signature_demo_0001"  # the endpoint's, and the sender's: never shown whole
WRONG = "whsec_someone_elses_secret_00000001"
WAYS = [("Nothing", "nothing"), ("One byte", "byte"), ("The JSON's spacing", "spacing"), ("The secret", "secret"),
        ("Its age: 10 min", "age")]  # fmt: skip
CONTEXT = 36  # characters of the body shown on each side of the changed byte


class SignatureDemo(Demo):
    name = "signature"
    title = "Is it really from Stripe? The signature"
    idea = ("Anyone who knows your URL can send to it, so Stripe signs every webhook: an HMAC of the exact bytes of "
            "the body and a timestamp, keyed with a secret only Stripe and you know. Your endpoint computes the same "
            "HMAC and compares. Choose what changes on the way and press <b>Send it</b>.")  # fmt: skip
    action = "Send it"

    def controls(self):
        self.way = toggles("What changes on the way:", WAYS)
        self.byte = slider("Which byte (for One byte):", 0, 0, 1)
        return [self.way, self.byte]

    def begin(self) -> None:
        self.stripe = Stripe(secret=SECRET)
        self.rx = Receiver(secrets={"payments": self.stripe}, reject_invalid=True).start()
        self.event = self.stripe.event("payment_intent.succeeded", amount=2000)
        self.body, self.headers = self.stripe.sign(self.event)
        amount = self.body.index(b'"amount": 2000') + len(b'"amount": ')
        self.byte.max = len(self.body) - 1
        self.byte.value = amount  # the first digit of the amount: 2000 becomes 9000
        self.defaults[1] = amount
        self.sent: list[dict] = []

    def end(self) -> None:
        self.rx.close()

    def run(self):
        """Send the webhook with the chosen change; returns the receiver's capture of it."""
        body, headers, changed = self.body, dict(self.headers), None
        way = self.way.value
        if way == "byte":
            changed = self.byte.value
            body = body[:changed] + flipped(body[changed]) + body[changed + 1:]
        elif way == "spacing":
            body = json.dumps(json.loads(body), separators=(",", ":")).encode()  # same data, other bytes
        elif way == "secret":
            body, headers = Stripe(secret=WRONG).sign(self.event)
        elif way == "age":
            body, headers = self.stripe.sign(self.event, timestamp=int(time.time()) - 600)
        answer = post(self.rx.url("payments"), body, headers, timeout=10)
        captured = self.rx.event(-1)
        why = self.stripe.explain(body, headers)
        self.sent.append({"way": dict((v, k) for k, v in WAYS)[way], "captured": captured, "status": answer.status,
                          "changed": changed, "body": body, "why": why})  # fmt: skip
        verdict = "verified: it is from Stripe, unchanged" if captured.verified else f"refused ({captured.reason})"
        self.show(f"Your endpoint checked the signature: {mark(captured.verified, verdict)} "
                  f"<span class='quiet'>(answered {answer.status})</span>")  # fmt: skip
        return captured

    def draw(self) -> str:
        header = self.headers["Stripe-Signature"]
        stamp, _, rest = header.partition(",")
        parts = [f"<p>Signed: {len(self.body)} bytes of JSON (<code>\"amount\": 2000</code>, $20.00) with "
                 f"<code>Stripe-Signature: {escaped(stamp)},{escaped(rest[:19])}…</code></p>"]  # fmt: skip
        if self.sent:
            last = self.sent[-1]
            if last["changed"] is not None:
                parts.append(f"<p>What arrived, around byte {last['changed']}: <code>{around(last['body'], last['changed'])}"
                             "</code></p>")  # fmt: skip
            parts.append(f"<p><b>Why:</b> {escaped(last['why'].message)}</p>")
            body = [[escaped(index + 1), escaped(sent["way"]), mark(sent["captured"].verified,
                     "verified" if sent["captured"].verified else sent["captured"].reason), escaped(sent["status"])]
                    for index, sent in enumerate(self.sent)][::-1][:5]  # fmt: skip
            parts.append(rows(["#", "changed on the way", "signature", "answer"], body))
        return "".join(parts)


def flipped(byte: int) -> bytes:
    """Another byte in place of `byte`: a digit becomes another digit, anything else an X (or x)."""
    char = chr(byte)
    if char.isdigit():
        return str((int(char) + 7) % 10).encode()
    return b"x" if char == "X" else b"X"


def around(body: bytes, at: int) -> str:
    """The body around byte `at`, escaped, with that byte marked."""
    text = lambda part: escaped(part.decode("utf-8", "replace").replace("\n", " "))  # noqa: E731
    return f"…{text(body[max(0, at - CONTEXT):at])}<mark>{text(body[at:at + 1])}</mark>{text(body[at + 1:at + CONTEXT])}…"
