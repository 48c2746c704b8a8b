"""The web inspector: a live page of everything the receiver captured, served by the receiver at /.

The page is static HTML, CSS and JavaScript from this package (no CDN, no
inline script, a strict Content-Security-Policy); it reads the JSON API
below, which this module adds to the receiver's app.
"""

from __future__ import annotations

import html
import ipaddress
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from flask import Response, request, send_from_directory

from ..delivery import post
from ..checks import got
from ..errors import UsageError
from ..guard import hostname, is_ip, on_this_machine
from ..providers import PROVIDERS
from .export import curl, replay_headers, to_csv, to_har, to_json

STATIC = Path(__file__).parent / "static"
# Scripts and styles only from this server; nothing inline; nothing else at all. Frames only from
# a notebook on this machine, for rx.inspector().
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self' http://127.0.0.1:* http://localhost:*"
)
EXPORTS = {"json": "application/json", "csv": "text/csv", "har": "application/json"}
REPLAYS_IN_FLIGHT = 4  # replays sent at once; more wait for none of them and get a 429
MAX_IDS = 1000  # events one ?ids= filter may name (SQLite limits the values in one query)
# Explanation steps that would let whoever reads them forge a signature, or find it character by character.
SECRET_STEPS = ("expected", "first difference")


def add_inspector(app, store, responses, verifiers, rule_type, *, show_expected: bool = True) -> None:
    """Add the page and its API to the receiver's Flask app.

    `show_expected=False` hides the expected signatures from the explanations the page shows; they are
    always hidden from anyone not on this machine, since with them one could sign any body.
    """
    replays = threading.BoundedSemaphore(REPLAYS_IN_FLIGHT)

    @app.after_request
    def protect(response: Response) -> Response:
        if not request.path.startswith("/hooks/"):  # the answers to webhooks stay exactly as configured
            response.headers["Content-Security-Policy"] = POLICY
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
        return response

    @app.get("/")
    def page():
        return send_from_directory(STATIC, "index.html")

    @app.get("/favicon.ico")
    def no_icon():
        return "", 204

    @app.get("/inspector/<path:name>")
    def static_file(name: str):
        return send_from_directory(STATIC, name, max_age=0)

    @app.get("/api/events/<int:event_id>/inspect")
    def inspect(event_id: int):
        event = store.get(event_id)
        explanation = verifiers.explain(event.endpoint, event.provider, event.header_pairs, event.body)
        attempts = store.summaries(event.endpoint, delivery_id=event.delivery_id) if event.delivery_id else []
        if explanation is not None and not (show_expected and on_this_machine(request.remote_addr)):
            hidden = "hidden: with it anyone could sign a body (shown only on the receiver's own machine)"
            explanation.steps = [(step, hidden if step.startswith(SECRET_STEPS) else value)
                                 for step, value in explanation.steps]  # fmt: skip
        return {
            "explanation": None if explanation is None else {
                "ok": explanation.ok, "reason": explanation.reason, "message": explanation.message,
                "provider": explanation.provider, "steps": explanation.steps,
            },
            "attempts": attempts,
            "curl": curl(event, request.host_url.rstrip("/") + event.path + (f"?{event.query}" if event.query else "")),
        }  # fmt: skip

    @app.post("/api/events/<int:event_id>/replay")
    def replay(event_id: int):
        """Send a captured request again: as captured, or re-signed with a secret."""
        event = store.get(event_id)
        options = request.get_json(silent=True) or {}
        if not isinstance(options, dict):
            raise UsageError(f"replay takes a JSON object such as {{\"url\": \"...\"}}, got {got(options)}")
        url = options.get("url") or request.host_url.rstrip("/") + event.path
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise UsageError(f"the URL must start with http:// or https://, got {got(url)}")
        target = urlsplit(url)
        if _is_this_server(target) and not target.path.startswith("/hooks/"):
            raise UsageError(f"a replay goes to a webhook endpoint (/hooks/<name>), not to this receiver's {target.path!r}")
        body, headers = event.body, replay_headers(event)
        if options.get("resign"):
            provider = PROVIDERS.get(options.get("provider") or event.provider)
            if provider is None:
                return {"error": "say which provider's scheme re-signs it: stripe, github, shopify or standard"}, 400
            try:
                signer = provider(options.get("secret") or None)
            except ValueError as error:
                return {"error": str(error)}, 400
            kind = event.header("X-GitHub-Event") or event.header("X-Shopify-Topic") or event.event_type
            body, headers = signer.sign(event.body, event_type=kind, delivery_id=event.delivery_id)
        if not replays.acquire(blocking=False):
            return {"error": f"{REPLAYS_IN_FLIGHT} replays are already on their way; try again when one answers"}, 429
        try:
            attempt = post(url, body, headers, timeout=30)
        finally:
            replays.release()
        return {"url": url, "status": attempt.status, "error": attempt.error, "elapsed": attempt.elapsed,
                "resigned": bool(options.get("resign"))}  # fmt: skip

    @app.get("/api/endpoints")
    def endpoints():
        rules = responses.rules()
        names = sorted({row["endpoint"] for row in store.summaries()} | rules.keys())
        default = rule_type()
        return {"endpoints": [
            {"endpoint": name, "events": store.count(name), "status": rules.get(name, default).status,
             "delay": rules.get(name, default).delay, "fail_first": rules.get(name, default).fail_first}
            for name in names
        ]}  # fmt: skip

    @app.put("/api/endpoints/<name>")
    def set_endpoint(name: str):
        settings = request.get_json(silent=True)
        if not isinstance(settings, dict):
            raise UsageError(f"send a JSON object with status, delay and fail_first, got {got(settings)}")
        numbers = {key: settings.get(key, default) for key, default in (("status", 200), ("delay", 0), ("fail_first", 0))}
        for key, value in numbers.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise UsageError(f"{key} must be a number, got {got(value)}")
        rule = rule_type(numbers["status"], float(numbers["delay"]), numbers["fail_first"])
        responses.set(name, rule)
        return {"endpoint": name, "status": rule.status, "delay": rule.delay, "fail_first": rule.fail_first}

    @app.get("/api/export.<kind>")
    def export(kind: str):
        if kind not in EXPORTS:
            return {"error": f"export as json, csv or har, not {kind!r}"}, 404
        events = store.list(**filters(request.args))
        if kind == "json":
            text = to_json(events)
        elif kind == "csv":
            text = to_csv(events)
        else:
            text = json.dumps(to_har(events, request.host_url), indent=2)
        return Response(text, content_type=EXPORTS[kind],
                        headers={"Content-Disposition": f"attachment; filename=webhooklab-events.{kind}"})  # fmt: skip


def filters(args) -> dict:
    """The list filters a query string carries: endpoint, provider, event_type, verified, q, ids."""
    chosen = {key: args[key] for key in ("endpoint", "provider", "event_type") if args.get(key)}
    verified = args.get("verified")
    if verified:
        chosen["verified"] = {"true": True, "false": False}.get(verified, "unchecked")
    if args.get("q"):
        chosen["search"] = args["q"]
    if args.get("ids"):
        ids = [query_int(i.strip(), "each of ids") for i in args["ids"].split(",") if i.strip()]
        if len(ids) > MAX_IDS:
            raise UsageError(f"ids can name at most {MAX_IDS} events at once, got {len(ids)}")
        chosen["ids"] = ids
    return chosen


def query_int(text: str, name: str) -> int:
    """A query value that must be a whole number SQLite can hold (0 to 2**63 - 1)."""
    if not re.fullmatch(r"[0-9]{1,19}", text) or int(text) >= 2**63:
        raise UsageError(f"{name} must be a whole number from 0 to {2**63 - 1}, got {text[:40]!r}")
    return int(text)


def _is_this_server(url) -> bool:
    """Whether a URL names this receiver (by IP address or localhost, on the port it serves)."""
    try:
        port = url.port or (443 if url.scheme == "https" else 80)
    except ValueError:
        return False
    host = hostname(url.hostname or "")
    local = host == "localhost" or (is_ip(host) and (ipaddress.ip_address(host).is_loopback
                                                     or ipaddress.ip_address(host).is_unspecified))  # fmt: skip
    return local and str(port) == request.environ.get("SERVER_PORT")


@dataclass(frozen=True)
class InspectorView:
    """What rx.inspector() shows in a notebook: a link to the page, and the page itself."""

    url: str
    height: int = 600

    def _repr_html_(self) -> str:
        url = html.escape(self.url, quote=True)
        return (
            f'<p><a href="{url}" target="_blank" rel="noopener">Open the webhooklab inspector</a> ({url})</p>'
            f'<iframe src="{url}" width="100%" height="{int(self.height)}" style="border:1px solid #ddd"></iframe>'
        )

    def __repr__(self) -> str:
        return f"webhooklab inspector: {self.url}"
