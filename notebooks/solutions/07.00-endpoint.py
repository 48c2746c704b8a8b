import hashlib
import hmac
import json
import time


def handle(body, headers, secret, inbox):
    """Stripe's webhook: verify the raw body's signature, store each event once under its id; the status to answer."""
    parts = [item.split("=", 1) for item in headers.get("Stripe-Signature", "").split(",") if "=" in item]
    stamps = [value for key, value in parts if key == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit() or time.time() - int(stamps[0]) > 300:
        return 400  # no timestamp, or older than Stripe's 5 minutes: a replay
    expected = hmac.new(secret.encode(), stamps[0].encode() + b"." + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, value) for key, value in parts if key == "v1"):
        return 400  # changed, unsigned or signed with another secret: act on nothing
    event = json.loads(body)
    inbox.setdefault(event["id"], event)  # a duplicate delivery is acknowledged, and stored once
    return 200
