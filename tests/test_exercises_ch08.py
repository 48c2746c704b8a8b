"""08.00-glossary: each solution passes its check, typical wrong answers get a specific hint, and the headers
table shows every header its text names."""

import json
import re
from pathlib import Path

import IPython.display
import nbformat
import pytest
from lab_under_test import run_solution

import webhooklab as wl
from webhooklab.exercises import ch08

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"


# -- exercise 1: one URL, three providers -----------------------------------------------------------


def test_the_what_happened_solution_passes(rx, capsys):
    answer = run_solution("08.00-what-happened.py")["what_happened"]
    assert ch08.check_what_happened(answer, rx) is True
    out = capsys.readouterr().out
    assert out.startswith("✓ what_happened named all 6: push, orders/create, payment_intent.succeeded")
    assert len(rx.events("one-url")) == 6  # six real requests reached the receiver


def test_lower_case_header_names_work_as_in_a_web_framework(rx, capsys):
    def what_happened(headers, body):
        return headers.get("x-github-event") or headers.get("x-shopify-topic") or json.loads(body)["type"]

    assert ch08.check_what_happened(what_happened, rx) is True


def test_the_check_can_be_run_again(rx, capsys):
    answer = run_solution("08.00-what-happened.py")["what_happened"]
    assert ch08.check_what_happened(answer, rx) is True
    assert ch08.check_what_happened(answer, rx) is True  # reads only the requests it sent this time


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (None, "define `what_happened(headers, body)` in the cell above"),
        ("X-GitHub-Event", "should be a function what_happened(headers, body), but it is a str"),
        (lambda headers, body: headers["X-GitHub-Event"], "raised KeyError: 'x-github-event' for a Shopify request"),
        (lambda headers, body: headers["X-GitHub-Event"], "headers.get(name) gives None where headers[name] raises"),
        (
            lambda headers, body: headers.get("X-GitHub-Event") or headers.get("X-Shopify-Topic"),
            "for a Stripe 'payment_intent.succeeded' it returned None. Stripe sends no header that names the event",
        ),
        (
            lambda headers, body: json.loads(body).get("type") or json.loads(body).get("action"),
            "for a GitHub 'push' it returned None. GitHub names the event in the X-GitHub-Event header",
        ),
        (
            lambda headers, body: headers.get("X-GitHub-Event") or headers.get("X-Shopify-Topic") or headers.get(
                "Stripe-Signature"
            ),
            "Stripe-Signature holds only a timestamp and the signature",
        ),
        (lambda headers, body: "push", "for a Shopify 'orders/create' it returned 'push'. Shopify names the topic"),
        (
            lambda headers, body: (headers.get("X-GitHub-Event") or headers.get("X-Shopify-Topic") or "").encode(),
            "for a GitHub request it returned bytes, b'push': return a str",
        ),
        (lambda headers: "push", "It is called as what_happened(headers, body)"),
    ],
    ids=[
        "none", "a-string", "keyerror", "keyerror-hint", "no-body", "body-only", "signature", "constant", "bytes",
        "one-argument",
    ],
)
def test_wrong_answers_get_a_hint(rx, capsys, answer, hint):
    assert ch08.check_what_happened(answer, rx) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ Not yet:") and hint in out, out


def test_a_long_wrong_value_is_cut_short_in_the_hint(rx, capsys):
    assert ch08.check_what_happened(lambda headers, body: headers.get("Stripe-Signature") or "x" * 200, rx) is False
    out = capsys.readouterr().out
    assert "…" in out and "x" * 41 not in out


def test_a_stopped_receiver_is_a_hint_for_what_happened(capsys):
    stopped = wl.Receiver()
    assert ch08.check_what_happened(lambda headers, body: "push", stopped) is False
    assert "✗ Not yet: the check could not deliver to the receiver `rx`: it is stopped" in capsys.readouterr().out
    stopped.close()


# -- exercise 2: make the provider retry --------------------------------------------------------------


def test_the_retry_status_solution_passes(rx, capsys):
    run_solution("08.00-retry-status.py", rx=rx)
    assert ch08.check_retry_status(rx, "checkout") is True
    out = capsys.readouterr().out
    assert "✓ 'checkout' answered 503, so Stripe tried again: 4 attempts over 3 h 30 min" in out


@pytest.mark.parametrize("status", [500, 404, 301, 429])
def test_any_answer_outside_2xx_makes_stripe_retry(rx, capsys, status):
    rx.respond("checkout", status=status, headers={"Location": "/elsewhere"} if status == 301 else None)
    assert ch08.check_retry_status(rx) is True


def test_a_2xx_answer_gets_a_hint(rx, capsys):
    rx.respond("checkout", status=204)
    assert ch08.check_retry_status(rx, "checkout") is False
    out = capsys.readouterr().out
    assert "✗ Not yet: 'checkout' answered 204, and a 2xx means 'got it'" in out


def test_an_untouched_endpoint_gets_a_hint(rx, capsys):
    assert ch08.check_retry_status(rx, "checkout") is False
    assert "rx.respond('checkout', status=...)" in capsys.readouterr().out


def test_a_stopped_receiver_is_a_hint_not_an_exception(capsys):
    stopped = wl.Receiver()
    assert ch08.check_retry_status(stopped) is False
    assert "✗ Not yet: the check could not deliver" in capsys.readouterr().out
    stopped.close()


# -- the headers table: what the text points at is on screen ----------------------------------------


def cells_around(cell_id: str):
    """The code cell with this id, and the markdown cell that follows it, from the committed notebook."""
    cells = nbformat.read(NOTEBOOKS / "08.00-glossary.ipynb", as_version=4).cells
    index = next(i for i, cell in enumerate(cells) if cell.id == cell_id)
    return cells[index], cells[index + 1]


def test_the_headers_table_shows_in_full_every_header_its_text_names(monkeypatch):
    table_cell, text_cell = cells_around("9ae8bec4")
    named = [name for name in re.findall(r"`([A-Za-z][\w-]*)`", text_cell.source) if "-" in name]
    assert {"X-GitHub-Event", "X-Shopify-Webhook-Id", "Stripe-Signature", "webhook-signature"} <= set(named)

    rendered = []  # rendered when displayed, so inside the cell's option_context, as Jupyter renders it
    monkeypatch.setattr(IPython.display, "display", lambda shown: rendered.append((shown._repr_html_(), repr(shown))))
    exec(table_cell.source, {"wl": wl})
    [(html, text)] = rendered
    for name in named:
        assert f"<th>{name}</th>" in html, f"the text names {name}, which the table does not show"
        assert name in text
    assert "..." not in html and "..." not in text, "nothing in the table is cut short"
