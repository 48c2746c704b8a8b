import hashlib
import hmac


def verify_github(body, headers, secret):
    """True if X-Hub-Signature-256 is the HMAC-SHA256 of the raw body with this secret; False otherwise."""
    received = headers.get("X-Hub-Signature-256", "")
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), received.encode())
