"""What the learner's code did during a run: each request the handler answered, each exception it raised.

Also Outage, the error the ledger raises while the grader has staged a database outage.
"""

from __future__ import annotations

from dataclasses import dataclass


class Outage(ConnectionError):
    """The ledger's database is down: raised by challenge.credit and challenge.enqueue during a staged outage.

    A ConnectionError, as a database driver's would be; nothing was written.
    """


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
class Call:
    """One request as the handler saw it: what it answered, how long it took, what went wrong."""

    scenario: str | None
    delivery: int
    status: int
    took: float
    error: str | None = None
    exception: str | None = None  # the exception's class name, when the handler raised
