"""What the app answered to one request the plugin sent, and what that request was."""

from __future__ import annotations

import json
from dataclasses import dataclass

from werkzeug.datastructures import Headers

from .._sending.delivery import Attempt


@dataclass(frozen=True, eq=False)
class Response:
    """What the app answered, and what it was sent: `status_code`, `headers`, `content`, `text`, `json()`, `elapsed`.

    `case` says what was sent ("signed correctly", "body changed after signing", ...);
    `request_body` and `request_headers` are the exact bytes and headers; `attempt` is the wl.Attempt.
    """

    attempt: Attempt
    case: str
    provider: str
    event_type: str

    @property
    def status_code(self) -> int:
        return self.attempt.status

    @property
    def headers(self) -> Headers:
        return Headers(self.attempt.response_headers)

    @property
    def content(self) -> bytes:
        return self.attempt.response_body

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.content)

    @property
    def elapsed(self) -> float:
        """Seconds from sending to the end of the answer: a provider gives up after its timeout."""
        return self.attempt.elapsed

    @property
    def ok(self) -> bool:
        """A 2xx: what every provider counts as delivered."""
        return self.attempt.ok

    @property
    def request_body(self) -> bytes:
        return self.attempt.request_body

    @property
    def request_headers(self) -> Headers:
        return Headers(self.attempt.request_headers)

    def __repr__(self) -> str:
        answer = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return (f"<Response {self.status_code} {answer!r} to {self.provider} {self.event_type or 'event'} "
                f"({self.case}) at {self.attempt.url}>")  # fmt: skip
