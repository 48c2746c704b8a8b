"""webhooklab.testing: the example suites run as a user runs them, and every helper against real verifiers.

The example apps verify with the providers' own libraries (stripe, standardwebhooks), so the
plugin's signatures are checked by code that is not webhooklab's.
"""

import asyncio
import contextlib
import inspect
import json
import shutil
import socket
from pathlib import Path

import pytest
from fastapi import FastAPI
from flask import Flask, request

import webhooklab as wl
from webhooklab._providers.registry import PROVIDERS
from webhooklab.testing import Response, Sender, Webhooks
from webhooklab.testing._sender import tamper
from webhooklab.testing._transports import ASGITransport

pytest_plugins = ["pytester", "webhooklab.testing"]

EXAMPLES = Path(__file__).parent.parent / "examples"
STRICT = "[pytest]\nfilterwarnings =\n    error\n"  # as this project's own tests run: a warning is a failure


def example(pytester, name: str) -> None:
    shutil.copytree(EXAMPLES / name, pytester.path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    pytester.makeini(STRICT)


# -- the example suites, as a user runs them ---------------------------------------------------


def test_the_flask_example_passes_in_process_and_over_http(pytester):
    example(pytester, "flask_app")
    result = pytester.runpytest_subprocess("-p", "webhooklab.testing", "-v")
    result.assert_outcomes(passed=26)
    for line in ["*test_every_forgery_is_refused_and_changes_nothing?in process? PASSED*",
                 "*test_every_forgery_is_refused_and_changes_nothing?over HTTP? PASSED*"]:
        result.stdout.fnmatch_lines([line])  # each, in whatever order the example's tests ran


def test_the_fastapi_example_passes_in_process_and_over_http(pytester):
    example(pytester, "fastapi_app")
    result = pytester.runpytest_subprocess("-p", "webhooklab.testing", "-v")
    result.assert_outcomes(passed=24)
    result.stdout.fnmatch_lines(["*test_retries_on_svixs_schedule_deliver_it_once?over HTTP? PASSED*"])


def test_the_installed_plugin_loads_from_its_entry_point(pytester):
    """No -p: pytest finds the plugin through the pytest11 entry point, in a fresh interpreter."""
    example(pytester, "flask_app")
    result = pytester.runpytest_subprocess("-k", "signed_event")
    result.assert_outcomes(passed=2)
    result.stdout.no_fnmatch_line("*webhooklab.testing*")  # no header line in every pytest run of the environment


def test_with_autoloading_off_dash_p_loads_it(pytester, monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    example(pytester, "fastapi_app")
    pytester.runpytest_subprocess("-k", "signed_event").assert_outcomes(errors=2)  # fixture 'webhook' not found
    pytester.runpytest_subprocess("-p", "webhooklab.testing", "-k", "signed_event").assert_outcomes(passed=2)


NAIVE = '''
import json
import threading
from flask import Flask, request


class Inbox:
    def __init__(self):
        self.pending = []

    def add(self, event_id, event):
        self.pending.append(event)
        return True


def create_app(*, secret, inbox):
    app = Flask(__name__)

    @app.post("/webhooks/stripe")
    def stripe_webhook():
        inbox.pending.append(json.loads(request.get_data()))  # trusts the body, never checks the signature
        return {"received": True, "duplicate": False}

    return app
'''


def test_the_example_suite_catches_an_endpoint_that_trusts_every_request(pytester):
    example(pytester, "flask_app")
    pytester.makepyfile(payments=NAIVE)
    result = pytester.runpytest_subprocess("-p", "webhooklab.testing")
    # Only what a trusting app gets right passes (the genuine request, raw events, a future timestamp, the fast answer).
    result.assert_outcomes(passed=8, failed=18)
    result.stdout.fnmatch_lines(["*assert 200 == 400*", "*body changed after signing: byte * -> *"])


# -- every registered provider, Slack and Twilio included ----------------------------------------


def verifying_app(provider: wl.Provider) -> Flask:
    """A WSGI endpoint that verifies with the provider's own verify(), and says why it refused."""
    app = Flask(__name__)
    takes_url = "url" in inspect.signature(provider.verify).parameters

    @app.post("/hook")
    def hook():
        try:
            provider.verify(request.get_data(), request.headers, **({"url": request.url} if takes_url else {}))
        except wl.SignatureError as error:
            return {"reason": error.reason}, 400
        return {"ok": True}

    return app


@pytest.fixture(params=list(PROVIDERS))
def sender(request, webhook):
    provider = PROVIDERS[request.param]()  # a fresh secret of the provider's own kind
    return webhook(verifying_app(provider), request.param, secret=provider.secret, path="/hook")


def test_each_provider_signs_what_its_verifier_accepts(sender):
    response = sender.send()
    assert response.status_code == 200, response.text
    assert response.case == "signed correctly" and response.provider == sender.provider.name


def test_each_forgery_is_refused_for_the_reason_it_is_made(sender):
    reasons = {name: (r.status_code, r.json()["reason"]) for name, r in sender.forgeries().items()}
    expected = {"tampered": (400, "no_matching_signature"), "wrong_secret": (400, "no_matching_signature"),
                "unsigned": (400, "missing_header")}  # fmt: skip
    if sender.provider.window is not None:
        expected["stale"] = (400, "timestamp_too_old")
    if sender.provider.name in ("standard", "slack"):  # their verifiers refuse a timestamp too far ahead
        expected["future"] = (400, "timestamp_too_new")
    if sender.provider.name == "standard":  # webhook-id is signed: the genuine request with a fresh one fails
        expected["replayed"] = (400, "no_matching_signature")
    assert reasons == expected


def test_a_duplicate_keeps_its_delivery_id(sender):
    first, again = sender.duplicate()
    assert first.status_code == again.status_code == 200
    assert first.case.endswith(again.case.partition(",")[2])  # "delivery n of 2, delivery id <the same>"
    if not sender.provider.policy_for(sender.event()).resigns:
        assert first.request_body == again.request_body and dict(first.request_headers) == dict(again.request_headers)


def test_deliver_runs_the_providers_whole_schedule_in_process(webhook):
    stripe = webhook(verifying_app(wl.Stripe("whsec_other")), "stripe", secret="whsec_mine", path="/hook")
    delivery = stripe.deliver("charge.refunded")  # test mode: 3 retries over a few hours, on a virtual clock
    assert delivery.status == "exhausted"
    assert list(delivery.attempts["status"]) == [400] * 4
    assert delivery.attempts["after first (s)"].iloc[-1] == pytest.approx(3.5 * 3600, abs=5)


# -- targets: WSGI, ASGI, a URL -------------------------------------------------------------------


def test_a_raw_asgi_app_is_called_with_its_lifespan(webhook):
    calls = []

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                calls.append(message["type"])
                await send({"type": "lifespan.startup.complete"})
            calls.append(message["type"])
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        calls.append(("request", scope["path"], len(body)))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    webhooks = Webhooks()
    github = webhooks(app, "github", secret="s3cret", path="/gh")
    response = github.send("push")
    webhooks.close()
    assert response.status_code == 204
    assert calls == ["lifespan.startup", ("request", "/gh", len(response.request_body)), "lifespan.shutdown"]


def test_a_fastapi_lifespan_runs_before_the_first_request(webhook):
    @contextlib.asynccontextmanager
    async def lifespan(app):
        app.state.ready = True
        yield

    app = FastAPI(lifespan=lifespan)

    @app.post("/hook")
    async def hook():
        return {"ready": getattr(app.state, "ready", False)}

    assert webhook(app, "shopify", secret="hush", path="/hook").send().json() == {"ready": True}


def test_sending_works_from_inside_a_running_event_loop(webhook):
    app = FastAPI()
    app.post("/hook")(lambda: {"ok": True})
    shopify = webhook(app, "shopify", secret="hush", path="/hook")

    async def an_async_test():
        return shopify.send().status_code

    assert asyncio.run(an_async_test()) == 200


def test_serve_puts_both_kinds_of_app_on_a_real_socket(webhook):
    flask_app, fastapi_app = Flask(__name__), FastAPI()
    flask_app.post("/hook")(lambda: "flask")
    fastapi_app.post("/hook")(lambda: "fastapi")
    for app, expected in ((flask_app, "flask"), (fastapi_app, '"fastapi"')):
        url = webhook.serve(app)
        assert url.startswith("http://127.0.0.1:")
        sender = webhook(url, "github", secret="s3cret", path="/hook")
        assert isinstance(sender, Sender) and sender.transport.kind == "HTTP"
        assert sender.send("ping").text == expected


def test_serving_stops_with_the_test():
    webhooks = Webhooks()
    url = webhooks.serve(Flask(__name__))
    port = int(url.rsplit(":", 1)[1])
    webhooks.close()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_a_url_where_nothing_listens_is_a_failed_delivery_and_a_clear_error(webhook):
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{placeholder.getsockname()[1]}"
    github = webhook(url, "github", secret="s3cret", path="/hook")
    with pytest.raises(ConnectionError, match="could not deliver to .*connection failed: nothing is listening"):
        github.send("push")
    delivery = github.deliver("push")
    assert delivery.status == "failed" and len(delivery.log) == 1 and "connection failed" in delivery.log[0]["outcome"]


def test_the_httpx_transport_is_used_directly_for_asgi():
    app = FastAPI()
    app.post("/hook")(lambda: {"ok": True})
    transport = ASGITransport(app)
    try:
        attempt = transport.post("/hook", b"{}", {"Content-Type": "application/json"})
    finally:
        transport.close()
    assert attempt.status == 200 and attempt.url == "http://testserver/hook" and json.loads(attempt.response_body) == {"ok": True}


# -- what a learner meets when something is wrong -----------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda w, app: w(app, "stripey", secret="x"), r"expected a provider's name, one of .*stripe.*, but got 'stripey'"),
        (lambda w, app: w(app, "stripe"), r"pass secret=\.\.\., the one your app verifies with"),
        (lambda w, app: w(app, wl.Stripe("whsec_a"), secret="whsec_b"), r"already has its secret"),
        (lambda w, app: w(Flask, "stripe", secret="x"), r"expected the app .* A factory must be called first"),
        (lambda w, app: w("localhost:5000", "stripe", secret="x"), r"expected a URL such as 'http://127.0.0.1:8000'"),
        (lambda w, app: w(app, "stripe", secret="x", path="hooks"), r"path must be the endpoint's path, starting with '/'"),
        (lambda w, app: w(app, "github", secret="x").stale("push"), r"GitHub signs the body and no timestamp.*duplicate\(\)"),
        (lambda w, app: w(app, "stripe", secret="x").send(wl.Stripe("y").event("charge.refunded"), amount=5),
         r"fields \(amount\) apply to an event type"),
    ],
)  # fmt: skip
def test_mistakes_are_explained(webhook, call, message):
    with pytest.raises(wl.UsageError, match=message):
        call(webhook, Flask(__name__))


def test_a_response_says_what_it_answers(webhook):
    app = Flask(__name__)
    app.post("/hook")(lambda: ("nope", 403))
    response = webhook(app, "stripe", secret="whsec_x", path="/hook").wrong_secret("charge.refunded")
    assert isinstance(response, Response) and not response.ok
    assert repr(response).startswith("<Response 403 'nope' to stripe charge.refunded (signed with another secret, whsec_")


def test_tampering_changes_one_digit_and_keeps_the_json_valid():
    body = json.dumps({"amount": 2000, "currency": "usd", "id": "evt_19"}).encode()
    changed, where = tamper(body)
    assert len(changed) == len(body) and sum(a != b for a, b in zip(body, changed)) == 1
    assert json.loads(changed)["id"] == "evt_18" and where.endswith("9 -> 8")
    assert tamper(b"{}") == (b"{} ", "a space added at the end")


def test_wrong_secret_keeps_the_providers_other_settings(webhook):
    svix = wl.StandardWebhooks(prefix="svix")
    seen = []
    app = Flask(__name__)

    @app.post("/hook")
    def hook():
        seen.append(sorted(name.lower() for name in request.headers.keys() if name.lower().startswith("svix-")))
        return "", 400

    webhook(app, svix, path="/hook").wrong_secret()
    assert seen == [["svix-id", "svix-signature", "svix-timestamp"]]
