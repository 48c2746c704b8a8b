"""The eight scenarios, each a way real handlers go wrong, played against the handler through a Challenge.

The rules, each tested by one scenario (or two):
  verify       a body changed after signing, or signed long ago, is refused with a 4xx and changes nothing
  deduplicate  on the signed event id: a retry (re-signed) or a replay (the same bytes, any X-Request-Id)
               is acted on once
  answer fast  within `timeout` seconds; `credit` is slow in one scenario, so do it with `enqueue`
  act          payment_intent.succeeded credits the intent's amount to its customer, once
  keep state   `payments[intent id]` holds the intent as it is now: `challenge.api.retrieve(intent id)`, since
               events arrive in any order and Stripe's `created` must not order them (whole seconds: they tie)
  be durable   while the database is down (`credit` and `enqueue` raise), answer 5xx and mark nothing
               done, so the sender's retry does the work

Each scenario is a function of the Challenge that sends its requests, waits for
the work to settle and returns (passed, what happened, hint). SCENARIOS, at the
end, lists them in the order they run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .._checks import function, seconds, text
from .._errors import SignatureError
from .._sending.delivery import Attempt
from ._records import Call, Outage


@dataclass(frozen=True)
class Scenario:
    """What the grader sends, what the handler must do, and `run(challenge)`, which plays it."""

    name: str
    sends: str
    expects: str
    run: Callable[..., tuple[bool, str, str]] = field(repr=False, compare=False)

    def __post_init__(self):
        for name in ("name", "sends", "expects"):
            text(getattr(self, name), name, "a sentence, a str, as the report shows it")
        function(self.run, "run", "a function (challenge) -> (passed, what happened, hint) that plays the scenario")

    def must(self, timeout: float) -> str:
        """What the handler must do, with the challenge's own timeout in place of the default 0.5 s."""
        timeout = seconds(timeout, "timeout", ": the challenge's timeout")
        return self.expects.replace("0.5 s", f"{timeout:g} s")


# Each scenario returns (passed, what happened, hint).


def valid_event(challenge):
    event = challenge._payment("cus_valid", 2000)
    pi = event["data"]["object"]["id"]
    attempts = [challenge._send_event(event)]
    calls = challenge._after(attempts, lambda: challenge._credited("cus_valid") and _state(challenge, pi) == PAID)
    credits, recorded = challenge._credited("cus_valid"), _state(challenge, pi)
    happened = _happened(challenge, attempts, calls, "cus_valid", credits, _state_text(recorded))
    return _verdict(
        calls,
        (attempts[0].status is not None, _slow_hint(challenge, calls[0])),
        (attempts[0].ok, (f"a genuine event was refused with {attempts[0].status}: verify the raw `body` bytes "
         "exactly as they arrived, with wl.Stripe(challenge.secret).verify(body, headers), before parsing "
         "or changing them")),
        (credits != [], ("nothing was credited: for payment_intent.succeeded, credit the intent's amount to its "
         "customer with challenge.enqueue(challenge.credit, intent['customer'], intent['amount']), where "
         "intent = event['data']['object']")),
        (credits == [2000], (f"credit intent['amount'] (2000 cents here) to intent['customer'], once; "
         f"{_credit_text('cus_valid', credits)}")),
        (recorded == PAID, _record_hint(recorded)),
        happened=happened,
    )  # fmt: skip


def tampered_body(challenge):
    event = challenge._payment("cus_tampered", 1500)
    pi = event["data"]["object"]["id"]
    body, headers = challenge._sender.sign(event)
    forged = body.replace(b'"amount": 1500,', b'"amount": 150000,')
    forged = forged.replace(b'"amount_received": 1500,', b'"amount_received": 150000,')
    attempts = [challenge._send(forged, headers)]
    calls = challenge._after(attempts, lambda: True)
    credits = challenge._credited("cus_tampered")
    return _refused(challenge, "tampered", attempts, calls, credits, pi, _happened(
        challenge, attempts, calls, "cus_tampered", credits,
        "recorded in challenge.payments" if challenge._recorded(pi) else ""))


def stale_timestamp(challenge):
    event = challenge._payment("cus_replay", 1200)
    pi = event["data"]["object"]["id"]
    attempts = [challenge._send_event(event, timestamp=int(time.time()) - 3600)]
    calls = challenge._after(attempts, lambda: True)
    credits = challenge._credited("cus_replay")
    return _refused(challenge, "stale", attempts, calls, credits, pi, _happened(
        challenge, attempts, calls, "cus_replay", credits,
        "recorded in challenge.payments" if challenge._recorded(pi) else ""))


def _refused(challenge, kind: str, attempts, calls, credits, pi, happened):
    """The verdict on a request that should have been refused: a 4xx, and nothing changed."""
    status = attempts[0].status
    accepted = (
        "the amount was changed after Stripe signed the body, and your handler acted on it: nothing compared the "
        "signature with the bytes that arrived, so anyone who can reach your URL can write their own amounts"
        if kind == "tampered" else
        "the signature is genuine but was made an hour ago, and your handler acted on it: a replay of an old "
        "request got through, because nothing held its signed timestamp against the 300 s Stripe's libraries allow"
    )  # fmt: skip
    if credits or challenge._recorded(pi):
        return _verdict(calls, (False, accepted), happened=happened)
    if status is None:
        return _verdict(calls, (False, _slow_hint(challenge, calls[0])), happened=happened)
    return _verdict(
        calls,
        (not 500 <= status < 600, (f"you changed nothing, good, but answered {status}: a 5xx says 'my server "
         "broke, try again'. The request is at fault, not you: answer 400")),
        (not 200 <= status < 300, (f"you changed nothing, good, but answered {status}, which tells the sender "
         "(and your logs) that all went well: refuse it with 400")),
        (400 <= status < 500, f"answer 400 to a request that fails verification, not {status}"),
        happened=happened,
    )  # fmt: skip


def duplicate_delivery(challenge):
    event = challenge._payment("cus_duplicate", 2000)
    attempts = [challenge._send_event(event)]
    challenge._after(attempts, lambda: bool(challenge._credited("cus_duplicate")))
    attempts.append(challenge._send_event(event))  # a retry: the same body, a fresh signature
    calls = challenge._after(attempts, lambda: bool(challenge._credited("cus_duplicate")))
    credits = challenge._credited("cus_duplicate")
    first, second = attempts
    return _verdict(
        calls,
        (first.status is not None and second.status is not None, _slow_hint(challenge, calls[0] or calls[1])),
        (first.ok, f"the first delivery was answered {first.status}: a genuine event gets a 2xx"),
        (len(credits) < 2, ("the same event id arrived twice and you acted twice: Stripe's retry of an event "
         "you had already handled paid the customer again, because nothing remembered the event")),
        (second.ok, (f"the duplicate was answered {second.status}: it is not an error, you handled it already. "
         "Answer 200, or Stripe retries it for days")),
        _once("cus_duplicate", credits, 2000),
        happened=_happened(challenge, attempts, calls, "cus_duplicate", credits),
    )  # fmt: skip


def out_of_order_delivery(challenge):
    """Two intents, each declined then paid within one second: one `created`, sent in both orders."""
    attempts, intents = [], []
    for customer, amount, paid_first in (("cus_order", 3000, True), ("cus_second", 2200, False)):
        paid = challenge._payment(customer, amount)
        intent = paid["data"]["object"]
        declined = challenge._sender.event("payment_intent.payment_failed", customer=customer, amount=amount,
                                           id=intent["id"])  # fmt: skip
        declined["created"] = paid["created"]  # the first card declined, the second accepted, in the same second
        declined["data"]["object"]["created"] = intent["created"]
        for event in (paid, declined) if paid_first else (declined, paid):
            attempts.append(challenge._send_event(event))
            challenge._after(attempts, lambda: True)
        intents.append((customer, amount, intent["id"]))
    calls = challenge._after(attempts, lambda: True)
    checks = [(all(a.status is not None for a in attempts), _slow_hint(challenge, next(filter(None, calls), None))),
              (all(a.ok for a in attempts), (f"answer 2xx to every genuine event (got "
               f"{', '.join(str(a.status) for a in attempts)}); an event you ignore is still acknowledged"))]
    told = []
    for (customer, amount, pi), order in zip(intents, ("succeeded, then failed", "failed, then succeeded")):
        recorded, credits = _state(challenge, pi), challenge._credited(customer)
        checks.append((recorded == PAID, _record_hint(recorded, order)))
        checks.append(_once(customer, credits, amount, "credit only payment_intent.succeeded, once"))
        told.append(f"{customer} ({order}): {_state_text(recorded)}")
    return _verdict(calls, *checks, happened=_join(_answers(challenge, attempts, calls), *told))  # fmt: skip


def slow_side_effect(challenge):
    event = challenge._payment("cus_slow", 2500)
    with challenge._staged(slow=True):
        attempts = [challenge._send_event(event)]
        calls = challenge._after(attempts, lambda: bool(challenge._credited("cus_slow")))
    credits = challenge._credited("cus_slow")
    return _verdict(
        calls,
        (attempts[0].status is not None, _slow_hint(challenge, calls[0])),
        (attempts[0].ok, f"a genuine event was answered {attempts[0].status}: answer 200"),
        (credits != [], ("you answered in time, but the credit never happened: hand it to "
         "challenge.enqueue(challenge.credit, customer, amount) rather than skipping it")),
        _once("cus_slow", credits, 2500, "credit once"),
        happened=_happened(challenge, attempts, calls, "cus_slow", credits),
    )  # fmt: skip


def replayed_request(challenge):
    event = challenge._payment("cus_replayed", 1700)
    body, headers = challenge._sender.sign(event)  # signed once: whoever replays it cannot sign again
    attempts = [challenge._send(body, headers, request_id="req_original")]
    challenge._after(attempts, lambda: bool(challenge._credited("cus_replayed")))
    attempts.append(challenge._send(body, headers, request_id="req_original"))  # captured, replayed verbatim
    challenge._after(attempts, lambda: True)
    after_verbatim = len(challenge._credited("cus_replayed"))
    attempts.append(challenge._send(body, headers, request_id="req_replayed"))  # the same, a new X-Request-Id
    calls = challenge._after(attempts, lambda: True)
    credits = challenge._credited("cus_replayed")
    header_key = after_verbatim == 1 and len(credits) == 2
    return _verdict(
        calls,
        (all(a.status is not None for a in attempts), _slow_hint(challenge, next(filter(None, calls), None))),
        (attempts[0].ok, f"a genuine event was answered {attempts[0].status}: answer 2xx"),
        (not header_key, ("you ignored the verbatim copy but credited the copy with a new X-Request-Id: you "
         "deduplicate on a header the signature doesn't cover, and anyone can send a new one: the copy's "
         "event['id'], inside the signed body, was the same")),
        (len(credits) < 2, ("the same signed request came back within seconds, inside verify()'s 300 s "
         "tolerance, so it verified every time and you credited each copy: the timestamp stops old replays "
         "only, and nothing noticed that each copy carried an event id already handled")),
        _once("cus_replayed", credits, 1700),
        happened=_happened(challenge, attempts, calls, "cus_replayed", credits),
    )  # fmt: skip


def database_down(challenge):
    event = challenge._payment("cus_outage", 1800)
    with challenge._staged(down=True):
        attempts = [challenge._send_event(event)]
        challenge._after(attempts, lambda: True)  # the outage lasts until the first attempt is over
    first = attempts[0]
    if first.status is not None and not first.ok:
        attempts.append(challenge._send_event(event))  # Stripe's retry: the same event, signed afresh
    calls = challenge._after(attempts, lambda: bool(challenge._credited("cus_outage")))
    credits = challenge._credited("cus_outage")
    retry = attempts[1] if len(attempts) > 1 else None
    return _verdict(
        calls,
        (first.status is not None, _slow_hint(challenge, calls[0])),
        (not (first.ok and not credits), (f"you answered {first.status} while the database was down, so Stripe "
         "counts the event as delivered and never sends it again: the credit is lost. When storing the work "
         "fails (enqueue raised a ConnectionError), answer 503, or let the error answer 500, so Stripe retries")),
        (first.ok or 500 <= first.status < 600, (f"you answered {first.status} while your own database was "
         "down: a 4xx blames the request, which was fine. Answer 503: your failure, retry later")),
        (retry is None or retry.status is not None, _slow_hint(challenge, calls[-1])),
        (retry is None or retry.ok, (f"Stripe's retry, after the database came back, was answered "
         f"{retry.status if retry else ''}: handle it in full and answer 200")),
        (credits != [], ("the retry was answered 200 but nothing was credited: your handler marked the event "
         "seen before its work succeeded, so the retry looked like a duplicate. Mark an event done only after "
         "its work succeeds: add event['id'] to your set after enqueue() returns")),
        _once("cus_outage", credits, 1800),
        happened=_happened(challenge, attempts, calls, "cus_outage", credits),
    )  # fmt: skip


# -- describing what happened -----------------------------------------------------------


def _verdict(calls: list[Call | None], *checks: tuple[bool, str], happened: str) -> tuple[bool, str, str]:
    """The first failing check's hint; a handler that raised or returned nonsense comes first."""
    for call in calls:
        if call is not None and call.error and call.exception != Outage.__name__:  # the outage is no bug
            if call.exception == SignatureError.__name__:
                hint = ("verify() raised wl.SignatureError and nothing caught it, so the answer was a 500: wrap "
                        "the verify call in try/except wl.SignatureError and return 400")  # fmt: skip
            elif call.exception:
                hint = (f"{call.error[len('your handler raised '):]}: fix your handler (challenge.errors has the "
                        "traceback). An exception answers 500, and Stripe would retry")  # fmt: skip
            else:
                hint = f"your handler {call.error}: return an int, e.g. `return 200`"
            return False, happened, hint
    for ok, hint in checks:
        if not ok:
            return False, happened, hint
    return True, happened, ""


def _slow_hint(challenge, call: Call | None) -> str:
    took = f"your handler took {call.took:.1f} s, but " if call else ""
    return (
        f"{took}the sender waits only {challenge.timeout:g} s: Stripe counts a late answer as a failure and "
        "sends the event again, and the slow work runs again with it. What made the answer late is the work done "
        "before answering"
    )


def _answers(challenge, attempts: list[Attempt], calls: list[Call | None]) -> str:
    parts = []
    for attempt, call in zip(attempts, calls):
        if attempt.status is None:
            took = f" (your handler took {call.took:.1f} s)" if call else ""
            parts.append(f"no answer within {challenge.timeout:g} s{took}" if "timed out" in (attempt.error or "")
                         else attempt.error)  # fmt: skip
        else:
            text = f"answered {attempt.status} in {attempt.elapsed * 1000:.0f} ms"
            parts.append(f"{text} ({call.error})" if call and call.error else text)
    return ", then ".join(parts)


def _happened(challenge, attempts: list[Attempt], calls: list[Call | None], customer: str, credits: list[int],
              *more: str) -> str:  # fmt: skip
    """What a scenario saw: the answers, what was credited, and anything else worth saying."""
    return _join(_answers(challenge, attempts, calls), _credit_text(customer, credits), *more)


PAID = ("payment_intent", "succeeded")  # what challenge.payments must hold for each paid intent: (object, status)


def _state(challenge, pi: str) -> tuple[str | None, str | None]:
    """What challenge.payments holds for this intent: its 'object' and 'status' ((None, None) for nothing)."""
    return challenge._recorded_field(pi, "object"), challenge._recorded_field(pi, "status")


def _state_text(recorded: tuple[str | None, str | None]) -> str:
    if recorded == (None, None):
        return "nothing recorded in challenge.payments"
    return f"challenge.payments holds {'an' if recorded[0] == 'event' else 'a'} {recorded[0]} ({recorded[1]})"


def _record_hint(recorded: tuple[str | None, str | None], order: str = "") -> str:
    if recorded[0] != "payment_intent":
        return ("challenge.payments must hold each payment intent's current state, as the API gives it (rule 5); "
                f"found {_state_text(recorded)}")  # fmt: skip
    return (f"the intent was paid, but challenge.payments says {recorded[1]!r}: its payment_failed and succeeded "
            f"events arrived {order}, with the same 'created' (whole seconds), so neither the order of arrival nor "
            f"'created' says which is current, and Stripe advises against ordering events by 'created': the API "
            f"(challenge.api) knows which is current")  # fmt: skip


def _once(customer: str, credits: list[int], amount: int, hint: str = "credit the payment once") -> tuple[bool, str]:
    """The check that `customer` was credited `amount`, exactly once."""
    return credits == [amount], f"{hint}: {_credit_text(customer, credits)}"


def _credit_text(customer: str, credits: list[int]) -> str:
    if not credits:
        return "nothing credited"
    times = {1: "once", 2: "twice"}.get(len(credits), f"{len(credits)} times")
    amounts = " + ".join(f"{c / 100:,.2f}" for c in credits) if len(set(credits)) > 1 else f"{credits[0] / 100:,.2f}"
    return f"credited {customer} {amounts} {times}"


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


SCENARIOS = (
    Scenario("valid event", "a signed payment_intent.succeeded: cus_valid pays 20.00",
             "answer 2xx, credit 20.00 to cus_valid once, record the intent's current state in challenge.payments",
             run=valid_event),
    Scenario("tampered body", "a signed event whose amount was raised from 15.00 to 1,500.00 after signing",
             "answer 4xx and change nothing", run=tampered_body),
    Scenario("stale timestamp", "a genuine event, signed an hour ago and sent again: a replay",
             "answer 4xx and change nothing", run=stale_timestamp),
    Scenario("duplicate delivery", "the same event twice (same id; re-signed, as Stripe's retries are)",
             "answer 2xx both times, credit once", run=duplicate_delivery),
    Scenario("replayed request", "a captured request sent again within seconds: the same body and signature, "
             "first verbatim, then with a new X-Request-Id (a header in front of your app, not signed)",
             "credit once: a replay carries the same event id", run=replayed_request),
    Scenario("out-of-order delivery", "two payment intents, each declined then paid within one second (the same "
             "'created'): one's payment_intent.succeeded arrives first, the other's last",
             "answer 2xx to all four, credit each payment once, keep each intent's current state (succeeded, from "
             "challenge.api.retrieve) in challenge.payments",
             run=out_of_order_delivery),
    Scenario("slow side effect", "a valid event while challenge.credit takes 1 s",
             "answer 2xx within 0.5 s, and still credit once", run=slow_side_effect),
    Scenario("database down", "a valid event while the database is down (challenge.enqueue and challenge.credit "
             "raise a ConnectionError); then Stripe's retry, once it is back",
             "answer 5xx while it is down and mark nothing done; handle the retry: 2xx, credit once",
             run=database_down),
)  # fmt: skip
