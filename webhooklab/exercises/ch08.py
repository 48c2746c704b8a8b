"""Checks for 08.00-glossary: webhooks in one minute each."""

from __future__ import annotations

from requests.structures import CaseInsensitiveDict

from .._providers import GitHub, Shopify, Stripe
from .._sending.clock import VirtualClock
from .._sending.timeline import duration
from . import attempt, failed, guarded, passed

NOTEBOOK = "08.00-glossary"  # the notebook whose exercises these are: each verdict names it

# What the check sends to one URL, in this order: a hard-coded answer or a header only one provider sends fails early.
ONE_URL_DELIVERIES = [
    (GitHub, "push"),
    (Shopify, "orders/create"),
    (Stripe, "payment_intent.succeeded"),
    (GitHub, "pull_request"),
    (Shopify, "orders/paid"),
    (Stripe, "charge.refunded"),
]

# Where each provider names the event, for the hint when the learner's function gets one wrong.
WHERE_THE_NAME_IS = {
    "github": "GitHub names the event in the X-GitHub-Event header; its body has no \"type\" (a pull request's "
    "\"action\", such as 'opened', is a detail of the event, not its name)",
    "shopify": "Shopify names the topic in the X-Shopify-Topic header",
    "stripe": "Stripe sends no header that names the event (Stripe-Signature holds only a timestamp and the "
    "signature): the name is the JSON body's \"type\"",
}

ERROR_HINTS = {
    "KeyError": "Not every provider sends every header: headers.get(name) gives None where headers[name] raises. ",
    "TypeError": "It is called as what_happened(headers, body): `body` is bytes, which json.loads accepts. ",
}


@guarded(receiver="rx", sends=True)
def check_what_happened(what_happened, rx, endpoint: str = "one-url") -> bool:
    """`what_happened(headers, body)` names the event of a GitHub, a Shopify and a Stripe request alike."""
    if what_happened is None:
        return failed("define `what_happened(headers, body)` in the cell above: it returns the event's name, "
                      "as a string.")  # fmt: skip
    if not callable(what_happened):
        return failed(f"`what_happened` should be a function what_happened(headers, body), "
                      f"but it is a {type(what_happened).__name__}.")  # fmt: skip
    before = len(rx.wait_for(0, endpoint=endpoint))
    for provider, event_type in ONE_URL_DELIVERIES:
        sender = provider()
        sender.send(sender.event(event_type), to=rx.url(endpoint))
    arrived = rx.wait_for(before + len(ONE_URL_DELIVERIES), endpoint=endpoint)[before:]
    for (provider, expected), request in zip(ONE_URL_DELIVERIES, arrived):
        where = WHERE_THE_NAME_IS[provider.name]
        answer, error = attempt(what_happened, CaseInsensitiveDict(request.headers), request.body)
        if error:
            return failed(f"what_happened raised {error} for a {provider.title} request ({expected!r}). "
                          f"{ERROR_HINTS.get(error.split(':')[0], '')}{where}.")  # fmt: skip
        if isinstance(answer, bytes):
            return failed(f"for a {provider.title} request it returned bytes, {answer!r}: return a str (.decode()).")
        if answer != expected:
            shown = repr(answer) if len(repr(answer)) <= 40 else repr(answer)[:40] + "…"
            return failed(f"for a {provider.title} {expected!r} it returned {shown}. {where}.")
    names = ", ".join(event_type for _, event_type in ONE_URL_DELIVERIES)
    return passed(
        f"what_happened named all {len(ONE_URL_DELIVERIES)}: {names}. GitHub and Shopify say it in a header, so "
        "a router can pick a handler before it parses the body (but the header is not part of what they sign); "
        "Stripe says it only in its signed body."
    )


@guarded(receiver="rx", sends=True)
def check_retry_status(rx, endpoint: str = "checkout") -> bool:
    """The learner made `endpoint` answer with a status that makes Stripe try again."""

    stripe = Stripe()
    event = stripe.event("charge.succeeded")  # a test-mode event: Stripe retries it 3 times over a few hours
    delivery, error = attempt(lambda: stripe.deliver(event, to=rx.url(endpoint), clock=VirtualClock()))
    if error:
        return failed(f"the check could not deliver to rx.url({endpoint!r}): {error}")
    first = delivery.log[0]["result"]
    if first.status is None and (first.error or "").startswith("connection failed"):
        return failed("nothing answered at all: is the receiver running? Run the notebook's first cells again.")
    answered = first.status if first.status is not None else first.error
    if len(delivery.log) == 1 and first.ok:
        return failed(
            f"{endpoint!r} answered {answered}, and a 2xx means 'got it', so Stripe stopped after one attempt. "
            f"Make it answer a code that means something went wrong: rx.respond({endpoint!r}, status=...)."
        )
    if len(delivery.log) == 1:
        return failed(f"{endpoint!r} answered {answered} and Stripe did not try again: {delivery.log[0]['outcome']}.")
    span = duration(delivery.log[-1]["offset"])
    return passed(
        f"{endpoint!r} answered {answered}, so Stripe tried again: {len(delivery.log)} attempts over {span} "
        "(test mode; up to 3 days in live mode). Any answer outside 2xx counts as a failure, a 3xx redirect "
        "too; only GitHub never retries by itself."
    )
