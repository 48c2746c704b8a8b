"""Checks for 07.00-from-laptop-to-production: rotating a secret, reconciling after an outage, a checklist,
and an endpoint of your own that passes the pytest plugin's tests; with where to find the examples/ folder."""

from __future__ import annotations

import threading
from pathlib import Path

from .._experiments.polling import ProviderAPI
from .._providers import Stripe
from .._receiving.receiver import Receiver
from .._receiving.server import BackgroundServer
from .._workshop import shipped
from . import attempt, failed, guarded, passed, unanswered

NOTEBOOK = "07.00-from-laptop-to-production"  # the notebook whose exercises these are: each verdict names it

PHASES = ("before", "overlap", "after")

# Who signs each delivery the check sends in each phase, whether it must be accepted, and what it stands for.
DELIVERIES = {
    "before": [(("old",), True, "signed with the old secret, the only one there is yet")],
    "overlap": [
        (("old",), True, "signed with the old secret only, just before the provider switched"),
        (("new", "old"), True, "signed with both secrets, one v1 each, as Stripe signs during its overlap"),
        (("new",), True, "signed with the new secret only, after the provider switched"),
    ],
    "after": [
        (("new",), True, "signed with the new secret"),
        (("old",), False, "signed with the retired old secret (a leaked secret, say)"),
    ],
}


@guarded()
def check_rotation(secrets_for) -> bool:
    """secrets_for(phase, old, new): the secret(s) a receiver verifies with before, during and after a rotation."""
    if not callable(secrets_for):
        return failed("secrets_for is not a function yet. Define it with def secrets_for(phase, old, new): ...")

    old, new = Stripe.new_secret(), Stripe.new_secret()
    names = {old: "old", new: "new"}
    for phase in PHASES:
        chosen, error = attempt(secrets_for, phase, old, new)
        call = f"secrets_for({phase!r}, old, new)"
        if error:
            return failed(f"{call} raised {error}.")
        problem = _secrets_problem(chosen, call, names)
        if problem:
            return failed(problem)
        receiver = Receiver(secrets={"pay": chosen}, reject_invalid=True).start()
        try:
            for signers, accept, what in DELIVERIES[phase]:
                signer = Stripe([{"old": old, "new": new}[name] for name in signers])
                sent = signer.send(signer.event("payment_intent.succeeded"), to=receiver.url("pay"))
                if sent.ok != accept:
                    shown = [names[s] for s in ([chosen] if isinstance(chosen, str) else chosen)]
                    return failed(_rotation_hint(phase, what, accept, sent.status, shown))
        finally:
            receiver.close()
    return passed(
        "every genuine delivery was accepted before, during and after the rotation, and once the old secret was "
        "retired, a request signed with it was refused (400)."
    )


def _secrets_problem(chosen, call: str, names: dict) -> str | None:
    """Why `chosen` cannot be an endpoint's secrets, or None."""
    if chosen is None:
        return f"{call} returned None. Return the secret the receiver checks with, or a list of them: [new, old]."
    secrets = [chosen] if isinstance(chosen, str) else chosen
    if not isinstance(secrets, (list, tuple)) or not secrets:
        return f"{call} returned {chosen!r}; return a secret (a string) or a non-empty list of them, such as [new, old]."
    strangers = [s for s in secrets if s not in names]
    if strangers:
        example = strangers[0] if isinstance(strangers[0], str) else type(strangers[0]).__name__
        return (f"{call} returned {example!r}, which is neither secret. Return the arguments themselves, old and new "
                "(not the words 'old' and 'new').")  # fmt: skip
    return None


def _rotation_hint(phase: str, what: str, accept: bool, status, shown: list[str]) -> str:
    got = f"answered {status}" if status else "got no answer"
    verifying = f"[{', '.join(shown)}]"
    if phase == "before":
        return (f"before the rotation, a delivery {what} {got}: your receiver verified with {verifying}. Until the "
                "rotation starts, the endpoint's secret is the old one.")  # fmt: skip
    if phase == "overlap" and accept:
        missing = "old" if "old" not in shown else "new"
        return (f"during the overlap, a delivery {what} {got}: your receiver verified with {verifying}. While either "
                f"signature may arrive, keep both secrets: add the {missing} one.")  # fmt: skip
    if accept:
        return (f"after the overlap, a delivery {what} {got}: your receiver verified with {verifying}. From now on "
                "the provider signs with the new secret only.")  # fmt: skip
    return (f"after the overlap, a request {what} was still accepted: your receiver verified with {verifying}. "
            "Anyone who holds the old secret can still sign. Retire it: return only the new one.")  # fmt: skip


@guarded()
def check_reconcile(reconcile, *, timeout: float = 10.0) -> bool:
    """reconcile(events_url, processed, handle) handles, once and oldest first, every event not in `processed`.

    The API holds 140 events (more than one page): some were delivered before, during and after an outage,
    the rest were missed. On the first run `handle` fails for one missed event, as work does when a database
    is down: that event must not be marked done, and the next run must handle it.
    """
    if not callable(reconcile):
        return failed("reconcile is not a function yet. Define it with def reconcile(events_url, processed, handle): ...")

    with ProviderAPI() as api:
        ids = [api.record("payment_intent.succeeded")["id"] for _ in range(140)]
        delivered = set(ids[:8] + ids[60:63] + ids[-4:])
        missed = [i for i in ids if i not in delivered]
        failing = missed[40]
        processed, handled, wrong_calls = set(delivered), [], []
        down = {"database": True}

        def handle(event):
            if not isinstance(event, dict) or "id" not in event:
                wrong_calls.append(event)
                raise TypeError("handle(event) takes the whole event, a dict from the API's list")
            if event["id"] == failing and down["database"]:
                raise RuntimeError("the database is down: this event's work failed")
            handled.append(event["id"])

        runs = []
        for run in (1, 2, 3):
            down["database"] = run == 1
            before = len(handled)
            error = _run(reconcile, api.url("/v1/events"), processed, handle, timeout)
            if error == "timeout":
                return failed(f"reconcile did not return within {timeout:g} s. Does the loop stop when page['has_more'] "
                              "is False, and move starting_after on to the last event of each page?")  # fmt: skip
            if error and not (run == 1 and "the database is down" in error):
                if wrong_calls:
                    return failed(f"handle was called with {wrong_calls[0]!r}: call it with the whole event, handle(event).")
                return failed(f"reconcile raised {error} (run {run}).")
            runs.append(handled[before:])
            if run == 1:
                problem = _first_run_problem(handled, processed, delivered, failing, len(missed))
                if problem:
                    return failed(problem)
    return _judge_reconcile(runs, handled, missed, failing)


def _run(reconcile, events_url: str, processed: set, handle, timeout: float) -> str | None:
    """Run the learner's reconcile on a thread; None, the error it raised, or 'timeout'."""
    box: list = []
    worker = threading.Thread(target=lambda: box.append(attempt(reconcile, events_url, processed, handle)),
                              name="webhooklab-exercise", daemon=True)  # fmt: skip
    worker.start()
    worker.join(timeout)
    if worker.is_alive() or not box:
        return "timeout"
    return box[0][1]


def _first_run_problem(handled, processed, delivered, failing, n_missed) -> str | None:
    if not handled:
        return ("reconcile handled nothing. List the events at events_url (requests.get(events_url, params=...)"
                ".json()['data']) and call handle(event) for each one whose id is not in processed.")  # fmt: skip
    again = [i for i in handled if i in delivered]
    if again:
        return (f"{len(again)} event(s) were handled again though they were processed before the outage. Skip an "
                "event whose id is already in processed.")  # fmt: skip
    if failing in processed:
        return ("handle(event) raised for one event (its work failed), yet its id was added to processed, so it would "
                "never be done. Add an id only after handle(event) has returned.")  # fmt: skip
    early = [i for i in processed if i not in delivered and i not in handled]
    if early:
        return (f"{len(early)} id(s) were added to processed without their work being done. Add an id after "
                "handle(event) returns, not before.")  # fmt: skip
    return None


def _judge_reconcile(runs, handled, missed, failing) -> bool:
    if len(handled) != len(set(handled)):
        return failed("some events were handled twice over the runs: `processed` must hold each id you handled "
                      "(add it right after handle(event) returns), so the next run skips it.")  # fmt: skip
    found = set(handled)
    if found != set(missed):
        size = len(found)
        if size in (10, 30, 100) or size < len(missed) // 2:
            return failed(f"{size} of the {len(missed)} missed events were handled. The list is paged: while "
                          "page['has_more'] is True, ask again with starting_after set to the last id on the page.")  # fmt: skip
        return failed(f"{size} of the {len(missed)} missed events were handled; every event whose id is not in "
                      "processed must be handled once.")  # fmt: skip
    in_order = [i for i in handled if i != failing]
    expected = [i for i in missed if i != failing]
    if in_order != expected:
        if in_order == expected[::-1]:
            return failed("the events were handled newest first: the API lists newest first. Collect the pages, then "
                          "handle them in reverse (oldest first), the order they happened in.")  # fmt: skip
        return failed("the events were not handled in the order they happened. Collect every page, then handle "
                      "them oldest first (the API lists newest first).")  # fmt: skip
    if runs[2]:
        return failed(f"a third run handled {len(runs[2])} event(s) again: nothing was left to do.")
    return passed(
        f"{len(missed)} missed events handled once each, oldest first; the one whose work failed was done on the "
        "next run, and a third run found nothing left to do."
    )


# Each item of the production checklist: the right choice, the choices offered, and why.
CHECKLIST = {
    "endpoint URL": ("https://", ("http://", "https://"),
                     "Stripe requires https:// in live mode and Shopify always does; GitHub recommends it."),
    "verify the signature over": ("the raw body", ("the raw body", "the parsed JSON"),
                                  "the signature covers the exact bytes; re-serialised JSON no longer matches."),
    "accept a signed timestamp up to": ("5 minutes old", ("5 minutes old", "any age"),
                                        "an old signature is a replay; Stripe's libraries refuse past 300 s."),
    "deduplicate on": ("an id the signature covers", ("an id the signature covers", "the delivery id header"),
                       "GitHub's and Shopify's delivery id headers are not signed: a replay brings a fresh one."),
    "answer 2xx": ("after storing the event, before the slow work",
                   ("before storing the event", "after storing the event, before the slow work", "after the slow work"),
                   "answer before storing and a crash loses the event; answer after slow work and the sender times "
                   "out and sends it again."),
    "mark an event done": ("after its work succeeded", ("when it arrives", "after its work succeeded"),
                           "marked when it arrives, an event whose work fails is skipped by the retry and lost."),
    "monitor": ("failed deliveries, retries and answer times", ("nothing: the provider retries",
                                                                "failed deliveries, retries and answer times"),
                "retries stop (GitHub never starts, Stripe stops after 3 days); you need to know before that."),
    "after an outage": ("list missed events from the provider and process them once",
                        ("wait for the provider's retries", "list missed events from the provider and process them once"),
                        "retries end, and GitHub makes none: only the provider's list shows what you missed."),
    "signing secrets": ("rotate them, with an overlap", ("never change them", "replace them at once",
                                                          "rotate them, with an overlap"),
                        "replaced at once, deliveries signed with the old one are refused; never changed, a leak lasts."),
    "subscribe to": ("only the events you handle", ("every event type", "only the events you handle"),
                     "Stripe and GitHub both advise it: every extra event is load, and data you did not need."),
    "log": ("event ids and outcomes, never secrets or signatures",
            ("full requests with their headers", "event ids and outcomes, never secrets or signatures"),
            "headers carry signatures, and logs travel further than secrets should."),
}  # fmt: skip


@guarded()
def check_checklist(checklist) -> bool:
    """checklist maps each item of CHECKLIST to one of its choices."""
    problem = unanswered(checklist, "checklist", CHECKLIST, maps="item to choice", keep="items")
    if problem:
        return failed(problem)
    for item, (right, choices, why) in CHECKLIST.items():
        answer = checklist[item]
        offered = " or ".join(repr(c) for c in choices)
        if answer is None:
            return failed(f"{item!r} has no answer yet: choose {offered}.")
        if not isinstance(answer, str) or answer.strip().lower() not in [c.lower() for c in choices]:
            return failed(f"{item!r} is {answer!r}; choose {offered}.")
        if answer.strip().lower() != right.lower():
            return failed(f"{item!r}: not {answer.strip()!r}. Why: {why}")
    return passed(f"all {len(CHECKLIST)} items of the checklist are what production needs. Keep it beside your code.")


# -- test your own endpoint --------------------------------------------------------------------------------

ENDPOINT = "/webhooks/stripe"  # where the exercise's app serves the learner's handle()


def example(name: str) -> Path | None:
    """examples/<name>: beside the notebooks (the learner's copy), or in webhooklab's package or checkout; else None."""
    for candidate in (Path.cwd() / "examples", Path.cwd().parent / "examples"):
        if (candidate / name).is_dir():
            return candidate / name
    try:
        return shipped("examples") / name if (shipped("examples") / name).is_dir() else None
    except FileNotFoundError:
        print(f"examples/{name} is not beside these notebooks, nor with webhooklab. Copy the examples/ folder of "
              "webhooklab's repository beside this notebook (or run `webhooklab lab` again if your version copies "
              "it), then run this cell again. The exercise below works without it.")  # fmt: skip
        return None


def app_for(handle, secret: str, inbox: dict):
    """A Flask app whose POST /webhooks/stripe answers with handle(body, headers, secret, inbox)'s status code."""
    from flask import Flask, request

    app = Flask("your_endpoint")
    app.extensions["errors"] = []

    @app.post(ENDPOINT)
    def stripe_webhook():
        status, error = attempt(handle, request.get_data(), request.headers, secret, inbox)
        if error is None and not (isinstance(status, int) and 100 <= status <= 599):
            error = f"it returned {status!r}, not a status code such as 200 or 400"
        if error:
            app.extensions["errors"].append(error)
            return "", 500
        return "", status

    return app


def serve(app) -> str:
    """Serve a WSGI app (a Flask app) on 127.0.0.1 and a free port, from a thread of this kernel; its base URL."""
    return BackgroundServer(app).start().base_url


FORGERIES = {
    "tampered": "a body changed after signing",
    "wrong_secret": "a request signed with another secret",
    "unsigned": "a request with no Stripe-Signature header",
    "stale": "a request signed long ago (a replay)",
}


@guarded()
def check_endpoint(handle) -> bool:
    """handle(body, headers, secret, inbox) -> status: the pytest plugin's Stripe tests, in process."""
    if not callable(handle):
        return failed("handle is not a function yet. Define it with def handle(body, headers, secret, inbox): ...")
    try:
        from ..testing import Webhooks
    except ImportError:
        return failed("this check sends the pytest plugin's requests, which needs pytest: run `%pip install pytest`, "
                      "restart the kernel, and run the notebook again.")  # fmt: skip
    secret, inbox, webhooks = Stripe.new_secret(), {}, Webhooks()
    app = app_for(handle, secret, inbox)
    stripe = webhooks(app, "stripe", secret=secret, path=ENDPOINT)
    try:
        problem = _endpoint_problem(stripe, inbox, app.extensions["errors"])
    finally:
        webhooks.close()
    if problem:
        return failed(problem)
    return passed("the plugin's tests pass: a signed event is accepted and stored under its id, each forgery (tampered, "
                  "wrong secret, unsigned, stale) gets 400 and stores nothing, and a duplicate is answered 2xx and "
                  "stored once.")  # fmt: skip


def _endpoint_problem(stripe, inbox: dict, errors: list) -> str | None:
    def raised() -> str:
        return f" handle raised or returned something else: {errors[-1]}." if errors else ""

    event = stripe.event("payment_intent.succeeded")
    answer = stripe.send(event)
    if not 200 <= answer.status_code < 300:
        return (f"stripe.send(...) answered {answer.status_code}: a correctly signed event must get a 2xx.{raised()} "
                "Verify the raw body exactly as it arrived (bytes), with the secret you are given.")  # fmt: skip
    if list(inbox) != [event["id"]]:
        return f"a signed event was accepted, but inbox is {list(inbox)!r}: store it as inbox[event['id']] = event."
    for case, response in stripe.forgeries("charge.refunded").items():
        if response.status_code != 400:
            return (f"stripe.{case}(...) answered {response.status_code}: {FORGERIES[case]} must get 400, and act on "
                    f"nothing.{raised()}")  # fmt: skip
    if len(inbox) != 1:
        return "every forgery got 400, but one of them reached inbox: verify before you store anything."
    answers = [response.status_code for response in stripe.duplicate("checkout.session.completed")]
    if not all(200 <= status < 300 for status in answers) or len(inbox) != 2:
        return (f"one event delivered twice got {answers} and inbox holds {len(inbox) - 1} entries for it: answer 2xx "
                "both times (or the provider retries) and keep the event once, under its id.")  # fmt: skip
    return None
