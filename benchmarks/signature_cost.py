"""What a wrong signature costs the receiver, beside the same body sent unsigned, in the same run.

    python benchmarks/signature_cost.py [--rounds 3] [--mb 25]

Two cases, each a body of `--mb` megabytes POSTed over real HTTP to a Receiver
on 127.0.0.1 whose endpoint has a secret:

- Stripe: a JSON event whose object holds a long list of line items, signed
  with another whsec_ secret (a wrong signature), beside the same bytes with
  no Stripe-Signature header (unsigned: the check stops at the missing header).
- Twilio: a form body of many parameters, signed with another Auth Token,
  beside the same bytes with no X-Twilio-Signature header.

Each request goes to a receiver in a fresh process, so its peak memory
(VmHWM) is that request's; CPU is the process's user and system time spent
between sending the request and its answer. The rounds alternate signed and
unsigned; the figures are medians over the rounds, and the ratio is wrong
signature over unsigned.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import requests

STRIPE_SECRET, TWILIO_TOKEN = "whsec_benchmark_endpoint_secret", "0123456789abcdef0123456789abcdef"
TICK = os.sysconf("SC_CLK_TCK")


def serve() -> None:
    """A receiver that checks both endpoints, until stdin closes; print the port first."""
    import webhooklab as wl

    secrets = {"stripe": STRIPE_SECRET, "twilio": wl.Twilio(TWILIO_TOKEN)}
    print(wl.Receiver(secrets=secrets, max_body=64 * 1024 * 1024).start().port, flush=True)
    sys.stdin.read()


class Server:
    """A receiver in a process of its own, and what /proc says of that process."""

    def __init__(self):
        self.process = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)  # fmt: skip
        self.port = int(self.process.stdout.readline())

    def url(self, endpoint: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{endpoint}"

    def cpu(self) -> float:
        """Seconds of user and system time the process has used."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def peak_mb(self) -> float:
        text = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(next(line.split()[1] for line in text.splitlines() if line.startswith("VmHWM:"))) / 1024

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def stripe_body(size: int) -> bytes:
    """A Stripe-shaped JSON event of about `size` bytes: an invoice with many line items."""
    item = {"id": "il_1NqXyZ2eZvKYlo2C0000", "object": "line_item", "amount": 2000, "currency": "usd",
            "description": "1 × Workshop seat", "quantity": 1, "metadata": {"seat": "A1"}}  # fmt: skip

    def event(items: int) -> bytes:
        return json.dumps({"id": "evt_1NqXyZ2eZvKYlo2C", "object": "event", "type": "invoice.created",
                           "livemode": False, "data": {"object": {"object": "invoice", "lines": {
                               "data": [item] * items}}}}, indent=2).encode()  # fmt: skip

    return event(size * 1000 // len(event(1000)))


def twilio_body(size: int) -> bytes:
    """A form body of about `size` bytes: an incoming message with very many media parameters."""
    fields = {"MessageSid": "SM" + "0" * 32, "From": "+15005550006", "To": "+15005550001", "Body": "hi"}
    pair = len(urlencode({"MediaUrl0000000": "https://api.twilio.com/2010-04-01/Media/ME0000"})) + 1
    fields |= {f"MediaUrl{n:07d}": f"https://api.twilio.com/2010-04-01/Media/ME{n:04d}" for n in range(size // pair)}
    return urlencode(fields).encode()


def signed(case: str, body: bytes, url: str) -> dict[str, str]:
    """The headers of the body signed with a secret the receiver does not have."""
    import webhooklab as wl

    if case == "stripe":
        return wl.Stripe("whsec_not_the_endpoint_secret").sign(body)[1]
    return wl.Twilio("fedcba9876543210fedcba9876543210").sign(body, url=url)[1]


def once(case: str, body: bytes, sign: bool) -> tuple[float, float, float, str]:
    """(CPU seconds, peak memory growth in MB, seconds to the answer, reason stored) for one request."""
    server = Server()
    try:
        url = server.url(case)
        requests.post(server.url("warm"), data=b"{}", timeout=10)
        headers = signed(case, body, url) if sign else {
            "Content-Type": "application/json" if case == "stripe" else "application/x-www-form-urlencoded"}  # fmt: skip
        cpu, peak, started = server.cpu(), server.peak_mb(), time.perf_counter()
        requests.post(url, data=body, headers=headers, timeout=600).raise_for_status()
        elapsed = time.perf_counter() - started
        cpu, peak = server.cpu() - cpu, server.peak_mb() - peak
        reason = requests.get(f"http://127.0.0.1:{server.port}/api/events?endpoint={case}", timeout=10).json()
        return cpu, peak, elapsed, reason["events"][0]["reason"]
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mb", type=float, default=25)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve()
    size = int(args.mb * 1024 * 1024)
    bodies = {"stripe": stripe_body(size), "twilio": twilio_body(size)}
    print(f"## A wrong signature against the same body unsigned ({args.rounds} rounds, medians)\n")
    print("| case | body | wrong signature: CPU (s) | unsigned: CPU (s) | ratio | wrong: peak growth (MB) "
          "| unsigned: peak growth (MB) | ratio | wrong: answer (s) | reason stored |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for case, body in bodies.items():
        runs: dict[bool, list] = {True: [], False: []}
        for _ in range(args.rounds):
            for sign in (True, False):
                runs[sign].append(once(case, body, sign))
        wrong, plain = ([statistics.median(r[i] for r in runs[s]) for i in range(3)] for s in (True, False))
        print(f"| {case} | {len(body) / 1024 / 1024:.1f} MB | {wrong[0]:.2f} | {plain[0]:.2f} | "
              f"{wrong[0] / max(plain[0], 0.01):.1f} | {wrong[1]:.0f} | {plain[1]:.0f} | "
              f"{wrong[1] / max(plain[1], 1):.1f} | {wrong[2]:.2f} | {runs[True][0][3]} |", flush=True)


if __name__ == "__main__":
    main()
