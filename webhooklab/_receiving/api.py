"""The JSON API under /api: events, one event, its inspection, replay and edit-and-resend, endpoint answers, exports.

One Blueprint; every route reads the receiver's parts from `parts()`, which the
app factory puts in `app.extensions`. The guard (_receiving/guard.py) has already checked
that the request comes from the local user.
"""

from __future__ import annotations

import re
import tempfile
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, request
from werkzeug.wsgi import wrap_file

from .._checks import got
from .._errors import UsageError
from .._sending.delivery import post
from .._version import __version__
from . import export as exports
from . import resend
from .export import curl
from .guard import names_this_machine, on_this_machine
from .rules import Rule
from .urls import stored_url

api = Blueprint("api", __name__, url_prefix="/api")

# Each export: its content type, and the generator that writes it (see export.py).
EXPORTS = {"json": ("application/json", exports.json_array), "jsonl": ("application/jsonl", exports.json_lines),
           "csv": ("text/csv; charset=utf-8", exports.csv_rows), "har": ("application/json", exports.har)}  # fmt: skip
PAGE, MAX_PAGE = 100, 1000  # events in one page of /api/events: by default, and at most
REPLAYS_IN_FLIGHT = 4  # replays sent at once; more wait for none of them and get a 429
MAX_IDS = 1000  # events one ?ids= filter may name (SQLite limits the values in one query)
# Explanation steps that would let whoever reads them forge a signature, or find it character by character.
SECRET_STEPS = ("expected", "first difference")


def parts():
    """The receiver's store, answers, verifiers and handlers: see app.Parts."""
    return current_app.extensions["webhooklab"]


@api.get("")
def index():
    return {
        "webhooklab": __version__,
        "send webhooks to": request.url_root + "hooks/<endpoint>",
        "captured events": request.url_root + "api/events",
        "inspector": request.url_root,
    }


@api.get("/events")
def list_events():
    """One page of summaries, and the total the filters select: never everything at once.

    Oldest first from `after` (an id; 0 by default), or newest first with
    `newest=1` or a `before` id. `limit` is 1 to 1000 (100 by default);
    `offset` skips that many (the page jumps to a place in the list with it).
    `next` holds the cursor of the following page: {"after": id} going
    forward (there even when has_more is false, to ask again later), or
    {"before": id} going back (None at the oldest). Filters: endpoint,
    provider, event_type, verified, q (text in the body), ids, and since
    (ids above it only: unlike the cursor `after`, `total` counts by it, so
    `since=S&newest=1&limit=1` is how many arrived after S, and the newest).
    """
    after = query_int(request.args.get("after", "0"), "after")
    before = query_int(request.args["before"], "before") if request.args.get("before") else None
    limit = query_int(request.args.get("limit", str(PAGE)), "limit")
    offset = query_int(request.args.get("offset", "0"), "offset")
    if not 1 <= limit <= MAX_PAGE:
        raise UsageError(f"limit is how many events one page holds, 1 to {MAX_PAGE}, got {limit}")
    newest = request.args.get("newest", "1" if before is not None and "after" not in request.args else "0")
    newest = newest in ("1", "true")
    chosen = filters(request.args)
    events, total, more = parts().store.page(after=after, before=before, limit=limit, offset=offset,
                                                    newest=newest, **chosen)  # fmt: skip
    if newest:
        following = {"before": events[-1]["id"]} if more else None
    else:
        following = {"after": events[-1]["id"] if events else after}
    return {"events": events, "total": total, "limit": limit, "has_more": more, "next": following}


@api.delete("/events")
def delete_events():
    """Forget every event (ids are not reused): on a class server, what frees a bin's room."""
    deleted = parts().store.count()
    parts().store.clear()
    return {"deleted": deleted}


@api.get("/events/<int:event_id>")
def one_event(event_id: int):
    return parts().store.get(event_id).to_dict()


@api.get("/events/<int:event_id>/inspect")
def inspect(event_id: int):
    """The verdict step by step, every attempt with the same delivery id, and the request as curl."""
    store, verifiers = parts().store, parts().verifiers
    event = store.get(event_id)
    explanation = verifiers.explain(event.endpoint, event.provider, event.header_pairs, event.body,
                                    stored_url(event, request.environ))
    attempts = store.summaries(event.endpoint, delivery_id=event.delivery_id) if event.delivery_id else []
    owner = parts().owner_by_path or on_this_machine(request.remote_addr)  # a bin's path token makes its owner
    if explanation is not None and not (parts().show_expected and owner):
        hidden = "hidden: with it anyone could sign a body (shown only on the receiver's own machine)"
        explanation.steps = [(step, hidden if step.startswith(SECRET_STEPS) else value)
                             for step, value in explanation.steps]  # fmt: skip
    return {
        "explanation": None if explanation is None else {
            "ok": explanation.ok, "reason": explanation.reason, "message": explanation.message,
            "provider": explanation.provider, "steps": explanation.steps,
        },
        "attempts": attempts,
        "curl": curl(event, request.url_root),
    }  # fmt: skip


@api.post("/events/<int:event_id>/replay")
def replay(event_id: int):
    """Send a captured request again: as captured, or edited (method, headers, body) and re-signed (see resend.py).

    When it went to this receiver, the answer names the request it stored, its verdict, and why it failed.
    """
    event = parts().store.get(event_id)
    options = request.get_json(silent=True) or {}
    if not isinstance(options, dict):
        raise UsageError(f"replay takes a JSON object such as {{\"url\": \"...\"}}, got {got(options)}")
    # By default, to this receiver itself: the address the connection reached, not the one a proxy showed.
    own = request.environ.get("webhooklab.local_url", request.host_url.rstrip("/"))
    url = options.get("url") or own + event.path + (f"?{event.query}" if event.query else "")
    if parts().replay_to_self:
        url = own_hook(url, own)
        if url is None:
            return problem(403, f"this bin replays only to its own webhook endpoints, {request.url_root}hooks/<name>",
                           str(options.get("url"))[:200], "a class server sends nothing anywhere else on a learner's "
                           "behalf; leave the URL empty to replay to the endpoint the event came to")  # fmt: skip
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise UsageError(f"the URL must start with http:// or https://, got {got(url)}")
    target = urlsplit(url)
    if not parts().replay_to_self and _is_this_server(target) and not target.path.startswith("/hooks/"):
        raise UsageError(f"a replay goes to a webhook endpoint (/hooks/<name>), not to this receiver's {target.path!r}")
    sending = resend.edited(event, options, parts().verifiers)
    if not parts().replays.acquire(blocking=False):
        return {"error": f"{REPLAYS_IN_FLIGHT} replays are already on their way; try again when one answers"}, 429
    store = parts().store
    _, newest = store.span()
    try:
        attempt = post(url, sending.body, sending.headers, timeout=30, method=sending.method)
    finally:
        parts().replays.release()
    stored = _stored(store, newest, sending, url) if _is_this_server(target) else None
    return {"url": url, "method": sending.method, "status": attempt.status, "error": attempt.error,
            "elapsed": attempt.elapsed, "resigned": sending.resigned, "edited": sending.edited,
            "event_id": stored and stored.id, "verified": stored and stored.verified,
            "cause": stored and resend.cause(event, stored)}  # fmt: skip


@api.get("/events/<int:event_id>/compare/<int:other_id>")
def compare(event_id: int, other_id: int):
    """What changed from one request to another: an edited resend and its original, or two attempts of a delivery."""
    store = parts().store
    return resend.compare(store.get(event_id), store.get(other_id))


def _stored(store, after: int, sending, url: str):
    """The request a send to this receiver stored: the first after `after` with its method, path and body.

    A bin's events keep the path below its own prefix (/b/<token>), which the URL holds in front.
    """
    path = urlsplit(url).path
    for summary in store.summaries(after=after, limit=50):  # the bodies only of those of the right method and size
        if (summary["method"], summary["size"]) == (sending.method, len(sending.body)):
            candidate = store.get(summary["id"])
            if candidate.body == sending.body and path.endswith(candidate.path):
                return candidate
    return None


@api.get("/endpoints")
def endpoints():
    counts, rules = parts().store.endpoints(), parts().responses.rules()
    names = sorted(counts.keys() | rules.keys())
    default = Rule()
    return {"endpoints": [
        {"endpoint": name, "events": counts.get(name, 0), "status": rules.get(name, default).status,
         "delay": rules.get(name, default).delay, "fail_first": rules.get(name, default).fail_first}
        for name in names
    ]}  # fmt: skip


@api.put("/endpoints/<name>")
def set_endpoint(name: str):
    settings = request.get_json(silent=True)
    if not isinstance(settings, dict):
        raise UsageError(f"send a JSON object with status, delay and fail_first, got {got(settings)}")
    numbers = {key: settings.get(key, default) for key, default in (("status", 200), ("delay", 0), ("fail_first", 0))}
    for key, value in numbers.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise UsageError(f"{key} must be a number, got {got(value)}")
    rule = Rule(numbers["status"], float(numbers["delay"]), numbers["fail_first"])
    if rule.delay > parts().max_delay:
        raise UsageError(
            f"delay can be at most {parts().max_delay:g} s here, got {rule.delay:g}: this is a shared server, "
            "and every sender has given up by then (GitHub after 10 s, Shopify after 5 s)"
        )
    parts().responses.set(name, rule)
    return {"endpoint": name, "status": rule.status, "delay": rule.delay, "fail_first": rule.fail_first}


@api.get("/export.<kind>")
def export(kind: str):
    """Every event the filters select, written to a temporary file while the store is read in batches."""
    if kind not in EXPORTS:
        return {"error": f"export as json, jsonl, csv or har, not {kind!r}"}, 404
    content_type, write = EXPORTS[kind]
    events = parts().store.iterate(**filters(request.args))
    return download(write(events, request.url_root), content_type, f"webhooklab-events.{kind}")


@api.errorhandler(UsageError)
def bad_input(error):
    return problem(400, str(error), request.full_path.rstrip("?"))


def download(pieces, content_type: str, filename: str) -> Response:
    """A file to download, written to a temporary file first: the server's event loop sends it as the client reads.

    Streamed from a worker instead, a client that never reads would hold that worker for as long as it
    keeps the socket open; here the worker is done once the file is written.
    """
    file = tempfile.TemporaryFile()
    try:
        for piece in pieces:
            file.write(piece.encode("utf-8"))
        size = file.tell()
        file.seek(0)
    except BaseException:
        file.close()
        raise
    headers = {"Content-Disposition": f"attachment; filename={filename}", "Content-Length": str(size)}
    if "wsgi.file_wrapper" not in request.environ:  # a server that cannot send a file itself reads it back in pieces
        return Response(_pieces(file), content_type=content_type, headers=headers)
    return Response(wrap_file(request.environ, file), content_type=content_type, direct_passthrough=True,
                    headers=headers)


def _pieces(file, size: int = 64 * 1024):
    with file:
        while chunk := file.read(size):
            yield chunk


def problem(status: int, error: str, arrived: str, hint: str | None = None) -> tuple[dict, int]:
    """An error as JSON: what went wrong, what arrived, and what to do."""
    answer = {"error": error, "arrived": arrived}
    if hint:
        answer["hint"] = hint
    return answer, status


def filters(args) -> dict:
    """The list filters a query string carries: endpoint, provider, event_type, verified, q, ids, since."""
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
    if args.get("since"):
        chosen["since"] = query_int(args["since"], "since")
    return chosen


def query_int(text: str, name: str) -> int:
    """A query value that must be a whole number SQLite can hold (0 to 2**63 - 1)."""
    if not re.fullmatch(r"[0-9]{1,19}", text) or int(text) >= 2**63:
        raise UsageError(f"{name} must be a whole number from 0 to {2**63 - 1}, got {text[:40]!r}")
    return int(text)


def own_hook(url, own: str) -> str | None:
    """The URL of this receiver's own endpoint that `url` names (by the page's address or the socket's), or None."""
    if not isinstance(url, str):
        return None
    for base in (request.url_root, own.rstrip("/") + "/"):
        if url.startswith(base + "hooks/"):
            rest = url[len(base + "hooks/"):]
            segments = rest.split("?", 1)[0].split("/")
            if rest and segments[0] and not any(s in (".", "..") or "%2" in s.lower() or "\\" in s for s in segments):
                return own.rstrip("/") + "/hooks/" + rest
    return None


def _is_this_server(url) -> bool:
    """Whether a URL names this receiver: any address of this machine, however spelled, on the port it serves."""
    try:
        port = url.port or (443 if url.scheme == "https" else 80)
    except ValueError:
        return False
    return str(port) == request.environ.get("SERVER_PORT") and names_this_machine(url.hostname, port)
