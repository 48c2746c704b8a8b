"""Which URL a Twilio signature covers: the one a receiver saw, and the ones the sender may have requested.

Twilio signs the URL it requested. A receiver rebuilds that URL from the request
it got; behind a tunnel or a proxy the two can differ, and then the signature
fails with the right token. url_variants() lists the usual differences, so an
explanation can say which one it was.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

FORWARDED_PATH = ("x-forwarded-uri", "x-original-uri", "x-original-url")  # the path a proxy says was requested


def port_forms(url: str) -> list[str]:
    """`url` as given, and written with its default port or without its port (Twilio's helper accepts either)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return [url]
    host = parts.netloc.rsplit("@", 1)[-1]
    if port is not None:
        return [url, urlunsplit(parts._replace(netloc=parts.netloc[: -len(f":{port}")]))]
    default = {"https": 443, "http": 80}.get(parts.scheme)
    return [url, urlunsplit(parts._replace(netloc=f"{parts.netloc}:{default}"))] if default and host else [url]


def url_variants(url: str, headers: dict):
    """Other URLs the sender may have requested, with the likely cause if the signature matches one.

    A header is the sender's choice (X-Forwarded-Host: "["), so a variant that is no URL is left out.
    """
    for other, how in _variants(url, headers):
        try:
            urlsplit(other).port
        except ValueError:
            continue
        yield other, how


def _variants(url: str, headers: dict):
    parts = urlsplit(url)
    flipped = {"http": "https", "https": "http"}.get(parts.scheme, parts.scheme)
    yield (urlunsplit(parts._replace(scheme=flipped)),
           f"the request was made to {flipped}:// and arrived here as {parts.scheme}://, as behind a tunnel or a "
           "proxy that ends TLS (https outside, http inside)")  # fmt: skip
    proto = _first(headers.get("x-forwarded-proto")) or _forwarded(headers, "proto")
    host = _first(headers.get("x-forwarded-host")) or _forwarded(headers, "host")
    prefix = _first(headers.get("x-forwarded-prefix"))
    forwarded = parts._replace(scheme=proto or flipped if proto or host else parts.scheme, netloc=host or parts.netloc,
                               path=(prefix or "").rstrip("/") + parts.path)  # fmt: skip
    if proto or host or prefix:
        said = ", ".join(f"{n} {v}" for n, v in (("X-Forwarded-Proto", proto), ("X-Forwarded-Host", host),
                                                  ("X-Forwarded-Prefix", prefix)) if v)  # fmt: skip
        yield (urlunsplit(forwarded),
               f"a proxy forwarded the request and said where it came from ({said}), but the URL checked here "
               "ignores that: a proxy this receiver does not believe, or an app that does not read those headers")
        yield urlunsplit(forwarded._replace(scheme=flipped)), f"a proxy forwarded the request ({said}) and TLS ended at it"
    for name in FORWARDED_PATH:
        if headers.get(name, "").startswith("/"):
            for base in (parts, forwarded):
                path, _, query = headers[name].partition("?")
                for scheme in (base.scheme, flipped):
                    yield (urlunsplit(base._replace(scheme=scheme, path=path, query=query)),
                           f"a proxy rewrote the path; {name} says the request was for {headers[name]}")  # fmt: skip
    segments = parts.path.split("/")
    for cut in range(1, min(4, len(segments) - 1)):
        shorter = "/" + "/".join(segments[cut + 1 :])
        for scheme in (parts.scheme, flipped):
            yield (urlunsplit(parts._replace(scheme=scheme, path=shorter)),
                   f"the receiver sees the path under a prefix ({'/'.join(segments[: cut + 1])}) that the URL "
                   "Twilio requested does not have: a proxy or a mounted app added it")  # fmt: skip
    for scheme in (parts.scheme, flipped):
        slash = parts.path[:-1] if parts.path.endswith("/") else parts.path + "/"
        yield urlunsplit(parts._replace(scheme=scheme, path=slash)), "a trailing slash added or removed on the way"
        if parts.query:
            yield urlunsplit(parts._replace(scheme=scheme, query="")), "the query string was dropped on the way"


def differences(seen: str, signed: str) -> str:
    a, b = urlsplit(seen), urlsplit(signed)
    found = [f"the {what} ({x or 'none'} here, {y or 'none'} signed)" for what, x, y in (
        ("scheme", a.scheme, b.scheme), ("host", a.netloc, b.netloc), ("path", a.path, b.path),
        ("query", a.query, b.query)) if x != y]  # fmt: skip
    return " and ".join(found) or "nothing visible"


def _first(value: str | None) -> str | None:
    return value.split(",")[0].strip() or None if value else None


def _forwarded(headers: dict, key: str) -> str | None:
    """A value from the first element of an RFC 7239 Forwarded header."""
    for item in headers.get("forwarded", "").split(",")[0].split(";"):
        name, _, value = item.strip().partition("=")
        if name.lower() == key:
            return value.strip('"') or None
    return None
