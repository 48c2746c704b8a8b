"""The checks of 07.00-glossary: each solution passes, and typical wrong answers get a specific hint."""

from pathlib import Path

import pytest

import webhooklab as wl
from webhooklab.exercises import ch07

SOLUTIONS = Path(__file__).parent.parent / "notebooks" / "solutions"


@pytest.fixture
def captured(rx):
    github = wl.GitHub()
    github.send(github.event("push"), to=rx.url("repo"))
    return rx.wait_for(1, endpoint="repo")[-1]


def run_solution(name: str, **namespace) -> dict:
    exec((SOLUTIONS / name).read_text(), namespace)
    return namespace


def test_the_event_header_solution_passes(captured, capsys):
    answer = run_solution("07.00-event-header.py")["event_header"]
    assert ch07.check_event_header(answer, captured) is True
    assert "✓ X-GitHub-Event: 'push'" in capsys.readouterr().out


def test_header_names_are_case_insensitive(captured, capsys):
    assert ch07.check_event_header("x-github-event", captured) is True


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (None, "set `event_header` in the cell above"),
        (42, "should be a header's name as a string, but it is a int"),
        ("X-GitHub-Delivery", "is the id of this delivery"),
        ("X-Hub-Signature-256", "is the signature"),
        ("X-GitHub-Type", "has no header 'X-GitHub-Type'. Its headers are:"),
        ("Content-Type", "says how the body is written"),
    ],
)
def test_wrong_event_headers_get_a_hint(captured, capsys, answer, hint):
    assert ch07.check_event_header(answer, captured) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ Not yet:") and hint in out


def test_the_event_header_check_needs_a_github_request(rx, capsys):
    stripe = wl.Stripe()
    stripe.send(stripe.event("charge.succeeded"), to=rx.url("pay"))
    assert ch07.check_event_header("X-GitHub-Event", rx.wait_for(1)[-1]) is False
    assert "should be the GitHub push captured in section 1" in capsys.readouterr().out


def test_the_retry_status_solution_passes(rx, capsys):
    run_solution("07.00-retry-status.py", rx=rx)
    assert ch07.check_retry_status(rx, "checkout") is True
    out = capsys.readouterr().out
    assert "✓ 'checkout' answered 503, so Stripe tried again: 4 attempts over 3 h 30 min" in out


@pytest.mark.parametrize("status", [500, 404, 301, 429])
def test_any_answer_outside_2xx_makes_stripe_retry(rx, capsys, status):
    rx.respond("checkout", status=status, headers={"Location": "/elsewhere"} if status == 301 else None)
    assert ch07.check_retry_status(rx) is True


def test_a_2xx_answer_gets_a_hint(rx, capsys):
    rx.respond("checkout", status=204)
    assert ch07.check_retry_status(rx, "checkout") is False
    out = capsys.readouterr().out
    assert "✗ Not yet: 'checkout' answered 204, and a 2xx means 'got it'" in out


def test_an_untouched_endpoint_gets_a_hint(rx, capsys):
    assert ch07.check_retry_status(rx, "checkout") is False
    assert "rx.respond('checkout', status=...)" in capsys.readouterr().out


def test_a_stopped_receiver_is_a_hint_not_an_exception(capsys):
    stopped = wl.Receiver()
    assert ch07.check_retry_status(stopped) is False
    assert "✗ Not yet: the check could not deliver" in capsys.readouterr().out
    stopped.close()
