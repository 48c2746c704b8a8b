"""Each provider's signature check as production code writes it: its own SDK, or the standard library as its docs show.

The blueprint's Flask app is meant to run where webhooklab (a teaching toolkit) is not
installed, so nothing here imports it: Stripe, Slack, Twilio and Standard Webhooks
through their official libraries, GitHub and Shopify with `hmac` and `hashlib`, as
their documentation's own examples do. Each check is a function
`verify_<provider>(body, headers)` that returns (event type, event as a dict) or
raises BadSignature, so the app's route stays the same whichever providers it serves.
"""

from __future__ import annotations

# provider: (standard-library modules, third-party import lines, the function's lines)
CHECKS = {
    "stripe": ((), ("import stripe",), [
        "def verify_stripe(body, headers):",
        '    """Stripe\'s own library: a v1 signature over the timestamp and the raw body, at most 5 minutes old."""',
        '    secret = os.environ["STRIPE_WEBHOOK_SECRET"]',
        "    try:",
        '        event = stripe.Webhook.construct_event(body, headers.get("Stripe-Signature", ""), secret)',
        "    except (ValueError, stripe.SignatureVerificationError):",
        "        raise BadSignature from None",
        '    return event["type"], event.to_dict()']),
    "github": (("hashlib", "hmac"), (), [
        "def verify_github(body, headers):",
        '    """GitHub\'s docs: "sha256=" and the hex HMAC-SHA256 of the raw body, compared in constant time.',
        "",
        "    Choose the content type application/json in the webhook's settings: the body is then the JSON itself.",
        '    """',
        '    secret = os.environ["GITHUB_WEBHOOK_SECRET"]',
        '    hash_object = hmac.new(secret.encode("utf-8"), msg=body, digestmod=hashlib.sha256)',
        '    expected_signature = "sha256=" + hash_object.hexdigest()',
        '    if not hmac.compare_digest(expected_signature, headers.get("X-Hub-Signature-256", "")):',
        "        raise BadSignature",
        '    return headers.get("X-GitHub-Event", ""), json.loads(body)']),
    "shopify": (("base64", "hashlib", "hmac"), (), [
        "def verify_shopify(body, headers):",
        '    """Shopify\'s docs: base64 of the HMAC-SHA256 of the raw body, keyed with the app\'s client secret."""',
        '    secret = os.environ["SHOPIFY_WEBHOOK_SECRET"]',
        '    digest = hmac.new(secret.encode("utf-8"), body, digestmod=hashlib.sha256).digest()',
        "    computed_hmac = base64.b64encode(digest)",
        '    if not hmac.compare_digest(computed_hmac, headers.get("X-Shopify-Hmac-Sha256", "").encode("utf-8")):',
        "        raise BadSignature",
        '    return headers.get("X-Shopify-Topic", ""), json.loads(body)']),
    "slack": ((), ("from slack_sdk.signature import SignatureVerifier",), [
        "def verify_slack(body, headers):",
        '    """Slack\'s SDK: a v0 signature over "v0:{timestamp}:{body}", the timestamp within 5 minutes (Events API)."""',
        '    if not SignatureVerifier(os.environ["SLACK_WEBHOOK_SECRET"]).is_valid_request(body, dict(headers)):',
        "        raise BadSignature",
        "    event = json.loads(body)",
        '    return event.get("event", {}).get("type", event.get("type", "")), event']),
    "twilio": (("urllib.parse",), ("from twilio.request_validator import RequestValidator",), [
        "def verify_twilio(body, headers):",
        '    """Twilio\'s SDK: HMAC-SHA1 of the URL Twilio requested and the POST parameters, keyed with the Auth Token."""',
        '    params = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))',
        '    url = os.environ.get("TWILIO_WEBHOOK_URL", request.url)  # the URL exactly as entered in Twilio\'s console',
        '    validator = RequestValidator(os.environ["TWILIO_WEBHOOK_SECRET"])',
        '    if not validator.validate(url, params, headers.get("X-Twilio-Signature", "")):',
        "        raise BadSignature",
        '    return ("call/status" if "CallStatus" in params else "sms/incoming"), params']),
    "standard": ((), ("from standardwebhooks import Webhook, WebhookVerificationError",), [
        "def verify_standard(body, headers):",
        '    """The Standard Webhooks library: webhook-id, webhook-timestamp (5 minutes either way), a v1 signature."""',
        "    try:",
        '        event = Webhook(os.environ["STANDARD_WEBHOOK_SECRET"]).verify(body, dict(headers))',
        "    except WebhookVerificationError:",
        "        raise BadSignature from None",
        '    return event.get("type", ""), event']),
}  # fmt: skip


def imports(providers: list[str]) -> list[str]:
    """The import block the chosen providers' checks need, standard library first, then Flask and the SDKs."""
    modules = sorted({"json", "os", "sqlite3", *(m for p in providers for m in CHECKS[p][0])})
    third = sorted({"from flask import Flask, request", *(line for p in providers for line in CHECKS[p][1])},
                   key=lambda line: (line.startswith("from"), line.split()[1]))  # isort's order  # fmt: skip
    needs = " ".join(line.split()[1].split(".")[0] for line in third)
    return [f"# Needs: pip install {needs} (nothing from webhooklab)", *(f"import {module}" for module in modules), "",
            *third]


def checks(providers: list[str]) -> list[str]:
    """BadSignature, one verify_<provider> function for each provider, and VERIFIERS naming them."""
    lines = ["class BadSignature(Exception):",
             '    """Not signed by the provider with our secret, or changed on the way: act on nothing."""', "", ""]
    for provider in providers:
        lines += [*CHECKS[provider][2], "", ""]
    lines += ["VERIFIERS = {", *(f'    "{p}": verify_{p},' for p in providers), "}"]
    return lines
