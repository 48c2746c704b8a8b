"""What every receiver a notebook holds can do, on this machine or as a bin on a class server."""

from __future__ import annotations

from .._checks import endpoint_name, seconds, whole
from .._errors import UsageError


def wait_arguments(n, timeout, endpoint) -> tuple[int, float | None, str | None]:
    """wait_for's arguments, checked, for a local receiver and a bin on a class server alike."""
    n = whole(n, "n", "a whole number of events (0 or more)")
    if n < 0:
        raise UsageError(f"n cannot be negative, got {n}: it is how many events to wait for")
    if timeout is not None:
        timeout = seconds(timeout, "timeout", ": how long to wait, or None to wait until the events arrive")
    return n, timeout, None if endpoint is None else endpoint_name(endpoint)
