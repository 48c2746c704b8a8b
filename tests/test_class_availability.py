"""A class server no single learner, and no stranger, can take down: each attack against a real
`webhooklab classroom` process, then another learner's webhook and the dashboard, each answered in under a second.

Everything is on loopback: the class listens on 127.0.0.2 (the classroom's LAN), a stranger comes from 127.0.0.3.
"""

import csv
import json
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

import webhooklab as wl
from webhooklab._classroom.limits import ENDPOINTS, IN_FLIGHT, MAX_DELAY

LAN = "127.0.0.2"
STRANGER = "127.0.0.3"
CHANGE = {"X-Webhooklab": "1"}
QUOTA_MB = 8

resource = pytest.importorskip("resource", reason="the class's file limit is set with Unix's resource module")


class Class:
    """A `webhooklab classroom` process, its learners' bin URLs and its dashboard."""

    def __init__(self, folder, learners: int, *, files: int | None = None, quota_mb: int = QUOTA_MB):
        def limit_files():
            if files:
                resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))  # what `ulimit -n` does: soft and hard

        self.process = subprocess.Popen(
            [sys.executable, "-m", "webhooklab", "classroom", "--students", str(learners), "--host", LAN,
             "--port", "0", "--dir", str(folder), "--quota-mb", str(quota_mb)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=limit_files)  # fmt: skip
        printed = ""
        for line in self.process.stdout:
            printed += line
            if line.startswith("Press Ctrl-C"):
                break
        else:
            raise AssertionError(f"the class server did not start: {printed}{self.process.stderr.read()}")
        self.dashboard = re.search(r"your dashboard\s+(\S+)", printed)[1]
        with open(folder / "handout.csv", encoding="utf-8") as file:
            self.bins = [row["bin_url"] for row in csv.DictReader(file)]
        self.port = urlsplit(self.dashboard).port

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process.stdout.close()
        self.process.stderr.close()

    def others_are_served(self, victim: str) -> None:
        """Another learner's webhook is stored and answered, and the dashboard reads, each in under a second."""
        started = time.perf_counter()
        answer = requests.post(victim + "hooks/orders", json={"id": "evt_after"}, timeout=10)
        webhook = time.perf_counter() - started
        started = time.perf_counter()
        table = requests.get(self.dashboard + "api/class", timeout=10)
        dashboard = time.perf_counter() - started
        assert answer.status_code == 200 and table.status_code == 200, (answer.text, table.text)
        assert webhook < 1 and dashboard < 1, f"webhook {webhook:.2f} s, dashboard {dashboard:.2f} s"

    def limits_of(self, bin_url: str) -> dict:
        rows = requests.get(self.dashboard + "api/class", timeout=10).json()["learners"]
        return next(row["limits"] for row in rows if bin_url.endswith(row["page"].removeprefix("../..")))


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    room = Class(tmp_path_factory.mktemp("room") / "class", 8)  # a bin for each test: they run in any order
    yield room
    room.stop()


def raw(host: str, port: int, data: bytes, *, source: str = STRANGER) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=10, source_address=(source, 0))
    sock.sendall(data)
    return sock


def answer_of(sock: socket.socket) -> bytes:
    """Everything the server sends before it closes the connection."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    sock.close()
    return received


def test_raw_non_ascii_request_lines_are_answered_and_their_connections_closed(room):
    for _ in range(300):
        sock = raw(LAN, room.port, b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: class\r\n\r\n")
        assert answer_of(sock).startswith(b"HTTP/1.1 4")  # answered (a 404: no bin has this address), then closed
    room.others_are_served(room.bins[0])


def test_a_learners_slow_answers_hold_their_own_requests_and_no_one_elses(room):
    careless = room.bins[1]
    rx = wl.Receiver.attach(careless)
    with pytest.raises(wl.ReceiverError, match=f"at most {MAX_DELAY:g} s"):
        rx.respond("slow", delay=3600)
    rx.respond("slow", delay=MAX_DELAY)
    deadline = time.monotonic() + 20  # the change's own request is done with: its ticket is released once it is sent
    while room.limits_of(careless)["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.02)
    request = f"POST {urlsplit(careless).path}hooks/slow HTTP/1.1\r\nHost: class\r\nContent-Length: 2\r\n\r\n{{}}"
    waiting = [raw(LAN, room.port, request.encode(), source=LAN) for _ in range(3 * IN_FLIGHT)]
    try:
        deadline = time.monotonic() + 20  # every request is in, and all but the first IN_FLIGHT answered
        while sum(map(_ready, waiting)) < 2 * IN_FLIGHT and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # and the IN_FLIGHT held ones stay unanswered
        refused = [sock for sock in waiting if _ready(sock)]
        assert len(refused) == 2 * IN_FLIGHT
        answer = answer_of(refused[0])
        assert answer.startswith(b"HTTP/1.1 429") and b"in flight" in answer
        room.others_are_served(room.bins[0])
        assert room.limits_of(careless)["refused"]["in flight"] >= 2 * IN_FLIGHT
    finally:
        for sock in waiting:
            sock.close()
        rx.respond("slow")


def test_downloads_never_read_hold_no_worker(room):
    hoarder = room.bins[2]
    body = json.dumps({"blob": "x" * 5 * 1024 * 1024})
    assert requests.post(hoarder + "hooks/big", data=body, timeout=30).status_code == 200
    request = f"GET {urlsplit(hoarder).path}api/export.json HTTP/1.1\r\nHost: {LAN}\r\n\r\n".encode()
    unread = []
    for _ in range(16):
        sock = raw(LAN, room.port, request, source=LAN)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        unread.append(sock)
    try:
        time.sleep(1)
        room.others_are_served(room.bins[0])
    finally:
        for sock in unread:
            sock.close()
    requests.delete(hoarder + "api/events", headers=CHANGE, timeout=10)


def test_a_bin_over_its_quota_is_refused_with_507_and_others_keep_storing(room):
    filler = room.bins[3]
    before = room.limits_of(filler)["refused"].get("stored", 0)
    answers = [requests.post(filler + "hooks/fill", data=b"x" * 1024 * 1024, timeout=30) for _ in range(QUOTA_MB + 2)]
    refused = [answer for answer in answers if answer.status_code == 507]
    assert refused and all(answer.status_code == 200 for answer in answers[: QUOTA_MB - 1])
    assert "Delete its events" in refused[0].json()["why"]
    room.others_are_served(room.bins[0])
    assert room.limits_of(filler)["refused"]["stored"] == before + len(refused)
    assert requests.delete(filler + "api/events", headers=CHANGE, timeout=10).json()["deleted"] >= QUOTA_MB - 1
    assert requests.post(filler + "hooks/fill", data=b"x" * 1024 * 1024, timeout=30).status_code == 200
    requests.delete(filler + "api/events", headers=CHANGE, timeout=10)


def test_a_bin_keeps_at_most_its_number_of_endpoints(room):
    spammer = room.bins[4]
    with requests.Session() as session:
        codes = [session.post(f"{spammer}hooks/name-{n}", data=b"{}", timeout=10).status_code
                 for n in range(ENDPOINTS + 5)]  # fmt: skip
    assert codes.count(200) <= ENDPOINTS and codes[-1] == 507
    assert requests.post(f"{spammer}hooks/{'n' * 500}", data=b"{}", timeout=10).status_code == 507
    room.others_are_served(room.bins[0])
    requests.delete(spammer + "api/events", headers=CHANGE, timeout=10)
    assert requests.post(f"{spammer}hooks/new-name", data=b"{}", timeout=10).status_code == 200


def test_a_strangers_request_keeps_only_a_little_of_its_body(room):
    sock = raw(LAN, room.port, b"POST /nowhere HTTP/1.1\r\nHost: class\r\nContent-Length: 20000000\r\n\r\n")
    sock.sendall(b"x" * 1024 * 1024)
    sock.close()
    room.others_are_served(room.bins[0])


@pytest.fixture(scope="module")
def crowded(tmp_path_factory):
    """A class of 100 under `ulimit -n 256`, the limit macOS starts every process with."""
    room = Class(tmp_path_factory.mktemp("crowded") / "class", 100, files=256)
    yield room
    room.stop()


def test_under_256_open_files_a_class_of_100_starts_and_30_learners_lose_nothing(crowded):
    def deliver(bin_url: str) -> list[int]:
        with requests.Session() as session:
            return [session.post(bin_url + "hooks/orders", json={"n": n}, timeout=30).status_code for n in range(100)]

    with ThreadPoolExecutor(max_workers=30) as pool:
        codes = [code for codes in pool.map(deliver, crowded.bins[:30]) for code in codes]
    assert codes == [200] * 3000
    rows = requests.get(crowded.dashboard + "api/class", timeout=30).json()["learners"]
    assert [row["received"] for row in rows[:30]] == [100] * 30


def test_trickling_strangers_do_not_keep_learners_out(crowded):
    """More half-sent requests than the server may hold connections: the oldest idle ones make room."""
    trickling = []
    try:
        for _ in range(400):
            trickling.append(raw(LAN, crowded.port, b"GET /b/"))  # and never the rest of the line
        time.sleep(0.5)
        crowded.others_are_served(crowded.bins[99])
    finally:
        for sock in trickling:
            sock.close()


def _ready(sock: socket.socket) -> bool:
    """Whether the server has answered on this socket yet (without waiting for it)."""
    sock.setblocking(False)
    try:
        return bool(sock.recv(1, socket.MSG_PEEK))
    except BlockingIOError:
        return False
    finally:
        sock.setblocking(True)


def test_the_dashboard_names_the_limits_each_bin_hit(room):
    limits = room.limits_of(room.bins[0])
    assert set(limits) == {"in_flight", "stored_bytes", "quota_bytes", "endpoints", "refused", "last_refused"}
    assert limits["quota_bytes"] == QUOTA_MB * 1024 * 1024




def test_under_too_few_open_files_the_class_says_which_limit_to_raise(tmp_path):
    process = subprocess.run(
        [sys.executable, "-m", "webhooklab", "classroom", "--students", "3", "--host", LAN, "--port", "0",
         "--dir", str(tmp_path / "class")],
        capture_output=True, text=True, timeout=60,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (100, 100)))  # fmt: skip
    assert process.returncode != 0
    assert "may open only 100 files" in process.stderr and "ulimit -n 1024" in process.stderr


def test_bodies_still_arriving_count_against_the_bins_quota(room):
    """Unfinished bodies are kept in temporary files: a bin may not start more of them than it has room for."""
    path = urlsplit(room.bins[5]).path
    head = f"POST {path}hooks/upload HTTP/1.1\r\nHost: class\r\nContent-Length: {5 * 1024 * 1024}\r\n\r\n".encode()
    first = raw(LAN, room.port, head + b"x" * 1024 * 1024, source=LAN)
    try:
        second = raw(LAN, room.port, head + b"x" * 5 * 1024 * 1024, source=LAN)  # read and dropped, then refused
        assert answer_of(second).startswith(b"HTTP/1.1 507")
        room.others_are_served(room.bins[0])
    finally:
        first.close()


def test_a_big_body_with_a_wrong_signature_costs_its_verdict_only(room):
    """Every bin checks signatures with its learner's secret: a 5 MB body signed with another costs one HMAC."""
    event = {"id": "evt_big", "object": "event", "type": "charge.succeeded", "blob": "x" * 5 * 1024 * 1024}
    body, headers = wl.Stripe("whsec_" + "A" * 32).sign(event)
    answer = requests.post(room.bins[6] + "hooks/stripe", data=body, headers=headers, timeout=30)
    assert answer.status_code == 200
    room.others_are_served(room.bins[0])
    event = wl.Receiver.attach(room.bins[6], history=True).event(-1)
    assert event.verified is False and "was not looked for" in event.verification


def test_below_the_free_disk_floor_bins_refuse_bodies_with_507(tmp_path, monkeypatch):
    from webhooklab._classroom import ClassFolder, ClassServer, limits, numbered

    monkeypatch.setattr(limits, "DISK_FLOOR", 2**62)  # more than any disk has free
    server = ClassServer(ClassFolder(tmp_path / "class", numbered(2)), host=LAN).start()
    try:
        bin_url = server.bin_url(server.folder.learners[0])
        answer = requests.post(bin_url + "hooks/orders", json={"id": 1}, timeout=10)
        assert answer.status_code == 507 and "Tell your instructor" in answer.json()["why"]
        assert requests.get(bin_url + "api/events", timeout=10).status_code == 200  # reading needs no disk
        assert server.limits.report(server.folder.learners[0].token)["refused"] == {"disk": 1}
    finally:
        server.close()
