"""Checks for 06.00-workshop-challenge: the status code for each situation, and the grader's report."""

from __future__ import annotations

from ..grader import Report
from . import failed, guarded, passed, unanswered

NOTEBOOK = "06.00-workshop-challenge"  # the notebook whose exercises these are: each verdict names it

# The answers a handler should give, by situation: (the range that passes, why).
SITUATIONS = {
    "bad signature": (range(400, 500), "the request is at fault and will never verify: refuse it with a 4xx (400)"),
    "stale timestamp": (range(400, 500), "a replay of an old request: refuse it with a 4xx (400), as for a bad signature"),
    "duplicate": (range(200, 300), "you handled it already: acknowledge it with a 2xx (200) and do nothing"),
    "type not handled": (range(200, 300), "a genuine event you have no use for: acknowledge it with a 2xx (200) and ignore it"),
    "accepted": (range(200, 300), "a genuine event you took on: 2xx (200), even though the slow work happens later"),
    "database down": (range(500, 600), "your own failure: a 5xx (500 or 503) asks the provider to retry later"),
}


@guarded()
def check_status_codes(status) -> bool:
    """✓ when `status` maps each situation in SITUATIONS to a code in the right class (2xx, 4xx or 5xx)."""
    problem = unanswered(status, "STATUS", SITUATIONS, maps="situation to status code", entry="entry",
                         keep="situations as keys")  # fmt: skip
    if problem:
        return failed(problem)
    for name, (right, why) in SITUATIONS.items():
        code = status[name]
        if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
            return failed(f"STATUS[{name!r}] is {code!r}: use an HTTP status code, an int such as 200, 400 or 500.")
        if code not in right:
            return failed(f"STATUS[{name!r}] is {code}, but {why}.")
    return passed("each situation gets the right kind of answer: 2xx for what you took or may ignore, 4xx for "
                  "what fails verification, 5xx for your own failure.")  # fmt: skip


@guarded()
def check_report(report) -> bool:
    """✓ when the report of challenge.run() shows every scenario passing."""
    if not isinstance(report, Report):
        return failed(f"expected the report of challenge.run(), got {type(report).__name__}: run report = challenge.run()")
    if report.handler is None:
        return failed("no handler was graded: decorate your function with @challenge.handler and run its cell.")
    if report.ok:
        return passed(f"all {report.total} scenarios pass: {report.handler}() verifies, deduplicates on the signed "
                      "event id, answers fast, keeps the newest state, survives an outage and credits each payment "
                      "once.")  # fmt: skip
    first = report.failed[0]
    naive = (f" The graded handler is still {report.handler}(): write yours with @challenge.handler in the exercise "
             "cell and run it." if report.handler == "naive" else "")  # fmt: skip
    return failed(f"{report.score}/{report.total} scenarios pass.{naive} First to fix, '{first}': {report.hint(first)}")
