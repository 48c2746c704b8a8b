"""What notebook 07 says about running webhooks in production is present, and true: the commands as the tools
document them, the providers' published limits, and what the notebook's own cells compute."""

import base64
import hashlib
import hmac
import ipaddress
import json
import re
from pathlib import Path

import pytest
import requests

import webhooklab as wl

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"


@pytest.fixture(scope="module")
def cells():
    (path,) = NOTEBOOKS.glob("07.00-*.ipynb")
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


@pytest.fixture(scope="module")
def text(cells):
    """Every cell's source, each run of whitespace made one space."""
    return " ".join(" ".join("".join(cell["source"]) for cell in cells).split())


def code_of(cells, marker):
    (source,) = ["".join(c["source"]) for c in cells if c["cell_type"] == "code" and marker in "".join(c["source"])]
    return source


# -- section 1: tunnels and forwarders -------------------------------------------------------------------------------

COMMANDS = [
    "ngrok http 5000",  # ngrok: `ngrok http 8080` serves a web app on port 8080 at a public URL
    "cloudflared tunnel --url http://localhost:5000",  # a quick tunnel on trycloudflare.com
    "stripe listen --forward-to localhost:5000/hooks/stripe",  # Stripe's docs: stripe listen --forward-to localhost:4242/webhook
    "smee --url https://smee.io/<channel> --target http://127.0.0.1:5000/hooks/github",  # smee-client: -u/--url, -t/--target
]


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_is_given_exactly(text, command):
    assert f"`{command}`" in text


def test_the_commands_are_explained_never_run(cells):
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    for command in ("ngrok", "cloudflared", "stripe listen", "smee", "api.github.com"):
        assert command not in code, command
    runs = re.findall(r"subprocess\.run\(\[?(\S+?)[,\]]", code)  # only this Python runs, as pytest or webhooklab
    assert runs and set(runs) <= {"command", "sys.executable"} and code.count("[sys.executable, \"-m\", ") == 2, runs
    assert '[sys.executable, "-m", *command]' in code
    assert not re.search(r"^\s*!", code, re.MULTILINE), "no shell escapes: nothing here runs a real tool"


def test_what_the_forwarders_change_is_said(text):
    for claim in [
        "Your webhook signing secret is 'whsec_...'",
        "That secret is the CLI's own, not the one of any endpoint in your Dashboard",
        "channels are not authenticated",
        '"intended for use in development, not for production"',
        "probot/smee-client issue #325",
        "HTTPS ends at the tunnel's edge",
        "`--host-header=rewrite`",
        "`--http-host-header`",
        "The connection comes from your own machine",
    ]:
        assert claim in text, claim


def test_the_twilio_cell_reproduces_twilios_published_vector_and_shows_the_url_matters(cells, text):
    namespace = {"base64": base64, "hashlib": hashlib, "hmac": hmac}
    source = code_of(cells, "def twilio_signature")
    exec(source.split("for url in")[0], namespace)  # the function and the vector, without the printing loop
    sign, params = namespace["twilio_signature"], namespace["params"]
    assert sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert namespace["header"] == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert sign("12345", "http://localhost:5000/myapp.php?foo=1&bar=2", params) != namespace["header"]
    assert "**Predict, then run.** Twilio's signature" in text


# -- section 2: GitHub's IP ranges -----------------------------------------------------------------------------------


def test_the_meta_example_uses_documentation_addresses_only(cells, text):
    source = code_of(cells, "meta = json.loads(")
    meta = json.loads(source.split('"""')[1])
    documentation = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]
    for cidr in meta["hooks"] + meta["web"]:
        network = ipaddress.ip_network(cidr)
        assert any(network.version == d.version and network.subnet_of(d) for d in documentation), cidr
    assert "the `hooks` key of `GET https://api.github.com/meta`" in text
    assert "We make changes to our IP addresses from time to time" in text
    assert "never a replacement for the signature" in text


# -- section 3: rotation ---------------------------------------------------------------------------------------------


def test_stripes_rolling_window_is_quoted_as_documented(text):
    assert "delay its expiration for up to 24 hours to allow yourself time to update the verification code" in text
    assert "Stripe generates one signature per secret until expiration." in text
    for wrong in ("up to 48 hours", "up to 7 days", "up to a week", "72 hours"):
        assert wrong not in text, wrong


def test_a_provider_with_two_secrets_signs_once_with_each_and_verifies_either():
    old, new = wl.Stripe.new_secret(), wl.Stripe.new_secret()
    body, headers = wl.Stripe([new, old]).sign({"id": "evt_rotation"})
    assert headers["Stripe-Signature"].count("v1=") == 2
    for single in (old, new):
        assert wl.Stripe(single).explain(body, headers).ok
        one_body, one_headers = wl.Stripe(single).sign({"id": "evt_one"})
        assert wl.Stripe([new, old]).explain(one_body, one_headers).ok


# -- section 4: reconciliation ---------------------------------------------------------------------------------------


def test_the_retry_limits_and_the_lists_are_the_providers(text):
    for claim in [
        "GitHub makes one attempt and never retries by itself",
        "redelivers from the last 3 days",
        "Stripe retries for up to 3 days in live mode",
        'lists events "going back up to 30 days"',
        "`GET /repos/{owner}/{repo}/hooks/{hook_id}/deliveries`",
        "`POST .../deliveries/{delivery_id}/attempts`",
        "If your server goes down, you should redeliver missed webhooks once your server is back up.",
        "**Predict, then run.** Now the shop goes down",
    ]:
        assert claim in text, claim


def test_each_predict_prompt_is_followed_by_a_code_cell_and_an_explanation(cells):
    prompts = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and "".join(c["source"]).startswith("**Predict, then run.**")]
    assert len(prompts) >= 1
    for i in prompts:
        assert cells[i + 1]["cell_type"] == "code" and cells[i + 2]["cell_type"] == "markdown"


# -- section 5: fetch before acting, versions, subscriptions ---------------------------------------------------------


def test_the_events_api_serves_an_object_as_the_newest_event_left_it():
    with wl.ProviderAPI() as api:
        declined = api.record("payment_intent.payment_failed")
        intent = declined["data"]["object"]["id"]
        paid = wl.Stripe().event("payment_intent.succeeded")["data"]["object"]
        paid["id"] = intent
        api.record("payment_intent.succeeded", data={"object": paid})
        now = requests.get(api.url(f"/v1/payment_intents/{intent}"), timeout=5)
        wrong_kind = requests.get(api.url(f"/v1/charges/{intent}"), timeout=5)
        unknown = requests.get(api.url("/v1/payment_intents/pi_nobody"), timeout=5)
        event = requests.get(api.url(f"/v1/events/{declined['id']}"), timeout=5)
    assert now.status_code == 200 and now.json()["status"] == "succeeded"
    assert wrong_kind.status_code == 404 and "No such charge" in wrong_kind.json()["error"]["message"]
    assert unknown.status_code == 404
    assert event.status_code == 200 and event.json()["type"] == "payment_intent.payment_failed"  # events still served


def test_versions_thin_events_and_narrow_subscriptions_are_as_documented(text):
    for claim in [
        "Stripe made thin events generally available for API v1 objects",
        "`created` counts whole seconds, so two events about one object can share it",
        '"The API version in your account settings when the event occurs dictates the API version, and therefore '
        'the structure of an Event"',
        "`X-Shopify-API-Version`",
        "`api_version`",
        '"Listening for extra events (or all events) puts undue strain on your server and we don\'t recommend it."',
        '"You should only subscribe to the webhook events that you need."',
    ]:
        assert claim in text, claim
    _, headers = wl.Shopify().sign(wl.Shopify().event("orders/create"))
    assert re.fullmatch(r"\d{4}-\d{2}", headers["X-Shopify-API-Version"])
    assert "api_version" in wl.Stripe().event("payment_intent.succeeded")


# -- section 6 and the end -------------------------------------------------------------------------------------------


def test_the_checklist_covers_production(text):
    from webhooklab.exercises import ch07

    items = " ".join(ch07.CHECKLIST).lower()
    for topic in ["https", "raw body", "timestamp", "deduplicate", "answer 2xx", "mark an event done", "monitor",
                  "outage", "secrets", "subscribe", "log"]:  # fmt: skip
        assert topic in items or topic in " ".join(str(v) for v in ch07.CHECKLIST.values()).lower(), topic
    for item in ch07.CHECKLIST:
        assert f'"{item}": None' in text


def test_the_notebook_ends_with_everything_running_and_says_how_to_stop(cells):
    closing = "".join(cells[-2]["source"])  # the last cell is the navigation bar
    assert cells[-2]["cell_type"] == "markdown"
    assert "for server in (rx, shop, api):" in closing and "server.stop()" in closing
    assert "## Summary" in "".join(cells[-3]["source"])
