"""The replay demo: someone on the path captured a signed webhook and sends it again later. What stops them?

The capture is real: the genuine delivery passes a wiretap (_wire.py) on its way to the endpoint, and the
replay sends again the bytes the tap kept. Over HTTPS the tap kept ciphertext, which is sent again as it is.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import requests

from .._providers import GitHub, Stripe
from .._providers.arguments import WINDOW
from .._receiving.receiver import Receiver
from ._frame import Demo, escaped, mark, rows, slider, toggles
from ._wire import Wiretap, certificate, request_of, resend_raw

CHOICES = [("Stripe (signs a timestamp)", "stripe"), ("GitHub (signs no timestamp)", "github")]
LINKS = [("HTTP", "http"), ("HTTPS", "https")]
IDS = [("Kept as captured", "kept"), ("Changed by the sender", "changed")]
SET_BY_THE_SENDER = {"host", "content-length", "connection", "accept-encoding"}  # requests writes its own


def later(kind):
    """`kind` of provider whose signature check reads a clock `later` seconds ahead: the endpoint's virtual time."""

    class Later(kind):
        later = 0.0

        def explain(self, body, headers, *, tolerance=WINDOW, now=None, diagnose=True):
            now = time.time() if now is None else now
            return super().explain(body, headers, tolerance=tolerance, now=now + self.later, diagnose=diagnose)

    Later.__name__ = Later.__qualname__ = kind.__name__
    return Later


class ReplayDemo(Demo):
    name = "replay"
    title = "A captured webhook, sent again: replay"
    idea = ("A valid signature proves who made a request, not when or how often it was sent: whoever captured a "
            "signed webhook on its way can send the same bytes again. HTTPS keeps them from reading it; a signed "
            "timestamp (Stripe) makes an old copy fail; remembering delivery ids stops a copy sent soon, if the id is "
            "signed too. Choose, then press <b>Replay the captured webhook</b>.")  # fmt: skip
    action = "Replay the captured webhook"

    def controls(self):
        self.provider = toggles("Provider:", CHOICES)
        self.link = toggles("The link:", LINKS)
        self.minutes = slider("Replayed after (minutes):", 10, 0, 60)
        self.ids = toggles("Its delivery id:", IDS)
        self.provider.observe(lambda change: self._capture(), names="value")
        self.link.observe(lambda change: (self.end(), self.begin()), names="value")
        return [self.provider, self.link, self.minutes, self.ids]

    def begin(self) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="webhooklab-replay-demo-")  # removed at exit, if not before
        self.https = self.link.value == "https"
        self.cert, key = certificate(Path(self.folder.name))
        self.senders = {"stripe": later(Stripe)(secret="whsec_glossary_replay_demo_0001"),
                        "github": later(GitHub)(secret="glossary-replay-demo-0001")}  # fmt: skip
        self.rx = Receiver(secrets={"orders-stripe": self.senders["stripe"], "orders-github": self.senders["github"]},
                           reject_invalid=True, ssl_context=(str(self.cert), str(key)) if self.https else None).start()
        self.tap = Wiretap(("127.0.0.1", self.rx.port))
        self.acted: list[int] = []  # the captured requests the endpoint acted on
        self.minute: dict[int, int] = {}
        self.refused: list[str] = []  # what came back when ciphertext was sent again
        for name in self.senders:
            self.rx.on("*", endpoint=f"orders-{name}", dedupe=True)(self._act_on(name))
        self.captured = None
        self._capture()

    def _act_on(self, name: str):
        def act(event):
            self.acted.append(event.id)

        act.__name__ = act.__qualname__ = f"fulfil_{name}_order"  # a shared name would replace the other handler
        return act

    def _url(self, path: str) -> str:
        return f"{'https' if self.https else 'http'}://127.0.0.1:{self.tap.port}{path}"

    def _post(self, path: str, body: bytes, headers: dict) -> requests.Response:
        return requests.post(self._url(path), data=body, headers=headers, timeout=10,
                             verify=str(self.cert) if self.https else True)  # fmt: skip

    def _capture(self) -> None:
        """The genuine delivery, at minute 0, through the wiretap, which keeps a copy of what it carried."""
        name = self.provider.value
        sender = self.senders[name]
        sender.later = 0.0
        body, headers = sender.sign(sender.event("payment_intent.succeeded" if name == "stripe" else "push"))
        self._post(f"/hooks/orders-{name}", body, headers)
        self.wire = self.tap.last()
        self.captured = self.rx.event(-1)
        self.minute[self.captured.id] = 0
        self.show("The genuine webhook arrived at minute 0, and someone on the path kept a copy of what it carried.")

    def end(self) -> None:
        self.tap.close()
        self.rx.close()
        self.folder.cleanup()

    def run(self):
        """Send the captured copy again, `minutes` later: the new capture, or None when HTTPS left nothing to read."""
        if self.https:
            return self._resend_ciphertext()
        name, sender = self.provider.value, self.senders[self.provider.value]
        path, headers, body = request_of(self.wire)
        headers = {key: value for key, value in headers.items() if key.lower() not in SET_BY_THE_SENDER}
        if self.ids.value == "changed":
            if name == "github":
                headers["X-GitHub-Delivery"] = sender.new_delivery_id()  # a header: no part of what is signed
            else:
                old = self.captured.delivery_id  # Stripe's event id is in the body, which is signed
                body = body.replace(old.encode(), ("evt_" + old[4:][::-1]).encode())
        sender.later = self.minutes.value * 60.0
        self._post(path, body, headers)
        copy = self.rx.event(-1)
        self.minute[copy.id] = self.minutes.value
        if not copy.verified:
            said = mark(True, f"Refused: the signature check failed ({copy.reason})")
        elif copy.duplicate_of is not None:
            said = mark(True, "Stopped: a delivery id your endpoint has seen, so it did nothing")
        else:
            said = mark(False, "Got through: your endpoint acted on the same webhook again")
        self.show(said)
        return copy

    def _resend_ciphertext(self):
        before = len(self.rx.arrivals())
        answer = resend_raw(self.tap.port, self.wire)
        self.refused.append("a new TLS handshake, which the copied bytes cannot complete" if answer[:1] == b"\x16"
                            else "a TLS alert" if answer[:1] == b"\x15" else "a closed connection")  # fmt: skip
        reached = len(self.rx.arrivals()) - before
        self.show(mark(reached == 0, f"Nothing to replay: the copy is encrypted. Sent again as it is, it got "
                                     f"{self.refused[-1]}, and {reached} request(s) reached your endpoint"))  # fmt: skip
        return None

    def _outcome(self, event) -> str:
        if event.id == self.captured.id:
            return mark(True, "acted on it")
        return mark(False, "acted on it again") if event.id in self.acted else mark(True, "did nothing")

    def draw(self) -> str:
        if self.captured is None:
            return ""
        name = self.provider.value
        if self.https:
            seen = " ".join(f"{byte:02x}" for byte in self.wire[:32])
            tap = f"<code>{seen} …</code> ({len(self.wire)} bytes of TLS: unreadable)"
        else:
            lines = self.wire.decode("utf-8", "replace").split("\r\n")
            shown = [line for line in lines if line.lower().startswith(("post ", "stripe-signature", "x-github-event",
                                                                        "x-github-delivery", "x-hub-signature-256"))]
            tap = "<br>".join(f"<code>{escaped(line[:110])}</code>" for line in shown) + " … and the body"
        where = ("Stripe's signature covers a timestamp <code>t=</code> (5 minutes' tolerance) and the body, "
                 "which holds the event id." if name == "stripe" else
                 "GitHub's signature covers the body only: no timestamp, and its delivery id "
                 "<code>X-GitHub-Delivery</code> is a header outside the signature.")  # fmt: skip
        body = [[escaped(e.id - self.captured.id + 1), escaped(f"{self.minute.get(e.id, 0)} min"),
                 "genuine" if e.id == self.captured.id else "replayed copy", f"<code>{escaped(e.delivery_id[:12])}…</code>",
                 mark(e.verified, "valid" if e.verified else e.reason), self._outcome(e)]
                for e in self.rx.arrivals(f"orders-{name}")[-5:] if e.id >= self.captured.id][::-1]  # fmt: skip
        head = ["#", "sent at", "what", "delivery id", "signature", "your endpoint"]
        return (f"<p>What someone on the path captured:<br>{tap}</p><p>{where} Your endpoint skips delivery ids it "
                f"has seen.</p>{rows(head, body)}")  # fmt: skip
