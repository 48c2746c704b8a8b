"""The Challenge: serves the learner's handler, sends the scenarios' requests, waits for the work, keeps the books.

The contract: the handler gets each request exactly as it arrived (the body as
bytes, the headers as a case-insensitive dict) and returns the status to answer
with. `run()` serves it on 127.0.0.1 for the length of the run, plays every
scenario as Stripe would (signed POSTs, with a timeout), then checks the
answers and what the handler changed: `challenge.balances` (only through
`challenge.credit`) and `challenge.payments` (the handler's own record).
A handler that raises answers 500 and is reported, never crashes the run.
In front of the handler, as a load balancer would, each request gets its own
X-Request-Id header: not signed, so a replay may carry any value.

Methods with a leading underscore are the grader's own: the scenarios (_scenarios.py)
play through them, so the receiver, the locking, the job queue and the ledger stay here.
"""

from __future__ import annotations

import html
import queue
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from contextlib import contextmanager

from flask import Flask, Response, request
from requests.structures import (
    CaseInsensitiveDict,  # what a learner's handler gets: a dict, any case
)

from .._checks import seconds
from .._errors import UsageError, UsageTypeError
from .._providers import Stripe
from .._providers.base import mask
from .._receiving.server import BackgroundServer
from .._sending.delivery import Attempt, post
from ._api import StripeApi
from ._records import Call, Failure, Outage
from ._report import Report, deliveries_table, row, scenarios_html, scenarios_table
from ._scenarios import SCENARIOS

DEFAULT_TIMEOUT = 0.5  # seconds the challenge's sender waits for an answer (time scaled down, see Challenge)
DEFAULT_SLOW = 1.0  # seconds challenge.credit takes in the slow scenario
QUIET = 0.05  # a learner's own thread may take a moment to start its work: look again after this long
GRACE = 0.25  # idle this long and still not done: nothing is left that could finish the work
WAIT = 1.0  # how long to wait for expected background work, beyond the slow call itself


class _Server(BackgroundServer):
    kind = "challenge receiver"


class _Unreadable(Exception):
    """challenge.payments, the learner's to write, could not be read: the scenario's row says so, the run goes on."""


class Challenge:
    """The workshop challenge: register one handler, run the scenarios, read the report.

    `secret` is the Stripe endpoint's signing secret the events are signed
    with (a fresh one by default; verify with wl.Stripe(challenge.secret)).
    Time is scaled down so a run takes seconds: Stripe does not publish its
    timeout (webhooklab assumes 30 s; GitHub allows 10 s, Shopify 5 s), here
    the sender waits `timeout` seconds and the slow ledger call takes `slow`.
    """

    def __init__(self, *, secret: str | None = None, timeout: float = DEFAULT_TIMEOUT, slow: float = DEFAULT_SLOW):
        seconds(timeout, "timeout", ": how long the challenge's sender waits for an answer")
        seconds(slow, "slow", ": how long the slow ledger call takes")
        if not 0 < timeout < slow:
            raise UsageError(f"timeout must be positive and shorter than slow (got timeout={timeout}, slow={slow})")
        self._sender = Stripe(secret)
        self.timeout, self.slow = float(timeout), float(slow)
        self.balances: dict[str, int] = {}  # customer -> cents, changed only by credit()
        self.payments: dict[str, dict] = {}  # payment intent id -> its current state (api.retrieve): yours to write
        self.api = StripeApi()  # Stripe's API: retrieve(intent_id) gives a payment intent as it is now
        self.errors: list[Failure] = []  # what your code raised during the last run
        self._handler: Callable[[bytes, dict], int] | None = None
        self._credits: list[tuple[str | None, str, int]] = []  # (scenario, customer, amount)
        self._calls: list[Call] = []
        self._attempts: list[tuple[str, int, Attempt]] = []
        self._cond = threading.Condition()
        self._open = self._pending = self._in_flight = 0
        self._delay, self._down = 0.0, False  # a slow ledger; a ledger whose database is down
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
            raise UsageTypeError(f"@challenge.handler goes on a function (body, headers) -> status, not on {function!r}")
        self._handler = function
        return function

    def credit(self, customer: str, amount: int) -> None:
        """Add `amount` (cents) to `customer`'s balance: the business action, a call to a ledger service.

        It takes `slow` seconds in the slow scenario, as a remote call can, and raises
        Outage (a ConnectionError) while its database is down.
        """
        self._unless_down()
        if not isinstance(customer, str) or not customer:
            raise UsageTypeError(f"credit(customer, amount): customer is the intent's 'customer' id (cus_...), got {customer!r}")
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise UsageTypeError(
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
        """Run `function(*args, **kwargs)` later, on a background worker, so the handler can answer now.

        challenge.enqueue(challenge.credit, customer, amount)
        The worker takes the jobs in order, one at a time, as a task queue does. Storing the job
        needs the database: while it is down, enqueue raises Outage (a ConnectionError) and stores nothing.
        """
        if not callable(function):
            extra = (" Did you write enqueue(challenge.credit(...))? That calls credit now and enqueues its result; "
                     "pass the function and its arguments separately: enqueue(challenge.credit, customer, amount)."
                     if function is None else "")  # fmt: skip
            raise UsageTypeError(f"enqueue needs a function to call later, then its arguments; got {function!r}.{extra}")
        self._unless_down()
        with self._cond:
            self._pending += 1
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="webhooklab-challenge-worker", daemon=True)
                self._worker.start()
        self._queue.put((function, args, kwargs))

    @property
    def scenarios(self):
        """The scenarios as a table: what the grader sends, and what your handler must do."""
        return scenarios_table(SCENARIOS, self.timeout)

    def run(self) -> Report:
        """Serve the handler, play every scenario over HTTP, and return the report.

        A scenario's own bug is raised, with a note naming the scenario: it is no lesson for the learner.
        """
        handler = self._handler
        if handler is None:
            hint = "no handler yet: decorate your function with @challenge.handler, run that cell, then run this again"
            return Report([row(s.name, False, "nothing was sent", hint) for s in SCENARIOS], None)
        self._reset()
        server = _Server(self._app(handler)).start()
        self._url = f"{server.base_url}/hooks/challenge"
        rows = []
        try:
            for scenario in SCENARIOS:
                with self._cond:
                    self._scenario, self._delivery = scenario.name, 0
                try:
                    ok, happened, hint = scenario.run(self)
                except _Unreadable as error:  # whatever the handler left in challenge.payments, the run goes on
                    ok, happened, hint = False, f"the grader could not check this: {error}", (
                        "check what your handler stores in challenge.payments: the intents challenge.api.retrieve returns")
                except Exception as error:
                    error.add_note(
                        f"raised by the grader's own code for the scenario {scenario.name!r}: a bug in "
                        "webhooklab, not in your handler (whose errors are reported, never raised)"
                    )
                    raise
                rows.append(row(scenario.name, ok, happened, hint))
        finally:
            with self._cond:
                self._delay, self._down, self._scenario = 0.0, False, None
            server.stop()
            self._url = None
        return Report(rows, getattr(handler, "__name__", repr(handler)))

    def deliveries(self):
        """Every request of the last run: the scenario, the answer, how long it took, what went wrong."""
        return deliveries_table(self._attempts, self._calls)

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
        return f"<p><b>Challenge</b>: {html.escape(self._summary())}</p>{scenarios_html(SCENARIOS, self.timeout)}"

    def _summary(self) -> str:
        name = getattr(self._handler, "__name__", None) if self._handler else None
        graded = f"grading {name}()" if name else "no handler yet"
        return (f"Stripe secret {mask(self.secret)}, {len(SCENARIOS)} scenarios, answer within {self.timeout:g} s, "
                f"{graded}")  # fmt: skip

    # -- the server ------------------------------------------------------------------------

    def _app(self, handler):
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
        except Outage:  # the staged outage, not a bug: uncaught, it answers 500 as a framework would
            exception, error = Outage.__name__, "the outage's ConnectionError went uncaught: answered 500"
        except Exception as exc:  # noqa: BLE001 (a learner's bug is reported, as a 500, never a crash)
            exception, error = type(exc).__name__, f"your handler raised {type(exc).__name__}: {exc}"
            self.errors.append(Failure(scenario, "handler", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        finally:
            with self._cond:
                self._calls.append(Call(scenario, delivery, status, time.perf_counter() - started, error, exception))
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

    # -- what the scenarios play through ----------------------------------------------------

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
        self.api._clear()

    def _payment(self, customer: str, amount: int) -> dict:
        return self.api._paid(self._sender.event("payment_intent.succeeded", customer=customer, amount=amount))

    def _send(self, body: bytes, headers: dict, *, request_id: str | None = None) -> Attempt:
        """POST as the sender would; `request_id` is the X-Request-Id in front of the handler (fresh by default)."""
        with self._cond:
            self._delivery += 1
            number = self._delivery
        headers = {**headers, "X-Request-Id": request_id or f"req_{uuid.uuid4().hex[:16]}"}
        attempt = post(self._url, body, headers, timeout=(max(1.0, self.timeout), self.timeout))
        self._attempts.append((self._scenario, number, attempt))
        return attempt

    def _send_event(self, event, **sign_options) -> Attempt:
        return self._send(*self._sender.sign(event, **sign_options))

    @contextmanager
    def _staged(self, *, slow: bool = False, down: bool = False):
        """Inside this block credit() takes `slow` seconds, or the database is down (credit and enqueue raise)."""
        with self._cond:
            self._delay, self._down = (self.slow if slow else 0.0), down
        try:
            yield
        finally:
            with self._cond:
                self._delay, self._down = 0.0, False

    def _unless_down(self) -> None:
        with self._cond:
            down = self._down
        if down:
            raise Outage("the ledger's database is down (the grader's staged outage): nothing was written")

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

    def _after(self, attempts: list[Attempt], until: Callable[[], bool]) -> list[Call | None]:
        """Settle, waiting for `until` only when every answer was a 2xx or no answer came (work may be running).

        Waits WAIT seconds for that work, beyond the slow ledger call inside _staged(slow=True).
        """
        hopeful = all(a.ok or a.status is None for a in attempts)
        with self._cond:
            timeout = self._delay + WAIT
        self._settle(until if hopeful else None, timeout)
        calls = {c.delivery: c for c in self._calls if c.scenario == self._scenario}
        return [calls.get(n) for n in range(1, len(attempts) + 1)]

    def _credited(self, customer: str) -> list[int]:
        with self._cond:
            return [amount for _, who, amount in self._credits if who == customer]

    def _recorded(self, intent_id: str) -> bool:
        """Whether the handler recorded anything in challenge.payments for this payment intent."""
        try:
            return intent_id in self.payments
        except Exception as error:  # the handler may have replaced payments with anything: say what it raised
            raise _Unreadable(f"{type(error).__name__}: {error}") from error

    def _recorded_field(self, intent_id: str, field: str) -> str | None:
        """A field of the dict challenge.payments holds for this intent; None for nothing, or for anything else."""
        try:
            event = self.payments.get(intent_id)
        except Exception as error:  # the handler may have replaced payments with anything: say what it raised
            raise _Unreadable(f"{type(error).__name__}: {error}") from error
        found = event.get(field) if isinstance(event, dict) else None
        return found if isinstance(found, str) else None
