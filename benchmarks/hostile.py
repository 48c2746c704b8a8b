"""The receiver under hostile and heavy traffic, each figure beside a baseline measured in the same run.

    python benchmarks/hostile.py [--only crashes,memory,slow,many,kill]

- crashes: each malformed request of tests/test_hostile.py, 10 times against a
  receiver in a fresh process, and the worst one against a bare Flask app on
  werkzeug's development server (the server the receiver used to run on)
  that reads the body a megabyte at a time, as the receiver did.
- memory: the receiver process's peak memory growth for a 200 KB gzip body that
  decodes to 200 MB, beside a plain body of the same size.
- slow: 1,000 connections that send half a request and stop; a normal POST's
  latency and the server's thread count, beside the same with none open.
- many: 10,000 deliveries from 32 concurrent senders, each body unique: how
  many were acknowledged, stored, lost or stored twice.
- kill: a file-backed receiver killed with SIGKILL while 4 senders post,
  five times: every acknowledged event must be in the file afterwards.

Every request goes to 127.0.0.1, and every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
from test_hostile import CRASHERS, gzip_bomb  # noqa: E402  the same cases as the tests

WORST = "a chunk that announces 16 MB and closes"


def serve(kind: str, db: str | None) -> None:
    """Serve one app until stdin closes; print the port first."""
    if kind == "receiver":
        import webhooklab as wl

        port = wl.Receiver(db, max_body=25 * 1024 * 1024).start().port
    else:
        from flask import Flask, request
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log_request(self, *args):
                pass

        app = Flask("bare")

        @app.route("/hooks/<endpoint>", methods=["POST"])
        def ok(endpoint):
            while request.stream.read(1024 * 1024):  # a megabyte at a time, as a capture would read it
                pass
            return ""

        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.port
    print(port, flush=True)
    sys.stdin.read()


class Server:
    """A server process of ours, on 127.0.0.1."""

    def __init__(self, kind: str = "receiver", db: str | None = None):
        command = [sys.executable, __file__, "--serve", kind] + (["--db", db] if db else [])
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)  # fmt: skip
        self.port = int(self.process.stdout.readline())
        self.url = f"http://127.0.0.1:{self.port}/hooks/"

    def status(self, field: str) -> int:
        """A number from /proc/<pid>/status, such as VmHWM (peak memory, kB) or Threads."""
        text = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(next(line.split()[1] for line in text.splitlines() if line.startswith(field + ":")))

    def alive(self) -> bool:
        if self.process.poll() is not None:
            return False
        try:
            return requests.post(self.url + "alive", data=b"1", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=10)


def send_raw(port: int, data: bytes, wait: float = 0.2) -> None:
    """Send bytes as they are, read what comes back for `wait` seconds; a server that died refuses."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
            sock.sendall(data)
            while sock.recv(65536):
                pass
    except OSError:
        pass


def crashes() -> None:
    print("## Malformed requests, 10 runs of each, each run in a fresh process\n")
    print("| request | receiver survived | bare Flask on werkzeug survived |")
    print("|---|---|---|")
    for name, data in CRASHERS.items():
        survived = {"receiver": 0, "werkzeug": 0}
        for kind in survived if name == WORST else ["receiver"]:
            for _ in range(10):
                server = Server(kind)
                for _ in range(10):
                    send_raw(server.port, data)
                survived[kind] += server.alive()
                if server.process.poll() is None:
                    server.close()
        werkzeug = f"{survived['werkzeug']} of 10" if name == WORST else ""
        print(f"| {name} | {survived['receiver']} of 10 | {werkzeug} |")
    print()


def memory() -> None:
    print("## Peak memory of the receiver process for one request (MB of growth in VmHWM)\n")
    bomb = gzip_bomb(200 * 1024 * 1024)
    plain = os.urandom(len(bomb))
    growth = {"gzip bomb": [], "plain body": []}
    for _ in range(3):
        for label, body, headers in (("plain body", plain, {}), ("gzip bomb", bomb, {"Content-Encoding": "gzip"})):
            server = Server()
            requests.post(server.url + "warm", data=b"{}", timeout=10)
            before = server.status("VmHWM")
            requests.post(server.url + "m", data=body, headers=headers, timeout=60)
            growth[label].append((server.status("VmHWM") - before) / 1024)
            server.close()
    ours, base = statistics.median(growth["gzip bomb"]), statistics.median(growth["plain body"])
    print("| body | size on the wire | peak growth, median of 3 (MB) |")
    print("|---|---|---|")
    print(f"| gzip, decodes to 200 MB | {len(bomb) / 1024:.0f} KB | {ours:.1f} |")
    print(f"| plain bytes, same size (baseline) | {len(plain) / 1024:.0f} KB | {base:.1f} |\n")


def post_latency(url: str, repeats: int = 21) -> float | None:
    """Median seconds for a normal POST, or None when one gets no answer within 5 s."""
    times = []
    for n in range(repeats):
        started = time.perf_counter()
        try:
            requests.post(url, data=f"probe {n}".encode(), timeout=5).raise_for_status()
        except requests.RequestException:
            return None
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def slow() -> None:
    print("## 1,000 slow connections (half a request each, then silence)\n")
    print("| server | normal POST, none open (ms) | normal POST, 1,000 open (ms) | threads, none open | threads, 1,000 open |")
    print("|---|---|---|---|---|")
    for kind in ("receiver", "werkzeug"):
        server = Server(kind)
        quiet, threads_quiet = post_latency(server.url + "probe"), server.status("Threads")
        sockets = []
        for _ in range(1000):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall(b"POST /hooks/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
            sockets.append(sock)
        time.sleep(0.5)  # let the server take them all in
        busy, threads_busy = post_latency(server.url + "probe"), server.status("Threads")
        for sock in sockets:
            sock.close()
        server.process.kill()
        server.process.wait(timeout=10)
        shown = [f"{t * 1000:.1f}" if t is not None else "no answer in 5 s" for t in (quiet, busy)]
        name = "receiver" if kind == "receiver" else "bare Flask on werkzeug (baseline)"
        print(f"| {name} | {shown[0]} | {shown[1]} | {threads_quiet} | {threads_busy} |")
    print()


def many(total: int = 10_000, senders: int = 32) -> None:
    print(f"## {total:,} deliveries from {senders} concurrent senders\n")
    server = Server()
    per_sender = total // senders + (total % senders > 0)

    def send(sender: int) -> list[str]:
        acknowledged = []
        with requests.Session() as session:
            for n in range(per_sender):
                key = f"{sender}:{n}"
                if sender * per_sender + n >= total:
                    break
                if session.post(server.url + "many", data=key.encode(), timeout=30).status_code == 200:
                    acknowledged.append(key)
        return acknowledged

    started = time.perf_counter()
    with ThreadPoolExecutor(senders) as pool:
        acknowledged = [key for batch in pool.map(send, range(senders)) for key in batch]
    elapsed = time.perf_counter() - started
    stored, cursor = [], {"after": 0}
    while cursor is not None:  # the API answers a page at a time
        page = requests.get(server.url.replace("/hooks/", "/api/events"),
                            params={"endpoint": "many", "limit": 1000, **cursor}, timeout=60).json()  # fmt: skip
        stored += [event["preview"] for event in page["events"]]
        cursor = page["next"] if page["has_more"] else None
    server.close()
    print("| sent | acknowledged | stored | lost | stored twice | deliveries/s |")
    print("|---|---|---|---|---|---|")
    print(f"| {total} | {len(acknowledged)} | {len(stored)} | {len(set(acknowledged) - set(stored))} "
          f"| {len(stored) - len(set(stored))} | {total / elapsed:.0f} |\n")  # fmt: skip


def kill(rounds: int = 5) -> None:
    print("## SIGKILL of a file-backed receiver while 4 senders post\n")
    print("| round | acknowledged before the kill | of them in the file afterwards | also stored, not acknowledged |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(1, rounds + 1):
            db = str(Path(folder) / f"events-{round_}.db")
            server = Server(db=db)
            acknowledged, stop = [], threading.Event()

            def send(sender: int) -> None:
                with requests.Session() as session:
                    for n in range(100_000):
                        if stop.is_set():
                            return
                        try:
                            reply = session.post(server.url + "durable", data=f"{sender}-{n}".encode(), timeout=5)
                        except requests.RequestException:
                            return
                        if reply.status_code == 200:
                            acknowledged.append(f"{sender}-{n}")

            senders = [threading.Thread(target=send, args=(i,)) for i in range(4)]
            for thread in senders:
                thread.start()
            time.sleep(0.5 + 0.3 * round_)  # a different moment each round
            server.process.send_signal(signal.SIGKILL)
            server.process.wait(timeout=10)
            stop.set()
            for thread in senders:
                thread.join(timeout=10)
            with sqlite3.connect(db) as connection:
                stored = {row[0].decode() for row in connection.execute("SELECT body FROM events WHERE endpoint = 'durable'")}
            present = len(set(acknowledged) & stored)
            print(f"| {round_} | {len(acknowledged)} | {present} | {len(stored - set(acknowledged))} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="crashes,memory,slow,many,kill")
    parser.add_argument("--serve", choices=["receiver", "werkzeug"], help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.db)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores\n")
    for name in args.only.split(","):
        {"crashes": crashes, "memory": memory, "slow": slow, "many": many, "kill": kill}[name]()


if __name__ == "__main__":
    main()
