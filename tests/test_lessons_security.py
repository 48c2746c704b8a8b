"""What the lessons say about replays, event names and HTTPS matches what really happens and what providers publish.

GitHub's and Shopify's HMAC covers the raw body only, so their delivery-id headers are not signed:
a captured delivery re-sent with a fresh id still verifies, and a handler deduplicating on that id runs again.
"""

import json
import uuid
from pathlib import Path

import pytest

import webhooklab as wl

ROOT = Path(__file__).parent.parent
NOTEBOOKS = ROOT / "notebooks"


def replayed_with_fresh_id(http, provider, event_type, id_header, key=None):
    """Send one signed delivery, then the same body and signature with a new id header.

    Returns the receiver's events table and how many times a `dedupe=True` handler ran, and, when
    `key` is given, how many times a handler deduplicating on `key(event.json)` ran.
    """
    secret = provider.new_secret()
    signer = type(provider)(secret)
    receiver = wl.Receiver(secrets={"hook": secret})
    header_runs, keyed_runs, seen = [], [], set()

    @receiver.on(event_type, dedupe=True)
    def by_header(event):
        header_runs.append(event.delivery_id)

    if key is not None:

        @receiver.on(event_type)
        def by_signed_key(event):
            if key(event.json) not in seen:
                seen.add(key(event.json))
                keyed_runs.append(event.id)

    body, headers = signer.sign(signer.event(event_type))
    replay = {**headers, id_header: str(uuid.uuid4())}
    assert replay[id_header] != headers[id_header]
    try:
        with receiver.start():
            for sent in (headers, replay):
                assert http.post(receiver.url("hook"), data=body, headers=sent, timeout=5).status_code == 200
            receiver.wait_for(2, endpoint="hook")
            table = receiver.events("hook")
    finally:
        receiver.close()
    return table, len(header_runs), len(keyed_runs)


@pytest.mark.parametrize(
    "provider, event_type, id_header",
    [(wl.GitHub(), "push", "X-GitHub-Delivery"), (wl.Shopify(), "orders/create", "X-Shopify-Webhook-Id")],
    ids=["github", "shopify"],
)
def test_a_delivery_resent_with_a_fresh_id_header_still_verifies_and_runs_a_dedupe_handler_again(
    http, provider, event_type, id_header
):
    table, header_runs, _ = replayed_with_fresh_id(http, provider, event_type, id_header)
    assert table["verified"].tolist() == [True, True], "the id header is outside the signature"
    assert table["delivery_id"].nunique() == 2
    assert table["duplicate_of"].isna().all()
    assert header_runs == 2, "dedupe=True keys on the unsigned id header, so the replay runs it again"


def push_key(push):
    """The repository, branch and commit of a push: all inside the signed body."""
    return push["repository"]["id"], push["ref"], push["after"]


def test_deduplicating_on_a_key_inside_the_signed_body_stops_the_replay(http):
    table, header_runs, keyed_runs = replayed_with_fresh_id(http, wl.GitHub(), "push", "X-GitHub-Delivery", push_key)
    assert table["verified"].all()
    assert (header_runs, keyed_runs) == (2, 1)


def test_a_changed_body_fails_where_a_changed_id_header_does_not(http):
    secret = wl.GitHub.new_secret()
    signer = wl.GitHub(secret)
    body, headers = signer.sign(signer.event("push"))
    receiver = wl.Receiver(secrets={"hook": secret})
    try:
        with receiver.start():
            http.post(receiver.url("hook"), data=body.replace(b"{", b"{ ", 1), headers=headers, timeout=5)
            http.post(receiver.url("hook"), data=body, headers={**headers, "X-GitHub-Delivery": str(uuid.uuid4())},
                      timeout=5)  # fmt: skip
            receiver.wait_for(2, endpoint="hook")
            assert receiver.events("hook")["verified"].tolist() == [False, True]
    finally:
        receiver.close()


# -- what the notebooks say --------------------------------------------------------------------------------------


def text_of(pattern):
    """Every cell's source of the notebook matching `pattern`, read from its JSON, lower-cased."""
    (path,) = NOTEBOOKS.glob(pattern)
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(cell["source"]) for cell in cells).lower()


def test_notebook_03_does_not_call_the_delivery_id_a_replay_defence():
    text = text_of("03.00-*.ipynb")
    for claim in [
        "that id is the defence",
        "the only replay defence",
        "which is the only replay defence for github and shopify",
        "the replay is ignored",
        "tells you how old the data is",
    ]:
        assert claim not in text, claim
    for statement in [
        "github's and shopify's id headers are **not signed** (their hmac covers the raw body only)",
        "### replaying with a fresh id",
        "`x-shopify-triggered-at` is not signed",
        "unsigned, it is no defence against a replay with a fresh id",
        "a replay with a fresh id still verifies",
        "stripe's event `id`, standard webhooks' `webhook-id`",
    ]:
        assert statement in text, statement


def test_notebook_03_demonstrates_the_replay_live():
    (path,) = NOTEBOOKS.glob("03.00-*.ipynb")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    demo = next((i for i, source in enumerate(code) if "dedupe=True" in source and "wl.workshop_receiver(secrets=" in source), None)
    assert demo is not None, "a cell starting a receiver with a secret and a dedupe=True handler"
    assert "wl.GitHub(GITHUB_SECRET)" in code[demo]
    assert '"X-GitHub-Delivery": str(uuid.uuid4())' in code[demo + 1] and '"verified"' in code[demo + 1]
    assert 'event.json["after"]' in code[demo + 2]
    closing = "".join(cells[-2]["source"])  # stopping is the learner's choice, told at the end (Run All leaves them
    assert cells[-2]["cell_type"] == "markdown" and "`hub`" in closing and "server.stop()" in closing  # running)


def test_notebook_03_says_what_each_provider_requires_of_https():
    text = text_of("03.00-*.ipynb")
    assert "providers send webhooks over https" not in text
    assert "stripe requires an `https://` url for live-mode endpoints" in text
    assert "shopify requires `https://`" in text
    assert "github accepts `http://` urls" in text and "`insecure_ssl`" in text
    assert "it recommends https with verification on" in text


def test_notebook_01_does_not_say_stripe_signature_names_the_event():
    text = text_of("01.00-*.ipynb")
    assert "`x-shopify-topic`, `stripe-signature`)" not in text
    assert "stripe and shopify have their own versions of the same ideas" not in text
    assert "stripe names it in the json body's `type`" in text
    assert "`stripe-signature` header holds a timestamp `t=` and the signature `v1=`; test-mode events add a `v0=`" in text


def test_the_captured_data_set_does_not_say_github_resends_on_its_own():
    notebook = text_of("OPTIONAL-09*.ipynb")
    readme = (ROOT / "datasets" / "captured" / "README.md").read_text(encoding="utf-8").lower()
    assert "as providers do when they lose your answer" not in notebook
    assert "as a provider does when it lost your answer" not in readme
    for text in (notebook, readme):
        assert "not github's behaviour" in text
        assert "github does not resend" in text


# -- the replay demo of notebook 03, run as the notebook runs it ---------------------------------------------------


def notebook_03_cells():
    (path,) = NOTEBOOKS.glob("03.00-*.ipynb")
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def test_notebook_03s_replay_demo_verifies_the_fresh_id_and_its_body_key_runs_the_deploy_once():
    """The demo's own cells, executed: the replay verifies, dedupe=True runs twice, the body key once."""
    cells = notebook_03_cells()
    code = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    start = next(i for i, source in enumerate(code) if "hub = wl.workshop_receiver(" in source)
    demo = code[start : start + 4]  # the receiver, the replay, the body-key handler, Standard Webhooks' signed id
    assert "webhook-id" in demo[3]
    namespace = {"wl": wl, "requests": __import__("requests"), "standard": wl.StandardWebhooks()}
    try:
        for source in demo:
            exec(compile(source, "03.00-security.ipynb", "exec"), namespace)
        hub = namespace["hub"]
        hub.wait_for(4, endpoint=None)
        table = hub.events("deploy")
        assert table["verified"].tolist() == [True, True], "a fresh X-GitHub-Delivery still verifies"
        assert table["duplicate_of"].isna().all()
        assert len(namespace["runs"]) == 2, "dedupe=True on the unsigned header runs the deploy twice"
        assert len(namespace["deploys"]) == 1, "the key from the signed body runs it once"
        assert hub.events("safe")["verified"].tolist() == [True, True]
        standard = namespace["standard"]
        assert standard.explain(namespace["standard_body"], namespace["standard_headers"]).ok
        assert standard.explain(namespace["standard_body"], namespace["fresh_id"]).reason == "no_matching_signature"
    finally:
        if "hub" in namespace:
            namespace["hub"].close()


def test_notebook_03_asks_for_a_prediction_before_the_replay_and_answers_it():
    cells = notebook_03_cells()
    asks = [i for i, cell in enumerate(cells)
            if cell["cell_type"] == "markdown" and "".join(cell["source"]).startswith("**Predict, then run.**")]  # fmt: skip
    assert asks, "a markdown cell starting with **Predict, then run.**"
    (i,) = asks
    assert "how many times" in "".join(cells[i]["source"]) and "?" in "".join(cells[i]["source"])
    assert '"X-GitHub-Delivery": str(uuid.uuid4())' in "".join(cells[i + 1]["source"])
    assert cells[i + 2]["cell_type"] == "markdown" and "".join(cells[i + 2]["source"]).startswith("Twice.")


def test_notebook_03_says_what_a_signed_timestamp_adds_and_which_providers_have_none():
    text = text_of("03.00-*.ipynb")
    assert "standard webhooks signs its id too" in text
    assert "the replay window is a few minutes" in text
    assert "github and shopify sign no timestamp, so their window never closes" in text


# -- the signature explainer ---------------------------------------------------------------------------------------


def test_the_explainer_tells_similar_events_apart(rx):
    from webhooklab import widgets

    secret = wl.Stripe.new_secret()
    receiver = wl.Receiver(secrets={"pay": secret})
    stripe = wl.Stripe(secret)
    try:
        with receiver.start():
            for amount in (2000, 2000, 2000, 1500, 2000):  # five payments, four of the same amount
                stripe.send(stripe.event("payment_intent.succeeded", amount=amount), to=receiver.url("pay"))
            body, headers = stripe.sign(stripe.event("payment_intent.succeeded", amount=2000))
            for _ in range(2):  # one payment delivered twice
                __import__("requests").post(receiver.url("pay"), data=body, headers=headers, timeout=5)
            wl.Stripe(wl.Stripe.new_secret()).send(stripe.event("payment_intent.succeeded", amount=2000),
                                                   to=receiver.url("pay"))  # fmt: skip
            receiver.wait_for(8, endpoint="pay")
            explainer = widgets.SignatureExplainer(receiver, secret=secret)
            labels = [label for label, _ in explainer.event.options]
            explainer.close()
    finally:
        receiver.close()
    assert len(labels) == 8
    without_number = [label.split(" ", 1)[1] for label in labels]
    assert len(set(without_number)) == len(labels), labels
    assert all("payment_intent.succeeded" in label and "/pay" in label for label in labels)
    assert sum("amount 1500" in label for label in labels) == 1
    assert sum("duplicate of #" in label for label in labels) == 1
    assert sum("✗ no_matching_signature" in label for label in labels) == 1
    assert sum("✓ verified" in label for label in labels) == 7


def test_the_explainer_wraps_long_values_instead_of_clipping_them(rx):
    from webhooklab import widgets

    stripe = wl.Stripe(wl.Stripe.new_secret())
    stripe.send(stripe.event("payment_intent.succeeded"), to=rx.url("pay"))
    explainer = widgets.SignatureExplainer(rx, secret=stripe.secret)
    try:
        page = explainer.output.value
        assert "Stripe signature" in page
        for style in ("white-space: pre-wrap", "overflow-wrap: anywhere"):
            assert style in page, style  # the widget's own frame
        table = stripe.explain(*stripe.sign(stripe.event("charge.succeeded")))._repr_html_()
        assert "<code style='white-space:pre-wrap;overflow-wrap:anywhere" in table  # and each value, shown anywhere
    finally:
        explainer.close()
