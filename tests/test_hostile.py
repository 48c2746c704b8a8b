"""A hostile sender on a raw socket: the receiver survives every request, stores every one, and stays bounded."""

import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

import webhooklab as wl
from webhooklab._receiving.transport import THREADS


def raw(rx, data: bytes, *, wait: float = 5) -> bytes:
    """Send bytes as they are and read until the server closes (or `wait` seconds of silence)."""
    with socket.create_connection(("127.0.0.1", rx.port), timeout=wait) as sock:
        try:
            sock.sendall(data)
        except OSError:  # the server may answer and close while a hostile body is still going out
            pass
        reply = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            reply += chunk
        return reply


def answers_normally(rx) -> bool:
    return requests.post(rx.url("still-here"), data=b"ok", timeout=5).status_code == 200


# The cases found so far: each must leave the process alive and the receiver answering.
CRASHERS = {
    "a chunk that announces 16 MB and closes": b"POST /hooks/c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1000000\r\nhello",
    "a chunk size that is not hex": b"POST /hooks/c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhi\r\n0\r\n\r\n",
    "a negative content length": b"POST /hooks/c HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\nhello",
    "a content length and then less": b"POST /hooks/c HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nshort",
    "both content length and chunked": b"POST /hooks/c HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "a header line without a colon": b"POST /hooks/c HTTP/1.1\r\nHost: x\r\nnot a header\r\n\r\n",
    "a bare LF in a header": b"POST /hooks/c HTTP/1.1\r\nHost: x\r\nX-A: 1\nX-B: 2\r\n\r\n",
    "a TLS handshake on the HTTP port": bytes.fromhex("16030100f4010000f00303") + os.urandom(64),
    "random bytes": bytes(range(256)) * 4,
    "an unknown transfer coding": b"POST /hooks/c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
    "a NUL in the path": b"POST /hooks/c\x00d HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    "an HTTP/9 request line": b"POST /hooks/c HTTP/9.9\r\nHost: x\r\n\r\n",
}


@pytest.mark.parametrize(("line", "method", "endpoint"), [
    ("GET /hooks/café HTTP/1.1".encode(), "GET", "café"),  # UTF-8, as curl sends what it is given
    (b"POST /hooks/caf\xe9?x=\xe9 HTTP/1.1", "POST", "caf\ufffd"),  # latin-1, not UTF-8: shown as the URL decodes
    ("GET /café HTTP/1.1".encode(), None, None),  # the page's side: answered, not stored
])
def test_a_raw_non_ascii_byte_in_the_request_line_is_answered_stored_and_its_connection_freed(rx, line, method, endpoint):
    """Unanswered, each such connection stayed open for good: a few hundred would use up the process's files."""
    with socket.create_connection(("127.0.0.1", rx.port), timeout=10) as sock:
        sock.sendall(line + b"\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}GET /hooks/next HTTP/1.1\r\n\r\n")
        reply = b""
        while chunk := sock.recv(65536):  # until the server closes: a timeout here fails the test
            reply += chunk
    assert reply.upper().startswith(b"HTTP/1.1 400 BAD REQUEST"), reply[:200]
    assert reply.count(b"HTTP/1.1 ") == 1  # the request after it on the connection is never answered
    assert answers_normally(rx)
    stored = [event for event in rx.arrivals() if event.endpoint != "still-here"]
    if endpoint is None:
        assert stored == []
        return
    [event] = stored
    assert (event.method, event.endpoint, event.status) == (method, endpoint, 400)
    assert "raw non-ASCII" in event.note and "percent-encoded" in event.note, event.note


def test_content_length_beside_transfer_encoding_closes_the_connection_after_the_answer(rx):
    """RFC 9112 6.3: the chunked framing wins, and the server closes: a front end may have read the other framing."""
    smuggled = b"GET /hooks/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    reply = raw(rx, b"POST /hooks/both HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"2\r\n{}\r\n0\r\n\r\n" + smuggled)  # fmt: skip
    assert reply.startswith(b"HTTP/1.1 200") and b"\r\nConnection: close\r\n" in reply, reply[:300]
    assert reply.count(b"HTTP/1.1 ") == 1  # the request after it is never read
    assert [(event.endpoint, event.body) for event in rx.arrivals()] == [("both", b"{}")]


def test_a_line_that_is_not_a_request_line_gets_waitress_own_400_and_is_not_stored(rx):
    reply = raw(rx, b"\xff\xfe\r\nHost: 127.0.0.1\r\n\r\n")
    assert reply.startswith(b"HTTP/1.0 400") and rx.store.count() == 0


@pytest.mark.parametrize("name", CRASHERS)
def test_a_malformed_request_ten_times_leaves_the_receiver_answering(rx, name):
    with ThreadPoolExecutor(10) as clients:  # ten at once: some wait for bytes that never come; each client gives up
        list(clients.map(lambda _: raw(rx, CRASHERS[name], wait=0.2), range(10)))
    assert answers_normally(rx)


def test_a_truncated_chunked_body_cannot_crash_a_fresh_interpreter():
    """The case that killed werkzeug's development server, in a process of its own, ten times."""
    script = """
import socket, requests, webhooklab as wl
rx = wl.Receiver().start()
for _ in range(10):
    with socket.create_connection(("127.0.0.1", rx.port)) as s:
        s.sendall(b"POST /hooks/c HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n1000000\\r\\nhello")
print(requests.post(rx.url("after"), data=b"1", timeout=5).status_code)
rx.close()
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout.strip()) == (0, "200"), result.stderr


def test_a_request_the_http_layer_refuses_is_still_recorded_with_its_reason(rx):
    reply = raw(rx, CRASHERS["a chunk size that is not hex"])
    assert reply.startswith(b"HTTP/1.1 400")
    answer = json.loads(reply.split(b"\r\n\r\n", 1)[1])
    assert answer["why"] == "Bad Request: Invalid chunk size"
    event = rx.event(-1)
    assert (event.endpoint, event.status) == ("c", 400)
    assert event.note == "rejected by the HTTP layer: Bad Request: Invalid chunk size"
    assert event.header("Transfer-Encoding") == "chunked"

    raw(rx, CRASHERS["a header line without a colon"])
    assert rx.event(-1).note == "rejected by the HTTP layer: Bad Request: Invalid header"


def test_a_refused_request_elsewhere_is_answered_and_not_recorded(rx):
    reply = raw(rx, b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nbroken\r\n\r\n")
    assert reply.startswith(b"HTTP/1.0 400") and b"the request is not valid HTTP" in reply
    assert b'"events"' not in reply and rx.store.count() == 0


def test_headers_larger_than_the_limit_get_a_431(rx):
    reply = raw(rx, b"POST /hooks/c HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n")
    assert reply == b"" or reply.startswith(b"HTTP/1.0 431")  # or reset while the rest was still being sent
    assert answers_normally(rx)


def test_pipelined_requests_are_each_answered_and_stored_in_order(rx):
    one = b"POST /hooks/pipe HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirst"
    two = b"POST /hooks/pipe HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecond"
    reply = raw(rx, one + two)
    assert reply.count(b"HTTP/1.1 200 OK") == 2
    assert [event.body for event in rx.store.list("pipe")] == [b"first", b"second"]


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_over_the_limit_is_drained_answered_413_and_recorded(chunked):
    with wl.Receiver(max_body=1000) as rx:
        body = b"x" * 300_000
        data = iter([body[i : i + 10_000] for i in range(0, len(body), 10_000)]) if chunked else body
        reply = requests.post(rx.url("big"), data=data, timeout=10)
        assert reply.status_code == 413 and reply.json()["received_bytes"] == 300_000
        event = rx.event(-1)
        assert (event.status, event.size, event.body) == (413, 300_000, b"x" * 1000)
        assert answers_normally(rx)
    rx.close()


def gzip_bomb(decoded_size: int) -> bytes:
    """A gzip body that decodes to `decoded_size` bytes of "A", made without holding them in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"A" * 1024 * 1024
    parts = [compressor.compress(block) for _ in range(decoded_size // len(block))]
    return b"".join(parts) + compressor.flush()


def test_a_gzip_bomb_is_stored_but_never_decoded_past_the_limit(rx, http):
    bomb = gzip_bomb(200 * 1024 * 1024)
    assert len(bomb) < 250_000
    reply = http.post(rx.url("bomb"), data=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
                      timeout=30)  # fmt: skip
    assert reply.status_code == 200
    event = rx.event(-1)
    assert event.body == bomb and "decodes to more than 25 MB" in event.note
    assert event.json is None and event.text is None and event.decoded_body == bomb
    assert event.preview == "<gzip body of more than 25 MB decoded>"
    assert http.get(f"{rx.base_url}/api/events/{event.id}", timeout=10).json()["json"] is None


def test_a_gzip_bomb_costs_the_process_a_bounded_amount_of_memory():
    """In a process of its own, so its peak memory is the receiver's: the bomb decodes to 200 MB."""
    script = """
import json, sys, requests, webhooklab as wl
def peak():
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) / 1024
rx = wl.Receiver().start()
bomb = sys.stdin.buffer.read()
plain = bytes(len(bomb))
requests.post(rx.url("plain"), data=plain, timeout=30)  # the baseline: the same size, not compressed
before = peak()
requests.post(rx.url("bomb"), data=bomb, headers={"Content-Encoding": "gzip"}, timeout=30)
print(json.dumps({"growth_mb": peak() - before}))
rx.close()
"""
    if not os.path.exists("/proc/self/status"):
        pytest.skip("reads peak memory from /proc")
    result = subprocess.run([sys.executable, "-c", script], input=gzip_bomb(200 * 1024 * 1024), capture_output=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    growth = json.loads(result.stdout)["growth_mb"]
    assert growth < 100, f"peak memory grew by {growth:.0f} MB for a 200 KB gzip body"


def test_slow_connections_hold_no_threads_and_a_normal_post_still_gets_through(rx):
    before = threading.active_count()
    slow = []
    for _ in range(300):
        sock = socket.create_connection(("127.0.0.1", rx.port), timeout=5)
        sock.sendall(b"POST /hooks/slow HTTP/1.1\r\nHost: x\r\nContent-Le")  # and then nothing more
        slow.append(sock)
    try:
        assert answers_normally(rx)
        assert threading.active_count() - before <= THREADS  # a bounded pool, however many connections
    finally:
        for sock in slow:
            sock.close()
    assert rx.store.count("slow") == 0


def test_a_signature_header_that_trips_verification_still_stores_the_event():
    stripe = wl.Stripe("whsec_" + "a" * 32)
    with wl.Receiver(secrets={"pay": stripe}) as rx:
        body, headers = stripe.sign(stripe.event("charge.succeeded"))
        for bad in ("t=" + "9" * 5000 + ",v1=00", "t=17²,v1=00", "t=" + str(10**400) + ",v1=00", "t=\xff\xfe,v1=" + "é" * 500):
            reply = requests.post(rx.url("pay"), data=body, headers={**headers, "Stripe-Signature": bad}, timeout=5)
            assert reply.status_code == 200
            event = rx.event(-1)
            assert (event.verified, event.reason) == (False, "malformed_header"), bad[:20]
        assert rx.store.count() == 4
    rx.close()


def test_a_deeply_nested_json_body_is_stored(rx, http):
    body = b"[" * 100_000 + b"]" * 100_000
    assert http.post(rx.url("deep"), data=body, headers={"Content-Type": "application/json"}, timeout=5).status_code == 200
    event = rx.event(-1)
    assert event.body == body and event.json is None


def test_when_a_handler_raises_the_stored_answer_is_the_one_sent(rx, http):
    @rx.on("*", endpoint="boom")
    def explode(event):
        raise RuntimeError("out of stock")

    rx.respond("boom", body="fine")  # text/plain, until the handler fails
    reply = http.post(rx.url("boom"), json={"type": "order.paid"}, timeout=5)
    event = rx.event(-1)
    assert (reply.status_code, event.status) == (500, 500)
    assert event.response_body == reply.content
    assert event.response_headers["Content-Type"] == reply.headers["Content-Type"] == "application/json"


def test_every_acknowledged_event_survives_a_kill_9(tmp_path):
    """A file-backed receiver in its own process, killed mid-stream: every 200 it gave is on disk."""
    for round_ in range(2):
        db = tmp_path / f"events-{round_}.db"
        server = subprocess.Popen([sys.executable, "-m", "webhooklab", "serve", "--port", "0", "--db", str(db)],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
        url = next(server.stdout).split()[-1] + "/hooks/durable"  # "webhooklab receiver listening on <url>"
        acknowledged, stop = [], threading.Event()

        def send(sender: int):
            with requests.Session() as session:
                for n in range(10_000):
                    if stop.is_set():
                        return
                    try:
                        reply = session.post(url, data=f"{sender}-{n}".encode(), timeout=5)
                    except requests.RequestException:
                        return
                    if reply.status_code == 200:
                        acknowledged.append(f"{sender}-{n}".encode())

        senders = [threading.Thread(target=send, args=(i,)) for i in range(4)]
        for thread in senders:
            thread.start()
        deadline = time.monotonic() + 10
        while len(acknowledged) < 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        stop.set()
        for thread in senders:
            thread.join(timeout=10)
        server.stdout.close()
        store = wl.EventStore(db)
        stored = {event.body for event in store.list("durable")}
        store.close()
        assert len(acknowledged) >= 200
        assert set(acknowledged) <= stored, f"{len(set(acknowledged) - stored)} acknowledged events were lost"


def test_2000_deliveries_from_32_senders_are_stored_once_each(rx):
    def send(sender: int) -> list[int]:
        with requests.Session() as session:
            return [session.post(rx.url("many"), data=f"{sender}:{n}".encode(), timeout=10).status_code
                    for n in range(2000 // 32 + 1)]  # fmt: skip

    with ThreadPoolExecutor(32) as pool:
        statuses = [status for batch in pool.map(send, range(32)) for status in batch]
    bodies = [event.body for event in rx.store.list("many")]
    assert statuses.count(200) == len(statuses) == len(bodies) == len(set(bodies))


def test_decompress_never_holds_more_than_its_limit_and_keeps_what_does_not_decode():
    from webhooklab._event import decompress

    text = b"hello world " * 1000
    assert decompress(gzip.compress(text), "gzip") == (text, True)
    assert decompress(gzip.compress(text) + gzip.compress(b"!"), "x-gzip") == (text + b"!", True)  # two members
    assert decompress(zlib.compress(text), "deflate") == (text, True)
    assert decompress(gzip.compress(b""), "gzip") == (b"", True)
    assert decompress(gzip.compress(b"a" * 4000), "gzip", 4000) == (b"a" * 4000, True)
    assert decompress(gzip.compress(b"a" * 4001), "gzip", 4000) == (b"", False)
    cut = gzip.compress(text)[:-10]
    assert decompress(cut, "gzip") == (cut, True) and decompress(b"not gzip", "gzip") == (b"not gzip", True)
    assert decompress(text, None) == (text, True)


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl makes the self-signed certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)  # fmt: skip
    return str(cert), str(key)


def test_an_https_receiver_survives_plain_http_half_handshakes_and_garbage(tls_files):
    cert, key = tls_files
    with wl.Receiver(ssl_context=(cert, key)) as rx:
        stalled = socket.create_connection(("127.0.0.1", rx.port), timeout=5)
        stalled.sendall(bytes.fromhex("160301"))  # the start of a ClientHello, and then nothing
        for data in (b"POST /hooks/plain HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi", bytes(range(256))):
            raw(rx, data, wait=1)
        reply = requests.post(rx.url("tls"), data=b"x" * 100_000, verify=cert, timeout=5)  # several TLS records
        assert reply.status_code == 200 and rx.event(-1).body == b"x" * 100_000
        assert rx.store.count() == 1  # plain HTTP on the TLS port never became a request
        stalled.close()
    rx.close()


def api(rx, path: str, method: str = "GET", **kwargs) -> requests.Response:
    return requests.request(method, rx.base_url + path, timeout=10, **kwargs)


def test_the_page_and_api_answer_only_hosts_the_receiver_is_served_as(http):
    with wl.Receiver(allowed_hosts=["tunnel.example"]) as rx:
        http.post(rx.url("shop"), data=b"secret order", headers={"Host": "evil.example"}, timeout=5)
        assert rx.event(-1).body == b"secret order"  # webhooks are open to every sender, whatever its Host
        for path in ("/", "/api", "/api/events", "/api/events/1", "/api/export.csv", "/inspector/app.js"):
            refused = api(rx, path, headers={"Host": f"evil.example:{rx.port}"})
            assert refused.status_code == 403 and b"secret order" not in refused.content, path
            assert "DNS rebinding" in refused.json()["why"]
        for host in (f"localhost:{rx.port}", f"127.0.0.1:{rx.port}", f"[::1]:{rx.port}", "tunnel.example", "TUNNEL.example:443"):
            assert api(rx, "/api/events", headers={"Host": host}).status_code == 200, host
    rx.close()


def test_changes_need_the_pages_header_and_origin(rx):
    rx.respond("shop", status=202)
    requests.post(rx.url("shop"), data=b"1", timeout=5)
    replay = f"/api/events/{rx.event(-1).id}/replay"
    for attempt in (dict(data="{}", headers={"Content-Type": "text/plain"}),
                    dict(data={"url": rx.url("shop")}),  # a form post
                    dict(json={}, headers={"X-Webhooklab": "1", "Origin": "http://127.0.0.2:8000"}),
                    dict(json={}, headers={"X-Webhooklab": "1", "Sec-Fetch-Site": "cross-site"})):  # fmt: skip
        assert api(rx, replay, "POST", **attempt).status_code == 403
    changed = api(rx, "/api/endpoints/shop", "PUT", json={"status": 500})
    assert changed.status_code == 403 and "X-Webhooklab" in changed.json()["error"]
    assert rx.store.count() == 1 and rx.responses.rules()["shop"].status == 202
    own = {"X-Webhooklab": "1", "Origin": rx.base_url}
    assert api(rx, replay, "POST", json={}, headers=own).json()["status"] == 202
    assert rx.store.count() == 2


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ([1, 2], "replay takes a JSON object"),
        ({"url": "file:///etc/passwd"}, "must start with http:// or https://"),
        ({"url": 5}, "must start with http:// or https://"),
        ({"url": "http://127.0.0.1:{port}/api/events/1/replay"}, "not to this receiver's '/api/events/1/replay'"),
        ({"url": "http://localhost:{port}/api/endpoints/shop"}, "a replay goes to a webhook endpoint"),
    ],
)
def test_a_replay_goes_only_to_a_webhook_endpoint(rx, options, error):
    requests.post(rx.url("shop"), data=b"1", timeout=5)
    if isinstance(options, dict) and isinstance(options.get("url"), str):
        options = {"url": options["url"].format(port=rx.port)}
    reply = api(rx, f"/api/events/{rx.event(-1).id}/replay", "POST", json=options, headers={"X-Webhooklab": "1"})
    assert reply.status_code == 400 and error in reply.json()["error"]
    assert rx.store.count() == 1


# This machine, spelled every way a URL's host can spell it and an HTTP client still connects to it.
OWN_ADDRESS_SPELLINGS = [
    "127.0.0.1", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "127.1", "2130706433", "0x7f000001", "0x7f.0.0.1",
    "0177.0.0.1", "127.000.000.001", "127.0.0.1.", "LOCALHOST", "localhost.", "LocalHost.", "api.localhost",
    "[::1]", "[0:0:0:0:0:0:0:1]", "[0000:0000::0001]", "0", "0.0.0.0", "[::]", "127.0.0.2",
]  # fmt: skip


@pytest.mark.parametrize("host", OWN_ADDRESS_SPELLINGS)
def test_a_replay_to_this_receivers_api_is_refused_however_its_address_is_spelled(rx, host):
    """Sent, such a replay would reach the API it came from: with /replay, it would replay itself again and again."""
    requests.post(rx.url("shop"), data=b"1", timeout=5)
    event = rx.event(-1).id
    url = f"http://{host}:{rx.port}/api/events/{event}/replay"
    reply = api(rx, f"/api/events/{event}/replay", "POST", json={"url": url}, headers={"X-Webhooklab": "1"})
    assert reply.status_code == 400 and "a replay goes to a webhook endpoint" in reply.json()["error"], reply.text
    assert rx.store.count() == 1


def test_a_replay_to_a_name_that_resolves_to_this_machine_is_refused(rx):
    name = socket.gethostname()  # most machines map their own name to a loopback address in /etc/hosts
    try:
        resolved = {info[4][0] for info in socket.getaddrinfo(name, rx.port, type=socket.SOCK_STREAM)}
    except OSError:
        resolved = set()
    if not any(address.startswith("127.") or address == "::1" for address in resolved):
        pytest.skip(f"this machine's name {name!r} does not resolve to a loopback address here ({resolved})")
    test_a_replay_to_this_receivers_api_is_refused_however_its_address_is_spelled(rx, name)


def test_a_captured_x_webhooklab_header_is_never_replayed(rx):
    requests.post(rx.url("shop"), data=b"1", headers={"X-Webhooklab": "1"}, timeout=5)
    api(rx, f"/api/events/{rx.event(-1).id}/replay", "POST", json={}, headers={"X-Webhooklab": "1"})
    assert rx.event(-1).header("X-Webhooklab") is None


def test_replays_in_flight_are_bounded(rx):
    from webhooklab._receiving.api import REPLAYS_IN_FLIGHT

    requests.post(rx.url("slow"), data=b"1", timeout=5)
    rx.respond("slow", delay=1.5)
    replay = f"/api/events/{rx.event(-1).id}/replay"
    with ThreadPoolExecutor(REPLAYS_IN_FLIGHT + 3) as pool:
        replies = list(pool.map(lambda _: api(rx, replay, "POST", json={}, headers={"X-Webhooklab": "1"}),
                                range(REPLAYS_IN_FLIGHT + 3)))  # fmt: skip
    statuses = sorted(reply.status_code for reply in replies)
    assert statuses.count(200) <= REPLAYS_IN_FLIGHT and 429 in statuses
    assert "already on their way" in next(r for r in replies if r.status_code == 429).json()["error"]


def test_expected_signatures_can_be_hidden_from_the_page():
    stripe = wl.Stripe("whsec_" + "b" * 32)
    for show in (True, False):
        with wl.Receiver(secrets={"pay": stripe}, show_expected=show) as rx:
            body, headers = stripe.sign(stripe.event("charge.succeeded"))
            requests.post(rx.url("pay"), data=body, headers={**headers, "Stripe-Signature": "t=1,v1=" + "0" * 64}, timeout=5)
            steps = dict(api(rx, f"/api/events/{rx.event(-1).id}/inspect").json()["explanation"]["steps"])
            expected = stripe.explain(body, {**headers, "Stripe-Signature": "t=1,v1=" + "0" * 64}).steps
            digest = dict(expected)["expected (hex)"]
            assert (steps["expected (hex)"] == digest) is show
            assert ("hidden" in steps["first difference"]) is not show
        rx.close()


def test_another_machine_can_neither_change_nor_read_anything_but_may_send_webhooks(store):
    """Through the in-process client, so the other machine (192.0.2.10, an address for documentation) sends nothing.

    A receiver on 0.0.0.0 is reached by every machine that can reach this one; its events hold whatever senders sent.
    """
    from webhooklab._receiving.app import create_app
    from webhooklab._receiving.verifiers import Verifiers

    stripe = wl.Stripe("whsec_" + "c" * 32)
    client = create_app(store, verifiers=Verifiers({"pay": stripe})).test_client()
    body, headers = stripe.sign(stripe.event("charge.succeeded"))
    remote = {"REMOTE_ADDR": "192.0.2.10"}
    sent = client.post("/hooks/pay", data=body, headers={**headers, "Stripe-Signature": "t=1,v1=" + "0" * 64},
                       environ_base=remote)  # fmt: skip
    assert sent.status_code == 200 and store.count() == 1  # webhooks are open to every machine
    for path in ("/", "/api/events", "/api/events/1", "/api/events/1/inspect", "/api/export.json", "/inspector/app.js",
                 "/api/nothing-here"):  # fmt: skip
        refused = client.get(path, environ_base=remote)
        assert refused.status_code == 403, path
        assert refused.json["error"] == "this receiver's page and API answer only the machine it runs on"
        assert "192.0.2.10" in refused.json["why"] and "share_page=True" in refused.json["why"]
        assert b"charge.succeeded" not in refused.data
    changed = client.put("/api/endpoints/pay", json={"status": 500}, headers={"X-Webhooklab": "1"}, environ_base=remote)
    assert changed.status_code == 403 and "192.0.2.10" in changed.json["why"]
    assert client.get("/api/events/1").status_code == 200  # from this machine, as before


def test_a_shared_page_lets_another_machine_read_but_never_change_nor_see_expected_signatures(store):
    from webhooklab._receiving.app import create_app
    from webhooklab._receiving.verifiers import Verifiers

    stripe = wl.Stripe("whsec_" + "c" * 32)
    client = create_app(store, verifiers=Verifiers({"pay": stripe}), share_page=True).test_client()
    body, headers = stripe.sign(stripe.event("charge.succeeded"))
    client.post("/hooks/pay", data=body, headers={**headers, "Stripe-Signature": "t=1,v1=" + "0" * 64})
    remote = {"REMOTE_ADDR": "192.0.2.10"}
    changed = client.put("/api/endpoints/pay", json={"status": 500}, headers={"X-Webhooklab": "1"}, environ_base=remote)
    assert changed.status_code == 403 and "192.0.2.10" in changed.json["why"]
    steps = dict(client.get("/api/events/1/inspect", environ_base=remote).json["explanation"]["steps"])
    assert steps["expected (hex)"].startswith("hidden")
    local = dict(client.get("/api/events/1/inspect").json["explanation"]["steps"])
    assert re.fullmatch("[0-9a-f]{64}", local["expected (hex)"])


def test_a_receiver_on_every_interface_still_answers_this_machine_over_http():
    with wl.Receiver(host="0.0.0.0") as rx:
        assert requests.post(f"http://127.0.0.1:{rx.port}/hooks/shop", data=b"1", timeout=5).status_code == 200
        for address in ("127.0.0.1", "127.0.0.2"):  # any loopback address is this machine
            with requests.Session() as session:
                session.mount("http://", SourceAddress(address))
                assert session.get(f"http://127.0.0.1:{rx.port}/api/events", timeout=5).json()["total"] == 1
    rx.close()


class SourceAddress(requests.adapters.HTTPAdapter):
    """Connections from a chosen local address."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, source_address=(self.address, 0), **kwargs)


@pytest.mark.parametrize(
    "query",
    ["limit=" + "9" * 20, "after=-1", "after=²", "limit=1e3", "ids=1,²", "ids=" + ",".join(["1"] * 1001), "limit=%00"],
)
def test_query_values_the_api_cannot_use_answer_400_with_what_arrived(client, query):
    reply = client.get(f"/api/events?{query}")
    assert reply.status_code == 400 and ("must be" in reply.json["error"] or "at most" in reply.json["error"])
    assert reply.json["arrived"].startswith("/api/events?")


def test_bodies_the_api_cannot_use_answer_400(client):
    client.post("/hooks/shop", data=b"1")
    page = {"X-Webhooklab": "1"}
    for body in ([1], "text", None, {"status": "500"}, {"status": 5000}, {"delay": float("inf")}, {"fail_first": 2.5}):
        reply = client.put("/api/endpoints/shop", data=json.dumps(body), content_type="application/json", headers=page)
        assert reply.status_code == 400, body
    assert client.post("/api/events/1/replay", json=[1], headers=page).status_code == 400
