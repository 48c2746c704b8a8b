"""The widgets of what arrives: the live table, the send panel and the signature explainer.

Each takes any receiver a notebook holds, one on this machine or a bin on a class server, and uses
only the receiver contract (webhooklab._receiving.contract.AnyReceiver).
"""

from __future__ import annotations

import html
import threading
import time

import ipywidgets as widgets

from .._checks import endpoint_name, got, overrides, text, whole
from .._errors import ReceiverError, UsageError, UsageTypeError
from .._providers import PROVIDERS
from .._receiving.contract import AnyReceiver
from .._sending.delivery import post
from ._table import BUTTON, cell, table, verdict

WRAP = "max-width: 100%; overflow-x: auto; line-height: 1.4; white-space: pre-wrap; overflow-wrap: anywhere"  # digests wrap
CHOICES = 200  # the newest events the explainer offers to explain
KIND = 40  # characters of an event's type in a dropdown entry: with its verdict, they fit a notebook at 1024 px


class LiveTable(widgets.VBox):
    """The receiver's events as a table that updates itself as requests arrive (rx.listen tells it when).

    The columns that tell events apart come first and the preview last, shortened, with the whole of it in its
    tooltip: the table fits a notebook at 1024 px rather than scroll its preview out of sight.
    """

    PREVIEW = 28  # characters of the preview shown; the rest is in the cell's title

    def __init__(self, rx: AnyReceiver, *, endpoint: str | None = None, rows: int = 10):
        receiver_given(rx)
        if endpoint is not None:
            endpoint_name(endpoint)
        if whole(rows, "rows", "how many of the newest events to show") < 1:
            raise UsageError(f"rows must be at least 1, got {rows}: it is how many of the newest events to show")
        self.rx, self.endpoint, self.rows = rx, endpoint, rows
        self.title = widgets.HTML()
        self.table = widgets.HTML()
        super().__init__([self.title, self.table])
        self._changed = threading.Event()
        self._closed = threading.Event()
        rx.listen(self._changed.set)  # first: whatever arrives while the table is drawn is drawn again
        try:
            self.refresh()
        except BaseException:
            rx.unlisten(self._changed.set)
            raise
        self._redraw = reported(self.title, lambda: self.refresh(), doing="Updating the table", rx=rx)
        threading.Thread(target=self._follow, name="webhooklab-live-table", daemon=True).start()

    def refresh(self) -> None:
        events = self.rx.events(self.endpoint, limit=self.rows)  # only what is shown, however many are stored
        total = len(self.rx.arrivals(self.endpoint))  # counted where the events are: nothing is read
        if events.empty:
            self.table.value = "<i>Nothing yet: send a webhook to the receiver.</i>"
        else:
            shown = events.assign(time=events["time"].dt.strftime("%H:%M:%S"), id=events.index)  # the id orders them
            shown = shown.astype(object).where(shown.notna(), None).to_dict("records")
            checked = any(row["verified"] is not None for row in shown)  # no signature column without secrets
            repeated = any(row["duplicate_of"] is not None for row in shown)
            head = ["#", "time", "endpoint", "event type", "status", *["signature"] * checked,
                    *["duplicate of"] * repeated, "preview"]  # fmt: skip
            self.table.value = table(head, [live_row(row, checked, repeated, self.PREVIEW) for row in shown])
        where = f" at {self.endpoint!r}" if self.endpoint else ""
        self.title.value = f"<b>{total} request(s) captured{html.escape(where)}</b> (newest last)"

    def _follow(self) -> None:
        while not self._closed.is_set():
            if self._changed.wait(0.5):
                self._changed.clear()
                self._redraw()
                time.sleep(0.1)  # gather a burst of arrivals into one redraw

    def close(self) -> None:
        if hasattr(self, "_closed"):  # not when the constructor refused its arguments
            self._closed.set()
            self.rx.unlisten(self._changed.set)
        super().close()


class SendPanel(widgets.VBox):
    """Send a signed event from a simulated provider to a receiver, optionally broken on purpose."""

    def __init__(self, rx: AnyReceiver, *, endpoint: str = "panel"):
        receiver_given(rx)
        self.rx, self.endpoint = rx, endpoint_name(endpoint)
        self.secrets = {name: cls.new_secret() for name, cls in PROVIDERS.items()}
        self.provider = widgets.Dropdown(options=provider_choices(), value="stripe", description="Provider")
        self.event_type = widgets.Dropdown(description="Event")
        self.fields = widgets.Text(description="Fields", placeholder="amount=5000, currency=eur")
        self.secret = widgets.Password(description="Secret")  # a secret is never shown whole
        self.tamper = widgets.Checkbox(description="tamper with the body", indent=False)
        self.wrong_secret = widgets.Checkbox(description="use the wrong secret", indent=False)
        self.button = widgets.Button(description="Send", button_style="primary", icon="paper-plane", layout=BUTTON)
        self.result = widgets.HTML()
        self.provider.observe(reported(self.result, lambda change: self._provider_changed(),
                                       doing="Choosing the provider"), names="value")  # fmt: skip
        self.button.on_click(reported(self.result, lambda _: self.send(), doing="Sending", rx=rx))
        self._provider_changed()
        super().__init__([self.provider, self.event_type, self.fields, self.secret,
                          widgets.HBox([self.tamper, self.wrong_secret]), self.button, self.result])  # fmt: skip

    def _provider_changed(self) -> None:
        cls = PROVIDERS[self.provider.value]
        self.event_type.options = types = cls.event_types()
        self.event_type.value = cls.first_event if cls.first_event in types else next(iter(types), None)
        self.secret.value = self.secrets[self.provider.value]

    def send(self):
        """Sign and POST the chosen event; show the answer and whether the signature holds."""
        cls = PROVIDERS[self.provider.value]
        try:
            overrides = parse_fields(self.fields.value)
            to = self.rx.url(self.endpoint)
            sender = cls(cls.new_secret() if self.wrong_secret.value else self.secret.value).at(to)
            body, headers = sender.sign(sender.event(self.event_type.value, **overrides))
        except (TypeError, ValueError) as error:
            self.result.value = f"<span style='color:firebrick'>{html.escape(str(error))}</span>"
            return None
        if self.tamper.value:
            body = tampered(body)
        before = len(self.rx.arrivals(self.endpoint))
        attempt = post(to, body, headers, timeout=sender.timeout)
        verdict = cls(self.secret.value).at(to).explain(body, headers)
        answer = attempt.status if attempt.error is None else attempt.error
        self.result.value = (
            f"Sent {html.escape(self.event_type.value)} to {html.escape(self.rx.url(self.endpoint))}: "
            f"answer <b>{html.escape(str(answer))}</b> in {attempt.elapsed * 1000:.1f} ms.<br>"
            + self._receivers_verdict(self._stored(before, body), verdict)
        )
        return attempt

    def _stored(self, before: int, body: bytes):
        """The request as the receiver stored it, or None if it cannot be found."""
        try:
            stored = self.rx.wait_for(before + 1, endpoint=self.endpoint, timeout=2)[-1]
        except Exception:  # noqa: BLE001 (a stopped receiver, a bin out of reach: say nothing about its verdict)
            return None
        return stored if stored.body == body else None

    def _receivers_verdict(self, stored, verdict) -> str:
        """What the receiver (and so its page) says of the signature, then the panel's own check with its secret."""
        own = "valid" if verdict.ok else f"{html.escape(verdict.reason)}. {html.escape(verdict.message)}"
        if stored is None or stored.verified is None:
            why = ("it was not found among the stored requests" if stored is None else
                   f"the receiver holds no secret for the endpoint '{html.escape(self.endpoint)}', so it and its "
                   "page say <b>not checked</b>")  # fmt: skip
            return (f"Signature not checked by the receiver: {why}. With the secret the panel signed with, "
                    f"the signature is <span style='color:{'green' if verdict.ok else 'firebrick'}'>{own}</span>")
        if stored.verified:
            return "<span style='color:green'>Signature check with the endpoint's secret: valid</span>."
        return (f"<span style='color:firebrick'>Signature check with the endpoint's secret: "
                f"{html.escape(stored.reason or 'not verified')}</span>. " + (own if not verdict.ok else
                "The panel signed with the secret in its Secret field, which is not the one this endpoint holds."))


class SignatureExplainer(widgets.VBox):
    """Pick a captured event and a secret; see every step of verifying it."""

    def __init__(self, rx: AnyReceiver, *, secret: str = ""):
        receiver_given(rx)
        text(secret, "secret", "the secret to check with, a str ('' until you type one)", empty=True)
        self.rx = rx
        self.event = widgets.Dropdown(description="Event", layout=widgets.Layout(width="auto"))  # the row's width
        self.provider = widgets.Dropdown(options=provider_choices(), value="stripe", description="Scheme")
        self.secret = widgets.Password(value=secret, description="Secret")
        self.reload = widgets.Button(description="Reload events", icon="refresh", layout=BUTTON)
        self.output = widgets.HTML()
        self.reload.on_click(reported(self.output, lambda _: self.load(), doing="Reloading the events", rx=rx))
        for control in (self.event, self.provider, self.secret):
            control.observe(reported(self.output, lambda change: self.explain(), doing="Explaining the event", rx=rx),
                            names="value")  # fmt: skip
        # The event gets a row of its own, as wide as the cell: its entries are long, and the rest of each is
        # in the dropdown's tooltip. The button sits beside the scheme, where the row has room for it.
        super().__init__([self.event, widgets.HBox([self.provider, self.reload]), self.secret, self.output])
        self.load()

    def load(self) -> None:
        """The newest captured events, newest first, as choices that tell similar events apart."""
        events = self.rx.arrivals()[-CHOICES:][::-1]
        self._whole = {e.id: event_choice(e, limit=None) for e in events}  # the tooltip's: a long type uncut
        self.event.options = [(event_choice(e), e.id) for e in events]
        self.event.value = events[0].id if events else None
        self.explain()

    def explain(self):
        self.event.tooltip = self._whole.get(self.event.value)  # the whole entry, however narrow the dropdown
        if self.event.value is None:
            self.output.value = "<i>No captured event to explain yet.</i>"
            return None
        event = self.rx.event(self.event.value)
        if event.provider in PROVIDERS and self.provider.value != event.provider:
            self.provider.value = event.provider  # observing this change explains again
            return None
        try:
            received = self.rx.base_url + event.path + (f"?{event.query}" if event.query else "")  # as it was asked for
            checker = PROVIDERS[self.provider.value](self.secret.value or None).at(received)
            explanation = checker.explain(event.body, event.header_pairs)
        except ValueError as error:  # a secret this scheme cannot use
            self.output.value = f"<span style='color:firebrick'>{html.escape(str(error))}</span>"
            return None
        self.output.value = f"<div style='{WRAP}'>{explanation._repr_html_()}</div>"
        return explanation


def live_row(row: dict, checked: bool, repeated: bool, preview: int) -> str:
    """One event of the live table as its cells: the short values kept whole on one line, the free text wrapped."""
    cells = [cell(f"#{row['id']}", keep=True), cell(row["time"], keep=True), cell(f"/{row['endpoint']}"),
             cell(row["event_type"]), cell(row["status"], keep=True)]  # fmt: skip
    if checked:
        cells.append(cell(verdict(row["verified"], row.get("reason"))))
    if repeated:
        cells.append(cell("" if row["duplicate_of"] is None else f"#{row['duplicate_of']}", keep=True))
    return "".join([*cells, cell(row["preview"], limit=preview)])


def receiver_given(rx) -> None:
    """A widget's `rx`: the notebook's receiver (on this machine or a class bin), not None or a URL."""
    if not isinstance(rx, AnyReceiver):
        raise UsageTypeError(f"rx must be a receiver, such as rx = wl.Receiver().start(), got {got(rx)}")


def event_choice(event, limit: int | None = KIND) -> str:
    """A dropdown entry for a captured event: its verdict, what it says, and when and where it came.

    Four deliveries of one payment look the same by provider and type alone; the verdict, the amount,
    the id and the time are what set them apart. The verdict comes first: a dropdown too narrow for
    the whole entry cuts its end, and the tooltip holds the rest.
    """
    what = event.event_type or event.path
    if limit is not None and len(what) > limit:  # its start and its end tell it apart; the whole is in the tooltip
        what = f"{what[: limit - 16]}…{what[-15:]}"
    parts = [verdict(event.verified, event.reason), what, *body_hints(event.json)]
    if event.duplicate_of is not None:
        parts.append(f"duplicate of #{event.duplicate_of}")
    parts += [f"#{event.id}", event.received_at.strftime("%H:%M:%S"), f"/{event.endpoint}", event.provider or "?"]
    return " · ".join(parts)


def body_hints(data) -> list[str]:
    """What tells one event from another of its type: its id, its amount, its order, its commit."""
    if not isinstance(data, dict):
        return []
    hints = [short_id(data["id"])] if isinstance(data.get("id"), str) else []  # Stripe's evt_..., Standard's msg_...
    inner = data["data"].get("object") if isinstance(data.get("data"), dict) else None
    if isinstance(inner, dict) and "amount" in inner:  # Stripe: the smallest currency unit, as sent
        hints.append(f"amount {inner['amount']} {inner.get('currency', '')}".strip())
    elif "total_price" in data:  # Shopify: an order's name and its total, a decimal string
        hints.append(f"{data.get('name', '')} {data['total_price']} {data.get('currency', '')}".strip())
    elif isinstance(data.get("ref"), str) and isinstance(data.get("after"), str):  # GitHub: a push
        hints.append(f"{data['ref'].removeprefix('refs/heads/')}@{data['after'][:7]}")
    elif not hints and data.get("id") is not None:
        hints.append(f"id {short_id(str(data['id']))}")
    return hints


def short_id(ident: str) -> str:
    """A long id as its kind and its last five characters (evt_…yGbgH): enough to tell events apart."""
    if len(ident) <= 14:
        return ident
    kind, _, rest = ident.partition("_")
    return f"{kind}_…{ident[-5:]}" if rest and len(kind) <= 6 else f"…{ident[-8:]}"


def reported(area, action, *, doing: str, rx=None):
    """`action` as a button or observer callback that shows what it raises in `area`, an HTML widget of the widget.

    Without this, an exception in a callback reaches only JupyterLab's log console and the button seems to do
    nothing. The plain methods still raise for code that calls them; only the callbacks report. `rx`, the
    widget's receiver, lets the message say that it is stopped and how to start it.
    """

    def callback(*args):
        try:
            return action(*args)
        except Exception as error:  # noqa: BLE001 (shown to the learner, in the widget)
            area.value = error_html(error, doing=doing, rx=rx)
            return None

    return callback


def error_html(error: BaseException, *, doing: str, rx=None, todo: str | None = None) -> str:
    """What went wrong and what to do (`todo`, or advice for a widget in a notebook), escaped, for an HTML area."""
    if isinstance(error, ReceiverError) and rx is not None and not getattr(rx, "running", True):
        what, todo = "the receiver is stopped", "Run rx.start() in a cell (rx is your receiver), then try again."
    else:
        what = f"{type(error).__name__}: {error}"
        todo = todo or "Check the values above and try again; if it keeps failing, run this widget's cell again."
    return (f"<span style='color:firebrick'>✗ {html.escape(doing)} failed: {html.escape(what)}.</span> "
            f"{html.escape(todo)}")


def provider_choices() -> list[tuple[str, str]]:
    """(title, name) of every registered provider, for a dropdown."""
    return [(cls.title, name) for name, cls in PROVIDERS.items()]


def parse_fields(text: str) -> dict:
    """'amount=5000, currency=eur' as overrides; values read as JSON where they parse."""
    return overrides(filter(None, (part.strip() for part in text.split(","))))


def tampered(body: bytes) -> bytes:
    """The body with one digit changed, as an attacker raising an amount would."""
    for index, byte in enumerate(body):
        if chr(byte).isdigit():
            return body[:index] + (b"9" if byte != ord("9") else b"8") + body[index + 1 :]
    return body + b" "
