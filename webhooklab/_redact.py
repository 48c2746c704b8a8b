"""What is shown of a secret: a signing secret in a message, a credential that arrived with a request.

A webhook posted through a Jupyter server's proxy carries the Jupyter token (an
Authorization header or ?token=), and one through a tunnel may carry a cookie.
Whoever reads a table, a page or a shared export sees that a credential was
there, and its last four characters at most; `event.headers` and `event.query`
keep every byte for the learner who asks for them.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

HEADERS = {"authorization", "proxy-authorization", "cookie", "x-api-key", "x-auth-token", "x-jupyter-token"}
QUERY = {"token", "access_token", "auth", "api_key", "apikey", "key", "secret", "password", "client_secret"}
KIND = re.compile(r"[A-Za-z]{1,6}_")  # a secret's kind, as in whsec_, sk_, shpss_: not secret itself
SCHEMES = ("basic ", "bearer ", "token ", "digest ")  # Authorization's scheme names no secret: it stays


def mask(secret: str, *, kinded: bool = True) -> str:
    """A secret as it may be shown: its kind and last four characters at most, never enough to guess it.

    The kind (whsec_, sk_, shpss_) is public: it names what sort of secret this
    is, which is often the whole diagnosis. The last four tell two secrets apart,
    and are shown only when at least 12 characters after the kind stay hidden;
    a short secret shows only its length. A random token has no kind (`kinded=False`):
    its first characters, even letters before an underscore, are as secret as the rest.
    """
    kind = KIND.match(secret) if kinded else None
    prefix = kind.group() if kind else ""
    if len(secret) - len(prefix) < 16:
        return f"… ({len(secret)} characters)"
    return f"{prefix}…{secret[-4:]}"


def header_value(name: str, value: str) -> str:
    if name.lower() not in HEADERS:
        return value
    scheme = next((value[: len(s)] for s in SCHEMES if value.lower().startswith(s)), "")
    if name.lower() == "cookie":  # each cookie's name, none of their values
        names = [part.split("=", 1)[0].strip() for part in value.split(";") if part.strip()]
        return "; ".join(f"{cookie}=…" for cookie in names)
    return scheme + mask(value[len(scheme) :], kinded=False)


def headers(pairs) -> list[tuple[str, str]]:
    """Header pairs as they may be shown."""
    return [(name, header_value(name, value)) for name, value in pairs]


def query(text: str) -> str:
    """A query string as it may be shown: credential parameters masked, the rest exactly as sent."""
    shown = []
    for part in text.split("&"):
        name, equals, value = part.partition("=")
        if unquote_plus(name).lower() in QUERY:
            value = mask(unquote_plus(value), kinded=False)
        shown.append(name + equals + value)
    return "&".join(shown)
