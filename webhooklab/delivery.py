"""Putting a signed webhook on the wire: one HTTP POST, recorded as an Attempt."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone


@dataclass(frozen=True, slots=True)
class Attempt:
    """One POST of a webhook and what came back: a status, or the error that took its place."""

    url: str
    sent_at: datetime
    elapsed: float  # seconds from sending to the end of the answer, or to the error
    status: int | None
    response_body: bytes = b""
    response_headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: bytes = b""

    @property
    def ok(self) -> bool:
        """Delivered: every provider counts any 2xx, and only a 2xx, as success."""
        return self.status is not None and 200 <= self.status < 300

    def __repr__(self) -> str:
        outcome = self.status if self.error is None else self.error
        return f"<Attempt POST {self.url} -> {outcome} in {self.elapsed * 1000:.1f} ms>"


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float | tuple[float, float]) -> Attempt:
    """POST once, never following redirects (a 3xx is a failed delivery), and record the outcome."""
    import requests

    sent_at = datetime.now(timezone.utc)
    started = time.perf_counter()
    status, answer, answer_headers, error = None, b"", {}, None
    try:
        reply = requests.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
        status, answer, answer_headers = reply.status_code, reply.content, dict(reply.headers)
    except requests.Timeout:
        limit = timeout if isinstance(timeout, (int, float)) else timeout[1]
        error = f"timed out: no answer within {limit:g} s"
    except requests.ConnectionError:
        error = f"connection failed: nothing is listening at {url} (is the receiver running?)"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
    return Attempt(
        url=url,
        sent_at=sent_at,
        elapsed=time.perf_counter() - started,
        status=status,
        response_body=answer,
        response_headers=answer_headers,
        error=error,
        request_headers=dict(headers),
        request_body=body,
    )
