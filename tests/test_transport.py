"""The HTTP layer under every receiver: nothing waits in a worker, and no connection is kept for nothing.

Each test runs a real receiver on 127.0.0.1 and talks to it over real sockets. Timeouts that are
seconds long in use are shortened here, so a test shows the rule in a second or two.
"""

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

import webhooklab as wl
from webhooklab._receiving import connection, transport


def raw(port: int, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(data)
    return sock


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """True once the server has closed the connection (what it sent before is read and dropped)."""
    sock.settimeout(within)
    try:
        while sock.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    finally:
        sock.close()


def test_late_answers_wait_in_the_event_loop_not_in_the_workers():
    before = threading.active_count()  # other tests' threads in this process are not this server's
    with wl.Receiver() as rx:
        rx.respond("slow", delay=8)  # long enough that none is answered before all have arrived, even on a busy machine
        with ThreadPoolExecutor(2 * transport.THREADS) as pool:
            late = [pool.submit(requests.post, rx.url("slow"), json={}, timeout=30)
                    for _ in range(2 * transport.THREADS)]  # fmt: skip
            rx.wait_for(2 * transport.THREADS, endpoint="slow", timeout=20)  # every one stored, none answered yet
            assert not any(answer.done() for answer in late)
            fast = requests.post(rx.url("fast"), json={}, timeout=2)  # with every late answer still waiting
            assert fast.status_code == 200
            assert [answer.result().status_code for answer in late] == [200] * len(late)
        assert threading.active_count() - before < transport.THREADS + 10  # its workers; the waits took no thread each


def test_a_sender_that_gives_up_on_a_late_answer_frees_its_connection():
    with wl.Receiver() as rx:
        rx.respond("slow", delay=60)
        sock = raw(rx.port, b"POST /hooks/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        rx.wait_for(1, endpoint="slow", timeout=10)
        sock.close()
        server = rx._server
        deadline = time.monotonic() + 5
        while server.active_channels and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not server.active_channels


def test_headers_that_trickle_past_the_deadline_are_cut_off(monkeypatch):
    monkeypatch.setattr(connection, "HEADER_TIMEOUT", 1)
    with wl.Receiver() as rx:
        sock = raw(rx.port, b"POST /hooks/x HTTP/1.1\r\n")
        try:
            for _ in range(3):  # a byte a second would keep waitress's idle timeout away for ever
                time.sleep(0.5)
                sock.sendall(b"X")
        except OSError:
            pass  # already cut off, on a machine slow enough that the deadline came first
        assert closed_by_server(sock, within=5)
        silent = raw(rx.port, b"")
        assert closed_by_server(silent, within=5)
        assert requests.post(rx.url("x"), json={}, timeout=5).status_code == 200


def test_a_download_nobody_reads_is_closed_once_it_makes_no_progress(monkeypatch):
    monkeypatch.setattr(connection, "IDLE_TIMEOUT", 1)
    with wl.Receiver() as rx:
        requests.post(rx.url("big"), data=b"x" * 8 * 1024 * 1024, timeout=30)
        sock = raw(rx.port, b"GET /api/export.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        server = rx._server
        deadline = time.monotonic() + 10  # until the export is written and its worker is done with it
        while any(c.requests for c in list(server.active_channels.values())) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(server.active_channels) == 1 and not any(c.requests for c in server.active_channels.values())
        deadline = time.monotonic() + 10
        while server.active_channels and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not server.active_channels
        sock.close()


def test_an_export_is_a_file_the_loop_sends_with_its_length():
    with wl.Receiver() as rx:
        for n in range(3):
            requests.post(rx.url("orders"), json={"n": n}, timeout=5)
        answer = requests.get(rx.base_url + "/api/export.jsonl", timeout=5)
        assert answer.headers["Content-Length"] == str(len(answer.content))
        assert [line.count('"endpoint": "orders"') for line in answer.text.splitlines()] == [1, 1, 1]



def test_when_every_connection_is_taken_the_oldest_idle_ones_make_room(monkeypatch):
    monkeypatch.setattr(transport, "connection_limit_for_files", lambda reserved=128: 20)
    with wl.Receiver() as rx:
        idle = [raw(rx.port, b"GET /hoo") for _ in range(60)]  # half a request line each, never finished
        try:
            time.sleep(0.3)
            assert requests.post(rx.url("orders"), json={}, timeout=5).status_code == 200
            assert len(rx._server.active_channels) <= 20
        finally:
            for sock in idle:
                sock.close()


@pytest.mark.parametrize("pieces", [1, 3])
def test_a_held_answer_is_sent_whole(pieces):
    with wl.Receiver() as rx:
        rx.respond("slow", delay=0.5, body="x" * 100_000 * pieces)
        answer = requests.post(rx.url("slow"), json={}, timeout=10)
        assert answer.status_code == 200 and len(answer.content) == 100_000 * pieces


def test_requests_one_after_another_on_one_connection_never_wait_for_the_loops_wake_up():
    """Each answer goes out as soon as a worker has it: 30 requests in turn take far less than 30 of the loop's 1 s."""
    with wl.Receiver() as rx, requests.Session() as session:
        started = time.monotonic()
        for n in range(30):
            assert session.post(rx.url("seq"), json={"n": n}, timeout=10).status_code == 200
        assert time.monotonic() - started < 10
