"""A real receiver on a real socket: lifecycle, concurrency, waiting, persistence and limits."""

import gzip
import json
import shutil
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from receivers import Shared, state, woken_only_by_notify

import webhooklab as wl


def port_is_free(port: int) -> bool:
    """True when nothing listens there (connections closing in TIME_WAIT do not count)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_start_returns_the_receiver_on_loopback_and_a_free_port():
    rx = wl.Receiver()
    assert rx.start() is rx
    try:
        assert rx.base_url.startswith("http://127.0.0.1:") and rx.port > 0
        assert rx.url("shop") == f"http://127.0.0.1:{rx.port}/hooks/shop"
        assert repr(rx) == f"<Receiver http://127.0.0.1:{rx.port}, 0 events>"
    finally:
        rx.close()


def test_stop_frees_the_port_and_the_receiver_can_start_again():
    rx = wl.Receiver().start()
    port = rx.port
    requests.post(rx.url("a"), data=b"1", timeout=5)
    rx.stop()
    assert port_is_free(port)
    assert repr(rx) == "<Receiver stopped, 1 events>"
    assert len(rx.events()) == 1  # the events outlive the server
    again = wl.Receiver(port=port).start()
    again.close()
    rx.close()


def test_starting_twice_and_stopping_twice_are_clear_errors():
    rx = wl.Receiver().start()
    with pytest.raises(wl.ReceiverError, match="already running at http://127.0.0.1"):
        rx.start()
    rx.stop()
    with pytest.raises(wl.ReceiverError, match="not running, so there is nothing to stop"):
        rx.stop()
    with pytest.raises(wl.ReceiverError, match=r"not running. Call .start\(\) first"):
        rx.url("shop")
    rx.close()


def test_a_taken_port_is_a_clear_error_not_a_system_exit(rx):
    other = wl.Receiver(port=rx.port)
    with pytest.raises(wl.ReceiverError, match=f"port {rx.port} on 127.0.0.1 is already taken.*port=0"):
        other.start()
    assert not other.running
    other.close()


@pytest.mark.parametrize(("host", "message"), [("no-such-host.invalid", "cannot resolve|not an address"), ("192.0.2.1", "not an address of this machine")])
def test_a_bad_host_is_a_clear_error(host, message):
    rx = wl.Receiver(host=host)
    with pytest.raises(wl.ReceiverError, match=message):
        rx.start()
    rx.close()


def test_context_manager_starts_and_stops():
    with wl.Receiver() as rx:
        port = rx.port
        assert requests.get(rx.url("x"), timeout=5).status_code == 200
    assert not rx.running and port_is_free(port)
    assert rx.event(-1).method == "GET"
    rx.close()


def test_odd_bodies_arrive_byte_exact_over_real_http(rx, http):
    bodies = [b"", b"\x00\xff\xfe\x80", "naïve café ☕".encode("utf-8"), gzip.compress(b"{}" * 1000), b"a=1&b=%20"]
    for body in bodies:
        assert http.post(rx.url("odd"), data=body, timeout=5).status_code == 200
    events = rx.wait_for(len(bodies), endpoint="odd")
    assert [e.body for e in events] == bodies


def test_a_chunked_body_is_stored_whole(rx, http):
    chunks = [b'{"part": 1,', b' "part2": "', b"x" * 70000, b'"}']
    assert http.post(rx.url("chunked"), data=iter(chunks), timeout=5).status_code == 200
    event = rx.event(-1)
    assert event.header("Transfer-Encoding") == "chunked"
    assert event.body == b"".join(chunks) and event.size == sum(map(len, chunks))


def test_header_names_keep_their_case_and_order(rx, http):
    http.post(rx.url("gh"), data=b"{}", headers={"X-GitHub-Event": "ping", "X-Hub-Signature-256": "sha256=00"}, timeout=5)
    names = [name for name, _ in rx.event(-1).header_pairs]
    assert names.index("X-GitHub-Event") < names.index("X-Hub-Signature-256")


def test_2000_requests_from_16_threads_are_all_stored_once(rx):
    per_thread = 125

    def send(sender: int) -> list[int]:
        with requests.Session() as session:
            return [
                session.post(rx.url("load"), data=f"{sender}:{i}".encode(), timeout=10).status_code
                for i in range(per_thread)
            ]

    with ThreadPoolExecutor(16) as pool:
        statuses = [s for batch in pool.map(send, range(16)) for s in batch]
    assert statuses == [200] * 2000
    bodies = [e.body for e in rx.wait_for(2000, endpoint="load", timeout=10)]
    assert len(bodies) == 2000
    assert set(bodies) == {f"{s}:{i}".encode() for s in range(16) for i in range(per_thread)}
    ids = [int(i) for i in rx.events("load").index]
    assert len(set(ids)) == 2000


@pytest.mark.timeout(60)
def test_wait_for_is_woken_by_the_arrival(rx):
    found = []
    with woken_only_by_notify(rx) as asleep:
        waiter = threading.Thread(target=lambda: found.extend(rx.wait_for(1, endpoint="late", timeout=30)), daemon=True)
        waiter.start()
        assert asleep.wait(10)
        requests.post(rx.url("late"), data=b"here", timeout=5)
        waiter.join(20)  # it can no longer look again by itself: only the arrival can wake it
        assert not waiter.is_alive(), "wait_for slept through the arrival: nothing woke it"
    assert [e.body for e in found] == [b"here"]


def test_a_shared_receiver_is_put_back_as_new(http):
    shared = Shared(wl.Receiver())
    rx = shared.receiver
    rx.respond("shop", status=503, fail_first=1, headers={"X-Note": "a"})
    rx.on("*", endpoint="shop")(lambda event: 1 / 0)
    rx.listen(lambda: None)
    rx.link = "https://proxy.example/{port}/"
    rx.app.extensions["webhooklab.hosts"].add("proxy.example")
    assert http.post(rx.url("shop"), json={"type": "a"}, timeout=5).status_code == 500 and rx.errors
    rx.stop()
    assert state(rx) != shared.started

    rx = shared.reset()
    assert state(rx) == shared.started and rx.running
    assert http.post(rx.url("shop"), json={"type": "a"}, timeout=5).status_code == 200  # no rule, no handler
    assert rx.errors == [] and [e.status for e in rx.events().itertuples()] == [200]
    shared.close()


def test_wait_for_counts_only_the_endpoint_asked_for(rx, http):
    http.post(rx.url("other"), timeout=5)
    with pytest.raises(wl.WaitTimeout, match=r"waited 0.2 s for 1 event\(s\) at .*/hooks/mine, but 0 arrived"):
        rx.wait_for(1, endpoint="mine", timeout=0.2)
    assert len(rx.wait_for(1, timeout=0.2)) == 1


def test_wait_for_on_a_stopped_receiver_says_so_at_once():
    rx = wl.Receiver()
    with pytest.raises(wl.ReceiverError, match=r"only 0 arrived, and the receiver is not running"):
        rx.wait_for(1, timeout=30)
    rx.close()


def test_respond_slow_answer_is_stored_before_it_is_sent(rx, http):
    rx.respond("slow", delay=1.0)
    with pytest.raises(requests.Timeout):
        http.post(rx.url("slow"), data=b"1", timeout=0.3)
    # The sender gave up, yet the event was stored: this is how duplicates are born.
    assert [e.body for e in rx.wait_for(1, endpoint="slow", timeout=0.5)] == [b"1"]


def test_respond_validates_its_arguments(rx):
    with pytest.raises(ValueError, match="from 100 to 599, got 1000"):
        rx.respond("x", status=1000)
    with pytest.raises(ValueError, match="cannot be negative"):
        rx.respond("x", delay=-1)


def test_events_table_has_readable_columns(rx, http):
    http.post(rx.url("shop"), json={"id": "evt_9", "type": "charge.refunded"}, headers={"Stripe-Signature": "t=1,v1=00"}, timeout=5)
    table = rx.events()
    assert list(table.columns) == ["time", "endpoint", "event_type", "verified", "status", "duplicate_of", "provider", "reason", "delivery_id", "method", "size", "preview"]
    row = table.iloc[-1]
    assert (row.endpoint, row.provider, row.event_type, row.delivery_id, row.status) == ("shop", "stripe", "charge.refunded", "evt_9", 200)
    assert str(table["time"].dtype) == "datetime64[us, UTC]"
    assert rx.event(int(table.index[-1])).json == {"id": "evt_9", "type": "charge.refunded"}


def test_an_empty_table_still_has_its_columns(rx):
    table = rx.events()
    assert table.empty and "event_type" in table.columns


def test_clear_forgets_events_but_never_reuses_ids(rx, http):
    http.post(rx.url("a"), timeout=5)
    first = rx.event(-1).id
    rx.clear()
    assert rx.events().empty
    http.post(rx.url("a"), timeout=5)
    assert rx.event(-1).id > first
    with pytest.raises(wl.EventNotFound, match=f"no event with id {first}"):
        rx.event(first)


def test_a_file_store_is_read_back_by_a_new_receiver(tmp_path):
    db = tmp_path / "events.db"
    with wl.Receiver(db=db) as first:
        requests.post(first.url("shop"), data=b'{"n": 1}', headers={"X-Shopify-Topic": "orders/create"}, timeout=5)
    first.close()
    second = wl.Receiver(db=db)
    event = second.event(-1)
    assert (event.body, event.provider, event.event_type) == (b'{"n": 1}', "shopify", "orders/create")
    with second:
        requests.post(second.url("shop"), data=b"2", timeout=5)
    assert len(second.events()) == 2
    second.close()


def test_a_body_over_25_mb_gets_a_413_over_real_http(rx, http):
    limit = 25 * 1024 * 1024
    reply = http.post(rx.url("huge"), data=b"x" * (limit + 1), timeout=30)
    assert reply.status_code == 413
    assert reply.json()["limit_bytes"] == limit and "25 MB" in reply.json()["why"]
    event = rx.event(-1)
    assert (event.status, event.size, len(event.body)) == (413, limit + 1, 64 * 1024)
    # The same connection still works afterwards.
    assert http.post(rx.url("huge"), data=b"small", timeout=5).status_code == 200


def test_requests_print_nothing_to_the_notebook():
    # In a fresh interpreter, as in a kernel: pytest's own log capture would hide werkzeug's lines.
    script = """
import requests, webhooklab as wl
rx = wl.Receiver().start()
requests.post(rx.url("quiet"), data=b"1", timeout=5)
requests.get(rx.base_url + "/api/events", timeout=5)
requests.get(rx.base_url + "/nowhere", timeout=5)
rx.close()
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl makes the self-signed certificate")
def test_an_https_receiver_with_a_self_signed_certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)  # fmt: skip
    with wl.Receiver(ssl_context=(str(cert), str(key))) as rx:
        assert rx.url("shop").startswith("https://127.0.0.1:")
        assert requests.post(rx.url("shop"), json={"a": 1}, verify=str(cert), timeout=5).status_code == 200
        with pytest.raises(requests.exceptions.SSLError):  # not signed by an authority requests trusts
            requests.post(rx.url("shop"), json={"a": 1}, timeout=5)
        assert [e.json for e in rx.store.list()] == [{"a": 1}]
    rx.close()


def strict_json(text: str):
    """json.loads as RFC 8259 reads JSON: NaN and Infinity are not numbers there, so a browser cannot read them."""

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_a_body_with_nan_is_stored_as_sent_shown_as_text_and_everything_served_stays_json(rx):
    body = b'{"amount": NaN, "fee": -Infinity}'
    requests.post(rx.url("floats"), data=body, headers={"Content-Type": "application/json"}, timeout=5)
    [event] = rx.wait_for(1)
    assert (event.body, event.json) == (body, None)
    assert "NaN or Infinity" in event.note and "RFC 8259" in event.note
    api = rx.url("floats").split("/hooks/")[0] + "/api/"
    shown = strict_json(requests.get(f"{api}events/{event.id}", timeout=5).text)
    assert (shown["json"], shown["body_text"], shown["note"]) == (None, body.decode(), event.note)
    assert strict_json(requests.get(api + "events", timeout=5).text)["total"] == 1
    for kind in ("json", "har"):
        strict_json(requests.get(f"{api}export.{kind}", timeout=5).text)
    for line in requests.get(f"{api}export.jsonl", timeout=5).text.splitlines():
        strict_json(line)
