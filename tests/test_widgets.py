"""The widgets' logic, driven from Python as a button click would, and in a real kernel with a probe cell."""

import shutil
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import webhooklab as wl
from webhooklab import widgets


def test_live_table_follows_arrivals(rx):
    table = widgets.LiveTable(rx)
    assert "0 request(s) captured" in table.title.value and "Nothing yet" in table.table.value
    wl.GitHub().send(wl.GitHub().event("ping"), to=rx.url("live"))
    deadline = time.monotonic() + 30  # a bound for a hang, not a speed
    while "1 request(s)" not in table.title.value and time.monotonic() < deadline:
        time.sleep(0.05)  # the table redraws from its own thread; this only gives it the chance
    assert "1 request(s) captured" in table.title.value and "ping" in table.table.value
    table.close()


def test_live_table_shows_a_payload_as_text_never_markup(rx):
    import requests

    requests.post(rx.url("x"), data=b"<img src=x onerror=alert(1)>", timeout=5)
    table = widgets.LiveTable(rx)
    assert "<img" not in table.table.value and "&lt;img" in table.table.value
    table.close()


def test_send_panel_sends_and_reports_the_signature(rx):
    panel = widgets.SendPanel(rx, endpoint="panel")
    panel.fields.value = "amount=5000, currency=eur"
    panel.button.click()
    (event,) = rx.wait_for(1, endpoint="panel")
    assert event.json["data"]["object"]["amount"] == 5000 and "answer <b>200</b>" in panel.result.value
    assert "valid" in panel.result.value

    panel.tamper.value = True
    panel.send()
    assert "no_matching_signature" in panel.result.value
    panel.tamper.value, panel.wrong_secret.value = False, True
    panel.send()
    assert "no_matching_signature" in panel.result.value

    panel.provider.value = "shopify"
    assert panel.event_type.value == "orders/create" and panel.secret.value == panel.secrets["shopify"]
    panel.fields.value = "colour=blue"
    assert panel.send() is None and "has no field or option" in panel.result.value


def test_signature_explainer_explains_the_newest_event(rx):
    stripe = wl.Stripe("whsec_explainer_secret_000")
    stripe.send(stripe.event("charge.succeeded"), to=rx.url("x"))
    explainer = widgets.SignatureExplainer(rx, secret="whsec_explainer_secret_000")
    assert "Stripe signature valid" in explainer.output.value
    explainer.secret.value = "whsec_a_different_secret_0"
    assert "no_matching_signature" in explainer.output.value


def test_retry_timeline_animates_a_delivery(rx):
    rx.respond("down", status=500)
    shopify = wl.Shopify()
    timeline = widgets.RetryTimeline(shopify, shopify.event("orders/create"), to=rx.url("down"), seconds=1)
    assert "not started" in timeline.status.value and timeline.picture.value.count("<circle") == 9
    delivery = timeline.start().wait(10)
    assert delivery.status == "disabled"
    timeline.render()
    assert "9 of 9 attempt(s)" in timeline.status.value and timeline.picture.value.count("fill='#d62728'") == 9


def test_push_poll_race():
    race = widgets.PushPollRace(rate=5, interval=0.5, duration=1.5)
    score = race.run()
    assert score["events"] >= 7 and len(score["push"]) == len(score["poll"]) == score["events"]
    assert "Finished." in race.board.value and "Push (webhook)" in race.board.value


def test_quiz_feedback_and_blueprint():
    quiz = widgets.Quiz()
    assert quiz.answer(0, widgets.QUESTIONS[0][1][0]) is False and "✗ Not quite." in quiz.feedback[0].value
    for i, choice in enumerate(quiz.choices):
        choice.value = widgets.QUESTIONS[i][1][widgets.QUESTIONS[i][2]]
    assert "5 of 5 right" in quiz.score.value
    quiz.blueprint.triggers.value = (("stripe", "payment_intent.succeeded"), ("shopify", "orders/create"))
    code = quiz.blueprint.output.value
    assert "(&quot;stripe&quot;, &quot;payment_intent.succeeded&quot;): (lambda event, headers: event[&quot;id&quot;]" in code
    assert "Subscribe to these webhooks" in code and "STRIPE_WEBHOOK_SECRET" in code


def test_blueprint_code_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the sketch keeps its inbox in ./webhooks.db
    code = widgets.blueprint([("github", "push"), ("stripe", "charge.refunded")])
    namespace = {"__name__": "blueprint"}
    import os

    os.environ.setdefault("GITHUB_WEBHOOK_SECRET", "x")
    os.environ.setdefault("STRIPE_WEBHOOK_SECRET", "whsec_x")
    exec(compile(code, "blueprint", "exec"), namespace)
    assert list(namespace["TRIGGERS"]) == [("github", "push"), ("stripe", "charge.refunded")]
    assert sorted(namespace["VERIFIERS"]) == ["github", "stripe"]
    namespace["db"].close()


def test_in_a_kernel_a_click_on_send_adds_a_row(tmp_path):
    """Run notebook 01 in a real kernel, then a probe cell clicks the send panel's button."""
    notebooks = Path(__file__).parent.parent / "notebooks"
    shutil.copytree(notebooks, tmp_path / "nb")
    notebook = nbformat.read(tmp_path / "nb" / "01.00-what-is-a-webhook.ipynb", as_version=4)
    notebook.cells = [cell for cell in notebook.cells if cell.source.strip() != "rx.stop()"]
    probe = """
before = len(rx.events())
panel.button.click()
rx.wait_for(before + 1)
table = rx.events()
print("PROBE", len(table) - before, table.iloc[-1]["provider"], panel.result.value.count("answer <b>200</b>"))
rx.stop()
"""
    notebook.cells.append(nbformat.v4.new_code_cell(probe))
    client = NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path / "nb")}})
    client.execute()
    printed = "".join(out.get("text", "") for out in notebook.cells[-1].outputs)
    assert "PROBE 1 stripe 1" in printed, printed
    widget_views = [out for cell in notebook.cells for out in cell.get("outputs", [])
                    if "application/vnd.jupyter.widget-view+json" in out.get("data", {})]  # fmt: skip
    assert len(widget_views) >= 2  # the live table and the panel are widgets, not text


@pytest.mark.parametrize("provider", ["slack", "twilio"])
def test_the_send_panel_and_the_explainer_work_for_every_registered_scheme(rx, provider):
    """Twilio signs the URL it posts to: the panel signs for the endpoint, and the explainer checks the URL it was sent to."""
    panel = widgets.SendPanel(rx, endpoint=f"panel-{provider}")
    panel.provider.value = provider
    panel.send()
    (event,) = rx.wait_for(1, endpoint=f"panel-{provider}")
    assert event.provider == provider and "answer <b>200</b>" in panel.result.value
    assert "valid" in panel.result.value and "no_matching_signature" not in panel.result.value
    explainer = widgets.SignatureExplainer(rx)
    explainer.event.value = event.id
    explainer.provider.value, explainer.secret.value = provider, panel.secrets[provider]
    assert explainer.explain().ok


def test_send_panel_reports_the_receivers_own_verdict():
    with wl.Receiver() as unchecked:
        panel = widgets.SendPanel(unchecked, endpoint="panel")
        panel.wrong_secret.value = True
        panel.send()
        assert unchecked.event(-1).verified is None
        assert "Signature not checked by the receiver" in panel.result.value
        assert "Signature check with the endpoint's secret" not in panel.result.value
    stripe = wl.Stripe()
    with wl.Receiver(secrets={"panel": stripe.secret}) as checked:
        panel = widgets.SendPanel(checked, endpoint="panel")
        panel.secrets["stripe"] = panel.secret.value = stripe.secret
        panel.send()
        assert checked.event(-1).verified is True and "endpoint's secret: valid" in panel.result.value
        panel.tamper.value = True
        panel.send()
        assert checked.event(-1).verified is False
        assert "Signature check with the endpoint's secret: no_matching_signature" in panel.result.value
