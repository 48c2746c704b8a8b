"""Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:timestamp:body">`, with X-Slack-Request-Timestamp."""

from __future__ import annotations

import re
import secrets
import string
import time
import uuid
from urllib.parse import parse_qs, urlencode

from .._errors import SignatureError
from .._sending.delivery import Attempt, Delivery
from .._sending.retry import RetryPolicy
from .arguments import WINDOW, body_bytes
from .base import Header, Provider, read_timestamp
from .explain import _quote, mask
from .registry import string_field

FORM = "application/x-www-form-urlencoded"
COMMAND = "slash_command"  # slash commands have no event type of their own: this is the name used here
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
ALNUM = string.ascii_letters + string.digits


class SlackDelivery(Delivery):
    """A Delivery whose retries say which retry they are and why: X-Slack-Retry-Num, X-Slack-Retry-Reason."""

    def _request(self) -> tuple[bytes, dict[str, str]]:
        body, headers = super()._request()
        if not self.log:
            return body, headers
        retry = {"X-Slack-Retry-Num": str(len(self.log)), "X-Slack-Retry-Reason": retry_reason(self.log[-1]["result"])}
        return body, {**headers, **retry}


class Slack(Provider):
    """Slack's Events API (JSON) and slash commands (form fields), signed with the app's signing secret.

    The signed string is `v0:{X-Slack-Request-Timestamp}:{raw body}`; a timestamp more
    than 5 minutes from now, either way, is rejected, as slack_sdk's SignatureVerifier
    does. Before sending events Slack checks the Request URL with a `url_verification`
    request whose `challenge` the receiver echoes back: handshake() gives that answer,
    and a Receiver endpoint with a Slack secret sends it for a verified request.
    """

    name = "slack"
    title = "Slack"
    signature_header = "X-Slack-Signature"
    single_headers = ("X-Slack-Request-Timestamp",)
    signs = "the body and the X-Slack-Request-Timestamp"
    algorithm = "HMAC-SHA256"
    window: float | None = 300.0
    replay_defence = "the signed timestamp, 5 minutes either way; the signed event_id, kept on retries (our assumption)"
    key_note = "the signing secret's UTF-8 bytes"
    user_agent = "Slackbot 1.0 (+https://api.slack.com/robots)"  # our assumption: as seen on Slack's requests
    timeout = 3.0  # the Events API wants a 2xx within 3 seconds
    delivery_class = SlackDelivery  # its retries say which retry they are, and why
    policy = RetryPolicy.slack()
    _rejects_future = True
    friendly = ("text", "channel", "user", "reaction", "command", "challenge")
    first_event = "app_mention"
    triggers = ()  # not offered by the automation blueprint yet: its sketch reads a top-level "type" and "id"
    where_to_subscribe = (
        "api.slack.com/apps > your app > Event Subscriptions (Request URL, then Subscribe to bot events), or "
        "Slash Commands > Create New Command; the signing secret is under Basic Information > App Credentials"
    )

    @classmethod
    def recognise(cls, headers, payload):
        """X-Slack-Signature; the inner event's type for event_callback, and its event_id.

        That retries keep the event_id is our assumption: Slack's docs do not say so in as many words.
        """
        if "x-slack-signature" not in headers and "x-slack-request-timestamp" not in headers:
            return None
        kind = string_field(payload, "type")
        if kind == "event_callback":
            inner = payload.get("event")
            return string_field(inner, "type") if isinstance(inner, dict) else None, string_field(payload, "event_id")
        if kind is None and headers.get("content-type", "").startswith(FORM):
            return COMMAND, None  # form fields without a JSON `payload=` field: a slash command
        return kind, None

    @classmethod
    def new_secret(cls) -> str:
        return secrets.token_hex(16)  # our assumption: 32 hex digits, as signing secrets look

    @classmethod
    def handshake(cls, payload) -> tuple[int, bytes, dict[str, str]] | None:
        """The answer Slack's url_verification needs: 200 and the challenge as plain text; None for other events.

        Slack accepts the challenge as text/plain, as form field `challenge=`, or as JSON
        {"challenge": ...}; plain text is the first its documentation shows.
        """
        if not (isinstance(payload, dict) and payload.get("type") == "url_verification"):
            return None
        challenge = payload.get("challenge")
        if not isinstance(challenge, str):
            return None
        return 200, challenge.encode("utf-8", "surrogatepass"), {"Content-Type": "text/plain; charset=utf-8"}

    def _read_header(self, headers: dict[str, str]) -> Header:
        missing = [name for name in ("X-Slack-Signature", "X-Slack-Request-Timestamp") if name.lower() not in headers]
        if missing:
            raise SignatureError(
                "missing_header",
                f"expected the headers X-Slack-Signature and X-Slack-Request-Timestamp, but {' and '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} missing. Slack signs every request with both; a request "
                "without them did not come from Slack (or a proxy dropped them).",
            )
        timestamp = read_timestamp(headers["x-slack-request-timestamp"], "X-Slack-Request-Timestamp", "1531420618",
                                   "Slack always sends ten digits: the header was corrupted or made up by hand.")  # fmt: skip
        value = headers["x-slack-signature"]
        if not SIGNATURE.fullmatch(value):
            raise SignatureError(
                "malformed_header",
                "expected X-Slack-Signature to be 'v0=' and 64 lowercase hex digits, but it is "
                f"{_quote(value, 100)}. v0 is the only version Slack signs with.",
            )
        return Header([value[3:]], timestamp)

    def _signed_content(self, body: bytes, header: Header) -> bytes:
        return f"v0:{header.timestamp}:".encode() + body

    def _headers(self, payload, body, signatures, timestamp, delivery_id):
        command = payload.event_type == COMMAND or _is_command(payload) or (not payload and _form(body) is not None)
        return {
            "Content-Type": FORM if command else "application/json",
            "User-Agent": self.user_agent,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": f"v0={signatures[0]}",
        }

    def _secret_hint(self, secret: str) -> str | None:
        if secret.startswith(("xoxb-", "xoxp-", "xapp-", "xoxe")):
            return (
                f"the secret {mask(secret)} is an OAuth or app-level token. Requests are signed with the app's "
                "signing secret (Basic Information > App Credentials > Signing Secret)."
            )
        return None

    def explain(self, body, headers, *, tolerance=WINDOW, now=None, diagnose=True):
        """As for every provider; a slash command's body is form fields, which count as a valid payload."""
        out = super().explain(body, headers, tolerance=tolerance, now=now, diagnose=diagnose)
        if out.reason == "invalid_payload":
            fields = _form(body)
            if fields is None:
                out.message = (
                    "the signature is valid, but the body is neither JSON (the Events API) nor form fields "
                    "(a slash command), the two things Slack sends."
                )
            else:
                out.reason, out.message, out.payload = None, "the signature is valid", fields
        return out

    # -- payloads -----------------------------------------------------------------------

    def serialize(self, event) -> bytes:
        """JSON for the Events API; form fields, as Slack sends them, for a slash command."""
        if isinstance(event, dict) and (getattr(event, "event_type", "") == COMMAND or _is_command(event)):
            return urlencode({key: _field(value) for key, value in event.items()}).encode("ascii")
        return super().serialize(event)

    def _refresh(self, payload: dict, event_type: str) -> None:
        now = int(time.time())
        if payload.get("type") == "event_callback":
            payload["event_id"] = "Ev" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(9))
            payload["event_time"] = now
            event = payload["event"]
            event["event_ts"] = _ts(now)
            if "ts" in event:
                event["ts"] = event["event_ts"]
            if "client_msg_id" in event:
                event["client_msg_id"] = str(uuid.uuid4())
            if isinstance(event.get("item"), dict):
                event["item"]["ts"] = _ts(now - 60)
        elif payload.get("type") == "url_verification":
            payload["challenge"] = "".join(secrets.choice(ALNUM) for _ in range(52))
        elif _is_command(payload):
            number = "".join(secrets.choice(string.digits) for _ in range(13))
            payload["trigger_id"] = f"{number}.47445629121.{secrets.token_hex(16)}"
            payload["response_url"] = (
                f"https://hooks.slack.com/commands/{payload['team_id']}/{number}/"
                + "".join(secrets.choice(ALNUM) for _ in range(24))
            )

    def _apply(self, payload: dict, key: str, value) -> bool:
        event = payload.get("event") if isinstance(payload.get("event"), dict) else None
        if _is_command(payload):
            names = {"channel": "channel_id", "user": "user_id"}
            if key in ("text", "command", *names):
                payload[names.get(key, key)] = str(value)
                return True
            return False
        if event is None:
            return False
        if key == "channel":
            (event["item"] if isinstance(event.get("item"), dict) else event)["channel"] = value
        elif key in event and key != "type":
            event[key] = value
            if key == "text" and event.get("blocks"):
                event.pop("blocks")  # the rich-text blocks would still say the old text
        else:
            return False
        return True

    def _settable(self, payload: dict):
        event = payload.get("event")
        return [*payload.keys(), *(k for k in event if k != "type")] if isinstance(event, dict) else payload.keys()


def retry_reason(attempt: Attempt) -> str:
    """Why Slack retries, in its words: http_timeout, connection_failed, http_error (not 2xx), unknown_error."""
    if attempt.error and attempt.error.startswith("timed out"):
        return "http_timeout"
    if attempt.error and attempt.error.startswith("connection failed"):
        return "connection_failed"
    return "http_error" if attempt.status is not None else "unknown_error"


def _is_command(payload) -> bool:
    return isinstance(payload, dict) and "command" in payload and "trigger_id" in payload and "type" not in payload


def _field(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _form(body) -> dict[str, str] | None:
    """A slash command's fields (the first value of each), or None when the body is not form fields."""
    try:
        text = body_bytes(body).decode("utf-8")
        fields = parse_qs(text, keep_blank_values=True, strict_parsing=True)
    except (TypeError, UnicodeError, ValueError):
        return None
    return {name: values[0] for name, values in fields.items()} or None


def _ts(seconds: int) -> str:
    """A Slack message timestamp: unix seconds, a dot, six digits that make it unique in its channel."""
    return f"{seconds}.{secrets.randbelow(10**6):06d}"
