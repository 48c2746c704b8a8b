"""The reaching-a-laptop demo: a provider cannot open a connection to a laptop, so a relay with a public URL
passes each webhook down a connection the laptop opened (as `stripe listen`, smee.io, ngrok and a class server do).
"""

from __future__ import annotations

import tempfile

from .._classroom import ClassFolder, ClassServer, numbered
from .._providers import Stripe
from .._receiving.receiver import Receiver
from .._receiving.relay import Relay, Route
from ._frame import Demo, escaped, mark, rows, toggles

STATES = [("Connected", "on"), ("Closed (the laptop is asleep)", "off")]


class RelayDemo(Demo):
    name = "reaching-a-laptop"
    title = "How does a webhook reach my laptop? A relay"
    idea = ("Your laptop has no public address: Stripe, on the internet, cannot open a connection to it. A relay "
            "can: it has a public URL, and your laptop opens a connection <i>out</i> to it, down which the relay "
            "passes each webhook (here the relay runs on this machine too; in real life it is <code>stripe "
            "listen</code>, smee.io, ngrok or the class server). Press <b>Stripe sends a webhook</b>, then close "
            "the connection and send again.")  # fmt: skip
    action = "Stripe sends a webhook"

    def controls(self):
        self.state = toggles("Your laptop's connection to the relay:", STATES)
        self.state.observe(lambda change: self._connect(change["new"] == "on"), names="value")
        return [self.state]

    def begin(self) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="webhooklab-relay-demo-")  # removed at exit, if not before
        self.server = ClassServer(ClassFolder(self.folder.name, numbered(1)), host="127.0.0.1").start()
        self.public = self.server.bin_url(self.server.folder.learners[0])
        self.stripe = Stripe()
        self.rx = Receiver(secrets={"payments": self.stripe}).start()
        self.relay = None
        self.sent: list[dict] = []
        self._connect(self.state.value == "on")

    def _connect(self, on: bool) -> None:
        if self.relay is not None:
            self.relay.stop()
            self.relay = None
        if on:
            self.relay = Relay(self.public, [Route(self.rx.base_url, keep_path=True)]).start()
        self.show("Your laptop opened a connection to the relay." if on
                  else "Your laptop closed its connection: nothing can pass the relay to it now.")  # fmt: skip

    def end(self) -> None:
        if self.relay is not None:
            self.relay.stop()
        self.rx.close()
        self.server.close()
        self.folder.cleanup()

    def run(self):
        """Stripe sends one event to the relay's public URL; returns the answer Stripe got."""
        event = self.stripe.event("payment_intent.succeeded")
        answer = self.stripe.send(event, to=f"{self.public}hooks/payments", timeout=15)
        newest = self.rx.arrivals()[-1:]  # a relayed request is stored before its answer goes back
        self.sent.append({"id": event["id"], "status": answer.status,
                          "arrived": bool(newest) and newest[0].delivery_id == event["id"]})  # fmt: skip
        if answer.ok and self.sent[-1]["arrived"]:
            said = mark(True, f"Stripe → relay → your laptop: your receiver answered, and Stripe got {answer.status}")
        elif answer.ok:
            said = mark(False, f"Stripe got {answer.status} from the relay, which kept the request, but your laptop got "
                               "nothing: told it was delivered, Stripe will not send it again")  # fmt: skip
        else:
            said = mark(False, f"Stripe got {answer.status or answer.error}: the relay holds the request but cannot "
                               "pass it on, so Stripe will retry later")  # fmt: skip
        self.show(said)
        return answer

    def draw(self) -> str:
        connected = self.relay is not None
        path = (f"<p><b>Stripe</b> → <code>{escaped(self.public)}hooks/payments</code> (the relay's public URL) "
                f"{'⇠ connection opened by' if connected else '✗ no connection from'} <b>your laptop</b>, whose "
                f"receiver is at <code>{escaped(self.rx.base_url)}</code>: only this machine can reach it.</p>")  # fmt: skip
        body = [[escaped(index + 1), f"<code>{escaped(sent['id'][:14])}…</code>",
                 mark(sent["status"] is not None and 200 <= sent["status"] < 300, str(sent["status"] or "no answer")),
                 mark(sent["arrived"], "arrived" if sent["arrived"] else "did not arrive")]
                for index, sent in enumerate(self.sent)][::-1][:6]  # fmt: skip
        return path + (rows(["#", "event", "Stripe got", "your laptop"], body) if body else "")
