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
        "github's and shopify's id headers are **not signed**: their hmac covers the raw body only",
        "### replaying with a fresh id",
        "`x-shopify-triggered-at` is not signed",
        "they are not a replay defence",
        "a replay with a fresh id still verifies",
        "stripe's event `id`, standard webhooks' `webhook-id`",
    ]:
        assert statement in text, statement


def test_notebook_03_demonstrates_the_replay_live():
    (path,) = NOTEBOOKS.glob("03.00-*.ipynb")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    demo = next((i for i, source in enumerate(code) if "dedupe=True" in source and "wl.Receiver(secrets=" in source), None)
    assert demo is not None, "a cell starting a receiver with a secret and a dedupe=True handler"
    assert "wl.GitHub(GITHUB_SECRET)" in code[demo]
    assert '"X-GitHub-Delivery": str(uuid.uuid4())' in code[demo + 1] and '"verified"' in code[demo + 1]
    assert 'event.json["after"]' in code[demo + 2]
    closing = "".join(cells[-1]["source"])  # stopping is the learner's choice, told at the end (Run All leaves them running)
    assert cells[-1]["cell_type"] == "markdown" and "`hub`" in closing and "server.stop()" in closing


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
    assert "`stripe-signature` header holds only `t=` and `v1=`" in text


def test_the_captured_data_set_does_not_say_github_resends_on_its_own():
    notebook = text_of("OPTIONAL-08*.ipynb")
    readme = (ROOT / "datasets" / "captured" / "README.md").read_text(encoding="utf-8").lower()
    assert "as providers do when they lose your answer" not in notebook
    assert "as a provider does when it lost your answer" not in readme
    for text in (notebook, readme):
        assert "not github's behaviour" in text
        assert "github does not resend" in text
