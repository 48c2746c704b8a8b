"""Whether a forged request did anything: the test's `effects` hook, read before and after each one.

A 400 proves nothing if the app queued a job, wrote a row or sent an email before it
checked the signature. `effects` is a callable of the test's that reads what the app
has done (a count of rows, the queued jobs): it must change over a genuine request,
so that it sees the work, and stay the same over every forged one.
"""

from __future__ import annotations

from .._checks import function, got
from .._providers.explain import mask


class Effects:
    """The test's `effects` callable, read around requests; None reads nothing and finds nothing changed."""

    def __init__(self, effects):
        self.read = None if effects is None else function(
            effects, "effects", "a callable that takes nothing and returns what the app has done so far, such as "
            "lambda: len(inbox.pending)")  # fmt: skip
        self.changed: list[str] = []

    def __bool__(self) -> bool:
        return self.read is not None

    def now(self):
        return None if self.read is None else self.read()

    def around(self, name: str, send):
        """The Response of `send()`; notes `name` when the effects read differently after it than before."""
        before = self.now()
        response = send()
        after = self.now()
        if after != before:
            self.changed.append(f"{name} ({response.case}; answered {response.status_code}): {got(before)} -> {got(after)}")
        return response

    def check_seen(self, before, answer) -> None:
        """After the genuine request: effects that did not change cannot tell whether a forgery did something."""
        if self.read is not None and self.now() == before:
            raise AssertionError(
                f"effects returned {got(before)} before and after a correctly signed request your app accepted "
                f"({answer.status_code}): expected what it returns to change when the app does its work, so that a "
                "forged request doing work shows. Likely it reads the wrong store, or returns a value fixed when "
                "the fixture was made (a list's len() taken once, not a lambda that reads it each time)."
            )

    def check_unchanged(self) -> None:
        if self.changed:
            raise AssertionError(
                "your app did something for a forged request: " + "; ".join(self.changed) + ". Expected nothing "
                "to change. A forgery answered 2xx got past the signature check; one answered 4xx was acted on "
                "before the check (a queued job, a row, a call made first), or on a path that ignores its verdict."
            )


def refused_genuine(sender, answer) -> AssertionError:
    """The failure when the app refuses a correctly signed request: every forgery's refusal would then prove nothing."""
    text = answer.text if len(answer.text) <= 80 else answer.text[:77] + "..."
    return AssertionError(
        f"your app refused a correctly signed request (status {answer.status_code}, {text!r}) at {sender.url}: "
        "expected a 2xx, or the refusals of the forged requests prove nothing. Check ALLOWED_HOSTS (Django: "
        "'testserver' in process, '127.0.0.1' over HTTP), the secret (the test signs with "
        f"{mask(sender.provider.secret)}: it must be the one your app verifies with) and the path ({sender.path})."
    )
