"""The workshop challenge: one handler that verifies, deduplicates, answers fast and acts, graded over real HTTP.

    from webhooklab.grader import Challenge
    challenge = Challenge()                      # a Stripe signing secret, a slow ledger, eight scenarios

    @challenge.handler
    def handle(body: bytes, headers: dict) -> int:   # the raw request in, the HTTP status out
        ...

    report = challenge.run()                     # scenario, passed, what happened, hint; and a score

What lives where:
  _harness.py    Challenge: serves the handler, sends the requests, waits for the work, keeps the ledger
  _scenarios.py  the rules, and the eight scenarios that test them, each a function in the tuple SCENARIOS
  _report.py     Report, a run's rows and score as text or HTML, and the table of every delivery
  _api.py        StripeApi, challenge.api: the stand-in for Stripe's API, retrieve(intent_id) gives an intent as it is now
  _records.py    Failure and Call: what the learner's code raised, and each request the handler answered;
                 Outage, what the ledger raises while the database is down
The exercise checks of chapter 6 (check_status_codes, check_report) are in webhooklab.exercises.ch06.
"""

from .._exports import claim as _claim
from ._api import StripeApi
from ._harness import Challenge
from ._records import Failure, Outage
from ._report import Report
from ._scenarios import SCENARIOS, Scenario

__all__ = ["SCENARIOS", "Challenge", "Failure", "Outage", "Report", "Scenario", "StripeApi"]

_claim(globals(), __name__)  # each name says where a learner finds it, not a private module
