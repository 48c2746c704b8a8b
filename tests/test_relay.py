"""A class bin relayed to the learner's own receiver: real class server on 127.0.0.2, real HTTP, real kernels' code.

Each test joins a folder of its own to a bin of its own, so they pass in any order.
"""

from __future__ import annotations

import itertools
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests
import stripe as stripe_sdk

import webhooklab as wl
from webhooklab._classroom import ClassFolder, ClassServer, numbered
from webhooklab._classroom.server import RELAY_TIMEOUT
from webhooklab._receiving.joining import BinRelay
from webhooklab._receiving.relay import Relay, Route, parse_route

HOST = "127.0.0.2"


LEARNERS = 64
_taken = itertools.count()  # each test takes bins no other test in this module uses


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = ClassServer(ClassFolder(tmp_path_factory.mktemp("class"), numbered(LEARNERS)), host=HOST).start()
    yield server
    server.close()


def take(server, n: int) -> list[str]:
    return [server.bin_url(server.folder.learners[next(_taken)]) for _ in range(n)]


@pytest.fixture
def bins(server):
    return take(server, 3)


@pytest.fixture
def joined(bins, tmp_path, monkeypatch):
    """A workshop folder joined to the first of `bins`; every receiver it starts is stopped afterwards."""
    monkeypatch.chdir(tmp_path)
    wl.join_class(bins[0])
    started = []
    original = wl.workshop_receiver

    def workshop_receiver(**options):
        rx = original(**options)
        started.append(rx)
        return rx

    yield workshop_receiver
    for rx in started:
        rx.close()


def until(condition, seconds: float = 20.0):
    """Wait until `condition()` holds (polling), or fail saying so: never a fixed sleep."""
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, f"waited {seconds} s for {condition.__doc__ or 'the state asserted'}"
        time.sleep(0.02)


def quietly(url: str) -> None:
    """POST from a thread of a test, whatever becomes of it."""
    try:
        requests.post(url, data=b"{}", timeout=30)
    except requests.RequestException:
        pass


def bin_store(server, bin_url: str):
    """The bin's own store, as the class server keeps it."""
    return server.bins[bin_url.rstrip("/").rsplit("/", 1)[1]].store


def bin_events(bin_url: str) -> list[dict]:
    return requests.get(bin_url + "api/events", timeout=10).json()["events"]


def test_a_stripe_delivery_with_retries_goes_through_the_bin_to_the_kernel_and_back_byte_exact(joined, bins, server):
    stripe = wl.Stripe()
    rx = joined(secrets={"shop": stripe.secret})
    rx.respond("shop", fail_first=2)
    assert rx.url("shop") == bins[0] + "hooks/shop"

    delivery = stripe.deliver(stripe.event("payment_intent.succeeded"), rx.url("shop"), clock=wl.VirtualClock())

    attempts = [row["result"] for row in delivery.log]
    assert [attempt.status for attempt in attempts] == [500, 500, 200]  # the local answers, relayed
    local = [rx.event(i) for i in range(1, 4)]
    at_bin = [bin_store(server, bins[0]).get(i) for i in range(1, 4)]
    for attempt, event, binned in zip(attempts, local, at_bin):
        assert event.body == attempt.request_body  # byte for byte
        added = [pair for pair in event.header_pairs if pair[0].startswith("X-Forwarded-")]
        assert [name for name, _ in added] == ["X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
                                               "X-Forwarded-Prefix"]  # fmt: skip
        # The headers in the order, case and spelling the bin received them, but the hop-by-hop ones.
        sent = [tuple(pair) for pair in binned.header_pairs if pair[0].lower() not in ("connection", "keep-alive")]
        assert [pair for pair in event.header_pairs if pair not in added] == sent
        assert event.response_body == attempt.response_body
        # Stripe's own SDK accepts what the local receiver got: nothing was re-serialised on the way.
        stripe_sdk.Webhook.construct_event(event.body, event.header("Stripe-Signature"), stripe.secret)
    stored = bin_events(bins[0])
    assert [row["status"] for row in stored] == [500, 500, 200] == [event.status for event in local]
    assert all(row["verified"] is True for row in stored)  # the notebook's verdict, with the notebook's secret


def test_the_answer_keeps_its_headers_and_the_delay_the_local_receiver_took(joined, bins):
    rx = joined()
    rx.respond("slow", status=202, delay=1.0, headers={"X-Order": "A-1"}, body={"queued": True})
    started = time.monotonic()
    answer = requests.post(rx.url("slow"), data=b'{"n": 1}', headers={"Content-Type": "application/json"}, timeout=30)
    assert time.monotonic() - started >= 1.0  # the delay was the local receiver's, kept on the way back
    assert answer.status_code == 202 and answer.headers["X-Order"] == "A-1" and answer.json() == {"queued": True}


def test_a_bin_whose_notebook_is_gone_answers_503_and_keeps_the_request(bins, tmp_path):
    target = wl.Receiver().start()
    process = subprocess.Popen([sys.executable, "-m", "webhooklab", "relay", bins[0], "--forward-to", target.url()],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        assert "relay: connected" in process.stdout.readline()
        until(lambda: requests.post(bins[0] + "hooks/x", data=b"1", timeout=10).status_code == 200)
        process.send_signal(signal.SIGKILL)  # no goodbye: the kernel died
        process.wait(10)
        until(lambda: requests.post(bins[0] + "hooks/x", data=b"2", timeout=10).status_code == 503)
        answer = requests.post(bins[0] + "hooks/x", data=b"3", timeout=10)
        assert answer.status_code == 503 and "notebook is not connected" in answer.json()["error"]
        assert bin_events(bins[0])[-1]["preview"] == "3"  # stored all the same
    finally:
        process.kill()
        process.wait(10)
        process.stdout.close()
        target.close()


def test_a_notebook_that_answers_too_late_gets_a_504_that_says_so(joined, bins, server):
    token = bins[0].rstrip("/").rsplit("/", 1)[1]
    hub = server.bins[token].app.extensions["webhooklab"].relay
    hub.answer_timeout = 1.0
    try:
        rx = joined()
        rx.respond("late", delay=3)
        answer = requests.post(rx.url("late"), data=b"{}", timeout=30)
        assert answer.status_code == 504
        assert "did not answer within 1 s" in answer.json()["error"]
        rx.wait_for(1)
        until(lambda: "stopped waiting" in (bin_store(server, bins[0]).get(-1).note or ""))
    finally:
        hub.answer_timeout = RELAY_TIMEOUT


def test_a_second_relay_takes_over_and_the_first_is_told_why(bins):
    first_target, second_target = wl.Receiver().start(), wl.Receiver().start()
    first = Relay(bins[0], [Route(first_target.url("a"))]).start()
    second = Relay(bins[0], [Route(second_target.url("b"))]).start()
    try:
        until(lambda: first.status.startswith("stopped"))
        assert "another relay took over this bin" in first.status
        requests.post(bins[0] + "hooks/any", data=b"x", timeout=10)
        second_target.wait_for(1)
        assert first_target.store.count() == 0
    finally:
        for one in (first, second, first_target, second_target):
            one.stop()


def test_a_relay_carries_nothing_of_another_bin(bins):
    mine, theirs = wl.Receiver().start(), wl.Receiver().start()
    relay = Relay(bins[0], [Route(mine.url())]).start()
    try:
        requests.post(bins[1] + "hooks/private", data=b"not yours", timeout=10)
        requests.post(bins[0] + "hooks/mine", data=b"yours", timeout=10)
        mine.wait_for(1)
        assert [event.body for event in mine.arrivals()] == [b"yours"]
    finally:
        relay.stop()
        mine.close()
        theirs.close()


def test_a_relay_with_a_wrong_token_is_refused_at_once(server):
    with pytest.raises(wl.ReceiverError, match="404"):
        Relay(f"{server.class_url}/b/{'x' * 32}/", [Route("http://127.0.0.1:9/")]).start()


def test_the_relay_command_routes_by_endpoint_and_by_event_type(bins):
    shop, payments, rest = wl.Receiver().start(), wl.Receiver().start(), wl.Receiver().start()
    command = [sys.executable, "-m", "webhooklab", "relay", bins[0], "--forward-to", f"shop={shop.url('orders')}",
               "--forward-to", f"type:payment_intent.*={payments.url('pay')}", "--forward-to", rest.url("other")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert "relay: connected" in process.stdout.readline()
        stripe = wl.Stripe()
        requests.post(bins[0] + "hooks/shop?page=2", data=b"order", timeout=10)
        stripe.send(stripe.event("payment_intent.succeeded"), bins[0] + "hooks/stripe")
        requests.post(bins[0] + "hooks/anything", data=b"else", timeout=10)
        shop.wait_for(1), payments.wait_for(1), rest.wait_for(1)
        assert shop.event().body == b"order" and shop.event().query == "page=2"  # to the URL given, query kept
        assert shop.event().path.endswith("/hooks/orders")
        assert payments.event().event_type == "payment_intent.succeeded"
        assert rest.event().body == b"else"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(10)
        process.stdout.close()
        for one in (shop, payments, rest):
            one.close()
    assert bin_events(bins[0])[-1]["status"] == 200


def test_forward_to_names_what_it_takes():
    with pytest.raises(wl.UsageError, match="URL, ENDPOINT=URL or type:PATTERN=URL"):
        parse_route("shop=ftp://nowhere")
    assert parse_route("type:invoice.*=http://127.0.0.1:1/x").event_type == "invoice.*"


def test_a_twilio_signature_over_the_public_url_verifies_in_the_kernel(joined, bins):
    twilio = wl.Twilio()
    rx = joined(secrets={"sms": twilio.secret})
    twilio.send(twilio.event("sms/incoming"), rx.url("sms"))
    assert rx.wait_for(1)[-1].verified is True  # the forwarded headers rebuild the URL Twilio signed


def test_held_relays_hold_no_worker(server):
    """Twenty relays waiting for work (more than the 16 workers), each with a slow notebook: others are served."""
    urls = take(server, 20)
    target = wl.Receiver().start()
    target.respond("slow", delay=5)
    relays = [Relay(url, [Route(target.url("slow"))]).start() for url in urls]
    senders = [threading.Thread(target=quietly, args=(url + "hooks/slow",), daemon=True) for url in urls]
    try:
        for sender in senders:
            sender.start()
        until(lambda: target.store.count() >= 17)  # more than the workers: each answer is held by the loop
        answer = requests.get(server.dashboard_url + "api/class", timeout=10)  # while 20 answers are held
        assert answer.status_code == 200 and len(answer.json()["learners"]) == LEARNERS
    finally:
        for relay in relays:
            relay.stop()
        target.close()


def test_the_relay_reconnects_after_the_class_server_restarts(tmp_path, monkeypatch):
    folder = ClassFolder(tmp_path / "class", numbered(1))
    first = ClassServer(folder, host=HOST).start()
    port, bin_url = first.port, first.bin_url(folder.learners[0])
    monkeypatch.chdir(tmp_path)
    wl.join_class(bin_url)
    rx = wl.workshop_receiver()
    try:
        first.close()
        until(lambda: rx.relay.relay.status.startswith("reconnecting"))
        again = ClassServer(ClassFolder(tmp_path / "class"), host=HOST, port=port).start()
        try:
            until(lambda: rx.relay.relay.status == "connected")
            answer = requests.post(rx.url("back"), data=b"again", timeout=10)
            assert answer.status_code == 200 and rx.event().body == b"again"
        finally:
            again.close()
    finally:
        rx.close()
    assert not BinRelay._open


def test_a_folder_joined_to_a_server_that_is_down_says_so_and_runs_here(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".webhooklab-class").write_text(f"http://{HOST}:9/b/{'a' * 32}/\n")
    rx = wl.workshop_receiver()
    try:
        said = capsys.readouterr().out
        assert "NOT CONNECTED TO YOUR CLASS" in said and "wl.join_class(None)" in said
        assert rx.url("x").startswith("http://127.0.0.1:") and rx.relay is None
    finally:
        rx.close()


def test_a_relay_answer_is_checked(bins):
    session = "checked-0001"
    requests.get(bins[0] + "api/relay", params={"session": session, "wait": 0}, headers={"X-Webhooklab": "1"}, timeout=10)
    bad = requests.post(bins[0] + "api/relay/1", params={"session": session}, headers={"X-Webhooklab": "1"},
                        data=json.dumps({"status": 200, "headers": [["X-A", "1\r\nSet-Cookie: x"]], "body": ""}),
                        timeout=10)  # fmt: skip
    assert bad.status_code == 400 and "line break" in bad.json()["why"]
    requests.delete(bins[0] + "api/relay", params={"session": session}, headers={"X-Webhooklab": "1"}, timeout=10)


def test_a_sender_that_keeps_its_connection_open_gets_each_relayed_answer_in_turn(joined, bins):
    """Keep-alive, and a request sent before the answer to the one before it (pipelined): answers stay in order."""
    rx = joined()
    rx.respond("kept", body="answered")
    url = urlsplit(rx.url("kept"))
    request = f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Length: 3\r\n\r\n"
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall((request + "one").encode())
        assert read_answers(sock, 1) == [b"answered"]
        sock.sendall((request + "two" + request + "six").encode())  # the second arrives while the first is relayed
        assert read_answers(sock, 2) == [b"answered", b"answered"]
    assert [event.body for event in rx.wait_for(3)] == [b"one", b"two", b"six"]


def read_answers(sock, n: int) -> list[bytes]:
    """The bodies of `n` HTTP 200 answers with a Content-Length, read from `sock` in turn; nothing may follow."""
    data, bodies = b"", []
    while len(bodies) < n:
        data += sock.recv(65536)
        while b"\r\n\r\n" in data:
            head, _, rest = data.partition(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
            if len(rest) < length:
                break
            assert head.startswith(b"HTTP/1.1 200")
            bodies.append(rest[:length])
            data = rest[length:]
    assert data == b""
    return bodies


def test_a_rotated_bin_stops_its_relay_and_says_why(server):
    url = take(server, 1)[0]
    target = wl.Receiver().start()
    relay = Relay(url, [Route(target.url())]).start()
    try:
        name = next(one.learner.name for one in server.bins.values() if url.endswith(f"/b/{one.learner.token}/"))
        assert dashboard_row(server, name)["relay"]["state"] == "connected"
        server.rotate(name)
        until(lambda: relay.status.startswith("stopped"))
        assert "new URL" in relay.status
        assert requests.post(url + "hooks/x", data=b"1", timeout=10).status_code == 404
    finally:
        relay.stop()
        target.close()


def dashboard_row(server, name: str) -> dict:
    rows = requests.get(server.dashboard_url + "api/class", timeout=10).json()["learners"]
    return next(row for row in rows if row["name"] == name)


def test_a_sender_that_gives_up_leaves_the_notebook_its_request_and_the_bin_its_late_answer(joined, bins, server):
    stripe = wl.Stripe()
    rx = joined(secrets={"slow": stripe.secret})
    rx.respond("slow", status=201, delay=1.5)
    body, headers = stripe.sign(stripe.event("charge.succeeded"))
    with pytest.raises(requests.Timeout):
        requests.post(rx.url("slow"), data=body, headers=headers, timeout=0.3)  # gives up before the answer
    requests.post(rx.url("other"), data=b"next", timeout=10)  # the bin hands out, and tidies, again meanwhile
    rx.wait_for(2)
    store = bin_store(server, bins[0])
    until(lambda: store.get(1).status == 201)
    first = store.get(1)
    assert first.verified is True and "stopped waiting" in first.note  # the notebook's answer and verdict, kept


def test_a_relay_that_said_goodbye_leaves_the_bin_to_its_own_rules(joined, bins, server):
    """Its goodbye wins over an ask of its that was still on the way: that ask starts nothing."""
    hub = server.bins[bins[0].rstrip("/").rsplit("/", 1)[1]].app.extensions["webhooklab"].relay
    for _ in range(5):
        rx = joined()
        rx.url("x")
        rx.close()
        until(lambda: hub.state() == "none")
        assert requests.post(bins[0] + "hooks/x", data=b"{}", timeout=10).status_code == 200  # the bin's own answer


def test_a_relay_that_does_not_say_what_it_holds_gets_each_request_once():
    """`holding` absent (None): what was handed out stays handed out; given and empty: it was lost, so again."""
    import types

    from webhooklab._receiving.relayhub import RelayHub

    hub = RelayHub(75)
    hub.poll("session", 0, None)  # connected
    hub.forward(types.SimpleNamespace(id=1, body=b"x"), {"method": "POST"})
    handed = [[r["id"] for r in json.loads(hub.poll("session", 0, holding)[2])["requests"]]
              for holding in (None, None, frozenset({""}))]  # fmt: skip
    hub.leave("session")
    assert handed == [["1"], [], ["1"]]


def test_one_bin_holds_at_most_its_share_of_the_servers_bodies_waiting_for_notebooks():
    """A learner whose notebook is slow fills their own share (BIN_HELD_BYTES), never the whole server's."""
    import types

    from webhooklab._receiving import relayhub

    hub = relayhub.RelayHub(75)
    hub.poll("session", 0, None)
    try:
        big = types.SimpleNamespace(id=1, body=b"x" * (relayhub.BIN_HELD_BYTES // 2))
        answers = [hub.forward(big, {"method": "POST"}) for _ in range(3)]
        assert [type(a).__name__ for a in answers] == ["Deferred", "Deferred", "tuple"]
        status, body = answers[2]
        assert status == 503 and b"MB of bodies a bin" in body
    finally:
        hub.leave("session")  # what it held is given back to the server's budget
