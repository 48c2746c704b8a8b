"""The workshop challenge: one handler that verifies, deduplicates, answers fast and acts, graded over real HTTP.

    from webhooklab.grader import Challenge
    challenge = Challenge()                      # a Stripe signing secret, a slow ledger, six scenarios

    @challenge.handler
    def handle(body: bytes, headers: dict) -> int:   # the raw request in, the HTTP status out
        ...

    report = challenge.run()                     # scenario, passed, what happened, hint; and a score

The contract: the handler gets each request exactly as it arrived (the body as
bytes, the headers as a case-insensitive dict) and returns the status to answer
with. `run()` serves it on 127.0.0.1 for the length of the run, plays every
scenario as Stripe would (signed POSTs, with a timeout), then checks the
answers and what the handler changed: `challenge.balances` (only through
`challenge.credit`) and `challenge.payments` (the handler's own record).
A handler that raises answers 500 and is reported, never crashes the run.

The rules, each tested by one scenario:
  verify       a body changed after signing, or signed long ago, is refused with a 4xx and changes nothing
  deduplicate  the same event id twice: 2xx both times, acted on once
  answer fast  within `timeout` seconds; `credit` is slow in one scenario, so do it with `enqueue`
  act          payment_intent.succeeded credits the intent's amount to its customer, once
  keep order   `payments[intent id]` holds the newest event (by `created`) about that intent
"""

from __future__ import annotations

import html
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from .delivery import Attempt, post
from .errors import SignatureError
from .exercises import failed, passed
from .providers import Stripe
from .providers.base import mask
from .server import BackgroundServer

DEFAULT_TIMEOUT = 0.5  # seconds the challenge's sender waits for an answer (time scaled down, see Challenge)
DEFAULT_SLOW = 1.0  # seconds challenge.credit takes in the slow scenario
QUIET = 0.05  # a learner's own thread may take a moment to start its work: look again after this long
GRACE = 0.25  # idle this long and still not done: nothing is left that could finish the work
WAIT = 1.0  # how long to wait for expected background work, beyond the slow call itself

# The answers a handler should give, by situation: (the range that passes, why).
SITUATIONS = {
    "bad signature": (range(400, 500), "the request is at fault and will never verify: refuse it with a 4xx (400)"),
    "stale timestamp": (range(400, 500), "a replay of an old request: refuse it with a 4xx (400), as for a bad signature"),
    "duplicate": (range(200, 300), "you handled it already: acknowledge it with a 2xx (200) and do nothing"),
    "type not handled": (range(200, 300), "a genuine event you have no use for: acknowledge it with a 2xx (200) and ignore it"),
    "accepted": (range(200, 300), "a genuine event you took on: 2xx (200), even though the slow work happens later"),
    "database down": (range(500, 600), "your own failure: a 5xx (500 or 503) asks the provider to retry later"),
}


@dataclass(frozen=True)
class Scenario:
    name: str
    sends: str
    expects: str


SCENARIOS = (
    Scenario("valid event", "a signed payment_intent.succeeded: cus_valid pays 20.00",
             "answer 2xx, credit 20.00 to cus_valid once, record the event in challenge.payments"),
    Scenario("tampered body", "a signed event whose amount was raised from 15.00 to 1,500.00 after signing",
             "answer 4xx and change nothing"),
    Scenario("stale timestamp", "a genuine event, signed an hour ago and sent again: a replay",
             "answer 4xx and change nothing"),
    Scenario("duplicate delivery", "the same event twice (same id; re-signed, as Stripe's retries are)",
             "answer 2xx both times, credit once"),
    Scenario("out-of-order delivery", "for one payment intent: payment_intent.succeeded, then the older "
             "payment_intent.payment_failed (the first card was declined)",
             "answer 2xx to both, credit once, keep the newer event in challenge.payments"),
    Scenario("slow side effect", "a valid event while challenge.credit takes 1 s",
             "answer 2xx within 0.5 s, and still credit once"),
)  # fmt: skip


@dataclass(frozen=True)
class Failure:
    """Something the learner's code raised: in the handler, or in work it enqueued."""

    scenario: str | None
    where: str  # "handler" or "background"
    error: str
    traceback: str

    def __repr__(self) -> str:
        return f"<Failure in the {self.where} during {self.scenario or 'no scenario'}: {self.error}>"


@dataclass
class _Call:
    """One request as the handler saw it: what it answered, how long it took, what went wrong."""

    scenario: str | None
    delivery: int
    status: int
    took: float
    error: str | None = None
    exception: str | None = None  # the exception's class name, when the handler raised


class _Server(BackgroundServer):
    kind = "challenge receiver"


class Challenge:
    """The workshop challenge: register one handler, run the scenarios, read the report.

    `secret` is the Stripe endpoint's signing secret the events are signed
    with (a fresh one by default; verify with wl.Stripe(challenge.secret)).
    Time is scaled down so a run takes seconds: Stripe does not publish its
    timeout (webhooklab assumes 30 s; GitHub allows 10 s, Shopify 5 s), here
    the sender waits `timeout` seconds and the slow ledger call takes `slow`.
    """

    def __init__(self, *, secret: str | None = None, timeout: float = DEFAULT_TIMEOUT, slow: float = DEFAULT_SLOW):
        if not 0 < timeout < slow:
            raise ValueError(f"timeout must be positive and shorter than slow (got timeout={timeout}, slow={slow})")
        self._sender = Stripe(secret)
        self.timeout, self.slow = float(timeout), float(slow)
        self.balances: dict[str, int] = {}  # customer -> cents, changed only by credit()
        self.payments: dict[str, dict] = {}  # payment intent id -> the newest event about it: yours to write
        self.errors: list[Failure] = []  # what your code raised during the last run
        self._handler: Callable[[bytes, dict], int] | None = None
        self._credits: list[tuple[str | None, str, int]] = []  # (scenario, customer, amount)
        self._calls: list[_Call] = []
        self._attempts: list[tuple[str, int, Attempt]] = []
        self._cond = threading.Condition()
        self._open = self._pending = self._in_flight = 0
        self._delay = 0.0
        self._scenario: str | None = None
        self._delivery = 0
        self._queue: queue.Queue = queue.Queue()
        self._worker: threading.Thread | None = None
        self._url: str | None = None

    @property
    def secret(self) -> str:
        """The signing secret of the challenge's Stripe endpoint: verify with wl.Stripe(challenge.secret)."""
        return self._sender.secret

    # -- what the learner uses ----------------------------------------------------------

    def handler(self, function: Callable[[bytes, dict], int]):
        """Decorator: grade `function(body: bytes, headers: dict) -> int` from now on (it replaces any earlier one)."""
        if not callable(function):
            raise TypeError(f"@challenge.handler goes on a function (body, headers) -> status, not on {function!r}")
        self._handler = function
        return function

    def credit(self, customer: str, amount: int) -> None:
        """Add `amount` (cents) to `customer`'s balance: the business action, a call to a ledger service.

        It takes `slow` seconds in the slow scenario, as a remote call can.
        """
        if not isinstance(customer, str) or not customer:
            raise TypeError(f"credit(customer, amount): customer is the intent's 'customer' id (cus_...), got {customer!r}")
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise TypeError(
                f"credit(customer, amount): amount is in cents as an int, like intent['amount'], got {amount!r}"
            )
        with self._cond:
            self._in_flight += 1
            delay, scenario = self._delay, self._scenario
        try:
            if delay:
                time.sleep(delay)
            with self._cond:
                self.balances[customer] = self.balances.get(customer, 0) + amount
                self._credits.append((scenario, customer, amount))
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify_all()

    def enqueue(self, function: Callable, *args, **kwargs) -> None:
        """Run function(*args, **kwargs) later, on a background worker, so the handler can answer now.

        challenge.enqueue(challenge.credit, customer, amount)
        The worker takes the jobs in order, one at a time, as a task queue does.
        """
        if not callable(function):
            extra = (" Did you write enqueue(challenge.credit(...))? That calls credit now and enqueues its result; "
                     "pass the function and its arguments separately: enqueue(challenge.credit, customer, amount)."
                     if function is None else "")  # fmt: skip
            raise TypeError(f"enqueue needs a function to call later, then its arguments; got {function!r}.{extra}")
        with self._cond:
            self._pending += 1
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="webhooklab-challenge-worker", daemon=True)
                self._worker.start()
        self._queue.put((function, args, kwargs))

    @property
    def scenarios(self):
        """The scenarios as a table: what the grader sends, and what your handler must do."""
        import pandas as pd

        rows = [{"scenario": s.name, "the grader sends": s.sends, "your handler must": self._expects(s)} for s in SCENARIOS]
        return pd.DataFrame(rows).set_index("scenario")

    def run(self) -> Report:
        """Serve the handler, play every scenario over HTTP, and return the report."""
        handler = self._handler
        if handler is None:
            hint = "no handler yet: decorate your function with @challenge.handler, run that cell, then run this again"
            return Report([_row(s.name, False, "nothing was sent", hint) for s in SCENARIOS], None)
        self._reset()
        server = _Server(self._app(handler)).start()
        self._url = f"{server.base_url}/hooks/challenge"
        rows = []
        try:
            for scenario in SCENARIOS:
                with self._cond:
                    self._scenario, self._delivery = scenario.name, 0
                try:
                    ok, happened, hint = getattr(self, "_" + scenario.name.replace(" ", "_").replace("-", "_"))()
                except Exception as error:  # noqa: BLE001 (whatever the handler left behind, the run goes on)
                    ok, happened, hint = False, f"the grader could not check this: {type(error).__name__}: {error}", (
                        "check what your handler stores in challenge.payments: the event dicts verify() returns")
                rows.append(_row(scenario.name, ok, happened, hint))
        finally:
            with self._cond:
                self._delay, self._scenario = 0.0, None
            server.stop()
            self._url = None
        return Report(rows, getattr(handler, "__name__", repr(handler)))

    def deliveries(self):
        """Every request of the last run: the scenario, the answer, how long it took, what went wrong."""
        import pandas as pd

        calls = {(c.scenario, c.delivery): c for c in self._calls}
        rows = []
        for scenario, number, attempt in self._attempts:
            call = calls.get((scenario, number))
            rows.append({
                "scenario": scenario, "delivery": number, "status": attempt.status,
                "answered in (ms)": None if attempt.error else round(attempt.elapsed * 1000, 1),
                "handler took (ms)": round(call.took * 1000, 1) if call else None,
                "problem": attempt.error or (call.error if call else None) or "",
            })  # fmt: skip
        table = pd.DataFrame(rows, columns=["scenario", "delivery", "status", "answered in (ms)",
                                            "handler took (ms)", "problem"])  # fmt: skip
        table["status"] = table["status"].astype("Int64")
        return table

    def close(self) -> None:
        """Stop the background worker (run() stops its own server when it ends)."""
        worker = self._worker
        if worker is not None and worker.is_alive():
            self._queue.put(None)
            worker.join(timeout=5)
        self._worker = None

    def __repr__(self) -> str:
        return f"<Challenge {self._summary()}>"

    def _repr_html_(self) -> str:
        """The summary, then the scenarios in full (a DataFrame's own view would cut their text short)."""
        cell = "style='text-align:left;vertical-align:top'"
        head = "".join(f"<th {cell}>{name}</th>" for name in ("scenario", "the grader sends", "your handler must"))
        rows = "".join(
            f"<tr><td {cell}><b>{html.escape(s.name)}</b></td><td {cell}>{html.escape(s.sends)}</td>"
            f"<td {cell}>{html.escape(self._expects(s))}</td></tr>"
            for s in SCENARIOS
        )
        return (f"<p><b>Challenge</b>: {html.escape(self._summary())}</p>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")  # fmt: skip

    def _summary(self) -> str:
        name = getattr(self._handler, "__name__", None) if self._handler else None
        graded = f"grading {name}()" if name else "no handler yet"
        return (f"Stripe secret {mask(self.secret)}, {len(SCENARIOS)} scenarios, answer within {self.timeout:g} s, "
                f"{graded}")  # fmt: skip

    # -- the server ------------------------------------------------------------------------

    def _app(self, handler):
        from flask import Flask, Response, request
        from requests.structures import CaseInsensitiveDict

        app = Flask(__name__)

        @app.post("/hooks/challenge")
        def receive():
            pairs = request.environ.get("webhooklab.raw_headers") or list(request.headers.items())
            return Response(status=self._call(handler, request.get_data(), CaseInsensitiveDict(pairs)))

        return app

    def _call(self, handler, body: bytes, headers) -> int:
        with self._cond:
            self._open += 1
            scenario, delivery = self._scenario, self._delivery
        started = time.perf_counter()
        status, error, exception = 500, "it never returned", None
        try:
            result = handler(body, headers)
            if isinstance(result, bool) or not isinstance(result, int) or not 200 <= result <= 599:
                error = f"it returned {result!r}, not an HTTP status such as 200 or 400"
            else:
                status, error = int(result), None
        except Exception as exc:  # noqa: BLE001 (a learner's bug is reported, as a 500, never a crash)
            exception, error = type(exc).__name__, f"your handler raised {type(exc).__name__}: {exc}"
            self.errors.append(Failure(scenario, "handler", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        finally:
            with self._cond:
                self._calls.append(_Call(scenario, delivery, status, time.perf_counter() - started, error, exception))
                self._open -= 1
                self._cond.notify_all()
        return status

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            function, args, kwargs = job
            try:
                function(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001
                self.errors.append(Failure(self._scenario, "background", f"{type(exc).__name__}: {exc}",
                                           traceback.format_exc()))  # fmt: skip
            finally:
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()

    # -- playing scenarios ------------------------------------------------------------------

    def _reset(self) -> None:
        self._settle(timeout=self.slow + WAIT)  # work left over from an earlier run
        with self._cond:
            self.balances.clear()
            self._credits.clear()
            self._calls.clear()
            self._attempts.clear()
        if isinstance(self.payments, dict):
            self.payments.clear()
        else:
            self.payments = {}
        self.errors.clear()

    def _payment(self, customer: str, amount: int) -> dict:
        return self._sender.event("payment_intent.succeeded", customer=customer, amount=amount)

    def _send(self, body: bytes, headers: dict) -> Attempt:
        with self._cond:
            self._delivery += 1
            number = self._delivery
        attempt = post(self._url, body, headers, timeout=(max(1.0, self.timeout), self.timeout))
        self._attempts.append((self._scenario, number, attempt))
        return attempt

    def _send_event(self, event, **sign_options) -> Attempt:
        return self._send(*self._sender.sign(event, **sign_options))

    def _idle(self) -> bool:
        return self._open == self._pending == self._in_flight == 0

    def _settle(self, until: Callable[[], bool] | None = None, timeout: float = WAIT) -> None:
        """Wait until the handler, the queue and the ledger are idle and `until` holds.

        Gives up at `timeout`, or once everything has been idle for GRACE seconds
        with `until` still false: then nothing is left that could make it true.
        """
        deadline = time.monotonic() + timeout
        idle_since = None
        while time.monotonic() < deadline:
            with self._cond:
                idle = self._idle()
                done = idle and (until is None or until())
            if done:
                time.sleep(QUIET)  # a learner's own thread may take a moment to start its work
                with self._cond:
                    if self._idle() and (until is None or until()):
                        return
                continue
            now = time.monotonic()
            if not idle:
                idle_since = None
            elif idle_since is None:
                idle_since = now
            elif now - idle_since >= GRACE:
                return
            with self._cond:
                self._cond.wait(0.02)

    def _after(self, attempts: list[Attempt], until: Callable[[], bool], timeout: float = WAIT) -> list[_Call | None]:
        """Settle, waiting for `until` only when every answer was a 2xx or no answer came (work may be running)."""
        hopeful = all(a.ok or a.status is None for a in attempts)
        self._settle(until if hopeful else None, timeout)
        calls = {c.delivery: c for c in self._calls if c.scenario == self._scenario}
        return [calls.get(n) for n in range(1, len(attempts) + 1)]

    def _credited(self, customer: str) -> list[int]:
        with self._cond:
            return [amount for _, who, amount in self._credits if who == customer]

    # Each scenario returns (passed, what happened, hint).

    def _valid_event(self):
        event = self._payment("cus_valid", 2000)
        pi = event["data"]["object"]["id"]
        attempts = [self._send_event(event)]
        calls = self._after(attempts, lambda: self._credited("cus_valid") and _id(self.payments.get(pi)) == event["id"])
        credits, recorded = self._credited("cus_valid"), self.payments.get(pi)
        happened = _join(self._answers(attempts, calls), _credit_text("cus_valid", credits),
                         "event recorded" if _id(recorded) == event["id"] else "not recorded in challenge.payments")  # fmt: skip
        return _verdict(
            calls,
            (attempts[0].status is not None, self._slow_hint(calls[0])),
            (attempts[0].ok, (f"a genuine event was refused with {attempts[0].status}: verify the raw `body` bytes "
             "exactly as they arrived, with wl.Stripe(challenge.secret).verify(body, headers), before parsing "
             "or changing them")),
            (credits != [], ("nothing was credited: for payment_intent.succeeded, credit the intent's amount to its "
             "customer with challenge.enqueue(challenge.credit, intent['customer'], intent['amount']), where "
             "intent = event['data']['object']")),
            (credits == [2000], (f"credit intent['amount'] (2000 cents here) to intent['customer'], once; "
             f"{_credit_text('cus_valid', credits)}")),
            (_id(recorded) == event["id"], ("record the event: challenge.payments[intent['id']] = event (the dict "
             "verify() returned), so later events about the same payment can compare their 'created'")),
            happened=happened,
        )  # fmt: skip

    def _tampered_body(self):
        event = self._payment("cus_tampered", 1500)
        pi = event["data"]["object"]["id"]
        body, headers = self._sender.sign(event)
        forged = body.replace(b'"amount": 1500,', b'"amount": 150000,')
        forged = forged.replace(b'"amount_received": 1500,', b'"amount_received": 150000,')
        attempts = [self._send(forged, headers)]
        calls = self._after(attempts, lambda: True)
        credits = self._credited("cus_tampered")
        return self._refused("tampered", attempts, calls, credits, pi, _join(
            self._answers(attempts, calls), _credit_text("cus_tampered", credits),
            "recorded in challenge.payments" if pi in self.payments else ""))

    def _stale_timestamp(self):
        event = self._payment("cus_replay", 1200)
        pi = event["data"]["object"]["id"]
        attempts = [self._send_event(event, timestamp=int(time.time()) - 3600)]
        calls = self._after(attempts, lambda: True)
        credits = self._credited("cus_replay")
        return self._refused("stale", attempts, calls, credits, pi, _join(
            self._answers(attempts, calls), _credit_text("cus_replay", credits),
            "recorded in challenge.payments" if pi in self.payments else ""))

    def _refused(self, kind: str, attempts, calls, credits, pi, happened):
        status = attempts[0].status
        accepted = (
            "verify before you act: wl.Stripe(challenge.secret).verify(body, headers) raises wl.SignatureError "
            "for a body changed after signing; catch it and return 400"
            if kind == "tampered" else
            "the signature is genuine but was made an hour ago: a replay. verify() refuses a timestamp older "
            "than 300 s unless told otherwise: keep its default tolerance, and return 400 on wl.SignatureError"
        )  # fmt: skip
        if credits or pi in self.payments:
            return _verdict(calls, (False, accepted), happened=happened)
        if status is None:
            return _verdict(calls, (False, self._slow_hint(calls[0])), happened=happened)
        return _verdict(
            calls,
            (not 500 <= status < 600, (f"you changed nothing, good, but answered {status}: a 5xx says 'my server "
             "broke, try again'. The request is at fault, not you: answer 400")),
            (not 200 <= status < 300, (f"you changed nothing, good, but answered {status}, which tells the sender "
             "(and your logs) that all went well: refuse it with 400")),
            (400 <= status < 500, f"answer 400 to a request that fails verification, not {status}"),
            happened=happened,
        )  # fmt: skip

    def _duplicate_delivery(self):
        event = self._payment("cus_duplicate", 2000)
        attempts = [self._send_event(event)]
        self._after(attempts, lambda: bool(self._credited("cus_duplicate")))
        attempts.append(self._send_event(event))  # a retry: the same body, a fresh signature
        calls = self._after(attempts, lambda: bool(self._credited("cus_duplicate")))
        credits = self._credited("cus_duplicate")
        first, second = attempts
        return _verdict(
            calls,
            (first.status is not None and second.status is not None, self._slow_hint(calls[0] or calls[1])),
            (first.ok, f"the first delivery was answered {first.status}: a genuine event gets a 2xx"),
            (len(credits) < 2, ("the same event id arrived twice and you acted twice: keep a set of the event ids "
             "you have handled, and when event['id'] is already in it, return 200 without acting")),
            (second.ok, (f"the duplicate was answered {second.status}: it is not an error, you handled it already. "
             "Answer 200, or Stripe retries it for days")),
            (credits == [2000], f"credit the payment once: {_credit_text('cus_duplicate', credits)}"),
            happened=_join(self._answers(attempts, calls), _credit_text("cus_duplicate", credits)),
        )  # fmt: skip

    def _out_of_order_delivery(self):
        newer = self._payment("cus_order", 3000)
        intent = newer["data"]["object"]
        older = self._sender.event("payment_intent.payment_failed", customer="cus_order", amount=3000, id=intent["id"])
        older["created"] = newer["created"] - 120  # declined two minutes before the second card was accepted
        older["data"]["object"]["created"] = intent["created"]
        attempts = [self._send_event(newer)]
        self._after(attempts, lambda: _id(self.payments.get(intent["id"])) == newer["id"]
                    and bool(self._credited("cus_order")))  # fmt: skip
        attempts.append(self._send_event(older))
        calls = self._after(attempts, lambda: True)  # the older event credits nothing: wait only until idle
        credits, recorded = self._credited("cus_order"), self.payments.get(intent["id"])
        kept = {newer["id"]: "kept the newer succeeded event", older["id"]: "the older payment_failed replaced it"}
        return _verdict(
            calls,
            (all(a.status is not None for a in attempts), self._slow_hint(calls[0] or calls[1])),
            (all(a.ok for a in attempts), (f"answer 2xx to both genuine events (got {attempts[0].status}, "
             f"{attempts[1].status}); an event you ignore is still acknowledged")),
            (_id(recorded) != older["id"], ("the older payment_intent.payment_failed replaced the newer succeeded "
             "event: Stripe doesn't promise order. Replace challenge.payments[intent['id']] only when "
             "event['created'] is newer than the recorded event's 'created'")),
            (_id(recorded) == newer["id"], ("record each event about a payment intent in "
             "challenge.payments[intent['id']], keeping the newest")),
            (credits == [3000], ("credit only payment_intent.succeeded, once: "
             f"{_credit_text('cus_order', credits)}")),
            happened=_join(self._answers(attempts, calls), kept.get(_id(recorded), "nothing recorded"),
                           _credit_text("cus_order", credits)),
        )  # fmt: skip

    def _slow_side_effect(self):
        event = self._payment("cus_slow", 2500)
        with self._cond:
            self._delay = self.slow
        try:
            attempts = [self._send_event(event)]
            calls = self._after(attempts, lambda: bool(self._credited("cus_slow")), timeout=self.slow + WAIT)
        finally:
            with self._cond:
                self._delay = 0.0
        credits = self._credited("cus_slow")
        return _verdict(
            calls,
            (attempts[0].status is not None, self._slow_hint(calls[0])),
            (attempts[0].ok, f"a genuine event was answered {attempts[0].status}: answer 200"),
            (credits != [], ("you answered in time, but the credit never happened: hand it to "
             "challenge.enqueue(challenge.credit, customer, amount) rather than skipping it")),
            (credits == [2500], f"credit once: {_credit_text('cus_slow', credits)}"),
            happened=_join(self._answers(attempts, calls), _credit_text("cus_slow", credits)),
        )  # fmt: skip

    # -- describing what happened -----------------------------------------------------------

    def _slow_hint(self, call: _Call | None) -> str:
        took = f"your handler took {call.took:.1f} s, but " if call else ""
        return (
            f"{took}the sender waits only {self.timeout:g} s: Stripe counts a late answer as a failure and "
            "sends the event again. Don't do slow work before answering: "
            "challenge.enqueue(challenge.credit, customer, amount) runs it afterwards, so you can return 200 at once"
        )

    def _answers(self, attempts: list[Attempt], calls: list[_Call | None]) -> str:
        parts = []
        for attempt, call in zip(attempts, calls):
            if attempt.status is None:
                took = f" (your handler took {call.took:.1f} s)" if call else ""
                parts.append(f"no answer within {self.timeout:g} s{took}" if "timed out" in (attempt.error or "")
                             else attempt.error)  # fmt: skip
            else:
                text = f"answered {attempt.status} in {attempt.elapsed * 1000:.0f} ms"
                parts.append(f"{text} ({call.error})" if call and call.error else text)
        return ", then ".join(parts)

    def _expects(self, scenario: Scenario) -> str:
        return scenario.expects.replace("0.5 s", f"{self.timeout:g} s")


class Report:
    """The result of a run: one row per scenario (scenario, passed, what happened, hint) and a score."""

    def __init__(self, rows: list[dict], handler: str | None):
        import pandas as pd

        self.handler = handler
        self.table = pd.DataFrame(rows, columns=["scenario", "passed", "what happened", "hint"])
        self.table.index = range(1, len(self.table) + 1)

    @property
    def score(self) -> int:
        return int(self.table["passed"].sum())

    @property
    def total(self) -> int:
        return len(self.table)

    @property
    def ok(self) -> bool:
        """Every scenario passed."""
        return self.score == self.total

    @property
    def failed(self) -> list[str]:
        return list(self.table.loc[~self.table["passed"], "scenario"])

    def hint(self, scenario: str) -> str:
        return str(self.table.set_index("scenario").at[scenario, "hint"])

    def happened(self, scenario: str) -> str:
        return str(self.table.set_index("scenario").at[scenario, "what happened"])

    @property
    def score_line(self) -> str:
        who = f" for {self.handler}()" if self.handler else ""
        verdict = "every scenario passes" if self.ok else "read the hint of each failed row"
        return f"Score: {self.score}/{self.total}{who}: {verdict}"

    def __repr__(self) -> str:
        lines = [self.score_line]
        for row in self.table.itertuples(index=False):
            lines.append(f"{'✓' if row.passed else '✗'} {row.scenario}: {row[2]}")
            if row.hint:
                lines.append(f"    hint: {row.hint}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cell = "style='text-align:left;vertical-align:top'"
        rows = "".join(
            f"<tr><td {cell}>{'✓' if row.passed else '✗'}</td><td {cell}>{html.escape(row.scenario)}</td>"
            f"<td {cell}>{html.escape(row[2])}</td><td {cell}>{html.escape(row.hint)}</td></tr>"
            for row in self.table.itertuples(index=False)
        )
        head = "".join(f"<th {cell}>{name}</th>" for name in ("", "scenario", "what happened", "hint"))
        colour = "green" if self.ok else "firebrick"
        return (f"<p style='color:{colour}'><b>{html.escape(self.score_line)}</b></p>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")  # fmt: skip


def check_report(report) -> bool:
    """✓ when the report of challenge.run() shows every scenario passing."""
    if not isinstance(report, Report):
        return failed(f"expected the report of challenge.run(), got {type(report).__name__}: run report = challenge.run()")
    if report.handler is None:
        return failed("no handler was graded: decorate your function with @challenge.handler and run its cell.")
    if report.ok:
        return passed(f"all {report.total} scenarios pass: {report.handler}() verifies, deduplicates, answers fast, "
                      "keeps the newest state and credits each payment once.")  # fmt: skip
    first = report.failed[0]
    naive = (f" The graded handler is still {report.handler}(): write yours with @challenge.handler in the exercise "
             "cell and run it." if report.handler == "naive" else "")  # fmt: skip
    return failed(f"{report.score}/{report.total} scenarios pass.{naive} First to fix, '{first}': {report.hint(first)}")


def check_status_codes(status) -> bool:
    """✓ when `status` maps each situation in SITUATIONS to a code in the right class (2xx, 4xx or 5xx)."""
    if not isinstance(status, dict):
        return failed(f"STATUS should be a dict from situation to status code, but it is {type(status).__name__}.")
    missing = [name for name in SITUATIONS if name not in status]
    if missing:
        return failed(f"STATUS has no entry for {', '.join(repr(m) for m in missing)}: keep every situation as a key.")
    for name, (right, why) in SITUATIONS.items():
        code = status[name]
        if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
            return failed(f"STATUS[{name!r}] is {code!r}: use an HTTP status code, an int such as 200, 400 or 500.")
        if code not in right:
            return failed(f"STATUS[{name!r}] is {code}, but {why}.")
    return passed("each situation gets the right kind of answer: 2xx for what you took or may ignore, 4xx for "
                  "what fails verification, 5xx for your own failure.")  # fmt: skip


def _row(scenario: str, ok: bool, happened: str, hint: str) -> dict:
    return {"scenario": scenario, "passed": bool(ok), "what happened": happened, "hint": "" if ok else hint}


def _verdict(calls: list[_Call | None], *checks: tuple[bool, str], happened: str) -> tuple[bool, str, str]:
    """The first failing check's hint; a handler that raised or returned nonsense comes first."""
    for call in calls:
        if call is not None and call.error:
            if call.exception == SignatureError.__name__:
                hint = ("verify() raised wl.SignatureError and nothing caught it, so the answer was a 500: wrap "
                        "the verify call in try/except wl.SignatureError and return 400")  # fmt: skip
            elif call.exception:
                hint = (f"{call.error[len('your handler raised '):]}: fix your handler (challenge.errors has the "
                        "traceback). An exception answers 500, and Stripe would retry")  # fmt: skip
            else:
                hint = f"your handler {call.error}: return an int, e.g. `return 200`"
            return False, happened, hint
    for ok, hint in checks:
        if not ok:
            return False, happened, hint
    return True, happened, ""


def _credit_text(customer: str, credits: list[int]) -> str:
    if not credits:
        return "nothing credited"
    times = {1: "once", 2: "twice"}.get(len(credits), f"{len(credits)} times")
    amounts = " + ".join(f"{c / 100:,.2f}" for c in credits) if len(set(credits)) > 1 else f"{credits[0] / 100:,.2f}"
    return f"credited {customer} {amounts} {times}"


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _id(event) -> str | None:
    return event.get("id") if isinstance(event, dict) else None
