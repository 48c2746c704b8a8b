"""The checks of 07.00-from-laptop-to-production: each solution passes, typical mistakes get their own hint,
and no check raises, whatever it is given."""

import pytest
import requests
from lab_under_test import run_solution

from webhooklab.exercises import ch07

# -- Exercise 1: rotate a secret --------------------------------------------------------------


def test_the_rotation_solution_passes(capsys):
    assert ch07.check_rotation(run_solution("07.00-rotate-secret.py")["secrets_for"]) is True
    assert capsys.readouterr().out.startswith("✓ every genuine delivery was accepted")


def test_switching_at_once_loses_the_old_signatures(capsys):
    assert ch07.check_rotation(lambda phase, old, new: old if phase == "before" else new) is False
    out = capsys.readouterr().out
    assert "during the overlap, a delivery signed with the old secret only" in out and "add the old one" in out


def test_keeping_the_old_secret_forever_is_refused(capsys):
    assert ch07.check_rotation(lambda phase, old, new: old if phase == "before" else [new, old]) is False
    out = capsys.readouterr().out
    assert "retired old secret" in out and "was still accepted" in out and "Retire it" in out


def test_the_new_secret_before_the_rotation(capsys):
    assert ch07.check_rotation(lambda phase, old, new: new) is False
    assert "Until the rotation starts, the endpoint's secret is the old one" in capsys.readouterr().out


def test_an_overlap_without_the_new_secret(capsys):
    assert ch07.check_rotation(lambda phase, old, new: new if phase == "after" else old) is False
    assert "add the new one" in capsys.readouterr().out


def test_words_instead_of_secrets_none_and_stubs(capsys):
    assert ch07.check_rotation(lambda phase, old, new: ["new", "old"]) is False
    assert "not the words 'old' and 'new'" in capsys.readouterr().out
    assert ch07.check_rotation(lambda phase, old, new: None) is False
    assert "returned None" in capsys.readouterr().out
    assert ch07.check_rotation(lambda phase, old, new: []) is False
    assert "non-empty list" in capsys.readouterr().out

    def stub(phase, old, new):
        raise NotImplementedError("write secrets_for in the exercise cell below")

    assert ch07.check_rotation(stub) is False
    assert "raised NotImplementedError" in capsys.readouterr().out
    assert ch07.check_rotation("not yet") is False
    assert "not a function yet" in capsys.readouterr().out


# -- Exercise 2: reconcile after an outage ----------------------------------------------------


def fetch_all(events_url):
    """Every event the API lists, newest first (the learner's usual first step)."""
    events, params = [], {"limit": 100}
    while True:
        page = requests.get(events_url, params=params, timeout=5).json()
        events += page["data"]
        if not page["has_more"]:
            return events
        params = {"limit": 100, "starting_after": page["data"][-1]["id"]}


def handle_new(events, processed, handle):
    """The solution's last loop: each event not yet processed, handled, then marked done."""
    for event in events:
        if event["id"] not in processed:
            handle(event)
            processed.add(event["id"])


def test_the_reconcile_solution_passes(capsys):
    assert ch07.check_reconcile(run_solution("07.00-reconcile.py")["reconcile"]) is True
    assert "125 missed events handled once each, oldest first" in capsys.readouterr().out


def test_handling_everything_again(capsys):
    def reconcile(events_url, processed, handle):
        for event in reversed(fetch_all(events_url)):
            handle(event)
            processed.add(event["id"])

    assert ch07.check_reconcile(reconcile) is False
    assert "were handled again though they were processed before the outage" in capsys.readouterr().out


def test_marking_done_before_the_work(capsys):
    def reconcile(events_url, processed, handle):
        for event in reversed(fetch_all(events_url)):
            if event["id"] not in processed:
                processed.add(event["id"])
                handle(event)

    assert ch07.check_reconcile(reconcile) is False
    assert "Add an id only after handle(event) has returned" in capsys.readouterr().out


def test_never_marking_done(capsys):
    def reconcile(events_url, processed, handle):
        for event in reversed(fetch_all(events_url)):
            if event["id"] not in processed:
                handle(event)

    assert ch07.check_reconcile(reconcile) is False
    assert "some events were handled twice over the runs" in capsys.readouterr().out


def test_one_page_only(capsys):
    def reconcile(events_url, processed, handle):
        page = requests.get(events_url, timeout=5).json()
        handle_new(reversed(page["data"]), processed, handle)  # the first page only

    assert ch07.check_reconcile(reconcile) is False
    assert "The list is paged" in capsys.readouterr().out


def test_newest_first(capsys):
    def reconcile(events_url, processed, handle):
        handle_new(fetch_all(events_url), processed, handle)  # not reversed

    assert ch07.check_reconcile(reconcile) is False
    assert "handled newest first" in capsys.readouterr().out


def test_handle_given_an_id_a_stub_and_a_loop_that_never_ends(capsys):
    def ids_only(events_url, processed, handle):
        for event in fetch_all(events_url):
            handle(event["id"])

    assert ch07.check_reconcile(ids_only) is False
    assert "call it with the whole event" in capsys.readouterr().out

    def stub(events_url, processed, handle):
        raise NotImplementedError("write reconcile in the exercise cell below")

    assert ch07.check_reconcile(stub) is False
    assert "reconcile raised NotImplementedError" in capsys.readouterr().out

    def forever(events_url, processed, handle):
        params = {"limit": 100}
        while True:  # the cursor never moves
            requests.get(events_url, params=params, timeout=5)

    assert ch07.check_reconcile(forever, timeout=0.5) is False
    assert "did not return within 0.5 s" in capsys.readouterr().out


# -- Exercise 3: the checklist ----------------------------------------------------------------


def test_the_checklist_solution_passes(capsys):
    assert ch07.check_checklist(run_solution("07.00-checklist.py")["checklist"]) is True
    assert capsys.readouterr().out.startswith("✓ all 11 items")


@pytest.mark.parametrize("item", list(ch07.CHECKLIST))
def test_each_wrong_choice_says_why(item, capsys):
    right, choices, why = ch07.CHECKLIST[item]
    answers = dict(run_solution("07.00-checklist.py")["checklist"])
    answers[item] = next(choice for choice in choices if choice != right)
    assert ch07.check_checklist(answers) is False
    out = capsys.readouterr().out
    assert f"{item!r}: not" in out and why in out


def test_a_blank_unknown_or_missing_item(capsys):
    answers = dict.fromkeys(ch07.CHECKLIST)
    assert ch07.check_checklist(answers) is False
    assert "has no answer yet: choose 'http://' or 'https://'" in capsys.readouterr().out
    assert ch07.check_checklist({item: "yes" for item in ch07.CHECKLIST}) is False
    assert "is 'yes'; choose" in capsys.readouterr().out
    assert ch07.check_checklist({}) is False
    assert "no answer for 'endpoint URL'" in capsys.readouterr().out
    assert ch07.check_checklist(None) is False
    assert "should be a dict" in capsys.readouterr().out


def test_answers_are_read_without_case_or_spaces(capsys):
    answers = {item: f"  {value.upper()} " for item, value in run_solution("07.00-checklist.py")["checklist"].items()}
    assert ch07.check_checklist(answers) is True


@pytest.mark.parametrize("check", [ch07.check_rotation, ch07.check_reconcile, ch07.check_checklist])
@pytest.mark.parametrize("given", [None, 42, "text", [], object()])
def test_no_check_raises(check, given, capsys):
    assert check(given) is False
    assert "✗ Not yet" in capsys.readouterr().out
