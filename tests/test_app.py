"""The receiver's Flask app, in process: what it captures and how it answers."""

import base64
import gzip
import json

import pytest

from webhooklab._receiving.app import create_app
from webhooklab._receiving.rules import Responses, Rule

ODD_BODIES = {
    "json": (b'{"id": "evt_1", "amount": 2000}', "application/json"),
    "not json": (b'{"id": "evt_1", "amount": ', "application/json"),
    "not utf-8": (b"\xff\xfe\x00caf\xe9", "application/octet-stream"),
    "empty": (b"", None),
    "form": (b"payload=%7B%22zen%22%3A%22Keep+it+logically+awesome.%22%7D", "application/x-www-form-urlencoded"),
    "gzip": (gzip.compress(b'{"topic": "orders/create"}'), "application/json"),
    "whitespace kept": (b'{\n  "a" : 1 ,\t"b":[ ]\n}\r\n', "application/json"),
}


@pytest.mark.parametrize("name", ODD_BODIES)
def test_every_body_is_stored_byte_for_byte(client, store, name):
    body, content_type = ODD_BODIES[name]
    headers = {"Content-Encoding": "gzip"} if name == "gzip" else {}
    reply = client.post("/hooks/shop", data=body, content_type=content_type, headers=headers)
    assert reply.status_code == 200
    event = store.get(-1)
    assert event.body == body
    assert event.size == len(body)
    assert event.content_type == content_type


def test_gzip_body_is_kept_compressed_and_decoded_on_request(client, store):
    body = gzip.compress(b'{"topic": "orders/create"}')
    client.post("/hooks/shop", data=body, content_type="application/json", headers={"Content-Encoding": "gzip"})
    event = store.get(-1)
    assert event.body == body
    assert event.json == {"topic": "orders/create"}
    assert event.preview == '{"topic": "orders/create"}'


def test_form_encoded_github_payload_is_parsed(client, store):
    client.post("/hooks/gh", data=ODD_BODIES["form"][0], content_type="application/x-www-form-urlencoded")
    assert store.get(-1).json == {"zen": "Keep it logically awesome."}


def test_binary_body_has_a_readable_preview_and_no_json(client, store):
    client.post("/hooks/x", data=b"\xff\xfe\x00", content_type="application/octet-stream")
    event = store.get(-1)
    assert event.json is None and event.text is None
    assert event.preview == "<3 bytes, not UTF-8 text>"


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def test_any_method_on_any_path_under_hooks_is_captured(client, store, method):
    reply = client.open("/hooks/orders/deep/path", method=method, query_string="a=1&b=two")
    assert reply.status_code == 200
    event = store.get(-1)
    assert (event.method, event.endpoint, event.path, event.query) == (method, "orders", "/hooks/orders/deep/path", "a=1&b=two")


def test_the_record_holds_everything_about_the_request(client, store):
    client.post("/hooks/shop", data=b"{}", content_type="application/json", headers={"X-Custom": "yes"})
    event = store.get(-1)
    assert event.headers["X-Custom"] == "yes"
    assert event.header("x-custom") == "yes"
    assert event.status == 200
    assert json.loads(event.response_body) == {"received": True, "endpoint": "shop"}
    assert event.received_at.tzinfo is not None and event.received_at.utcoffset().total_seconds() == 0
    assert event.client.startswith("127.0.0.1")


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"Stripe-Signature": "t=1,v1=00"}, {"id": "evt_1", "type": "charge.succeeded"}, ("stripe", "charge.succeeded", "evt_1")),
        ({"X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1"}, {"ref": "refs/heads/main"}, ("github", "push", "d-1")),
        ({"X-GitHub-Event": "issues", "X-GitHub-Delivery": "d-2"}, {"action": "opened"}, ("github", "issues.opened", "d-2")),
        ({"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "w-1"}, {"id": 1}, ("shopify", "orders/create", "w-1")),
        ({"webhook-id": "msg_1", "webhook-timestamp": "1"}, {"type": "invoice.paid"}, ("standard", "invoice.paid", "msg_1")),
        ({"svix-id": "msg_2"}, {"type": "user.created"}, ("standard", "user.created", "msg_2")),
        ({}, {"type": "anything"}, (None, "anything", None)),
        ({}, ["not", "an", "object"], (None, None, None)),
    ],
)
def test_provider_event_type_and_delivery_id_are_recognised(client, store, headers, body, expected):
    client.post("/hooks/x", json=body, headers=headers)
    event = store.get(-1)
    assert (event.provider, event.event_type, event.delivery_id) == expected


def test_a_body_over_the_limit_gets_a_413_that_says_the_limit_and_is_recorded(client, store):
    reply = client.post("/hooks/big", data=b"x" * 5000)
    assert reply.status_code == 413
    assert reply.json["limit_bytes"] == 1024 and reply.json["received_bytes"] == 5000
    assert "1024 bytes" in reply.json["why"]
    event = store.get(-1)
    assert (event.status, event.size) == (413, 5000)
    assert event.body == b"x" * 1024  # only the start is kept
    assert "over the 1024 bytes limit" in event.note


def test_a_body_exactly_at_the_limit_is_accepted(client, store):
    assert client.post("/hooks/big", data=b"x" * 1024).status_code == 200
    assert store.get(-1).body == b"x" * 1024


def test_respond_fail_first_then_succeed(store):
    responses = Responses()
    responses.set("shop", Rule(status=201, fail_first=2))
    client = create_app(store, responses).test_client()
    replies = [client.post("/hooks/shop") for _ in range(4)]
    assert [r.status_code for r in replies] == [500, 500, 201, 201]
    assert "simulated failure 1 of 2" in replies[0].json["error"]
    assert [e.status for e in store.list()] == [500, 500, 201, 201]
    assert client.post("/hooks/other").status_code == 200  # other endpoints are untouched


@pytest.mark.parametrize(
    ("body", "content_type", "sent"),
    [
        ({"ok": False}, "application/json", b'{"ok": false}'),
        ("thanks", "text/plain; charset=utf-8", b"thanks"),
        (b"\x00\x01", "application/octet-stream", b"\x00\x01"),
    ],
)
def test_respond_with_a_chosen_body_and_headers(store, body, content_type, sent):
    responses = Responses()
    responses.set("shop", Rule(status=202, body=body, headers={"Retry-After": "30"}))
    reply = create_app(store, responses).test_client().post("/hooks/shop")
    assert (reply.status_code, reply.data, reply.headers["Content-Type"]) == (202, sent, content_type)
    assert reply.headers["Retry-After"] == "30"
    assert store.get(-1).response_headers["Retry-After"] == "30"


def test_api_lists_events_with_filters(client):
    for endpoint in ["a", "b", "a"]:
        client.post(f"/hooks/{endpoint}", json={"type": "t"})
    listing = client.get("/api/events").json
    assert listing["total"] == 3 and [e["endpoint"] for e in listing["events"]] == ["a", "b", "a"]
    assert listing["events"][0]["time"].endswith("+00:00")
    only_a = client.get("/api/events?endpoint=a").json
    assert only_a["total"] == 2
    first_id = listing["events"][0]["id"]
    after = client.get(f"/api/events?after={first_id}&limit=1").json["events"]
    assert [e["id"] for e in after] == [first_id + 1]


def test_api_gives_one_event_in_full(client):
    body = b"\xff not utf-8"
    client.post("/hooks/a", data=body, headers={"X-Trace": "1"})
    listed = client.get("/api/events").json["events"][0]
    full = client.get(f"/api/events/{listed['id']}").json
    assert base64.b64decode(full["body_base64"]) == body
    assert full["body_text"] is None
    assert ["X-Trace", "1"] in full["headers"]
    assert full["response"]["status"] == 200


def test_api_errors_say_what_arrived(client):
    missing = client.get("/api/events/999")
    assert missing.status_code == 404 and "no event with id 999" in missing.json["error"]
    bad = client.get("/api/events?after=soon")
    assert bad.status_code == 400 and bad.json["arrived"] == "/api/events?after=soon"
    assert "after must be a whole number" in bad.json["error"] and "'soon'" in bad.json["error"]
    lost = client.post("/webhook")
    assert lost.status_code == 404 and "/hooks/<endpoint>" in lost.json["hint"]
