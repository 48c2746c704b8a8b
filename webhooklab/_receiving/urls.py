"""The URL a request arrived at, as this receiver saw it: what a scheme that signs the URL is handed.

Twilio signs the URL it requested, so checking its signature needs the URL; the
receiving side works it out and hands it over with Provider.at(url). At capture
it is the request's own URL, after a proxy on this machine that the receiver
believes (see guard.py) has said where the request was really addressed; for a
stored event, the same URL is rebuilt by the same rule from what was stored.
"""

from __future__ import annotations

from werkzeug.sansio.utils import get_current_url

from .guard import through_local_proxy


def stored_url(event, environ: dict) -> str:
    """The URL a stored event arrived at, by the rule capture used: its Host, or what a believed local proxy said."""
    own = environ.get("werkzeug.proxy_fix.orig") or environ  # this receiver's own address, before any proxy
    headers = {name.lower(): value for name, value in reversed(event.header_pairs)}
    seen = {"REMOTE_ADDR": event.client.rsplit(":", 1)[0].strip("[]"), "HTTP_HOST": headers.get("host", ""),
            "SERVER_PORT": environ.get("SERVER_PORT", ""), "wsgi.url_scheme": own.get("wsgi.url_scheme", "http")}  # fmt: skip
    seen |= {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()
             if name.startswith("x-forwarded-")}  # fmt: skip
    scheme, host, prefix = seen["wsgi.url_scheme"], seen["HTTP_HOST"], ""
    if through_local_proxy(seen):
        scheme = _first(headers.get("x-forwarded-proto")) or scheme
        host = _first(headers.get("x-forwarded-host")) or host
        prefix = (_first(headers.get("x-forwarded-prefix")) or "").rstrip("/")
    root = prefix + own.get("SCRIPT_NAME", "")
    return get_current_url(scheme, host, root, event.path, event.query.encode("latin-1", "replace") or None)


def _first(value: str | None) -> str | None:
    """The first of a comma-separated list of values that proxies appended to."""
    return value.split(",")[0].strip() or None if value else None
