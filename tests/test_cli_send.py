"""`webhooklab send` with any payload: fields changed and added by path, a body of one's own, extra headers, and
payloads saved by name; each delivered over loopback to a receiver that checks the signature."""

import json
import subprocess
import sys
import time

import pytest

import webhooklab as wl
from webhooklab._cli import main

STRIPE = "whsec_cli_send_secret_000"
STANDARD = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def rx():
    with wl.Receiver(secrets={"pay": STRIPE, "std": STANDARD, "gh": "gh-secret", "slack": "slack-secret"}) as receiver:
        yield receiver


def send(*arguments) -> int:
    return main(["send", *arguments])


def test_override_by_path_and_add_a_field(rx, capsys):
    code = send("stripe", "payment_intent.succeeded", "--secret", STRIPE, "--to", rx.url("pay"),
                "--override", "data.object.amount=5000", "--set", "currency=eur",
                "--add", "data.object.metadata.order_id=A-1", "--add", "data.object.payment_method_types.1=link")  # fmt: skip
    assert code == 0, capsys.readouterr()
    (event,) = rx.wait_for(1, endpoint="pay")
    paid = event.json["data"]["object"]
    assert event.verified is True and paid["amount"] == 5000 and paid["currency"] == "eur"
    assert paid["metadata"] == {"order_id": "A-1"} and paid["payment_method_types"][-1] == "link"


def test_a_list_index_and_a_json_value(rx, capsys):
    code = send("github", "push", "--secret", "gh-secret", "--to", rx.url("gh"),
                "--override", "commits.0.message=fix: retries", "--override", "repository.private=true")  # fmt: skip
    assert code == 0, capsys.readouterr()
    (event,) = rx.wait_for(1, endpoint="gh")
    assert event.verified is True and event.json["commits"][0]["message"] == "fix: retries"
    assert event.json["repository"]["private"] is True


@pytest.mark.parametrize("option, said", [
    (["--override", "data.objekt.amount=1"], "data has no 'objekt' (it has object). To add a field the payload "
                                              "does not have, use --add data.objekt.amount=1"),
    (["--override", "data.object.tip=1"], "use --add data.object.tip=1"),
    (["--add", "data.object.amount=1"], "data.object.amount exists already (it is "),
    (["--override", "data.object.payment_method_types.5=x"], "is a list of 1, so its positions are 0 to 0"),
    (["--override", "data..amount=1"], "has an empty part"),
    (["--override", "data.object.amount.cents=1"], "data.object.amount is "),
])  # fmt: skip
def test_a_path_that_does_not_fit_says_which_part(rx, capsys, option, said):
    assert send("stripe", "payment_intent.succeeded", "--to", rx.url("pay"), *option) == 2
    assert said in capsys.readouterr().err
    assert rx.store.count() == 0


def test_a_body_of_ones_own_is_sent_exactly_and_signed(rx, tmp_path, capsys):
    body = b'{"id": "evt_custom", "type": "my_app.anything",  "data": {"note": "spacing kept"}}'
    (tmp_path / "event.json").write_bytes(body)
    code = send("stripe", "my_app.anything", "--secret", STRIPE, "--to", rx.url("pay"), "--body", str(tmp_path / "event.json"))
    assert code == 0, capsys.readouterr()
    (event,) = rx.wait_for(1, endpoint="pay")
    assert event.body == body and event.verified is True and event.event_type == "my_app.anything"


def test_a_body_from_standard_input(rx):
    body = b'{"zen": "Keep it logically awesome."}'
    sent = subprocess.run([sys.executable, "-m", "webhooklab", "send", "github", "ping", "--secret", "gh-secret",
                           "--to", rx.url("gh"), "--body", "-"], input=body, capture_output=True, timeout=60)  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    (event,) = rx.wait_for(1, endpoint="gh")
    assert event.body == body and event.verified is True and event.headers["X-GitHub-Event"] == "ping"


def test_a_body_cannot_be_changed_by_override(rx, tmp_path, capsys):
    (tmp_path / "b.json").write_text("{}")
    assert send("stripe", "x.y", "--to", rx.url("pay"), "--body", str(tmp_path / "b.json"), "--override", "a=1") == 2
    assert "--body is sent exactly as it is" in capsys.readouterr().err


def test_headers_are_added_and_replaced_and_the_signed_ones_are_signed(rx, capsys):
    stamp = str(int(time.time()))
    code = send("standard", "invoice.paid", "--secret", STANDARD, "--to", rx.url("std"),
                "--header", "webhook-id: msg_chosen_by_me", "--header", f"webhook-timestamp: {stamp}",
                "--header", "User-Agent: my-sender/2.0", "--header", "X-Tenant: acme")  # fmt: skip
    assert code == 0, capsys.readouterr()
    (event,) = rx.wait_for(1, endpoint="std")
    assert event.verified is True, event.reason
    assert (event.headers["webhook-id"], event.headers["webhook-timestamp"]) == ("msg_chosen_by_me", stamp)
    assert event.headers["User-Agent"] == "my-sender/2.0" and event.headers["X-Tenant"] == "acme"
    assert json.loads(event.body)["type"] == "invoice.paid"


def test_a_signed_header_survives_the_retries(rx, capsys):
    rx.respond("slack", fail_first=1)
    code = send("slack", "app_mention", "--secret", "slack-secret", "--to", rx.url("slack"),
                "--header", "X-Test-Run: my-test", "--retry", "--virtual-time")  # fmt: skip
    assert code == 0, capsys.readouterr()
    events = rx.wait_for(2, endpoint="slack")
    assert [e.verified for e in events] == [True, True]
    assert all(e.headers["X-Test-Run"] == "my-test" for e in events)


def test_a_header_http_cannot_carry_is_refused(rx, capsys):
    assert send("github", "ping", "--to", rx.url("gh"), "--header", "Bad Name: x") == 2
    assert "is not a header name HTTP can carry" in capsys.readouterr().err


def test_a_saved_payload_is_sent_again_by_name_re_signed(rx, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("WEBHOOKLAB_PAYLOADS", str(tmp_path / "saved"))
    code = send("stripe", "charge.refunded", "--secret", STRIPE, "--to", rx.url("pay"), "--override", "amount=100",
                "--header", "X-Case: refund", "--save", "small-refund")  # fmt: skip
    assert code == 0 and "saved as small-refund" in capsys.readouterr().out
    saved = json.loads((tmp_path / "saved" / "small-refund.json").read_text())
    assert saved == {"provider": "stripe", "event_type": "charge.refunded", "override": ["amount=100"], "add": [],
                     "headers": ["X-Case: refund"]}  # fmt: skip
    assert STRIPE not in (tmp_path / "saved" / "small-refund.json").read_text()

    assert send("--name", "small-refund", "--secret", STRIPE, "--to", rx.url("pay")) == 0
    first, again = rx.wait_for(2, endpoint="pay")
    assert again.verified is True and again.headers["X-Case"] == "refund"
    assert again.json["data"]["object"]["amount_refunded"] == 100 and again.json["id"] != first.json["id"]
    assert again.headers["Stripe-Signature"] != first.headers["Stripe-Signature"]

    assert main(["payloads"]) == 0
    listed = capsys.readouterr().out
    assert "small-refund" in listed and "stripe charge.refunded" in listed and "--override amount=100" in listed


def test_a_saved_body_keeps_its_bytes(rx, tmp_path, capsys):
    """Bytes that are not UTF-8 are saved as base64, and sent again as they were (GitHub itself sends JSON only)."""
    folder, body = tmp_path / "p", b"\xff\x00 not utf-8"
    (tmp_path / "raw.bin").write_bytes(body)
    assert send("github", "ping", "--secret", "gh-secret", "--to", rx.url("gh"), "--body", str(tmp_path / "raw.bin"),
                "--save", "raw", "--payloads", str(folder)) == 0  # fmt: skip
    assert send("--name", "raw", "--payloads", str(folder), "--secret", "gh-secret", "--to", rx.url("gh")) == 0
    assert [e.body for e in rx.wait_for(2, endpoint="gh")] == [body, body]
    assert "body_base64" in json.loads((folder / "raw.json").read_text())


@pytest.mark.parametrize("arguments, said", [
    (["--name", "nobody"], "no payload of that name in"),
    (["--name", "../etc/passwd"], "a payload's name is 1 to 64 letters, digits, - and _"),
    (["stripe", "charge.succeeded", "--save", "has space"], "no dots, slashes or spaces"),
])  # fmt: skip
def test_payload_names_are_checked(rx, tmp_path, capsys, arguments, said):
    assert send(*arguments, "--payloads", str(tmp_path), "--to", rx.url("pay")) == 2
    assert said in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_no_saved_payloads_says_how_to_save_one(tmp_path, capsys):
    assert main(["payloads", "--payloads", str(tmp_path / "none")]) == 0
    assert "--save big-payment" in capsys.readouterr().out
