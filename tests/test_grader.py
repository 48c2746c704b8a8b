"""The workshop challenge's grader: the solution passes, the naive handler fails where it should, with its hints."""

import json
import threading
from pathlib import Path

import pytest

import webhooklab as wl
from webhooklab.exercises import ch06
from webhooklab.grader import SCENARIOS, Challenge, Outage, Report

SOLUTIONS = Path(__file__).parent.parent / "notebooks" / "solutions"
NAMES = [s.name for s in SCENARIOS]


def run_solution(slug: str, **namespace) -> dict:
    """Run a solution file the way the notebook does: wl imported, the notebook's names defined."""
    namespace = {"wl": wl, **namespace}
    exec(compile((SOLUTIONS / f"06.00-{slug}.py").read_text(), f"06.00-{slug}.py", "exec"), namespace)
    return namespace


def naive_for(challenge):
    """The notebook's naive handler: trusts the body, last one wins, slow work before answering."""

    @challenge.handler
    def naive(body, headers):
        event = json.loads(body)
        intent = event["data"]["object"]
        challenge.payments[intent["id"]] = intent
        if event["type"] == "payment_intent.succeeded":
            challenge.credit(intent["customer"], intent["amount"])
        return 200

    return naive


def good_handler(challenge, *, bad_signature=400, credit_inline=False, record="fetch", dedupe_on="id",
                 mark_first=False, when_down=None):
    """The solution's handler with one knob turned, so each test breaks exactly one rule.

    record: "fetch" (the API's current state), "created" (the newer snapshot by `created`, strictly), "created-or-tie"
    (a tie replaces too) or "last" (the last to arrive wins); dedupe_on: "id" (the signed event id), a header's name, or None; mark_first: mark the event seen before
    its work; when_down: the status to answer when the database is down (None: let the error answer 500).
    """
    stripe, seen = wl.Stripe(challenge.secret), set()

    @challenge.handler
    def handle(body, headers):
        try:
            event = stripe.verify(body, headers)
        except wl.SignatureError:
            return bad_signature
        key = event["id"] if dedupe_on == "id" else headers.get(dedupe_on) if dedupe_on else None
        if key is not None and key in seen:
            return 200
        if mark_first:
            seen.add(key)
        intent = event["data"]["object"]
        if record == "fetch":
            challenge.payments[intent["id"]] = challenge.api.retrieve(intent["id"])
        else:
            recorded = challenge.payments.get(intent["id"])
            newer = recorded is None or record == "last" or event["created"] > recorded["_created"] or (
                record == "created-or-tie" and event["created"] == recorded["_created"])
            if newer:
                challenge.payments[intent["id"]] = {**intent, "_created": event["created"]}
        if event["type"] == "payment_intent.succeeded":
            try:
                if credit_inline:
                    challenge.credit(intent["customer"], intent["amount"])
                else:
                    challenge.enqueue(challenge.credit, intent["customer"], intent["amount"])
            except Outage:
                if when_down is None:
                    raise
                return when_down
        seen.add(key)
        return 200

    return handle


@pytest.fixture
def challenge():
    made = Challenge()
    yield made
    made.close()


@pytest.fixture
def quick():
    """Time scaled down further, for tests that aren't about the notebook's numbers."""
    made = Challenge(timeout=0.4, slow=0.8)
    yield made
    made.close()


def failed_rows(report):
    return set(report.failed)


# -- the solution and the naive handler -------------------------------------------------------------


def test_the_solution_passes_every_scenario(challenge, capsys):
    run_solution("handler", challenge=challenge)
    report = challenge.run()
    assert report.ok and report.score == report.total == len(SCENARIOS), repr(report)
    assert list(report.table.columns) == ["scenario", "passed", "what happened", "hint"]
    assert list(report.table["scenario"]) == NAMES and (report.table["hint"] == "").all()
    assert challenge.balances == {"cus_valid": 2000, "cus_duplicate": 2000, "cus_replayed": 1700, "cus_order": 3000,
                                  "cus_second": 2200, "cus_slow": 2500, "cus_outage": 1800}  # fmt: skip
    assert challenge.errors == []
    assert "answered 503" in report.happened("database down")  # it said so, rather than raising
    assert ch06.check_report(report) is True
    assert capsys.readouterr().out.startswith("✓ all 8 scenarios pass")


def test_the_naive_handler_fails_what_it_should_each_with_its_hint(challenge, capsys):
    naive_for(challenge)
    report = challenge.run()
    # it marks nothing seen, so the retry after the outage is handled: the one rule it keeps by accident
    assert report.score == 2 and failed_rows(report) == set(NAMES) - {"valid event", "database down"}
    hints = {
        "tampered body": ["changed after Stripe signed the body", "acted on it", "nothing compared the signature"],
        "stale timestamp": ["an hour ago", "replay", "300 s"],
        "duplicate delivery": ["acted twice", "nothing remembered the event"],
        "replayed request": ["300 s tolerance", "credited each copy", "an event id already handled"],
        "out-of-order delivery": ["says 'requires_payment_method'", "knows which is current"],
        "slow side effect": ["took 1.0 s", "waits only 0.5 s", "the work done before answering"],
    }
    for scenario, fragments in hints.items():
        for fragment in fragments:
            assert fragment in report.hint(scenario), (scenario, report.hint(scenario))
    for scenario in hints:  # what failed and why: Exercise 2 is where the fix is found
        for fix in ("return 400", "enqueue(", "Deduplicate on", "set of the event ids", "try/except", "= challenge.api"):
            assert fix not in report.hint(scenario), (scenario, report.hint(scenario))
    assert "credited cus_tampered 1,500.00 once" in report.happened("tampered body")
    assert "credited cus_duplicate 20.00 twice" in report.happened("duplicate delivery")
    assert "no answer within 0.5 s" in report.happened("slow side effect")
    assert ch06.check_report(report) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ Not yet: 2/8 scenarios pass.") and "still naive()" in out and "tampered body" in out


# -- one rule broken at a time ---------------------------------------------------------------------


def test_answering_500_to_a_bad_signature(quick):
    good_handler(quick, bad_signature=500)
    report = quick.run()
    assert failed_rows(report) == {"tampered body", "stale timestamp"}
    assert "a 5xx says 'my server broke" in report.hint("tampered body")


def test_answering_200_to_a_bad_signature(quick):
    good_handler(quick, bad_signature=200)
    report = quick.run()
    assert failed_rows(report) == {"tampered body", "stale timestamp"}
    assert "changed nothing, good, but answered 200" in report.hint("stale timestamp")


def test_crediting_before_answering_fails_only_the_slow_scenario(quick):
    good_handler(quick, credit_inline=True)
    report = quick.run()
    assert failed_rows(report) == {"slow side effect"}
    assert "took 0.8 s" in report.hint("slow side effect") and "waits only 0.4 s" in report.hint("slow side effect")


@pytest.mark.parametrize("record", ["last", "created", "created-or-tie"])
def test_last_one_wins_or_ordering_by_created_fails_only_the_out_of_order_scenario(quick, record):
    good_handler(quick, record=record)
    report = quick.run()
    assert failed_rows(report) == {"out-of-order delivery"}
    assert "(requires_payment_method)" in report.happened("out-of-order delivery")
    hint = report.hint("out-of-order delivery")
    assert "same 'created'" in hint and "Stripe advises against ordering events by 'created'" in hint
    assert "the API (challenge.api) knows which is current" in hint


def test_storing_the_event_instead_of_the_intent_says_to_retrieve_it(quick):
    stripe, seen = wl.Stripe(quick.secret), set()

    @quick.handler
    def handle(body, headers):
        event = stripe.verify(body, headers)
        if event["id"] not in seen:
            quick.payments[event["data"]["object"]["id"]] = event
            if event["type"] == "payment_intent.succeeded":
                quick.enqueue(quick.credit, event["data"]["object"]["customer"], event["data"]["object"]["amount"])
            seen.add(event["id"])
        return 200

    report = quick.run()
    assert "valid event" in report.failed and "an event (None)" in report.happened("valid event")
    assert "current state, as the API gives it" in report.hint("valid event")


def test_the_api_gives_the_current_state_and_refuses_unknown_ids(quick):
    event = quick._payment("cus_api", 100)
    intent = quick.api.retrieve(event["data"]["object"]["id"])
    assert intent["status"] == "succeeded" and intent["customer"] == "cus_api"
    intent["status"] = "changed"  # a copy: the caller's to keep
    assert quick.api.retrieve(event["data"]["object"]["id"])["status"] == "succeeded"
    assert "1 payment intents" in repr(quick.api)


def test_without_deduplication_the_duplicate_and_the_replay_fail(quick):
    good_handler(quick, dedupe_on=None)
    report = quick.run()
    assert failed_rows(report) == {"duplicate delivery", "replayed request"}
    assert "credited cus_replayed 17.00 3 times" in report.happened("replayed request")
    assert "timestamp stops old replays only" in report.hint("replayed request")


# -- the replay and the outage ---------------------------------------------------------------------


def test_deduplicating_on_an_unsigned_header_fails_the_replay_and_names_the_header(quick):
    good_handler(quick, dedupe_on="X-Request-Id")
    report = quick.run()
    assert failed_rows(report) == {"duplicate delivery", "replayed request"}
    hint = report.hint("replayed request")
    assert "ignored the verbatim copy but credited the copy with a new X-Request-Id" in hint
    assert "a header the signature doesn't cover" in hint and "event['id']" in hint
    assert "credited cus_replayed 17.00 twice" in report.happened("replayed request")


def test_deduplicating_on_the_signature_header_stops_a_replay_but_not_a_retry(quick):
    good_handler(quick, dedupe_on="Stripe-Signature")  # a replay has the same signature; Stripe's retry doesn't
    assert failed_rows(quick.run()) == {"duplicate delivery"}


def test_marking_an_event_seen_before_its_work_fails_the_outage(quick):
    good_handler(quick, mark_first=True)
    report = quick.run()
    assert failed_rows(report) == {"database down"}
    hint = report.hint("database down")
    assert "mark an event done only after its work succeeds" in hint.lower() and "looked like a duplicate" in hint
    assert "answered 500" in report.happened("database down") and "nothing credited" in report.happened("database down")
    assert quick.errors == []  # the staged outage is not the learner's bug


def test_acknowledging_an_event_whose_work_failed_loses_it(quick):
    good_handler(quick, when_down=200)
    report = quick.run()
    assert failed_rows(report) == {"database down"}
    assert "answered 200 while the database was down" in report.hint("database down")
    assert "never sends it again" in report.hint("database down")
    assert report.happened("database down") == report.happened("database down").split(", then")[0]  # no retry sent


def test_a_4xx_for_your_own_outage_is_named(quick):
    good_handler(quick, when_down=400)
    report = quick.run()
    assert failed_rows(report) == {"database down"} and "a 4xx blames the request" in report.hint("database down")


def test_crediting_inline_survives_the_outage(quick):
    good_handler(quick, credit_inline=True, when_down=503)
    report = quick.run()
    assert "database down" not in failed_rows(report)
    assert "answered 503" in report.happened("database down") and "credited cus_outage 18.00 once" in report.happened(
        "database down")


def test_a_duplicate_refused_with_409(quick):
    stripe, seen = wl.Stripe(quick.secret), set()

    @quick.handler
    def handle(body, headers):
        try:
            event = stripe.verify(body, headers)
        except wl.SignatureError:
            return 400
        if event["id"] in seen:
            return 409
        intent = event["data"]["object"]
        quick.payments.setdefault(intent["id"], quick.api.retrieve(intent["id"]))
        if event["type"] == "payment_intent.succeeded":
            quick.enqueue(quick.credit, intent["customer"], intent["amount"])
        seen.add(event["id"])
        return 200

    report = quick.run()
    assert failed_rows(report) == {"duplicate delivery"}
    assert "the duplicate was answered 409" in report.hint("duplicate delivery")


def test_work_on_the_learners_own_thread_counts_too_but_is_lost_in_an_outage(quick):
    stripe, seen, lost = wl.Stripe(quick.secret), set(), []

    def credit_or_log(customer, amount):  # fire and forget: a failure is only logged
        try:
            quick.credit(customer, amount)
        except Outage as error:
            lost.append(error)

    @quick.handler
    def handle(body, headers):
        try:
            event = stripe.verify(body, headers)
        except wl.SignatureError:
            return 400
        if event["id"] not in seen:
            seen.add(event["id"])
            intent = event["data"]["object"]
            quick.payments[intent["id"]] = quick.api.retrieve(intent["id"])
            if event["type"] == "payment_intent.succeeded":
                threading.Thread(target=credit_or_log, args=(intent["customer"], intent["amount"])).start()
        return 200

    report = quick.run()
    assert failed_rows(report) == {"database down"} and len(lost) == 1
    assert "the credit is lost" in report.hint("database down")


# -- mistakes are reported, never crash the run -----------------------------------------------------


def test_a_handler_that_raises_is_reported_not_crashed(quick):
    @quick.handler
    def broken(body, headers):
        return 1 / 0

    report = quick.run()
    assert report.score == 0 and len(report.table) == len(SCENARIOS)
    for scenario in NAMES:
        assert "ZeroDivisionError: division by zero" in report.hint(scenario)
        assert "answered 500" in report.happened(scenario)
    assert quick.errors and quick.errors[0].where == "handler" and "Traceback" in quick.errors[0].traceback
    assert "broken()" in report.score_line


def test_an_uncaught_signature_error_gets_its_own_hint(quick):
    stripe = wl.Stripe(quick.secret)

    @quick.handler
    def handle(body, headers):
        stripe.verify(body, headers)
        return 200

    report = quick.run()
    assert "nothing caught it" in report.hint("tampered body") and "try/except wl.SignatureError" in report.hint("tampered body")


def test_a_handler_that_returns_nothing(quick):
    @quick.handler
    def handle(body, headers):
        pass

    report = quick.run()
    assert report.score == 0 and "returned None" in report.hint("valid event") and "return 200" in report.hint("valid event")


def test_enqueueing_the_result_of_credit_is_explained(quick):
    stripe = wl.Stripe(quick.secret)

    @quick.handler
    def handle(body, headers):
        intent = stripe.verify(body, headers)["data"]["object"]
        quick.enqueue(quick.credit(intent["customer"], intent["amount"]))
        return 200

    report = quick.run()
    assert "enqueue(challenge.credit, customer, amount)" in report.hint("valid event")


def test_background_errors_are_recorded(quick):
    @quick.handler
    def handle(body, headers):
        quick.enqueue(quick.credit, "cus_x", "20.00")  # a string amount: credit refuses it
        return 200

    quick.run()
    assert any(f.where == "background" and "amount is in cents" in f.error for f in quick.errors)


def test_odd_things_in_payments_do_not_crash_the_grader(quick):
    @quick.handler
    def handle(body, headers):
        event = json.loads(body)
        intent = event["data"]["object"]
        quick.payments[intent["id"]] = "succeeded"  # not the event
        quick.enqueue(quick.credit, intent["customer"], intent["amount"])
        return 200

    report = quick.run()
    assert "valid event" in report.failed and "each payment intent's current state" in report.hint("valid event")


def test_no_handler_yet():
    report = Challenge().run()
    assert report.score == 0 and report.handler is None
    assert all("@challenge.handler" in report.hint(name) for name in NAMES)


# -- reports, reprs, runs again ---------------------------------------------------------------------


def test_the_report_renders_as_a_table_with_a_score(quick):
    naive_for(quick)
    report = quick.run()
    page = report._repr_html_()
    assert "<table>" in page and "Score: 2/8 for naive()" in page and page.count("<tr>") == len(SCENARIOS) + 1
    text = repr(report)
    assert text.splitlines()[0] == report.score_line and "✗ tampered body" in text and "    hint: " in text


def test_report_html_is_escaped():
    report = Report([{"scenario": "valid event", "passed": False, "what happened": "<script>", "hint": "a & b"}], "h")
    assert "<script>" not in report._repr_html_() and "&lt;script&gt;" in report._repr_html_()


def test_the_secret_is_never_shown_whole(challenge):
    assert challenge.secret not in repr(challenge) and challenge.secret not in challenge._repr_html_()
    assert "8 scenarios" in repr(challenge) and "<table>" in challenge._repr_html_()
    assert list(challenge.scenarios.index) == NAMES


def test_a_second_run_starts_from_empty_books(quick):
    good_handler(quick)
    quick.run()
    quick.payments["leftover"] = {"id": "evt_x"}
    report = quick.run()
    assert report.ok and "leftover" not in quick.payments and quick.balances["cus_valid"] == 2000
    table = quick.deliveries()
    assert list(table.columns) == ["scenario", "delivery", "status", "answered in (ms)", "handler took (ms)", "problem"]
    assert len(table) == 15 and set(table["status"]) == {200, 400, 500}  # 500: the outage, uncaught


def test_timeout_must_be_shorter_than_the_slow_call():
    with pytest.raises(ValueError, match="shorter than slow"):
        Challenge(timeout=2, slow=1)


# -- the checks ---------------------------------------------------------------------------------------


def test_check_report_refuses_something_else(capsys):
    assert ch06.check_report("report") is False
    assert "challenge.run()" in capsys.readouterr().out


def test_status_codes_solution_passes(capsys):
    assert ch06.check_status_codes(run_solution("status-codes")["STATUS"]) is True
    assert capsys.readouterr().out.startswith("✓")


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        ({"bad signature": 500}, ["STATUS['bad signature'] is 500", "4xx"]),
        ({"duplicate": 409}, ["STATUS['duplicate'] is 409", "2xx"]),
        ({"type not handled": 400}, ["STATUS['type not handled'] is 400", "ignore it"]),
        ({"database down": 200}, ["STATUS['database down'] is 200", "5xx", "retry later"]),
        ({"accepted": "200"}, ["STATUS['accepted'] is '200'", "an int"]),
    ],
)
def test_wrong_status_codes_get_a_specific_hint(change, fragments, capsys):
    status = {**run_solution("status-codes")["STATUS"], **change}
    assert ch06.check_status_codes(status) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ Not yet:") and out.count("✗") == 1, out
    for fragment in fragments:
        assert fragment in out, out


def test_the_naive_status_table_and_missing_keys(capsys):
    assert ch06.check_status_codes(dict.fromkeys(ch06.SITUATIONS, 200)) is False
    assert "bad signature" in capsys.readouterr().out
    assert ch06.check_status_codes({"bad signature": 400}) is False
    assert "no entry for 'stale timestamp'" in capsys.readouterr().out
    assert ch06.check_status_codes([400]) is False
    assert "should be a dict" in capsys.readouterr().out


def test_submit_without_a_class_prints_its_message_in_a_notebook_and_no_traceback(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from webhooklab.grader._report import Report, row\n"
        "Report([row('valid event', True, '200', '')], 'handle').submit()")])  # fmt: skip
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}},
                   allow_errors=True).execute()  # fmt: skip
    outputs = notebook.cells[0].outputs
    assert [output.output_type for output in outputs] == ["stream"] and outputs[0].name == "stdout", outputs
    assert "there is no class to submit to" in outputs[0].text and "wl.join_class(bin_url)" in outputs[0].text
