"""The web inspector: a live page of everything the receiver captured, served by the receiver at /.

The page is static HTML, CSS and JavaScript from this package (no CDN, no
inline script, a strict Content-Security-Policy); it reads the JSON API
below, which this module adds to the receiver's app.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

from flask import Response, request, send_from_directory

from ..delivery import post
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


def add_inspector(app, store, responses, verifiers, rule_type) -> None:
    """Add the page and its API to the receiver's Flask app."""

    @app.after_request
    def protect(response: Response) -> Response:
        if not request.path.startswith("/hooks/"):  # the answers to webhooks stay exactly as configured
            response.headers["Content-Security-Policy"] = POLICY
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "no-referrer"
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
        url = options.get("url") or request.host_url.rstrip("/") + event.path
        if not url.startswith(("http://", "https://")):
            return {"error": f"the URL must start with http:// or https://, got {url!r}"}, 400
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
        attempt = post(url, body, headers, timeout=30)
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
        settings = request.get_json(silent=True) or {}
        try:
            rule = rule_type(int(settings.get("status", 200)), float(settings.get("delay", 0)),
                             int(settings.get("fail_first", 0)))  # fmt: skip
        except (TypeError, ValueError) as error:
            return {"error": str(error), "arrived": settings}, 400
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
        chosen["ids"] = [int(i) for i in args["ids"].split(",") if i.strip().isdigit()]
    return chosen


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
