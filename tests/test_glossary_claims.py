"""Every claim of the glossary page "What is Webhook?" is shown by a live cell on the learning path.

The page (its definition, its explanation, three real-world examples, the tools, why it matters, three
questions and answers, a quiz) is where the course grew from. Each row of CLAIMS names a claim, the notebook
that demonstrates it, and a fragment of the code cell that does. A row is a promise: the cell is there, and
for the cells of 08 (the glossary's own one-minute answers) the tests below run the cell's code against a
real receiver and check that it does what the text says.
"""

import io
import json
import re
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import requests

import webhooklab as wl

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"

# (what the glossary page says, the notebook that shows it, a fragment of the code cell that shows it live)
CLAIMS = [
    # Definition
    ("real time: the data arrives within milliseconds of the event", "02.00-*", "pushing.created_at[e.delivery_id]"),
    ("automatically, when a specific event occurs: nobody asks", "02.00-*", 'pushing.record("charge.succeeded")'),
    ("instead of repeatedly checking for updates, webhooks push", "02.00-*", "wl.push_vs_poll(duration=4"),
    ("the fastest way to trigger automations: push against poll, latency", "02.00-*", '"median latency (s)"'),
    # Webhook explained
    ("a 'reverse API': you don't request the data, it comes to you", "08.00-*", "# push: it came to you, unasked"),
    ("a 'reverse API', in the first lessons", "02.00-*", "# The reverse API: the provider calls you"),
    ("register a webhook URL once with a service", "02.00-*", 'wl.ProviderAPI(stripe, push_to=rx.url("push"))'),
    ("the service sends the event's data to your URL; your system acts at once", "01.00-*", "def announce(event):"),
    ("without webhooks automations must constantly poll: slower, less efficient", "02.00-*",
     "wl.Poller(api, interval="),
    ("automation platforms (Zapier, Make, n8n) support webhooks as triggers", "08.00-*",
     '@rx.on("*", endpoint="catch-hook")'),
    ("automation platforms: trigger and action, written with @rx.on", "05.00-*",
     '@rx.on("payment_intent.succeeded", endpoint="stripe"'),
    # Real-world examples
    ("Stripe notifies your system when a payment succeeds or fails", "05.00-*",
     'stripe.event("payment_intent.payment_failed"'),
    ("Stripe notifies your system when a payment is refunded", "05.00-*",
     "ch05.check_refund_handler(rx, orders, stripe)"),
    ("GitHub: a push to the main branch triggers a deployment", "05.00-*", "deployments.clear()"),
    ("Shopify: an order placed updates the inventory", "05.00-*", 'shopify.deliver(order, to=rx.url("shopify")'),
    # Why it matters
    ("eliminate delays", "02.00-*", "wl.push_vs_poll("),
    ("reduce server load from polling", "02.00-*", 'cost.loc["push (one request per event)"]'),
    # FAQ: webhook or API?
    ("an API requires you to request data (pull); a webhook sends it (push)", "08.00-*",
     'pulled = requests.get(api.url("/v1/events")'),
    ("an API is pulled: polling an events API by hand", "02.00-*",
     'requests.get(api.url("/v1/events"), params={"limit": 2}'),
    ("webhooks are event driven", "08.00-*", 'print("requests to your URL before anything happened:"'),
    ("webhooks are event driven, in the first lessons", "02.00-*", "because an event happened (event-driven)"),
    ("real time without polling", "08.00-*", "race = wl.push_vs_poll("),
    # FAQ: are webhooks secure?
    ("secured by signature verification", "03.00-*", 'guarded = wl.workshop_receiver(secrets={"checkout": STRIPE_SECRET})'),
    ("secured by signature verification: a tampered body fails", "08.00-*", "stripe.verify(body.replace("),
    ("secured by HTTPS encryption", "03.00-*", "wl.Receiver(ssl_context=(str(cert), str(key)))"),
    ("secured by secret tokens (and what a token does not prove)", "03.00-*",
     'parse_qs(arrived.query).get("token") == [TOKEN]'),
    ("always validate incoming data", "03.00-*", "def order_for(event):"),
    # FAQ: what if delivery fails?
    ("retries several times over a defined period, then marks it failed", "04.00-*",
     'stripe.deliver(payment, to=rx.url("outage")'),
    ("retries until delivered", "08.00-*", 'rx.respond("shop", fail_first=3)'),
    # Ready to put webhooks to work?
    ("a 2-minute quiz that builds a personalised automation blueprint", "05.00-*", "wl.widgets.Quiz()"),
]

def code_cells(pattern: str) -> list[dict]:
    """The code cells of the one notebook matching `pattern`, read from its JSON."""
    (path,) = NOTEBOOKS.glob(pattern + ".ipynb")
    return [cell for cell in json.loads(path.read_text(encoding="utf-8"))["cells"] if cell["cell_type"] == "code"]


def live_cell(pattern: str, fragment: str) -> str:
    """The source of the code cell of that notebook that contains `fragment`."""
    sources = ["".join(cell["source"]) for cell in code_cells(pattern)]
    found = [source for source in sources if fragment in source]
    assert found, f"no code cell of {pattern} contains {fragment!r}"
    return found[0]


def slug(claim: str) -> str:
    return re.sub(r"\W+", "-", claim.lower()).strip("-")[:60]


@pytest.mark.parametrize(("claim", "pattern", "fragment"), CLAIMS, ids=[slug(row[0]) for row in CLAIMS])
def test_a_live_cell_shows_the_claim(claim, pattern, fragment):
    assert live_cell(pattern, fragment)


# -- the cells of 08 do what their text says --------------------------------------------------------


def run_cell(fragment: str, **namespace) -> tuple[dict, str]:
    """Run the 08 cell containing `fragment` with `namespace` as its globals; its variables and what it printed."""
    namespace = {"wl": wl, "requests": requests, **namespace}
    printed = io.StringIO()
    with redirect_stdout(printed):
        exec(live_cell("08.00-*", fragment), namespace)
    return namespace, printed.getvalue()


def test_event_driven_and_reverse_api_one_event_pushed_unasked_and_the_same_when_pulled(rx):
    ran, printed = run_cell("# push: it came to you, unasked", rx=rx)
    try:
        assert "requests to your URL before anything happened: 0" in printed  # no event, no request
        pushed, pulled, event = ran["pushed"], ran["pulled"], ran["event"]
        assert pushed.provider == "stripe" and pushed.json["type"] == "charge.succeeded"
        assert pulled["data"][0]["id"] == pushed.json["id"] == event["id"]  # one event, both ways
        with pytest.raises(wl.WaitTimeout):
            rx.wait_for(2, endpoint="push", timeout=0.5)  # and nothing more arrives while nothing happens
    finally:
        ran["api"].stop()


def test_a_catch_hook_starts_a_workflow_from_any_service(rx):
    ran, _ = run_cell('@rx.on("*", endpoint="catch-hook")', rx=rx)
    assert ran["reply"].status_code == 200
    assert ran["mailing_list"] == ["ada@example.com"]  # the workflow ran before the answer came back
    (request,) = rx.wait_for(1, endpoint="catch-hook")
    assert request.provider is None  # a service none of our simulators stands for


def test_the_race_shows_push_notices_faster_and_asks_for_nothing():
    ran, _ = run_cell("race = wl.push_vs_poll(")
    table = ran["race"].table.set_index("mode")
    push = table.loc[next(mode for mode in table.index if "push" in mode.lower())]
    polls = table.drop(push.name)
    assert push["empty responses"] == 0 and (polls["empty responses"] > 0).all()
    assert (push["median latency (s)"] < polls["median latency (s)"]).all()


def test_the_predicted_duplicate_two_requests_both_200_one_order_shipped(rx):
    ran, printed = run_cell('@rx.on("orders/paid", endpoint="slow", dedupe=True)', rx=rx)
    assert "orders shipped: 1" in printed and len(ran["shipped"]) == 1
    table = rx.events("slow")
    assert list(table["status"]) == [200, 200]  # the receiver answered both: the first too late for the sender
    assert table["delivery_id"].nunique() == 1 and table["duplicate_of"].notna().sum() == 1
    assert list(ran["delivery"].attempts["status"].isna()) == [True, False]  # the sender saw a timeout, then 200
