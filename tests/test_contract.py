"""One receiver contract: a receiver on this machine and a bin on a class server answer the same calls alike.

The class server is webhooklab's own (_classroom.ClassServer) on 127.0.0.2, a loopback address. The widgets and
every exercise check that takes a receiver run with a bin attached to it, as they do for a learner who joined a class.
"""

import importlib
import inspect
import pkgutil
import time

import pandas as pd
import pytest
import requests
from lab_under_test import run_solution

import webhooklab as wl
from webhooklab import exercises, widgets
from webhooklab._providers import PROVIDERS
from webhooklab._receiving import arrivals, bincalls
from webhooklab._receiving.contract import AnyReceiver
from webhooklab._receiving.remote import RemoteReceiver

MEMBERS = sorted(AnyReceiver.__abstractmethods__)
ATTRIBUTES = sorted(AnyReceiver.__annotations__)


@pytest.fixture
def bin_rx(classroom):
    return classroom.attach()


@pytest.fixture(params=["local", "bin"])
def either(request, rx, classroom):
    """A receiver on this machine, then a bin on the class server: each test runs with both."""
    return rx if request.param == "local" else classroom.attach()


def post(url: str, body) -> int:
    return requests.post(url, json=body, timeout=5).status_code


def soon(condition, seconds: float = 5.0) -> bool:
    """Whether `condition()` holds within `seconds`: a widget redraws from its own thread."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def signature(cls, name: str) -> inspect.Signature:
    member = inspect.getattr_static(cls, name)
    return inspect.signature(member.fget if isinstance(member, property) else getattr(cls, name))


# -- the contract ---------------------------------------------------------------------------


def test_both_receivers_have_every_member_of_the_contract_with_the_same_signature():
    assert {"url", "respond", "wait_for", "arrivals", "events", "event", "clear", "listen", "unlisten", "on",
            "errors", "inspector", "page_url", "start", "stop", "close"} <= set(MEMBERS)  # fmt: skip
    assert {"base_url", "running", "runs_handlers"} <= set(ATTRIBUTES)
    for cls in (wl.Receiver, RemoteReceiver):
        assert issubclass(cls, AnyReceiver) and not cls.__abstractmethods__, cls
        for name in MEMBERS:
            assert signature(cls, name) == signature(AnyReceiver, name), f"{cls.__name__}.{name}"


def test_a_running_receiver_and_a_bin_are_both_receivers_with_every_attribute(rx, bin_rx):
    for receiver in (rx, bin_rx):
        assert isinstance(receiver, AnyReceiver)
        assert receiver.running is True and receiver.url("x") == receiver.base_url + "/hooks/x"
        assert all(hasattr(receiver, name) for name in ATTRIBUTES + MEMBERS)
    assert rx.runs_handlers is True and bin_rx.runs_handlers is False
    stopped = wl.Receiver()
    assert isinstance(stopped, AnyReceiver) and not stopped.running  # a stopped one is still a receiver
    stopped.close()


def test_wait_for_and_arrivals_give_the_same_arrivals_from_both(either, monkeypatch):
    monkeypatch.setattr(arrivals, "BATCH", 4)  # a for loop crosses batches,
    monkeypatch.setattr(bincalls, "PAGE", 3)  # a bin's summaries come in several pages,
    monkeypatch.setattr(bincalls, "IDS_PER_REQUEST", 2)  # and its whole events in several requests
    for n in range(10):
        assert post(either.url("seq"), {"n": n}) == 200
    post(either.url("other"), {"n": "other"})
    arrived = either.wait_for(10, endpoint="seq")

    def numbers(events):
        return [event.json["n"] for event in events]

    assert isinstance(arrived, wl.Arrivals) and len(arrived) == 10 and arrived.endpoint == "seq"
    assert numbers(arrived) == list(range(10))
    assert arrived[-1].json == {"n": 9} and arrived[0].json == {"n": 0} and arrived[6].json == {"n": 6}
    assert numbers(arrived[-3:]) == [7, 8, 9] and numbers(arrived[2:6]) == [2, 3, 4, 5]
    assert numbers(arrived[::-4]) == [9, 5, 1] and arrived[20:] == []
    first, *_ = arrived
    assert first.json == {"n": 0} and arrived.last_id == arrived[-1].id
    assert arrived == [either.event(event.id) for event in arrived] and arrived != []  # equal to the list it stands for
    with pytest.raises(IndexError, match="10 event"):
        arrived[10]
    assert repr(arrived).startswith("<Arrivals: 10 event(s) at 'seq', the newest #")

    everything = either.arrivals()
    assert isinstance(everything, wl.Arrivals) and len(everything) == 11 and everything[-1].json == {"n": "other"}
    assert either.arrivals("nobody") == [] and either.wait_for(0, endpoint="nobody") == []
    assert repr(either.arrivals("nobody")) == "<Arrivals: no events at 'nobody'>"

    post(either.url("seq"), {"n": 10})
    more = either.wait_for(11, endpoint="seq")
    assert len(more) == 11 and more[-1].json == {"n": 10} and len(arrived) == 10  # a snapshot stays what it was
    assert list(either.events("seq", since=arrived.last_id).index) == [more.last_id]
    either.clear()
    assert len(either.arrivals()) == 0
    with pytest.raises(IndexError, match="no longer stored"):
        arrived[-1]


def test_a_timeout_and_bad_arguments_are_the_same_errors_from_both(either):
    with pytest.raises(wl.WaitTimeout, match=r"waited 0.1 s for 1 event\(s\) at .*, but 0 arrived"):
        either.wait_for(1, endpoint="late", timeout=0.1)
    with pytest.raises(wl.UsageError, match="n cannot be negative"):
        either.wait_for(-1)
    with pytest.raises(wl.UsageError):
        either.arrivals("a/b")


# -- the widgets on a bin -------------------------------------------------------------------


def test_a_live_table_on_a_bin_shows_its_rows_and_follows_what_arrives(bin_rx, classroom):
    post(bin_rx.url("live"), {"order": 1})
    table = widgets.LiveTable(bin_rx)
    try:
        assert "1 request(s) captured" in table.title.value and "order" in table.table.value
        wl.GitHub().send(wl.GitHub().event("ping"), to=bin_rx.url("live"))
        assert soon(lambda: "2 request(s) captured" in table.title.value), table.title.value
        assert "ping" in table.table.value
        before = classroom.requests
        time.sleep(2)
        asked = classroom.requests - before
        assert 1 <= asked <= 4, asked  # while nothing arrives it asks after 0.25, 0.5, 1, then 2 s: one at a time
    finally:
        table.close()
    assert soon(lambda: not bin_rx._watcher.watching, 0.5)  # the last listener gone, the watching ends now, mid-pause
    quiet = classroom.requests
    time.sleep(0.6)
    assert classroom.requests == quiet


def test_a_live_table_of_one_endpoint_counts_that_endpoint_of_the_bin(bin_rx):
    for endpoint in ("a", "b", "a"):
        post(bin_rx.url(endpoint), {"to": endpoint})
    table = widgets.LiveTable(bin_rx, endpoint="a", rows=1)
    try:
        assert "2 request(s) captured at &#x27;a&#x27;" in table.title.value
        assert table.table.value.count("<tr>") == 2  # the header and the one row asked for
    finally:
        table.close()


def test_the_send_panel_sends_to_a_bin(bin_rx):
    panel = widgets.SendPanel(bin_rx, endpoint="panel")
    panel.fields.value = "amount=5000, currency=eur"
    panel.button.click()
    (event,) = bin_rx.wait_for(1, endpoint="panel")
    assert event.json["data"]["object"]["amount"] == 5000 and "answer <b>200</b>" in panel.result.value
    assert f"endpoint's secret: {event.reason}" in panel.result.value  # what the bin, and its page, say
    panel.tamper.value = True
    panel.send()
    assert "no_matching_signature" in panel.result.value and len(bin_rx.wait_for(2, endpoint="panel")) == 2


def test_the_signature_explainer_lists_a_bins_events_and_explains_one(bin_rx):
    secret = "whsec_explainer_secret_000"
    stripe = wl.Stripe(secret)
    post(bin_rx.url("plain"), {"not": "signed"})
    for amount in (100, 200):
        stripe.send(stripe.event("charge.succeeded", amount=amount), to=bin_rx.url("pay"))
    explainer = widgets.SignatureExplainer(bin_rx, secret=secret)
    assert [value for _, value in explainer.event.options] == [event.id for event in bin_rx.wait_for(3)][::-1]
    assert "amount 200" in explainer.event.options[0][0] and "Stripe signature valid" in explainer.output.value
    explainer.event.value = explainer.event.options[1][1]  # the older payment
    assert "Stripe signature valid" in explainer.output.value
    explainer.secret.value = "whsec_a_different_secret_0"
    assert "no_matching_signature" in explainer.output.value
    post(bin_rx.url("plain"), {"later": True})
    explainer.reload.click()
    assert len(explainer.event.options) == 4


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_the_panel_and_the_explainer_work_on_a_bin_for_every_registered_scheme(bin_rx, provider):
    """Twilio signs the URL it posts to: on a bin that URL holds the class server's path to the bin."""
    panel = widgets.SendPanel(bin_rx, endpoint=f"panel-{provider}")
    panel.provider.value = provider
    panel.send()
    (event,) = bin_rx.wait_for(1, endpoint=f"panel-{provider}")
    assert event.provider == provider and "answer <b>200</b>" in panel.result.value
    explainer = widgets.SignatureExplainer(bin_rx)
    explainer.event.value = event.id
    explainer.provider.value, explainer.secret.value = provider, panel.secrets[provider]
    assert explainer.explain().ok


# -- the exercise checks on a bin -------------------------------------------------------------


def receiver_checks() -> list[str]:
    """Every exercise check that takes the learner's receiver, as "chNN.check_name"."""
    found = []
    for module in pkgutil.iter_modules(exercises.__path__):
        loaded = importlib.import_module(f"{exercises.__name__}.{module.name}")
        for name, check in vars(loaded).items():
            if name.startswith("check_") and "rx" in inspect.signature(check).parameters:
                found.append(f"{module.name}.{name}")
    return sorted(found)


def order_sent(rx):
    post(rx.url("orders"), {"order": 1001})
    return (rx,), True


def event_name(rx):
    wl.GitHub().send(wl.GitHub().event("ping"), to=rx.url("github"))
    post(rx.url("later"), {"not": "github"})  # the newest request is not GitHub's
    return (rx, run_solution("01.00-read-a-header.py", rx=rx)["event_name"]), True


def what_happened(rx):
    return (run_solution("08.00-what-happened.py")["what_happened"], rx), True


def retry_status(rx):
    rx.respond("checkout", status=503)
    return (rx,), True


def refund(rx):
    orders = pd.DataFrame({"status": ["paid"], "amount": [2500]}, index=pd.Index(["1001"], name="order"))
    return (rx, orders, wl.Stripe()), False


# For each check: what a learner would have done, the arguments, and what the check says on a bin.
CASES = {
    "ch01.check_order_sent": order_sent,
    "ch01.check_event_name": event_name,
    "ch01.check_handler_acts": lambda rx: ((rx, []), False),
    "ch05.check_refund_handler": refund,
    "ch08.check_what_happened": what_happened,
    "ch08.check_retry_status": retry_status,
}
NEED_HANDLERS = {"ch01.check_handler_acts", "ch05.check_refund_handler"}


def test_every_check_that_takes_a_receiver_is_tried_on_a_bin():
    assert receiver_checks() == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_check_that_takes_a_receiver_accepts_a_bin(name, bin_rx, classroom, capsys):
    module, _, function = name.partition(".")
    check = getattr(importlib.import_module(f"{exercises.__name__}.{module}"), function)
    arguments, expected = CASES[name](bin_rx)
    capsys.readouterr()
    assert check(*arguments) is expected
    printed = capsys.readouterr().out
    assert printed.startswith("✓ " if expected else "✗ "), printed
    assert classroom.learner.token not in printed
    if name in NEED_HANDLERS:  # it says why, and what to do
        assert "handlers (@rx.on) run only in a receiver in your own kernel" in printed, printed
        assert "rx = wl.Receiver().start()" in printed
    else:
        assert "Traceback" not in printed and "could not run" not in printed


def test_the_send_panel_says_what_the_bin_stored_as_its_page_does(bin_rx):
    panel = widgets.SendPanel(bin_rx, endpoint="checked")
    panel.send()
    (event,) = bin_rx.wait_for(1, endpoint="checked")
    assert event.verified is False and event.reason == "no_matching_signature"  # the bin holds the learner's secret
    result = panel.result.value
    assert "Signature check with the endpoint's secret: no_matching_signature" in result
    assert "not the one this endpoint holds" in result and "valid" not in result
