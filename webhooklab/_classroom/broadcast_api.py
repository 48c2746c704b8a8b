"""The dashboard's API for broadcasts (broadcast.py), mounted under /teacher/<admin>/ beside the class table.

    GET  api/broadcasts/options   what a broadcast can send: each provider, its event types and retry schedule,
                                  the default endpoint, the learners' names
    POST api/broadcasts           {"provider": "stripe", "event_type": "payment_intent.succeeded",
                                  "endpoint": "shop", "learner": null, "replay": 10}: starts one and answers
                                  202 at once, with its number; the deliveries run on the broadcaster's threads
    GET  api/broadcasts           every broadcast remembered, newest last: what was sent, and how many copies
                                  are delivered, retrying, waiting or gave up
    GET  api/broadcasts/<n>       one, with each learner's copy attempt by attempt; ?version=V answers
                                  {"unchanged": true} while nothing has changed since version V

A change (the POST) needs the X-Webhooklab header, as every change on this server does (guard.py).
"""

from __future__ import annotations

import json

from flask import request

from .._errors import UsageError
from .._providers import PROVIDERS
from .._receiving.api import problem
from .._sending.timeline import duration
from .broadcast import DEFAULT_ENDPOINT, REPLAY, Busy

MAX_ASK = 4096  # bytes of a POST asking for a broadcast
EXAMPLE = '{"provider": "stripe", "event_type": "payment_intent.succeeded", "endpoint": "shop"}'
FIELDS = ("provider", "event_type", "endpoint", "learner", "replay")


def broadcast_routes(app, server) -> None:
    """The dashboard's broadcast section: the routes above, over the class server's broadcaster (server.broadcasts)."""
    broadcaster = server.broadcasts

    @app.get("/api/broadcasts/options")
    def broadcast_options():
        providers = []
        learners = [one.learner for one in server.bins.values()]
        for name, cls in sorted(PROVIDERS.items()):
            types = cls.event_types()
            if not types:
                continue  # nothing to broadcast without a payload template
            maker = cls(learners[0].secret)
            policy = maker.policy_for(maker.event(types[0]))
            providers.append({"name": name, "title": cls.title, "event_types": types,
                              "first_event": cls.first_event if cls.first_event in types else types[0],
                              "retries": f"{policy.name}: {policy.attempts} attempt(s) over "
                                         f"{duration(policy.offsets()[-1])}"})  # fmt: skip
        return {"providers": providers, "endpoint": DEFAULT_ENDPOINT, "replay": REPLAY,
                "learners": [learner.name for learner in learners]}  # fmt: skip

    @app.post("/api/broadcasts")
    def broadcast_start():
        raw = request.get_data()[: MAX_ASK + 1]
        try:
            asked = _asked(raw)
            broadcast = broadcaster.send(asked.pop("provider", None), asked.pop("event_type", None), **asked)
        except Busy as error:
            return problem(429, str(error), _shown(raw), "a broadcast ends once every copy is delivered or given up")
        except UsageError as error:
            return problem(400, str(error), _shown(raw),
                           f"send {EXAMPLE} (endpoint, learner and replay may be left out); "
                           "GET api/broadcasts/options lists every provider and event type")  # fmt: skip
        return {**broadcast.summary(), "url": f"api/broadcasts/{broadcast.id}"}, 202

    @app.get("/api/broadcasts")
    def broadcast_list():
        return {"broadcasts": [one.summary() for one in broadcaster.all()]}

    @app.get("/api/broadcasts/<int:number>")
    def broadcast_one(number: int):
        broadcast = broadcaster.get(number)
        if broadcast is None:
            kept = [str(b.id) for b in broadcaster.all()]
            return problem(404, f"no broadcast numbered {number} is remembered", request.path,
                           f"the server remembers the latest ones: {', '.join(kept) or 'none yet'}")  # fmt: skip
        if request.args.get("version") == str(broadcast.version):
            return {"id": number, "version": broadcast.version, "unchanged": True}
        return broadcast.to_dict()


def _asked(raw: bytes) -> dict:
    """The POST's fields, as Broadcaster.send takes them; a UsageError says what is wrong with it."""
    if len(raw) > MAX_ASK:
        raise UsageError(f"a broadcast is asked for with at most {MAX_ASK} bytes of JSON, such as {EXAMPLE}")
    try:
        asked = json.loads(raw)
    except ValueError as error:
        raise UsageError(f"the body must be a JSON object such as {EXAMPLE}, and it is not JSON ({error})") from None
    if not isinstance(asked, dict):
        raise UsageError(f"the body must be a JSON object such as {EXAMPLE}, got a JSON {type(asked).__name__}")
    unknown = sorted(set(asked) - set(FIELDS))
    if unknown:
        raise UsageError(f"a broadcast has no field {unknown[0][:100]!r}: its fields are {', '.join(FIELDS)}")
    return {key: value for key, value in asked.items() if value is not None or key in ("provider", "event_type")}


def _shown(raw: bytes) -> str:
    return raw[:200].decode("utf-8", "replace")
