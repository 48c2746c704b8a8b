"""Every public call answers bad input with a WebhooklabError that names what it expected.

The calls are discovered, not listed: every callable name in `__all__` of webhooklab and of its
public packages, and every public method their classes define. BAD holds, for each of them, calls
with a wrong type or a wrong value, the exception each must raise (exactly: a wrong kind of value
is a UsageTypeError, a wrong value of the right kind a UsageError) and what its message must say.
A test checks that BAD, with the few calls that take nothing to get wrong, covers every callable
discovered, so a new public call without a row here fails the suite.
"""

from __future__ import annotations

import importlib
import inspect
import pickle
import random
import re
from collections.abc import Callable
from dataclasses import fields
from typing import NamedTuple

import pytest
import requests

import webhooklab as wl
from webhooklab._providers import PROVIDERS, unregister

PACKAGES = ["webhooklab", "webhooklab.widgets", "webhooklab.demos", "webhooklab.grader", "webhooklab.testing"]
DUNDERS = ("__call__", "__getitem__")  # called as webhook(app, ...) and arrived[i]: public, though underscored
U, T, R = wl.UsageError, wl.UsageTypeError, wl.ReceiverError


class Bad(NamedTuple):
    call: Callable  # given the subject: the instance for a method, else the class or function itself
    error: type  # exactly this class is raised
    says: str  # a regular expression the message must match: what was expected


def ours(klass) -> bool:
    return (getattr(klass, "__module__", "") or "").split(".")[0] == "webhooklab"


def public_callables() -> dict[str, object]:
    """Every public callable, by the name a learner types after the package: 'Receiver.url', 'grader.Challenge'."""
    found: dict[str, object] = {}
    for package in PACKAGES:
        module = importlib.import_module(package)
        prefix = package.removeprefix("webhooklab").lstrip(".")
        for name in module.__all__:
            value = getattr(module, name)
            if not callable(value):
                continue  # __version__, QUESTIONS, SCENARIOS: data
            label = f"{prefix}.{name}" if prefix else name
            found[label] = value
            if not isinstance(value, type) or issubclass(value, BaseException):
                continue
            for klass in filter(ours, value.__mro__):  # not what ipywidgets, dict or Sequence define
                for attr, raw in vars(klass).items():
                    if (attr.startswith("_") and attr not in DUNDERS) or isinstance(raw, property):
                        continue
                    if isinstance(raw, (classmethod, staticmethod)) or inspect.isfunction(raw):
                        found.setdefault(f"{label}.{attr}", getattr(value, attr))
    return found


CALLABLES = public_callables()
PROVIDER_CLASSES = {name: getattr(wl, name) for name in ("GitHub", "Shopify", "Slack", "StandardWebhooks", "Stripe", "Twilio")}

# -- what a provider's calls refuse: the same rows for every built-in provider ------------------------

EVENT = {"id": "evt_1", "type": "payment_intent.succeeded"}
PROVIDER_BAD = {
    "": [Bad(lambda cls: cls(secret=5), T, "needs a secret: a non-empty string"),
         Bad(lambda cls: cls(secret=""), U, "needs a secret.*environment variable"),
         Bad(lambda cls: cls(secret=["whsec_x", None]), T, "got None among them")],
    "at": [Bad(lambda p: p.at(5), T, "URL"), Bad(lambda p: p.at("/hooks/shop"), U, "URL")],
    "event": [Bad(lambda p: p.event(5), T, "event.type"), Bad(lambda p: p.event(None), T, "event.type")],
    "serialize": [Bad(lambda p: p.serialize(object()), T, "a payload from event\\(\\), a dict")],
    "sign": [Bad(lambda p: p.sign(EVENT, timestamp="soon"), T, "timestamp must be a number of seconds"),
             Bad(lambda p: p.sign(EVENT, delivery_id=5), T, "delivery_id must be"),
             Bad(lambda p: p.sign(EVENT, event_type=5), T, "event_type must be")],
    "verify": [Bad(lambda p: p.verify({"id": 1}, {}), T, "raw body as received"),
               Bad(lambda p: p.verify(b"{}", 5), T, "headers as a dict or a list"),
               Bad(lambda p: p.verify(b"{}", {}, tolerance="5"), T, "tolerance must be a number of seconds"),
               Bad(lambda p: p.verify(b"{}", {}, tolerance=-1), U, "tolerance cannot be negative"),
               Bad(lambda p: p.verify(b"{}", {}, now="now"), T, "now must be a number of seconds")],
    "explain": [Bad(lambda p: p.explain(["body"], {}), T, "raw body as received"),
                Bad(lambda p: p.explain(b"{}", {}, tolerance=float("nan")), U, "finite number of seconds")],
    "send": [Bad(lambda p: p.send(EVENT, to=5), T, "URL"), Bad(lambda p: p.send(EVENT, to="shop"), U, "URL"),
             Bad(lambda p: p.send(EVENT, to="http://127.0.0.1:9/", timeout="fast"), T, "timeout must be seconds"),
             Bad(lambda p: p.send(EVENT, to="http://127.0.0.1:9/", timeout=0), U, "more than 0 seconds")],
    "policy_for": [Bad(lambda p: p.policy_for(42), T, "an event: a payload from event\\(\\)")],
    "deliver": [Bad(lambda p: p.deliver(EVENT, to=None), T, "URL"),
                Bad(lambda p: p.deliver(EVENT, to="http://127.0.0.1:9/", background="yes"), T, "background must be True or False"),
                Bad(lambda p: p.deliver(EVENT, to="http://127.0.0.1:9/", policy="fast"), T, "policy must be a wl.RetryPolicy"),
                Bad(lambda p: p.deliver(EVENT, to="http://127.0.0.1:9/", clock=5), T, "clock must be"),
                Bad(lambda p: p.deliver(EVENT, to="http://127.0.0.1:9/", on_attempt=5), T, "on_attempt must be")],
    "deliver_many": [Bad(lambda p: p.deliver_many(5, to="http://127.0.0.1:9/"), T, "events must be"),
                     Bad(lambda p: p.deliver_many([EVENT], to="http://127.0.0.1:9/", concurrency=0), U, "concurrency"),
                     Bad(lambda p: p.deliver_many([EVENT], to="http://127.0.0.1:9/", duplicate_rate=2), U, "duplicate_rate"),
                     Bad(lambda p: p.deliver_many([EVENT], to=5), T, "URL")],
}  # fmt: skip


def start_twice(delivery):
    return delivery.start()  # the delivery given has run already


BAD: dict[str, list[Bad]] = {
    # -- the package's functions --------------------------------------------------------------
    "register": [Bad(lambda f: f(5), T, "subclass of Provider with a `name`"),
                 Bad(lambda f: f(type("Acme", (wl.Provider,), {})), T, "subclass of Provider with a `name`"),
                 Bad(lambda f: f(type("Stripe2", (wl.Stripe,), {})), U, "'stripe' is already registered")],
    "workshop_receiver": [Bad(lambda f: f(port="8000"), T, "port must be a whole number"),
                          Bad(lambda f: f(colour="red"), T, "colour")],
    "join_class": [Bad(lambda f: f(5), T, "a bin URL is a str"), Bad(lambda f: f("nowhere"), U, "a bin URL looks like")],
    "push_vs_poll": [Bad(lambda f: f(duration="10"), T, "duration must be a number of seconds"),
                     Bad(lambda f: f(rate=0), U, "rate is how many events happen per second"),
                     Bad(lambda f: f(intervals=5), T, "intervals must be"),
                     Bad(lambda f: f(arrivals="bursty"), U, "arrivals is 'random' or 'steady'"),
                     Bad(lambda f: f(conditional="yes"), T, "conditional must be True or False"),
                     Bad(lambda f: f(seed="x"), T, "seed must be"),
                     Bad(lambda f: f(progress="yes"), T, "progress must be True or False")],
    # -- the exceptions: raised with a message, and SignatureError with its reason too ---------------
    "SignatureError": [Bad(lambda cls: cls(5, "message"), T, "takes two str: the reason must be"),
                       Bad(lambda cls: cls("no_matching_signature", None), T, "takes two str")],
    # -- time and retries ---------------------------------------------------------------------
    "RealClock.wait_until": [Bad(lambda c: c.wait_until("soon"), T, "when must be a number of seconds")],
    "VirtualClock": [Bad(lambda cls: cls("now"), T, "start must be a number of seconds")],
    "VirtualClock.wait_until": [Bad(lambda c: c.wait_until(None), T, "when must be a number of seconds")],
    "AcceleratedClock": [Bad(lambda cls: cls(0), U, "speed must be more than 0"),
                         Bad(lambda cls: cls("fast"), T, "speed must be a number"),
                         Bad(lambda cls: cls(start="now"), T, "start must be a number of seconds")],
    "AcceleratedClock.wait_until": [Bad(lambda c: c.wait_until([1]), T, "when must be a number of seconds")],
    "RetryPolicy": [Bad(lambda cls: cls(5), T, "delays must be"), Bad(lambda cls: cls([-1]), U, "cannot be negative"),
                    Bad(lambda cls: cls(["5 min"]), T, "each of delays must be a number of seconds"),
                    Bad(lambda cls: cls(jitter=1), U, "jitter is a fraction from 0 to below 1"),
                    Bad(lambda cls: cls(name=5), T, "name must be"),
                    Bad(lambda cls: cls(timeout="slow"), T, "timeout must be seconds"),
                    Bad(lambda cls: cls(resigns="yes"), T, "resigns must be True or False"),
                    Bad(lambda cls: cls(abort_header="X-Stop"), T, "abort_header must be"),
                    Bad(lambda cls: cls(redeliver_within="3 d"), T, "redeliver_within must be a number of seconds"),
                    Bad(lambda cls: cls(seed=1.5), T, "seed must be")],
    "RetryPolicy.stripe": [Bad(lambda cls: cls.stripe(live="yes"), T, "live must be True or False")],
    "RetryPolicy.shopify": [Bad(lambda cls: cls.shopify(admin_api=1), T, "admin_api must be True or False")],
    "RetryPolicy.exponential": [Bad(lambda cls: cls.exponential("5"), T, "first must be a number of seconds"),
                                Bad(lambda cls: cls.exponential(5, retries=-1), U, "retries cannot be negative"),
                                Bad(lambda cls: cls.exponential(5, factor=0), U, "factor must be more than 0"),
                                Bad(lambda cls: cls.exponential(5, cap="1 h"), T, "cap must be a number of seconds")],
    "RetryPolicy.with_timeout": [Bad(lambda p: p.with_timeout("slow"), T, "timeout must be seconds")],
    "RetryPolicy.wait": [Bad(lambda p: p.wait(0, random.Random()), U, "retry is from 1 to"),
                         Bad(lambda p: p.wait("1", random.Random()), T, "retry must be a whole number"),
                         Bad(lambda p: p.wait(1, 42), T, "rng must be a random.Random")],
    "RetryPolicy.plot": [Bad(lambda p: p.plot(ax="left"), T, "ax must be a matplotlib Axes")],
    "Delivery": [Bad(lambda cls: cls(5, EVENT, "http://127.0.0.1:9/"), T, "provider must be a provider"),
                 Bad(lambda cls: cls(wl.Stripe(), EVENT, "shop"), U, "URL"),
                 Bad(lambda cls: cls(wl.Stripe(), EVENT, "http://127.0.0.1:9/", delivery_id=5), T, "delivery_id must be")],
    "Delivery.start": [Bad(start_twice, U, "started already")],
    "Delivery.wait": [Bad(lambda d: d.wait("soon"), T, "timeout must be a number of seconds")],
    "Delivery.redeliver": [Bad(lambda d: d.redeliver(after="1 h"), T, "after must be a number of seconds"),
                           Bad(lambda d: d.redeliver(after=30 * 86400), U, "keeps deliveries for")],
    "Delivery.timeline": [Bad(lambda d: d.timeline(ax=5), T, "ax must be a matplotlib Axes")],
    "Deliveries": [Bad(lambda cls: cls(5), T, "Deliveries holds wl.Delivery"), Bad(lambda cls: cls([5]), T, "Deliveries holds wl.Delivery")],
    # -- providers: the rows above, and what one provider alone takes ------------------------------
    "Provider": [Bad(lambda cls: cls(), T, "template"), Bad(lambda cls: cls("whsec_x"), T, "template")],
    "Payload": [Bad(lambda cls: cls(5, "push"), T, "a dict"), Bad(lambda cls: cls({}, 5), T, "event_type must be")],
    "Explanation": [Bad(lambda cls: cls(5), T, "provider must be")],
    "Explanation.add": [Bad(lambda e: e.add(1, "x"), T, "step must be"), Bad(lambda e: e.add("x", None), T, "value must be")],
    "Explanation.fail": [Bad(lambda e: e.fail(None, "message"), T, "reason must be a SignatureError reason"),
                         Bad(lambda e: e.fail("missing_header", 5), T, "message must be")],
    "GitHub": [*PROVIDER_BAD[""], Bad(lambda cls: cls(hook_id="520198316"), T, "hook_id must be")],
    "GitHub.event": [*PROVIDER_BAD["event"], Bad(lambda p: p.event("push", repository="octocat"), U, "'owner/name'"),
                     Bad(lambda p: p.event("push", commits="fix"), T, "commits is a list of commit messages"),
                     Bad(lambda p: p.event("push", colour="red"), T, "has no field or option 'colour'")],
    "GitHub.sign": [*PROVIDER_BAD["sign"], Bad(lambda p: p.sign({"x": 1}), U, "cannot tell which GitHub event")],
    "Shopify": [*PROVIDER_BAD[""], Bad(lambda cls: cls(shop=5), T, "shop must be")],
    "Shopify.event": [*PROVIDER_BAD["event"], Bad(lambda p: p.event("orders/create", currency=5), T, "currency must be"),
                      Bad(lambda p: p.event("orders/create", line_items="MUG"), T, "line_items must be"),
                      Bad(lambda p: p.event("orders/create", line_items=[("NOPE", 1)]), U, "unknown sku 'NOPE'")],
    "Shopify.sign": [*PROVIDER_BAD["sign"], Bad(lambda p: p.sign({"x": 1}), U, "which Shopify topic")],
    "StandardWebhooks": [*PROVIDER_BAD[""], Bad(lambda cls: cls("whsec_short"), U, "base64 of 24 to 64 random bytes"),
                         Bad(lambda cls: cls(prefix=None), T, "prefix must be")],
    "StandardWebhooks.event": [*PROVIDER_BAD["event"], Bad(lambda p: p.event("user.created", data=[1]), T, "data is the event's data")],
    "Stripe.event": [*PROVIDER_BAD["event"], Bad(lambda p: p.event("nope"), U, "has no event type 'nope'"),
                     Bad(lambda p: p.event("payment_intent.succeeded", amount="lots"), T, "amount is in the smallest currency unit"),
                     Bad(lambda p: p.event("payment_intent.succeeded", metadata=5), T, "metadata is a dict")],
    "Twilio": [*PROVIDER_BAD[""], Bad(lambda cls: cls(url="/sms"), U, "full URL Twilio requested"),
               Bad(lambda cls: cls(url=5), T, "full URL Twilio requested")],
    "Twilio.signature": [Bad(lambda p: p.signature(5, {}), T, "url must be"),
                         Bad(lambda p: p.signature("https://example.com/sms", 5), T, "params must be the POST parameters"),
                         Bad(lambda p: p.signature("https://example.com/sms", {}, secret=5), T, "secret must be")],
    "Twilio.sign": [*PROVIDER_BAD["sign"], Bad(lambda p: p.sign(EVENT, url="/sms"), U, "full URL Twilio requested")],
    "Twilio.verify": [*PROVIDER_BAD["verify"], Bad(lambda p: p.verify(b"", {}, url=5), T, "full URL Twilio requested")],
    "Twilio.explain": [*PROVIDER_BAD["explain"], Bad(lambda p: p.explain(b"", {}, url="sms"), U, "full URL Twilio requested")],
    # -- receiving ------------------------------------------------------------------------------
    "Receiver": [Bad(lambda cls: cls(port="8000"), T, "port must be a whole number"),
                 Bad(lambda cls: cls(port=99999), U, "port must be from 0"),
                 Bad(lambda cls: cls(db=5), T, "db must be a file path"),
                 Bad(lambda cls: cls(host=None), T, "host must be the address"),
                 Bad(lambda cls: cls(secrets=["whsec_x"]), T, "secrets must be a dict"),
                 Bad(lambda cls: cls(secrets={"shop": ""}), U, "the secret for endpoint 'shop'"),
                 Bad(lambda cls: cls(reject_invalid="yes"), T, "reject_invalid must be True or False"),
                 Bad(lambda cls: cls(ssl_context="cert.pem"), T, "ssl_context must be"),
                 Bad(lambda cls: cls(allowed_hosts="tunnel.example"), T, "allowed_hosts must be"),
                 Bad(lambda cls: cls(show_expected="no"), T, "show_expected must be True or False"),
                 Bad(lambda cls: cls(share_page=1), T, "share_page must be True or False"),
                 Bad(lambda cls: cls(link=5), T, "link is a URL template"),
                 Bad(lambda cls: cls(frame_ancestors="https://hub.example"), T, "frame_ancestors must be")],
    "Receiver.attach": [Bad(lambda cls: cls.attach(5), T, "a bin URL is a str"),
                        Bad(lambda cls: cls.attach("http://x.example/b/t/", history="all"), T, "history is True")],
    "Receiver.start": [Bad(lambda rx: rx.start(), R, "already running")],
    "Receiver.stop": [Bad(lambda rx: stopped().stop(), R, "not running")],
    "Receiver.url": [Bad(lambda rx: rx.url(5), T, "endpoint name, a str"), Bad(lambda rx: rx.url("a/b"), U, "contains '/'")],
    "Receiver.respond": [Bad(lambda rx: rx.respond("shop", status="200"), T, "from 100 to 599"),
                         Bad(lambda rx: rx.respond("shop", status=700), U, "from 100 to 599"),
                         Bad(lambda rx: rx.respond("shop", delay="5"), T, "number of seconds"),
                         Bad(lambda rx: rx.respond("shop", headers={"X-A": "b\r\nc"}), U, "header injection")],
    "Receiver.on": [Bad(lambda rx: rx.on(5), T, "event_type must be"),
                    Bad(lambda rx: rx.on("*", endpoint=5), T, "endpoint must be an endpoint name"),
                    Bad(lambda rx: rx.on("*", dedupe="yes"), T, "dedupe must be True or False"),
                    Bad(lambda rx: rx.on("*", background=1), T, "background must be True or False"),
                    Bad(lambda rx: rx.on("*")("not a function"), T, "a function to run for each event")],
    "Receiver.inspector": [Bad(lambda rx: rx.inspector(height="tall"), T, "height must be"),
                           Bad(lambda rx: rx.inspector(height=0), U, "height must be at least")],
    "Receiver.wait_for": [Bad(lambda rx: rx.wait_for("1"), T, "whole number of events"),
                          Bad(lambda rx: rx.wait_for(-1), U, "n cannot be negative"),
                          Bad(lambda rx: rx.wait_for(1, timeout="5"), T, "timeout must be a number of seconds"),
                          Bad(lambda rx: rx.wait_for(1, timeout=0.01, endpoint="nothing-here"), wl.WaitTimeout, "Is the sender pointed at")],
    "Receiver.events": [Bad(lambda rx: rx.events(5), T, "endpoint must be an endpoint name"),
                        Bad(lambda rx: rx.events(since="1"), T, "since must be an event id"),
                        Bad(lambda rx: rx.events(limit=-1), U, "limit cannot be negative")],
    "Receiver.event": [Bad(lambda rx: rx.event("1"), T, "an event id is a whole number"),
                       Bad(lambda rx: rx.event(10**12), wl.EventNotFound, "no event with id")],
    "Receiver.arrivals": [Bad(lambda rx: rx.arrivals(5), T, "endpoint must be an endpoint name"),
                          Bad(lambda rx: rx.arrivals("a/b"), U, "contains '/'")],
    "Receiver.listen": [Bad(lambda rx: rx.listen(5), T, "callback must be")],
    "Receiver.unlisten": [Bad(lambda rx: rx.unlisten("callback"), T, "callback must be")],
    "Receiver.import_events": [Bad(lambda rx: rx.import_events(5), T, "path must be the file to import"),
                               Bad(lambda rx: rx.import_events("/nowhere/capture.har"), U, "there is no file at")],
    "Arrivals.__getitem__": [Bad(lambda a: a[5], wl.EventNotFound, "out of range: 1 event"),
                             Bad(lambda a: a["first"], T, "arrivals are read by position")],
    "EventStore": [Bad(lambda cls: cls(5), T, "db must be a file path"), Bad(lambda cls: cls(""), U, "db is an empty path")],
    "EventStore.add": [Bad(lambda s: s.add(endpoint="shop", colour="red"), T, "no field 'colour'"),
                       Bad(lambda s: s.add(endpoint="shop"), T, "needs every field")],
    "EventStore.set_verdict": [Bad(lambda s: s.set_verdict(5, True, None), T, "takes a wl.Event")],
    "EventStore.set_response": [Bad(lambda s: s.set_response(5, 200, {}, b"", note="x"), T, "event must be a wl.Event"),
                                Bad(lambda s, e=None: s.set_response(s.get(-1), "200", {}, b"", note="x"), T, "status must be")],
    "EventStore.count": [Bad(lambda s: s.count(5), T, "endpoint must be an endpoint name"),
                         Bad(lambda s: s.count(colour="red"), T, "no filter 'colour'")],
    "EventStore.get": [Bad(lambda s: s.get(None), T, "an event id is a whole number"),
                       Bad(lambda s: s.get(12345), wl.EventNotFound, "no event with id 12345")],
    "EventStore.list": [Bad(lambda s: s.list(limit="10"), T, "limit must be"), Bad(lambda s: s.list(after=None), T, "after must be"),
                        Bad(lambda s: s.list(offset=-1), U, "offset cannot be negative")],
    "EventStore.summaries": [Bad(lambda s: s.summaries(5), T, "endpoint must be"),
                             Bad(lambda s: s.summaries(verified="yes"), U, "verified is True, False or 'unchecked'")],
    "EventStore.page": [Bad(lambda s: s.page(limit=0), U, "limit must be at least 1"), Bad(lambda s: s.page(search=5), T, "search must be")],
    "EventStore.iterate": [Bad(lambda s: s.iterate(batch=0), U, "batch must be at least 1"),
                           Bad(lambda s: s.iterate(provider=5), T, "provider must be")],
    "EventStore.span": [Bad(lambda s: s.span(["shop"]), T, "endpoint must be an endpoint name")],
    "EventStore.forget": [Bad(lambda s: s.forget(5), T, "ids must be a list of event ids"),
                          Bad(lambda s: s.forget(["1"]), T, "each of ids must be an event id")],
    "EventStore.frame": [Bad(lambda s: s.frame(since="0"), T, "since must be"), Bad(lambda s: s.frame(ids="1,2"), T, "ids must be")],
    "Event.header": [Bad(lambda e: e.header(5), T, "a header's name")],
    # -- the experiment -------------------------------------------------------------------------
    "ProviderAPI": [Bad(lambda cls: cls(provider="stripe"), T, "provider must be a provider"),
                    Bad(lambda cls: cls(push_to="shop"), U, "push_to must be a whole URL"),
                    Bad(lambda cls: cls(rate_limit=0), U, "rate_limit must be more than 0"),
                    Bad(lambda cls: cls(port=-1), U, "port must be from 0")],
    "ProviderAPI.start": [Bad(lambda api: api.start().start(), R, "already running")],
    "ProviderAPI.stop": [Bad(lambda api: api.stop(), R, "not running")],
    "ProviderAPI.url": [Bad(lambda api: api.url(5), T, "path must be"), Bad(lambda api: api.url("v1/events"), U, "starting with '/'")],
    "ProviderAPI.record": [Bad(lambda api: api.record(5), T, "event.type"), Bad(lambda api: api.record("nope"), U, "has no event type")],
    "Poller": [Bad(lambda cls: cls(5), T, "api is a wl.ProviderAPI or the URL"),
               Bad(lambda cls: cls("http://127.0.0.1:9/v1/events", interval=0), U, "interval must be more than 0"),
               Bad(lambda cls: cls("http://127.0.0.1:9/v1/events", limit=1000), U, "limit must be from 1 to 100"),
               Bad(lambda cls: cls("http://127.0.0.1:9/v1/events", conditional=None), T, "conditional must be True or False")],
    "Poller.poll": [Bad(lambda p: p.poll(), U, "start\\(\\) first")],
    "Poller.wait_for": [Bad(lambda p: p.wait_for(5, timeout=1), T, "ids must be"),
                        Bad(lambda p: p.wait_for(["evt_1"], timeout="1"), T, "timeout must be a number of seconds")],
    "PushPollResult": [Bad(lambda cls: cls(table=5), T, "table must be a pandas DataFrame")],
    # -- widgets --------------------------------------------------------------------------------
    "demos.show": [Bad(lambda f: f(None), T, "name must be the name of a demo, one of webhook"),
                   Bad(lambda f: f("webhooks"), U, "no demo called 'webhooks': the demos are webhook, push-vs-poll")],
    "widgets.LiveTable": [Bad(lambda cls: cls(None), T, "rx must be a receiver"),
                          Bad(lambda cls: cls(stopped(), rows=0), U, "rows must be at least 1")],
    "widgets.SendPanel": [Bad(lambda cls: cls("rx"), T, "rx must be a receiver")],
    "widgets.SignatureExplainer": [Bad(lambda cls: cls(None), T, "rx must be a receiver"),
                                   Bad(lambda cls: cls(stopped(), secret=5), T, "secret must be")],
    "widgets.RetryTimeline": [Bad(lambda cls: cls("stripe", EVENT, "http://127.0.0.1:9/"), T, "provider must be a provider"),
                              Bad(lambda cls: cls(wl.Stripe(), EVENT, "http://127.0.0.1:9/", seconds=0), U, "seconds must be more than 0")],
    "widgets.RetryTimeline.number_labels": [Bad(lambda w: w.number_labels(5), T, "x must be a function")],
    "widgets.PushPollRace": [Bad(lambda cls: cls(rate="1"), T, "rate"), Bad(lambda cls: cls(interval=0), U, "interval must be more than 0")],
    "widgets.Quiz.answer": [Bad(lambda q: q.answer(99, None), U, "question from 0 to"),
                            Bad(lambda q: q.answer("1", None), T, "index must be the question's place"),
                            Bad(lambda q: q.answer(0, 5), T, "chosen must be")],
    "widgets.blueprint": [Bad(lambda f: f("stripe"), T, "triggers must be a list of \\(provider, event type\\)"),
                          Bad(lambda f: f([("stripe", "charge.succeeded")], action="dance"), U, "action is one of")],
    # -- the challenge --------------------------------------------------------------------------
    "grader.Challenge": [Bad(lambda cls: cls(timeout=2, slow=1), U, "shorter than slow"),
                         Bad(lambda cls: cls(timeout="fast"), T, "timeout must be a number of seconds"),
                         Bad(lambda cls: cls(secret=5), T, "needs a secret")],
    "grader.Challenge.handler": [Bad(lambda c: c.handler("handle"), T, "goes on a function")],
    "grader.Challenge.credit": [Bad(lambda c: c.credit(None, 100), T, "customer is the intent's 'customer' id"),
                                Bad(lambda c: c.credit("cus_1", 1.5), T, "amount is in cents as an int")],
    "grader.Challenge.enqueue": [Bad(lambda c: c.enqueue(None), T, "enqueue needs a function")],
    "grader.StripeApi.retrieve": [Bad(lambda a: a.retrieve(None), T, "takes the payment intent's id"),
                                  Bad(lambda a: a.retrieve("evt_1"), U, "no payment intent 'evt_1'.*404")],
    "grader.Report": [Bad(lambda cls: cls(5, None), T, "rows must be"), Bad(lambda cls: cls([], 5), T, "handler must be")],
    "grader.Report.hint": [Bad(lambda r: r.hint("no such"), U, "no scenario 'no such'"), Bad(lambda r: r.hint(1), T, "scenario must be")],
    "grader.Report.happened": [Bad(lambda r: r.happened("no such"), U, "no scenario 'no such'")],
    "grader.Report.submit": [Bad(lambda r: r.submit(5), T, "submitted to your bin"),
                             Bad(lambda r: r.submit(stopped()), U, "submitted to your bin")],
    "grader.Scenario": [Bad(lambda cls: cls("x", "y", "z", run=5), T, "run must be"), Bad(lambda cls: cls(5, "y", "z", run=print), T, "name must be")],
    "grader.Scenario.must": [Bad(lambda s: s.must("0.5"), T, "timeout must be a number of seconds")],
    # -- the pytest plugin ----------------------------------------------------------------------
    "testing.Webhooks.__call__": [Bad(lambda w: w(5, "stripe", secret="s"), T, "expected the app to send webhooks to"),
                                  Bad(lambda w: w("127.0.0.1:9", "stripe", secret="s"), U, "needs its scheme"),
                                  Bad(lambda w: w("http://127.0.0.1:9", "acme", secret="s"), U, "expected a provider's name"),
                                  Bad(lambda w: w("http://127.0.0.1:9", 5, secret="s"), T, "expected a provider"),
                                  Bad(lambda w: w("http://127.0.0.1:9", "stripe"), U, "pass secret=")],
    "testing.Webhooks.serve": [Bad(lambda w: w.serve(5), T, "app must be a WSGI or ASGI app")],
    "testing.Server": [Bad(lambda cls: cls(5), T, "app must be a WSGI or ASGI app")],
    "testing.Server.start": [Bad(lambda s: s.start().start(), R, "already running")],
    "testing.Sender": [Bad(lambda cls: cls(None, wl.Stripe()), T, "transport"),
                       Bad(lambda cls: cls(_url_transport(), "stripe"), T, "provider must be a provider"),
                       Bad(lambda cls: cls(_url_transport(), wl.Stripe(), path="hooks"), U, "starting with '/'")],
    "testing.Sender.event": [Bad(lambda s: s.event(5), T, "event.type")],
    "testing.Sender.sign": [Bad(lambda s: s.sign(5), T, "a payload from event\\(\\)"), Bad(lambda s: s.sign(timestamp="now"), T, "timestamp")],
    "testing.Sender.post": [Bad(lambda s: s.post("body", {}), T, "body must be bytes"), Bad(lambda s: s.post(b"", 5), T, "headers must be")],
    "testing.Sender.send": [Bad(lambda s: s.send(5), T, "a payload from event\\(\\)"),
                            Bad(lambda s: s.send(s.event(), amount=1), U, "fields \\(amount\\) apply to an event type")],
    "testing.Sender.tampered": [Bad(lambda s: s.tampered(5), T, "a payload from event\\(\\)")],
    "testing.Sender.wrong_secret": [Bad(lambda s: s.wrong_secret(5), T, "a payload from event\\(\\)")],
    "testing.Sender.unsigned": [Bad(lambda s: s.unsigned(5), T, "a payload from event\\(\\)")],
    "testing.Sender.stale": [Bad(lambda s: s.stale(age="old"), T, "age must be a number of seconds")],
    "testing.Sender.future": [Bad(lambda s: s.future(ahead="soon"), T, "ahead must be a number of seconds"),
                              Bad(lambda s: _github_sender().future(), U, "no future case")],
    "testing.Sender.forgeries": [Bad(lambda s: s.forgeries(5), T, "a payload from event\\(\\)"),
                                 Bad(lambda s: s.forgeries(effects=3), T, "effects must be a callable")],
    "testing.Sender.concurrent": [Bad(lambda s: s.concurrent(times=1), U, "times must be at least 2"),
                                  Bad(lambda s: s.concurrent(times=2.0), T, "times must be a whole number")],
    "testing.Sender.replayed": [Bad(lambda s: s.replayed(5), T, "a payload from event\\(\\)")],
    "testing.Sender.duplicate": [Bad(lambda s: s.duplicate(times="2"), T, "times must be a whole number"),
                                 Bad(lambda s: s.duplicate(times=0), U, "times must be at least 1")],
    "testing.Sender.deliver": [Bad(lambda s: s.deliver(clock="virtual"), T, "clock must be")],
}  # fmt: skip

# Calls that take nothing that could be wrong: checked below to have no parameter at all.
NO_ARGUMENTS = {
    "schemes", "RealClock", "RealClock.now", "VirtualClock.now", "AcceleratedClock.now",
    "Deliveries.table", "Delivery.run", "Event.summary", "Event.to_dict", "EventStore.tally", "EventStore.endpoints", "EventStore.kept_bytes",
    "EventStore.clear", "EventStore.close", "Poller.start", "Poller.stop", "PushPollResult.plot", "Receiver.close",
    "Receiver.page_url", "Receiver.clear", "RetryPolicy.github", "RetryPolicy.slack", "RetryPolicy.twilio",
    "RetryPolicy.standard", "RetryPolicy.offsets", "RetryPolicy.schedule", "StandardWebhooks.keypair",
    "widgets.Blueprint", "widgets.Blueprint.narrow", "widgets.Blueprint.build", "widgets.LiveTable.refresh",
    "widgets.LiveTable.close", "widgets.PushPollRace.run", "widgets.Quiz", "widgets.RetryTimeline.start",
    "widgets.RetryTimeline.render", "widgets.SendPanel.send", "widgets.SignatureExplainer.load",
    "widgets.SignatureExplainer.explain", "grader.Challenge.run", "grader.Challenge.deliveries", "grader.Challenge.close",
    "grader.StripeApi",
    "testing.Response.json", "testing.Server.stop", "testing.Webhooks", "testing.Webhooks.close",
    *(f"{name}.{method}" for name in [*PROVIDER_CLASSES, "Provider"] for method in ("new_secret", "event_types",
                                                                                  "new_delivery_id")),
}  # fmt: skip
# Called by webhooklab or pytest, never with a learner's arguments; or records webhooklab hands out.
NOT_CALLED_WITH_INPUT = {
    **{f"{name}.recognise": "a hook: the registry calls it with a request's headers, and it never raises on them"
       for name in [*PROVIDER_CLASSES, "Provider"]},
    "Slack.handshake": "a hook: the receiver calls it with a verified request's JSON, whatever it holds",
    "testing.webhook": "a pytest fixture: pytest calls it",
    "Event": "a record: each stored request, made by the store (a frozen dataclass of its columns)",
    "Attempt": "a record: one POST and its answer, made by every send (a frozen dataclass)",
    "Arrivals": "what wait_for() returns, made from the store's own count; read it with [i] (tested above)",
    "grader.Failure": "a record: what the learner's code raised, made by the grader (a frozen dataclass)",
    "testing.Response": "a record: what the app answered, made by each Sender call around its wl.Attempt",
    **{name: "an exception: raised with a message, by webhooklab or the learner's own code"
       for name, value in CALLABLES.items() if isinstance(value, type) and issubclass(value, BaseException)
       and name != "SignatureError"},
}  # fmt: skip


def rows(key: str) -> list[Bad]:
    """The bad calls for `key`; a built-in provider's method falls back on the rows every provider shares."""
    if key in BAD:
        return BAD[key]
    owner, _, method = key.partition(".")
    if owner in PROVIDER_CLASSES or owner == "Provider":
        return PROVIDER_BAD.get(method, [])
    return []


def test_every_public_callable_has_bad_calls_or_takes_nothing():
    missing = sorted(key for key in CALLABLES if not rows(key) and key not in NO_ARGUMENTS | set(NOT_CALLED_WITH_INPUT))
    assert not missing, f"public callables with no bad calls in BAD (or a reason in NOT_CALLED_WITH_INPUT): {missing}"
    stale = sorted((set(BAD) | NO_ARGUMENTS | set(NOT_CALLED_WITH_INPUT)) - set(CALLABLES))
    assert not stale, f"rows for names that are not public callables: {stale}"


@pytest.mark.parametrize("key", sorted(NO_ARGUMENTS))
def test_a_call_listed_as_taking_nothing_takes_nothing(key):
    parameters = [p for p in inspect.signature(CALLABLES[key]).parameters.values() if p.name not in ("self", "cls")]
    assert not parameters, f"{key} takes {parameters}: give it rows in BAD"


# -- the subjects: one instance of each class whose methods are called ----------------------------------


def _github_sender():
    from webhooklab.testing import Sender

    return Sender(_url_transport(), wl.GitHub(), "/hooks/errors")


def _url_transport():
    from webhooklab.testing._transports import transport_for

    return transport_for("http://127.0.0.1:9")


@pytest.fixture(scope="module")
def made(running_receiver):
    """The running receiver, and what one request to it left: the arrivals and the event."""
    rx = running_receiver.reset()
    requests.post(rx.url("errors"), json={"id": "evt_1"}, timeout=5)
    yield {"rx": rx, "arrived": rx.wait_for(1, endpoint="errors")}


STOPPED: list = []


@pytest.fixture(scope="module", autouse=True)
def close_what_was_made():
    yield
    while STOPPED:
        STOPPED.pop().close()


def stopped() -> wl.Receiver:
    """A receiver that was never started (closed when the module's tests end)."""
    STOPPED.append(wl.Receiver())
    return STOPPED[-1]


def subject(key: str, made, request):
    """What a row's call is given: the class or function itself, or an instance for a method."""
    value = CALLABLES[key]
    package = key.split(".")[0] if key.split(".")[0] in ("widgets", "demos", "grader", "testing") else ""
    name = key.removeprefix(package).lstrip(".")
    if "." not in name:
        return value  # a function, or a class whose constructor is called
    if inspect.ismethod(value) and isinstance(value.__self__, type):  # a classmethod: its class is the subject
        return value.__self__
    return instance(name.split(".")[0], made, request)


def instance(name: str, made, request):
    rx = made["rx"]
    if name in PROVIDER_CLASSES:
        return PROVIDER_CLASSES[name](url="https://example.com/sms") if name == "Twilio" else PROVIDER_CLASSES[name]()
    if name == "Provider":
        return wl.GitHub()  # the template's own methods, as a provider that overrides none of them has them
    if name in ("RealClock", "VirtualClock", "AcceleratedClock"):
        return getattr(wl, name)()
    if name == "RetryPolicy":
        return wl.RetryPolicy.stripe()
    if name == "Receiver":
        return rx
    if name == "Arrivals":
        return made["arrived"]
    if name == "Event":
        return made["arrived"][0]
    if name == "EventStore":
        store = wl.EventStore()
        captured = made["arrived"][0]
        store.add(**{f.name: getattr(captured, f.name) for f in fields(captured) if f.name not in ("id", "duplicate_of")})
        request.addfinalizer(store.close)
        return store
    if name == "Explanation":
        return wl.Stripe().explain(b"{}", {})
    if name == "Delivery":
        return wl.GitHub().deliver(wl.GitHub().event("ping"), rx.url("errors-delivery"), clock=wl.VirtualClock())
    if name == "ProviderAPI":
        api = wl.ProviderAPI()
        request.addfinalizer(lambda: api.stop() if api.running else None)
        return api
    if name == "Poller":
        return wl.Poller("http://127.0.0.1:9/v1/events")
    if name == "LiveTable" or name == "SendPanel" or name == "SignatureExplainer":
        widget = getattr(wl.widgets, name)(rx)
        request.addfinalizer(widget.close)
        return widget
    if name == "RetryTimeline":
        return wl.widgets.RetryTimeline(wl.Stripe(), EVENT, rx.url("errors-down"))
    if name == "Quiz":
        return wl.widgets.Quiz()
    if name == "Challenge":
        from webhooklab.grader import Challenge

        challenge = Challenge()
        request.addfinalizer(challenge.close)
        return challenge
    if name == "StripeApi":
        from webhooklab.grader import StripeApi

        return StripeApi()
    if name == "Report":
        from webhooklab.grader import Report

        return Report([{"scenario": "valid event", "passed": True, "what happened": "ok", "hint": ""}], "handle")
    if name == "Scenario":
        from webhooklab.grader import SCENARIOS

        return SCENARIOS[0]
    if name == "Webhooks":
        from webhooklab.testing import Webhooks

        webhooks = Webhooks()
        request.addfinalizer(webhooks.close)
        return webhooks
    if name == "Server":
        from flask import Flask

        from webhooklab.testing import Server

        server = Server(Flask("errors"))
        request.addfinalizer(server.stop)
        return server
    if name == "Sender":
        from webhooklab.testing import Sender

        return Sender(_url_transport(), wl.Stripe(), "/hooks/errors")
    raise AssertionError(f"no instance to call {name}'s methods on: add one to instance()")


CASES = [(key, number) for key in sorted(CALLABLES) for number in range(len(rows(key)))]


@pytest.mark.parametrize(("key", "number"), CASES, ids=[f"{key}-{number}" for key, number in CASES])
def test_a_bad_call_raises_a_webhooklab_error_that_says_what_was_expected(key, number, made, request):
    bad = rows(key)[number]
    target = subject(key, made, request)
    with pytest.raises(wl.WebhooklabError) as caught:
        bad.call(target)
    error = caught.value
    assert type(error) is bad.error, f"{key}: {type(error).__name__} ({error}), not {bad.error.__name__}"
    assert re.search(bad.says, str(error)), f"{key}: {str(error)!r} does not say {bad.says!r}"


def test_a_wrong_kind_of_value_is_a_type_error_and_a_wrong_value_a_value_error():
    assert issubclass(wl.UsageTypeError, wl.UsageError) and issubclass(wl.UsageTypeError, TypeError)
    assert issubclass(wl.UsageError, ValueError) and not issubclass(wl.UsageError, TypeError)
    assert issubclass(wl.WaitTimeout, TimeoutError) and issubclass(wl.EventNotFound, IndexError)
    with pytest.raises(TypeError):
        wl.register(5)  # code written `except TypeError` before keeps working
    with pytest.raises(ValueError):
        wl.Stripe().event("nope")


# -- what the names say about themselves ---------------------------------------------------------------


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_says_the_package_it_is_exported_from(package):
    module = importlib.import_module(package)
    elsewhere = {name: getattr(module, name).__module__ for name in module.__all__
                 if callable(getattr(module, name)) and getattr(module, name).__module__ != package}  # fmt: skip
    assert not elsewhere
    if package == "webhooklab":
        assert all(getattr(wl, name).__module__ == "webhooklab" for name in wl.__all__ if name != "__version__")


@pytest.mark.parametrize("package", [p for p in PACKAGES if p != "webhooklab.demos"])  # it exports no class
def test_every_exported_class_keeps_annotations_that_resolve(package):
    """Renamed to its package, a class's string annotations still resolve (typing, dataclasses, pydantic read them)."""
    import typing

    module = importlib.import_module(package)
    classes = [getattr(module, name) for name in module.__all__ if isinstance(getattr(module, name), type)]
    assert classes
    for cls in classes:
        typing.get_type_hints(cls)


def test_a_traceback_names_the_error_as_a_learner_imports_it():
    import traceback

    try:
        stopped().url("a/b")
    except wl.UsageError as error:
        shown = "".join(traceback.format_exception_only(error))
    assert shown.startswith("webhooklab.UsageError: endpoint name 'a/b' contains '/'")
    assert repr(wl.Receiver).startswith("<class 'webhooklab.Receiver'>")


@pytest.mark.parametrize("error", [
    wl.WebhooklabError("base"), wl.ReceiverError("port taken"), wl.UsageError("bad"), wl.UsageTypeError("wrong kind"),
    wl.WaitTimeout("waited"), wl.EventNotFound("no event"), wl.SignatureError("timestamp_too_old", "signed 600 s ago"),
])  # fmt: skip
def test_every_error_survives_pickling_with_its_message_and_reason(error):
    error.add_note("a note")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error) and copy.__notes__ == ["a note"]
    assert getattr(copy, "reason", None) == getattr(error, "reason", None)


def test_a_real_signature_error_pickles_with_its_reason():
    body, headers = wl.Stripe("whsec_a").sign({"id": "evt_1"})
    with pytest.raises(wl.SignatureError) as caught:
        wl.Stripe("whsec_b").verify(body, headers)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert copy.reason == "no_matching_signature" and str(copy) == str(caught.value)


# -- the exercises' checks never raise: bad input is a ✗ --------------------------------------------


CHECKS = [(module, name) for module in (f"ch{n:02d}" for n in range(1, 10))
          for name, value in vars(importlib.import_module(f"webhooklab.exercises.{module}")).items()
          if name.startswith("check_") and callable(value)]  # fmt: skip


@pytest.mark.parametrize(("module", "name"), CHECKS, ids=[f"{m}.{n}" for m, n in CHECKS])
@pytest.mark.parametrize("wrong", [None, 5, "rx", wl.Stripe])
def test_an_exercise_check_given_the_wrong_thing_says_not_yet_and_never_raises(module, name, wrong, capsys):
    check = getattr(importlib.import_module(f"webhooklab.exercises.{module}"), name)
    arguments = [wrong] * len(inspect.signature(check).parameters)
    assert check(*arguments) is False
    assert "✗" in capsys.readouterr().out


def test_a_new_provider_is_walked_too():
    """A provider registered later is public the moment it is registered: its constructor refuses bad secrets too."""

    @wl.register
    class Acme(wl.Stripe):
        name, title = "acme-errors", "Acme"

    try:
        with pytest.raises(wl.UsageTypeError, match="Acme needs a secret"):
            Acme(secret=5)
        assert PROVIDERS["acme-errors"] is Acme
    finally:
        unregister("acme-errors")
