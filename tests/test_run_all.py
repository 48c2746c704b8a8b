"""JupyterLab's Run All, whatever the kernel's state: exercise checks never raise, widgets show their errors."""

import importlib
import inspect
import logging
import pkgutil
import threading
import time

import pandas as pd
import pytest

import webhooklab as wl
from webhooklab import exercises, widgets
from webhooklab.exercises import guarded


def _checks():
    found = []
    for info in pkgutil.iter_modules(exercises.__path__):
        module = importlib.import_module(f"{exercises.__name__}.{info.name}")
        found += [pytest.param(function, id=f"{info.name}.{name}")
                  for name, function in vars(module).items() if name.startswith("check_") and callable(function)]  # fmt: skip
    return found


CHECKS = _checks()


def _required(check) -> list[str]:
    return [name for name, p in inspect.signature(check).parameters.items() if p.default is inspect.Parameter.empty]


def _takes_receiver(check) -> bool:
    return "rx" in inspect.signature(check).parameters


def _plausible(name: str, rx):
    """A value a notebook would pass for the parameter `name`, next to a stopped receiver."""
    orders = pd.DataFrame({"amount": [2000], "status": ["paid"]}, index=pd.Index(["1001"], name="order"))
    return {"rx": rx, "answer": "push", "paid_orders": [], "orders": orders, "stripe": wl.Stripe(),
            "what_happened": lambda headers, body: "push"}[name]  # fmt: skip


@pytest.fixture
def stopped():
    receiver = wl.Receiver().start()
    receiver.stop()
    yield receiver
    receiver.close()


def _returns_false_and_says_so(capsys, check, *args) -> str:
    assert check(*args) is False
    out = capsys.readouterr().out
    assert out.strip(), "a check that fails must say why"
    return out


def test_every_chapter_has_its_checks_found():
    assert len(CHECKS) >= 20
    assert {c.id.split(".")[0] for c in CHECKS} >= {"ch01", "ch02", "ch03", "ch04", "ch05", "ch06", "ch07", "ch08", "ch09"}


@pytest.mark.parametrize("check", CHECKS)
def test_a_check_given_none_returns_false(check, capsys):
    _returns_false_and_says_so(capsys, check, *[None for _ in _required(check)])


@pytest.mark.parametrize("check", CHECKS)
def test_a_check_given_wrong_types_returns_false(check, capsys):
    _returns_false_and_says_so(capsys, check, *[42 for _ in _required(check)])


@pytest.mark.parametrize("check", CHECKS)
def test_a_check_given_a_function_that_raises_returns_false(check, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("the learner's bug")

    _returns_false_and_says_so(capsys, check, *[broken for _ in _required(check)])


@pytest.mark.parametrize("check", CHECKS)
def test_a_check_given_a_function_that_hangs_briefly_returns_false(check, capsys):
    def slow(*args, **kwargs):
        time.sleep(0.05)

    _returns_false_and_says_so(capsys, check, *[slow for _ in _required(check)])


@pytest.mark.parametrize("check", [c for c in CHECKS if _takes_receiver(c.values[0])])
def test_a_check_given_a_stopped_receiver_says_to_start_it(check, stopped, capsys):
    args = [_plausible(name, stopped) for name in _required(check)]
    out = _returns_false_and_says_so(capsys, check, *args)
    assert "rx.start()" in out and "Traceback" not in out


def test_the_receiver_checks_are_the_ones_expected():
    names = {c.id for c in CHECKS if _takes_receiver(c.values[0])}
    assert {"ch01.check_handler_acts", "ch05.check_refund_handler", "ch08.check_retry_status"} <= names


def test_a_stopped_receiver_is_named_for_a_check_that_sends(stopped, capsys):
    from webhooklab.exercises import ch01, ch05

    assert ch01.check_handler_acts(stopped, []) is False
    assert ch05.check_refund_handler(stopped, _plausible("orders", stopped), wl.Stripe()) is False
    out = capsys.readouterr().out
    assert out.count("it is stopped. Run rx.start() and this cell again") == 2


def test_a_check_called_with_too_few_arguments_returns_false(capsys):
    from webhooklab.exercises import ch01

    out = _returns_false_and_says_so(capsys, ch01.check_handler_acts)
    assert "check_handler_acts(rx, paid_orders)" in out


def test_a_receiver_that_stops_during_a_check_is_a_hint(rx, capsys):
    @guarded(receiver="rx", sends=True)
    def check_something(rx):
        rx.stop()
        try:
            return rx.url("x") is not None
        finally:
            rx.start()

    out = _returns_false_and_says_so(capsys, check_something, rx)
    assert "stopped while the check ran" in out and "rx.start()" in out


def test_a_guarded_check_keeps_its_name_and_signature():
    from webhooklab.exercises import ch05

    assert ch05.check_refund_handler.__name__ == "check_refund_handler"
    assert list(inspect.signature(ch05.check_refund_handler).parameters) == ["rx", "orders", "stripe"]


# -- widgets ------------------------------------------------------------------------------------


@pytest.fixture
def quiet_callbacks(caplog):
    """Fails the test if an ipywidgets callback raised: ipywidgets logs it instead of raising."""
    caplog.set_level(logging.WARNING)
    yield
    assert not [r for r in caplog.records if "Exception in callback" in r.getMessage()]


def test_send_button_with_a_stopped_receiver_shows_the_error(stopped, quiet_callbacks):
    panel = widgets.SendPanel(stopped, endpoint="panel")
    panel.button.click()
    assert "the receiver is stopped" in panel.result.value and "rx.start()" in panel.result.value
    assert "firebrick" in panel.result.value
    with pytest.raises(wl.ReceiverError):
        panel.send()  # called directly, it still raises


def test_send_button_with_a_running_receiver_sends(rx, quiet_callbacks):
    panel = widgets.SendPanel(rx, endpoint="panel")
    panel.button.click()
    (event,) = rx.wait_for(1, endpoint="panel")
    assert event.provider == "stripe" and "answer <b>200</b>" in panel.result.value
    assert "failed" not in panel.result.value


def test_a_callback_error_is_escaped(quiet_callbacks):
    import ipywidgets

    area = ipywidgets.HTML()

    def boom(_):
        raise ValueError("<img src=x onerror=alert(1)>")

    button = ipywidgets.Button()
    button.on_click(widgets._capture.reported(area, boom, doing="Sending"))
    button.click()
    assert "<img" not in area.value and "&lt;img src=x" in area.value and "ValueError" in area.value


def test_explainer_shows_a_vanished_event_in_its_output(rx, quiet_callbacks):
    wl.Stripe().send(wl.Stripe().event("charge.succeeded"), to=rx.url("x"))
    explainer = widgets.SignatureExplainer(rx)
    rx.clear()
    explainer.provider.value = "github"
    assert "Explaining the event failed" in explainer.output.value and "EventNotFound" in explainer.output.value
    explainer.reload.click()  # the events are gone: reloading says so, without an error
    assert "No captured event" in explainer.output.value


def test_live_table_shows_a_failed_redraw_in_its_title(rx):
    table = widgets.LiveTable(rx)

    def broken():
        raise RuntimeError("the store went away")

    table.refresh = broken
    wl.GitHub().send(wl.GitHub().event("ping"), to=rx.url("live"))
    deadline = time.monotonic() + 30  # a bound for a hang, not a speed
    while "failed" not in table.title.value and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "Updating the table failed: RuntimeError: the store went away" in table.title.value
    table.close()


def test_retry_timeline_shows_a_failed_start_and_stays_usable(quiet_callbacks):
    stripe = wl.Stripe()
    timeline = widgets.RetryTimeline(stripe, stripe.event("charge.succeeded"), to="http://127.0.0.1:9/hooks/x")
    timeline.provider = None  # the delivery cannot start
    timeline.button.click()
    assert "Starting the delivery failed" in timeline.status.value and not timeline.button.disabled


def test_push_poll_race_shows_a_failed_race_and_stays_usable(monkeypatch, quiet_callbacks):
    def broken(*args, **kwargs):
        raise RuntimeError("no events today")

    monkeypatch.setattr(widgets._lessons, "produce", broken)
    race = widgets.PushPollRace(duration=0.1)
    before = set(threading.enumerate())
    race.button.click()
    for thread in set(threading.enumerate()) - before:
        if thread.name == "webhooklab-race":
            thread.join(10)
    assert "The race failed: RuntimeError: no events today" in race.board.value and not race.button.disabled


def test_quiz_shows_a_failed_answer_beside_the_question(quiet_callbacks):
    quiz = widgets.Quiz()

    def broken(index, chosen):
        raise RuntimeError("cannot mark")

    quiz.answer = broken
    quiz.choices[0].value = quiz.choices[0].options[0]
    assert "Marking the answer failed: RuntimeError: cannot mark" in quiz.feedback[0].value
