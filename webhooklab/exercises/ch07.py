"""Checks for 07.00-glossary: webhooks in one minute each."""

from __future__ import annotations

from .._clock import VirtualClock
from .._providers import Stripe
from .._retry import duration
from . import attempt, failed, guarded, passed

# What the other headers of a GitHub delivery carry, for a hint when the learner picks one of them.
GITHUB_HEADERS = {
    "x-github-delivery": "is the id of this delivery (a GUID, kept the same on a redelivery), not the event type",
    "x-hub-signature-256": "is the signature (HMAC-SHA256 of the body), not the event type",
    "x-hub-signature": "is the legacy SHA-1 signature, not the event type",
    "x-github-hook-id": "is the id of the webhook that sent it",
    "x-github-hook-installation-target-type": "says what the webhook is installed on (a repository), not what happened",
    "x-github-hook-installation-target-id": "is the id of the repository the webhook is installed on",
    "user-agent": "names the sending software (GitHub-Hookshot), not the event",
    "content-type": "says how the body is written (JSON), not what happened",
}


@guarded()
def check_event_header(answer, captured) -> bool:
    """`answer` is the name of the header that carries GitHub's event type in the captured request."""
    if captured is None or getattr(captured, "provider", None) != "github":
        return failed("`captured` should be the GitHub push captured in section 1: run the cells from the top.")
    expected = captured.header("X-GitHub-Event")
    if answer is None:
        return failed("set `event_header` in the cell above to a header's name, as a string, such as 'Content-Type'.")
    if not isinstance(answer, str):
        return failed(f"`event_header` should be a header's name as a string, but it is a {type(answer).__name__}.")
    value = captured.header(answer)
    if value is None:
        names = ", ".join(captured.headers)
        return failed(f"the captured request has no header {answer!r}. Its headers are: {names}.")
    if answer.lower() == "x-github-event":
        return passed(
            f"{answer}: {value!r}. GitHub names the event type in X-GitHub-Event; the action (such as "
            "'opened' for a pull request) is in the body's \"action\" field."
        )
    what = GITHUB_HEADERS.get(answer.lower(), f"says {value[:40]!r}")
    return failed(f"{answer} {what}. Look for the header whose value is {expected!r}.")


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
