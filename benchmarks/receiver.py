"""The receiver against a bare Flask app, measured in one run.

    python benchmarks/receiver.py [--senders 8] [--seconds 3] [--rounds 3]

Two baselines: a bare Flask app on werkzeug's development server (what a
learner writes by hand, and what the receiver ran on before) and the same
app on waitress (the server the receiver runs on now). Each server runs in
its own process; this process is the load: several senders on keep-alive
connections POST a Stripe-sized JSON body for a fixed time. Rounds alternate
between the three, so all see the same machine noise; each figure is the
median over rounds. It also times `import webhooklab` (against
`import flask`, its floor) and starting a receiver (against starting the
bare app on werkzeug in a thread).
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import threading
import time

BODY = json.dumps(
    {
        "id": "evt_3Q0benchmark00000000000",
        "object": "event",
        "api_version": "2024-06-20",
        "created": 1732700000,
        "data": {"object": {"id": "pi_3Q0benchmark", "object": "payment_intent", "amount": 2000,
                            "currency": "usd", "status": "succeeded", "metadata": {"order_id": "1001"}}},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "payment_intent.succeeded",
    }
).encode()
HEADERS = {
    "Content-Type": "application/json; charset=utf-8",
    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    "Stripe-Signature": "t=1732700000,v1=" + "0" * 64,
}


def serve(kind: str) -> None:
    """Serve one app until stdin closes; print the port first."""
    if kind == "receiver":
        import webhooklab as wl

        rx = wl.Receiver().start()
        port = rx.port
    else:
        from flask import Flask

        app = Flask("bare")

        @app.route("/hooks/<endpoint>", methods=["POST"])
        def ok(endpoint):
            return ""

        if kind == "werkzeug":
            from werkzeug.serving import WSGIRequestHandler, make_server

            class Quiet(WSGIRequestHandler):
                def log_request(self, *args):
                    pass

            server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            port = server.port
        else:
            from waitress.server import create_server

            from webhooklab._receiving.transport import THREADS

            server = create_server(app, host="127.0.0.1", port=0, threads=THREADS)
            threading.Thread(target=server.run, daemon=True).start()
            port = server.effective_port
    print(port, flush=True)
    sys.stdin.read()


def load(port: int, senders: int, seconds: float) -> tuple[float, list[float]]:
    """(requests per second, latencies in seconds) from `senders` keep-alive connections."""
    latencies: list[list[float]] = [[] for _ in range(senders)]
    stop = time.perf_counter() + seconds

    def sender(mine: list[float]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while (started := time.perf_counter()) < stop:
            connection.request("POST", "/hooks/bench", BODY, HEADERS)
            reply = connection.getresponse()
            reply.read()
            assert reply.status == 200, reply.status
            mine.append(time.perf_counter() - started)
        connection.close()

    threads = [threading.Thread(target=sender, args=(mine,)) for mine in latencies]
    begun = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - begun
    everything = [x for mine in latencies for x in mine]
    return len(everything) / elapsed, everything


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def time_import(module: str, repeats: int = 7) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return statistics.median(
        float(subprocess.check_output([sys.executable, "-c", code], text=True)) for _ in range(repeats)
    )


def time_starts(repeats: int = 21) -> tuple[float, float]:
    """Median seconds to construct and start: a Receiver, and a bare Flask app on make_server."""
    import webhooklab as wl
    from flask import Flask
    from werkzeug.serving import make_server

    receiver, bare = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        rx = wl.Receiver().start()
        receiver.append(time.perf_counter() - started)
        rx.close()

        started = time.perf_counter()
        server = make_server("127.0.0.1", 0, Flask("bare"), threaded=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        bare.append(time.perf_counter() - started)
        server.shutdown()
        server.server_close()
    return statistics.median(receiver), statistics.median(bare)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", choices=["werkzeug", "waitress", "receiver"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve)

    results = {"werkzeug": [], "waitress": [], "receiver": []}
    for _ in range(args.rounds):
        for kind in results:
            server = subprocess.Popen(
                [sys.executable, __file__, "--serve", kind], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
            port = int(server.stdout.readline())
            load(port, args.senders, 0.5)  # warm up: connections, threads, caches
            rate, latencies = load(port, args.senders, args.seconds)
            server.stdin.close()
            server.wait()
            results[kind].append((rate, statistics.median(latencies), percentile(latencies, 99)))

    def median(kind: str, column: int) -> float:
        return statistics.median(round_[column] for round_ in results[kind])

    print(f"{args.senders} senders, {args.rounds} rounds of {args.seconds:g} s each, Python {sys.version.split()[0]}\n")
    print("| measure | receiver | bare Flask on werkzeug | ratio | bare Flask on waitress | ratio | target (werkzeug) |")
    print("|---|---|---|---|---|---|---|")
    rows = [("throughput (requests/s)", 0, 1, ">= 0.7"), ("median latency (ms)", 1, 1000, "<= 1.5"),
            ("99th percentile latency (ms)", 2, 1000, "")]  # fmt: skip
    for label, column, scale, target in rows:
        ours, werkzeug, waitress = (median(kind, column) for kind in ("receiver", "werkzeug", "waitress"))
        print(f"| {label} | {ours * scale:.1f} | {werkzeug * scale:.1f} | {ours / werkzeug:.2f} "
              f"| {waitress * scale:.1f} | {ours / waitress:.2f} | {target} |")  # fmt: skip
    ours, base = time_import("webhooklab"), time_import("flask")
    print(f"| import (s) | {ours:.3f} | {base:.3f} (import flask) | {ours / base:.2f} | | | < 0.3 s |")
    ours, base = time_starts()
    print(f"| start (ms) | {ours * 1000:.1f} | {base * 1000:.1f} | {ours / base:.2f} | | | < 100 ms |")


if __name__ == "__main__":
    main()
