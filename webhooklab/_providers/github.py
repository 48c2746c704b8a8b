"""GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`; no timestamp, so no replay window."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from datetime import datetime, timezone

from .._checks import got, text, whole
from .._errors import SignatureError, UsageError, UsageTypeError
from .._sending.retry import RetryPolicy
from .base import Header, Provider
from .explain import _quote
from .registry import string_field

SHA = re.compile(r"\b[0-9a-f]{40}\b")
HOOKSHOT = "GitHub-Hookshot/" + "a1b2c3d"  # GitHub varies the build hash; the product name is what matters


class GitHub(Provider):
    """GitHub's repository webhooks: compact JSON, one signature over the body alone.

    GitHub also sends the legacy SHA-1 `X-Hub-Signature` for old receivers;
    only `X-Hub-Signature-256` is verified. One secret signs; a verifier may
    hold several while a secret is rotated.
    """

    name = "github"
    title = "GitHub"
    signature_header = "X-Hub-Signature-256"
    single_headers = ("X-GitHub-Delivery",)
    event_header = "X-GitHub-Event"
    window = None  # no timestamp is signed, so a captured delivery verifies forever
    replay_defence = "none signed: X-GitHub-Delivery is not covered; dedupe on a key from the body"
    user_agent = HOOKSHOT
    policy = RetryPolicy.github()
    timeout = 10.0  # github.com's documented limit (GitHub Enterprise Server has its own): answer within 10 s
    friendly = ("repository", "branch", "commits", "sender", "action", "title", "number", "body", "tag")
    first_event = "push"
    triggers = ("push", "pull_request", "issues", "release")
    where_to_subscribe = "Repository > Settings > Webhooks > Add webhook; content type application/json; set a secret"

    def __init__(self, secret: str | list[str] | None = None, *, hook_id: int = 520198316):
        super().__init__(secret)
        self.hook_id = whole(hook_id, "hook_id", "the webhook's id, a whole number such as 520198316")

    @classmethod
    def recognise(cls, headers, payload):
        """X-GitHub-Event names the event; with the payload's action it is, say, issues.opened."""
        if "x-github-event" not in headers:
            return None
        kind, action = headers["x-github-event"], string_field(payload, "action")
        return f"{kind}.{action}" if action else kind, headers.get("x-github-delivery")

    @classmethod
    def new_secret(cls) -> str:
        return secrets.token_hex(20)

    def _read_header(self, headers: dict[str, str]) -> Header:
        value = headers.get("x-hub-signature-256")
        if value is None:
            legacy = " Only the legacy SHA-1 X-Hub-Signature is there: verify X-Hub-Signature-256." if "x-hub-signature" in headers else ""
            raise SignatureError(
                "missing_header",
                "there is no X-Hub-Signature-256 header. GitHub adds it to every delivery when the webhook has a "
                f"secret: was the webhook created without one?{legacy}",
            )
        algorithm, _, digest = value.partition("=")
        if algorithm != "sha256" or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise SignatureError(
                "malformed_header",
                "expected X-Hub-Signature-256 to be 'sha256=' and 64 lowercase hex digits, but it is "
                f"{_quote(value, 100)}.",
            )
        return Header([digest])

    def _headers(self, payload, body, signatures, timestamp, delivery_id):
        sha1 = hmac.new(self._key(self.secret), body, hashlib.sha1).hexdigest()
        repository = payload.get("repository") if isinstance(payload.get("repository"), dict) else {}
        return {
            "Accept": "*/*",
            "Content-Type": "application/json",
            "User-Agent": self.user_agent,
            "X-GitHub-Delivery": delivery_id,
            "X-GitHub-Event": payload.event_type or _guess_event(payload),
            "X-GitHub-Hook-ID": str(self.hook_id),
            "X-GitHub-Hook-Installation-Target-ID": str(repository.get("id", 0)),
            "X-GitHub-Hook-Installation-Target-Type": "repository",
            "X-Hub-Signature": f"sha1={sha1}",
            "X-Hub-Signature-256": f"sha256={signatures[0]}",
        }

    # -- payloads -----------------------------------------------------------------------

    def _refresh(self, payload: dict, event_type: str) -> None:
        now = _now()
        for commit in [*payload.get("commits", []), payload.get("head_commit") or {}]:
            if "timestamp" in commit:
                commit["timestamp"] = now
        for name in ("pull_request", "issue", "release"):
            if isinstance(payload.get(name), dict):
                for key in ("created_at", "updated_at", "published_at"):
                    if payload[name].get(key):
                        payload[name][key] = now
        fresh = {sha: secrets.token_hex(20) for sha in set(SHA.findall(json.dumps(payload))) if sha.strip("0")}
        fresh |= {old[:12]: new[:12] for old, new in fresh.items()}  # the short forms in compare URLs
        _replace_text(payload, fresh)

    def _apply(self, payload: dict, key: str, value) -> bool:
        subject = payload.get("pull_request") or payload.get("issue")
        if key == "repository":
            _rename_repository(payload, value)
        elif key == "branch" and "ref" in payload:
            payload["ref"] = f"refs/heads/{value}"
        elif key == "commits" and "commits" in payload:
            if not (isinstance(value, (list, tuple)) and all(isinstance(message, str) for message in value)):
                raise UsageTypeError(f"commits is a list of commit messages, such as ['Fix typo'], got {got(value)}")
            _set_commits(payload, list(value))
        elif key == "sender":
            login = text(value, "sender", "a GitHub login, such as 'octocat'")
            _replace_text(payload, {payload["sender"]["login"]: login})
            if "pusher" in payload:
                payload["pusher"]["name"] = value
        elif key == "tag" and "release" in payload:
            payload["release"]["tag_name"] = payload["release"]["name"] = value
        elif key in ("title", "body", "number") and subject:
            subject[key] = value
            if key == "number":
                payload["number"] = value
        else:
            return False
        return True


def _guess_event(payload: dict) -> str:
    if "zen" in payload:
        return "ping"
    if "commits" in payload and "ref" in payload:
        return "push"
    for name, event in (("pull_request", "pull_request"), ("issue", "issues"), ("release", "release")):
        if name in payload:
            return event
    raise UsageError(
        "cannot tell which GitHub event this payload is, for the X-GitHub-Event header: build it with "
        "GitHub().event(type), or pass sign(..., event_type='push')"
    )


def _set_commits(payload: dict, messages: list[str]) -> None:
    """New commits with these messages, modelled on the template's first one."""
    model = payload["commits"][0] if payload["commits"] else payload["head_commit"]
    repository_url = payload["repository"]["html_url"]
    commits = []
    for message in messages:
        sha = secrets.token_hex(20)
        commits.append({**model, "id": sha, "tree_id": secrets.token_hex(20), "message": message,
                        "timestamp": _now(), "url": f"{repository_url}/commit/{sha}"})  # fmt: skip
    payload["commits"] = commits
    payload["head_commit"] = commits[-1] if commits else None
    payload["after"] = commits[-1]["id"] if commits else payload["before"]
    payload["compare"] = f"{repository_url}/compare/{payload['before'][:12]}...{payload['after'][:12]}"


def _rename_repository(payload: dict, full_name: str) -> None:
    owner, _, name = text(full_name, "repository", "'owner/name', such as 'octo-org/shop'").partition("/")
    if not owner or not name:
        raise UsageError(f"repository must be 'owner/name', got {full_name!r}")
    old = payload["repository"]["full_name"]
    old_owner, old_name = old.split("/")
    _replace_text(payload, {old: full_name})
    _replace_text(payload, {f"/{old_owner}": f"/{owner}", old_owner: owner, old_name: name}, whole=True)


def _replace_text(payload: dict, mapping: dict[str, str], *, whole: bool = False) -> None:
    """Rewrite strings throughout the payload: substrings, or (whole=True) whole values and URL segments."""

    def rewrite(value):
        if isinstance(value, dict):
            return {k: rewrite(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rewrite(v) for v in value]
        if isinstance(value, str):
            if whole:
                return mapping.get(value, _replace_segments(value, mapping))
            for old, new in mapping.items():
                value = value.replace(old, new)
        return value

    payload.update(rewrite(payload))


def _replace_segments(value: str, mapping: dict[str, str]) -> str:
    for old, new in mapping.items():
        if old.startswith("/"):
            value = re.sub(re.escape(old) + r"(?=/|$|\{)", new, value)
    return value


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
