"""The inspector page and its API belong to the local user: not to another web page, nor another Host.

Webhooks under /hooks/ are open to every sender, whatever they send: that is
the receiver's job. Everything else answers only requests that

- come from this machine (a browser on it, or a proxy on it such as Jupyter's),
  even when the receiver listens on 0.0.0.0, unless its owner shares the page
  for reading: the events hold whatever senders sent, credentials included;
- name this receiver in their Host header (an IP address, `localhost`, or a
  name the user allowed), so a DNS-rebinding page on evil.example gets a 403;
- when they change anything, come from this machine and carry the
  X-Webhooklab header that the page's own script sends, which no cross-site
  form or simple request can (a browser asks first, and this server never
  says yes), and come from this origin when the browser says where they
  come from.
"""

from __future__ import annotations

import ipaddress
import socket

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from .._checks import got, text
from .._errors import UsageTypeError

HEADER = "X-Webhooklab"  # sent by the inspector page with every change it asks for
READS = ("GET", "HEAD", "OPTIONS")
FORWARDED = ("HTTP_X_FORWARDED_PREFIX", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PROTO")


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def on_this_machine(address: str | None) -> bool:
    """Whether a client address is this machine's loopback (127.0.0.0/8 or ::1)."""
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def names_this_machine(host: str | None, port: int) -> bool:
    """Whether a URL's host reaches this machine, however it is spelled or wherever its name points.

    An HTTP client connects to 127.1, 2130706433, 0x7f000001 and 0177.0.0.1 (the legacy forms of
    inet_aton), ::ffff:127.0.0.1, 0 and localhost. as readily as to 127.0.0.1; a name is asked of
    the resolver, as the client would.
    """
    name = (host or "").strip("[]").rstrip(".").lower()
    if not name:
        return False
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        addresses = [_address(name)]
    except ValueError:
        try:
            addresses = [_address(info[4][0]) for info in socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)]
        except (OSError, UnicodeError, ValueError):
            return False  # not a name the resolver knows: a client could not reach it either
    return any(address.is_loopback or address.is_unspecified or _bindable(address) for address in addresses)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An IP address in any spelling a client accepts; an IPv4-mapped IPv6 address as its IPv4 one."""
    try:
        address = ipaddress.ip_address(text.split("%")[0])  # fe80::1%eth0: the zone is not part of the address
    except ValueError:
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            raise ValueError(f"{text!r} is not an IP address") from None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _bindable(address) -> bool:
    """Whether `address` belongs to this machine: only its own addresses can be bound (a LAN one, say)."""
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((str(address), 0))
    except OSError:
        return False
    return True


def hostname(host_header: str) -> str:
    """The name part of a Host header: 'example.com:8787' -> 'example.com', '[::1]:80' -> '::1'."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def through_local_proxy(environ: dict) -> bool:
    """Whether a proxy on this machine forwarded the request, saying where the browser was.

    A browser that talks to this receiver directly names this receiver's port in its Host header,
    whatever name it used; a proxy passes on the Host of the server the browser reached, on another
    port. So a page cannot pass for the proxy by adding X-Forwarded headers of its own.
    """
    if not on_this_machine(environ.get("REMOTE_ADDR")) or not any(name in environ for name in FORWARDED):
        return False
    host = environ.get("HTTP_HOST", "").strip()
    port = host.rsplit(":", 1)[1] if host.count(":") == 1 or host.startswith("[") and "]:" in host else ""
    return (port or {"https": "443"}.get(environ.get("wsgi.url_scheme"), "80")) != environ.get("SERVER_PORT")


def behind_local_proxy(wsgi_app):
    """Serve a forwarded request as if at the address the browser used: its prefix, host and scheme."""
    fixed = ProxyFix(wsgi_app, x_for=0, x_proto=1, x_host=1, x_port=0, x_prefix=1)

    def app(environ, start_response):
        # Once only: a class server fixes the request before it mounts a bin at /b/<token> under the proxy's prefix.
        if not environ.get("webhooklab.proxied") and through_local_proxy(environ):
            environ["webhooklab.proxied"] = True
            return fixed(environ, start_response)
        return wsgi_app(environ, start_response)

    return app


def host_names(allowed_hosts) -> tuple[str, ...]:
    """allowed_hosts, checked: a list of names; one name alone would be read as its letters."""
    if isinstance(allowed_hosts, (str, bytes)) or not isinstance(allowed_hosts, (list, tuple, set, frozenset)):
        raise UsageTypeError(
            f"allowed_hosts must be a list of host names, such as ['my-tunnel.example'], got {got(allowed_hosts)}"
        )
    for name in allowed_hosts:
        text(name, "each of allowed_hosts", "a host name such as 'my-tunnel.example'")
    return tuple(allowed_hosts)


def guard(app: Flask, allowed_hosts=(), *, owner_by_path: bool = False, share_page: bool = False) -> None:
    """Refuse requests to the page and the API from other machines, hosts and sites, with a reason.

    `owner_by_path`: whoever reaches the app owns it (a class server's bin, whose path holds a secret
    token), so it answers any machine, changes included; the header and same-origin rules still hold.
    `share_page`: other machines may read the page and the API, and change nothing.
    """
    names = {"localhost", *(name.lower() for name in host_names(allowed_hosts))}
    app.extensions["webhooklab.hosts"] = names  # grows when a proxy's own name is learnt (Colab's)
    app.wsgi_app = behind_local_proxy(app.wsgi_app)

    @app.before_request
    def local_user_only():
        if request.path.startswith("/hooks/"):
            return None
        local = owner_by_path or on_this_machine(request.remote_addr)
        if not (local or share_page):
            return _refuse(
                "this receiver's page and API answer only the machine it runs on",
                f"this request came from {request.remote_addr}: its events hold whatever senders sent, credentials "
                "included. Webhooks to /hooks/ are open to every machine; to let other machines read the page too "
                "(a browser outside the container the receiver runs in, say), start it with "
                "Receiver(share_page=True) or `webhooklab serve --share-page`",
            )
        host = hostname(request.headers.get("Host", ""))
        proxied = request.environ.get("webhooklab.proxied")  # the proxy in front checked the name, and the login
        if host and not (proxied or is_ip(host) or host in names):  # no Host at all is HTTP/1.0, never a browser
            return _refuse(
                f"this receiver's page and API answer requests addressed to an IP address, localhost or a "
                f"name it was told about; this one said Host: {request.headers.get('Host', '')[:100]!r}",
                "a web page on another domain that points its name at this machine (DNS rebinding) looks "
                "exactly like this. If you reach the receiver through that name on purpose (a tunnel or a "
                "proxy), start it with Receiver(allowed_hosts=[...]) or `webhooklab serve --allow-host NAME`",
            )
        site = request.headers.get("Sec-Fetch-Site")
        if request.path.startswith("/api") and site == "cross-site":
            return _refuse("the API does not answer requests made by pages of other sites",
                           f"the browser says this request came from another site (Sec-Fetch-Site: {site})")  # fmt: skip
        if request.method in READS or request.url_rule is None:  # a wrong path gets its 404 and hint
            return None
        if not local:
            return _refuse("changes are made only from the machine the receiver runs on",
                           f"this request came from {request.remote_addr}")  # fmt: skip
        if HEADER not in request.headers:
            return _refuse(
                f"changes are made only by the inspector page, which sends the {HEADER} header; "
                "this request has none",
                "a form or script on another web page cannot send that header, so this stops a page you "
                f"visit from replaying events or changing answers. From a script, send {HEADER}: 1",
            )
        origin = request.headers.get("Origin")
        if origin is not None and origin.rstrip("/") != request.host_url.rstrip("/"):
            return _refuse(f"changes are made only by this receiver's own page, at {request.host_url}",
                           f"this request came from the page at {origin[:100]!r}")  # fmt: skip
        return None


def _refuse(error: str, why: str) -> tuple[dict, int]:
    return {"error": error, "why": why}, 403
